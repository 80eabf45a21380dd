import { z } from "zod";
import { fromBase64, toBase64 } from "../../base64";
import { type FulfillmentLocation, formatIssues } from "../../config";
import type { ShipmentNotice } from "../../model/fulfillment";

/**
 * ShipBob webhooks (https://developer.shipbob.com/2026-07/webhooks.md). Deliveries are signed the
 * Standard Webhooks way (https://developer.shipbob.com/experimental/webhooks): `webhook-id`,
 * `webhook-timestamp` (Unix seconds) and `webhook-signature`, a space-separated list of
 * `v1,<base64 HMAC-SHA256>` over `${id}.${timestamp}.${raw body}`, keyed with the base64-decoded
 * part of the `whsec_…` secret after its prefix. The topic comes in `x-webhook-topic`.
 */
export const SHIPBOB_HEADERS = {
	id: "webhook-id",
	timestamp: "webhook-timestamp",
	signature: "webhook-signature",
	topic: "x-webhook-topic",
} as const;

/** Deliveries older or newer than this are refused, so a captured one cannot be replayed later. */
export const TOLERANCE_SECONDS = 5 * 60;

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey> | null>();

/** The HMAC key of a `whsec_…` secret (the prefix is optional); null when it is not base64. */
function signingKey(secret: string): Promise<CryptoKey> | null {
	if (keys.has(secret)) return keys.get(secret)!;
	let encoded = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
	encoded = encoded.padEnd(Math.ceil(encoded.length / 4) * 4, "=");
	const bytes = fromBase64(encoded);
	const key = bytes && bytes.byteLength > 0 ? crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]) : null;
	keys.set(secret, key);
	return key;
}

/**
 * True when one of the `v1` signatures is the HMAC of this delivery under `secret` and its
 * timestamp is within five minutes of `nowMs`. WebCrypto's verify compares in constant time.
 */
export async function verifyShipBobWebhook(secret: string, headers: Headers, rawBody: string, nowMs = Date.now()): Promise<boolean> {
	const id = headers.get(SHIPBOB_HEADERS.id);
	const timestamp = headers.get(SHIPBOB_HEADERS.timestamp);
	const signatures = headers.get(SHIPBOB_HEADERS.signature);
	if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) return false;
	if (Math.abs(nowMs / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return false;
	const key = signingKey(secret);
	if (!key) return false;
	const signed = encoder.encode(`${id}.${timestamp}.${rawBody}`);
	for (const entry of signatures.split(" ")) {
		const [version, value] = entry.split(",", 2);
		if (version !== "v1" || !value) continue;
		const signature = fromBase64(value);
		if (!signature || signature.byteLength !== 32) continue;
		if (await crypto.subtle.verify("HMAC", await key, signature, signed)) return true;
	}
	return false;
}

/** The sender's side (sandbox, tests): the `webhook-signature` value for one delivery. */
export async function signShipBobWebhook(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
	const key = signingKey(secret);
	if (!key) throw new Error("a ShipBob signing secret is whsec_ followed by base64");
	const mac = await crypto.subtle.sign("HMAC", await key, encoder.encode(`${id}.${timestampSeconds}.${body}`));
	return `v1,${toBase64(new Uint8Array(mac))}`;
}

// Payloads. ShipBob does not publish a schema per topic (it points to the dashboard's test tool);
// order.shipped carries the order, Orders.OrderViewModel with its `shipments`, and the
// order.shipment.* topics one shipment, Orders.ShipmentViewModel (both as in
// https://developer.shipbob.com/2026-07/api/orders/get-order.md). Either shape is accepted for
// any topic. Only the fields ordersync reads are declared; the rest pass unread.
const Time = z.string().nullish();
const InventoryItem = z.object({ id: z.number().int().nullish(), name: z.string().nullish(), quantity: z.number().int().nonnegative() });
const ShipmentProduct = z.object({
	id: z.number().int().nullish(),
	reference_id: z.string().nullish(),
	sku: z.string().nullish(),
	name: z.string().nullish(),
	inventory_items: z.array(InventoryItem).nullish(),
});
const Shipment = z.object({
	id: z.number().int().positive(),
	order_id: z.number().int().nullish(),
	reference_id: z.string().nullish(),
	status: z.string().nullish(),
	location: z.object({ id: z.number().int(), name: z.string().nullish() }).nullish(),
	tracking: z
		.object({
			carrier: z.string().nullish(),
			carrier_service: z.string().nullish(),
			tracking_number: z.string().nullish(),
			tracking_url: z.string().nullish(),
			shipping_date: Time,
		})
		.nullish(),
	products: z.array(ShipmentProduct).nullish(),
	created_date: Time,
	last_update_at: Time,
	last_tracking_update_at: Time,
	actual_fulfillment_date: Time,
	delivery_date: Time,
});
type Shipment = z.infer<typeof Shipment>;
const Order = z.object({
	id: z.number().int().positive(),
	reference_id: z.string().min(1),
	created_date: Time,
	shipments: z.array(Shipment),
});

type Status = ShipmentNotice["status"];
const TOPICS: Record<string, Status> = {
	"order.shipped": "shipped",
	"order.shipment.delivered": "delivered",
	"order.shipment.exception": "exception",
	"order.shipment.cancelled": "cancelled",
};

/** In an order-level payload, which shipments the topic is about (Orders.OrderStatusEnum values). */
const CONCERNS: Record<Status, (shipment: Shipment) => boolean> = {
	shipped: (s) => s.status === "LabeledCreated" || s.status === "Completed" || Boolean(s.tracking?.tracking_number),
	delivered: (s) => Boolean(s.delivery_date),
	exception: (s) => s.status === "Exception",
	cancelled: (s) => s.status === "Cancelled",
};

export type ParsedShipBobWebhook = { ok: true; notices: ShipmentNotice[] } | { ok: true; ignored: string } | { ok: false; error: string };

/**
 * One ShipmentNotice per shipment the delivery reports. `locations` turns the location part of
 * ordersync's reference id (`<order key>/<location id>`) into a fulfilment centre when ShipBob
 * leaves a shipment's `location` out.
 */
export function parseShipBobWebhook(topic: string, rawBody: string, eventId: string, locations: FulfillmentLocation[]): ParsedShipBobWebhook {
	const status = TOPICS[topic];
	if (!status) return { ok: true, ignored: `topic ${topic || "(none)"} is not handled` };
	let json: unknown;
	try {
		json = JSON.parse(rawBody);
	} catch {
		return { ok: false, error: "body is not JSON" };
	}
	if (typeof json !== "object" || json === null || Array.isArray(json)) return { ok: false, error: "(root): expected an object" };

	let referenceId: string | null | undefined;
	let orderCreated: string | null | undefined;
	let shipments: Shipment[];
	let prefix: string;
	if ("shipments" in json) {
		const order = Order.safeParse(json);
		if (!order.success) return { ok: false, error: formatIssues(order.error) };
		referenceId = order.data.reference_id;
		orderCreated = order.data.created_date;
		shipments = order.data.shipments.filter(CONCERNS[status]);
		prefix = "shipments";
	} else {
		const shipment = Shipment.safeParse(json);
		if (!shipment.success) return { ok: false, error: formatIssues(shipment.error) };
		referenceId = shipment.data.reference_id;
		shipments = [shipment.data];
		prefix = "";
	}
	if (!referenceId) return { ok: false, error: "reference_id: missing" };
	if (shipments.length === 0) return { ok: true, ignored: `no shipment in this ${topic} is ${status}` };

	const notices: ShipmentNotice[] = [];
	for (const [index, shipment] of shipments.entries()) {
		const where = prefix ? `${prefix}[${index}].` : "";
		const lines = new Map<string, number>();
		for (const [p, product] of (shipment.products ?? []).entries()) {
			const sku = product.reference_id ?? product.sku;
			if (!sku) return { ok: false, error: `${where}products[${p}].reference_id: missing` };
			// Units are counted on the inventory items (ShipmentProductViewModel has no quantity);
			// ordersync sends stocked SKUs (bundles as their components), one inventory item each,
			// several entries only when split by lot.
			const units = (product.inventory_items ?? []).reduce((sum, item) => sum + item.quantity, 0);
			if (units > 0) lines.set(sku, (lines.get(sku) ?? 0) + units);
		}
		const at = firstTime(status === "delivered"
			? [shipment.delivery_date, shipment.last_tracking_update_at, shipment.last_update_at]
			: status === "shipped"
				? [shipment.actual_fulfillment_date, shipment.tracking?.shipping_date, shipment.last_update_at, shipment.created_date, orderCreated]
				: [shipment.last_update_at, shipment.created_date, orderCreated]);
		if (!at) return { ok: false, error: `${where}${status === "delivered" ? "delivery_date" : status === "shipped" ? "actual_fulfillment_date" : "last_update_at"}: missing or not a date` };
		const tracking = shipment.tracking;
		notices.push({
			eventId,
			topic,
			referenceId,
			shipmentId: String(shipment.id),
			status,
			fulfillmentCenterId: shipment.location?.id ?? centreOf(referenceId, locations),
			...(tracking?.carrier ? { carrier: tracking.carrier } : {}),
			...(tracking?.tracking_number ? { trackingNumber: tracking.tracking_number } : {}),
			...(tracking?.tracking_url ? { trackingUrl: tracking.tracking_url } : {}),
			at,
			lines: [...lines].map(([sku, quantity]) => ({ sku, quantity })),
		});
	}
	return { ok: true, notices };
}

function centreOf(referenceId: string, locations: FulfillmentLocation[]): number | undefined {
	const locationId = referenceId.slice(referenceId.lastIndexOf("/") + 1);
	return locations.find((l) => l.id === locationId)?.fulfillmentCenterId;
}

/**
 * The first readable time, as ISO 8601 UTC. ShipBob writes up to seven fractional digits and
 * sometimes no zone; a time without one is taken as UTC (docs silent; the API's clock is UTC).
 */
function firstTime(candidates: Array<string | null | undefined>): string | null {
	for (const value of candidates) {
		if (!value) continue;
		const zoned = /(?:[zZ]|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`;
		const ms = Date.parse(zoned.replace(/(\.\d{3})\d+/, "$1"));
		if (!Number.isNaN(ms)) return new Date(ms).toISOString();
	}
	return null;
}
