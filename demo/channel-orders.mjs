// Orders on the channels beyond Shopify, placed in the sandbox's TikTok Shop, Amazon and
// WooCommerce peers; each peer queues its own signed webhook, which the sandbox clock posts to
// ordersync a moment later, as the real platforms would. Their catalogues are seeded first, so
// ordersync's availability pushes land on every channel.
import order727 from "../test/fixtures/woocommerce/order-727.json" with { type: "json" };

async function call(sandboxUrl, path, body) {
	const response = await fetch(`${sandboxUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
	if (!response.ok) throw new Error(`sandbox ${path}: ${response.status} ${await response.text()}`);
	return response.json();
}

/** Every catalogue SKU listed on TikTok Shop, Amazon and WooCommerce (stock 0 until ordersync pushes). */
export async function listEverywhere(sandboxUrl, products) {
	for (const p of products) {
		await call(sandboxUrl, "/sandbox/tiktok/products", { title: p.title, skus: [{ sellerSku: p.sku, price: p.price }] });
		await call(sandboxUrl, "/sandbox/amazon/listings", { sku: p.sku, quantity: 0 });
	}
	await call(sandboxUrl, "/sandbox/woocommerce/products", { products: products.map((p) => ({ name: p.title, sku: p.sku, manage_stock: true, stock_quantity: 0 })) });
}

export const CHANNELS = ["tiktok", "amazon", "woocommerce"];

/** One order on `channel`; its webhook is queued at the peer. Returns the channel's order id. */
export async function placeOn(sandboxUrl, channel, lines) {
	switch (channel) {
		case "tiktok": {
			const { order } = await call(sandboxUrl, "/sandbox/tiktok/orders", { lines: lines.map((l) => ({ sellerSku: l.sku, quantity: l.quantity, price: l.price })) });
			await call(sandboxUrl, "/sandbox/tiktok/webhooks", { orderId: order.id, connection: "tiktok" });
			return order.id;
		}
		case "amazon": {
			const { notificationId, ...rest } = await call(sandboxUrl, "/sandbox/amazon/orders", {
				lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity, price: l.price })),
				notify: { connection: "amazon", envelope: "eventbridge" },
			});
			return rest.amazonOrderId ?? notificationId;
		}
		case "woocommerce": {
			// WooCommerce's documented order (test/fixtures) with the demo's lines in it.
			const lineItems = lines.map((l, i) => {
				const total = (Number(l.price) * l.quantity).toFixed(2);
				return { ...order727.line_items[0], id: 1000 + i, name: l.title, sku: l.sku, quantity: l.quantity, subtotal: total, total, subtotal_tax: "0.00", total_tax: "0.00", taxes: [] };
			});
			const { order } = await call(sandboxUrl, "/sandbox/woocommerce/orders", { order: { ...order727, line_items: lineItems } });
			await call(sandboxUrl, `/sandbox/woocommerce/orders/${order.id}/webhook`, { topic: "order.created", connection: "woocommerce" });
			return order.id;
		}
	}
}
