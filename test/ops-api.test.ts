import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CONNECTION, call, deliver, eventually, newOrderId, ops, order, orderView, settled, stock, uniqueSku } from "./helpers";

describe("ops API", () => {
	it("refuses every ops route without the right bearer token", async () => {
		for (const path of ["/ops/orders/shopify-demo:1", "/ops/exceptions", "/ops/flows", "/ops/skus/x"]) {
			expect((await call(path)).status).toBe(401);
			expect((await call(path, { headers: { Authorization: "Bearer nope-nope-nope-nope" } })).status).toBe(401);
			expect((await call(path, { headers: { Authorization: "Basic abc" } })).status).toBe(401);
		}
		expect((await call("/ops/exceptions/x/replay", { method: "POST" })).status).toBe(401);
	});

	it("shows an order's canonical state, lines and event log; 404 for an unknown one", async () => {
		const sku = uniqueSku("view");
		await stock(sku, 3);
		const id = newOrderId();
		await deliver("orders/create", order({ id, lines: [{ sku, quantity: 1, price: "42.50" }] }));
		const view = await eventually(() => orderView(id), settled);
		expect(view).toMatchObject({ key: `${CONNECTION}:${id}`, status: "accepted", idle: true, order: { channelOrderId: String(id) } });
		expect((await ops(`/ops/orders/${CONNECTION}:${newOrderId()}`)).status).toBe(404);
		expect((await ops("/ops/orders/no-colon")).status).toBe(400);
	});

	it("shows a SKU's stock by location and its reservations", async () => {
		const sku = uniqueSku("skuview");
		await stock(sku, 4, "east");
		const id = newOrderId();
		await deliver("orders/create", order({ id, lines: [{ sku, quantity: 3, price: "1.00" }] }));
		await eventually(() => orderView(id), settled);
		const detail = await (await ops(`/ops/skus/${sku}`)).json();
		expect(detail).toMatchObject({
			sku,
			onHand: 4,
			reserved: 3,
			available: 1,
			locations: [{ location: "east", onHand: 4 }],
			reservations: [{ orderKey: `${CONNECTION}:${id}`, quantity: 3, requested: 3, status: "open" }],
		});
	});

	it("streams flow events after a cursor, so a console can resume without gaps", async () => {
		const before = (await (await ops("/ops/flows?after=0&limit=1000")).json()) as { cursor: number };
		const id = newOrderId();
		await deliver("orders/create", order({ id, lines: [{ sku: uniqueSku("flow"), quantity: 1, price: "1.00" }] }));
		const after = await eventually(
			async () => (await (await ops(`/ops/flows?after=${before.cursor}`)).json()) as { events: Array<{ cursor: number; type: string; orderKey?: string }>; cursor: number },
			(page) => page.events.some((e) => e.orderKey === `${CONNECTION}:${id}` && e.type === "backordered"),
		);
		expect(after.events.every((e) => e.cursor > before.cursor)).toBe(true);
		expect(after.events.find((e) => e.orderKey === `${CONNECTION}:${id}`)?.type).toBe("received");
		expect((await ops("/ops/flows?after=-1")).status).toBe(400);
	});

	it("replays a quarantined webhook after the mapping is fixed, once, and clears the exception", async () => {
		// An event quarantined by an older adapter that the current one reads fine.
		const id = newOrderId();
		const sku = uniqueSku("replay");
		await stock(sku, 2);
		const rawBody = JSON.stringify(order({ id, lines: [{ sku, quantity: 2, price: "15.00" }] }));
		const monitor = env.FLOW_MONITOR.getByName("global");
		const { id: exceptionId } = await monitor.quarantine({
			connection: CONNECTION,
			channel: "shopify",
			topic: "orders/create",
			eventId: `q-${id}`,
			triggeredAt: null,
			receivedAt: new Date().toISOString(),
			rawBody,
			reason: "line_items[0].sku: unmapped (old adapter)",
		});
		const replay = await ops(`/ops/exceptions/${encodeURIComponent(exceptionId)}/replay`, { method: "POST" });
		expect(replay.status).toBe(200);
		expect(await replay.json()).toMatchObject({ status: "replayed", order: `${CONNECTION}:${id}`, outcome: "applied" });
		const view = await eventually(() => orderView(id), settled);
		expect(view!.lines[0]).toMatchObject({ reserved: 2 });
		expect(view!.events.filter((e) => e.source === "inbound").map((e) => e.eventId)).toEqual([`q-${id}`]);

		const open = (await (await ops("/ops/exceptions")).json()) as { items: Array<{ id: string }> };
		expect(open.items.some((e) => e.id === exceptionId)).toBe(false);
		const again = await ops(`/ops/exceptions/${encodeURIComponent(exceptionId)}/replay`, { method: "POST" });
		expect(await again.json()).toMatchObject({ outcome: "duplicate" });
		expect((await orderView(id))!.events.filter((e) => e.source === "inbound")).toHaveLength(1);
	});

	it("keeps a still-invalid event quarantined on replay and says why", async () => {
		await deliver("orders/create", "[1, 2", { eventId: "replay-still-bad" });
		const list = (await (await ops("/ops/exceptions")).json()) as { items: Array<{ id: string; eventId: string }> };
		const item = list.items.find((e) => e.eventId === "replay-still-bad")!;
		const replay = await ops(`/ops/exceptions/${encodeURIComponent(item.id)}/replay`, { method: "POST" });
		expect(replay.status).toBe(422);
		expect(await replay.json()).toMatchObject({ error: { code: "still_invalid" } });
		const after = (await (await ops(`/ops/exceptions/${encodeURIComponent(item.id)}`)).json()) as { status: string; attempts: number };
		expect(after).toMatchObject({ status: "open", attempts: 1 });
	});
});
