// The console's model without Ink: the bounded window, the header's rates, filters, pause.
import { describe, expect, it } from "vitest";
import { matchesException, matchesFlow, parseFilter } from "../../console/filter";
import type { FlowEvent } from "../../console/protocol";
import { FlowStore, RateCounter } from "../../console/store";
import { exceptionItem } from "./fakes";

const T0 = Date.parse("2026-01-02T10:00:00.000Z");
let cursor = 0;
const ev = (type: string, secondsAfterT0: number, fields: Partial<FlowEvent> = {}): FlowEvent => ({
	cursor: ++cursor,
	at: new Date(T0 + secondsAfterT0 * 1000).toISOString(),
	type,
	...fields,
});

describe("FlowStore window", () => {
	it("keeps only the newest `limit` events, oldest first", () => {
		const store = new FlowStore({ limit: 3 });
		store.add([ev("received", 0), ev("received", 1)], T0);
		store.add([ev("reserved", 2), ev("routed", 3), ev("accepted", 4)], T0);
		expect(store.events.map((e) => e.type)).toEqual(["reserved", "routed", "accepted"]);
		expect(store.visible()).toHaveLength(3);
	});

	it("defaults to 2,000 events and stays there under a flood", () => {
		const store = new FlowStore();
		for (let i = 0; i < 50; i++) store.add(Array.from({ length: 200 }, () => ev("sent", 0)), T0);
		expect(store.events).toHaveLength(2000);
	});

	it("marks a gap as a row of its own, after what came before it", () => {
		const store = new FlowStore();
		store.add([ev("received", 0)], T0);
		store.addGap(10, 15, T0);
		expect(store.events.at(-1)).toMatchObject({ type: "console.missed", detail: "5 events pruned before this console saw them" });
	});
});

describe("rates", () => {
	it("webhooks/s over the last 10 s counts every inbound outcome and nothing else", () => {
		const rates = new RateCounter();
		for (const type of ["received", "duplicate", "stale", "ignored", "quarantined", "reserved", "sent", "pushed"]) rates.add(ev(type, 55), T0 + 60_000);
		rates.add(ev("received", 45), T0 + 60_000); // 15 s ago: outside the window
		expect(rates.rates(T0 + 60_000).webhooksPerSecond).toBe(0.5);
		expect(rates.rates(T0 + 66_000).webhooksPerSecond).toBe(0);
	});

	it("orders/min counts distinct new orders received in the last 60 s", () => {
		const rates = new RateCounter();
		const now = T0 + 5_000;
		rates.add(ev("received", 0, { orderKey: "a" }), now);
		rates.add(ev("received", 1, { orderKey: "a" }), now); // an update to the same order
		rates.add(ev("received", 2, { orderKey: "b" }), now);
		rates.add(ev("reserved", 3, { orderKey: "c" }), now); // not a received webhook
		expect(rates.rates(T0 + 30_000).ordersPerMinute).toBe(2);
		expect(rates.rates(T0 + 61_500).ordersPerMinute).toBe(1);
		expect(rates.rates(T0 + 63_000).ordersPerMinute).toBe(0);
	});

	it("fail/min counts retrying, dead-lettered, failed, quarantined and unroutable in the last 60 s", () => {
		const rates = new RateCounter();
		for (const type of ["retrying", "dead-lettered", "failed", "quarantined", "unroutable", "sent", "backordered"]) rates.add(ev(type, 10), T0 + 20_000);
		expect(rates.rates(T0 + 20_000).failuresPerMinute).toBe(5);
		expect(rates.rates(T0 + 71_000).failuresPerMinute).toBe(0);
	});

	it("counts by the event's own time, and a clock ahead of ours cannot stretch the window", () => {
		const store = new FlowStore();
		store.add([ev("received", -3600, { orderKey: "old" }), ev("received", 3600, { orderKey: "future" })], T0);
		const rates = store.rates(T0);
		expect(rates.ordersPerMinute).toBe(1);
		expect(store.rates(T0 + 61_000).ordersPerMinute).toBe(0);
	});
});

describe("filter", () => {
	it("parses channel/state/sku/kind tokens and free text, quoted phrases included", () => {
		expect(parseFilter('channel:Shopify state:backordered sku:BOOT-42 late "two words" shopify-demo:610')).toEqual({
			channel: "shopify",
			state: "backordered",
			sku: "boot-42",
			text: ["late", "two words", "shopify-demo:610"],
		});
		expect(parseFilter("kind:dead-letter")).toEqual({ kind: "dead-letter", text: [] });
		expect(parseFilter("   ")).toEqual({ text: [] });
		expect(parseFilter("sku: channel:")).toEqual({ text: ["sku:", "channel:"] });
	});

	it("matches flow events on every part", () => {
		const event = ev("line.backordered", 0, { channel: "shopify", connection: "shopify-demo", sku: "BOOT-42", status: "backordered", orderName: "#1001", detail: "2 short" });
		expect(matchesFlow(parseFilter("sku:boot-42"), event)).toBe(true);
		expect(matchesFlow(parseFilter("sku:BOOT"), event)).toBe(false);
		expect(matchesFlow(parseFilter("channel:shopify state:backordered"), event)).toBe(true);
		expect(matchesFlow(parseFilter("channel:demo"), event)).toBe(true);
		expect(matchesFlow(parseFilter("channel:tiktok"), event)).toBe(false);
		expect(matchesFlow(parseFilter("#1001 short"), event)).toBe(true);
		expect(matchesFlow(parseFilter("#1001 long"), event)).toBe(false);
		// The name can come from an earlier event of the same order.
		expect(matchesFlow(parseFilter("#1002"), { ...event, orderName: undefined }, "#1002")).toBe(true);
	});

	it("matches exceptions by kind, channel and text", () => {
		const item = exceptionItem({ id: "dl:1", kind: "dead-letter", reason: "3pl.order failed 5 times", orderKey: "shopify-demo:1001" });
		expect(matchesException(parseFilter("kind:dead-letter"), item)).toBe(true);
		expect(matchesException(parseFilter("kind:quarantine"), item)).toBe(false);
		expect(matchesException(parseFilter("channel:shopify 3pl"), item)).toBe(true);
		expect(matchesException(parseFilter("shopify-demo:1001"), item)).toBe(true);
		expect(matchesException(parseFilter("tiktok"), item)).toBe(false);
	});

	it("the store filters the window and clears on blank", () => {
		const store = new FlowStore();
		store.add([ev("received", 0, { orderName: "#1" }), ev("pushed", 1, { sku: "HAT" })], T0);
		store.setFilter(" sku:hat ");
		expect(store.filterText).toBe("sku:hat");
		expect(store.visible().map((e) => e.type)).toEqual(["pushed"]);
		store.setFilter("");
		expect(store.visible()).toHaveLength(2);
	});
});

describe("pause", () => {
	it("freezes the view, counts matching arrivals, and catches up on resume", () => {
		const store = new FlowStore({ limit: 5 });
		store.add([ev("received", 0)], T0);
		store.pause();
		store.add([ev("received", 1), ev("pushed", 2, { sku: "HAT" })], T0);
		expect(store.visible()).toHaveLength(1);
		expect(store.newCount).toBe(2);
		// Arrivals keep counting even after the window has dropped them.
		store.add(Array.from({ length: 10 }, (_, i) => ev("sent", 3 + i)), T0);
		expect(store.newCount).toBe(12);
		expect(store.visible()).toHaveLength(1);
		store.resume();
		expect(store.paused).toBe(false);
		expect(store.visible()).toHaveLength(5);
	});

	it("a filter changed while paused recounts against what is kept", () => {
		const store = new FlowStore();
		store.add([ev("received", 0), ev("pushed", 1, { sku: "HAT" })], T0);
		store.pause();
		store.add([ev("pushed", 2, { sku: "HAT" }), ev("received", 3)], T0);
		store.setFilter("sku:hat");
		expect(store.visible()).toHaveLength(1);
		expect(store.newCount).toBe(1);
	});

	it("selecting pauses; resuming clears the selection", () => {
		const store = new FlowStore();
		const first = ev("received", 0);
		store.add([first, ev("received", 1)], T0);
		store.select(first);
		expect(store.paused).toBe(true);
		expect(store.selected).toBe(first);
		store.resume();
		expect(store.selected).toBeNull();
	});
});
