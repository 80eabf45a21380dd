import { z } from "zod";
import { formatIssues, type ShopifyAdmin } from "../../config";
import type { CallResult } from "../call";
import { graphql } from "./admin";

/**
 * What the shop shows at the connection's location, read back for the drift check: one page of
 * `Location.inventoryLevels` (https://shopify.dev/docs/api/admin-graphql/latest/objects/Location,
 * InventoryLevelConnection), each level's item SKU and its `available` quantity
 * (`InventoryLevel.quantities(names: ["available"])`). Cursor-paged with `first`/`after` and
 * `pageInfo { hasNextPage endCursor }`. Rate limits are graphql()'s: a THROTTLED answer waits for
 * the bucket to refill (its throttleStatus says how long), a 429 for its Retry-After.
 */

/** Levels per page: the query costs about one point per level asked for, so a page takes ~100 of a 2,000-point bucket. */
export const SHOPIFY_LEVELS_PAGE = 100;

const LEVELS = `query StockLevels($location: ID!, $first: Int!, $after: String) {
  location(id: $location) {
    inventoryLevels(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { item { sku } quantities(names: ["available"]) { name quantity } }
    }
  }
}`;

const LevelsData = z.object({
	location: z
		.object({
			inventoryLevels: z.object({
				pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullish() }),
				nodes: z.array(
					z.object({
						item: z.object({ sku: z.string().nullish() }).nullish(),
						quantities: z.array(z.object({ name: z.string(), quantity: z.number().int() })),
					}),
				),
			}),
		})
		.nullable(),
});

/** One page of what the channel shows, and the cursor of the next page (null after the last). */
export type ShopifyLevelsPage = { levels: Array<{ sku: string; quantity: number }>; next: string | null };

/** One page of the location's levels, after `cursor` (the first page when null). Items without a SKU are left out. */
export async function readShopifyLevels(
	admin: ShopifyAdmin,
	token: string,
	cursor: string | null,
	options: { timeoutMs?: number; first?: number } = {},
): Promise<CallResult<ShopifyLevelsPage>> {
	const result = await graphql<unknown>(admin, token, LEVELS, { location: admin.locationId, first: options.first ?? SHOPIFY_LEVELS_PAGE, after: cursor }, options.timeoutMs);
	if (!result.ok) return { ...result, error: `Shopify inventoryLevels: ${result.error}` };
	const data = LevelsData.safeParse(result.value);
	if (!data.success) return { ok: false, retryable: false, error: `Shopify inventoryLevels: unexpected answer: ${formatIssues(data.error)}` };
	const location = data.data.location;
	if (!location) return { ok: false, retryable: false, error: `Shopify has no location ${admin.locationId} (admin.locationId)` };
	const levels = location.inventoryLevels.nodes.flatMap((node) => {
		const sku = node.item?.sku?.trim();
		if (!sku) return [];
		return [{ sku, quantity: node.quantities.find((q) => q.name === "available")?.quantity ?? 0 }];
	});
	const { hasNextPage, endCursor } = location.inventoryLevels.pageInfo;
	return { ok: true, value: { levels, next: hasNextPage && endCursor ? endCursor : null } };
}
