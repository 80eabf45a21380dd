import type { IRequest } from "itty-router";
import { z } from "zod";
import { bundleAvailability } from "../../durable-objects/allocation";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { invalid, json, readJson } from "../http";
import {
	type DeltaOutcome,
	InventoryDeltas,
	InventorySnapshot,
	ReturnReceipts,
	Sku,
	type SnapshotOutcome,
	StockAdjustment,
} from "../model/inventory";
import type { DeltaEntry, StockEntry } from "../../durable-objects/sku-ledger";

/** POST /v1/inventory/snapshots — absolute on-hand counts per SKU and location from a warehouse system. */
export async function postSnapshot(request: IRequest, env: Env): Promise<Response> {
	const body = await readJson(request, InventorySnapshot);
	if ("response" in body) return body.response;
	const { source, asOf, items } = body.data;
	const outcomes: SnapshotOutcome[] = await perLedger(items, (sku, entries) =>
		env.SKU_LEDGER.getByName(sku).applySnapshot(
			sku,
			entries.map((e): StockEntry => ({ location: e.location, onHand: e.onHand, asOf, source })),
		),
	);
	return json({ applied: count(outcomes, "applied"), stale: count(outcomes, "stale"), results: outcomes });
}

/**
 * POST /v1/inventory/deltas — relative changes from a feed, with per-source, per-SKU sequence
 * numbers. Duplicates change nothing; a sequence that skips ahead is parked and raised as an
 * exception until the missing ones arrive.
 */
export async function postDeltas(request: IRequest, env: Env): Promise<Response> {
	const body = await readJson(request, InventoryDeltas);
	if ("response" in body) return body.response;
	const { source, items } = body.data;
	const outcomes: DeltaOutcome[] = await perLedger(items, (sku, entries) =>
		env.SKU_LEDGER.getByName(sku).applyDeltas(
			sku,
			entries.map((e): DeltaEntry => ({ source, seq: e.seq, location: e.location, delta: e.delta, reason: e.reason })),
		),
	);
	return json({
		applied: count(outcomes, "applied"),
		duplicate: count(outcomes, "duplicate"),
		gap: count(outcomes, "gap"),
		results: outcomes,
	});
}

/** POST /v1/inventory/returns — return receipts put units back at the receiving location, once each. */
export async function postReturns(request: IRequest, env: Env): Promise<Response> {
	const body = await readJson(request, ReturnReceipts);
	if ("response" in body) return body.response;
	const results = await Promise.all(
		body.data.items.map(async (item) => ({
			receiptId: item.receiptId,
			sku: item.sku,
			...(await env.SKU_LEDGER.getByName(item.sku).receiveReturn(item.sku, item)),
		})),
	);
	return json({ results });
}

/** POST /ops/skus/:sku/adjustments — an operator's audited correction of one location's count. */
export async function postAdjustment(request: IRequest, env: Env): Promise<Response> {
	const body = await readJson(request, StockAdjustment);
	if ("response" in body) return body.response;
	const sku = decodeURIComponent(request.params.sku ?? "");
	return json(await env.SKU_LEDGER.getByName(sku).adjust(sku, body.data));
}

/** One call per SKU ledger for a feed's items, all in parallel; their outcomes in one list. */
async function perLedger<I extends { sku: string }, O>(items: I[], call: (sku: string, entries: I[]) => Promise<O[]>): Promise<O[]> {
	return (await Promise.all([...Map.groupBy(items, (item) => item.sku)].map(([sku, entries]) => call(sku, entries)))).flat();
}

function count<T extends { status: string }>(outcomes: T[], status: T["status"]): number {
	return outcomes.filter((o) => o.status === status).length;
}

export const AvailabilityQuery = z.array(Sku).min(1, "give at least one ?sku=").max(100, "at most 100 SKUs per request");

/**
 * GET /v1/availability?sku=A&sku=B — live from each SKU's ledger, in parallel. A bundle is
 * answered from its components' ledgers (each asked once, however many bundles share it).
 */
export async function getAvailability(request: IRequest, env: Env): Promise<Response> {
	const skus = new URL(request.url).searchParams.getAll("sku");
	const parsed = AvailabilityQuery.safeParse(skus);
	if (!parsed.success) return invalid(parsed.error);
	const requested = [...new Set(parsed.data)];
	const { bundles } = loadConfig(env).inventory;
	const ledgerSkus = new Set(requested.flatMap((sku) => bundles[sku]?.map((part) => part.sku) ?? [sku]));
	const live = new Map(
		await Promise.all([...ledgerSkus].map(async (sku) => [sku, await env.SKU_LEDGER.getByName(sku).availability(sku)] as const)),
	);
	const items = requested.map((sku) => {
		const parts = bundles[sku];
		return parts ? bundleAvailability(sku, parts.map((part) => ({ quantity: part.quantity, availability: live.get(part.sku)! }))) : live.get(sku)!;
	});
	return json({ items });
}
