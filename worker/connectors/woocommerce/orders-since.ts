import { type CallResult, send } from "../call";
import type { WooCommerceAccount, WooCommerceCredentials } from "./account";

export type { CallResult };

/**
 * The REST API's order list, for the reconciliation sweep: orders modified in a window, oldest
 * modification first, each the same resource WooCommerce's order webhooks carry.
 *
 * `GET /wp-json/wc/v3/orders?modified_after=…&modified_before=…&dates_are_gmt=true&orderby=modified&order=asc&status=any&per_page=100&page=N`;
 * `X-WP-TotalPages` says how many pages the query has. `modified_after` is exclusive and the
 * store keeps whole seconds, so the window is widened to the second on both sides (a few orders
 * read twice are duplicates). Auth as the client's: HTTP Basic with the key pair.
 *
 * WooCommerce has no rate limit of its own; a host or CDN in front of it answers 429 or 503 with
 * Retry-After, which comes back as `retryAfterMs`.
 */

/** WordPress caps `per_page` at 100. */
export const WOOCOMMERCE_ORDERS_PER_PAGE = 100;

export type WooCommerceListedOrder = { channelOrderId: string; updatedAt: string; order: Record<string, unknown> };
export type WooCommerceOrdersPage = { orders: WooCommerceListedOrder[]; next: string | null };

type Options = { timeoutMs: number };

/** One page of the window: the first when `page` is null, else that page number. */
export async function listWooCommerceOrdersSince(
	account: WooCommerceAccount,
	credentials: WooCommerceCredentials,
	window: { from: string; until: string },
	page: string | null,
	options: Options,
): Promise<CallResult<WooCommerceOrdersPage>> {
	const number = page === null ? 1 : Number(page);
	if (!Number.isSafeInteger(number) || number < 1) return { ok: false, retryable: false, error: `not a page number: ${page}` };
	const query = new URLSearchParams({
		modified_after: gmtSecond(Date.parse(window.from) - 1000),
		modified_before: gmtSecond(Date.parse(window.until) + 1000),
		dates_are_gmt: "true",
		orderby: "modified",
		order: "asc",
		status: "any",
		per_page: String(WOOCOMMERCE_ORDERS_PER_PAGE),
		page: String(number),
	});
	const base = (account.endpoint ?? account.storeUrl).replace(/\/+$/, "");
	const label = "WooCommerce GET /orders";
	const result = await send(
		`${base}/wp-json/wc/v3/orders?${query}`,
		{ headers: { Authorization: `Basic ${btoa(`${account.consumerKey}:${credentials.consumerSecret}`)}`, Accept: "application/json" } },
		options,
	);
	if (!result.ok) return { ...result, error: `${label}: ${result.error}` };
	const text = await result.response.text().catch(() => null);
	if (text === null) return { ok: false, retryable: true, error: `${label}: the body was cut off` };
	let list: unknown;
	try {
		list = JSON.parse(text);
	} catch {
		// An HTML page where JSON was expected: /wp-json is not routed or a proxy answered.
		return { ok: false, retryable: false, error: `${label}: not JSON: ${text.slice(0, 200)}` };
	}
	if (!Array.isArray(list)) return { ok: false, retryable: false, error: `${label}: the answer is not a list of orders` };
	const orders: WooCommerceListedOrder[] = [];
	for (const [i, item] of list.entries()) {
		const order = item as Record<string, unknown> | null;
		const modified = order && typeof order.date_modified_gmt === "string" ? Date.parse(`${order.date_modified_gmt.replace(/Z$/, "")}Z`) : Number.NaN;
		if (!order || !Number.isSafeInteger(order.id) || Number.isNaN(modified)) return { ok: false, retryable: false, error: `${label}: [${i}] has no id or date_modified_gmt` };
		orders.push({ channelOrderId: String(order.id), updatedAt: new Date(modified).toISOString(), order });
	}
	const pages = Number(result.response.headers.get("X-WP-TotalPages") ?? "1");
	return { ok: true, value: { orders, next: Number.isFinite(pages) && number < pages ? String(number + 1) : null } };
}

/** 2026-01-01T10:00:05 (GMT, whole seconds), as WooCommerce takes its date filters. */
function gmtSecond(ms: number): string {
	return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19);
}
