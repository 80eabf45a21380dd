/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	fetchWooCommerceOrder,
	parseWooCommerceChange,
	pushWooCommerceAvailability,
	readWooCommerceHeaders,
	relayWooCommerceFulfillment,
	signWooCommerceBody,
	verifyWooCommerceWebhook,
	WooCommerceAccount,
	wooCommerceEventId,
	wooCommercePing,
	wpSpecialcharsDecode,
} from "../worker/connectors/woocommerce";
import type { ChannelFulfillment } from "../worker/model/fulfillment";
import type { CanonicalOrder } from "../worker/model/order";
import order727 from "./fixtures/woocommerce/order-727.json";
import order727Cancelled from "./fixtures/woocommerce/order-727-cancelled.json";
import order727Refunded from "./fixtures/woocommerce/order-727-refunded.json";
import order727Body from "./fixtures/woocommerce/order-727.webhook-body.txt?raw";
import orderDeleted from "./fixtures/woocommerce/order-deleted.json";
import orderUpdated from "./fixtures/woocommerce/order-updated-coupon-fee-refund.json";

// Every outbound fetch from the test worker reaches the sandbox (vitest.config.ts), whatever the host.
const sandbox = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:8789${path}`, init);
const post = (path: string, body: unknown) => sandbox(path, { method: "POST", body: JSON.stringify(body) });

const CONNECTION = "woo-test";
const WEBHOOK_SECRET = env.WOO_WEBHOOK_SECRET as string;
const account = WooCommerceAccount.parse({
	storeUrl: "https://woo-sandbox.example",
	// SANDBOX_WOO_CONSUMER_KEY in vitest.config.ts: the key is not a secret, so the worker has no binding for it.
	consumerKey: "ck_test_0123456789abcdef",
	consumerSecretSecret: "WOO_CONSUMER_SECRET",
	endpoint: "http://127.0.0.1:8789/woocommerce",
});
const credentials = { consumerSecret: env.WOO_CONSUMER_SECRET as string };
const options = { timeoutMs: 5_000 };
const usd = (amount: number) => ({ amount, currency: "USD" });

function headers(signature: string, extra: Record<string, string> = {}): Headers {
	return new Headers({ "X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": signature, ...extra });
}

describe("WooCommerce webhook signatures", () => {
	// WooCommerce publishes no test vector. These three are from the vendor notes (woocommerce.md §1.6):
	// computed with Node crypto and cross-checked there with `openssl dgst -sha256 -hmac <secret> -binary | base64`;
	// recomputed with openssl for this test. The algorithm is WC_Webhook::generate_signature():
	// base64_encode(hash_hmac('sha256', $payload, wp_specialchars_decode($secret, ENT_QUOTES), true)).
	const vectors = [
		{ body: '{"id":727,"status":"processing"}', signature: "rr34I16Oy10eBgD7D9dL5LPE3+d7zhIUvEC0CpLqKas=" },
		{ body: '{"id":727}', signature: "y7+pKpcE5eHfR7xRcC1xl1NH0GiqGlilBh2SvZZsHuc=" },
		{
			body: '{"id":727,"number":"727","status":"processing","total":"29.35","billing":{"email":"john.doe@example.com"},"_links":{"self":[{"href":"https:\\/\\/example.com\\/wp-json\\/wc\\/v3\\/orders\\/727"}]}}',
			signature: "CidT8PFZqaMDdU0YopApA86iOHXdpe3Db+9bVQxRcAA=",
		},
	];

	it("reproduces and accepts the vendor notes' vectors, as text and as bytes", async () => {
		for (const { body, signature } of vectors) {
			expect(await signWooCommerceBody("whsec_test_secret", body)).toBe(signature);
			expect(await verifyWooCommerceWebhook("whsec_test_secret", headers(signature), body)).toBe(true);
			expect(await verifyWooCommerceWebhook("whsec_test_secret", headers(` ${signature} `), new TextEncoder().encode(body))).toBe(true);
		}
	});

	it("accepts the documented order 727 as PHP sends it (escaped slashes), signed with the sandbox secret", async () => {
		// printf the fixture through `openssl dgst -sha256 -hmac woo_test_webhook_secret -binary | base64`.
		const signature = "iYcED41ecA2PPRALfUOj2Plx+1wHdoSInlpIwECMdwM=";
		expect(order727Body).toContain('"href":"https:\\/\\/example.com\\/wp-json\\/wc\\/v3\\/orders\\/727"');
		expect(await verifyWooCommerceWebhook(WEBHOOK_SECRET, headers(signature), order727Body)).toBe(true);
		// Parsed and re-serialized, the body is other bytes: the signature covers the raw body only.
		expect(await verifyWooCommerceWebhook(WEBHOOK_SECRET, headers(signature), JSON.stringify(JSON.parse(order727Body)))).toBe(false);
	});

	it("rejects a tampered body, a wrong secret, a missing, empty, truncated or non-base64 signature", async () => {
		const { body, signature } = vectors[0]!;
		expect(await verifyWooCommerceWebhook("whsec_test_secret", headers(signature), body.replace("processing", "completed"))).toBe(false);
		expect(await verifyWooCommerceWebhook("whsec_test_secret", headers(signature), `${body} `)).toBe(false);
		expect(await verifyWooCommerceWebhook("whsec_other_secret", headers(signature), body)).toBe(false);
		expect(await verifyWooCommerceWebhook("", headers(signature), body)).toBe(false);
		expect(await verifyWooCommerceWebhook("whsec_test_secret", new Headers({ "X-WC-Webhook-Topic": "order.updated" }), body)).toBe(false);
		expect(await verifyWooCommerceWebhook("whsec_test_secret", headers(""), body)).toBe(false);
		expect(await verifyWooCommerceWebhook("whsec_test_secret", headers(signature.slice(0, 40)), body)).toBe(false);
		expect(await verifyWooCommerceWebhook("whsec_test_secret", headers("not base64!"), body)).toBe(false);
		// A hex digest (what some other platforms send) is not WooCommerce's base64.
		expect(await verifyWooCommerceWebhook("whsec_test_secret", headers("aebdf8235e8ecb5d1e0600fb0fd74be4b3c4dfe77bce1214bc40b40a92ea29aa"), body)).toBe(false);
	});

	it("keys the HMAC with the secret after wp_specialchars_decode, as WooCommerce does", async () => {
		// openssl with the decoded key "a&b'c"; with the stored form "a&amp;b&#039;c" it would be WocRunvk….
		const decoded = "b1C4XzfsGAx3RSvpnndrqKHZTZSeL7swIFD15UxupkI=";
		expect(await signWooCommerceBody("a&amp;b&#039;c", '{"id":727}')).toBe(decoded);
		expect(await verifyWooCommerceWebhook("a&amp;b&#039;c", headers(decoded), '{"id":727}')).toBe(true);
		expect(await verifyWooCommerceWebhook("a&b'c", headers(decoded), '{"id":727}')).toBe(true);
		expect(wpSpecialcharsDecode("&lt;&gt;&amp;&quot;&#039;&#39;&#x27;&#X26;&#0060;&amp;amp;&nbsp;&#x3c;")).toBe("<>&\"'''&<&amp;&nbsp;&#x3c;");
	});
});

describe("WooCommerce delivery headers, event ids and the activation ping", () => {
	it("reads the topic, resource, event, webhook and delivery ids; the docs' X-WC-Delivery-ID too", () => {
		const sent = new Headers({
			"X-WC-Webhook-Source": "https://shop.example.com/",
			"X-WC-Webhook-Topic": "order.created",
			"X-WC-Webhook-Resource": "order",
			"X-WC-Webhook-Event": "created",
			"X-WC-Webhook-Signature": "sig",
			"X-WC-Webhook-ID": "42",
			"X-WC-Webhook-Delivery-ID": "b5a3c1e0f9d8c7b6a5f4e3d2c1b0a998",
		});
		expect(readWooCommerceHeaders(sent)).toEqual({
			source: "https://shop.example.com/",
			topic: "order.created",
			resource: "order",
			event: "created",
			signature: "sig",
			webhookId: "42",
			deliveryId: "b5a3c1e0f9d8c7b6a5f4e3d2c1b0a998",
		});
		expect(readWooCommerceHeaders(new Headers({ "X-WC-Delivery-ID": "1234" })).deliveryId).toBe("1234");
		expect(readWooCommerceHeaders(new Headers()).topic).toBeNull();
	});

	it("event ids: the delivery id with a body digest, so two deliveries in one second do not collide", async () => {
		const sameSecond = new Headers({ "X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Delivery-ID": "d41d8cd98f00b204e9800998ecf8427e" });
		const first = await wooCommerceEventId(sameSecond, '{"id":5,"status":"processing"}');
		const second = await wooCommerceEventId(sameSecond, '{"id":5,"status":"completed"}');
		expect(first).toMatch(/^d41d8cd98f00b204e9800998ecf8427e:[0-9a-f]{16}$/);
		expect(second).not.toBe(first);
		expect(await wooCommerceEventId(sameSecond, '{"id":5,"status":"processing"}')).toBe(first);
		expect(await wooCommerceEventId(new Headers({ "X-WC-Webhook-Topic": "order.updated" }), "{}")).toMatch(/^sha256:[0-9a-f]{64}$/);
	});

	it("detects the unsigned ping (webhook_id=N, no topic) and nothing else", async () => {
		expect(wooCommercePing(new Headers(), "webhook_id=42")).toEqual({ webhookId: "42" });
		expect(wooCommercePing(new Headers({ "Content-Type": "application/x-www-form-urlencoded" }), new TextEncoder().encode("webhook_id=7\n"))).toEqual({ webhookId: "7" });
		expect(wooCommercePing(new Headers({ "X-WC-Webhook-Topic": "order.created" }), "webhook_id=42")).toBeNull();
		expect(wooCommercePing(new Headers(), '{"id":727}')).toBeNull();
		expect(wooCommercePing(new Headers(), "webhook_id=42&x=1")).toBeNull();
		expect(wooCommercePing(new Headers(), "webhook_id=")).toBeNull();

		const { delivery } = (await (await post("/sandbox/woocommerce/ping", { webhookId: 31 })).json()) as { delivery: { headers: Record<string, string>; body: string } };
		expect(wooCommercePing(new Headers(delivery.headers), delivery.body)).toEqual({ webhookId: "31" });
	});
});

const expected727: CanonicalOrder = {
	connection: CONNECTION,
	channel: "woocommerce",
	channelOrderId: "727",
	channelOrderName: "727",
	currency: "USD",
	lines: [
		{
			channelLineId: "315",
			sku: null,
			title: "Woo Single #1",
			quantity: 2,
			unitPrice: usd(300),
			discounts: [],
			taxes: [{ title: "State Tax", amount: usd(45) }],
			requiresShipping: true,
		},
		{
			channelLineId: "316",
			sku: "Bar3",
			title: "Ship Your Idea \u2013 Color: Black, Size: M Test",
			quantity: 1,
			unitPrice: usd(1200),
			discounts: [],
			taxes: [{ title: "State Tax", amount: usd(90) }],
			requiresShipping: true,
		},
	],
	shippingLines: [{ channelLineId: "317", title: "Flat Rate", code: "flat_rate", price: usd(1000), discounts: [], taxes: [] }],
	taxes: [{ title: "State Tax", amount: usd(135) }],
	taxesIncluded: false,
	discounts: [],
	subtotal: usd(1800),
	total: usd(2935),
	customer: { email: "john.doe@example.com", name: "John Doe", phone: "(555) 555-5555" },
	shipTo: { name: "John Doe", address1: "969 Market", city: "San Francisco", provinceCode: "CA", countryCode: "US", zip: "94103" },
	financialStatus: "paid",
	fulfillmentStatus: "unfulfilled",
	cancelledAt: null,
	refunds: [],
	createdAt: "2017-03-22T19:28:02.000Z",
	sourceUpdatedAt: "2017-03-22T19:28:08.000Z",
};

function order(topic: string, body: unknown): CanonicalOrder {
	const result = parseWooCommerceChange(topic, body, CONNECTION);
	if (!result.ok || !("change" in result)) throw new Error(`expected an order change, got ${JSON.stringify(result)}`);
	if (result.change.kind !== "order") throw new Error(`expected an order change, got ${result.change.kind}`);
	return result.change.order;
}

function edited<T>(fixture: T, edit: (body: any) => void): unknown {
	const copy = structuredClone(fixture);
	edit(copy);
	return copy;
}

describe("WooCommerce order normalization", () => {
	it("normalizes the docs' full order 727 (order.created)", () => {
		expect(order("order.created", order727)).toStrictEqual(expected727);
	});

	it("normalizes an order.updated with a coupon, a fee, rated taxes, unrounded item taxes and a partial refund", () => {
		const tax = (amount: number) => ({ title: "Sales Tax", rate: "0.08875", amount: usd(amount) });
		expect(order("order.updated", orderUpdated)).toStrictEqual({
			connection: CONNECTION,
			channel: "woocommerce",
			channelOrderId: "4182",
			channelOrderName: "4182",
			currency: "USD",
			lines: [
				{
					channelLineId: "401",
					sku: "BEANIE-SET",
					title: "Merino Beanie & Scarf Set",
					quantity: 2,
					unitPrice: usd(2000),
					discounts: [{ code: "spring10", title: "spring10", amount: usd(400) }],
					// taxes[].total is "3.195" (stored unrounded): half up to the cent.
					taxes: [tax(320)],
					requiresShipping: true,
				},
				{
					channelLineId: "402",
					sku: "MUG-SAGE",
					title: "Caf\u00e9 Mug \u2013 Colour: Sage",
					quantity: 3,
					// subtotal 25.00 for 3: 8.333… a unit, rounded; `price` (7.5, a float of total/qty) is never read.
					unitPrice: usd(833),
					discounts: [{ code: "spring10", title: "spring10", amount: usd(250) }],
					taxes: [tax(200)],
					requiresShipping: true,
				},
				{
					channelLineId: "404",
					sku: null,
					title: "Gift wrap",
					quantity: 1,
					unitPrice: usd(250),
					discounts: [],
					taxes: [tax(22)],
					requiresShipping: false,
				},
			],
			shippingLines: [{ channelLineId: "403", title: "Flat rate", code: "flat_rate", price: usd(500), discounts: [], taxes: [tax(44)] }],
			taxes: [tax(586)],
			taxesIncluded: false,
			discounts: [{ code: "spring10", amount: usd(650) }],
			subtotal: usd(6100),
			total: usd(7186),
			customer: { channelCustomerId: "12", email: "zoe.ortega@example.com", name: "Zo\u00eb Ortega", phone: "+1 718 555 0142" },
			shipTo: {
				name: "Zo\u00eb Ortega",
				company: "Ortega Design",
				address1: "22 Fulton St",
				address2: "Apt 4B",
				city: "Brooklyn",
				provinceCode: "NY",
				countryCode: "US",
				zip: "11201",
				phone: "+1 718 555 0199",
			},
			financialStatus: "partially_refunded",
			fulfillmentStatus: "unfulfilled",
			cancelledAt: null,
			// The order's refund summary has no date and no lines: dated by this version, no lines.
			refunds: [{ channelRefundId: "735", createdAt: "2026-11-03T09:41:27.000Z", lines: [] }],
			createdAt: "2026-11-02T14:05:11.000Z",
			sourceUpdatedAt: "2026-11-03T09:41:27.000Z",
		});
	});

	it("a cancelled order is cancelled as of date_modified_gmt; unpaid, its payment is voided", () => {
		expect(order("order.updated", order727Cancelled)).toStrictEqual({
			...expected727,
			financialStatus: "voided",
			cancelledAt: "2017-03-23T08:00:00.000Z",
			sourceUpdatedAt: "2017-03-23T08:00:00.000Z",
		});
	});

	it("a refunded order is cancelled and refunded, its refund kept by id", () => {
		expect(order("order.updated", order727Refunded)).toStrictEqual({
			...expected727,
			financialStatus: "refunded",
			cancelledAt: "2017-03-24T10:15:00.000Z",
			refunds: [{ channelRefundId: "730", createdAt: "2017-03-24T10:15:00.000Z", lines: [] }],
			sourceUpdatedAt: "2017-03-24T10:15:00.000Z",
		});
	});

	it("failed and trashed orders are cancelled; completed is fulfilled; a plugin's status is an open order", () => {
		expect(order("order.updated", edited(order727, (o) => (o.status = "failed"))).cancelledAt).toBe("2017-03-22T19:28:08.000Z");
		expect(order("order.updated", edited(order727, (o) => (o.status = "trash"))).cancelledAt).toBe("2017-03-22T19:28:08.000Z");
		const completed = order("order.updated", edited(order727, (o) => Object.assign(o, { status: "completed", date_completed_gmt: "2017-03-25T12:00:00" })));
		expect(completed).toMatchObject({ fulfillmentStatus: "fulfilled", cancelledAt: null, financialStatus: "paid" });
		const shipped = order("order.updated", edited(order727, (o) => (o.status = "shipped")));
		expect(shipped).toMatchObject({ fulfillmentStatus: "unfulfilled", cancelledAt: null });
		const restored = order("order.restored", order727);
		expect(restored).toStrictEqual(expected727);
		const onHold = order("order.created", edited(order727, (o) => Object.assign(o, { status: "on-hold", date_paid_gmt: null })));
		expect(onHold.financialStatus).toBe("pending");
	});

	it("order.deleted ({id} only) asks for the order to be read; the read order is a cancellation", async () => {
		expect(parseWooCommerceChange("order.deleted", orderDeleted, CONNECTION)).toEqual({
			ok: true,
			refetch: { channelOrderId: "727" },
			reason: "order.deleted: order 727 was trashed; the notification carries only its id",
		});
		expect(parseWooCommerceChange("order.deleted", { id: "727" }, CONNECTION)).toMatchObject({ ok: false, error: expect.stringMatching(/^id: /) });
	});

	it("ignores other topics and checkout drafts; refuses malformed bodies naming the field", () => {
		expect(parseWooCommerceChange("product.updated", { id: 93 }, CONNECTION)).toEqual({ ok: true, ignored: "topic product.updated is not handled" });
		expect(parseWooCommerceChange("action.woocommerce_payment_complete", {}, CONNECTION)).toMatchObject({ ok: true, ignored: expect.any(String) });
		expect(parseWooCommerceChange("order.created", edited(order727, (o) => (o.status = "checkout-draft")), CONNECTION)).toEqual({
			ok: true,
			ignored: "order 727 is a checkout-draft, a checkout in progress rather than an order",
		});
		const floatTotal = parseWooCommerceChange("order.created", edited(order727, (o) => (o.total = 29.35)), CONNECTION);
		expect(floatTotal).toMatchObject({ ok: false, error: expect.stringMatching(/^total: /) });
		const noLines = parseWooCommerceChange("order.created", edited(order727, (o) => delete o.line_items), CONNECTION);
		expect(noLines).toMatchObject({ ok: false, error: expect.stringMatching(/^line_items: /) });
		const badDate = parseWooCommerceChange("order.created", edited(order727, (o) => (o.date_modified_gmt = "22/03/2017")), CONNECTION);
		expect(badDate).toMatchObject({ ok: false, error: expect.stringMatching(/^date_modified_gmt: /) });
		const precise = parseWooCommerceChange("order.created", edited(order727, (o) => (o.line_items[1].total = "12.005")), CONNECTION);
		expect(precise).toEqual({ ok: false, error: "line_items[1].total: 12.005 has more precision than USD allows" });
		expect(parseWooCommerceChange("order.created", null, CONNECTION)).toMatchObject({ ok: false });
	});
});

// ---- Against the sandbox store ----------------------------------------------------------------

type SandboxOrderState = {
	order: Record<string, unknown>;
	notes: Array<{ id: number; note: string; customer_note: boolean; author: string }>;
	trackings: Array<{ tracking_id: string; tracking_provider: string; tracking_link: string; tracking_number: string }>;
	statusChanges: Array<{ from: string; to: string }>;
};
type Delivery = { path: string; headers: Record<string, string>; body: string };

async function seedOrder(edit: (o: any) => void = () => {}): Promise<string> {
	const body = structuredClone(order727) as any;
	delete body.id;
	delete body.number;
	edit(body);
	const { order } = (await (await post("/sandbox/woocommerce/orders", { order: body })).json()) as { order: { id: number } };
	return String(order.id);
}
async function orderState(id: string): Promise<SandboxOrderState> {
	return (await (await sandbox(`/sandbox/woocommerce/orders/${id}`)).json()) as SandboxOrderState;
}
async function routeFault(fault: { method?: string; path?: string; kind: string; ms?: number; retryAfterSeconds?: number }) {
	await post("/sandbox/woocommerce/fault", fault);
}
async function webhook(id: string, topic: string): Promise<Delivery> {
	const { delivery } = (await (await post(`/sandbox/woocommerce/orders/${id}/webhook`, { topic, connection: CONNECTION, enqueue: false })).json()) as { delivery: Delivery };
	return delivery;
}
function shipment(channelOrderId: string, tracking: ChannelFulfillment["tracking"] = { company: "UPS", number: `1Z${crypto.randomUUID().slice(0, 8).toUpperCase()}`, url: "https://www.ups.com/track?tracknum=1Z" }): ChannelFulfillment {
	return { channelOrderId, shipmentId: `sh-${crypto.randomUUID().slice(0, 8)}`, lines: [{ channelLineId: "316", quantity: 1 }], tracking, notifyCustomer: true };
}

describe("WooCommerce client against the sandbox store", () => {
	it("a signed delivery from the store verifies, parses and equals the order read through the API", async () => {
		const id = await seedOrder();
		const delivery = await webhook(id, "order.created");
		const sent = new Headers(delivery.headers);
		expect(delivery.path).toBe(`/webhooks/woocommerce/${CONNECTION}`);
		expect(readWooCommerceHeaders(sent)).toMatchObject({ topic: "order.created", resource: "order", event: "created", source: "https://woo-sandbox.example/" });
		expect(readWooCommerceHeaders(sent).deliveryId).toMatch(/^[0-9a-f]{32}$/);
		expect(await verifyWooCommerceWebhook(WEBHOOK_SECRET, sent, delivery.body)).toBe(true);
		expect(delivery.body).toContain("https:\\/\\/woo-sandbox.example\\/wp-json\\/wc\\/v3\\/orders\\/");

		const parsed = order("order.created", JSON.parse(delivery.body));
		const fetched = await fetchWooCommerceOrder(account, credentials, CONNECTION, id, options);
		expect(fetched).toEqual({ ok: true, value: parsed });
		expect(parsed).toStrictEqual({ ...expected727, channelOrderId: id, channelOrderName: id });
	});

	it("a trash is delivered as order.deleted {id}; reading the order then gives its cancellation", async () => {
		const id = await seedOrder();
		await post(`/sandbox/woocommerce/orders/${id}`, { status: "trash" });
		const delivery = await webhook(id, "order.deleted");
		expect(delivery.body).toBe(`{"id":${id}}`);
		expect(await verifyWooCommerceWebhook(WEBHOOK_SECRET, new Headers(delivery.headers), delivery.body)).toBe(true);
		const parsed = parseWooCommerceChange("order.deleted", JSON.parse(delivery.body), CONNECTION);
		expect(parsed).toMatchObject({ ok: true, refetch: { channelOrderId: id } });
		const fetched = await fetchWooCommerceOrder(account, credentials, CONNECTION, id, options);
		expect(fetched.ok && fetched.value.cancelledAt).toBe(fetched.ok && fetched.value.sourceUpdatedAt);
		expect(fetched.ok && Date.parse(fetched.value.sourceUpdatedAt)).toBeGreaterThan(Date.parse(expected727.sourceUpdatedAt));
	});

	it("refuses a wrong secret and an unknown key with WooCommerce's 401 bodies; neither is retryable", async () => {
		const id = await seedOrder();
		const wrongSecret = await fetchWooCommerceOrder(account, { consumerSecret: "cs_wrong" }, CONNECTION, id, options);
		expect(wrongSecret).toEqual({
			ok: false,
			retryable: false,
			status: 401,
			error: `WooCommerce GET /wp-json/wc/v3/orders/${id}: 401 woocommerce_rest_authentication_error: Consumer secret is invalid.`,
		});
		const unknownKey = await pushWooCommerceAvailability({ ...account, consumerKey: "ck_unknown" }, credentials, { sku: "NOPE", quantity: 1 }, options);
		expect(unknownKey).toEqual({
			ok: false,
			retryable: false,
			status: 401,
			error: "WooCommerce GET /wp-json/wc/v3/products: 401 woocommerce_rest_cannot_view: Sorry, you cannot list resources.",
		});
		const raw = await sandbox(`/woocommerce/wp-json/wc/v3/orders/${id}`, { headers: { Authorization: `Basic ${btoa("ck_test_0123456789abcdef:cs_wrong")}` } });
		expect(raw.status).toBe(401);
		expect(await raw.json()).toEqual({ code: "woocommerce_rest_authentication_error", message: "Consumer secret is invalid.", data: { status: 401 } });
	});

	it("429 is retryable after Retry-After, 5xx is retryable, an unknown order (404) is not", async () => {
		const id = await seedOrder();
		await routeFault({ path: `/orders/${id}$`, kind: "429", retryAfterSeconds: 2 });
		const limited = await fetchWooCommerceOrder(account, credentials, CONNECTION, id, options);
		expect(limited).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 2000 });
		await routeFault({ path: `/orders/${id}$`, kind: "503" });
		expect(await fetchWooCommerceOrder(account, credentials, CONNECTION, id, options)).toMatchObject({ ok: false, retryable: true, status: 503 });
		// The shared fault switch (target "woocommerce") reaches this peer too.
		await post("/sandbox/faults", { target: "woocommerce", kind: "503", remaining: 1 });
		expect(await fetchWooCommerceOrder(account, credentials, CONNECTION, id, options)).toMatchObject({ ok: false, retryable: true, status: 503 });
		await routeFault({ path: `/orders/${id}$`, kind: "500" });
		const fatal = await fetchWooCommerceOrder(account, credentials, CONNECTION, id, options);
		expect(fatal).toMatchObject({ ok: false, retryable: true, status: 500, error: expect.stringContaining("internal_server_error") });
		const missing = await fetchWooCommerceOrder(account, credentials, CONNECTION, "99999999", options);
		expect(missing).toEqual({
			ok: false,
			retryable: false,
			status: 404,
			error: "WooCommerce GET /wp-json/wc/v3/orders/99999999: 404 woocommerce_rest_shop_order_invalid_id: Invalid ID.",
		});
		expect(await fetchWooCommerceOrder(account, credentials, CONNECTION, "12abc", options)).toMatchObject({ ok: false, retryable: false });
	});

	it("relays a shipment as a customer note with the tracking, then completes the order once", async () => {
		const id = await seedOrder();
		const payload = shipment(id);
		expect(await relayWooCommerceFulfillment(account, credentials, payload, options)).toEqual({ ok: true, value: { orderId: id, tracking: "added", completed: "now" } });
		const state = await orderState(id);
		expect(state.order.status).toBe("completed");
		expect(state.statusChanges).toEqual([expect.objectContaining({ from: "processing", to: "completed" })]);
		const ours = state.notes.filter((n) => n.customer_note);
		expect(ours).toHaveLength(1);
		expect(ours[0]!.note).toBe(`Your order has shipped with UPS. Tracking number: ${payload.tracking.number}. Track it at https://www.ups.com/track?tracknum=1Z Shipment reference: ${payload.shipmentId}.`);

		// Relayed again (a duplicate delivery): nothing new.
		expect(await relayWooCommerceFulfillment(account, credentials, payload, options)).toEqual({ ok: true, value: { orderId: id, tracking: "existing", completed: "already" } });
		const again = await orderState(id);
		expect(again.notes.filter((n) => n.customer_note)).toHaveLength(1);
		expect(again.statusChanges).toHaveLength(1);
	});

	it("after a lost answer to the note, the retry finds the note and completes the order: one note, one completion", async () => {
		const id = await seedOrder();
		const payload = shipment(id);
		await routeFault({ method: "POST", path: `/orders/${id}/notes$`, kind: "lost-response", ms: 1_500 });
		const lost = await relayWooCommerceFulfillment(account, credentials, payload, { timeoutMs: 300 });
		expect(lost).toMatchObject({ ok: false, retryable: true });
		expect((await orderState(id)).order.status).toBe("processing");

		const retry = await relayWooCommerceFulfillment(account, credentials, payload, options);
		expect(retry).toEqual({ ok: true, value: { orderId: id, tracking: "existing", completed: "now" } });
		const state = await orderState(id);
		expect(state.notes.filter((n) => n.note.includes(payload.shipmentId))).toHaveLength(1);
		expect(state.statusChanges.map((c) => c.to)).toEqual(["completed"]);
	});

	it("after a lost answer to the completion, the retry finds it completed: one completion", async () => {
		const id = await seedOrder();
		const payload = shipment(id);
		await routeFault({ method: "PUT", path: `/orders/${id}$`, kind: "lost-response", ms: 1_500 });
		expect(await relayWooCommerceFulfillment(account, credentials, payload, { timeoutMs: 300 })).toMatchObject({ ok: false, retryable: true });
		expect(await relayWooCommerceFulfillment(account, credentials, payload, options)).toEqual({ ok: true, value: { orderId: id, tracking: "existing", completed: "already" } });
		const state = await orderState(id);
		expect(state.statusChanges.map((c) => c.to)).toEqual(["completed"]);
		expect(state.notes.filter((n) => n.customer_note)).toHaveLength(1);
	});

	it("with the Shipment Tracking extension: one tracking item with the predefined provider, or a custom one", async () => {
		const tracking = { ...account, trackingMode: "shipment-tracking" as const };
		const id = await seedOrder();
		const payload = shipment(id, { company: "ups", number: "1Z999AA10123456784" });
		await routeFault({ method: "POST", path: `/orders/${id}/shipment-trackings$`, kind: "lost-response", ms: 1_500 });
		expect(await relayWooCommerceFulfillment(tracking, credentials, payload, { timeoutMs: 300 })).toMatchObject({ ok: false, retryable: true });
		expect(await relayWooCommerceFulfillment(tracking, credentials, payload, options)).toEqual({ ok: true, value: { orderId: id, tracking: "existing", completed: "now" } });
		const state = await orderState(id);
		expect(state.trackings).toEqual([expect.objectContaining({ tracking_provider: "UPS", tracking_number: "1Z999AA10123456784", tracking_link: "https://www.ups.com/track?loc=en_US&tracknum=1Z999AA10123456784" })]);
		expect(state.notes.filter((n) => n.customer_note)).toHaveLength(0);
		expect(state.statusChanges).toHaveLength(1);

		const other = await seedOrder();
		const local = shipment(other, { company: "Bike Couriers Ltd", number: "BC-0042", url: "https://bikecouriers.example/t/BC-0042" });
		expect(await relayWooCommerceFulfillment(tracking, credentials, local, options)).toMatchObject({ ok: true, value: { tracking: "added" } });
		expect((await orderState(other)).trackings).toEqual([expect.objectContaining({ tracking_provider: "Bike Couriers Ltd", tracking_link: "https://bikecouriers.example/t/BC-0042" })]);
	});

	it("a shipment of a cancelled order records the tracking but does not reopen the order", async () => {
		const id = await seedOrder((o) => (o.status = "cancelled"));
		const result = await relayWooCommerceFulfillment(account, credentials, shipment(id), options);
		expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining(`order ${id} is cancelled`) });
		const state = await orderState(id);
		expect(state.order.status).toBe("cancelled");
		expect(state.notes.filter((n) => n.customer_note)).toHaveLength(1);
	});

	it("sets a variation's stock found by SKU; an equal quantity is not written again; an unknown SKU is refused", async () => {
		const tag = crypto.randomUUID().slice(0, 8).toUpperCase();
		const seeded = (await (
			await post("/sandbox/woocommerce/products", {
				products: [{ name: "Ship Your Idea", sku: `SYI-${tag}`, variations: [{ sku: `SYI-${tag}-BLK-M` }, { sku: `SYI-${tag}-BLK-L`, manage_stock: true, stock_quantity: 3 }] }],
			})
		).json()) as { products: Array<{ id: number; variations: Array<{ id: number; sku: string }> }> };
		const parent = seeded.products[0]!;
		const medium = parent.variations[0]!;

		const pushed = await pushWooCommerceAvailability(account, credentials, { sku: medium.sku, quantity: 7 }, options);
		expect(pushed).toEqual({ ok: true, value: { productId: parent.id, variationId: medium.id, stockQuantity: 7, unchanged: false } });
		const calls = (await (await sandbox(`/sandbox/woocommerce/calls?match=${parent.id}`)).json()) as { calls: Array<{ method: string; path: string; status: number }> };
		expect(calls.calls.filter((c) => c.method === "PUT")).toEqual([expect.objectContaining({ path: `/wp-json/wc/v3/products/${parent.id}/variations/${medium.id}`, status: 200 })]);

		const again = await pushWooCommerceAvailability(account, credentials, { sku: medium.sku, quantity: 7 }, options);
		expect(again).toMatchObject({ ok: true, value: { unchanged: true } });
		const products = (await (await sandbox(`/sandbox/woocommerce/products?sku=${medium.sku}`)).json()) as { products: Array<{ stock_quantity: number; manage_stock: boolean; stock_status: string; writes: number }> };
		expect(products.products).toEqual([expect.objectContaining({ manage_stock: true, stock_quantity: 7, stock_status: "instock", writes: 1 })]);

		expect(await pushWooCommerceAvailability(account, credentials, { sku: `SYI-${tag}-BLK-L`, quantity: 0 }, options)).toMatchObject({ ok: true, value: { stockQuantity: 0, unchanged: false } });
		expect(await pushWooCommerceAvailability(account, credentials, { sku: `SYI-${tag}`, quantity: 2 }, options)).toMatchObject({ ok: true, value: { productId: parent.id, variationId: null } });
		expect(await pushWooCommerceAvailability(account, credentials, { sku: `NOPE-${tag}`, quantity: 1 }, options)).toEqual({
			ok: false,
			retryable: false,
			error: `WooCommerce has no product or variation with SKU NOPE-${tag}`,
		});
		await routeFault({ method: "PUT", path: `/variations/${medium.id}$`, kind: "429", retryAfterSeconds: 3 });
		expect(await pushWooCommerceAvailability(account, credentials, { sku: medium.sku, quantity: 8 }, options)).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 3000 });
	});
});
