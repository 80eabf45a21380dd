import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SkuLedger } from "../durable-objects/sku-ledger";
import { uniqueSku } from "./helpers";

const ledger = (sku: string) => env.SKU_LEDGER.getByName(sku);
const asOf = (minute: number) => new Date(Date.UTC(2026, 10, 27, 8, minute)).toISOString();

async function stocked(label: string, onHand: Record<string, number>) {
	const sku = uniqueSku(label);
	await ledger(sku).applySnapshot(sku, Object.entries(onHand).map(([location, n]) => ({ location, onHand: n, asOf: asOf(0), source: "wms" })));
	return sku;
}

describe("SkuLedger", () => {
	it("answers an unknown SKU with zero available", async () => {
		expect(await ledger(uniqueSku("none")).availability("none")).toEqual({
			sku: "none",
			available: 0,
			onHand: 0,
			reserved: 0,
			updatedAt: null,
			channels: { "shopify-demo": 0, "shopify-outlet": 0, tiktok: 0, amazon: 0, woocommerce: 0, "edi-retailer": 0 },
		});
	});

	it("sums on-hand across locations and ignores a stale snapshot per location", async () => {
		const sku = await stocked("multi", { east: 4, west: 6 });
		const stale = await ledger(sku).applySnapshot(sku, [{ location: "east", onHand: 100, asOf: "2026-11-26T00:00:00Z", source: "wms" }]);
		expect(stale).toEqual([{ sku, location: "east", status: "stale", onHand: 4 }]);
		const fresh = await ledger(sku).applySnapshot(sku, [{ location: "east", onHand: 1, asOf: asOf(5), source: "wms" }]);
		expect(fresh[0]!.status).toBe("applied");
		expect(await ledger(sku).availability(sku)).toMatchObject({ onHand: 7, available: 7 });
	});

	it("reserve is an absolute, idempotent hold per order line", async () => {
		const sku = await stocked("idem", { east: 5 });
		const line = { orderKey: "c:1", lineId: "l1", quantity: 3 };
		expect(await ledger(sku).reserve(line)).toEqual({ status: "open", reserved: 3, backordered: 0 });
		expect(await ledger(sku).reserve(line)).toEqual({ status: "open", reserved: 3, backordered: 0 });
		expect(await ledger(sku).availability(sku)).toMatchObject({ reserved: 3, available: 2 });
		// A lower target gives the difference back.
		expect(await ledger(sku).reserve({ ...line, quantity: 1 })).toMatchObject({ reserved: 1 });
		expect(await ledger(sku).availability(sku)).toMatchObject({ reserved: 1, available: 4 });
	});

	it("covers what it can and reports the rest backordered, never going negative", async () => {
		const sku = await stocked("short", { east: 2 });
		expect(await ledger(sku).reserve({ orderKey: "c:1", lineId: "l", quantity: 5 })).toEqual({ status: "open", reserved: 2, backordered: 3 });
		expect(await ledger(sku).reserve({ orderKey: "c:2", lineId: "l", quantity: 1 })).toEqual({ status: "open", reserved: 0, backordered: 1 });
		// Stock recounted below what is held: available floors at zero, holds are kept.
		await ledger(sku).applySnapshot(sku, [{ location: "east", onHand: 1, asOf: asOf(9), source: "wms" }]);
		expect(await ledger(sku).availability(sku)).toMatchObject({ onHand: 1, reserved: 2, available: 0 });
	});

	it("release frees the units once and leaves a tombstone that a late reserve cannot revive", async () => {
		const sku = await stocked("release", { east: 5 });
		const ref = { orderKey: "c:1", lineId: "l1" };
		await ledger(sku).reserve({ ...ref, quantity: 4 });
		expect(await ledger(sku).release(ref)).toEqual({ released: 4 });
		expect(await ledger(sku).release(ref)).toEqual({ released: 0 });
		expect(await ledger(sku).reserve({ ...ref, quantity: 4 })).toEqual({ status: "released", reserved: 0, backordered: 0 });
		expect(await ledger(sku).availability(sku)).toMatchObject({ reserved: 0, available: 5 });
		// Released before it was ever reserved (a cancel overtaking the create): still final.
		expect(await ledger(sku).release({ orderKey: "c:2", lineId: "l" })).toEqual({ released: 0 });
		expect((await ledger(sku).reserve({ orderKey: "c:2", lineId: "l", quantity: 1 })).status).toBe("released");
	});

	it("commit consumes the hold and takes on-hand from the shipping location, once per commit id", async () => {
		const sku = await stocked("commit", { east: 3, west: 5 });
		const ref = { orderKey: "c:1", lineId: "l1" };
		await ledger(sku).reserve({ ...ref, quantity: 2 });
		const first = await ledger(sku).commit({ ...ref, commitId: "f1", quantity: 2, location: "east" });
		expect(first).toEqual({ committed: 2, location: "east", shortfall: 0 });
		expect(await ledger(sku).commit({ ...ref, commitId: "f1", quantity: 2, location: "east" })).toEqual(first);
		const detail = await ledger(sku).detail(sku);
		expect(detail.locations.map((l) => [l.location, l.onHand])).toEqual([["east", 1], ["west", 5]]);
		expect(detail).toMatchObject({ onHand: 6, reserved: 0, available: 6 });
		expect(detail.reservations[0]).toMatchObject({ status: "committed", quantity: 0 });
	});

	it("keeps its numbers across eviction: reserved is rebuilt from reservation rows", async () => {
		const sku = await stocked("evict", { east: 9 });
		await ledger(sku).reserve({ orderKey: "c:1", lineId: "a", quantity: 2 });
		await ledger(sku).reserve({ orderKey: "c:2", lineId: "a", quantity: 3 });
		await runInDurableObject(ledger(sku), (instance: SkuLedger, state) => {
			const rows = state.storage.sql.exec<{ n: number }>("SELECT SUM(quantity) AS n FROM reservations WHERE status = 'open'").one();
			expect(rows.n).toBe(5);
			expect(instance.availability(sku).reserved).toBe(5);
		});
		const { evictDurableObject } = await import("cloudflare:test");
		await evictDurableObject(ledger(sku));
		expect(await ledger(sku).availability(sku)).toMatchObject({ onHand: 9, reserved: 5, available: 4 });
	});
});
