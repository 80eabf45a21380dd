// Orders on the channels beyond Shopify, placed in the sandbox's TikTok Shop, Amazon and
// WooCommerce peers and its EDI gateway; each peer queues its own signed webhook (the gateway: an
// 850 interchange with its bearer token), which the sandbox clock posts to ordersync a moment
// later, as the real platforms would. Their catalogues are seeded first, so ordersync's
// availability pushes land on every channel (the EDI retailer gets 846s and needs no catalogue).
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

export const CHANNELS = ["tiktok", "amazon", "woocommerce", "edi"];

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
			// Untaxed lines plus the fixture's shipping: the order's own totals must add up, as the ERP checks.
			const total = (lineItems.reduce((sum, l) => sum + Number(l.total), 0) + Number(order727.shipping_total)).toFixed(2);
			const totals = { total, total_tax: "0.00", cart_tax: "0.00", tax_lines: [] };
			const { order } = await call(sandboxUrl, "/sandbox/woocommerce/orders", { order: { ...order727, ...totals, line_items: lineItems } });
			await call(sandboxUrl, `/sandbox/woocommerce/orders/${order.id}/webhook`, { topic: "order.created", connection: "woocommerce" });
			return order.id;
		}
		case "edi":
			return placeEdiOrder(sandboxUrl, lines);
	}
}

// ————— EDI —————

/**
 * The retailer's item ids for the demo catalogue, as wrangler.toml's edi-retailer itemMap has them:
 * a UPC (PO1 qualifier UP) and our vendor part number (VN). A SKU not listed is ordered by VN =
 * the SKU itself, which the connection also accepts.
 */
export const EDI_ITEMS = {
	"TEE-BLK-S": { upc: "081234500016", vendorPart: "OS-1001" },
	"TEE-BLK-M": { upc: "081234500023", vendorPart: "OS-1002" },
	"TEE-BLK-L": { upc: "081234500030", vendorPart: "OS-1003" },
	"TEE-WHT-M": { upc: "081234500047", vendorPart: "OS-1004" },
	"HOOD-GRY-M": { upc: "081234500054", vendorPart: "OS-1005" },
	"HOOD-GRY-L": { upc: "081234500061", vendorPart: "OS-1006" },
	"CAP-NVY": { upc: "081234500078", vendorPart: "OS-1007" },
	"SOCK-3PK": { upc: "081234500085", vendorPart: "OS-1008" },
	"TOTE-NAT": { upc: "081234500092", vendorPart: "OS-1009" },
	"BEANIE-RED": { upc: "081234500108", vendorPart: "OS-1010" },
};

/** The retailer's stores a PO ships to (N1*ST with its store number, as retailers send them). */
const EDI_STORES = [
	{ name: "STORE 0042", code: "0042", address1: "1 MAIN ST", city: "ALBANY", state: "NY", zip: "12207", country: "US" },
	{ name: "STORE 0117", code: "0117", address1: "400 MARKET ST", city: "SAN FRANCISCO", state: "CA", zip: "94111", country: "US" },
	{ name: "STORE 0233", code: "0233", address1: "75 PEACHTREE ST", city: "ATLANTA", state: "GA", zip: "30303", country: "US" },
];

let ediSeq = 0;

/**
 * One purchase order from the EDI retailer: the sandbox gateway writes the 850 interchange (lines
 * by UPC or by our vendor part number, in turn) and queues it for ordersync's /webhooks/edi/edi-retailer.
 * Returns the PO number (the order's channel id).
 */
export async function placeEdiOrder(sandboxUrl, lines) {
	ediSeq++;
	const poNumber = `PO${Date.now().toString(36).toUpperCase()}${ediSeq}`;
	const shipTo = EDI_STORES[ediSeq % EDI_STORES.length];
	await call(sandboxUrl, "/sandbox/edi/purchase-order", {
		connection: "edi-retailer",
		poNumber,
		shipTo,
		lines: lines.map((l, i) => {
			const item = EDI_ITEMS[l.sku];
			const ids = !item ? [["VN", l.sku]] : (ediSeq + i) % 2 === 0 ? [["UP", item.upc]] : [["VN", item.vendorPart]];
			// PID05 in X12's basic character set: "Classic Tee — Black / M" → "CLASSIC TEE - BLACK / M".
			const title = l.title?.normalize("NFKD").replace(/[^\x20-\x7e]/g, "-").replace(/[*~>^|]/g, " ").toUpperCase();
			return { quantity: l.quantity, price: l.price, ids, ...(title ? { title } : {}) };
		}),
	});
	return poNumber;
}
