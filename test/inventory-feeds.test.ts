import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { availability, call, deliver, eventually, newOrderId, ops, order, orderView, settled, stock, uniqueSku } from "./helpers";

const post = (path: string, body: unknown) => ops(path, { method: "POST", body: JSON.stringify(body) });
const skuDetail = async (sku: string) =>
	(await (await ops(`/ops/skus/${sku}`)).json()) as {
		onHand: number;
		reserved: number;
		available: number;
		locations: Array<{ location: string; onHand: number }>;
		backorders: Array<{ position: number; orderKey: string; waiting: number }>;
		gaps: Array<{ source: string; expected: number; parked: number[] }>;
		audit: Array<{ kind: string; onHandDelta: number; reservedDelta: number; onHandAfter: number; reservedAfter: number; cause: Record<string, unknown> }>;
	};
const openExceptions = async () => ((await (await ops("/ops/exceptions")).json()) as { items: Array<{ id: string; kind: string; reason: string }> }).items;

describe("inventory deltas with per-source sequence numbers", () => {
	it("applies deltas in sequence, ignores a duplicate, and parks a gap as an exception until it is filled", async () => {
		const sku = uniqueSku("delta");
		const first = await post("/v1/inventory/deltas", { source: "wms", items: [{ sku, location: "east", delta: 10, seq: 1 }, { sku, location: "east", delta: -2, seq: 2 }] });
		expect(await first.json()).toMatchObject({ applied: 2, duplicate: 0, gap: 0 });
		expect((await availability(sku)).onHand).toBe(8);

		const dup = await post("/v1/inventory/deltas", { source: "wms", items: [{ sku, location: "east", delta: -2, seq: 2 }] });
		expect(await dup.json()).toMatchObject({ applied: 0, duplicate: 1 });
		expect((await availability(sku)).onHand).toBe(8);

		const ahead = await post("/v1/inventory/deltas", { source: "wms", items: [{ sku, location: "east", delta: 5, seq: 4 }] });
		expect(await ahead.json()).toMatchObject({ gap: 1, results: [{ status: "gap", expected: 3 }] });
		expect((await availability(sku)).onHand).toBe(8);
		expect((await skuDetail(sku)).gaps).toEqual([{ source: "wms", expected: 3, parked: [4] }]);
		expect((await openExceptions()).find((e) => e.id === `gap:${sku}:wms`)).toMatchObject({ kind: "gap" });

		const fill = await post("/v1/inventory/deltas", { source: "wms", items: [{ sku, location: "east", delta: 1, seq: 3 }] });
		expect(await fill.json()).toMatchObject({ applied: 1 });
		expect((await availability(sku)).onHand).toBe(14);
		expect((await skuDetail(sku)).gaps).toEqual([]);
		expect((await openExceptions()).some((e) => e.id === `gap:${sku}:wms`)).toBe(false);
	});

	it("keeps separate sequences per source and never takes a location below zero", async () => {
		const sku = uniqueSku("sources");
		await post("/v1/inventory/deltas", { source: "a", items: [{ sku, location: "east", delta: 3, seq: 100 }] });
		await post("/v1/inventory/deltas", { source: "b", items: [{ sku, location: "east", delta: -5, seq: 7 }] });
		const detail = await skuDetail(sku);
		expect(detail.onHand).toBe(0);
		expect(detail.audit[0]).toMatchObject({ kind: "delta", onHandDelta: -3, onHandAfter: 0, cause: { source: "b", seq: 7 } });
	});

	it("rejects malformed deltas with a 400 naming the field", async () => {
		const response = await post("/v1/inventory/deltas", { source: "w", items: [{ sku: "x", location: "e", delta: 0, seq: 1 }] });
		expect(response.status).toBe(400);
		expect(((await response.json()) as { error: { message: string } }).error.message).toContain("items[0].delta");
		expect((await call("/v1/inventory/deltas", { method: "POST", body: "{}" })).status).toBe(401);
	});
});

describe("the audit trail", () => {
	it("explains today's number: every change with its cause", async () => {
		const sku = uniqueSku("audit");
		await stock(sku, 5, "east", "2026-11-27T08:00:00.000Z");
		const id = newOrderId();
		await deliver("orders/create", order({ id, lines: [{ sku, quantity: 2, price: "1.00" }] }));
		await eventually(() => orderView(id), settled);
		await post(`/ops/skus/${sku}/adjustments`, { location: "east", delta: -1, operator: "maria@brand.example", reason: "damaged in handling" });

		const detail = await skuDetail(sku);
		expect(detail).toMatchObject({ onHand: 4, reserved: 2, available: 2 });
		const trail = [...detail.audit].reverse().map((e) => [e.kind, e.onHandDelta, e.reservedDelta, e.onHandAfter, e.reservedAfter]);
		expect(trail).toEqual([
			["snapshot", 5, 0, 5, 0],
			["reserve", 0, 2, 5, 2],
			["adjust", -1, 0, 4, 2],
		]);
		expect(detail.audit[2]!.cause).toEqual({ source: "test-wms", asOf: "2026-11-27T08:00:00.000Z" });
		expect(detail.audit[1]!.cause).toMatchObject({ orderKey: `shopify-demo:${id}` });
		expect(detail.audit[0]!.cause).toEqual({ operator: "maria@brand.example", reason: "damaged in handling" });
	});
});

describe("returns and snapshots with shipments in flight", () => {
	it("restocks a return at the receiving location once per receipt", async () => {
		const sku = uniqueSku("return");
		await stock(sku, 1, "east");
		const body = { source: "3pl", items: [{ receiptId: `rma-${sku}`, sku, location: "west", quantity: 2 }] };
		expect(await (await post("/v1/inventory/returns", body)).json()).toMatchObject({ results: [{ status: "applied" }] });
		expect(await (await post("/v1/inventory/returns", body)).json()).toMatchObject({ results: [{ status: "duplicate" }] });
		const detail = await skuDetail(sku);
		expect(detail.locations).toEqual([expect.objectContaining({ location: "east", onHand: 1 }), expect.objectContaining({ location: "west", onHand: 2 })]);
	});

	it("does not count twice the units that shipped after a snapshot's count was taken", async () => {
		const sku = uniqueSku("inflight");
		await stock(sku, 10, "east", new Date(Date.now() - 60_000).toISOString());
		const ledger = env.SKU_LEDGER.getByName(sku);
		await ledger.reserve({ orderKey: "c:1", lineId: "1", sku, quantity: 3 });
		await ledger.commit({ orderKey: "c:1", lineId: "1", sku, commitId: "ship-1", quantity: 3, location: "east" });
		expect((await ledger.availability(sku)).onHand).toBe(7);
		// The WMS counted 10 just before the parcel left; its snapshot arrives afterwards.
		await stock(sku, 10, "east", new Date(Date.now() - 30_000).toISOString());
		expect((await ledger.availability(sku)).onHand).toBe(7);
		// A count taken after the shipment already reflects it.
		await stock(sku, 7, "east", new Date(Date.now() + 1_000).toISOString());
		expect((await ledger.availability(sku)).onHand).toBe(7);
	});
});

describe("backorders", () => {
	it("wait in FIFO order and get units automatically when stock arrives; their orders move on", async () => {
		const sku = uniqueSku("fifo");
		await stock(sku, 1, "east", "2026-11-27T08:00:00Z");
		const ids = [newOrderId(), newOrderId(), newOrderId()];
		for (const id of ids) {
			await deliver("orders/create", order({ id, lines: [{ sku, quantity: 2, price: "1.00" }] }));
			await eventually(() => orderView(id), settled);
		}
		expect((await skuDetail(sku)).backorders.map((b) => [b.orderKey.split(":")[1], b.waiting])).toEqual([
			[String(ids[0]), 1],
			[String(ids[1]), 2],
			[String(ids[2]), 2],
		]);

		// A delivery of 4: the first order is completed, the second completed, the third waits.
		await stock(sku, 5, "east", "2026-11-27T09:00:00Z");
		const first = await eventually(() => orderView(ids[0]!), (v) => v?.status === "reserved");
		expect(first!.lines[0]).toMatchObject({ reserved: 2, backordered: 0 });
		await eventually(() => orderView(ids[1]!), (v) => v?.status === "reserved");
		const third = await orderView(ids[2]!);
		expect(third).toMatchObject({ status: "backordered" });
		expect(third!.lines[0]).toMatchObject({ reserved: 1, backordered: 1 });
		const detail = await skuDetail(sku);
		expect(detail).toMatchObject({ onHand: 5, reserved: 5, available: 0 });
		expect(detail.backorders).toEqual([{ position: 1, orderKey: `shopify-demo:${ids[2]}`, lineId: expect.any(String), waiting: 1 }]);
	});

	it("a cancellation frees units for the next backorder in line", async () => {
		const sku = uniqueSku("handover");
		await stock(sku, 2, "east");
		const [a, b] = [newOrderId(), newOrderId()];
		const lines = [{ sku, quantity: 2, price: "1.00" }];
		await deliver("orders/create", order({ id: a, lines, updatedAt: "2026-11-27T10:00:00Z" }));
		await eventually(() => orderView(a), settled);
		await deliver("orders/create", order({ id: b, lines }));
		await eventually(() => orderView(b), (v) => v?.status === "backordered");
		await deliver("orders/cancelled", order({ id: a, lines, cancelled: true, updatedAt: "2026-11-27T10:05:00Z" }));
		await eventually(() => orderView(b), (v) => v?.status === "reserved");
		expect(await availability(sku)).toMatchObject({ reserved: 2, available: 0 });
	});
});
