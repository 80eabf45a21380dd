import { describe, expect, it } from "vitest";
import order727 from "./fixtures/woocommerce/order-727.json";
import { call, deliverCallbacks, eventually, ops, sandbox, stock, uniqueSku } from "./helpers";

// Orders from TikTok Shop, Amazon and WooCommerce (EDI: edi-loop.test.ts) through the same objects as Shopify's: the
// channel's own webhook (signed by its sandbox peer) → the order → reserved, routed, sent to the
// 3PL → shipped → the shipment relayed back to the channel in its own protocol.

type Callback = { path: string; headers: Record<string, string>; body: string };
type View = {
	status: string | null;
	order: { channel: string; channelOrderName: string; lines: Array<{ sku: string | null; quantity: number }> } | null;
	shipments: Array<{ trackingNumber: string | null }>;
	deliveries: Array<{ kind: string; status: string }>;
	events: Array<{ source: string; type: string; outcome: string | null }>;
};

const view = async (key: string) => {
	const response = await ops(`/ops/orders/${encodeURIComponent(key)}`);
	return response.status === 404 ? null : ((await response.json()) as View);
};
const post = (callback: Callback) => call(callback.path, { method: "POST", headers: callback.headers, body: callback.body });
const settledAll = (v: View | null) => v !== null && v.deliveries.length > 0 && v.deliveries.every((d) => d.status === "delivered");

/** The warehouse ships the order's 3PL order; the ship notice comes back; every delivery settles. */
async function ship(key: string) {
	await sandbox("/sandbox/shipbob/ship", { json: { match: key } });
	expect(await deliverCallbacks(key)).toEqual([200]);
	const shipped = await eventually(() => view(key), (v) => v?.status === "fulfilled" && settledAll(v), 15_000);
	return shipped!.shipments[0]!.trackingNumber!;
}

describe("orders from every channel", () => {
	it("TikTok Shop: the notification names the order, ordersync fetches it, and the package goes back shipped with its tracking", async () => {
		const sku = uniqueSku("tt");
		await stock(sku, 5, "wh-east");
		const { order } = await sandbox<{ order: { id: string } }>("/sandbox/tiktok/orders", { json: { lines: [{ sellerSku: sku, quantity: 2, price: "12.50" }] } });
		const { webhook } = await sandbox<{ webhook: Callback }>("/sandbox/tiktok/webhooks", { json: { orderId: order.id, deliver: "return" } });
		expect((await post(webhook)).status).toBe(200);
		// TikTok redelivers: nothing changes.
		expect(await (await post(webhook)).json()).toMatchObject({ status: "duplicate" });

		const key = `tiktok:${order.id}`;
		const accepted = await eventually(() => view(key), (v) => v?.status === "accepted", 15_000);
		expect(accepted!.order).toMatchObject({ channel: "tiktok", lines: [{ sku, quantity: 2 }] });
		expect(accepted!.events.filter((e) => e.source === "inbound").map((e) => e.outcome)).toEqual(["fetching", "applied"]);

		const tracking = await ship(key);
		const { order: after } = await sandbox<{ order: { status: string; line_items: Array<{ tracking_number?: string; package_id?: string }> } }>(`/sandbox/tiktok/orders/${order.id}`);
		expect(after.line_items.every((item) => item.tracking_number === tracking)).toBe(true);
	});

	it("Amazon: an ORDER_CHANGE from the EventBridge destination, getOrder + getOrderItems, then confirmShipment", async () => {
		const sku = uniqueSku("amz");
		await stock(sku, 5, "wh-east");
		const { callback } = await sandbox<{ callback: Callback }>("/sandbox/amazon/orders", {
			json: { lines: [{ sku, quantity: 3, price: "9.99" }], notify: { connection: "amazon", deliver: "return", envelope: "eventbridge" } },
		});
		const wrongKey = await call(callback.path, { method: "POST", headers: { ...callback.headers, "x-api-key": "not-the-key" }, body: callback.body });
		expect(wrongKey.status).toBe(401);
		expect((await post(callback)).status).toBe(200);
		const amazonOrderId = (JSON.parse(callback.body) as { detail: { Payload: { OrderChangeNotification: { AmazonOrderId: string } } } }).detail.Payload.OrderChangeNotification.AmazonOrderId;

		const key = `amazon:${amazonOrderId}`;
		const accepted = await eventually(() => view(key), (v) => v?.status === "accepted", 15_000);
		expect(accepted!.order).toMatchObject({ channel: "amazon", channelOrderName: amazonOrderId, lines: [{ sku, quantity: 3 }] });

		const tracking = await ship(key);
		const confirmed = await sandbox<{ order: { OrderStatus: string }; packages: Array<{ trackingNumber: string }> }>(`/sandbox/amazon/orders/${amazonOrderId}`);
		expect(confirmed.order.OrderStatus).toBe("Shipped");
		expect(confirmed.packages.map((p) => p.trackingNumber)).toEqual([tracking]);
	});

	it("Amazon: a Pending order is held but not shipped until Amazon says Unshipped", async () => {
		const sku = uniqueSku("amz-pending");
		await stock(sku, 5, "wh-east");
		const { callback, amazonOrderId } = await sandbox<{ callback: Callback; amazonOrderId: string }>("/sandbox/amazon/orders", {
			json: { status: "Pending", lines: [{ sku, quantity: 1, price: "4.00" }], notify: { connection: "amazon", deliver: "return" } },
		});
		expect((await post(callback)).status).toBe(200);
		const key = `amazon:${amazonOrderId}`;
		const held = await eventually(() => view(key), (v) => v?.status === "reserved" && v.deliveries.every((d) => d.status === "delivered"), 15_000);
		expect(held!.deliveries.map((d) => d.kind)).toEqual(["channel.fetch"]);

		const cleared = await sandbox<{ callback: Callback }>(`/sandbox/amazon/orders/${amazonOrderId}/status`, { json: { status: "Unshipped", notify: { connection: "amazon", deliver: "return" } } });
		expect((await post(cleared.callback)).status).toBe(200);
		await eventually(() => view(key), (v) => v?.status === "accepted", 15_000);
	});

	it("WooCommerce: the whole order in a signed webhook; the shipment goes back as tracking and completed", async () => {
		const sku = uniqueSku("woo");
		await stock(sku, 5, "wh-east");
		const line = { ...order727.line_items[0]!, sku, quantity: 2, subtotal: "20.00", total: "20.00", subtotal_tax: "0.00", total_tax: "0.00", taxes: [] };
		const { order } = await sandbox<{ order: { id: number } }>("/sandbox/woocommerce/orders", { json: { order: { ...order727, line_items: [line] } } });
		const { delivery } = await sandbox<{ delivery: Callback }>(`/sandbox/woocommerce/orders/${order.id}/webhook`, { json: { topic: "order.created", enqueue: false } });
		expect((await post(delivery)).status).toBe(200);

		const key = `woocommerce:${order.id}`;
		const accepted = await eventually(() => view(key), (v) => v?.status === "accepted", 15_000);
		expect(accepted!.order).toMatchObject({ channel: "woocommerce", lines: [{ sku, quantity: 2 }] });

		const tracking = await ship(key);
		const store = await sandbox<{ order: { status: string }; notes: Array<{ note: string }> }>(`/sandbox/woocommerce/orders/${order.id}`);
		expect(store.order.status).toBe("completed");
		expect(store.notes.filter((n) => n.note.includes(tracking))).toHaveLength(1);
	});

	it("moves one SKU's availability on every channel at once", async () => {
		const sku = uniqueSku("every");
		await sandbox("/sandbox/variants", { json: { skus: [sku] } });
		const { product } = await sandbox<{ product: { id: string } }>("/sandbox/tiktok/products", { json: { skus: [{ sellerSku: sku }] } });
		await sandbox("/sandbox/amazon/listings", { json: { sku, quantity: 0 } });
		await sandbox("/sandbox/woocommerce/products", { json: { products: [{ name: "Every channel tee", sku, manage_stock: true, stock_quantity: 0 }] } });

		const everywhere = async () => {
			const [shop, tiktok, amazon, woo, edi] = await Promise.all([
				sandbox<{ items: Array<{ sku: string; locationId: string; available: number }> }>("/sandbox/inventory").then(
					(r) => r.items.find((i) => i.sku === sku && i.locationId === "gid://shopify/Location/80001")?.available,
				),
				sandbox<{ product: { skus: Array<{ seller_sku: string; inventory: Array<{ quantity: number }> }> } }>(`/sandbox/tiktok/products/${product.id}`).then((r) => r.product.skus[0]!.inventory[0]!.quantity),
				sandbox<{ attributes: { fulfillment_availability: Array<{ quantity: number }> } }>(`/sandbox/amazon/listings/${sku}`).then((r) => r.attributes.fulfillment_availability[0]!.quantity),
				sandbox<{ products: Array<{ stock_quantity: number | null }> }>(`/sandbox/woocommerce/products?sku=${sku}`).then((r) => r.products[0]!.stock_quantity),
				// The EDI retailer's gateway: QTY02 of the latest 846 naming the SKU (VN, as nothing maps it).
				sandbox<{ documents: Array<{ groups: Array<{ sets: Array<{ segments: string[][] }> }> }> }>(`/sandbox/edi/documents?type=846&match=${encodeURIComponent(`*VN*${sku}~`)}`).then((r) => {
					const qty = r.documents.at(-1)?.groups[0]?.sets[0]?.segments.find((segment) => segment[0] === "QTY" && segment[1] === "33");
					return qty ? Number(qty[2]) : undefined;
				}),
			]);
			return { shop, tiktok, amazon, woo, edi };
		};
		await stock(sku, 10, "wh-east");
		expect(await eventually(everywhere, (n) => Object.values(n).every((q) => q === 10), 15_000)).toEqual({ shop: 10, tiktok: 10, amazon: 10, woo: 10, edi: 10 });

		// A TikTok order takes 3: every channel shows 7.
		const { order } = await sandbox<{ order: { id: string } }>("/sandbox/tiktok/orders", { json: { lines: [{ sellerSku: sku, quantity: 3, price: "5.00" }] } });
		const { webhook } = await sandbox<{ webhook: Callback }>("/sandbox/tiktok/webhooks", { json: { orderId: order.id, deliver: "return" } });
		expect((await post(webhook)).status).toBe(200);
		expect(await eventually(everywhere, (n) => Object.values(n).every((q) => q === 7), 15_000)).toEqual({ shop: 7, tiktok: 7, amazon: 7, woo: 7, edi: 7 });
	});
});
