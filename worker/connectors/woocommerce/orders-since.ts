import type { CallResult } from "../call";
import type { WooCommerceAccount, WooCommerceCredentials } from "./account";
import { wooCommerceCall } from "./client";

export type { CallResult };

/**
 * The REST API's order list, for the reconciliation sweep: orders modified in a window, oldest
 * modification first, each the same resource WooCommerce's order webhooks carry.
 *
 * Pages are read by key, not by number: the next page starts after the last modification read.
 * An order modified while the window is read leaves it, and by page number every later order would
 * move up a page, one of them onto a page already read. Only when a whole page shares one
 * modification second does the next token carry a page number within that second.
 *
 * `GET /wp-json/wc/v3/orders?modified_after=…&modified_before=…&dates_are_gmt=true&orderby=modified&order=asc&status=any&per_page=100&page=N`;
 * `X-WP-TotalPages` says how many pages the query has. `modified_after` is exclusive and the
 * store keeps whole seconds, so the window is widened to the second on both sides (a few orders
 * read twice are duplicates). Through client.ts's call: HTTP Basic with the key pair.
 *
 * WooCommerce has no rate limit of its own; a host or CDN in front of it answers 429 or 503 with
 * Retry-After, which comes back as `retryAfterMs`.
 */

/** WordPress caps `per_page` at 100. */
export const WOOCOMMERCE_ORDERS_PER_PAGE = 100;

export type WooCommerceListedOrder = { channelOrderId: string; updatedAt: string; order: Record<string, unknown> };
export type WooCommerceOrdersPage = { orders: WooCommerceListedOrder[]; next: string | null };

type Options = { timeoutMs: number };

/** One page of the window: the first when `page` is null, else from the token the last page gave (`<ISO time>` or `<ISO time>|<page>`). */
export async function listWooCommerceOrdersSince(
	account: WooCommerceAccount,
	credentials: WooCommerceCredentials,
	window: { from: string; until: string },
	page: string | null,
	options: Options,
): Promise<CallResult<WooCommerceOrdersPage>> {
	const [after = window.from, pageText = "1"] = page === null ? [] : page.split("|");
	const number = Number(pageText);
	if (!/^\d{4}-\d{2}-\d{2}T/.test(after) || Number.isNaN(Date.parse(after)) || !Number.isSafeInteger(number) || number < 1) return { ok: false, retryable: false, error: `not a page token: ${page}` };
	const query = new URLSearchParams({
		modified_after: gmtSecond(Date.parse(after) - 1000),
		modified_before: gmtSecond(Date.parse(window.until) + 1000),
		dates_are_gmt: "true",
		orderby: "modified",
		order: "asc",
		status: "any",
		per_page: String(WOOCOMMERCE_ORDERS_PER_PAGE),
		page: String(number),
	});
	const label = "WooCommerce GET /wp-json/wc/v3/orders";
	const reply = await wooCommerceCall(account, credentials, "GET", `/wp-json/wc/v3/orders?${query}`, options);
	if (!reply.ok) return reply;
	const list = reply.body;
	if (!Array.isArray(list)) return { ok: false, retryable: false, error: `${label}: the answer is not a list of orders` };
	const orders: WooCommerceListedOrder[] = [];
	for (const [i, item] of list.entries()) {
		const order = item as Record<string, unknown> | null;
		const modified = order && typeof order.date_modified_gmt === "string" ? Date.parse(`${order.date_modified_gmt.replace(/Z$/, "")}Z`) : Number.NaN;
		if (!order || !Number.isSafeInteger(order.id) || Number.isNaN(modified)) return { ok: false, retryable: false, error: `${label}: [${i}] has no id or date_modified_gmt` };
		orders.push({ channelOrderId: String(order.id), updatedAt: new Date(modified).toISOString(), order });
	}
	const pages = Number(reply.headers.get("X-WP-TotalPages") ?? "1");
	if (!Number.isFinite(pages) || number >= pages || orders.length === 0) return { ok: true, value: { orders, next: null } };
	const [first, last] = [orders[0]!.updatedAt, orders.at(-1)!.updatedAt];
	// Past the last second read (its orders come again, as duplicates); a page all in one second goes on by number.
	const next = gmtSecond(Date.parse(last)) > gmtSecond(Date.parse(first)) ? last : `${after}|${number + 1}`;
	return { ok: true, value: { orders, next } };
}

/** 2026-01-01T10:00:05 (GMT, whole seconds), as WooCommerce takes its date filters. */
function gmtSecond(ms: number): string {
	return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19);
}
