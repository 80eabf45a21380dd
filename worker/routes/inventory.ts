import type { IRequest } from "itty-router";
import { z } from "zod";
import type { Env } from "../env";
import { failure, invalid, json } from "../http";
import { InventorySnapshot, Sku, type SnapshotOutcome } from "../model/inventory";
import type { StockEntry } from "../../durable-objects/sku-ledger";

/** POST /v1/inventory/snapshots — absolute on-hand counts per SKU and location from a warehouse system. */
export async function postSnapshot(request: IRequest, env: Env): Promise<Response> {
	let body: unknown;
	try {
		body = await request.json();
	} catch {
		return failure(400, "invalid_json", "body is not JSON");
	}
	const parsed = InventorySnapshot.safeParse(body);
	if (!parsed.success) return invalid(parsed.error);
	const { source, asOf, items } = parsed.data;

	const bySku = Map.groupBy(items, (item) => item.sku);
	const results = await Promise.all(
		[...bySku].map(([sku, entries]) =>
			env.SKU_LEDGER.getByName(sku).applySnapshot(
				sku,
				entries.map((e): StockEntry => ({ location: e.location, onHand: e.onHand, asOf, source })),
			),
		),
	);
	const outcomes: SnapshotOutcome[] = results.flat();
	return json({
		applied: outcomes.filter((o) => o.status === "applied").length,
		stale: outcomes.filter((o) => o.status === "stale").length,
		results: outcomes,
	});
}

const AvailabilityQuery = z.array(Sku).min(1, "give at least one ?sku=").max(100, "at most 100 SKUs per request");

/** GET /v1/availability?sku=A&sku=B — live from each SKU's ledger, in parallel. */
export async function getAvailability(request: IRequest, env: Env): Promise<Response> {
	const skus = new URL(request.url).searchParams.getAll("sku");
	const parsed = AvailabilityQuery.safeParse(skus);
	if (!parsed.success) return invalid(parsed.error);
	const unique = [...new Set(parsed.data)];
	const items = await Promise.all(unique.map((sku) => env.SKU_LEDGER.getByName(sku).availability(sku)));
	return json({ items });
}
