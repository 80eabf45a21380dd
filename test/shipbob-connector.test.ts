import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { FulfillmentLocation, ThreePl } from "../worker/config";
import { cancelShipBobOrder, createShipBobOrder, findShipBobOrder } from "../worker/connectors/shipbob/client";
import { parseShipBobWebhook, signShipBobWebhook, verifyShipBobWebhook } from "../worker/connectors/shipbob/webhook";
import type { ShipmentNotice, ThreePlOrder } from "../worker/model/fulfillment";

// Every outbound fetch from the test worker reaches the sandbox (vitest.config.ts), whatever the host.
const sandbox = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:8789${path}`, init);
const SECRET = env.SHIPBOB_WEBHOOK_SECRET as string;

const account: ThreePl = {
	id: "shipbob",
	kind: "shipbob",
	apiVersion: "2026-07",
	channelId: 100102,
	tokenSecret: "SHIPBOB_TOKEN",
	webhookSecret: "SHIPBOB_WEBHOOK_SECRET",
	endpoint: "http://127.0.0.1:8789/shipbob",
	token: env.SHIPBOB_TOKEN as string,
};

const locations: FulfillmentLocation[] = [
	{ id: "wh-east", rank: 1, regions: [], threePl: "shipbob", fulfillmentCenterId: 10 },
	{ id: "wh-west", rank: 2, regions: [], threePl: "shipbob", fulfillmentCenterId: 20 },
];

function threePlOrder(overrides: Partial<ThreePlOrder> = {}): ThreePlOrder {
	return {
		referenceId: `test-sb:${crypto.randomUUID()}/wh-east`,
		orderNumber: "#1001",
		fulfillmentCenterId: 10,
		shippingMethod: "Standard",
		purchaseDate: "2026-11-20T10:00:00.000Z",
		recipient: { name: "Ada Lovelace", address1: "100 N Racine Ave", city: "Chicago", provinceCode: "IL", countryCode: "US", zip: "60607", email: "ada@example.com" },
		products: [
			{ sku: "TEE-BLK-M", name: "Black tee, M", quantity: 2 },
			{ sku: "CAP-NVY", name: "Navy cap", quantity: 1 },
		],
		...overrides,
	};
}

type SandboxOrder = { id: number; referenceId: string; locationId: number; createAttempts: number; cancelled: boolean; shipments: Array<{ id: number; trackingNumber: string }> };
async function sandboxOrders(referenceId: string): Promise<SandboxOrder[]> {
	const { orders } = (await (await sandbox(`/sandbox/shipbob/orders?match=${encodeURIComponent(referenceId)}`)).json()) as { orders: SandboxOrder[] };
	return orders;
}
async function fault(kind: string, ms?: number) {
	await sandbox("/sandbox/faults", { method: "POST", body: JSON.stringify({ target: "shipbob", kind, remaining: 1, ms }) });
}
type Callback = { key: string; path: string; headers: Record<string, string>; body: string };
async function drain(referenceId: string): Promise<Callback[]> {
	const { callbacks } = (await (await sandbox("/sandbox/callbacks/drain", { method: "POST", body: JSON.stringify({ match: referenceId }) })).json()) as { callbacks: Callback[] };
	return callbacks;
}

describe("ShipBob webhook signatures (Standard Webhooks)", () => {
	// The specification's published test vector (standard-webhooks, also Svix's).
	const vector = { secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: '{"test": 2432232314}' };
	const headers = (signature: string, id = vector.id, timestamp = String(vector.timestamp)) =>
		new Headers({ "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature });

	it("reproduces and accepts the specification's test vector", async () => {
		const signature = await signShipBobWebhook(vector.secret, vector.id, vector.timestamp, vector.body);
		expect(signature).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
		expect(await verifyShipBobWebhook(vector.secret, headers(signature), vector.body, vector.timestamp * 1000)).toBe(true);
	});

	it("round-trips with the sandbox secret and accepts any one valid signature of several", async () => {
		const now = Date.now();
		const ts = Math.floor(now / 1000);
		const body = JSON.stringify({ id: 1, reference_id: "r" });
		const good = await signShipBobWebhook(SECRET, "msg_1", ts, body);
		expect(await verifyShipBobWebhook(SECRET, headers(good, "msg_1", String(ts)), body, now)).toBe(true);
		const rotated = `v1,${btoa("x".repeat(32))} v2,abc ${good}`;
		expect(await verifyShipBobWebhook(SECRET, headers(rotated, "msg_1", String(ts)), body, now)).toBe(true);
	});

	it("rejects a tampered body, another id, a wrong secret, an old or future timestamp, missing or malformed headers", async () => {
		const at = vector.timestamp * 1000;
		const good = await signShipBobWebhook(vector.secret, vector.id, vector.timestamp, vector.body);
		expect(await verifyShipBobWebhook(vector.secret, headers(good), '{"test": 2432232315}', at)).toBe(false);
		expect(await verifyShipBobWebhook(vector.secret, headers(good, "msg_other"), vector.body, at)).toBe(false);
		expect(await verifyShipBobWebhook(SECRET, headers(good), vector.body, at)).toBe(false);
		expect(await verifyShipBobWebhook(vector.secret, headers(good), vector.body, at + 301_000)).toBe(false);
		expect(await verifyShipBobWebhook(vector.secret, headers(good), vector.body, at - 301_000)).toBe(false);
		expect(await verifyShipBobWebhook(vector.secret, headers(good), vector.body, at + 299_000)).toBe(true);
		expect(await verifyShipBobWebhook(vector.secret, new Headers({ "webhook-id": vector.id, "webhook-timestamp": "1614265330" }), vector.body, at)).toBe(false);
		expect(await verifyShipBobWebhook(vector.secret, headers(good.slice(3)), vector.body, at)).toBe(false);
		expect(await verifyShipBobWebhook(vector.secret, headers("v1,not base64!"), vector.body, at)).toBe(false);
		expect(await verifyShipBobWebhook(vector.secret, headers(good, vector.id, "16142653e0"), vector.body, at)).toBe(false);
		expect(await verifyShipBobWebhook("whsec_%%%", headers(good), vector.body, at)).toBe(false);
	});
});

describe("ShipBob webhook payloads", () => {
	// Orders.OrderViewModel as order.shipped carries it: one parcel labelled from Cicero, one still
	// being picked (field names from https://developer.shipbob.com/2026-07/api/orders/get-order.md).
	const orderShipped = {
		id: 300000123,
		created_date: "2026-11-20T10:00:05.1234567Z",
		purchase_date: "2026-11-20T10:00:00Z",
		reference_id: "shopify-demo:5001/wh-east",
		order_number: "#1001",
		status: "PartiallyFulfilled",
		type: "DTC",
		channel: { id: 100102, name: "ordersync" },
		shipping_method: "Standard",
		recipient: { name: "Ada Lovelace", address: { address1: "100 N Racine Ave", address2: null, company_name: null, city: "Chicago", state: "IL", country: "US", zip_code: "60607" }, email: "ada@example.com", phone_number: null },
		products: [
			{ id: 11, reference_id: "TEE-BLK-M", sku: "TEE-BLK-M", quantity: 3, unit_price: 19.99, external_line_id: null, gtin: null, upc: null },
			{ id: 12, reference_id: "CAP-NVY", sku: "CAP-NVY", quantity: 1, unit_price: 12.5, external_line_id: null, gtin: null, upc: null },
		],
		tags: [],
		shipments: [
			{
				id: 500000777,
				order_id: 300000123,
				reference_id: "shopify-demo:5001/wh-east",
				recipient: { name: "Ada Lovelace", full_name: "Ada Lovelace", address: { address1: "100 N Racine Ave", city: "Chicago", country: "US" }, email: null, phone_number: null },
				created_date: "2026-11-20T10:00:05.1234567Z",
				last_update_at: "2026-11-21T15:55:09.3614767Z",
				last_tracking_update_at: "2026-11-21T15:55:09.3614767Z",
				status: "LabeledCreated",
				status_details: [],
				location: { id: 10, name: "Cicero (IL)" },
				invoice_amount: 7.41,
				invoice_currency_code: "USD",
				insurance_value: null,
				tracking: {
					carrier: "USPS",
					carrier_service: "Ground Advantage",
					tracking_number: "9261290306529427911297",
					tracking_url: "https://tools.usps.com/go/TrackConfirmAction?tLabels=9261290306529427911297",
					shipping_date: "2026-11-21T15:50:00Z",
					bol: null,
					pro_number: null,
					scac: null,
				},
				products: [
					{
						id: 11,
						reference_id: "TEE-BLK-M",
						sku: "TEE-BLK-M",
						name: "Black tee, M",
						inventory_items: [
							{ id: 901, name: "Black tee, M", quantity: 1, quantity_committed: 1, lot: "A1", expiration_date: null, serial_numbers: [], is_dangerous_goods: false },
							{ id: 901, name: "Black tee, M", quantity: 1, quantity_committed: 1, lot: "A2", expiration_date: null, serial_numbers: [], is_dangerous_goods: false },
						],
					},
					{ id: 12, reference_id: "CAP-NVY", sku: "CAP-NVY", name: "Navy cap", inventory_items: [{ id: 902, name: "Navy cap", quantity: 1, quantity_committed: 1 }] },
				],
				actual_fulfillment_date: "2026-11-21T15:49:30.1234567Z",
				estimated_fulfillment_date: "2026-11-22T00:00:00Z",
				estimated_fulfillment_date_status: "FulfilledOnTime",
				delivery_date: null,
				is_tracking_uploaded: false,
				measurements: { depth_in: 4, length_in: 10, width_in: 8, total_weight_oz: 30 },
				package_material_type: "Box",
				require_signature: false,
				ship_option: "Standard",
				gift_message: null,
			},
			{
				id: 500000778,
				order_id: 300000123,
				reference_id: "shopify-demo:5001/wh-east",
				status: "Processing",
				location: { id: 10, name: "Cicero (IL)" },
				tracking: null,
				products: [{ id: 11, reference_id: "TEE-BLK-M", sku: "TEE-BLK-M", name: "Black tee, M", inventory_items: [{ id: 901, name: "Black tee, M", quantity: 1 }] }],
				created_date: "2026-11-20T10:00:05Z",
				actual_fulfillment_date: null,
			},
		],
	};

	it("turns a full order.shipped payload into one notice per labelled shipment", () => {
		const parsed = parseShipBobWebhook("order.shipped", JSON.stringify(orderShipped), "msg_golden", locations);
		expect(parsed).toEqual({
			ok: true,
			notices: [
				{
					eventId: "msg_golden",
					topic: "order.shipped",
					referenceId: "shopify-demo:5001/wh-east",
					shipmentId: "500000777",
					status: "shipped",
					fulfillmentCenterId: 10,
					carrier: "USPS",
					trackingNumber: "9261290306529427911297",
					trackingUrl: "https://tools.usps.com/go/TrackConfirmAction?tLabels=9261290306529427911297",
					at: "2026-11-21T15:49:30.123Z",
					lines: [
						{ sku: "TEE-BLK-M", quantity: 2 },
						{ sku: "CAP-NVY", quantity: 1 },
					],
				},
			],
		});
	});

	it("reads a shipment-level order.shipment.* payload; falls back to the reference id's location", () => {
		const shipment = { ...orderShipped.shipments[0]!, location: null, delivery_date: "2026-11-23T18:02:00" };
		const parsed = parseShipBobWebhook("order.shipment.delivered", JSON.stringify(shipment), "msg_d", locations);
		expect(parsed.ok && "notices" in parsed && parsed.notices[0]).toMatchObject({ status: "delivered", shipmentId: "500000777", fulfillmentCenterId: 10, at: "2026-11-23T18:02:00.000Z" });
		const cancelled = parseShipBobWebhook("order.shipment.cancelled", JSON.stringify({ ...orderShipped.shipments[1], last_update_at: "2026-11-21T09:00:00Z" }), "msg_c", locations);
		expect(cancelled.ok && "notices" in cancelled && cancelled.notices[0]).toMatchObject({ status: "cancelled", shipmentId: "500000778", at: "2026-11-21T09:00:00.000Z" });
	});

	it("ignores topics it does not handle and names the field of a malformed payload", () => {
		expect(parseShipBobWebhook("return.completed", "{}", "e", locations)).toEqual({ ok: true, ignored: "topic return.completed is not handled" });
		expect(parseShipBobWebhook("order.shipped", "not json", "e", locations)).toEqual({ ok: false, error: "body is not JSON" });
		const badId = { ...orderShipped, shipments: [{ ...orderShipped.shipments[0], id: "x" }] };
		const bad = parseShipBobWebhook("order.shipped", JSON.stringify(badId), "e", locations);
		expect(bad.ok).toBe(false);
		expect(!bad.ok && bad.error).toMatch(/^shipments\[0\]\.id: /);
		const noRef = parseShipBobWebhook("order.shipped", JSON.stringify({ ...orderShipped, reference_id: undefined }), "e", locations);
		expect(!noRef.ok && noRef.error).toMatch(/^reference_id: /);
		const noSku = { ...orderShipped, shipments: [{ ...orderShipped.shipments[0], products: [{ id: 1, inventory_items: [{ quantity: 1 }] }] }] };
		expect(parseShipBobWebhook("order.shipped", JSON.stringify(noSku), "e", locations)).toEqual({ ok: false, error: "shipments[0].products[0].reference_id: missing" });
	});
});

describe("ShipBob client against the sandbox", () => {
	it("creates one order; creating it again finds the same one (existing) and ShipBob still holds one", async () => {
		const order = threePlOrder();
		const first = await createShipBobOrder(account, order, { timeoutMs: 5_000 });
		expect(first).toMatchObject({ ok: true, value: { existing: false } });
		const id = first.ok ? first.value.shipbobOrderId : 0;
		expect(id).toBeGreaterThan(0);

		const again = await createShipBobOrder(account, order, { timeoutMs: 5_000 });
		expect(again).toEqual({ ok: true, value: { shipbobOrderId: id, existing: true } });
		const held = await sandboxOrders(order.referenceId);
		expect(held).toHaveLength(1);
		expect(held[0]).toMatchObject({ id, locationId: 10, createAttempts: 2, cancelled: false });

		const found = await findShipBobOrder(account, order.referenceId, { timeoutMs: 5_000 });
		expect(found).toMatchObject({ ok: true, value: { id, reference_id: order.referenceId, status: "Processing" } });
	});

	it("a lost response is retryable, and the retry finds the order the first attempt made", async () => {
		const order = threePlOrder();
		await fault("lost-response", 1500);
		const lost = await createShipBobOrder(account, order, { timeoutMs: 300 });
		expect(lost).toMatchObject({ ok: false, retryable: true });
		const retry = await createShipBobOrder(account, order, { timeoutMs: 5_000 });
		expect(retry).toMatchObject({ ok: true, value: { existing: true } });
		const held = await sandboxOrders(order.referenceId);
		expect(held).toHaveLength(1);
		expect(retry.ok && retry.value.shipbobOrderId).toBe(held[0]!.id);
	});

	it("429 is retryable after ShipBob's x-retry-after; 5xx is retryable; nothing was created", async () => {
		const order = threePlOrder();
		await fault("429");
		const limited = await createShipBobOrder(account, order, { timeoutMs: 5_000 });
		expect(limited).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 1000 });
		await fault("503");
		const down = await createShipBobOrder(account, order, { timeoutMs: 5_000 });
		expect(down).toMatchObject({ ok: false, retryable: true, status: 503 });
		expect(await sandboxOrders(order.referenceId)).toHaveLength(0);
	});

	it("a validation error (400) and a bad token (401) are permanent, with ShipBob's reason", async () => {
		const order = threePlOrder({ recipient: { name: "No Street", city: "Chicago", countryCode: "US" } });
		const invalid = await createShipBobOrder(account, order, { timeoutMs: 5_000 });
		expect(invalid).toMatchObject({ ok: false, retryable: false, status: 400 });
		expect(!invalid.ok && invalid.error).toContain("recipient.address.address1");
		const unauthorized = await createShipBobOrder({ ...account, token: "wrong" }, threePlOrder(), { timeoutMs: 5_000 });
		expect(unauthorized).toMatchObject({ ok: false, retryable: false, status: 401 });
	});

	it("cancels by reference id, idempotently; a shipped order reports already_shipped; an unknown one not_found", async () => {
		const order = threePlOrder();
		expect((await createShipBobOrder(account, order, { timeoutMs: 5_000 })).ok).toBe(true);
		expect(await cancelShipBobOrder(account, order.referenceId, { timeoutMs: 5_000 })).toEqual({ ok: true, value: { state: "cancelled" } });
		expect(await cancelShipBobOrder(account, order.referenceId, { timeoutMs: 5_000 })).toEqual({ ok: true, value: { state: "cancelled" } });
		expect((await sandboxOrders(order.referenceId))[0]).toMatchObject({ cancelled: true });

		expect(await cancelShipBobOrder(account, `never-sent:${crypto.randomUUID()}`, { timeoutMs: 5_000 })).toEqual({ ok: true, value: { state: "not_found" } });

		const shipped = threePlOrder();
		expect((await createShipBobOrder(account, shipped, { timeoutMs: 5_000 })).ok).toBe(true);
		await sandbox("/sandbox/shipbob/ship", { method: "POST", body: JSON.stringify({ match: shipped.referenceId }) });
		expect(await cancelShipBobOrder(account, shipped.referenceId, { timeoutMs: 5_000 })).toEqual({ ok: true, value: { state: "already_shipped" } });
		await drain(shipped.referenceId);
	});

	it("the warehouse ships a split order as two parcels, each a signed order.shipped that parses to its notice", async () => {
		const order = threePlOrder();
		expect((await createShipBobOrder(account, order, { timeoutMs: 5_000 })).ok).toBe(true);
		const response = await sandbox("/sandbox/shipbob/ship", { method: "POST", body: JSON.stringify({ match: order.referenceId, split: true }) });
		const { shipped } = (await response.json()) as { shipped: Array<{ referenceId: string; shipments: Array<{ id: number; trackingNumber: string; products: Array<{ sku: string; quantity: number }> }> }> };
		expect(shipped).toHaveLength(1);
		expect(shipped[0]!.shipments).toHaveLength(2);
		expect(shipped[0]!.shipments[0]!.trackingNumber).not.toBe(shipped[0]!.shipments[1]!.trackingNumber);

		const callbacks = await drain(order.referenceId);
		expect(callbacks).toHaveLength(2);
		const notices: ShipmentNotice[] = [];
		for (const callback of callbacks) {
			expect(callback.path).toBe("/webhooks/shipbob/shipbob");
			const headers = new Headers(callback.headers);
			expect(headers.get("x-webhook-topic")).toBe("order.shipped");
			expect(await verifyShipBobWebhook(SECRET, headers, callback.body)).toBe(true);
			const parsed = parseShipBobWebhook(headers.get("x-webhook-topic")!, callback.body, headers.get("webhook-id")!, locations);
			expect(parsed.ok && "notices" in parsed).toBe(true);
			if (parsed.ok && "notices" in parsed) notices.push(...parsed.notices);
		}
		expect(new Set(callbacks.map((c) => c.headers["webhook-id"])).size).toBe(2);
		expect(notices.map((n) => n.shipmentId)).toEqual(shipped[0]!.shipments.map((s) => String(s.id)));
		expect(notices.every((n) => n.referenceId === order.referenceId && n.fulfillmentCenterId === 10 && n.carrier === "USPS")).toBe(true);
		const units = (sku: string) => notices.flatMap((n) => n.lines).filter((l) => l.sku === sku).reduce((s, l) => s + l.quantity, 0);
		expect(units("TEE-BLK-M")).toBe(2);
		expect(units("CAP-NVY")).toBe(1);
		expect(notices[0]!.lines).toEqual([{ sku: "TEE-BLK-M", quantity: 1 }]); // the partial parcel first
		expect((await sandboxOrders(order.referenceId))[0]!.shipments).toHaveLength(2);
	});
});
