import { z } from "zod";
import { formatIssues } from "../../config";
import type { ChannelFulfillment } from "../../model/fulfillment";
import type { CanonicalOrder } from "../../model/order";
import { type CallFailure, type CallResult, send } from "../call";
import type { WooCommerceAccount, WooCommerceCredentials } from "./account";
import { normalizeWooCommerceOrder } from "./normalize";
import { WooCommerceOrder } from "./payloads";

export type { CallResult };

/**
 * WooCommerce REST API v3 (https://woocommerce.github.io/woocommerce-rest-api-docs/), as ordersync
 * uses it: read an order, record a shipment (tracking, then status `completed`), set a SKU's stock.
 *
 * Auth: HTTP Basic with `consumer_key:consumer_secret` (docs, "Authentication over HTTPS").
 * Errors come in the WordPress REST shape `{code, message, data: {status}}`. WooCommerce itself has
 * no rate limit on wc/v3; hosts, WAFs and CDNs in front of it answer 429 or 503 (sometimes as HTML)
 * with Retry-After, which `send` turns into retryable failures.
 *
 * Nothing here takes an idempotency key, so every write first reads what the order or product
 * already has: a retry after a lost answer finds its own earlier write and does not repeat it.
 */

type Options = { timeoutMs: number };
type Method = "GET" | "POST" | "PUT";

const REST = "/wp-json/wc/v3";
/** The Shipment Tracking extension's namespace (also registered by Advanced Shipment Tracking). */
const TRACKING = "/wp-json/wc-shipment-tracking/v3";

/** `{code, message, data: {status}}`: every WP REST error, WooCommerce's included. */
const RestError = z.looseObject({ code: z.string(), message: z.string(), data: z.looseObject({ status: z.number().int() }).nullish() });

const ORDER_ID = /^[1-9]\d{0,18}$/;

type Reply = { ok: true; status: number; body: unknown; headers: Headers };

/**
 * One authenticated call; the JSON answer of a 2xx, or of a 4xx in `readable`, with the headers
 * (lists are paged by X-WP-TotalPages). Other 4xx are permanent, with WooCommerce's code and
 * message; 408, 429, 5xx and network errors are retryable.
 */
export async function wooCommerceCall(
	account: WooCommerceAccount,
	credentials: WooCommerceCredentials,
	method: Method,
	path: string,
	options: Options,
	body?: unknown,
	readable: number[] = [],
): Promise<Reply | CallFailure> {
	const base = (account.endpoint ?? account.storeUrl).replace(/\/+$/, "");
	const label = `WooCommerce ${method} ${path.split("?")[0]}`;
	const headers: Record<string, string> = {
		Authorization: `Basic ${btoa(`${account.consumerKey}:${credentials.consumerSecret}`)}`,
		Accept: "application/json",
	};
	if (body !== undefined) headers["Content-Type"] = "application/json";
	const result = await send(
		`${base}${path}`,
		{ method, headers, body: body === undefined ? undefined : JSON.stringify(body) },
		{ timeoutMs: options.timeoutMs, readable: (status) => status >= 400 && status < 500 && status !== 408 && status !== 429 },
	);
	if (!result.ok) return { ...result, error: `${label}: ${result.error}` };
	const response = result.response;
	const text = await response.text().catch(() => "");
	let json: unknown;
	try {
		json = text ? JSON.parse(text) : null;
	} catch {
		json = undefined;
	}
	if (response.ok || readable.includes(response.status)) {
		if (json === undefined) {
			// An HTML page where JSON was expected: /wp-json is not routed (plain permalinks) or a proxy answered.
			return { ok: false, retryable: false, status: response.status, error: `${label}: ${response.status} is not JSON: ${text.slice(0, 200)}` };
		}
		return { ok: true, status: response.status, body: json, headers: response.headers };
	}
	const error = RestError.safeParse(json);
	const detail = error.success ? `${error.data.code}: ${error.data.message}` : text.slice(0, 300);
	return { ok: false, retryable: false, status: response.status, error: `${label}: ${response.status} ${detail}`.trim() };
}

function refused(error: string, status?: number): CallFailure {
	return { ok: false, retryable: false, error, ...(status ? { status } : {}) };
}

function unreadable(label: string, error: z.ZodError): CallFailure {
	return refused(`${label}: unexpected answer: ${formatIssues(error)}`);
}

/**
 * GET /orders/<id>, normalized. A trashed order is still readable (status `trash`, a cancellation);
 * one deleted for good answers 404 `woocommerce_rest_shop_order_invalid_id`, a permanent failure.
 */
export async function fetchWooCommerceOrder(
	account: WooCommerceAccount,
	credentials: WooCommerceCredentials,
	connectionId: string,
	channelOrderId: string,
	options: Options,
): Promise<CallResult<CanonicalOrder>> {
	if (!ORDER_ID.test(channelOrderId)) return refused(`not a WooCommerce order id: ${JSON.stringify(channelOrderId)}`);
	const reply = await wooCommerceCall(account, credentials, "GET", `${REST}/orders/${channelOrderId}`, options);
	if (!reply.ok) return reply;
	const order = WooCommerceOrder.safeParse(reply.body);
	if (!order.success) return unreadable(`WooCommerce GET /orders/${channelOrderId}`, order.error);
	try {
		return { ok: true, value: normalizeWooCommerceOrder(order.data, connectionId) };
	} catch (error) {
		if (error instanceof RangeError) return refused(`WooCommerce order ${channelOrderId}: ${error.message}`);
		throw error;
	}
}

// ---- Fulfilment -------------------------------------------------------------------------------

const OrderState = z.looseObject({ id: z.number().int(), status: z.string() });
// Order notes (wp-api-v3/_order-notes.md): {id, author, date_created, date_created_gmt, note, customer_note}.
const Note = z.looseObject({ id: z.number().int(), note: z.string(), customer_note: z.boolean().nullish() });
// Shipment Tracking items: {tracking_id, tracking_provider, tracking_link, tracking_number, date_shipped}.
const TrackingItem = z.looseObject({ tracking_id: z.string(), tracking_number: z.string().nullish() });
/** GET …/shipment-trackings/providers: `{ "<region>": { "<provider name>": "<tracking URL with %1$s>" } }`. */
const Providers = z.record(z.string(), z.record(z.string(), z.string()));

/** Statuses after which an order must not be reopened as completed. */
const ENDED = new Set(["cancelled", "refunded", "failed", "trash"]);

export type WooCommerceRelayResult = {
	orderId: string;
	/** What became of the tracking: written now, found from an earlier attempt, or nothing to write. */
	tracking: "added" | "existing" | "none";
	/** The status write: made now, or the order was completed already. */
	completed: "now" | "already";
};

/** The reference that identifies ordersync's note for a shipment (customer-visible, so plain words). */
const reference = (shipmentId: string) => `Shipment reference: ${shipmentId}.`;

function noteText(f: ChannelFulfillment): string {
	const { company, number, url } = f.tracking;
	const parts = [`Your order has shipped${company?.trim() ? ` with ${company.trim()}` : ""}.`];
	if (number?.trim()) parts.push(`Tracking number: ${number.trim()}.`);
	if (url?.trim()) parts.push(`Track it at ${url.trim()}`);
	parts.push(reference(f.shipmentId));
	return parts.join(" ");
}

/**
 * Records one shipment on its WooCommerce order, idempotently:
 *
 * 1. reads the order (404: permanent failure);
 * 2. tracking. trackingMode "note": a note (`customer_note` = `notifyCustomer`: WooCommerce emails
 *    customer notes) unless the order has one with this shipment's reference or tracking number.
 *    "shipment-tracking": a tracking item on the extension's endpoint unless the order has one
 *    with this number; the provider is the extension's own when `tracking.company` names one
 *    (compared without case or punctuation), else a custom provider with the tracking URL. A
 *    shipment without a tracking number gets a note in either mode;
 * 3. `PUT /orders/<id> {"status":"completed"}` unless it is completed already. An order that is
 *    cancelled, refunded, failed or trashed is not reopened: the tracking is recorded and the
 *    relay fails permanently, so an operator sees a shipment of an order the shop ended.
 *
 * WooCommerce core has no partial fulfilment: the first shipment of a split order completes it
 * (and "Completed order" is emailed then, whatever `notifyCustomer` says).
 */
export async function relayWooCommerceFulfillment(
	account: WooCommerceAccount,
	credentials: WooCommerceCredentials,
	payload: ChannelFulfillment,
	options: Options,
): Promise<CallResult<WooCommerceRelayResult>> {
	const id = payload.channelOrderId;
	if (!ORDER_ID.test(id)) return refused(`not a WooCommerce order id: ${JSON.stringify(id)}`);
	const read = await wooCommerceCall(account, credentials, "GET", `${REST}/orders/${id}?_fields=id,status`, options);
	if (!read.ok) return read;
	const order = OrderState.safeParse(read.body);
	if (!order.success) return unreadable(`WooCommerce GET /orders/${id}`, order.error);

	const number = payload.tracking.number?.trim() || null;
	const tracked = account.trackingMode === "shipment-tracking" && number
		? await addTrackingItem(account, credentials, id, payload, number, options)
		: await addNote(account, credentials, id, payload, number, options);
	if (!tracked.ok) return tracked;

	const status = order.data.status;
	if (ENDED.has(status)) {
		return refused(`WooCommerce order ${id} is ${status}: shipment ${payload.shipmentId} recorded (tracking ${tracked.value}), the order was not reopened as completed`);
	}
	if (status === "completed") return { ok: true, value: { orderId: id, tracking: tracked.value, completed: "already" } };
	const put = await wooCommerceCall(account, credentials, "PUT", `${REST}/orders/${id}?_fields=id,status`, options, { status: "completed" });
	if (!put.ok) return put;
	const after = OrderState.safeParse(put.body);
	if (!after.success) return unreadable(`WooCommerce PUT /orders/${id}`, after.error);
	if (after.data.status !== "completed") return refused(`WooCommerce PUT /orders/${id}: status is ${after.data.status}, not completed`);
	return { ok: true, value: { orderId: id, tracking: tracked.value, completed: "now" } };
}

async function addNote(
	account: WooCommerceAccount,
	credentials: WooCommerceCredentials,
	id: string,
	payload: ChannelFulfillment,
	number: string | null,
	options: Options,
): Promise<CallResult<WooCommerceRelayResult["tracking"]>> {
	// POST/GET /orders/<id>/notes (wp-api-v3/_order-notes.md); type=any lists private and customer notes.
	const listed = await wooCommerceCall(account, credentials, "GET", `${REST}/orders/${id}/notes?type=any`, options);
	if (!listed.ok) return listed;
	const notes = z.array(Note).safeParse(listed.body);
	if (!notes.success) return unreadable(`WooCommerce GET /orders/${id}/notes`, notes.error);
	const mark = reference(payload.shipmentId);
	if (notes.data.some((n) => n.note.includes(mark) || (number !== null && n.note.includes(number)))) return { ok: true, value: "existing" };
	const created = await wooCommerceCall(account, credentials, "POST", `${REST}/orders/${id}/notes`, options, { note: noteText(payload), customer_note: payload.notifyCustomer });
	if (!created.ok) return created;
	return { ok: true, value: "added" };
}

const providerKey = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, "");

async function addTrackingItem(
	account: WooCommerceAccount,
	credentials: WooCommerceCredentials,
	id: string,
	payload: ChannelFulfillment,
	number: string,
	options: Options,
): Promise<CallResult<WooCommerceRelayResult["tracking"]>> {
	const path = `${TRACKING}/orders/${id}/shipment-trackings`;
	const listed = await wooCommerceCall(account, credentials, "GET", path, options);
	if (!listed.ok) return missingExtension(listed);
	const items = z.array(TrackingItem).safeParse(listed.body);
	if (!items.success) return unreadable(`WooCommerce GET ${path}`, items.error);
	if (items.data.some((item) => item.tracking_number?.trim() === number)) return { ok: true, value: "existing" };

	const company = payload.tracking.company?.trim();
	let provider: string | null = null;
	if (company) {
		const listing = await wooCommerceCall(account, credentials, "GET", `${TRACKING}/shipment-trackings/providers`, options);
		if (!listing.ok) return missingExtension(listing);
		const providers = Providers.safeParse(listing.body);
		if (!providers.success) return unreadable(`WooCommerce GET ${TRACKING}/shipment-trackings/providers`, providers.error);
		const wanted = providerKey(company);
		provider = Object.values(providers.data).flatMap((region) => Object.keys(region)).find((name) => providerKey(name) === wanted) ?? null;
	}
	const body = provider
		? { tracking_provider: provider, tracking_number: number }
		: { custom_tracking_provider: company || "Carrier", tracking_number: number, ...(payload.tracking.url ? { custom_tracking_link: payload.tracking.url } : {}) };
	const created = await wooCommerceCall(account, credentials, "POST", path, options, body);
	if (!created.ok) return missingExtension(created);
	return { ok: true, value: "added" };
}

/** `rest_no_route` on the extension's namespace: the store does not have it. */
function missingExtension(failure: CallFailure): CallFailure {
	if (failure.status === 404 && failure.error.includes("rest_no_route")) {
		return { ...failure, error: `${failure.error} (trackingMode "shipment-tracking" needs the Shipment Tracking extension on the store)` };
	}
	return failure;
}

// ---- Availability -----------------------------------------------------------------------------

// Products (wp-api-v3/_products.md) and variations (_product-variations.md): the fields read here.
const Product = z.looseObject({
	id: z.number().int().positive(),
	parent_id: z.number().int().nonnegative().nullish(),
	type: z.string().nullish(),
	sku: z.string().nullish(),
	manage_stock: z.union([z.boolean(), z.literal("parent")]).nullish(),
	stock_quantity: z.number().int().nullish(),
});

export type WooCommerceStockResult = { productId: number; variationId: number | null; stockQuantity: number; unchanged: boolean };

/**
 * Sets what the store offers of a SKU: finds the product or variation with `GET /products?sku=`
 * (the filter covers variations too: `type: "variation"` with `parent_id`), then
 * `PUT /products/<id>` or `PUT /products/<parent>/variations/<id>` with
 * `{"manage_stock":true,"stock_quantity":n}` (the quantity only sticks with stock management on,
 * so both go together). A SKU already at that quantity is left alone. No product with the SKU is
 * a permanent failure. WooCommerce splits `sku` on commas, so a SKU containing one is not found.
 */
export async function pushWooCommerceAvailability(
	account: WooCommerceAccount,
	credentials: WooCommerceCredentials,
	update: { sku: string; quantity: number },
	options: Options,
): Promise<CallResult<WooCommerceStockResult>> {
	const { sku, quantity } = update;
	if (!Number.isInteger(quantity) || quantity < 0) return refused(`not a stock quantity: ${quantity}`);
	const found = await wooCommerceCall(account, credentials, "GET", `${REST}/products?sku=${encodeURIComponent(sku)}&per_page=100`, options);
	if (!found.ok) return found;
	const products = z.array(Product).safeParse(found.body);
	if (!products.success) return unreadable("WooCommerce GET /products", products.error);
	const matches = products.data.filter((p) => p.sku === sku);
	if (matches.length === 0) return refused(`WooCommerce has no product or variation with SKU ${sku}`);
	if (matches.length > 1) return refused(`WooCommerce has ${matches.length} products with SKU ${sku}: ${matches.map((p) => p.id).join(", ")}`);
	const product = matches[0]!;
	const variation = product.type === "variation";
	if (variation && !product.parent_id) return refused(`WooCommerce variation ${product.id} (SKU ${sku}) has no parent_id`);
	const productId = variation ? product.parent_id! : product.id;
	const variationId = variation ? product.id : null;
	if (product.manage_stock === true && product.stock_quantity === quantity) {
		return { ok: true, value: { productId, variationId, stockQuantity: quantity, unchanged: true } };
	}
	const path = variation ? `${REST}/products/${productId}/variations/${variationId}` : `${REST}/products/${productId}`;
	const put = await wooCommerceCall(account, credentials, "PUT", path, options, { manage_stock: true, stock_quantity: quantity });
	if (!put.ok) return put;
	const after = Product.safeParse(put.body);
	if (!after.success) return unreadable(`WooCommerce PUT ${path}`, after.error);
	if (after.data.stock_quantity !== quantity) {
		return refused(`WooCommerce PUT ${path}: stock_quantity is ${after.data.stock_quantity ?? "null"} after setting ${quantity}`);
	}
	return { ok: true, value: { productId, variationId, stockQuantity: quantity, unchanged: false } };
}
