import { describe, expect, it } from "vitest";
import { depositTotal, type OrderFacts, reconcile } from "../../durable-objects/reconcile";
import type { Payout, SettlementLine } from "../../worker/model/settlement";

// Matching and posting rules on hand-made payouts, to the cent. The end-to-end payouts of each
// channel (through the real sandbox, orders and NetSuite) are in settlement-loop.test.ts.

const USD = (amount: number) => ({ amount, currency: "USD" });
const accounts = { clearing: "1090", variance: "6990", fees: { commission: "6110", payment_processing: "6120", reserve: "1250" } };

function facts(id: string, total: number, extra: Partial<OrderFacts> = {}): OrderFacts {
	return { orderKey: `c:${id}`, name: `#${id}`, currency: "USD", total, refundIds: [], settledBefore: 0, ...extra };
}

function payout(channel: Payout["channel"], lines: SettlementLine[], total?: number): Payout {
	const net = lines.reduce((n, l) => n + l.amount.amount + l.fees.reduce((m, f) => m + f.amount.amount, 0), 0);
	return { connection: "c", channel, payoutId: "P1", currency: "USD", total: USD(total ?? net), lines };
}

const sale = (id: string, order: string, amount: number, commission = 0): SettlementLine => ({
	id,
	kind: "order",
	channelOrderId: order,
	amount: USD(amount),
	fees: commission ? [{ code: "Commission", category: "commission", amount: USD(-commission) }] : [],
});

describe("reconcile", () => {
	it("matches each order, books fees on their accounts, and deposits exactly the payout", () => {
		const p = payout("shopify", [
			sale("t1", "1", 5000, 175),
			sale("t2", "2", 2599, 105),
			{ id: "t3", kind: "refund", channelOrderId: "1", channelRefundId: "r1", amount: USD(-1000), fees: [] },
			{ id: "t4", kind: "reserve", amount: USD(0), fees: [{ code: "reserved_funds", category: "reserve", amount: USD(-500) }] },
		]);
		const orders = new Map([["1", facts("1", 5000, { refundIds: ["r1"] })], ["2", facts("2", 2599)]]);
		const r = reconcile(p, orders, accounts, { transaction: "salesOrder" });

		expect(r.exceptions).toEqual([]);
		expect(r.summary).toMatchObject({ grossSales: 7599, refunds: -1000, fees: { commission: -280, reserve: -500 }, adjustments: -500, net: 5819, matched: { lines: 3, of: 3, percent: 100 }, variance: 0 });
		expect(r.postings.payments).toEqual([
			{ orderKey: "c:1", orderName: "#1", type: "customerDeposit", externalId: "cd:c:P1:c:1", amount: 5000 },
			{ orderKey: "c:2", orderName: "#2", type: "customerDeposit", externalId: "cd:c:P1:c:2", amount: 2599 },
		]);
		expect(r.postings.refunds).toEqual([{ lineId: "t3", orderKey: "c:1", orderName: "#1", externalId: "crf:c:P1:t3", amount: 1000 }]);
		expect(r.postings.cashBack).toEqual([
			{ account: "6110", amount: 175, memo: "Commission (t1)" },
			{ account: "6110", amount: 105, memo: "Commission (t2)" },
			{ account: "1090", amount: 1000, memo: "refund r1 of #1" },
			{ account: "1250", amount: 500, memo: "reserved_funds (t4)" },
		]);
		expect(depositTotal(r.postings)).toBe(5819);
	});

	it("books an unknown order, a short payment, an unknown refund and an unmapped fee to variance, each as an exception", () => {
		const p = payout("tiktok", [
			sale("t1", "404", 3000, 90),
			sale("t2", "2", 2400),
			{ id: "t3", kind: "refund", channelOrderId: "2", channelRefundId: "r9", amount: USD(-300), fees: [] },
			{ id: "t4", kind: "other", amount: USD(0), fees: [{ code: "mystery_fee", category: null, amount: USD(-45) }] },
			{ id: "t5", kind: "other", amount: USD(0), fees: [{ code: "ads", category: "advertising", amount: USD(-200) }] },
		]);
		const r = reconcile(p, new Map([["404", null], ["2", facts("2", 2500)]]), accounts, { transaction: "salesOrder" });

		expect(r.exceptions.map((e) => [e.id, e.variance])).toEqual([
			["t1", 3000],
			["t2", -100],
			["t3", -300],
			["t4", -45],
			["t5", -200],
		]);
		expect(r.exceptions.map((e) => e.reason)).toEqual([
			"order 404 is not known to ordersync",
			"#2: the payout pays 2400, the order owes 2500",
			"refund r9 of #2 is not known to ordersync",
			'unknown tiktok fee "mystery_fee" on t4',
			'no GL account for advertising ("ads" on t5)',
		]);
		// #2 is paid what it owed; what the channel kept back is the variance, not a silent plug.
		expect(r.postings.payments).toEqual([{ orderKey: "c:2", orderName: "#2", type: "customerDeposit", externalId: "cd:c:P1:c:2", amount: 2500 }]);
		expect(r.lines.map((l) => l.status)).toEqual(["unknown_order", "amount_mismatch", "unknown_refund", "other", "other"]);
		expect(r.summary.matched).toEqual({ lines: 0, of: 3, percent: 0 });
		expect(r.summary.variance).toBe(3000 - 100 - 300 - 45 - 200);
		expect(depositTotal(r.postings)).toBe(p.total.amount);
	});

	it("lets Amazon settle an order per shipment, and counts what earlier payouts paid", () => {
		const p = payout("amazon", [sale("s1", "113-1", 1500, 225)]);
		const partial = reconcile(p, new Map([["113-1", facts("113-1", 4000)]]), accounts, { transaction: "salesOrder" });
		expect(partial.lines[0]).toMatchObject({ status: "partial", expected: 4000, variance: 0 });
		expect(partial.exceptions).toEqual([]);

		const rest = reconcile(payout("amazon", [sale("s2", "113-1", 2500)]), new Map([["113-1", facts("113-1", 4000, { settledBefore: 1500 })]]), accounts, { transaction: "salesOrder" });
		expect(rest.lines[0]).toMatchObject({ status: "matched", expected: 2500, variance: 0 });

		// A channel that settles whole orders does not get to pay part of one.
		const short = reconcile(payout("shopify", [sale("s1", "9", 1500)]), new Map([["9", facts("9", 4000)]]), accounts, { transaction: "salesOrder" });
		expect(short.lines[0]).toMatchObject({ status: "amount_mismatch", variance: -2500 });
	});

	it("deposits a cash sale whole, once; a second payout for it is variance", () => {
		const first = reconcile(payout("tiktok", [sale("a", "7", 3300, 200)]), new Map([["7", facts("7", 3300)]]), accounts, { transaction: "cashSale" });
		expect(first.postings.payments).toEqual([{ orderKey: "c:7", orderName: "#7", type: "cashSale", externalId: "c:7", amount: 3300 }]);
		expect(depositTotal(first.postings)).toBe(3100);

		const again = reconcile(payout("tiktok", [sale("b", "7", 3300)]), new Map([["7", facts("7", 3300, { settledBefore: 3300 })]]), accounts, { transaction: "cashSale" });
		expect(again.postings.payments).toEqual([]);
		expect(again.exceptions).toEqual([{ id: "b", reason: "#7 was already settled by another payout", variance: 3300 }]);
	});

	it("says when the lines do not add up to what the channel pays, and deposits what it pays", () => {
		const p = payout("shopify", [sale("t1", "1", 5000, 175)], 4800);
		const r = reconcile(p, new Map([["1", facts("1", 5000)]]), accounts, { transaction: "salesOrder" });
		expect(r.exceptions).toEqual([{ id: "total", reason: "the payout's lines add up to 4825, but it pays 4800", variance: -25 }]);
		expect(depositTotal(r.postings)).toBe(4800);
	});

	it("matches an order presented in another currency by what the payout's currency says it paid", () => {
		// A Shopify order shown to the buyer in EUR is settled in the shop's USD: the order's object holds shop money.
		const r = reconcile(payout("shopify", [sale("t1", "5", 10870, 345)]), new Map([["5", facts("5", 10870)]]), accounts, { transaction: "salesOrder" });
		expect(r.lines[0]!.status).toBe("matched");
		const eur = reconcile(payout("shopify", [sale("t1", "5", 10870)]), new Map([["5", facts("5", 10000, { currency: "EUR" })]]), accounts, { transaction: "salesOrder" });
		expect(eur.exceptions[0]!.reason).toBe("#5 is in EUR, the payout in USD");
	});
});
