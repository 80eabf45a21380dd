// Realistic Shopify REST `Order` webhook bodies and their signed deliveries, shared by the demo
// traffic, the benchmark and the tests. Plain JavaScript with WebCrypto so it runs in Node and workerd.

const encoder = new TextEncoder();

/** @typedef {{ sku: string | null, quantity: number, price: string, title?: string }} DemoLine */

const FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia", "Donald", "Frances", "Tim"];
const LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Perlman", "Knuth", "Allen", "Berners-Lee"];
const CITIES = [
	["Portland", "Oregon", "OR", "97205", "US"],
	["Austin", "Texas", "TX", "78701", "US"],
	["Toronto", "Ontario", "ON", "M5V 2T6", "CA"],
	["Denver", "Colorado", "CO", "80202", "US"],
];

// Demo prices are two-decimal strings; the arithmetic stays in integer cents.
const cents = (decimal) => {
	const [whole, fraction = ""] = decimal.split(".");
	return BigInt(whole + fraction.padEnd(2, "0").slice(0, 2));
};
const decimal = (value) => {
	const digits = value.toString().padStart(3, "0");
	return `${digits.slice(0, -2)}.${digits.slice(-2)}`;
};
const times = (price, quantity) => decimal(cents(price) * BigInt(quantity));
const sum = (decimals) => decimal(decimals.reduce((acc, d) => acc + cents(d), 0n));

const set = (amount, currency) => ({
	shop_money: { amount, currency_code: currency },
	presentment_money: { amount, currency_code: currency },
});

/**
 * Builds an order as Shopify's orders/* webhooks deliver it.
 * @param {{ id: number, number?: number, lines: DemoLine[], updatedAt?: string, createdAt?: string,
 *   cancelled?: boolean, fulfilled?: boolean, currency?: string, seed?: number }} spec
 */
export function shopifyOrder(spec) {
	const currency = spec.currency ?? "USD";
	const seed = spec.seed ?? spec.id;
	const first = FIRST[seed % FIRST.length];
	const last = LAST[Math.floor(seed / FIRST.length) % LAST.length];
	const [city, province, provinceCode, zip, country] = CITIES[seed % CITIES.length];
	const createdAt = spec.createdAt ?? new Date().toISOString();
	const updatedAt = spec.updatedAt ?? createdAt;
	const number = spec.number ?? 1000 + (spec.id % 100000);
	const lineItems = spec.lines.map((line, i) => {
		const lineId = spec.id * 10 + i + 1;
		return {
			id: lineId,
			admin_graphql_api_id: `gid://shopify/LineItem/${lineId}`,
			variant_id: 40000000000 + i,
			product_id: 7000000000 + i,
			title: line.title ?? `Item ${line.sku ?? "custom"}`,
			variant_title: null,
			name: line.title ?? `Item ${line.sku ?? "custom"}`,
			sku: line.sku,
			vendor: "ordersync demo",
			quantity: line.quantity,
			current_quantity: spec.cancelled ? 0 : line.quantity,
			fulfillable_quantity: spec.cancelled || spec.fulfilled ? 0 : line.quantity,
			fulfillment_status: spec.fulfilled ? "fulfilled" : null,
			fulfillment_service: "manual",
			requires_shipping: true,
			taxable: true,
			gift_card: false,
			grams: 250,
			price: line.price,
			price_set: set(line.price, currency),
			total_discount: "0.00",
			total_discount_set: set("0.00", currency),
			discount_allocations: [],
			tax_lines: [],
			properties: [],
			product_exists: true,
			duties: [],
		};
	});
	const subtotal = sum(spec.lines.map((l) => times(l.price, l.quantity)));
	const shipping = "5.00";
	const total = sum([subtotal, shipping]);
	const address = {
		first_name: first,
		last_name: last,
		name: `${first} ${last}`,
		company: null,
		address1: `${100 + (seed % 900)} Demo Street`,
		address2: null,
		city,
		province,
		province_code: provinceCode,
		country: country === "US" ? "United States" : "Canada",
		country_code: country,
		zip,
		phone: null,
		latitude: null,
		longitude: null,
	};
	return {
		id: spec.id,
		admin_graphql_api_id: `gid://shopify/Order/${spec.id}`,
		app_id: 580111,
		browser_ip: "203.0.113.7",
		buyer_accepts_marketing: false,
		cancel_reason: spec.cancelled ? "customer" : null,
		cancelled_at: spec.cancelled ? updatedAt : null,
		closed_at: null,
		confirmation_number: `DEMO${spec.id % 1000000}`,
		confirmed: true,
		contact_email: `${first.toLowerCase()}.${last.toLowerCase()}@example.com`,
		created_at: createdAt,
		currency,
		current_subtotal_price: spec.cancelled ? "0.00" : subtotal,
		current_subtotal_price_set: set(spec.cancelled ? "0.00" : subtotal, currency),
		current_total_discounts: "0.00",
		current_total_price: spec.cancelled ? "0.00" : total,
		current_total_price_set: set(spec.cancelled ? "0.00" : total, currency),
		current_total_tax: "0.00",
		customer_locale: "en",
		discount_codes: [],
		email: `${first.toLowerCase()}.${last.toLowerCase()}@example.com`,
		estimated_taxes: false,
		financial_status: spec.cancelled ? "voided" : "paid",
		fulfillment_status: spec.fulfilled ? "fulfilled" : null,
		landing_site: "/",
		name: `#${number}`,
		note: null,
		note_attributes: [],
		number,
		order_number: number,
		order_status_url: `https://demo.example.com/orders/${spec.id}/authenticate`,
		phone: null,
		presentment_currency: currency,
		processed_at: createdAt,
		source_name: "web",
		subtotal_price: subtotal,
		subtotal_price_set: set(subtotal, currency),
		tags: "",
		tax_lines: [],
		taxes_included: false,
		test: false,
		token: `demo${spec.id}`,
		total_discounts: "0.00",
		total_discounts_set: set("0.00", currency),
		total_line_items_price: subtotal,
		total_line_items_price_set: set(subtotal, currency),
		total_price: total,
		total_price_set: set(total, currency),
		total_shipping_price_set: set(shipping, currency),
		total_tax: "0.00",
		total_tax_set: set("0.00", currency),
		total_weight: 250 * spec.lines.length,
		updated_at: updatedAt,
		billing_address: address,
		customer: {
			id: 6000000000 + seed,
			email: `${first.toLowerCase()}.${last.toLowerCase()}@example.com`,
			first_name: first,
			last_name: last,
			phone: null,
			state: "enabled",
			currency,
			admin_graphql_api_id: `gid://shopify/Customer/${6000000000 + seed}`,
		},
		discount_applications: [],
		fulfillments: [],
		line_items: lineItems,
		refunds: [],
		shipping_address: address,
		shipping_lines: [
			{
				id: spec.id * 10,
				title: "Standard",
				code: "STANDARD",
				source: "shopify",
				price: shipping,
				price_set: set(shipping, currency),
				discounted_price: shipping,
				discounted_price_set: set(shipping, currency),
				discount_allocations: [],
				tax_lines: [],
				carrier_identifier: null,
				requested_fulfillment_service_id: null,
			},
		],
	};
}

async function hmac(secret, body) {
	const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
	let binary = "";
	for (const byte of mac) binary += String.fromCharCode(byte);
	return btoa(binary);
}

/**
 * A webhook delivery as Shopify sends it: the raw JSON body and its headers, signed with the
 * connection's secret. Pass the same eventId again to simulate a redelivery.
 * @param {{ secret: string, topic: string, body: unknown, eventId?: string, shopDomain?: string, triggeredAt?: string }} options
 */
export async function signedDelivery(options) {
	const body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
	const eventId = options.eventId ?? crypto.randomUUID();
	return {
		body,
		headers: {
			"Content-Type": "application/json",
			"X-Shopify-Topic": options.topic,
			"X-Shopify-Hmac-Sha256": await hmac(options.secret, body),
			"X-Shopify-Shop-Domain": options.shopDomain ?? "ordersync-demo.myshopify.com",
			"X-Shopify-API-Version": "2026-10",
			"X-Shopify-Webhook-Id": crypto.randomUUID(),
			"X-Shopify-Event-Id": eventId,
			"X-Shopify-Triggered-At": options.triggeredAt ?? new Date().toISOString(),
		},
	};
}
