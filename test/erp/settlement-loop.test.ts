import { describe, expect, it } from "vitest";
import { CONNECTION, call, deliver, deliverCallbacks, eventually, newOrderId, order, ops, sandbox, stock, uniqueSku } from "../helpers";
import { addItem, cents, record, records } from "./netsuite";

// Payouts of each channel, fetched (Shopify Payments, TikTok Shop) or uploaded (Amazon V2 flat file),
// matched against orders that flowed through ordersync and posted to the sandbox NetSuite: a
// deposit equal to the bank payout to the cent, or the variance shown as an exception.

type Callback = { path: string; headers: Record<string, string>; body: string };
type View = {
	status: string | null;
	order: { total: { amount: number }; lines: Array<{ channelLineId: string; sku: string; quantity: number; unitPrice: { amount: number }; taxes: Array<{ amount: { amount: number } }> }>; shippingLines: Array<{ price: { amount: number } }> } | null;
	settlements: Record<string, number>;
	deliveries: Array<{ id: string; kind: string; status: string }>;
};
type Report = {
	status: string;
	erp: string;
	total: number;
	summary: { grossSales: number; refunds: number; fees: Record<string, number>; adjustments: number; net: number; matched: { lines: number; of: number; percent: number }; variance: number };
	exceptions: Array<{ id: string; reason: string; variance: number }>;
	lines: Array<{ id: string; kind: string; status: string; amount: number; variance: number; orderKey?: string }>;
};

const view = async (key: string) => {
	const response = await ops(`/ops/orders/${encodeURIComponent(key)}`);
	return response.status === 404 ? null : ((await response.json()) as View);
};
const booked = (v: View | null) => v?.deliveries.find((d) => d.id === "erp.order")?.status === "delivered";
const report = async (connection: string, payoutId: string) => (await (await ops(`/ops/settlements/${connection}/${encodeURIComponent(payoutId)}`)).json()) as Report;
const posted = (connection: string, payoutId: string) => eventually(() => report(connection, payoutId), (r) => r.erp === "posted" || r.erp === "failed", 20_000);
const usd = (minor: number) => (minor / 100).toFixed(2);
const post = (callback: Callback) => call(callback.path, { method: "POST", headers: callback.headers, body: callback.body });

/** The deposit NetSuite holds for a payout, with its lines as cents. */
async function deposit(payoutKey: string) {
	const d = (await record("deposit", `dep:${payoutKey}`))!;
	const payments = (d.payment as { items: Array<{ id: string; paymentAmount: number }> }).items.map((p) => cents(p.paymentAmount));
	const lines = (list?: { items: Array<{ account: { id: string }; amount: number }> }) => (list?.items ?? []).map((l) => [l.account.id, cents(l.amount)]);
	return { total: cents(d.total), payments, other: lines(d.other), cashBack: lines(d.cashBack) };
}

describe("payouts reconciled into NetSuite", () => {
	it("Shopify Payments: orders (one presented in EUR), a refund and an unknown order, deposited to the cent", async () => {
		const sku = uniqueSku("pay-shop");
		await addItem(sku);
		await stock(sku, 20);
		const [a, b] = [newOrderId(), newOrderId()];
		const bodyA = order({ id: a, lines: [{ sku, quantity: 2, price: "25.00" }] }) as unknown as Record<string, unknown> & { line_items: Array<{ id: number }>; total_price: string };
		// B was shown to the buyer in euros; the shop (and its payouts) keep dollars.
		const bodyB = JSON.parse(JSON.stringify(order({ id: b, lines: [{ sku, quantity: 1, price: "40.00" }] })).replace(/"presentment_money":\{"amount":"([\d.]+)","currency_code":"USD"\}/g, (_, amount) => `"presentment_money":{"amount":"${(Number(amount) * 0.92).toFixed(2)}","currency_code":"EUR"}`));
		bodyB.presentment_currency = "EUR";
		for (const body of [bodyA, bodyB]) expect((await deliver("orders/create", body)).status).toBe(200);
		const [keyA, keyB] = [`${CONNECTION}:${a}`, `${CONNECTION}:${b}`];
		const [viewA, viewB] = [await eventually(() => view(keyA), booked, 15_000), await eventually(() => view(keyB), booked, 15_000)];
		const [totalA, totalB] = [viewA!.order!.total.amount, viewB!.order!.total.amount];
		expect(JSON.stringify(bodyB)).toContain('"currency_code":"EUR"');

		const refundId = 770000 + (a % 1000);
		await deliver("refunds/create", {
			id: refundId, order_id: a, created_at: new Date().toISOString(), note: "", restock: false, order_adjustments: [],
			transactions: [{ id: 1, amount: "25.00", currency: "USD", kind: "refund", status: "success", gateway: "shopify_payments" }],
			refund_line_items: [{ id: 1, line_item_id: bodyA.line_items[0]!.id, quantity: 1, restock_type: "no_restock", location_id: 1, subtotal: "25.00", total_tax: "0.00" }],
		});
		await eventually(() => view(keyA), (v) => v?.deliveries.find((d) => d.id === `erp.refund:${refundId}`)?.status === "delivered", 15_000);

		const payoutId = String(800000000 + (a % 100000));
		const tx = (type: string, amount: number, fee: number, orderId?: number, sourceId?: string) => ({
			type,
			amount: { amount: usd(amount), currencyCode: "USD" },
			fee: { amount: usd(fee), currencyCode: "USD" },
			...(sourceId ? { sourceId } : {}),
			...(orderId ? { associatedOrder: { id: `gid://shopify/Order/${orderId}` } } : {}),
			transactionDate: new Date().toISOString(),
		});
		const unknown = 999_000_000_123;
		await sandbox("/sandbox/shopify/payouts", {
			json: {
				payout: { legacyResourceId: payoutId, issuedAt: new Date().toISOString(), status: "PAID" },
				balanceTransactions: [tx("CHARGE", totalA, 175, a), tx("CHARGE", totalB, 146, b), tx("REFUND", -2500, 0, a, String(refundId)), tx("CHARGE", 1999, 88, unknown)],
			},
		});
		const synced = await ops(`/ops/settlements/${CONNECTION}/sync`, { method: "POST", body: JSON.stringify({ payoutId }) });
		expect(synced.status).toBe(200);
		const net = totalA - 175 + totalB - 146 - 2500 + 1999 - 88;

		const r = await posted(CONNECTION, payoutId);
		expect(r.erp).toBe("posted");
		expect(r.summary).toMatchObject({ grossSales: totalA + totalB + 1999, refunds: -2500, fees: { payment_processing: -(175 + 146 + 88) }, net, variance: 1999, matched: { lines: 3, of: 4, percent: 75 } });
		expect(r.exceptions).toEqual([expect.objectContaining({ reason: `order ${unknown} is not known to ordersync`, variance: 1999 })]);
		expect(r.lines.filter((l) => l.kind === "order").map((l) => [l.orderKey, l.status])).toEqual([[keyA, "matched"], [keyB, "matched"], [undefined, "unknown_order"]]);

		// NetSuite: a customer deposit per order, a customer refund from clearing, and one bank deposit equal to the payout.
		const key = `${CONNECTION}:${payoutId}`;
		expect(cents((await record("customerDeposit", `cd:${key}:${keyA}`))!.payment as number)).toBe(totalA);
		expect(cents((await record("customerDeposit", `cd:${key}:${keyB}`))!.payment as number)).toBe(totalB);
		expect((await records("customerRefund")).filter((x) => String(x.externalId).startsWith(`crf:${key}:`)).map((x) => cents(x.total as number))).toEqual([2500]);
		const d = await deposit(key);
		expect(d.total).toBe(net);
		expect(d.payments).toEqual([totalA, totalB]);
		expect(d.other).toEqual([["6990", 1999]]);
		expect(d.cashBack).toEqual([["6120", 175], ["6120", 146], ["1090", 2500], ["6120", 88]]);

		// The orders know what this payout paid; the exception is on the desk.
		expect((await view(keyA))!.settlements).toEqual({ [key]: totalA });
		const open = (await (await ops("/ops/exceptions")).json()) as { items: Array<{ id: string; kind: string }> };
		expect(open.items.filter((e) => e.kind === "settlement" && e.id.startsWith(`settlement:${key}:`))).toHaveLength(1);

		// Fetching the same payout again changes nothing.
		const again = (await (await ops(`/ops/settlements/${CONNECTION}/sync`, { method: "POST", body: JSON.stringify({ payoutId }) })).json()) as { results: Array<{ status: string }> };
		expect(again.results).toEqual([expect.objectContaining({ status: "duplicate" })]);
		expect(await records("deposit", `dep:${key}`)).toHaveLength(1);
	});

	it("TikTok Shop: a statement's order settles the cash sale, fees and a reserve go to their accounts", async () => {
		const sku = uniqueSku("pay-tt");
		await addItem(sku);
		await stock(sku, 5);
		const { order: created } = await sandbox<{ order: { id: string } }>("/sandbox/tiktok/orders", { json: { lines: [{ sellerSku: sku, quantity: 2, price: "12.50" }] } });
		const { webhook } = await sandbox<{ webhook: Callback }>("/sandbox/tiktok/webhooks", { json: { orderId: created.id, deliver: "return" } });
		expect((await post(webhook)).status).toBe(200);
		const key = `tiktok:${created.id}`;
		const v = await eventually(() => view(key), booked, 15_000);
		const total = v!.order!.total.amount;
		const shipping = v!.order!.shippingLines.reduce((n, l) => n + l.price.amount, 0);
		const tax = v!.order!.lines.reduce((n, l) => n + l.taxes.reduce((m, t) => m + t.amount.amount, 0), 0);
		const sale = (await record("cashSale", key))!;
		expect(cents(sale.total)).toBe(total);

		const revenue = total - shipping - tax;
		const statementId = `7${String(Date.now()).slice(-9)}`;
		await sandbox("/sandbox/tiktok/statements", {
			json: {
				statement: { id: statementId, currency: "USD", payment_status: "PAID" },
				transactions: [
					{
						type: "ORDER",
						order_id: created.id,
						revenue_amount: usd(revenue),
						shipping_cost_amount: usd(shipping),
						fee_tax_amount: usd(-(150 + 75)),
						adjustment_amount: "0",
						reserve_amount: "0",
						settlement_amount: usd(revenue + shipping - 225),
						revenue_breakdown: { subtotal_before_discount_amount: usd(revenue) },
						shipping_cost_breakdown: { customer_paid_shipping_fee_amount: usd(shipping) },
						fee_tax_breakdown: { fee: { platform_commission_amount: "-1.50", transaction_fee_amount: "-0.75" }, tax: {} },
						supplementary_component: { sales_tax_amount: usd(tax) },
					},
					{ type: "RESERVE", revenue_amount: "0", shipping_cost_amount: "0", fee_tax_amount: "0", adjustment_amount: "0", reserve_amount: "-5.00", settlement_amount: "0" },
				],
			},
		});
		expect((await ops("/ops/settlements/tiktok/sync", { method: "POST", body: JSON.stringify({ payoutId: statementId }) })).status).toBe(200);
		const r = await posted("tiktok", statementId);
		const paid = total - tax - 225 - 500;
		expect(r).toMatchObject({ erp: "posted", total: paid, exceptions: [] });
		expect(r.summary).toMatchObject({ grossSales: total, fees: { commission: -150, payment_processing: -75, reserve: -500 }, matched: { percent: 100 } });
		const d = await deposit(`tiktok:${statementId}`);
		// The cash sale itself is deposited; TikTok's sales tax, its fees and the reserve come out.
		expect(d).toEqual({ total: paid, payments: [total], other: [], cashBack: expect.arrayContaining([["6110", 150], ["6120", 75], ["1250", 500]]) });
		if (tax > 0) expect(d.cashBack).toContainEqual(["2210", tax]);
	});

	it("Amazon: a V2 settlement file pays the first of two shipments; the next file pays the rest", async () => {
		const [a, b] = [uniqueSku("pay-amz-a"), uniqueSku("pay-amz-b")];
		for (const sku of [a, b]) {
			await addItem(sku);
			await stock(sku, 5);
		}
		const { callback } = await sandbox<{ callback: Callback }>("/sandbox/amazon/orders", {
			json: { lines: [{ sku: a, quantity: 1, price: "20.00" }, { sku: b, quantity: 2, price: "7.50" }], notify: { connection: "amazon", deliver: "return", envelope: "eventbridge" } },
		});
		expect((await post(callback)).status).toBe(200);
		const amazonOrderId = JSON.parse(callback.body).detail?.payload?.OrderChangeNotification?.AmazonOrderId ?? JSON.parse(callback.body).detail?.AmazonOrderId;
		const key = (await eventually(async () => {
			const found = (await (await ops("/ops/flows?limit=1000")).json()) as { events: Array<{ orderKey?: string; connection?: string }> };
			return found.events.filter((e) => e.connection === "amazon" && e.orderKey).map((e) => e.orderKey!).find((k) => !amazonOrderId || k.endsWith(amazonOrderId)) ?? null;
		}, (k) => k !== null))!;
		const v = (await eventually(() => view(key), (x) => booked(x) && x?.status === "accepted", 15_000))!;
		const channelOrderId = key.slice("amazon:".length);
		// Shipped in two parcels.
		await sandbox("/sandbox/shipbob/ship", { json: { match: key, split: true } });
		await deliverCallbacks(key);
		await eventually(() => view(key), (x) => (x?.deliveries.filter((d) => d.kind === "erp.fulfillment" && d.status === "delivered").length ?? 0) === 2, 15_000);

		const lineA = v.order!.lines.find((l) => l.sku === a)!;
		const lineB = v.order!.lines.find((l) => l.sku === b)!;
		const taxOf = (l: typeof lineA) => l.taxes.reduce((n, t) => n + t.amount.amount, 0);
		const shipping = v.order!.shippingLines.reduce((n, l) => n + l.price.amount, 0);
		const first = lineA.unitPrice.amount * lineA.quantity + taxOf(lineA) + shipping;
		const second = lineB.unitPrice.amount * lineB.quantity + taxOf(lineB);
		expect(first + second).toBe(v.order!.total.amount);

		const file = (settlementId: string, shipment: string, line: typeof lineA, principal: number, extra: number, commission: number) => {
			const header = "settlement-id\tsettlement-start-date\tsettlement-end-date\tdeposit-date\ttotal-amount\tcurrency\ttransaction-type\torder-id\tmerchant-order-id\tadjustment-id\tshipment-id\tmarketplace-name\tamount-type\tamount-description\tamount\tfulfillment-id\tposted-date\tposted-date-time\torder-item-code\tmerchant-order-item-id\tmerchant-adjustment-item-id\tsku\tquantity-purchased";
			const total = principal + extra - commission;
			const row = (type: string, description: string, amount: number) =>
				[settlementId, "", "", "", "", "USD", "Order", channelOrderId, "", "", shipment, "Amazon.com", type, description, usd(amount), "MFN", "2026-11-20", "2026-11-20 10:00:00 UTC", line.channelLineId, "", "", line.sku, String(line.quantity)].join("\t");
			return [
				header,
				[settlementId, "2026-11-10 00:00:00 UTC", "2026-11-24 00:00:00 UTC", "2026-11-26 00:00:00 UTC", usd(total), "USD", ...Array(17).fill("")].join("\t"),
				row("ItemPrice", "Principal", principal),
				...(extra ? [row("ItemPrice", "Tax", extra)] : []),
				row("ItemFees", "Commission", -commission),
			].join("\n");
		};
		const upload = (text: string) => ops("/ops/settlements/amazon/amazon-report", { method: "POST", body: text, headers: { "Content-Type": "text/tab-separated-values" } });
		const s1 = `1${String(Date.now()).slice(-10)}`;
		expect((await upload(file(s1, "S1", lineA, lineA.unitPrice.amount * lineA.quantity, first - lineA.unitPrice.amount * lineA.quantity, 300))).status).toBe(201);
		const r1 = await posted("amazon", s1);
		expect(r1.lines[0]).toMatchObject({ status: "partial", amount: first, variance: 0 });
		expect(r1.exceptions).toEqual([]);

		const s2 = String(Number(s1) + 1);
		expect((await upload(file(s2, "S2", lineB, lineB.unitPrice.amount * lineB.quantity, taxOf(lineB), 225))).status).toBe(201);
		const r2 = await posted("amazon", s2);
		expect(r2.lines[0]).toMatchObject({ status: "matched", amount: second, variance: 0 });
		expect((await view(key))!.settlements).toEqual({ [`amazon:${s1}`]: first, [`amazon:${s2}`]: second });
		expect((await deposit(`amazon:${s2}`)).total).toBe(second - 225);

		// The same file again is a duplicate; a malformed one is refused with its line and column.
		expect((await upload(file(s2, "S2", lineB, lineB.unitPrice.amount * lineB.quantity, taxOf(lineB), 225))).status).toBe(200);
		const bad = await upload(file(s2, "S2", lineB, 100, 0, 0).replace("Principal\t1.00\t", "Principal\t1.0O\t"));
		expect(bad.status).toBe(400);
		expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/line \d+: column "amount"/);
	});
});
