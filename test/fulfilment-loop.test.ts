import { describe, expect, it } from "vitest";
import {
	CONNECTION,
	availability,
	call,
	deliver,
	deliverCallbacks,
	eventually,
	newOrderId,
	order,
	orderView,
	ops,
	sandbox,
	stock,
	uniqueSku,
} from "./helpers";

type ShipBobOrder = { referenceId: string; locationId: number | null; createAttempts: number; shipments: Array<{ trackingNumber: string }> };
type Fulfillment = { id: string; orderId: string; trackingInfo: Array<{ number: string }>; lineItems: Array<{ lineItemId: string; quantity: number }>; events: Array<{ status: string }> };
type View = NonNullable<Awaited<ReturnType<typeof orderView>>> & {
	routes: Array<{ referenceId: string; location: string; status: string }>;
	shipments: Array<{ shipmentId: string; trackingNumber: string; trackingStatus: string | null; location: string }>;
	deliveries: Array<{ id: string; kind: string; status: string; attempts: number; after: string | null }>;
};

const view = async (id: number) => (await orderView(id)) as View | null;
const shipbobOrders = (match: string) => sandbox<{ orders: ShipBobOrder[] }>(`/sandbox/shipbob/orders?match=${encodeURIComponent(match)}`).then((r) => r.orders);
const fulfillments = (id: number) => sandbox<{ fulfillments: Fulfillment[] }>(`/sandbox/fulfillments?order=${id}`).then((r) => r.fulfillments);

/** An order the sandbox shop knows (so fulfilments can be created on it), sent to ordersync as Shopify would. */
async function placeOrder(lines: Array<{ sku: string; quantity: number }>, seed?: number) {
	const id = newOrderId();
	const body = order({ id, seed, lines: lines.map((l) => ({ ...l, price: "10.00" })) });
	await sandbox("/sandbox/orders", { json: body });
	expect((await deliver("orders/create", body)).status).toBe(200);
	return { id, key: `${CONNECTION}:${id}`, body };
}

describe("the fulfilment loop", () => {
	it("takes an order from the channel to the 3PL, ships it, relays tracking and delivery back", async () => {
		const [a, b] = [uniqueSku("loop-a"), uniqueSku("loop-b")];
		await stock(a, 5, "wh-east");
		await stock(b, 5, "wh-east");
		const { id, key } = await placeOrder([{ sku: a, quantity: 2 }, { sku: b, quantity: 1 }]);

		// Reserved, routed to the one location holding both, accepted by the 3PL.
		const accepted = await eventually(() => view(id), (v) => v?.status === "accepted");
		expect(accepted!.routes).toEqual([expect.objectContaining({ referenceId: `${key}/wh-east`, location: "wh-east", status: "accepted" })]);
		const [created] = await shipbobOrders(key);
		expect(created).toMatchObject({ referenceId: `${key}/wh-east`, locationId: 10, createAttempts: 1 });

		// The warehouse ships it; the signed ship notice comes back.
		await sandbox("/sandbox/shipbob/ship", { json: { match: key } });
		expect(await deliverCallbacks(key)).toEqual([200]);
		const fulfilled = await eventually(() => view(id), (v) => v?.status === "fulfilled" && v.deliveries.every((d) => d.status === "delivered"));
		const [shipment] = fulfilled!.shipments;
		expect(shipment).toMatchObject({ location: "wh-east" });
		expect(fulfilled!.lines.map((l) => [l.shipped, l.committed])).toEqual([[2, 2], [1, 1]]);
		// Units left the building at wh-east: on hand 5 → 3 and 4, nothing held any more.
		expect(await availability(a)).toMatchObject({ onHand: 3, reserved: 0 });
		expect(await availability(b)).toMatchObject({ onHand: 4, reserved: 0 });

		// The channel got one fulfilment with the tracking number, for both lines.
		const [fulfillment] = await fulfillments(id);
		expect(fulfillment!.trackingInfo[0]!.number).toBe(shipment!.trackingNumber);
		expect(fulfillment!.lineItems.map((l) => l.quantity).sort()).toEqual([1, 2]);
		expect(fulfilled!.deliveries.map((d) => d.kind).sort()).toEqual(["3pl.order", "channel.fulfillment", "parcel.link", "tracking.register"]);
		expect(fulfilled!.deliveries.find((d) => d.kind === "channel.fulfillment")!.after).toBe("3pl.order:wh-east");

		// The carrier moves the parcel; delivered reaches the order and the channel.
		await sandbox("/sandbox/easypost/advance", { json: { match: shipment!.trackingNumber, status: "in_transit" } });
		await sandbox("/sandbox/easypost/advance", { json: { match: shipment!.trackingNumber, status: "delivered" } });
		expect(await deliverCallbacks(shipment!.trackingNumber)).toEqual([200, 200]);
		const delivered = await eventually(() => view(id), (v) => v?.status === "delivered" && v.deliveries.filter((d) => d.kind === "channel.tracking").every((d) => d.status === "delivered"));
		expect(delivered!.shipments[0]!.trackingStatus).toBe("delivered");
		const events = await eventually(() => fulfillments(id), (f) => f[0]!.events.some((e) => e.status === "DELIVERED"));
		expect(events[0]!.events.map((e) => e.status)).toEqual(["IN_TRANSIT", "DELIVERED"]);
	});

	it("fulfils a bundle on the channel once its parts, shipped in two parcels, are all out", async () => {
		await stock("TEE-BLK-M", 5, "wh-east");
		await stock("CAP-NVY", 5, "wh-east");
		const { id, key, body } = await placeOrder([{ sku: "GIFT-SET", quantity: 1 }]);
		await eventually(() => view(id), (v) => v?.status === "accepted");
		// The warehouse ships the shirt in one parcel and the cap in another.
		await sandbox("/sandbox/shipbob/ship", { json: { match: key, split: true } });
		expect(await deliverCallbacks(key)).toEqual([200, 200]);
		const fulfilled = await eventually(() => view(id), (v) => v?.status === "fulfilled" && v.deliveries.every((d) => d.status === "delivered"));
		expect(fulfilled!.shipments).toHaveLength(2);
		// One fulfilment, with the parcel that completed the set: the channel's line, once.
		const channel = await fulfillments(id);
		expect(channel).toHaveLength(1);
		expect(channel[0]!.lineItems).toEqual([{ lineItemId: expect.stringMatching(new RegExp(`${String(body.line_items[0]!.id)}$`)), quantity: 1 }]);
	});

	it("splits an order across locations only when no single one holds it, and ships each part", async () => {
		const [a, b] = [uniqueSku("split-a"), uniqueSku("split-b")];
		await stock(a, 3, "wh-east");
		await stock(b, 3, "wh-west");
		const { id, key } = await placeOrder([{ sku: a, quantity: 1 }, { sku: b, quantity: 2 }]);
		const routed = await eventually(() => view(id), (v) => v?.status === "accepted");
		expect(routed!.routes.map((r) => r.location).sort()).toEqual(["wh-east", "wh-west"]);
		expect((await shipbobOrders(key)).map((o) => o.locationId).sort()).toEqual([10, 20]);

		// One part ships first: the order is partially fulfilled, then fulfilled with two fulfilments.
		await sandbox("/sandbox/shipbob/ship", { json: { match: `${key}/wh-west` } });
		await deliverCallbacks(key);
		await eventually(() => view(id), (v) => v?.status === "partially_fulfilled");
		await sandbox("/sandbox/shipbob/ship", { json: { match: `${key}/wh-east` } });
		await deliverCallbacks(key);
		await eventually(() => view(id), (v) => v?.status === "fulfilled");
		await eventually(() => fulfillments(id), (f) => f.length === 2);
		expect((await availability(b)).onHand).toBe(1);
	});

	it("holds an order no location can ship as an exception, and routes it when stock arrives", async () => {
		const sku = uniqueSku("unroutable");
		// The units sit in a store's back room, which counts for availability but ships nothing.
		await stock(sku, 3, "store-soho");
		const { id, key } = await placeOrder([{ sku, quantity: 2 }]);
		const waiting = await eventually(() => view(id), (v) => (v as unknown as { routing?: { status: string } })?.routing?.status === "unroutable");
		expect(waiting!.status).toBe("reserved");
		const exception = await eventually(
			async () => (await (await ops(`/ops/exceptions/${encodeURIComponent(`route:${key}`)}`)).json()) as { kind: string; status: string; reason: string },
			(e) => e.status === "open",
		);
		expect(exception).toMatchObject({ kind: "unroutable" });
		expect(exception.reason).toContain(sku);
		expect(await shipbobOrders(key)).toEqual([]);

		// Stock arrives at a warehouse: the ledger tells the waiting order, which routes at once.
		await stock(sku, 2, "wh-west");
		const routed = await eventually(() => view(id), (v) => v?.status === "accepted");
		expect(routed!.routes.map((r) => r.location)).toEqual(["wh-west"]);
		await eventually(
			async () => (await (await ops(`/ops/exceptions/${encodeURIComponent(`route:${key}`)}`)).json()) as { status: string },
			(e) => e.status === "resolved",
		);
	});

	it("cancels the 3PL order when the channel cancels before shipment", async () => {
		const sku = uniqueSku("cancel");
		await stock(sku, 4, "wh-east");
		const { id, key, body } = await placeOrder([{ sku, quantity: 1 }]);
		await eventually(() => view(id), (v) => v?.status === "accepted");
		const cancelled = order({ id, lines: [{ sku, quantity: 1, price: "10.00" }], cancelled: true, updatedAt: new Date(Date.parse(body.updated_at) + 1000).toISOString() });
		expect((await deliver("orders/cancelled", cancelled)).status).toBe(200);
		const done = await eventually(() => view(id), (v) => v?.status === "cancelled" && v.routes[0]?.status === "cancelled");
		expect(done!.deliveries.find((d) => d.kind === "3pl.cancel")).toMatchObject({ status: "delivered", after: "3pl.order:wh-east" });
		expect((await shipbobOrders(key))[0]).toMatchObject({ cancelled: true });
		expect(await availability(sku)).toMatchObject({ onHand: 4, reserved: 0 });
	});

	it("ships part of an order, then on cancellation releases what is still held and keeps what shipped committed", async () => {
		const sku = uniqueSku("partial-cancel");
		await stock(sku, 10, "wh-east");
		const { id, key, body } = await placeOrder([{ sku, quantity: 4 }]);
		await eventually(() => view(id), (v) => v?.status === "accepted");
		// Split: a first parcel with part of the units; its notice arrives twice.
		await sandbox("/sandbox/callbacks/misbehave", { json: { duplicateRate: 1 } });
		await sandbox("/sandbox/shipbob/ship", { json: { match: key, split: true } });
		const { callbacks } = await sandbox<{ callbacks: Array<{ path: string; headers: Record<string, string>; body: string }> }>("/sandbox/callbacks/drain", { json: { match: key } });
		await sandbox("/sandbox/callbacks/misbehave", { json: {} });
		const first = callbacks[0]!;
		const statuses = [];
		for (const cb of callbacks.filter((c) => c.body === first.body)) {
			statuses.push(((await (await call(cb.path, { method: "POST", headers: cb.headers, body: cb.body })).json()) as { shipments: Array<{ status: string }> }).shipments[0]!.status);
		}
		expect(statuses).toEqual(["applied", "duplicate"]);
		const partial = await eventually(() => view(id), (v) => v?.status === "partially_fulfilled");
		const shipped = partial!.lines[0]!.shipped;
		expect(shipped).toBeGreaterThan(0);
		expect(shipped).toBeLessThan(4);
		await eventually(() => availability(sku), (a) => a.onHand === 10 - shipped && a.reserved === 4 - shipped);

		const cancelled = order({ id, lines: [{ sku, quantity: 4, price: "10.00" }], cancelled: true, updatedAt: new Date(Date.parse(body.updated_at) + 1000).toISOString() });
		await deliver("orders/cancelled", cancelled);
		await eventually(() => view(id), (v) => v?.status === "cancelled");
		// Units that shipped stay shipped; the rest go back to sale.
		expect(await eventually(() => availability(sku), (a) => a.reserved === 0)).toMatchObject({ onHand: 10 - shipped, available: 10 - shipped });
	});

	it("keeps a carrier event that arrives before its ship notice, and applies it once the shipment is known", async () => {
		const sku = uniqueSku("early-tracking");
		await stock(sku, 3, "wh-east");
		const { id, key } = await placeOrder([{ sku, quantity: 1 }]);
		await eventually(() => view(id), (v) => v?.status === "accepted");
		const { shipped } = await sandbox<{ shipped: Array<{ shipments: Array<{ trackingNumber: string }> }> }>("/sandbox/shipbob/ship", { json: { match: key } });
		const code = shipped[0]!.shipments[0]!.trackingNumber;
		// The carrier knows the parcel (ordersync has not registered it yet) and reports it delivered first.
		await fetch("http://127.0.0.1:8789/easypost/v2/trackers", {
			method: "POST",
			headers: { Authorization: `Basic ${btoa("EZTK_test:")}`, "Content-Type": "application/json" },
			body: JSON.stringify({ tracker: { tracking_code: code, carrier: "USPS" } }),
		});
		await sandbox("/sandbox/easypost/advance", { json: { match: code, status: "delivered" } });
		expect(await deliverCallbacks(code)).toEqual([200]);
		expect((await view(id))!.status).toBe("accepted");
		expect(await deliverCallbacks(key)).toEqual([200]);
		await eventually(() => view(id), (v) => v?.status === "delivered");
	});

	it("dead-letters a delivery the 3PL refuses, shows its attempts, and retries it with a corrected payload", async () => {
		const sku = uniqueSku("dead");
		await stock(sku, 2, "wh-east");
		// An order with no street address: ShipBob refuses it (400), which no retry can fix.
		const id = newOrderId();
		const body = { ...order({ id, lines: [{ sku, quantity: 1, price: "10.00" }] }), shipping_address: null };
		await sandbox("/sandbox/orders", { json: body });
		await deliver("orders/create", body);
		const key = `${CONNECTION}:${id}`;
		const exceptionId = `delivery:${key}:3pl.order:wh-east`;
		const path = `/ops/exceptions/${encodeURIComponent(exceptionId)}`;
		type DeadLetter = { kind: string; status: string; reason: string; delivery: { status: string; attempts: number; payload: Record<string, unknown>; history: Array<{ ok: boolean; error?: string; retryable?: boolean }> } };
		const dead = await eventually(async () => (await ops(path)).json() as Promise<DeadLetter>, (e) => e.status === "open");
		expect(dead.kind).toBe("dead-letter");
		expect(dead.delivery.status).toBe("dead");
		expect(dead.delivery.history).toEqual([expect.objectContaining({ ok: false, retryable: false })]);
		expect(dead.delivery.history[0]!.error).toContain("address1");

		// An edit may not change what the 3PL dedupes on.
		const payload = dead.delivery.payload as { referenceId: string; recipient: Record<string, unknown> };
		const renamed = await ops(`${path}/replay`, { method: "POST", body: JSON.stringify({ payload: { ...payload, referenceId: "other" } }) });
		expect(renamed.status).toBe(409);

		// The operator adds the address and retries: delivered, and the exception clears itself.
		const fixed = { ...payload, recipient: { ...payload.recipient, name: "Ada Lovelace", address1: "1 Main St", city: "Austin", provinceCode: "TX", countryCode: "US", zip: "78701" } };
		const retried = await ops(`${path}/replay`, { method: "POST", body: JSON.stringify({ payload: fixed }) });
		expect(retried.status).toBe(202);
		await eventually(async () => (await ops(path)).json() as Promise<DeadLetter>, (e) => e.status === "resolved" && e.delivery.status === "delivered");
		expect(await shipbobOrders(key)).toEqual([expect.objectContaining({ createAttempts: 1 })]); // the refused create made no order
		await eventually(() => view(id), (v) => v?.status === "accepted");
	});

	it("retries many dead letters at once by kind and text, and cancels one for good", async () => {
		const sku = uniqueSku("bulk-dead");
		await stock(sku, 5, "wh-east");
		const ids = [newOrderId(), newOrderId()];
		for (const id of ids) {
			const body = { ...order({ id, lines: [{ sku, quantity: 1, price: "10.00" }] }), shipping_address: null };
			await deliver("orders/create", body);
		}
		const exceptionIds = ids.map((id) => `delivery:${CONNECTION}:${id}:3pl.order:wh-east`);
		const read = (id: string) => ops(`/ops/exceptions/${encodeURIComponent(id)}`).then((r) => r.json() as Promise<{ status: string; attempts: number; delivery: { status: string; history: unknown[] } }>);
		for (const id of exceptionIds) await eventually(() => read(id), (e) => e.status === "open" && e.delivery.status === "dead");

		// The address is still missing, so both fail again: each retried once more and dead again.
		const bulk = await ops("/ops/exceptions/replay", { method: "POST", body: JSON.stringify({ kind: "dead-letter", text: `${CONNECTION}:${ids[0]}` }) });
		expect(((await bulk.json()) as { total: number; succeeded: number }).total).toBe(1);
		const both = await ops("/ops/exceptions/replay", { method: "POST", body: JSON.stringify({ ids: exceptionIds }) });
		const answer = (await both.json()) as { total: number; succeeded: number; results: Array<{ id: string; status: string; httpStatus: number }> };
		expect(answer).toMatchObject({ total: 2, succeeded: 2 });
		expect(answer.results).toEqual(exceptionIds.map((id) => expect.objectContaining({ id, ok: true, httpStatus: 202, status: "retrying" })));
		for (const id of exceptionIds) await eventually(() => read(id), (e) => e.delivery.status === "dead" && e.delivery.history.length >= 2);

		const cancelled = await ops(`/ops/exceptions/${encodeURIComponent(exceptionIds[0]!)}/cancel`, { method: "POST" });
		expect(cancelled.status).toBe(200);
		expect(await read(exceptionIds[0]!)).toMatchObject({ status: "resolved", delivery: { status: "cancelled" } });
		// A cancelled delivery can still be sent again by an operator who changes their mind.
		expect((await ops(`/ops/exceptions/${encodeURIComponent(exceptionIds[0]!)}/replay`, { method: "POST" })).status).toBe(202);
		expect((await ops("/ops/exceptions/replay", { method: "POST", body: JSON.stringify({}) })).status).toBe(400);
	});

	it("retries 5xx and 429 answers with backoff, and reports each destination's circuit", async () => {
		const sku = uniqueSku("flaky");
		await stock(sku, 2, "wh-east");
		await sandbox("/sandbox/faults", { json: { target: "shipbob", kind: "503", remaining: 1 } });
		await sandbox("/sandbox/faults", { json: { target: "shipbob", kind: "429", remaining: 1 } });
		const { id, key } = await placeOrder([{ sku, quantity: 1 }]);
		const accepted = await eventually(() => view(id), (v) => v?.status === "accepted", 15_000);
		const create = accepted!.deliveries.find((d) => d.kind === "3pl.order")! as unknown as { attempts: number; history: Array<{ ok: boolean }> };
		expect(create.attempts).toBeGreaterThanOrEqual(2);
		expect((await shipbobOrders(key)).length).toBe(1);
		const listed = (await (await ops("/ops/destinations")).json()) as { items: Array<{ destination: string; circuit: string; limit: number }> };
		expect(listed.items).toContainEqual(expect.objectContaining({ destination: "3pl:shipbob", limit: 5 }));
	});
});
