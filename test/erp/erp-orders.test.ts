import { describe, expect, it } from "vitest";
import { CONNECTION, deliver, deliverCallbacks, eventually, newOrderId, order, ops, sandbox, stock, uniqueSku } from "../helpers";
import { addItem, cents, record, records } from "./netsuite";

// Every booked order becomes its own NetSuite transaction with lines, through the real client
// (TBA-signed SuiteTalk REST) and the sandbox NetSuite; then each shipment, refund and
// cancellation follows it there, once.

type View = {
	status: string | null;
	deliveries: Array<{ id: string; kind: string; status: string; attempts: number; lastError: string | null }>;
};
const view = async (key: string) => {
	const response = await ops(`/ops/orders/${encodeURIComponent(key)}`);
	return response.status === 404 ? null : ((await response.json()) as View);
};
const delivered = (id: string) => (v: View | null) => v?.deliveries.find((d) => d.id === id)?.status === "delivered";

const money = (amount: string) => ({ amount, currency_code: "USD" });
const set = (amount: string) => ({ shop_money: money(amount), presentment_money: money(amount) });

/** A Shopify order with a discount and tax on its first line, as the shop sends it. */
function discountedOrder(id: number, lines: Array<{ sku: string; quantity: number; price: string }>) {
	const body = order({ id, lines }) as unknown as Record<string, unknown> & { line_items: Array<Record<string, unknown>>; shipping_lines: Array<{ price: string }> };
	body.line_items[0]!.discount_allocations = [{ amount: "5.00", amount_set: set("5.00"), discount_application_index: 0 }];
	body.line_items[0]!.tax_lines = [{ title: "State tax", rate: 0.08, price: "2.00", price_set: set("2.00") }];
	body.tax_lines = [{ title: "State tax", rate: 0.08, price: "2.00", price_set: set("2.00") }];
	const subtotal = lines.reduce((n, l) => n + Number(l.price) * 100 * l.quantity, 0) - 500;
	const shipping = Number(body.shipping_lines[0]?.price ?? "0") * 100;
	const total = ((subtotal + shipping + 200) / 100).toFixed(2);
	for (const field of ["total_price", "current_total_price"]) {
		body[field] = total;
		body[`${field}_set`] = set(total);
	}
	body.total_tax = "2.00";
	body.current_total_tax = "2.00";
	return { body, total };
}

describe("orders into NetSuite", () => {
	it("books a Shopify order as a sales order with its lines, then fulfils and invoices its shipment and credits its refund", async () => {
		const [a, b] = [uniqueSku("erp-a"), uniqueSku("erp-b")];
		const [itemA, itemB] = [await addItem(a), await addItem(b)];
		await stock(a, 5);
		await stock(b, 5);
		const id = newOrderId();
		const key = `${CONNECTION}:${id}`;
		const { body, total } = discountedOrder(id, [{ sku: a, quantity: 2, price: "20.00" }, { sku: b, quantity: 1, price: "15.00" }]);
		await sandbox("/sandbox/orders", { json: body });
		expect((await deliver("orders/create", body)).status).toBe(200);
		await eventually(() => view(key), delivered("erp.order"), 15_000);

		const so = (await record("salesOrder", key))!;
		expect(so).toMatchObject({ entity: { id: "501" }, otherRefNum: body.name, currency: { refName: "USD" } });
		const lines = so.item!.items.map((l) => [l.item.id, l.quantity, cents(l.amount), l.custcol_ordersync_line]);
		const [lineA, lineB] = body.line_items.map((l) => String(l.id));
		expect(lines).toEqual([
			[itemA, 2, 4000, lineA],
			[itemB, 1, 1500, lineB],
			["901", 1, -500, "discount"],
			["900", 1, cents(Number(body.shipping_lines[0]!.price)), "shipping"],
			["902", 1, 200, "tax"],
		]);
		// The transaction adds up to the channel's total, to the cent.
		expect(cents(so.total)).toBe(Math.round(Number(total) * 100));

		// Shipped: one item fulfilment and one invoice, both from the sales order.
		await sandbox("/sandbox/shipbob/ship", { json: { match: key } });
		expect(await deliverCallbacks(key)).toEqual([200]);
		const shipped = await eventually(() => view(key), (v) => v?.deliveries.some((d) => d.kind === "erp.fulfillment" && d.status === "delivered") ?? false, 15_000);
		const shipmentId = shipped!.deliveries.find((d) => d.kind === "erp.fulfillment")!.id.slice("erp.fulfillment:".length);
		const fulfilment = (await record("itemFulfillment", `ful:${shipmentId}`))!;
		expect(fulfilment.createdFrom?.id).toBe(so.id);
		expect(fulfilment.item!.items.map((l) => [l.item.id, l.quantity])).toEqual([[itemA, 2], [itemB, 1]]);
		const invoice = (await record("invoice", `inv:${shipmentId}`))!;
		expect(invoice.createdFrom?.id).toBe(so.id);
		expect(cents(invoice.total)).toBe(cents(so.total)); // the first invoice bills discount, shipping and tax too

		// A refund of one unit of A: a credit memo against the sales order.
		const refund = {
			id: 880000 + (id % 1000),
			order_id: id,
			created_at: new Date().toISOString(),
			note: "damaged",
			restock: false,
			transactions: [{ id: 1, amount: "20.00", currency: "USD", kind: "refund", status: "success", gateway: "shopify_payments" }],
			refund_line_items: [{ id: 1, line_item_id: Number(lineA), quantity: 1, restock_type: "no_restock", location_id: 1, subtotal: "20.00", subtotal_set: set("20.00"), total_tax: "0.00", total_tax_set: set("0.00") }],
			order_adjustments: [],
		};
		expect((await deliver("refunds/create", refund)).status).toBe(200);
		await eventually(() => view(key), delivered(`erp.refund:${refund.id}`), 15_000);
		const memo = (await record("creditMemo", `cm:${key}:${refund.id}`))!;
		expect(memo).toMatchObject({ entity: { id: "501" }, createdFrom: { id: so.id } });
		expect(memo.item!.items.map((l) => [l.item.id, l.quantity, cents(l.amount)])).toEqual([[itemA, 1, 2000]]);

		// Nothing was booked twice.
		expect(await records("salesOrder", key)).toHaveLength(1);
	});

	it("closes the sales order of an order the channel cancels after it was booked", async () => {
		const sku = uniqueSku("erp-cancel");
		await addItem(sku);
		await stock(sku, 5);
		const id = newOrderId();
		const key = `${CONNECTION}:${id}`;
		const lines = [{ sku, quantity: 1, price: "30.00" }];
		await deliver("orders/create", order({ id, lines, updatedAt: "2026-11-26T10:00:00Z" }));
		await eventually(() => view(key), delivered("erp.order"), 15_000);
		await deliver("orders/cancelled", order({ id, lines, cancelled: true, updatedAt: "2026-11-26T10:05:00Z" }));
		await eventually(() => view(key), delivered("erp.close"), 15_000);
		const so = (await record("salesOrder", key))!;
		expect(so.item!.items.map((l) => l.isClosed)).toEqual([true, true]);
	});

	it("does not book an order the channel holds back (TikTok UNPAID) or cancels before it may ship", async () => {
		const id = newOrderId();
		const key = `${CONNECTION}:${id}`;
		const sku = uniqueSku("erp-never");
		await deliver("orders/cancelled", order({ id, lines: [{ sku, quantity: 1, price: "9.00" }], cancelled: true }));
		const cancelled = await eventually(() => view(key), (v) => v?.status === "cancelled");
		expect(cancelled!.deliveries.filter((d) => d.kind.startsWith("erp."))).toEqual([]);
		expect(await records("salesOrder", key)).toEqual([]);
	});

	it("dead-letters an order whose SKU NetSuite does not have, naming it; once the item exists a retry books it once", async () => {
		const sku = uniqueSku("erp-missing");
		await stock(sku, 5);
		const id = newOrderId();
		const key = `${CONNECTION}:${id}`;
		await deliver("orders/create", order({ id, lines: [{ sku, quantity: 1, price: "12.00" }] }));
		const dead = await eventually(() => view(key), (v) => v?.deliveries.find((d) => d.id === "erp.order")?.status === "dead", 15_000);
		expect(dead!.deliveries.find((d) => d.id === "erp.order")!.lastError).toBe(`NetSuite has no item named ${sku} (add it, or map it in ERP.items)`);
		const exceptionId = `delivery:${key}:erp.order`;
		const exception = (await (await ops(`/ops/exceptions/${encodeURIComponent(exceptionId)}`)).json()) as { kind: string; status: string };
		expect(exception).toMatchObject({ kind: "dead-letter", status: "open" });

		await addItem(sku);
		expect((await ops(`/ops/exceptions/${encodeURIComponent(exceptionId)}/replay`, { method: "POST" })).status).toBe(202);
		await eventually(() => view(key), delivered("erp.order"), 15_000);
		expect(await records("salesOrder", key)).toHaveLength(1);
	});

	it("keeps to the account's concurrency limit across all orders, and a lost answer or a 503 books nothing twice", async () => {
		const sku = uniqueSku("erp-burst");
		await addItem(sku);
		await stock(sku, 100);
		await sandbox("/sandbox/netsuite/config", { json: { concurrencyLimit: 5, latencyMs: 60 } });
		await sandbox("/sandbox/netsuite/stats", { method: "DELETE" });
		await sandbox("/sandbox/faults", { json: { target: "netsuite", kind: "lost-response", remaining: 1, ms: 1_000 } });
		await sandbox("/sandbox/faults", { json: { target: "netsuite", kind: "503", remaining: 2 } });
		try {
			const ids = Array.from({ length: 12 }, () => newOrderId());
			await Promise.all(ids.map((id) => deliver("orders/create", order({ id, lines: [{ sku, quantity: 1, price: "5.00" }] }))));
			for (const id of ids) await eventually(() => view(`${CONNECTION}:${id}`), delivered("erp.order"), 20_000);
			const stats = await sandbox<{ maxInFlight: number; rejected429: number }>("/sandbox/netsuite/stats");
			expect(stats.maxInFlight).toBeLessThanOrEqual(5);
			expect(stats.rejected429).toBe(0);
			for (const id of ids) expect(await records("salesOrder", `${CONNECTION}:${id}`)).toHaveLength(1);
			const fired = await sandbox<{ fired: Record<string, number> }>("/sandbox/faults");
			expect(fired.fired).toMatchObject({ "netsuite:lost-response": 1, "netsuite:503": 2 });
		} finally {
			await sandbox("/sandbox/faults", { method: "DELETE" });
			await sandbox("/sandbox/netsuite/config", { json: { latencyMs: 0 } });
		}
	});
});
