/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../worker/config";
import { parseAmazonSettlement } from "../worker/connectors/amazon/settlement";
import { fetchShopifyPayout, listShopifyPayouts } from "../worker/connectors/shopify/payouts";
import { fetchTikTokStatement, listTikTokStatements } from "../worker/connectors/tiktok/finance";
import { lineNet, Payout, type SettlementLine } from "../worker/model/settlement";
import settlementDe from "./fixtures/amazon/settlement-de.tsv?raw";
import settlementUs from "./fixtures/amazon/settlement-us.tsv?raw";

// Every outbound fetch from a test reaches the sandbox worker (vitest.config.ts), which plays the vendors.
const sandbox = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:8789${path}`, init);
const post = async (path: string, body: unknown) => {
	const response = await sandbox(path, { method: "POST", body: JSON.stringify(body) });
	expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
	return response.json();
};
const usd = (amount: number) => ({ amount, currency: "USD" });
const sum = (payout: Payout) => payout.lines.reduce((total, line) => total + lineNet(line), 0);
const byId = (payout: Payout) => new Map(payout.lines.map((line) => [line.id, line]));
const fast = { timeoutMs: 5_000 };

describe("Amazon V2 settlement report (flat file)", () => {
	it("reads the US file to exact minor units: orders per shipment, a refund, reserves, fees by category", () => {
		const parsed = parseAmazonSettlement(settlementUs, "amazon");
		if (!parsed.ok) throw new Error(parsed.error);
		const payout = Payout.parse(parsed.payout);
		expect(payout).toMatchObject({
			connection: "amazon",
			channel: "amazon",
			payoutId: "12948507001",
			currency: "USD",
			periodStart: "2026-08-16T07:00:00.000Z",
			periodEnd: "2026-08-30T07:00:00.000Z",
			paidAt: "2026-09-01T07:00:00.000Z",
			total: usd(2644),
		});
		expect(payout.lines).toHaveLength(10);
		// The file is consistent: its rows add up to total-amount.
		expect(sum(payout)).toBe(2644);

		const lines = byId(payout);
		expect(lines.get("Order:111-1234567-1000001:DqW3kN8Gp")).toEqual<SettlementLine>({
			id: "Order:111-1234567-1000001:DqW3kN8Gp",
			kind: "order",
			channelOrderId: "111-1234567-1000001",
			postedAt: "2026-08-17T14:23:05.000Z",
			// Principal 39.98 + Shipping 5.99 + Tax 3.20 + ShippingTax 0.48 − Promotion 4.00
			amount: usd(4565),
			fees: [
				{ code: "Commission", category: "commission", amount: usd(-540) },
				{ code: "MarketplaceFacilitatorTax-Principal", category: "tax_withheld", amount: usd(-320) },
				{ code: "MarketplaceFacilitatorTax-Shipping", category: "tax_withheld", amount: usd(-48) },
			],
		});
		// A partial fulfilment settles per shipment: two lines for one order.
		const shipments = payout.lines.filter((line) => line.channelOrderId === "111-2345678-2000002");
		expect(shipments.map((line) => [line.id, line.amount.amount, lineNet(line)])).toEqual([
			["Order:111-2345678-2000002:Ds1Kq7mZb", 5832, 3962],
			["Order:111-2345678-2000002:Ds2Vn4pXc", 1620, 654],
		]);
		expect(shipments[1]!.fees).toEqual([
			{ code: "Commission", category: "commission", amount: usd(-225) },
			{ code: "FBAPerUnitFulfillmentFee", category: "fulfillment", amount: usd(-322) },
			{ code: "ShippingChargeback", category: "shipping_label", amount: usd(-299) },
			{ code: "MarketplaceFacilitatorTax-Principal", category: "tax_withheld", amount: usd(-120) },
		]);
		// A fee description ordersync does not know is kept, with no category: an exception, not a plug.
		expect(lines.get("Order:111-3456789-3000003:DtC8wL2Hr")?.fees).toEqual([
			{ code: "Commission", category: "commission", amount: usd(-540) },
			{ code: "FBAPerUnitFulfillmentFee", category: "fulfillment", amount: usd(-966) },
			{ code: "LowInventoryLevelFee", category: null, amount: usd(-89) },
		]);
		expect(lines.get("Refund:111-1234567-1000001:AQ7D3KF9XR21")).toEqual<SettlementLine>({
			id: "Refund:111-1234567-1000001:AQ7D3KF9XR21",
			kind: "refund",
			channelOrderId: "111-1234567-1000001",
			channelRefundId: "AQ7D3KF9XR21",
			postedAt: "2026-08-25T16:48:09.000Z",
			amount: usd(-1959),
			fees: [
				{ code: "Commission", category: "commission", amount: usd(270) },
				{ code: "RefundCommission", category: "commission", amount: usd(-54) },
				{ code: "MarketplaceFacilitatorTax-Principal", category: "tax_withheld", amount: usd(160) },
			],
		});
		const others = payout.lines.filter((line) => line.kind !== "order" && line.kind !== "refund");
		expect(others.map((line) => [line.kind, line.amount.amount, line.fees])).toEqual([
			["other", 0, [{ code: "Storage Fee", category: "fulfillment", amount: usd(-312) }]],
			["other", 0, [{ code: "Subscription Fee", category: "other", amount: usd(-3999) }]],
			["other", 0, [{ code: "TransactionTotalAmount", category: "advertising", amount: usd(-1240) }]],
			["reserve", 0, [{ code: "Previous Reserve Amount Balance", category: "reserve", amount: usd(2500) }]],
			["reserve", 0, [{ code: "Current Reserve Amount", category: "reserve", amount: usd(-3000) }]],
		]);
	});

	it("reads a European file: decimal commas, day-first dates, no promotion-id column", () => {
		const parsed = parseAmazonSettlement(settlementDe, "amazon");
		if (!parsed.ok) throw new Error(parsed.error);
		const payout = Payout.parse(parsed.payout);
		expect(payout).toMatchObject({ payoutId: "12950112002", currency: "EUR", periodStart: "2026-08-16T07:00:00.000Z", paidAt: "2026-09-01T07:00:00.000Z", total: { amount: 2118, currency: "EUR" } });
		expect(payout.lines.map((line) => [line.kind, line.postedAt, line.amount.amount, lineNet(line)])).toEqual([
			["order", "2026-08-18T12:00:41.000Z", 2999, 2228],
			["other", "2026-08-20T03:00:00.000Z", 0, -110],
		]);
		expect(sum(payout)).toBe(2118);
	});

	describe("refuses a malformed file, naming the line and the column", () => {
		const lines = settlementUs.trimEnd().split("\n");
		const header = lines[0]!.split("\t");
		const column = (name: string) => header.indexOf(name);
		/** The file with one field of one line (1-based, as the errors count) replaced. */
		const edit = (line: number, name: string, value: string) =>
			lines.map((text, i) => (i === line - 1 ? text.split("\t").map((field, j) => (j === column(name) ? value : field)).join("\t") : text)).join("\n");
		const errorOf = (text: string) => {
			const parsed = parseAmazonSettlement(text, "amazon");
			return parsed.ok ? "(parsed)" : parsed.error;
		};

		it("a missing column", () => {
			const withoutDescription = [header.filter((name) => name !== "amount-description").join("\t"), ...lines.slice(1)].join("\n");
			expect(errorOf(withoutDescription)).toBe('line 1 (header): missing column "amount-description"');
		});

		it("a bad number and an amount finer than a cent", () => {
			expect(errorOf(edit(27, "amount", "-5.4O"))).toBe('line 27: column "amount": not a decimal amount: "-5.4O"');
			expect(errorOf(edit(12, "amount", "54.005"))).toBe('line 12: column "amount": 54.005 has more precision than USD allows');
			expect(errorOf(edit(2, "total-amount", "26,44.0"))).toBe('line 2: column "total-amount": not a decimal amount: "26,44.0"');
		});

		it("a row in another currency, a row of another settlement", () => {
			expect(errorOf(edit(30, "currency", "CAD"))).toBe('line 30: column "currency": CAD differs from the settlement\'s USD');
			expect(errorOf(edit(33, "settlement-id", "12948507999"))).toBe('line 33: column "settlement-id": 12948507999 differs from the summary\'s 12948507001');
		});

		it("a missing summary row, an empty transaction type, a line longer than the header", () => {
			expect(errorOf([lines[0], ...lines.slice(2)].join("\n"))).toBe(
				"missing summary row: the first data row (line 2) must carry settlement-id, total-amount and currency and no transaction-type",
			);
			expect(errorOf(edit(5, "transaction-type", ""))).toBe('line 5: column "transaction-type" is empty (only the first data row is a summary)');
			expect(errorOf(lines.map((text, i) => (i === 6 ? `${text}\textra` : text)).join("\n"))).toBe("line 7: 25 fields, but the header names 24 columns");
			expect(errorOf("")).toBe("the settlement file is empty");
		});
	});
});

describe("TikTok Shop statements (Finance API)", () => {
	const tiktok = () => {
		const connection = loadConfig(env).connections.get("tiktok");
		if (!connection?.tiktok) throw new Error("wrangler.toml has no tiktok connection");
		return connection;
	};
	const day = (iso: string) => Date.parse(iso) / 1000;
	let seq = Math.floor(Math.random() * 1e6);
	const txId = () => `73019${String(++seq).padStart(14, "0")}`;

	/** A statement of six transactions of every kind, in TikTok's 202501 shapes. */
	function transactions() {
		return [
			{
				id: txId(),
				type: "ORDER",
				order_id: "576461413038785752",
				order_create_time: 1_787_900_001,
				revenue_amount: "45.00",
				revenue_breakdown: { subtotal_before_discount_amount: "50.00", seller_discount_amount: "-5.00", refund_subtotal_before_discount_amount: "0", seller_discount_refund_amount: "0" },
				shipping_cost_amount: "-2.10",
				shipping_cost_breakdown: {
					actual_shipping_fee_amount: "-7.09",
					customer_paid_shipping_fee_amount: "4.99",
					shipping_fee_discount_amount: "0",
					supplementary_component: { fbm_shipping_cost_amount: "-7.09", customer_shipping_fee: "4.99" },
				},
				fee_tax_amount: "-6.72",
				fee_tax_breakdown: {
					fee: { referral_fee_amount: "-3.60", transaction_fee_amount: "0", affiliate_commission_amount: "-2.25", smart_promotion_fee_amount: "-0.87" },
					tax: { vat_amount: "0" },
				},
				adjustment_amount: "0",
				reserve_amount: "0",
				settlement_amount: "36.18",
				supplementary_component: { customer_payment_amount: "52.84", sales_tax_amount: "2.85", platform_discount_amount: "0" },
			},
			{
				id: txId(),
				type: "ORDER",
				order_id: "576461413038785753",
				order_create_time: 1_787_900_002,
				revenue_amount: "20.00",
				revenue_breakdown: { subtotal_before_discount_amount: "20.00" },
				shipping_cost_amount: "0",
				shipping_cost_breakdown: { actual_shipping_fee_amount: "0" },
				fee_tax_amount: "-2.50",
				// Itemized to 2.10: the 0.40 TikTok does not explain stays visible.
				fee_tax_breakdown: { fee: { platform_commission_amount: "-1.20", transaction_fee_amount: "-0.90" }, tax: {} },
				adjustment_amount: "0",
				settlement_amount: "17.50",
			},
			{
				id: txId(),
				type: "ORDER",
				order_id: "576461413038785754",
				order_create_time: 1_787_900_003,
				revenue_amount: "-15.00",
				revenue_breakdown: { refund_subtotal_before_discount_amount: "-15.00" },
				shipping_cost_amount: "0",
				fee_tax_amount: "0.90",
				fee_tax_breakdown: { fee: { referral_fee_amount: "1.20", refund_administration_fee_amount: "-0.30" } },
				adjustment_amount: "0",
				settlement_amount: "-14.10",
			},
			{
				id: txId(),
				type: "RESERVE",
				order_id: "0",
				associated_order_id: "576461413038785752",
				order_create_time: 1_787_900_004,
				reserve_id: "7302000000000000001",
				reserve_status: "COLLECTED",
				reserve_amount: "-3.62",
				settlement_amount: "0",
			},
			{ id: txId(), type: "GMV_PAYMENT_FOR_ADS", adjustment_id: "7303000000000000001", order_create_time: 1_787_900_005, adjustment_amount: "-10.00", settlement_amount: "-10.00" },
			{
				id: txId(),
				type: "SHIPPING_FEE_ADJUSTMENT",
				adjustment_id: "7303000000000000002",
				adjustment_order_id: "576461413038785753",
				order_create_time: 1_787_900_006,
				adjustment_amount: "1.25",
				settlement_amount: "1.25",
			},
		];
	}

	it("reads a statement through every page of its transactions, to exact minor units", async () => {
		const txs = transactions();
		const stored = (await post("/sandbox/tiktok/statements", { statement: { statement_time: day("2026-09-02T00:00:00Z"), currency: "USD", payment_status: "PAID" }, transactions: txs })) as {
			statement: { id: string; settlement_amount: string };
		};
		const id = stored.statement.id;
		expect(stored.statement.settlement_amount).toBe("30.83");

		// Two per page: three pages, each a signed call.
		const result = await fetchTikTokStatement(tiktok(), id, { ...fast, pageSize: 2 });
		if (!result.ok) throw new Error(result.error);
		const payout = Payout.parse(result.value);
		expect(payout).toMatchObject({
			connection: "tiktok",
			channel: "tiktok",
			payoutId: id,
			currency: "USD",
			periodStart: "2026-09-01T00:00:00.000Z",
			periodEnd: "2026-09-02T00:00:00.000Z",
			// payable_amount: settlements 30.83 less the reserve withheld, 3.62.
			total: usd(2721),
		});
		expect(payout.lines.map((line) => line.id)).toEqual(txs.map((t) => t.id));
		expect(sum(payout)).toBe(2721);

		const [sale, underItemized, refund, reserve, ads, shippingAdjustment] = payout.lines;
		expect(sale).toEqual<SettlementLine>({
			id: txs[0]!.id,
			kind: "order",
			channelOrderId: "576461413038785752",
			// Revenue after seller discounts 45.00 + shipping the buyer paid 4.99 + sales tax 2.85.
			amount: usd(5284),
			fees: [
				{ code: "actual_shipping_fee_amount", category: "shipping_label", amount: usd(-709) },
				{ code: "referral_fee_amount", category: "commission", amount: usd(-360) },
				{ code: "affiliate_commission_amount", category: "affiliate", amount: usd(-225) },
				{ code: "smart_promotion_fee_amount", category: null, amount: usd(-87) },
				{ code: "sales_tax_amount", category: "tax_withheld", amount: usd(-285) },
			],
			description: "ORDER",
		});
		expect(lineNet(sale!)).toBe(3618);
		expect(underItemized!.fees).toEqual([
			{ code: "platform_commission_amount", category: "commission", amount: usd(-120) },
			{ code: "transaction_fee_amount", category: "payment_processing", amount: usd(-90) },
			{ code: "fee_tax_amount", category: null, amount: usd(-40) },
		]);
		expect(lineNet(underItemized!)).toBe(1750);
		expect(refund).toMatchObject({ kind: "refund", channelOrderId: "576461413038785754", amount: usd(-1500) });
		expect(refund!.fees).toEqual([
			{ code: "referral_fee_amount", category: "commission", amount: usd(120) },
			{ code: "refund_administration_fee_amount", category: "commission", amount: usd(-30) },
		]);
		expect(reserve).toMatchObject({ kind: "reserve", channelOrderId: "576461413038785752", amount: usd(0), fees: [{ code: "reserve_amount", category: "reserve", amount: usd(-362) }] });
		expect(ads).toMatchObject({ kind: "other", amount: usd(0), fees: [{ code: "GMV_PAYMENT_FOR_ADS", category: "advertising", amount: usd(-1000) }] });
		expect(ads!.channelOrderId).toBeUndefined();
		expect(shippingAdjustment).toMatchObject({
			kind: "adjustment",
			channelOrderId: "576461413038785753",
			fees: [{ code: "SHIPPING_FEE_ADJUSTMENT", category: "shipping_label", amount: usd(125) }],
		});
	});

	it("lists statements in a time range through every page", async () => {
		const made: string[] = [];
		for (const [date, amount] of [["2030-03-01", "12.00"], ["2030-03-02", "0.99"], ["2030-03-03", "-4.50"]] as const) {
			const stored = (await post("/sandbox/tiktok/statements", {
				statement: { statement_time: day(`${date}T00:00:00Z`), currency: "USD", payment_status: "PAID", settlement_amount: amount },
				transactions: [],
			})) as { statement: { id: string } };
			made.push(stored.statement.id);
		}
		const result = await listTikTokStatements(tiktok(), { from: "2030-03-01T00:00:00Z", to: "2030-03-03T12:00:00Z" }, { ...fast, pageSize: 2 });
		if (!result.ok) throw new Error(result.error);
		expect(result.value).toEqual([
			{ id: made[0], statementTime: "2030-03-01T00:00:00.000Z", settlementAmount: usd(1200), status: "PAID" },
			{ id: made[1], statementTime: "2030-03-02T00:00:00.000Z", settlementAmount: usd(99), status: "PAID" },
			{ id: made[2], statementTime: "2030-03-03T00:00:00.000Z", settlementAmount: usd(-450), status: "PAID" },
		]);
		const later = await listTikTokStatements(tiktok(), { from: "2030-03-02T00:00:01Z", to: "2030-03-04T00:00:00Z" }, fast);
		expect(later.ok && later.value.map((s) => s.id)).toEqual([made[2]]);
	});

	it("an amount finer than the currency allows is refused, naming the transaction and field", async () => {
		const bad = { id: txId(), type: "ORDER", order_id: "576461413038785799", revenue_amount: "10.005", settlement_amount: "10.005" };
		const stored = (await post("/sandbox/tiktok/statements", { statement: { statement_time: day("2029-01-01T00:00:00Z") }, transactions: [bad] })) as { statement: { id: string } };
		const result = await fetchTikTokStatement(tiktok(), stored.statement.id, fast);
		expect(result).toEqual({ ok: false, retryable: false, error: `TikTok statement ${stored.statement.id}: transactions[0] (${bad.id}).revenue_amount: 10.005 has more precision than USD allows` });
	});

	it("429 is retryable after TikTok's base delay; the retry reads the statement", async () => {
		const stored = (await post("/sandbox/tiktok/statements", { statement: { statement_time: day("2028-05-05T00:00:00Z") }, transactions: transactions().slice(4) })) as { statement: { id: string } };
		await sandbox("/sandbox/faults", { method: "DELETE" });
		await post("/sandbox/faults", { target: "tiktok", kind: "429", remaining: 1, retryAfterSeconds: 3 });
		const limited = await fetchTikTokStatement(tiktok(), stored.statement.id, fast);
		// TikTok's 429 carries no Retry-After (the sandbox follows the docs): the documented 1 s base delay.
		expect(limited).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 1_000 });
		const retried = await fetchTikTokStatement(tiktok(), stored.statement.id, fast);
		expect(retried.ok && [retried.value.total, retried.value.lines.length]).toEqual([usd(-875), 2]);
	});
});

describe("Shopify Payments payouts (GraphQL Admin)", () => {
	const shop = () => {
		const connection = loadConfig(env).connections.get("shopify-demo");
		if (!connection?.admin || !connection.adminToken) throw new Error("shopify-demo has no admin API in wrangler.toml");
		return { admin: connection.admin, token: connection.adminToken };
	};
	const payoutId = () => String(700_000_000 + Math.floor(Math.random() * 99_000_000));
	const money = (amount: string) => ({ amount, currencyCode: "USD" });

	function balanceTransactions() {
		return [
			{ type: "CHARGE", amount: money("120.00"), fee: money("3.78"), sourceId: "9120001", sourceType: "CHARGE", sourceOrderTransactionId: "7120001", associatedOrder: { id: "gid://shopify/Order/5801234567890", name: "#1001" }, transactionDate: "2026-09-01T10:00:00Z" },
			// Presented to the buyer in EUR; Shopify Payments settles it in the shop's USD.
			{ type: "CHARGE", amount: money("54.31"), fee: money("1.88"), sourceId: "9120002", sourceType: "CHARGE", associatedOrder: { id: "gid://shopify/Order/5801234567891", name: "#1002" }, transactionDate: "2026-09-01T11:00:00Z" },
			{ type: "REFUND", amount: money("-20.00"), fee: money("0.00"), sourceId: "8801234", sourceType: "REFUND", associatedOrder: { id: "gid://shopify/Order/5801234567890", name: "#1001" }, transactionDate: "2026-09-02T09:00:00Z" },
			{ type: "DISPUTE", amount: money("-35.00"), fee: money("15.00"), sourceId: "4401", sourceType: "DISPUTE", associatedOrder: { id: "gid://shopify/Order/5801234567892", name: "#1003" }, transactionDate: "2026-09-02T12:00:00Z" },
			{ type: "RESERVED_FUNDS", amount: money("-10.00"), fee: money("0.00"), transactionDate: "2026-09-02T13:00:00Z" },
			{ type: "ADJUSTMENT", amount: money("2.50"), fee: money("0.00"), sourceType: "ADJUSTMENT", adjustmentReason: "fee_refund", transactionDate: "2026-09-02T14:00:00Z" },
			{ type: "CHANNEL_PROMOTION_CREDIT", amount: money("5.00"), fee: money("0.00"), transactionDate: "2026-09-02T15:00:00Z" },
		];
	}

	it("reads a payout through every page of its balance transactions, leaving the transfer out", async () => {
		const { admin, token } = shop();
		const id = payoutId();
		const stored = (await post("/sandbox/shopify/payouts", {
			payout: { legacyResourceId: id, issuedAt: "2026-09-03T12:00:00Z", status: "PAID" },
			balanceTransactions: balanceTransactions(),
		})) as { payout: { net: { amount: string } }; balanceTransactions: Array<{ id: string; type: string }> };
		expect(stored.payout.net.amount).toBe("96.15");
		expect(stored.balanceTransactions.map((t) => t.type).at(-1)).toBe("TRANSFER");

		// Three per page: eight transactions (the transfer too) in three pages.
		const result = await fetchShopifyPayout(admin, token, id, { ...fast, pageSize: 3, connection: "shopify-demo" });
		if (!result.ok) throw new Error(result.error);
		const payout = Payout.parse(result.value);
		expect(payout).toMatchObject({
			connection: "shopify-demo",
			channel: "shopify",
			payoutId: id,
			currency: "USD",
			paidAt: "2026-09-03T12:00:00Z",
			total: usd(9615),
		});
		expect(payout.lines).toHaveLength(7);
		expect(sum(payout)).toBe(9615);
		const ids = stored.balanceTransactions.map((t) => t.id.split("/").pop());
		expect(payout.lines.map((line) => line.id)).toEqual(ids.slice(0, 7));

		const [sale, foreign, refund, dispute, reserve, adjustment, unknown] = payout.lines;
		expect(sale).toEqual<SettlementLine>({
			id: ids[0]!,
			kind: "order",
			channelOrderId: "5801234567890",
			postedAt: "2026-09-01T10:00:00Z",
			amount: usd(12000),
			fees: [{ code: "fee", category: "payment_processing", amount: usd(-378) }],
		});
		expect(foreign).toMatchObject({ kind: "order", channelOrderId: "5801234567891", amount: usd(5431), fees: [{ code: "fee", category: "payment_processing", amount: usd(-188) }] });
		expect(refund).toEqual<SettlementLine>({
			id: ids[2]!,
			kind: "refund",
			channelOrderId: "5801234567890",
			channelRefundId: "8801234",
			postedAt: "2026-09-02T09:00:00Z",
			amount: usd(-2000),
			fees: [],
		});
		expect(dispute).toMatchObject({
			kind: "adjustment",
			channelOrderId: "5801234567892",
			amount: usd(0),
			fees: [
				{ code: "dispute", category: "adjustment", amount: usd(-3500) },
				{ code: "dispute_fee", category: "adjustment", amount: usd(-1500) },
			],
		});
		expect(reserve).toMatchObject({ kind: "reserve", amount: usd(0), fees: [{ code: "reserved_funds", category: "reserve", amount: usd(-1000) }] });
		expect(adjustment).toMatchObject({ kind: "adjustment", fees: [{ code: "fee_refund", category: "adjustment", amount: usd(250) }], description: "ADJUSTMENT: fee_refund" });
		expect(unknown).toMatchObject({ kind: "other", fees: [{ code: "channel_promotion_credit", category: null, amount: usd(500) }] });

		// The gid works as well as the numeric id.
		const again = await fetchShopifyPayout(admin, token, `gid://shopify/ShopifyPaymentsPayout/${id}`, fast);
		expect(again.ok && again.value.total).toEqual(usd(9615));
	});

	it("lists payouts issued since a time, through every page", async () => {
		const { admin, token } = shop();
		const made: string[] = [];
		for (const [issuedAt, amount] of [["2031-01-05T08:00:00Z", "10.00"], ["2031-01-06T08:00:00Z", "20.50"], ["2031-01-07T08:00:00Z", "0.01"]] as const) {
			const id = payoutId();
			await post("/sandbox/shopify/payouts", { payout: { legacyResourceId: id, issuedAt, status: "SCHEDULED" }, balanceTransactions: [{ type: "CHARGE", amount: money(amount), fee: money("0.00") }] });
			made.push(id);
		}
		const result = await listShopifyPayouts(admin, token, { since: "2031-01-05T00:00:00Z" }, { ...fast, pageSize: 2 });
		if (!result.ok) throw new Error(result.error);
		expect(result.value).toEqual([
			{ id: made[0], issuedAt: "2031-01-05T08:00:00Z", net: usd(1000), status: "SCHEDULED" },
			{ id: made[1], issuedAt: "2031-01-06T08:00:00Z", net: usd(2050), status: "SCHEDULED" },
			{ id: made[2], issuedAt: "2031-01-07T08:00:00Z", net: usd(1), status: "SCHEDULED" },
		]);
	});

	it("a payout Shopify does not have is refused, not retried", async () => {
		const { admin, token } = shop();
		const result = await fetchShopifyPayout(admin, token, "1", fast);
		expect(result).toEqual({ ok: false, retryable: false, error: "Shopify payout 1 does not exist (or the app lacks the shopify_payments_payouts scope)" });
	});

	it("429 with Retry-After is retryable after that long; the retry reads the payout", async () => {
		const { admin, token } = shop();
		const id = payoutId();
		await post("/sandbox/shopify/payouts", { payout: { legacyResourceId: id, issuedAt: "2026-09-04T12:00:00Z" }, balanceTransactions: balanceTransactions().slice(0, 2) });
		await sandbox("/sandbox/faults", { method: "DELETE" });
		await post("/sandbox/faults", { target: "shopify", kind: "429", remaining: 1, retryAfterSeconds: 2 });
		const limited = await fetchShopifyPayout(admin, token, id, fast);
		expect(limited).toMatchObject({ ok: false, retryable: true, retryAfterMs: 2_000 });
		const retried = await fetchShopifyPayout(admin, token, id, fast);
		expect(retried.ok && retried.value.total).toEqual(usd(16865));
	});
});
