// Labels, tones, money and times, and the line cutting that keeps every row inside the terminal.
import { describe, expect, it } from "vitest";
import { describeFlow, formatAge, formatAmount, formatMoney, formatTime, prettyBody, summarizeCause, wrapText } from "../../console/format";
import { clip, rowText } from "../../console/views/row";
import { clampTop, follow } from "../../console/views/scroll";

const ev = (type: string, fields = {}) => ({ cursor: 1, at: "2026-01-02T10:00:00.000Z", type, ...fields });

describe("describeFlow", () => {
	it("colours by outcome: green done, cyan on its way, yellow waiting, red needs an operator, dim routine", () => {
		expect(describeFlow(ev("reserved")).tone).toBe("done");
		expect(describeFlow(ev("routed", { detail: "→ wh-east" })).tone).toBe("moving");
		expect(describeFlow(ev("backordered")).tone).toBe("waiting");
		expect(describeFlow(ev("dead-lettered")).tone).toBe("operator");
		expect(describeFlow(ev("duplicate")).tone).toBe("routine");
		expect(describeFlow(ev("something.new", { detail: "x" }))).toEqual({ label: "something.new", tone: "plain", text: "x" });
	});

	it("reads like the demo log for webhooks, calls, lines, parcels and tracking", () => {
		expect(describeFlow(ev("received", { topic: "orders/create" })).text).toBe("orders/create · webhook stored");
		expect(describeFlow(ev("quarantined", { topic: "orders/create", detail: "bad json" })).text).toBe("orders/create · signed but unreadable, quarantined (bad json)");
		expect(describeFlow(ev("sent", { detail: "3pl.order → 3pl:shipbob" }))).toMatchObject({ label: "sent", tone: "routine" });
		expect(describeFlow(ev("sent", { detail: "3pl.order → 3pl:shipbob (attempt 2)" }))).toMatchObject({ label: "retried ok", tone: "waiting" });
		expect(describeFlow(ev("line.backordered", { sku: "BOOT", detail: "2 short" }))).toEqual({ label: "backordered", tone: "waiting", text: "BOOT 2 short" });
		expect(describeFlow(ev("line.committed", { sku: "BOOT", detail: "2 not on hand" }))).toMatchObject({ label: "committed short", tone: "waiting" });
		expect(describeFlow(ev("shipment.shipped", { detail: "S1: 1 unit via USPS 9400" })).text).toBe("1 unit via USPS 9400 · parcel S1");
		expect(describeFlow(ev("tracking.out_for_delivery"))).toMatchObject({ label: "out for delivery", tone: "moving" });
		expect(describeFlow(ev("tracking.failure"))).toMatchObject({ label: "parcel lost", tone: "operator" });
		// A status change shows the worker's own words.
		expect(describeFlow(ev("backordered", { status: "backordered", detail: "1 of 3 lines short" }))).toMatchObject({ tone: "waiting", text: "1 of 3 lines short" });
	});
});

describe("payout and ERP events", () => {
	it("label the money's flow: payouts received, reconciled (yellow with exceptions), posted; orders settled and booked", () => {
		expect(describeFlow(ev("payout.received", { connection: "shopify-demo", detail: "payout 1051: 5 lines, 12931 USD (api)" }))).toEqual({ label: "payout received", tone: "moving", text: "payout 1051: 5 lines, 12931 USD (api)" });
		expect(describeFlow(ev("payout.reconciled", { detail: "payout 1051: 4/4 matched, 0 exceptions" }))).toMatchObject({ label: "reconciled", tone: "done" });
		expect(describeFlow(ev("payout.reconciled", { detail: "payout 1051: 2/4 matched, 1 exception" }))).toMatchObject({ label: "reconciled", tone: "waiting" });
		expect(describeFlow(ev("payout.reconciled", { detail: "payout 1051: 2/4 matched, 12 exceptions" }))).toMatchObject({ tone: "waiting" });
		expect(describeFlow(ev("payout.posted", { detail: "payout 1051: deposit 77 in netsuite" }))).toMatchObject({ label: "payout posted", tone: "finished" });
		expect(describeFlow(ev("settled", { detail: "10000 in payout shopify-demo:1051" }))).toEqual({ label: "settled", tone: "done", text: "10000 in payout shopify-demo:1051" });
		expect(describeFlow(ev("erp.booked", { detail: "salesOrder 12 in netsuite" }))).toMatchObject({ label: "ERP booked", tone: "done" });
		expect(describeFlow(ev("erp.fulfilled"))).toMatchObject({ label: "ERP fulfilled", tone: "done" });
		expect(describeFlow(ev("erp.closed"))).toMatchObject({ label: "ERP closed", tone: "routine" });
		expect(describeFlow(ev("erp.refunded"))).toMatchObject({ label: "ERP refunded", tone: "waiting" });
	});
});

describe("money and time", () => {
	it("formats integer minor units with the currency's exponent", () => {
		expect(formatMoney({ amount: 12345, currency: "USD" })).toBe("$123.45");
		expect(formatMoney({ amount: 5, currency: "USD" })).toBe("$0.05");
		expect(formatMoney({ amount: -250, currency: "EUR" })).toBe("-€2.50");
		expect(formatMoney({ amount: 1500, currency: "JPY" })).toBe("¥1,500");
		expect(formatMoney({ amount: 1234, currency: "KWD" })).toMatch(/^KWD\s1\.234$/);
		// For scripts: no symbol, no grouping, still no float.
		expect(formatAmount({ amount: 123456789, currency: "USD" })).toBe("1234567.89 USD");
		expect(formatAmount({ amount: -5, currency: "EUR" })).toBe("-0.05 EUR");
		expect(formatAmount({ amount: 1500, currency: "JPY" })).toBe("1500 JPY");
		// Beyond float precision for cents, still exact.
		expect(formatMoney({ amount: 9007199254740991, currency: "USD" })).toBe("$90,071,992,547,409.91");
		expect(formatMoney({ amount: 100, currency: "???" })).toBe("100 ??? (minor units)");
	});

	it("shows times as HH:MM:SS (UTC) and ages coarsely", () => {
		expect(formatTime("2026-01-02T10:03:04.567Z")).toBe("10:03:04");
		expect(formatTime("2026-01-02T10:03:04+02:00")).toBe("08:03:04");
		expect(formatTime(null)).toBe("--:--:--");
		const now = Date.parse("2026-01-02T12:00:00Z");
		expect(formatAge("2026-01-02T11:59:30Z", now)).toBe("30s");
		expect(formatAge("2026-01-02T11:55:00Z", now)).toBe("5m");
		expect(formatAge("2026-01-02T09:00:00Z", now)).toBe("3h");
		expect(formatAge("2025-12-30T12:00:00Z", now)).toBe("3d");
	});
});

describe("text", () => {
	it("pretty-prints JSON bodies and leaves others as sent", () => {
		expect(prettyBody('{"a":[1]}')).toEqual(["{", '  "a": [', "    1", "  ]", "}"]);
		expect(prettyBody("not json\nline 2")).toEqual(["not json", "line 2"]);
	});

	it("wraps at spaces and summarizes causes", () => {
		expect(wrapText("aaa bbb ccc", 7)).toEqual(["aaa bbb", "ccc"]);
		expect(wrapText("x".repeat(10), 4)).toEqual(["xxxx", "xxxx", "xx"]);
		expect(summarizeCause({ orderKey: "k", lineId: "L1", nested: { a: 1 } })).toBe("k L1");
		expect(summarizeCause({ commitId: "shipment:S1", lineId: "L1", orderKey: "k" })).toBe("k L1 commitId=shipment:S1");
		expect(summarizeCause({ source: "wms", seq: 17 })).toBe("source=wms seq=17");
		expect(summarizeCause("restock")).toBe("restock");
	});

	it("cuts rows to the width with an ellipsis, and strips control characters from payloads", () => {
		expect(rowText(clip([{ text: "abcdef" }, { text: "ghij" }], 8))).toBe("abcdefg…");
		expect(rowText(clip([{ text: "abc" }], 8))).toBe("abc");
		expect(rowText(clip([{ text: "abc" }], 5, true))).toBe("abc  ");
		expect(rowText(clip([{ text: "a\u001B[31mb\tc" }], 20))).toBe("a[31mb  c");
	});

	it("keeps a selection inside the scrolled window", () => {
		expect(follow(0, 30, 100, 10)).toBe(21);
		expect(follow(21, 5, 100, 10)).toBe(5);
		expect(follow(5, 8, 100, 10)).toBe(5);
		expect(clampTop(95, 100, 10)).toBe(90);
		expect(clampTop(3, 4, 10)).toBe(0);
	});
});
