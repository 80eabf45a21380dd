import { describe, expect, it } from "vitest";
import { availability, deliver, eventually, newOrderId, order, orderView, settled, stock, uniqueSku } from "./helpers";

const at = (minutes: number) => new Date(Date.UTC(2026, 10, 27, 9, minutes)).toISOString();

describe("an order's life in its OrderFlow", () => {
	it("reserves every line of a multi-line order on each SKU's ledger", async () => {
		const [a, b] = [uniqueSku("hoodie"), uniqueSku("socks")];
		await stock(a, 10);
		await stock(b, 3);
		const id = newOrderId();
		await deliver("orders/create", order({ id, lines: [{ sku: a, quantity: 2, price: "60.00" }, { sku: b, quantity: 3, price: "8.00" }, { sku: null, quantity: 1, price: "2.00" }] }));
		const view = await eventually(() => orderView(id), settled);
		// Held in full, then routed to the warehouse and accepted by the 3PL.
		expect(view!.status).toBe("accepted");
		expect(view!.lines.map((l) => [l.sku, l.reserved, l.backordered])).toEqual([[a, 2, 0], [b, 3, 0]]);
		expect(await availability(a)).toMatchObject({ onHand: 10, reserved: 2, available: 8 });
		expect(await availability(b)).toMatchObject({ onHand: 3, reserved: 3, available: 0 });
		expect(view!.events.map((e) => e.type)).toEqual(["orders/create", "reserved", "routed", "accepted"]);
	});

	it("backorders what stock cannot cover, and does not drop the line", async () => {
		const sku = uniqueSku("scarce");
		await stock(sku, 2);
		const id = newOrderId();
		await deliver("orders/create", order({ id, lines: [{ sku, quantity: 5, price: "10.00" }] }));
		const view = await eventually(() => orderView(id), settled);
		expect(view!.status).toBe("backordered");
		expect(view!.lines[0]).toMatchObject({ target: 5, reserved: 2, backordered: 3 });
		expect(await availability(sku)).toMatchObject({ available: 0, reserved: 2 });
	});

	it("releases the units when the order is cancelled", async () => {
		const sku = uniqueSku("cancel");
		await stock(sku, 5);
		const id = newOrderId();
		const lines = [{ sku, quantity: 4, price: "10.00" }];
		await deliver("orders/create", order({ id, lines, updatedAt: at(0) }));
		await eventually(() => orderView(id), settled);
		expect((await availability(sku)).available).toBe(1);

		await deliver("orders/cancelled", order({ id, lines, cancelled: true, updatedAt: at(5) }));
		const view = await eventually(() => orderView(id), (v) => v?.status === "cancelled");
		expect(view!.lines[0]).toMatchObject({ op: "release", reserved: 0, pending: false });
		expect(await availability(sku)).toMatchObject({ available: 5, reserved: 0 });
	});

	it("commits shipped units when the order is fulfilled: reservation consumed, on-hand reduced", async () => {
		const sku = uniqueSku("ship");
		await stock(sku, 6);
		const id = newOrderId();
		const lines = [{ sku, quantity: 2, price: "10.00" }];
		await deliver("orders/create", order({ id, lines, updatedAt: at(0) }));
		await eventually(() => orderView(id), settled);
		await deliver("orders/fulfilled", order({ id, lines, fulfilled: true, updatedAt: at(9) }));
		const view = await eventually(() => orderView(id), (v) => v?.status === "fulfilled");
		expect(view!.lines[0]).toMatchObject({ op: "commit", committed: 2 });
		expect(await availability(sku)).toMatchObject({ onHand: 4, reserved: 0, available: 4 });

		// A late duplicate-with-new-id of the same version commits nothing twice.
		await deliver("orders/updated", order({ id, lines, fulfilled: true, updatedAt: at(9) }));
		await eventually(() => orderView(id), settled);
		expect(await availability(sku)).toMatchObject({ onHand: 4, reserved: 0 });
	});

	it("takes orders/updated before orders/create, and never lets an older version win", async () => {
		const sku = uniqueSku("ooo");
		await stock(sku, 10);
		const id = newOrderId();
		const v1 = order({ id, lines: [{ sku, quantity: 1, price: "5.00" }], updatedAt: at(0) });
		const v2 = order({ id, lines: [{ sku, quantity: 3, price: "5.00" }], updatedAt: at(2) });

		expect(await (await deliver("orders/updated", v2)).json()).toMatchObject({ status: "applied" });
		expect(await (await deliver("orders/create", v1)).json()).toMatchObject({ status: "stale" });
		const view = await eventually(() => orderView(id), settled);
		expect(view!.order!.sourceUpdatedAt).toBe(at(2));
		expect(view!.lines[0]).toMatchObject({ target: 3, reserved: 3 });
		expect(view!.events.filter((e) => e.source === "inbound").map((e) => [e.type, e.outcome])).toEqual([
			["orders/updated", "applied"],
			["orders/create", "stale"],
		]);
		expect((await availability(sku)).reserved).toBe(3);
	});

	it("an edit that lowers a quantity releases the difference", async () => {
		const sku = uniqueSku("edit");
		await stock(sku, 10);
		const id = newOrderId();
		await deliver("orders/create", order({ id, lines: [{ sku, quantity: 4, price: "5.00" }], updatedAt: at(0) }));
		await eventually(() => orderView(id), settled);
		await deliver("orders/updated", order({ id, lines: [{ sku, quantity: 1, price: "5.00" }], updatedAt: at(3) }));
		await eventually(() => orderView(id), (v) => settled(v) && v!.lines[0]!.reserved === 1);
		expect(await availability(sku)).toMatchObject({ reserved: 1, available: 9 });
	});

	it("a refund that restocks unshipped units releases them, once, even before the order update", async () => {
		const sku = uniqueSku("refund");
		await stock(sku, 10);
		const id = newOrderId();
		const created = order({ id, lines: [{ sku, quantity: 3, price: "20.00" }], updatedAt: at(0) });
		await deliver("orders/create", created);
		await eventually(() => orderView(id), settled);
		const lineId = String(created.line_items[0]!.id);
		const refund = {
			id: 9_100_000 + (id % 1000),
			admin_graphql_api_id: `gid://shopify/Refund/${9_100_000 + (id % 1000)}`,
			order_id: id,
			created_at: at(4),
			processed_at: at(4),
			note: "customer changed their mind",
			restock: true,
			user_id: null,
			order_adjustments: [],
			transactions: [{ id: 1, amount: "20.00", currency: "USD", kind: "refund", status: "success", gateway: "shopify_payments" }],
			refund_line_items: [
				{
					id: 1,
					line_item_id: Number(lineId),
					quantity: 1,
					restock_type: "cancel",
					location_id: 1,
					subtotal: "20.00",
					subtotal_set: { shop_money: { amount: "20.00", currency_code: "USD" }, presentment_money: { amount: "20.00", currency_code: "USD" } },
					total_tax: "0.00",
					total_tax_set: { shop_money: { amount: "0.00", currency_code: "USD" }, presentment_money: { amount: "0.00", currency_code: "USD" } },
				},
			],
		};
		expect((await deliver("refunds/create", refund)).status).toBe(200);
		await eventually(() => orderView(id), (v) => settled(v) && v!.lines[0]!.reserved === 2);
		expect((await availability(sku)).reserved).toBe(2);
	});

	it("keeps every version's raw payload in the event log for audit and replay", async () => {
		const id = newOrderId();
		const sku = uniqueSku("audit");
		await deliver("orders/create", order({ id, lines: [{ sku, quantity: 1, price: "1.00" }], updatedAt: at(0) }), { eventId: `a-${id}` });
		await deliver("orders/updated", order({ id, lines: [{ sku, quantity: 2, price: "1.00" }], updatedAt: at(1) }), { eventId: `b-${id}` });
		const view = await eventually(() => orderView(id), settled);
		const inbound = view!.events.filter((e) => e.source === "inbound");
		expect(inbound.map((e) => e.eventId)).toEqual([`a-${id}`, `b-${id}`]);
		expect(JSON.parse(inbound[1]!.body).line_items[0].quantity).toBe(2);
	});
});
