import type { ShopifyAdmin } from "../../config";
import { type CallResult, DEFAULT_TIMEOUT_MS, retryAfterMs } from "../call";

export type { CallResult };

type ThrottleStatus = { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
type GraphqlBody<T> = {
	data?: T;
	errors?: Array<{ message: string; extensions?: { code?: string } }> | string;
	extensions?: { cost?: { requestedQueryCost?: number; throttleStatus?: ThrottleStatus } };
};

/**
 * One Admin GraphQL call. Shopify limits by calculated query cost: a throttled call answers 200
 * with a THROTTLED error and the bucket's state, from which the wait until it refills is known.
 */
export async function graphql<T>(
	admin: ShopifyAdmin,
	token: string,
	query: string,
	variables: Record<string, unknown>,
	timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<CallResult<T>> {
	const url = `${admin.endpoint ?? `https://${admin.shop}`}/admin/api/${admin.apiVersion}/graphql.json`;
	let response: Response;
	try {
		response = await fetch(url, {
			method: "POST",
			headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": token },
			body: JSON.stringify({ query, variables }),
			signal: AbortSignal.timeout(timeoutMs),
		});
	} catch (error) {
		return { ok: false, retryable: true, error: `network: ${(error as Error).message}` };
	}
	if (response.status === 429) {
		return { ok: false, retryable: true, error: "429 Too Many Requests", retryAfterMs: retryAfterMs(response.headers.get("Retry-After")) };
	}
	if (response.status >= 500) return { ok: false, retryable: true, error: `${response.status} from Shopify` };
	const text = await response.text();
	let body: GraphqlBody<T>;
	try {
		body = JSON.parse(text) as GraphqlBody<T>;
	} catch {
		return { ok: false, retryable: response.status >= 500, error: `${response.status}: not JSON: ${text.slice(0, 200)}` };
	}
	if (!response.ok) {
		const message = typeof body.errors === "string" ? body.errors : JSON.stringify(body.errors);
		return { ok: false, retryable: false, error: `${response.status}: ${message}` };
	}
	const errors = Array.isArray(body.errors) ? body.errors : [];
	if (errors.some((e) => e.extensions?.code === "THROTTLED")) {
		const cost = body.extensions?.cost;
		const status = cost?.throttleStatus;
		const missing = status ? Math.max(0, (cost?.requestedQueryCost ?? 10) - status.currentlyAvailable) : 0;
		const waitMs = status && status.restoreRate > 0 ? Math.ceil((missing / status.restoreRate) * 1000) : 1000;
		return { ok: false, retryable: true, error: "THROTTLED", retryAfterMs: Math.max(waitMs, 100) };
	}
	if (errors.length > 0 || body.data === undefined) {
		return { ok: false, retryable: false, error: errors.map((e) => e.message).join("; ") || "no data" };
	}
	return { ok: true, value: body.data };
}

const VARIANT_BY_SKU = `query VariantBySku($query: String!) {
  productVariants(first: 2, query: $query) { nodes { sku inventoryItem { id } } }
}`;

/** The inventory item behind a SKU; null when the shop sells no variant with it. */
export async function inventoryItemForSku(admin: ShopifyAdmin, token: string, sku: string): Promise<CallResult<string | null>> {
	const result = await graphql<{ productVariants: { nodes: Array<{ sku: string; inventoryItem: { id: string } }> } }>(
		admin, token, VARIANT_BY_SKU, { query: `sku:${JSON.stringify(sku)}` },
	);
	if (!result.ok) return result;
	const match = result.value.productVariants.nodes.find((node) => node.sku === sku);
	return { ok: true, value: match?.inventoryItem.id ?? null };
}

const SET_AVAILABLE = `mutation SetAvailable($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { reason referenceDocumentUri changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}`;

/**
 * Sets the channel's `available` quantity absolutely. ordersync is the source of truth, so the
 * compare-and-swap is skipped with an explicit null; the idempotency key makes a retry after a
 * timeout apply once.
 */
export async function setAvailable(
	admin: ShopifyAdmin,
	token: string,
	input: { inventoryItemId: string; quantity: number; idempotencyKey: string; reference: string },
): Promise<CallResult<{ quantityAfterChange: number | null }>> {
	const result = await graphql<{
		inventorySetQuantities: {
			inventoryAdjustmentGroup: { changes: Array<{ quantityAfterChange: number | null }> } | null;
			userErrors: Array<{ code: string | null; field: string[] | null; message: string }>;
		};
	}>(admin, token, SET_AVAILABLE, {
		key: input.idempotencyKey,
		input: {
			name: "available",
			reason: "correction",
			referenceDocumentUri: input.reference,
			quantities: [{ inventoryItemId: input.inventoryItemId, locationId: admin.locationId, quantity: input.quantity, changeFromQuantity: null }],
		},
	});
	if (!result.ok) return result;
	const payload = result.value.inventorySetQuantities;
	if (payload.userErrors.length > 0) {
		return { ok: false, retryable: false, error: payload.userErrors.map((e) => `${e.field?.join(".") ?? ""} ${e.message}`.trim()).join("; ") };
	}
	return { ok: true, value: { quantityAfterChange: payload.inventoryAdjustmentGroup?.changes[0]?.quantityAfterChange ?? null } };
}
