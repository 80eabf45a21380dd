import { z } from "zod";
import type { CallResult } from "../call";
import type { AmazonAccount, AmazonCredentials } from "./account";
import { errorText, type Options, spApi } from "./sp-api";

export type { CallResult };

/**
 * getOrders (Orders API v0), for the reconciliation sweep: the seller's orders in the account's
 * marketplace updated in a window. Only each order's id and LastUpdateDate are used: the order is
 * then read as a notification has it read (getOrder + getOrderItems, with a Restricted Data Token).
 *
 * `GET /orders/v0/orders?MarketplaceIds=…&LastUpdatedAfter=…&LastUpdatedBefore=…&MaxResultsPerPage=100`,
 * then `NextToken` (with MarketplaceIds, which is always required) while the answer has one.
 * `LastUpdatedBefore` must be "no later than two minutes before the time that the request was
 * submitted": the sweep's window ends there (`AMAZON_SETTLE_MS`). Amazon does not document the
 * list's order, so the sweep's cursor moves only when a window is done.
 *
 * Rate: 0.0167 requests a second with a burst of 20. A 429 has no Retry-After; the wait is one
 * request's worth of `x-amzn-RateLimit-Limit` (sp-api.ts), a minute at the default rate.
 */

export const AMAZON_ORDERS_PER_PAGE = 100;
/** How far behind now a getOrders window must end. */
export const AMAZON_SETTLE_MS = 2 * 60_000;

export type AmazonListedOrder = { channelOrderId: string; updatedAt: string; order: Record<string, unknown> };
export type AmazonOrdersPage = { orders: AmazonListedOrder[]; next: string | null };

const GetOrdersResponse = z.looseObject({
	payload: z.looseObject({
		Orders: z.array(z.looseObject({ AmazonOrderId: z.string().min(1), LastUpdateDate: z.string().min(1) })),
		NextToken: z.string().nullish(),
	}),
});

/** Whole seconds, as Amazon writes its times: 2026-01-01T10:00:05Z. */
const amazonTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** One page of the window: the first when `nextToken` is null. */
export async function listAmazonOrdersSince(
	account: AmazonAccount,
	credentials: AmazonCredentials,
	window: { from: string; until: string },
	nextToken: string | null,
	options: Options,
): Promise<CallResult<AmazonOrdersPage>> {
	const query = new URLSearchParams({ MarketplaceIds: account.marketplaceId });
	if (nextToken) query.set("NextToken", nextToken);
	else {
		query.set("LastUpdatedAfter", amazonTime(Date.parse(window.from)));
		query.set("LastUpdatedBefore", amazonTime(Date.parse(window.until)));
		query.set("MaxResultsPerPage", String(AMAZON_ORDERS_PER_PAGE));
	}
	const result = await spApi(account, credentials, "GET", `/orders/v0/orders?${query}`, options, { readable: [400] });
	if (!result.ok) return result;
	const text = await result.response.text().catch(() => null);
	if (text === null) return { ok: false, retryable: true, error: "Amazon GET /orders/v0/orders: the body was cut off" };
	// A NextToken Amazon no longer takes, or a window it refuses: nothing a retry would change.
	if (result.response.status === 400) return { ok: false, retryable: false, status: 400, error: `Amazon GET /orders/v0/orders: 400 ${errorText(text)}` };
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		return { ok: false, retryable: false, error: `Amazon GET /orders/v0/orders: not JSON: ${text.slice(0, 200)}` };
	}
	const parsed = GetOrdersResponse.safeParse(body);
	if (!parsed.success) return { ok: false, retryable: false, error: "Amazon GET /orders/v0/orders: unexpected answer" };
	const orders: AmazonListedOrder[] = [];
	for (const order of parsed.data.payload.Orders) {
		const updated = Date.parse(order.LastUpdateDate);
		if (Number.isNaN(updated)) return { ok: false, retryable: false, error: `Amazon GET /orders/v0/orders: order ${order.AmazonOrderId} has LastUpdateDate ${order.LastUpdateDate}` };
		orders.push({ channelOrderId: order.AmazonOrderId, updatedAt: new Date(updated).toISOString(), order: order as Record<string, unknown> });
	}
	return { ok: true, value: { orders, next: parsed.data.payload.NextToken?.trim() || null } };
}
