import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { availability, deliver, eventually, newOrderId, order, orderView, settled, stock, uniqueSku } from "./helpers";

describe("concurrent orders for one scarce SKU", () => {
	it("200 concurrent one-unit orders against 50 units: exactly 50 reserved, 150 backordered", async () => {
		const sku = uniqueSku("flash");
		await stock(sku, 50);
		const ids = Array.from({ length: 200 }, () => newOrderId());
		const responses = await Promise.all(ids.map((id) => deliver("orders/create", order({ id, lines: [{ sku, quantity: 1, price: "30.00" }] }))));
		expect(responses.every((r) => r.status === 200)).toBe(true);

		const views = await Promise.all(ids.map((id) => eventually(() => orderView(id), settled, 20_000)));
		const reserved = views.filter((v) => v!.status === "accepted"); // held in full, so routed and accepted by the 3PL
		const backordered = views.filter((v) => v!.status === "backordered");
		expect(reserved).toHaveLength(50);
		expect(backordered).toHaveLength(150);
		expect(views.reduce((sum, v) => sum + v!.lines[0]!.reserved, 0)).toBe(50);

		// The ledger agrees with the orders, and its invariants hold.
		const detail = await env.SKU_LEDGER.getByName(sku).detail(sku);
		const open = detail.reservations.filter((r) => r.status === "open");
		expect(open.reduce((sum, r) => sum + r.quantity, 0)).toBe(detail.reserved);
		expect(detail).toMatchObject({ onHand: 50, reserved: 50, available: 0 });
		expect(detail.reservations.every((r) => r.quantity >= 0 && r.quantity <= r.requested)).toBe(true);
		expect(await availability(sku)).toMatchObject({ available: 0, reserved: 50 });
	});
});
