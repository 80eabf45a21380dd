import { z } from "zod";
import { formatIssues } from "../../config";
import { type CallResult, DEFAULT_TIMEOUT_MS } from "../call";
import type { WooCommerceAccount, WooCommerceCredentials } from "./account";
import { wooCommerceCall } from "./client";

/**
 * What the store shows of each SKU, read back for the drift check: one page of
 * `GET /wp-json/wc/v3/products?per_page=100&page=N` (wp-api-v3/_products.md), oldest first so
 * pages do not shift as products are added, with `_fields` cut to the stock fields. The page
 * count is the `X-WP-TotalPages` header. Variations are not in that list: each variable product's
 * come from `GET /products/<id>/variations` (_product-variations.md), paged the same way.
 *
 * A product or variation whose `manage_stock` is off (or "parent") shows null: the store does not
 * count its stock and sells it without limit, which is drift for a SKU ordersync stocks (its push
 * turns stock management on). Through client.ts's call (HTTP Basic with the key pair); a host's
 * 429 with Retry-After is a retryable failure with its wait.
 */

export const WOOCOMMERCE_STOCK_PAGE = 100;
/** Variation pages read per variable product (100 variations each): WooCommerce allows far fewer variations than this. */
const MAX_VARIATION_PAGES = 10;
const REST = "/wp-json/wc/v3";
const FIELDS = "id,type,sku,manage_stock,stock_quantity";

const Listed = z.array(
	z.looseObject({
		id: z.number().int().positive(),
		type: z.string().nullish(),
		sku: z.string().nullish(),
		manage_stock: z.union([z.boolean(), z.literal("parent")]).nullish(),
		stock_quantity: z.number().int().nullish(),
	}),
);
type Listed = z.infer<typeof Listed>;

/** One page of what the channel shows; `next` is the page to read after it (null after the last). */
export type WooCommerceStockPage = { levels: Array<{ sku: string; quantity: number | null }>; next: string | null };

/** One page of products (and the variations of the variable ones among them); `cursor` is the page number, "1" when null. */
export async function readWooCommerceStock(
	account: WooCommerceAccount,
	credentials: WooCommerceCredentials,
	cursor: string | null,
	options: { timeoutMs?: number } = {},
): Promise<CallResult<WooCommerceStockPage>> {
	const page = cursor === null ? 1 : Number(cursor);
	if (!Number.isInteger(page) || page < 1) return { ok: false, retryable: false, error: `not a WooCommerce page number: ${JSON.stringify(cursor)}` };
	const listed = await list(account, credentials, `${REST}/products?per_page=${WOOCOMMERCE_STOCK_PAGE}&page=${page}&orderby=id&order=asc&_fields=${FIELDS}`, options);
	if (!listed.ok) return listed;
	const rows: Listed = [...listed.value.rows];
	for (const product of listed.value.rows) {
		if (product.type !== "variable") continue;
		for (let variationPage = 1; variationPage <= MAX_VARIATION_PAGES; variationPage++) {
			const variations = await list(
				account, credentials,
				`${REST}/products/${product.id}/variations?per_page=100&page=${variationPage}&orderby=id&order=asc&_fields=${FIELDS}`,
				options,
			);
			if (!variations.ok) return variations;
			rows.push(...variations.value.rows);
			if (variationPage >= variations.value.totalPages) break;
		}
	}
	const levels = rows.flatMap((row) => {
		const sku = row.sku?.trim();
		if (!sku) return [];
		return [{ sku, quantity: row.manage_stock === true ? (row.stock_quantity ?? 0) : null }];
	});
	return { ok: true, value: { levels, next: page < listed.value.totalPages ? String(page + 1) : null } };
}

/** One authenticated GET of a list (client.ts's call): its rows and the X-WP-TotalPages header. */
async function list(
	account: WooCommerceAccount,
	credentials: WooCommerceCredentials,
	path: string,
	options: { timeoutMs?: number },
): Promise<CallResult<{ rows: Listed; totalPages: number }>> {
	const reply = await wooCommerceCall(account, credentials, "GET", path, { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
	if (!reply.ok) return reply;
	const rows = Listed.safeParse(reply.body);
	if (!rows.success) return { ok: false, retryable: false, error: `WooCommerce GET ${path.split("?")[0]}: unexpected answer: ${formatIssues(rows.error)}` };
	const totalPages = Number(reply.headers.get("X-WP-TotalPages") ?? 1);
	return { ok: true, value: { rows: rows.data, totalPages: Number.isInteger(totalPages) && totalPages > 0 ? totalPages : 1 } };
}
