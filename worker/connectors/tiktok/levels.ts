import { z } from "zod";
import { type CallResult, DEFAULT_TIMEOUT_MS } from "../call";
import type { TikTokAccount, TikTokCredentials } from "./account";
import { call } from "./client";

/**
 * What TikTok Shop shows of each seller SKU at the account's warehouse, read back for the drift
 * check: one page of Search Products, `POST /product/202309/products/search?page_size=100&page_token=`
 * with `{"status":"ACTIVATE"}` (only live products take stock), whose `skus[].inventory[]` gives
 * the quantity per `warehouse_id` (TikTok's SDK, Product202309SearchProductsResponseDataProductsSkusInventory).
 * A SKU with no entry for the warehouse shows 0 there. Signed and classified by client.ts `call`:
 * 429 or code 36009002 is retryable after Retry-After, else TikTok's documented 1 s base backoff.
 */

export const TIKTOK_STOCK_PAGE = 100;

const Text = z.string().nullish();
const SearchData = z.looseObject({
	next_page_token: Text,
	products: z
		.array(
			z.looseObject({
				id: z.string(),
				skus: z
					.array(
						z.looseObject({
							seller_sku: Text,
							inventory: z.array(z.looseObject({ warehouse_id: Text, quantity: z.number().int().nullish() })).nullish(),
						}),
					)
					.nullish(),
			}),
		)
		.nullish(),
});

/** One page of what the channel shows; `next` is the page token after it (null after the last). */
export type TikTokStockPage = { levels: Array<{ sku: string; quantity: number }>; next: string | null };

export async function readTikTokStock(
	account: TikTokAccount,
	credentials: TikTokCredentials,
	cursor: string | null,
	options: { timeoutMs?: number } = {},
): Promise<CallResult<TikTokStockPage>> {
	const path = "/product/202309/products/search";
	const result = await call(account, credentials, "POST", path, { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS }, {
		query: { page_size: String(TIKTOK_STOCK_PAGE), ...(cursor ? { page_token: cursor } : {}) },
		body: { status: "ACTIVATE" },
	});
	if (!result.ok) return result;
	const data = SearchData.safeParse(result.value.data);
	if (!data.success) return { ok: false, retryable: false, error: `TikTok POST ${path}: unexpected data` };
	const levels = (data.data.products ?? []).flatMap((product) =>
		(product.skus ?? []).flatMap((sku) => {
			const sellerSku = sku.seller_sku?.trim();
			if (!sellerSku) return [];
			const quantity = sku.inventory?.find((level) => level.warehouse_id === account.warehouseId)?.quantity ?? 0;
			return [{ sku: sellerSku, quantity }];
		}),
	);
	return { ok: true, value: { levels, next: data.data.next_page_token?.trim() || null } };
}
