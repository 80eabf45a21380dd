import { z } from "zod";
import { type CallResult, DEFAULT_TIMEOUT_MS } from "../call";
import type { AmazonAccount, AmazonCredentials } from "./account";
import { spApi } from "./sp-api";

/**
 * What Amazon shows of each merchant-fulfilled SKU, read back for the drift check: one page of
 * searchListingsItems, `GET /listings/2021-08-01/items/{sellerId}?marketplaceIds=&includedData=
 * summaries,fulfillmentAvailability&sortBy=createdDate&sortOrder=ASC&pageSize=20&pageToken=` (Listings Items API 2021-08-01,
 * "Search for listings items"): each item's `fulfillmentAvailability` entry with
 * `fulfillmentChannelCode` DEFAULT is the seller's own quantity, the one patchListingsItem sets;
 * FBA entries are Amazon's stock and are left out. Amazon pages through at most 1,000 results.
 *
 * The operation allows 5 requests a second (burst 5); the rate actually applied comes back in
 * `x-amzn-RateLimit-Limit`, and `waitMs` is one request's worth of it, to wait before the next
 * page. A 429 (QuotaExceeded) is retryable after that wait (sp-api.ts).
 */

/** searchListingsItems' largest page. */
export const AMAZON_LISTINGS_PAGE = 20;
const DEFAULT_RATE = 5;

const SearchResults = z.looseObject({
	numberOfResults: z.number().int().nullish(),
	pagination: z.looseObject({ nextToken: z.string().nullish() }).nullish(),
	items: z.array(
		z.looseObject({
			sku: z.string(),
			fulfillmentAvailability: z.array(z.looseObject({ fulfillmentChannelCode: z.string(), quantity: z.number().int().nullish() })).nullish(),
		}),
	),
});

/** One page of what the channel shows; `next` is the page token after it (null after the last). */
export type AmazonListingsPage = { levels: Array<{ sku: string; quantity: number }>; next: string | null; waitMs: number };

export async function readAmazonListings(
	account: AmazonAccount,
	credentials: AmazonCredentials,
	cursor: string | null,
	options: { timeoutMs?: number } = {},
): Promise<CallResult<AmazonListingsPage>> {
	const query = new URLSearchParams({
		marketplaceIds: account.marketplaceId,
		includedData: "summaries,fulfillmentAvailability",
		// Oldest first: new listings and ordersync's own patches (which move lastUpdatedDate, the default) do not shift pages.
		sortBy: "createdDate",
		sortOrder: "ASC",
		pageSize: String(AMAZON_LISTINGS_PAGE),
		...(cursor ? { pageToken: cursor } : {}),
	});
	const path = `/listings/2021-08-01/items/${encodeURIComponent(account.sellerId)}?${query}`;
	const result = await spApi(account, credentials, "GET", path, { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
	if (!result.ok) return result;
	const rate = Number(result.response.headers.get("x-amzn-RateLimit-Limit"));
	const parsed = SearchResults.safeParse(await result.response.json().catch(() => null));
	if (!parsed.success) return { ok: false, retryable: false, error: "Amazon searchListingsItems: unreadable answer" };
	const levels = parsed.data.items.flatMap((item) => {
		const own = item.fulfillmentAvailability?.find((entry) => entry.fulfillmentChannelCode === "DEFAULT");
		return own ? [{ sku: item.sku, quantity: own.quantity ?? 0 }] : [];
	});
	return {
		ok: true,
		value: { levels, next: parsed.data.pagination?.nextToken || null, waitMs: Math.ceil(1000 / (Number.isFinite(rate) && rate > 0 ? rate : DEFAULT_RATE)) },
	};
}
