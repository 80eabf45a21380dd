import type { ChannelFulfillment } from "../../model/fulfillment";
import type { CanonicalOrder } from "../../model/order";
import { type CallFailure, type CallResult, retryAfterMs, send } from "../call";
import { shippingProviderFor, type TikTokAccount, type TikTokCredentials } from "./account";
import { groupTikTokLineItems, isCancelledItem, isShippedItem, normalizeTikTokOrder, readTikTokOrderDetail } from "./normalize";
import { SearchProductsData, type TikTokOrder, TikTokEnvelope, UpdateInventoryData } from "./payloads";
import { signedTikTokUrl } from "./sign";

export type { CallResult };

/**
 * TikTok Shop Open API 202309, as ordersync uses it: Get Order Detail, ship a package with the
 * seller's own tracking, set a SKU's stock. Every call is signed (sign.ts) and carries
 * `app_key`, `timestamp`, `shop_cipher` and the `x-tts-access-token` header.
 *
 * Failures: HTTP 429 or business code 36009002 ("Too many requests") is retryable, after TikTok's
 * documented base backoff of 1 s unless a Retry-After says otherwise
 * (https://partner.tiktokshop.com/docv2/page/rate-limits); 5xx, 408 and code 36009003 ("Internal
 * error. Please try again.") are retryable; any other non-zero code (106001 invalid sign, 105002
 * expired token, …) is not. TikTok answers some failures with HTTP 200 and a non-zero code, so
 * the code is what decides.
 */

export const TIKTOK_BASE_URL = "https://open-api.tiktokglobalshop.com";
export const TIKTOK_RATE_LIMITED = 36009002;
export const TIKTOK_INTERNAL_ERROR = 36009003;
/** The rate-limits page's base delay for exponential backoff after a 429. */
const RATE_LIMIT_WAIT_MS = 1_000;
/** Update Inventory: quantity is "non-negative … and less then 99999". */
const MAX_STOCK = 99_998;

type Options = { timeoutMs: number };

/** One signed call; its value is the whole response body once `code` is 0. */
export async function call(
	account: TikTokAccount,
	credentials: TikTokCredentials,
	method: "GET" | "POST",
	path: string,
	options: Options,
	request: { query?: Record<string, string>; body?: unknown } = {},
): Promise<CallResult<{ data: unknown; body: unknown }>> {
	const raw = request.body === undefined ? "" : JSON.stringify(request.body);
	const url = await signedTikTokUrl({
		base: account.endpoint ?? TIKTOK_BASE_URL,
		path,
		appKey: account.appKey,
		appSecret: credentials.appSecret,
		params: { shop_cipher: account.shopCipher, ...request.query },
		body: raw,
		timestamp: Math.floor(Date.now() / 1000),
	});
	const label = `TikTok ${method} ${path}`;
	const result = await send(
		url,
		{
			method,
			// Both headers are required on every endpoint, GET included (TikTok's SDK and OpenAPI spec).
			headers: { "x-tts-access-token": credentials.accessToken, "Content-Type": "application/json" },
			body: method === "GET" ? undefined : raw,
		},
		{ timeoutMs: options.timeoutMs, readable: () => true },
	);
	if (!result.ok) return { ...result, error: `${label}: ${result.error}` };
	const response = result.response;
	const status = response.status;
	const text = await response.text().catch(() => null);
	if (text === null) return { ok: false, retryable: true, status, error: `${label}: ${status}: the body was cut off` };
	let body: unknown = null;
	try {
		body = JSON.parse(text);
	} catch {
		// Not TikTok's envelope: a proxy or an outage. Classified by status alone, as call.ts does.
	}
	const envelope = TikTokEnvelope.safeParse(body);
	const code = envelope.success ? envelope.data.code : null;
	const detail = envelope.success
		? `code ${code}: ${envelope.data.message ?? ""}${envelope.data.request_id ? ` (request ${envelope.data.request_id})` : ""}`
		: text.slice(0, 300);
	const failed = (retryable: boolean, extra: Partial<CallFailure> = {}): CallFailure => ({ ok: false, retryable, status, error: `${label}: ${status}: ${detail}`, ...extra });

	if (status === 429 || code === TIKTOK_RATE_LIMITED) {
		return failed(true, { retryAfterMs: retryAfterMs(response.headers.get("Retry-After")) ?? RATE_LIMIT_WAIT_MS });
	}
	if (status >= 500 || status === 408 || code === TIKTOK_INTERNAL_ERROR) return failed(true, { retryAfterMs: retryAfterMs(response.headers.get("Retry-After")) });
	if (!envelope.success) return failed(response.ok);
	if (code !== 0 || !response.ok) return failed(false);
	return { ok: true, value: { data: envelope.data.data, body } };
}

/**
 * GET /order/202309/orders?ids= (https://partner.tiktokshop.com/docv2/page/get-order-detail-202309),
 * the order as TikTok sends it. An order missing from the answer is retryable: a notification
 * can arrive before the order is readable (TikTok's docs are silent on that lag).
 */
export async function getTikTokOrder(account: TikTokAccount, credentials: TikTokCredentials, channelOrderId: string, options: Options): Promise<CallResult<TikTokOrder>> {
	const path = "/order/202309/orders";
	const result = await call(account, credentials, "GET", path, options, { query: { ids: channelOrderId } });
	if (!result.ok) return result;
	const read = readTikTokOrderDetail(result.value.body, channelOrderId);
	if (!read.ok) return { ok: false, retryable: read.missing === true, error: `TikTok GET ${path}: ${read.error}` };
	return { ok: true, value: read.order };
}

/** The order, normalized: what ordersync does with a notification that names it. */
export async function fetchTikTokOrder(
	account: TikTokAccount,
	credentials: TikTokCredentials,
	connectionId: string,
	channelOrderId: string,
	options: Options,
): Promise<CallResult<CanonicalOrder>> {
	const order = await getTikTokOrder(account, credentials, channelOrderId, options);
	if (!order.ok) return order;
	try {
		return { ok: true, value: normalizeTikTokOrder(order.value, connectionId) };
	} catch (error) {
		if (error instanceof RangeError) return { ok: false, retryable: false, error: `TikTok order ${channelOrderId}: ${error.message}` };
		throw error;
	}
}

export type TikTokRelayed = { existing: boolean; lineItemIds: string[]; packageId?: string; via?: "ship_package" | "mark_package_as_shipped" };

type Plan = { ok: true; existing: string[]; toShip: string[] } | { ok: false; error: string };

/** Which unit line items this shipment still has to ship, and which already carry its tracking number. */
function plan(order: TikTokOrder, payload: ChannelFulfillment, tracking: string): Plan {
	const groups = new Map(groupTikTokLineItems(order.line_items).map((g) => [g.channelLineId, g.items]));
	const existing: string[] = [];
	const toShip: string[] = [];
	for (const { channelLineId, quantity } of payload.lines) {
		const items = groups.get(channelLineId);
		if (!items) return { ok: false, error: `order ${order.id} has no line ${channelLineId}` };
		const done = items.filter((item) => item.tracking_number?.trim() === tracking);
		existing.push(...done.slice(0, quantity).map((item) => item.id));
		const need = quantity - Math.min(quantity, done.length);
		if (need === 0) continue;
		const open = items.filter((item) => !isShippedItem(item) && !isCancelledItem(item)).sort((a, b) => (a.id.length - b.id.length) || (a.id < b.id ? -1 : 1));
		if (open.length < need) {
			const why = order.status === "CANCELLED" ? `order ${order.id} is cancelled` : `line ${channelLineId} of order ${order.id} has ${open.length} unit(s) left to ship, not ${need}`;
			return { ok: false, error: why };
		}
		toShip.push(...open.slice(0, need).map((item) => item.id));
	}
	return { ok: true, existing, toShip };
}

/**
 * Tells TikTok a shipment left with the seller's own carrier. Idempotent by looking first: the
 * order is read, and units of the shipment's lines that already carry its tracking number count
 * as shipped (an earlier attempt whose answer was lost), so only the rest is shipped; when
 * nothing is left, nothing is sent. A refusal is checked against the order once more, so a ship
 * that landed while its answer was lost is a success there too.
 *
 * Two documented ways, chosen by the units left:
 * - all the open units of one package that TikTok already made (markets where packages exist
 *   before shipping): Ship Package, `POST /fulfillment/202309/packages/{package_id}/ship` with
 *   `self_shipment { tracking_number, shipping_provider_id }`;
 * - anything else (US/UK before shipping, part of a package): Mark Package As Shipped,
 *   `POST /fulfillment/202309/orders/{order_id}/packages` with `order_line_item_ids`, which
 *   "is currently exclusive to US, UK, ES, IE, IT, DE, FR, JP".
 */
export async function relayTikTokFulfillment(
	account: TikTokAccount,
	credentials: TikTokCredentials,
	payload: ChannelFulfillment,
	options: Options,
): Promise<CallResult<TikTokRelayed>> {
	const tracking = payload.tracking.number?.trim();
	// Seller shipping always takes a tracking number (Ship Package, Mark Package As Shipped).
	if (!tracking) return { ok: false, retryable: false, error: `TikTok needs a tracking number to ship order ${payload.channelOrderId} (shipment ${payload.shipmentId})` };
	const provider = shippingProviderFor(account, payload.tracking.company);
	if (!provider) return { ok: false, retryable: false, error: `no TikTok shipping_provider_id for carrier ${payload.tracking.company ?? "(none)"}` };

	const read = await getTikTokOrder(account, credentials, payload.channelOrderId, options);
	if (!read.ok) return read;
	const order = read.value;
	const planned = plan(order, payload, tracking);
	if (!planned.ok) return { ok: false, retryable: false, error: `TikTok: ${planned.error}` };
	if (planned.toShip.length === 0) return { ok: true, value: { existing: true, lineItemIds: planned.existing } };

	const chosen = order.line_items.filter((item) => planned.toShip.includes(item.id));
	const packageIds = new Set(chosen.map((item) => item.package_id?.trim() || null));
	const [packageId] = packageIds;
	const wholePackage =
		packageIds.size === 1 &&
		packageId != null &&
		order.line_items.filter((item) => item.package_id === packageId && !isShippedItem(item) && !isCancelledItem(item)).every((item) => planned.toShip.includes(item.id));

	let written: CallResult<{ data: unknown }>;
	if (wholePackage) {
		written = await call(account, credentials, "POST", `/fulfillment/202309/packages/${encodeURIComponent(packageId)}/ship`, options, {
			body: { self_shipment: { tracking_number: tracking, shipping_provider_id: provider } },
		});
	} else {
		written = await call(account, credentials, "POST", `/fulfillment/202309/orders/${encodeURIComponent(order.id)}/packages`, options, {
			body: { order_line_item_ids: planned.toShip, shipping_provider_id: provider, tracking_number: tracking },
		});
	}
	const via = wholePackage ? "ship_package" : "mark_package_as_shipped";
	if (!written.ok) {
		if (written.retryable) return written;
		// Refused: perhaps because an earlier attempt shipped these units after all.
		const again = await getTikTokOrder(account, credentials, payload.channelOrderId, options);
		if (again.ok) {
			const now = plan(again.value, payload, tracking);
			if (now.ok && now.toShip.length === 0) return { ok: true, value: { existing: true, lineItemIds: now.existing } };
		}
		return written;
	}
	const data = written.value.data as { package_id?: unknown } | null;
	const shippedPackage = typeof data?.package_id === "string" ? data.package_id : wholePackage ? packageId : undefined;
	return { ok: true, value: { existing: false, lineItemIds: [...planned.existing, ...planned.toShip], via, ...(shippedPackage ? { packageId: shippedPackage } : {}) } };
}

export type TikTokStockSet = { updated: Array<{ productId: string; skuId: string }>; notLive: Array<{ productId: string; status: string }> };

/**
 * Sets what TikTok offers of a seller SKU at the account's warehouse. The SKU's TikTok ids are
 * looked up on every push (nothing cached: a product re-created in Seller Center gets new ids):
 * Search Products, `POST /product/202309/products/search` with `seller_skus`, matched exactly on
 * `skus[].seller_sku` since the filter returns whole products. Then Update Inventory,
 * `POST /product/202309/products/{product_id}/inventory/update` with the absolute quantity for
 * `warehouse_id`, one call per product that has the SKU. Only live products (ACTIVATE) take
 * stock ("updated only by this SKU in live status"); others are reported, not refused. The same
 * quantity set twice is the same state, so a retry is harmless.
 */
export async function pushTikTokAvailability(
	account: TikTokAccount,
	credentials: TikTokCredentials,
	update: { sku: string; quantity: number },
	options: Options,
): Promise<CallResult<TikTokStockSet>> {
	const found = await findTikTokSku(account, credentials, update.sku, options);
	if (!found.ok) return found;
	const live = found.value.filter((m) => m.status === "ACTIVATE" || m.status == null);
	const notLive = found.value.filter((m) => !live.includes(m)).map((m) => ({ productId: m.productId, status: m.status ?? "" }));
	if (found.value.length === 0) return { ok: false, retryable: false, error: `TikTok Shop has no SKU with seller_sku ${update.sku}` };

	const quantity = Math.max(0, Math.min(MAX_STOCK, Math.floor(update.quantity)));
	const updated: TikTokStockSet["updated"] = [];
	const byProduct = Map.groupBy(live, (m) => m.productId);
	for (const [productId, skus] of byProduct) {
		const path = `/product/202309/products/${encodeURIComponent(productId)}/inventory/update`;
		const result = await call(account, credentials, "POST", path, options, {
			body: { skus: skus.map((s) => ({ id: s.skuId, inventory: [{ warehouse_id: account.warehouseId, quantity }] })) },
		});
		if (!result.ok) return result;
		// A top-level code 0 can still carry per-SKU failures.
		const data = UpdateInventoryData.safeParse(result.value.data);
		const errors = data.success ? (data.data?.errors ?? []) : [];
		if (errors.length > 0) {
			const detail = errors.map((e) => `${e.detail?.sku_id ?? "?"}: code ${e.code ?? "?"} ${e.message ?? ""}`.trim()).join("; ");
			const retryable = errors.every((e) => e.code === TIKTOK_RATE_LIMITED || e.code === TIKTOK_INTERNAL_ERROR);
			return { ok: false, retryable, error: `TikTok POST ${path}: ${detail}`, ...(retryable ? { retryAfterMs: RATE_LIMIT_WAIT_MS } : {}) };
		}
		updated.push(...skus.map((s) => ({ productId, skuId: s.skuId })));
	}
	return { ok: true, value: { updated, notLive } };
}

type SkuMatch = { productId: string; skuId: string; status: string | null };

/** Every (product, SKU) whose seller SKU is exactly `sellerSku`, through all result pages. */
async function findTikTokSku(account: TikTokAccount, credentials: TikTokCredentials, sellerSku: string, options: Options): Promise<CallResult<SkuMatch[]>> {
	const path = "/product/202309/products/search";
	const matches: SkuMatch[] = [];
	let pageToken: string | null = null;
	// A seller SKU filter matches few products; the bound only guards against a token that never ends.
	for (let page = 0; page < 10; page++) {
		const query: Record<string, string> = { page_size: "100", ...(pageToken ? { page_token: pageToken } : {}) };
		const result: CallResult<{ data: unknown }> = await call(account, credentials, "POST", path, options, { query, body: { seller_skus: [sellerSku] } });
		if (!result.ok) return result;
		const data = SearchProductsData.safeParse(result.value.data);
		if (!data.success) return { ok: false, retryable: false, error: `TikTok POST ${path}: unexpected data` };
		for (const product of data.data.products ?? []) {
			for (const sku of product.skus ?? []) {
				if (sku.seller_sku === sellerSku) matches.push({ productId: product.id, skuId: sku.id, status: product.status ?? null });
			}
		}
		pageToken = data.data.next_page_token?.trim() || null;
		if (!pageToken) break;
	}
	return { ok: true, value: matches };
}
