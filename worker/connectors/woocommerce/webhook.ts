import { fromBase64, toBase64 } from "../../base64";

/**
 * WooCommerce webhook deliveries, as `WC_Webhook::deliver()` sends them (woocommerce/woocommerce,
 * plugins/woocommerce/includes/class-wc-webhook.php): a POST of the REST resource as JSON with
 *
 *   X-WC-Webhook-Source       home_url('/'), e.g. https://shop.example.com/
 *   X-WC-Webhook-Topic        order.updated
 *   X-WC-Webhook-Resource     order
 *   X-WC-Webhook-Event        updated
 *   X-WC-Webhook-Signature    base64(HMAC-SHA256(body, wp_specialchars_decode(secret, ENT_QUOTES)))
 *   X-WC-Webhook-ID           the webhook's id
 *   X-WC-Webhook-Delivery-ID  wp_hash(webhook id . strtotime('now'))
 *
 * The REST docs (woocommerce-rest-api-docs, wp-api-v3/_webhooks.md) name the last one
 * `X-WC-Delivery-ID`; the code sends `X-WC-Webhook-Delivery-ID`. Both are read.
 *
 * When a webhook is created or activated WooCommerce first pings the delivery URL
 * (`WC_Webhook::deliver_ping()`): a form-style body `webhook_id=<id>`, no X-WC-Webhook-* headers and
 * no signature. The webhook is only marked healthy when that ping is answered with exactly 200.
 */
export const WOOCOMMERCE_HEADERS = {
	source: "X-WC-Webhook-Source",
	topic: "X-WC-Webhook-Topic",
	resource: "X-WC-Webhook-Resource",
	event: "X-WC-Webhook-Event",
	signature: "X-WC-Webhook-Signature",
	webhookId: "X-WC-Webhook-ID",
	deliveryId: "X-WC-Webhook-Delivery-ID",
	/** The name the REST docs give the delivery id; the code does not send it. */
	deliveryIdAsDocumented: "X-WC-Delivery-ID",
} as const;

/** What a delivery's headers say; null where a header is absent or blank. */
export type WooCommerceDeliveryHeaders = {
	source: string | null;
	/** `<resource>.<event>`, e.g. "order.created". */
	topic: string | null;
	resource: string | null;
	event: string | null;
	signature: string | null;
	webhookId: string | null;
	/** X-WC-Webhook-Delivery-ID (the code's name), else X-WC-Delivery-ID (the docs'). */
	deliveryId: string | null;
};

function header(headers: Headers, name: string): string | null {
	const value = headers.get(name)?.trim();
	return value ? value : null;
}

export function readWooCommerceHeaders(headers: Headers): WooCommerceDeliveryHeaders {
	return {
		source: header(headers, WOOCOMMERCE_HEADERS.source),
		topic: header(headers, WOOCOMMERCE_HEADERS.topic),
		resource: header(headers, WOOCOMMERCE_HEADERS.resource),
		event: header(headers, WOOCOMMERCE_HEADERS.event),
		signature: header(headers, WOOCOMMERCE_HEADERS.signature),
		webhookId: header(headers, WOOCOMMERCE_HEADERS.webhookId),
		deliveryId: header(headers, WOOCOMMERCE_HEADERS.deliveryId) ?? header(headers, WOOCOMMERCE_HEADERS.deliveryIdAsDocumented),
	};
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const keys = new Map<string, Promise<CryptoKey>>();

const bytesOf = (body: string | Uint8Array) => (typeof body === "string" ? encoder.encode(body) : body);

/**
 * WordPress's `wp_specialchars_decode($text, ENT_QUOTES)`, which WooCommerce applies to the stored
 * secret before signing: a single pass over `&lt; &gt; &amp; &quot;`, their decimal forms with any
 * leading zeros (`&#060; &#062; &#038; &#034; &#039;`), and the hex forms `&#x26; &#x22; &#x27;`
 * (the `x` and hex digits in any case). Nothing else is decoded.
 */
export function wpSpecialcharsDecode(text: string): string {
	if (!text.includes("&")) return text;
	return text.replace(/&(?:lt|gt|amp|quot);|&#0*(?:60|62|38|34|39);|&#[xX]0*(?:26|22|27);/g, (entity) => {
		switch (entity) {
			case "&lt;":
				return "<";
			case "&gt;":
				return ">";
			case "&amp;":
				return "&";
			case "&quot;":
				return '"';
		}
		const hex = /^&#[xX]/.test(entity);
		const code = Number.parseInt(entity.slice(hex ? 3 : 2, -1), hex ? 16 : 10);
		return String.fromCharCode(code);
	});
}

function hmacKey(secret: string): Promise<CryptoKey> {
	let key = keys.get(secret);
	if (!key) {
		key = crypto.subtle.importKey("raw", encoder.encode(wpSpecialcharsDecode(secret)), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
		keys.set(secret, key);
	}
	return key;
}

/**
 * True when X-WC-Webhook-Signature is the HMAC-SHA256 of these exact body bytes under `secret`
 * (WooCommerce's default algorithm; a site can change it with the `woocommerce_webhook_hash_algorithm`
 * filter, which this does not follow). WebCrypto's verify compares in constant time. Never pass a
 * re-serialized body: WooCommerce's PHP JSON escapes `/` as `\/` and non-ASCII as `\uXXXX`.
 */
export async function verifyWooCommerceWebhook(secret: string, headers: Headers, rawBody: string | Uint8Array): Promise<boolean> {
	const value = header(headers, WOOCOMMERCE_HEADERS.signature);
	const signature = value ? fromBase64(value) : null;
	if (!signature || signature.byteLength !== 32 || !secret) return false;
	return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, bytesOf(rawBody));
}

/** The sender's side (sandbox, demo, tests): the X-WC-Webhook-Signature value for a body. */
export async function signWooCommerceBody(secret: string, rawBody: string | Uint8Array): Promise<string> {
	return toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), bytesOf(rawBody))));
}

/**
 * The webhook id when this request is WooCommerce's activation ping: no X-WC-Webhook-Topic and a
 * body of exactly `webhook_id=<digits>`. Answer it with 200 (201, 202 and 204 count as failures),
 * without a signature check: the ping carries none. Null for anything else.
 */
export function wooCommercePing(headers: Headers, rawBody: string | Uint8Array): { webhookId: string } | null {
	if (header(headers, WOOCOMMERCE_HEADERS.topic) !== null) return null;
	const body = typeof rawBody === "string" ? rawBody : rawBody.byteLength > 64 ? "" : decoder.decode(rawBody);
	const match = /^webhook_id=(\d{1,20})$/.exec(body.trim());
	return match ? { webhookId: match[1]! } : null;
}

/**
 * The id ordersync stores a delivery under: `<delivery id>:<first 16 hex of SHA-256(body)>`.
 *
 * The delivery id alone is not unique: WooCommerce derives it from the webhook id and the current
 * second, so two deliveries of one webhook in the same second (two quick updates of an order when
 * delivery is synchronous, or two orders) share it, and a dedup on it alone would drop the second,
 * newer version. WooCommerce never redelivers (woocommerce/woocommerce#28628), so the id is not an
 * idempotency key either; the body digest keeps distinct deliveries apart while a delivery seen
 * twice keeps one id. Without a delivery id (a proxy stripped it), `sha256:<digest of topic and body>`.
 */
export async function wooCommerceEventId(headers: Headers, rawBody: string | Uint8Array): Promise<string> {
	const { deliveryId, topic } = readWooCommerceHeaders(headers);
	const body = bytesOf(rawBody);
	if (deliveryId) return `${deliveryId}:${(await sha256Hex(body)).slice(0, 16)}`;
	const prefix = encoder.encode(`${topic ?? ""}\n`);
	const data = new Uint8Array(prefix.byteLength + body.byteLength);
	data.set(prefix);
	data.set(body, prefix.byteLength);
	return `sha256:${await sha256Hex(data)}`;
}

async function sha256Hex(data: Uint8Array): Promise<string> {
	const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
	return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
