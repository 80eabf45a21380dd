import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { channelAvailable } from "../durable-objects/allocation";
import type { SkuLedger } from "../durable-objects/sku-ledger";
import { loadConfig } from "../worker/config";

const LOCATIONS = ["east", "west"] as const;
const order = fc.integer({ min: 0, max: 5 }).map((i) => `c:${i}`);
const location = fc.constantFrom(...LOCATIONS);

/** Every way stock and commitments can move, with small domains so collisions and repeats are common. */
const command = fc.oneof(
	fc.record({ op: fc.constant("reserve" as const), orderKey: order, quantity: fc.integer({ min: 0, max: 4 }) }),
	fc.record({ op: fc.constant("release" as const), orderKey: order }),
	fc.record({ op: fc.constant("commit" as const), orderKey: order, commitId: fc.constantFrom("s1", "s2"), quantity: fc.integer({ min: 1, max: 3 }), location }),
	fc.record({ op: fc.constant("snapshot" as const), location, onHand: fc.integer({ min: 0, max: 10 }), minute: fc.integer({ min: 0, max: 30 }) }),
	fc.record({ op: fc.constant("delta" as const), source: fc.constantFrom("wms-a", "wms-b"), seq: fc.integer({ min: 1, max: 6 }), location, delta: fc.integer({ min: -4, max: 6 }).filter((n) => n !== 0) }),
	fc.record({ op: fc.constant("return" as const), receiptId: fc.constantFrom("r1", "r2", "r3"), location, quantity: fc.integer({ min: 1, max: 3 }) }),
	fc.record({ op: fc.constant("adjust" as const), location, delta: fc.integer({ min: -3, max: 3 }).filter((n) => n !== 0) }),
);
type Command = typeof command extends fc.Arbitrary<infer C> ? C : never;

/** Commands replayed twice in a row must change nothing the second time. */
const idempotent = (c: Command) => c.op !== "adjust";

async function run(ledger: SkuLedger, sku: string, c: Command): Promise<unknown> {
	switch (c.op) {
		case "reserve":
			return ledger.reserve({ orderKey: c.orderKey, lineId: "1", sku, quantity: c.quantity });
		case "release":
			return ledger.release({ orderKey: c.orderKey, lineId: "1", sku });
		case "commit":
			return ledger.commit({ orderKey: c.orderKey, lineId: "1", sku, commitId: c.commitId, quantity: c.quantity, location: c.location });
		case "snapshot":
			return ledger.applySnapshot(sku, [{ location: c.location, onHand: c.onHand, asOf: new Date(Date.UTC(2026, 10, 27, 8, c.minute)).toISOString(), source: "wms" }]);
		case "delta":
			return ledger.applyDeltas(sku, [{ source: c.source, seq: c.seq, location: c.location, delta: c.delta }]);
		case "return":
			return ledger.receiveReturn(sku, { receiptId: c.receiptId, location: c.location, quantity: c.quantity });
		case "adjust":
			return ledger.adjust(sku, { location: c.location, delta: c.delta, operator: "prop", reason: "test" });
	}
}

/** The ledger's invariants, checked against its own storage, not just what it reports. */
function checkInvariants(ledger: SkuLedger, sql: SqlStorage, sku: string): void {
	const view = ledger.availability(sku);
	const rows = sql.exec<{ requested: number; quantity: number; status: string }>("SELECT requested, quantity, status FROM reservations").toArray();
	const stock = sql.exec<{ on_hand: number }>("SELECT on_hand FROM stock").toArray();
	const audit = sql.exec<{ oh: number; rs: number }>("SELECT COALESCE(SUM(on_hand_delta), 0) AS oh, COALESCE(SUM(reserved_delta), 0) AS rs FROM audit").one();
	const open = rows.filter((r) => r.status === "open");

	expect(view.reserved).toBeGreaterThanOrEqual(0);
	expect(view.available).toBeGreaterThanOrEqual(0);
	expect(view.available).toBe(Math.max(0, view.onHand - view.reserved));
	expect(open.reduce((sum, r) => sum + r.quantity, 0)).toBe(view.reserved);
	expect(stock.reduce((sum, s) => sum + s.on_hand, 0)).toBe(view.onHand);
	expect(stock.every((s) => s.on_hand >= 0)).toBe(true);
	expect(rows.every((r) => r.quantity >= 0 && r.quantity <= r.requested)).toBe(true);
	// On-hand and reserved only ever move through audited entries.
	expect(audit.oh).toBe(view.onHand);
	expect(audit.rs).toBe(view.reserved);
	// Channel numbers come from a cached stock map: it must agree with storage after every step.
	const stockMap = new Map(sql.exec<{ location: string; on_hand: number }>("SELECT location, on_hand FROM stock").toArray().map((r) => [r.location, r.on_hand]));
	const { connections } = loadConfig(env);
	for (const connection of connections.values()) expect(view.channels[connection.id]).toBe(channelAvailable(stockMap, view.reserved, 0, connection));
	// FIFO backorders: nothing waits while units sit unclaimed.
	if (view.available > 0) expect(open.every((r) => r.quantity === r.requested)).toBe(true);
}

describe("SkuLedger invariants over random interleavings (fast-check)", () => {
	it("hold after every step, and a repeated step changes nothing", async () => {
		let run_ = 0;
		await fc.assert(
			fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), async (commands, repeats) => {
				const sku = `prop-${run_++}-${crypto.randomUUID().slice(0, 6)}`;
				const stub = env.SKU_LEDGER.getByName(sku);
				await runInDurableObject(stub, async (ledger: SkuLedger, state) => {
					for (const [i, c] of commands.entries()) {
						const before = ledger.availability(sku);
						await run(ledger, sku, c);
						const after = ledger.availability(sku);
						checkInvariants(ledger, state.storage.sql, sku);
						// Reserving never takes units that are not on hand.
						if (after.reserved > before.reserved) expect(after.reserved).toBeLessThanOrEqual(after.onHand);
						if (repeats[i] && idempotent(c)) {
							await run(ledger, sku, c);
							expect(ledger.availability(sku)).toEqual({ ...after, updatedAt: ledger.availability(sku).updatedAt });
							checkInvariants(ledger, state.storage.sql, sku);
						}
					}
				});
			}),
			{ numRuns: 150 },
		);
	});

	it("releasing every line gives back every unit, whatever came before", async () => {
		await fc.assert(
			fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), async (commands) => {
				const sku = `drain-${crypto.randomUUID().slice(0, 8)}`;
				await runInDurableObject(env.SKU_LEDGER.getByName(sku), async (ledger: SkuLedger, state) => {
					for (const c of commands) await run(ledger, sku, c);
					for (let i = 0; i <= 5; i++) ledger.release({ orderKey: `c:${i}`, lineId: "1", sku });
					const view = ledger.availability(sku);
					expect(view.reserved).toBe(0);
					expect(view.available).toBe(view.onHand);
					checkInvariants(ledger, state.storage.sql, sku);
				});
			}),
			{ numRuns: 80 },
		);
	});
});
