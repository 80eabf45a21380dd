// The Order and SKU screens through real keys: opened from the Live feed or by prompt, sections,
// payloads, going back, not-found answers, and reloading when the stream mentions them.
import { cleanup } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { App } from "../../console/app";
import { OpsError } from "../../console/ports";
import { FakeOps, FakeStream, flow, type Given, orderView, skuDetail } from "./fakes";
import { KEY, renderAt, sleep } from "./ui";

const KEY_1001 = "shopify-demo:6100000001";
let ops: FakeOps;

afterEach(() => {
	cleanup();
	expect(ops.unexpected).toEqual([]);
});

function open(given: Given) {
	const stream = new FakeStream();
	ops = new FakeOps(given);
	const ui = renderAt(<App ops={ops} stream={stream} url="http://127.0.0.1:8787" />);
	return { ui, stream };
}

describe("Order", () => {
	it("Enter on a Live event opens its order; Tab, arrows and digits switch sections", async () => {
		const { ui, stream } = open({ orders: { [KEY_1001]: orderView() } });
		stream.events(flow({ type: "received", orderKey: KEY_1001, orderName: "#1001", topic: "orders/create" }), flow({ type: "pushed", sku: "HAT-1", detail: "5" }));
		await ui.waitFor("HAT-1");
		await ui.press(KEY.up, KEY.up, KEY.enter);
		let frame = await ui.waitFor("Order #1001");
		expect(ops.calls).toEqual([`order ${KEY_1001}`]);
		// Timeline: the order's events merged with the delivery's attempts, oldest first.
		const lines = frame.split("\n");
		const at = (text: string) => lines.findIndex((l) => /^\d\d:\d\d:\d\d /.test(l) && l.includes(text));
		expect(at("orders/create")).toBeGreaterThan(-1);
		expect(at("orders/create")).toBeLessThan(at("reserved"));
		expect(at("reserved")).toBeLessThan(at("✗ attempt 1: 503"));
		expect(lines[at("orders/create")]).toMatch(/^10:00:01 inbound\s+orders\/create\s+applied\s+evt-1/);

		await ui.press(KEY.tab);
		frame = await ui.waitFor("ordered reserved backord committed shipped");
		expect(frame).toMatch(/BOOT-42\s+2\s+1\s+1\s+0\s+0\s+backordered/);
		expect(frame).toContain("Trail boot · 2 × $49.99");

		await ui.press(KEY.right);
		frame = await ui.waitFor("3pl.order → 3pl:shipbob  pending  1 attempt  next 10:00:30");
		expect(frame).toContain("last error: 503 Service Unavailable");
		expect(frame).toContain("10:00:03 ✗ attempt 1: 503 Service Unavailable (120 ms)");

		await ui.press("4");
		frame = await ui.waitFor("[1/1] inbound orders/create");
		expect(frame).toContain('  "name": "#1001"');

		await ui.press("5");
		frame = await ui.waitFor("total $123.45");
		expect(frame).toContain('"channelOrderName": "#1001"');

		await ui.press(KEY.left, KEY.left, KEY.left, KEY.left);
		await ui.waitFor((f) => f.includes("10:00:01 inbound"));
	});

	it("Lines: ordered is the channel's quantity, not what is left to ship; bundle parts count theirs", async () => {
		const channel = orderView().order!;
		const view = orderView({
			status: "partially_fulfilled",
			order: {
				...channel,
				lines: [
					...channel.lines,
					{ channelLineId: "L2", sku: "KIT-1", title: "Trail kit", quantity: 1, unitPrice: { amount: 2500, currency: "USD" } },
				],
			},
			lines: [
				// Shipped in full: the worker's target (units still to ship) is down to 0.
				{ lineId: "L1", sku: "BOOT-42", target: 0, reserved: 0, backordered: 0, committed: 2, shipped: 2, pending: false, lastError: null },
				{ lineId: "L2#SOCK-1", sku: "SOCK-1", target: 0, reserved: 0, backordered: 0, committed: 2, shipped: 2, pending: false, lastError: null },
				{ lineId: "L2#CAP-1", sku: "CAP-1", target: 1, reserved: 1, backordered: 0, committed: 0, shipped: 0, pending: false, lastError: null },
			],
		});
		const { ui } = open({ orders: { [KEY_1001]: view } });
		await ui.press("o", KEY_1001, KEY.enter);
		await ui.waitFor("Order #1001");
		await ui.press("2");
		const frame = await ui.waitFor("ordered reserved");
		expect(frame).toMatch(/BOOT-42\s+2\s+0\s+0\s+2\s+2\s+shipped/);
		expect(frame).toMatch(/SOCK-1\s+2\s+0\s+0\s+2\s+2\s+shipped/);
		expect(frame).toMatch(/CAP-1\s+1\s+1\s+0\s+0\s+0\s*$/m);
		expect(frame).toContain("part of 1 × Trail kit (KIT-1) · line L2#CAP-1");
	});

	it("Enter in the timeline shows that event's payload; [ and ] step through the others", async () => {
		const view = orderView();
		view.events.push({ seq: 3, eventId: "3pl:ship-1", source: "3pl", type: "shipment", at: "2026-01-02T11:00:00.000Z", triggeredAt: null, outcome: "applied", body: '{"shipment":"S1"}' });
		const { ui } = open({ orders: { [KEY_1001]: view } });
		await ui.press("o", KEY_1001, KEY.enter);
		await ui.waitFor("Order #1001");
		await ui.press(KEY.down, KEY.down, KEY.down, KEY.enter);
		let frame = await ui.waitFor("[2/2] 3pl shipment");
		expect(frame).toContain('"shipment": "S1"');
		await ui.press("]");
		frame = await ui.waitFor("[1/2] inbound orders/create");
	});

	it("o asks for an order by name; Esc goes back to Live as it was", async () => {
		const { ui, stream } = open({ orders: { "#1001": orderView() } });
		stream.events(flow({ type: "received", orderKey: KEY_1001, orderName: "#1001" }));
		await ui.waitFor("#1001");
		await ui.press("p");
		await ui.waitFor("paused · 0 new");
		await ui.press("o");
		await ui.waitFor("order (key or #name):");
		await ui.press("1001", KEY.enter);
		await ui.waitFor(`Order #1001 · ${KEY_1001}`);
		expect(ops.calls).toEqual(["order #1001"]);
		stream.events(flow({ type: "pushed", sku: "HAT-1" }));
		await ui.press(KEY.esc);
		await ui.waitFor("paused · 1 new");
	});

	it("says when there is no such order", async () => {
		const { ui } = open({ orders: { "#9999": new OpsError(404, "unknown_order", "no order named #9999") } });
		await ui.press("o", "#9999", KEY.enter);
		await ui.waitFor('no order "#9999"');
		await ui.press(KEY.backspace);
		await ui.waitFor("Live");
	});

	it("reloads when the stream mentions the order, once per burst", async () => {
		let status = "reserved";
		const { ui, stream } = open({ orders: { [KEY_1001]: () => orderView({ status }) } });
		await ui.press("o", KEY_1001, KEY.enter);
		await ui.waitFor("· reserved");
		status = "routed";
		stream.events(flow({ type: "routed", orderKey: KEY_1001 }), flow({ type: "sent", orderKey: KEY_1001 }));
		stream.events(flow({ type: "accepted", orderKey: KEY_1001 }));
		stream.events(flow({ type: "received", orderKey: "shopify-demo:other" }));
		await ui.waitFor("· routed");
		await sleep(350);
		expect(ops.count(`order ${KEY_1001}`)).toBe(2);
	});
});

describe("SKU", () => {
	it("s opens a SKU: stock by location, per channel, recent audit, backorders, open reservations", async () => {
		const { ui } = open({ skus: { "BOOT-42": skuDetail() } });
		await ui.press("s");
		await ui.waitFor("SKU:");
		await ui.press("BOOT-42", KEY.enter);
		const frame = await ui.waitFor("Recent audit entries");
		expect(frame).toContain("on hand 10 · reserved 3 · available 7 · 1 backordered");
		expect(frame).toMatch(/wh-east\s+6\s+as of 09:00:00 \(feed\)/);
		expect(frame).toMatch(/shopify-outlet\s+2/);
		const lines = frame.split("\n");
		// Newest audit entry first, under a header that names the columns.
		const header = lines.findIndex((l) => /^\s+time\s+kind\s+location\s+±hand\s+±resv\s+hand\/resv\s+cause$/.test(l));
		const reserve = lines.findIndex((l) => /^\s+10:00:00 reserve\s+-\s+0\s+\+1\s+10\/3\s+shopify-demo:6100000001 L1$/.test(l));
		const receive = lines.findIndex((l) => /^\s+09:00:00 receive\s+wh-east\s+\+6\s+0\s+6\/0\s+feed=wms seq=17$/.test(l));
		expect(header).toBeGreaterThan(-1);
		expect(reserve).toBe(header + 1);
		expect(receive).toBe(reserve + 1);
		expect(frame).toContain("Reservations: 1 open · 2 committed · 1 released");
		const queue = lines.findIndex((l) => l.includes("Backorder queue (1)"));
		expect(queue).toBeGreaterThan(receive);
		expect(lines[queue + 1]).toContain("1. shopify-demo:6100000001 line L1 · waiting 1");
		expect(queue).toBeLessThan(lines.findIndex((l) => l.includes("Reservations:")));
		// Only the open reservation is listed; the others are counted.
		expect(frame).toContain("shopify-demo:6100000001 line L1 · 1 of 2 held · 1 short");
		expect(frame).not.toContain("6000000001");
	});

	it("Enter on an event with a SKU but no order opens the SKU, which reloads on its events", async () => {
		let available = 7;
		const { ui, stream } = open({ skus: { "BOOT-42": () => skuDetail({ available }) } });
		stream.events(flow({ type: "pushed", sku: "BOOT-42", detail: "shopify-demo 7" }));
		await ui.waitFor("pushed");
		await ui.press(KEY.up, KEY.enter);
		await ui.waitFor("available 7");
		available = 5;
		stream.events(flow({ type: "line.allocated", sku: "BOOT-42", orderKey: "shopify-demo:1" }));
		await ui.waitFor("available 5");
	});

	it("says when there is no such SKU", async () => {
		const { ui } = open({ skus: { NOPE: new OpsError(404, "unknown_sku", "no such SKU") } });
		await ui.press("s", "NOPE", KEY.enter);
		await ui.waitFor('no SKU "NOPE"');
	});
});
