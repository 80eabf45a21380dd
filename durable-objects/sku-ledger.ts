import { DurableObject } from "cloudflare:workers";
import type { Availability, SnapshotOutcome } from "../worker/model/inventory";
import type { Env } from "../worker/env";
import { migrate } from "./schema";

const MIGRATIONS = [
	`CREATE TABLE stock (
		location TEXT PRIMARY KEY,
		on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
		as_of_ms INTEGER NOT NULL,
		source TEXT NOT NULL,
		updated_at TEXT NOT NULL
	);
	CREATE TABLE reservations (
		order_key TEXT NOT NULL,
		line_id TEXT NOT NULL,
		requested INTEGER NOT NULL,
		quantity INTEGER NOT NULL CHECK (quantity >= 0),
		status TEXT NOT NULL CHECK (status IN ('open', 'released', 'committed')),
		updated_at TEXT NOT NULL,
		PRIMARY KEY (order_key, line_id)
	);
	CREATE TABLE commits (
		order_key TEXT NOT NULL,
		line_id TEXT NOT NULL,
		commit_id TEXT NOT NULL,
		quantity INTEGER NOT NULL,
		location TEXT,
		shortfall INTEGER NOT NULL,
		at TEXT NOT NULL,
		PRIMARY KEY (order_key, line_id, commit_id)
	);
	CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];

export interface LineRef {
	orderKey: string;
	lineId: string;
}
export interface ReserveResult {
	status: "open" | "released" | "committed";
	reserved: number;
	backordered: number;
}
export interface CommitResult {
	committed: number;
	location: string | null;
	shortfall: number;
}
export interface StockEntry {
	location: string;
	onHand: number;
	asOf: string;
	source: string;
}

/** What one transaction changed, applied to the in-memory totals after it commits. */
type Tally = { onHand: number; reserved: number; touched: boolean };

type ReservationRow = { requested: number; quantity: number; status: ReserveResult["status"] };

/**
 * One SKU's stock and commitments, and the only writer of them. Every check-and-write
 * runs inside one synchronous transaction, so concurrent orders cannot oversell.
 * Reserved is derived from reservation rows (kept in memory as their sum, never stored).
 */
export class SkuLedger extends DurableObject<Env> {
	#sql: SqlStorage;
	#onHand = 0;
	#reserved = 0;
	#updatedAt: string | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		migrate(ctx.storage, MIGRATIONS);
		this.#onHand = this.#scalar("SELECT COALESCE(SUM(on_hand), 0) AS n FROM stock");
		this.#reserved = this.#scalar("SELECT COALESCE(SUM(quantity), 0) AS n FROM reservations WHERE status = 'open'");
		this.#updatedAt = this.#sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'updated_at'").toArray()[0]?.value ?? null;
	}

	availability(sku: string): Availability {
		return {
			sku,
			available: Math.max(0, this.#onHand - this.#reserved),
			onHand: this.#onHand,
			reserved: this.#reserved,
			updatedAt: this.#updatedAt,
		};
	}

	/** Absolute counts per location; a count older than the one applied is ignored and reported stale. */
	applySnapshot(sku: string, entries: StockEntry[]): SnapshotOutcome[] {
		return this.#transact((now, tally) =>
			entries.map((entry): SnapshotOutcome => {
				const asOfMs = Date.parse(entry.asOf);
				const current = this.#sql
					.exec<{ on_hand: number; as_of_ms: number }>("SELECT on_hand, as_of_ms FROM stock WHERE location = ?", entry.location)
					.toArray()[0];
				if (current && current.as_of_ms > asOfMs) {
					return { sku, location: entry.location, status: "stale", onHand: current.on_hand };
				}
				this.#sql.exec(
					`INSERT INTO stock (location, on_hand, as_of_ms, source, updated_at) VALUES (?, ?, ?, ?, ?)
					 ON CONFLICT (location) DO UPDATE SET on_hand = excluded.on_hand, as_of_ms = excluded.as_of_ms,
					 source = excluded.source, updated_at = excluded.updated_at`,
					entry.location, entry.onHand, asOfMs, entry.source, now,
				);
				tally.onHand += entry.onHand - (current?.on_hand ?? 0);
				tally.touched = true;
				return { sku, location: entry.location, status: "applied", onHand: entry.onHand };
			}),
		);
	}

	/**
	 * Holds up to `quantity` units for one order line (an absolute target, so a retry changes
	 * nothing). What cannot be covered now is reported backordered. A lower target releases the
	 * difference. A line already released or committed stays so.
	 */
	reserve(line: LineRef & { quantity: number }): ReserveResult {
		return this.#transact((now, tally): ReserveResult => {
			const row = this.#reservation(line);
			if (row && row.status !== "open") return { status: row.status, reserved: 0, backordered: 0 };
			const held = row?.quantity ?? 0;
			const available = Math.max(0, this.#onHand - this.#reserved);
			const quantity = line.quantity <= held ? line.quantity : held + Math.min(line.quantity - held, available);
			if (!row || quantity !== held || row.requested !== line.quantity) {
				this.#sql.exec(
					`INSERT INTO reservations (order_key, line_id, requested, quantity, status, updated_at) VALUES (?, ?, ?, ?, 'open', ?)
					 ON CONFLICT (order_key, line_id) DO UPDATE SET requested = excluded.requested, quantity = excluded.quantity,
					 updated_at = excluded.updated_at`,
					line.orderKey, line.lineId, line.quantity, quantity, now,
				);
				tally.reserved += quantity - held;
				tally.touched = true;
			}
			return { status: "open", reserved: quantity, backordered: line.quantity - quantity };
		});
	}

	/** Gives a line's units back. Leaves a tombstone so a late, retried reserve cannot revive it. */
	release(line: LineRef): { released: number } {
		return this.#transact((now, tally) => {
			const row = this.#reservation(line);
			if (row && row.status !== "open") return { released: 0 };
			this.#sql.exec(
				`INSERT INTO reservations (order_key, line_id, requested, quantity, status, updated_at) VALUES (?, ?, 0, 0, 'released', ?)
				 ON CONFLICT (order_key, line_id) DO UPDATE SET quantity = 0, status = 'released', updated_at = excluded.updated_at`,
				line.orderKey, line.lineId, now,
			);
			const released = row?.quantity ?? 0;
			tally.reserved -= released;
			tally.touched = true;
			return { released };
		});
	}

	/**
	 * Shipped units leave the building: the line's reservation is consumed and on-hand drops at
	 * the shipping location (or the fullest one when the channel did not say). Idempotent per commitId.
	 */
	commit(line: LineRef & { commitId: string; quantity: number; location?: string }): CommitResult {
		return this.#transact((now, tally): CommitResult => {
			const done = this.#sql
				.exec<{ quantity: number; location: string | null; shortfall: number }>(
					"SELECT quantity, location, shortfall FROM commits WHERE order_key = ? AND line_id = ? AND commit_id = ?",
					line.orderKey, line.lineId, line.commitId,
				)
				.toArray()[0];
			if (done) return { committed: done.quantity, location: done.location, shortfall: done.shortfall };

			const row = this.#reservation(line);
			if (row?.status === "open") {
				const consumed = Math.min(row.quantity, line.quantity);
				const left = row.quantity - consumed;
				this.#sql.exec(
					"UPDATE reservations SET quantity = ?, status = ?, updated_at = ? WHERE order_key = ? AND line_id = ?",
					left, left === 0 ? "committed" : "open", now, line.orderKey, line.lineId,
				);
				tally.reserved -= consumed;
			}
			const locations = this.#sql
				.exec<{ location: string; on_hand: number }>(
					"SELECT location, on_hand FROM stock ORDER BY (location = ?) DESC, on_hand DESC, location",
					line.location ?? "",
				)
				.toArray();
			let remaining = line.quantity;
			for (const { location, on_hand } of locations) {
				const take = Math.min(on_hand, remaining);
				if (take === 0) continue;
				this.#sql.exec("UPDATE stock SET on_hand = on_hand - ?, updated_at = ? WHERE location = ?", take, now, location);
				remaining -= take;
			}
			tally.onHand -= line.quantity - remaining;
			tally.touched = true;
			const location = line.location ?? locations[0]?.location ?? null;
			this.#sql.exec(
				"INSERT INTO commits (order_key, line_id, commit_id, quantity, location, shortfall, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
				line.orderKey, line.lineId, line.commitId, line.quantity, location, remaining, now,
			);
			return { committed: line.quantity, location, shortfall: remaining };
		});
	}

	/** Stock by location and every reservation, for the ops API and invariant checks. */
	detail(sku: string) {
		return {
			...this.availability(sku),
			locations: this.#sql.exec<{ location: string; on_hand: number; as_of_ms: number; source: string }>(
				"SELECT location, on_hand, as_of_ms, source FROM stock ORDER BY location",
			).toArray().map((row) => ({
				location: row.location,
				onHand: row.on_hand,
				asOf: new Date(row.as_of_ms).toISOString(),
				source: row.source,
			})),
			reservations: this.#sql.exec<{ order_key: string; line_id: string; requested: number; quantity: number; status: string }>(
				"SELECT order_key, line_id, requested, quantity, status FROM reservations ORDER BY updated_at, order_key, line_id",
			).toArray().map((row) => ({
				orderKey: row.order_key,
				lineId: row.line_id,
				requested: row.requested,
				quantity: row.quantity,
				status: row.status,
			})),
		};
	}

	#reservation(line: LineRef): ReservationRow | undefined {
		return this.#sql
			.exec<ReservationRow>(
				"SELECT requested, quantity, status FROM reservations WHERE order_key = ? AND line_id = ?",
				line.orderKey, line.lineId,
			)
			.toArray()[0];
	}

	/**
	 * Runs one check-and-write in a synchronous transaction (no await can interleave). The
	 * in-memory totals move by the tally only once it has committed.
	 */
	#transact<T>(body: (now: string, tally: Tally) => T): T {
		const now = new Date().toISOString();
		const tally: Tally = { onHand: 0, reserved: 0, touched: false };
		const result = this.ctx.storage.transactionSync(() => {
			const value = body(now, tally);
			if (tally.touched) {
				this.#sql.exec("INSERT INTO meta (key, value) VALUES ('updated_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", now);
			}
			return value;
		});
		this.#onHand += tally.onHand;
		this.#reserved += tally.reserved;
		if (tally.touched) this.#updatedAt = now;
		return result;
	}

	#scalar(query: string): number {
		return this.#sql.exec<{ n: number }>(query).one().n;
	}
}
