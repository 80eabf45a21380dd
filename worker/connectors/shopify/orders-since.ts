import type { ShopifyAdmin } from "../../config";
import { type CallResult, retryAfterMs } from "../call";
import { parseShopifyJson } from "./payloads";

export type { CallResult };

/**
 * The REST Admin API's order list, for the reconciliation sweep: orders updated in a window,
 * oldest update first, in the shape Shopify's orders/* webhooks carry (the same normalizer reads
 * both). REST rather than GraphQL because its `Order` resource is exactly the webhook body.
 *
 * `GET /admin/api/{version}/orders.json?status=any&updated_at_min=…&updated_at_max=…&order=updated_at asc&limit=250`,
 * then the `page_info` of the `Link: <…>; rel="next"` header; a request with `page_info` may
 * carry nothing else but `limit` (Shopify keeps the filters and the order in the cursor).
 * `status=any`, or cancelled and closed orders would be left out (the default is open only).
 *
 * Rate limit: a leaky bucket of 40 calls per app and store, 2 a second (Plus: 80 and 4); past it
 * Shopify answers 429 with `Retry-After` in seconds, which comes back as `retryAfterMs`.
 */

/** The most the REST list gives per page. */
export const SHOPIFY_ORDERS_PER_PAGE = 250;

export type ShopifyListedOrder = { channelOrderId: string; updatedAt: string; order: Record<string, unknown> };
export type ShopifyOrdersPage = { orders: ShopifyListedOrder[]; next: string | null };

type Options = { timeoutMs: number };

/** One page: the first of the window when `pageInfo` is null, else the one that cursor names. */
export async function listShopifyOrdersSince(
	admin: ShopifyAdmin,
	token: string,
	window: { from: string; until: string },
	pageInfo: string | null,
	options: Options,
): Promise<CallResult<ShopifyOrdersPage>> {
	const base = `${admin.endpoint ?? `https://${admin.shop}`}/admin/api/${admin.apiVersion}/orders.json`;
	const query = new URLSearchParams({ limit: String(SHOPIFY_ORDERS_PER_PAGE) });
	if (pageInfo) query.set("page_info", pageInfo);
	else {
		query.set("status", "any");
		query.set("updated_at_min", window.from);
		query.set("updated_at_max", window.until);
		query.set("order", "updated_at asc");
	}
	const label = "Shopify GET /orders.json";
	const result = await get(`${base}?${query}`, token, options.timeoutMs);
	if (!result.ok) return { ...result, error: `${label}: ${result.error}` };
	const { text, link } = result;
	let body: unknown;
	try {
		// Ids beyond 2^53 stay exact as strings, as in the webhook route.
		body = parseShopifyJson(text);
	} catch {
		return { ok: false, retryable: false, error: `${label}: not JSON: ${text.slice(0, 200)}` };
	}
	const list = (body as { orders?: unknown } | null)?.orders;
	if (!Array.isArray(list)) return { ok: false, retryable: false, error: `${label}: the answer has no orders list` };
	const orders: ShopifyListedOrder[] = [];
	for (const [i, item] of list.entries()) {
		const order = item as Record<string, unknown> | null;
		const id = order ? orderId(order) : null;
		const updatedAt = typeof order?.updated_at === "string" ? Date.parse(order.updated_at) : Number.NaN;
		if (!order || !id || Number.isNaN(updatedAt)) return { ok: false, retryable: false, error: `${label}: orders[${i}] has no id or updated_at` };
		orders.push({ channelOrderId: id, updatedAt: new Date(updatedAt).toISOString(), order });
	}
	return { ok: true, value: { orders, next: nextPageInfo(link) } };
}


/**
 * The GET with its deadline, classified as call.ts's `send` classifies (network, timeout, 408, 429
 * and 5xx retryable; Retry-After kept). The deadline's timer is cleared once the body is in: a
 * timer left running (AbortSignal.timeout) keeps the sweep's object busy until it fires, so it
 * cannot be evicted or hibernate in between.
 */
async function get(url: string, token: string, timeoutMs: number): Promise<{ ok: true; text: string; link: string | null } | Extract<CallResult<never>, { ok: false }>> {
	const controller = new AbortController();
	const timer = setTimeout(() => controller.abort(new DOMException("the request timed out", "TimeoutError")), timeoutMs);
	try {
		const response = await fetch(url, { headers: { "X-Shopify-Access-Token": token, Accept: "application/json" }, signal: controller.signal });
		const text = await response.text();
		if (response.ok) return { ok: true, text, link: response.headers.get("Link") };
		const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
		const wait = retryAfterMs(response.headers.get("Retry-After"));
		return { ok: false, retryable, status: response.status, error: `${response.status}${text ? `: ${text.slice(0, 300)}` : ""}`, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
	} catch (error) {
		const name = (error as Error).name;
		return { ok: false, retryable: true, error: `network: ${name === "TimeoutError" || name === "AbortError" ? "timed out" : (error as Error).message}` };
	} finally {
		clearTimeout(timer);
	}
}

/** The order's exact id, as the normalizer takes it: the gid's digits, else the REST id. */
function orderId(order: Record<string, unknown>): string | null {
	const gid = typeof order.admin_graphql_api_id === "string" ? /\/(\d+)$/.exec(order.admin_graphql_api_id)?.[1] : undefined;
	if (gid) return gid;
	const id = order.id;
	return typeof id === "string" || (typeof id === "number" && Number.isSafeInteger(id)) ? String(id) : null;
}

/** `<https://…/orders.json?limit=250&page_info=abc>; rel="next", <…>; rel="previous"` → abc. */
export function nextPageInfo(link: string | null): string | null {
	if (!link) return null;
	for (const part of link.split(",")) {
		const match = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part.trim());
		if (!match) continue;
		try {
			return new URL(match[1]!).searchParams.get("page_info");
		} catch {
			return null;
		}
	}
	return null;
}
