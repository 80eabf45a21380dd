import { z } from "zod";
import type { CallResult } from "../call";
import type { TikTokAccount, TikTokCredentials } from "./account";
import { call } from "./client";

export type { CallResult };

/**
 * Search Orders (Open API 202309), for the reconciliation sweep: orders updated in a window,
 * oldest update first. Each order in the answer has Get Order Detail's shape, so the normalizer
 * reads it as it is; no second call per order.
 *
 * `POST /order/202309/orders/search?page_size=100&sort_field=update_time&sort_order=ASC[&page_token=…]`
 * with `{ update_time_ge, update_time_lt }` (Unix seconds) in the body, the same body for every
 * page; the answer's `next_page_token` is empty on the last. Signed and failing like every call
 * of the client (client.ts): HTTP 429 or code 36009002 is retryable after Retry-After, else TikTok's
 * documented 1 s base backoff.
 */

/** Search Orders takes `page_size` from 1 to 100. */
export const TIKTOK_ORDERS_PER_PAGE = 100;

export type TikTokListedOrder = { channelOrderId: string; updatedAt: string; order: Record<string, unknown> };
export type TikTokOrdersPage = { orders: TikTokListedOrder[]; next: string | null };

type Options = { timeoutMs: number };

/** Only what the sweep needs of each order; the whole order is validated when it is fed. */
const SearchOrdersData = z.looseObject({
	next_page_token: z.string().nullish(),
	total_count: z.number().nullish(),
	orders: z.array(z.looseObject({ id: z.string().regex(/^\d+$/), update_time: z.number().int().nonnegative().nullish(), create_time: z.number().int().nonnegative() })).nullish(),
});

/** One page of the window: the first when `pageToken` is null. */
export async function listTikTokOrdersSince(
	account: TikTokAccount,
	credentials: TikTokCredentials,
	window: { from: string; until: string },
	pageToken: string | null,
	options: Options,
): Promise<CallResult<TikTokOrdersPage>> {
	const path = "/order/202309/orders/search";
	const query: Record<string, string> = { page_size: String(TIKTOK_ORDERS_PER_PAGE), sort_field: "update_time", sort_order: "ASC" };
	if (pageToken) query.page_token = pageToken;
	// Whole seconds: the start rounded down, the (exclusive) end up, so nothing at the edges is missed.
	const body = { update_time_ge: Math.floor(Date.parse(window.from) / 1000), update_time_lt: Math.floor(Date.parse(window.until) / 1000) + 1 };
	const result = await call(account, credentials, "POST", path, options, { query, body });
	if (!result.ok) return result;
	const data = SearchOrdersData.safeParse(result.value.data);
	if (!data.success) return { ok: false, retryable: false, error: `TikTok POST ${path}: unexpected data` };
	const orders = (data.data.orders ?? []).map((order) => {
		const updated = (order.update_time ?? 0) > 0 ? order.update_time! : order.create_time;
		return { channelOrderId: order.id, updatedAt: new Date(updated * 1000).toISOString(), order: order as Record<string, unknown> };
	});
	return { ok: true, value: { orders, next: data.data.next_page_token?.trim() || null } };
}
