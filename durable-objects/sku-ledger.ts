import { DurableObject } from "cloudflare:workers";
import type { Env } from "../worker/env";
import type { Availability, DeltaOutcome, SnapshotOutcome } from "../worker/model/inventory";
import { loadConfig, type ShopifyAdmin } from "../worker/config";
import type { CallResult } from "../worker/connectors/call";
import { connectorFor, pushesAvailability } from "../worker/connectors/channels";
import { inventoryItemForSku, setAvailable } from "../worker/connectors/shopify/admin";
import { flowMonitor, noteFlows } from "./flow-monitor";
import { channelAvailable } from "./allocation";
import { migrate } from "./schema";

export const MIGRATIONS = [
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
	// v2: audit trail, sequenced feeds, return receipts, backorder notices to orders.
	`CREATE TABLE audit (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		at TEXT NOT NULL,
		kind TEXT NOT NULL,
		location TEXT,
		on_hand_delta INTEGER NOT NULL,
		reserved_delta INTEGER NOT NULL,
		on_hand_after INTEGER NOT NULL,
		reserved_after INTEGER NOT NULL,
		cause TEXT NOT NULL
	);
	ALTER TABLE commits ADD COLUMN at_ms INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE feeds (source TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
	CREATE TABLE parked_deltas (
		source TEXT NOT NULL,
		seq INTEGER NOT NULL,
		location TEXT NOT NULL,
		delta INTEGER NOT NULL,
		reason TEXT,
		received_at TEXT NOT NULL,
		PRIMARY KEY (source, seq)
	);
	CREATE TABLE returns (
		receipt_id TEXT PRIMARY KEY,
		location TEXT NOT NULL,
		quantity INTEGER NOT NULL,
		order_key TEXT,
		line_id TEXT,
		at_ms INTEGER NOT NULL
	);
	CREATE TABLE notices (
		order_key TEXT NOT NULL,
		line_id TEXT NOT NULL,
		reserved INTEGER NOT NULL,
		requested INTEGER NOT NULL,
		PRIMARY KEY (order_key, line_id)
	);
	CREATE INDEX backorders ON reservations (order_key) WHERE status = 'open' AND quantity < requested;`,
	// v3: the newest availability to push to each channel, and what the channel acknowledged.
	`CREATE TABLE pushes (
		connection TEXT PRIMARY KEY,
		value INTEGER NOT NULL,
		version INTEGER NOT NULL,
		due_ms INTEGER,
		changed_at_ms INTEGER,
		sent_value INTEGER,
		sent_at_ms INTEGER,
		latency_ms INTEGER,
		attempts INTEGER NOT NULL DEFAULT 0,
		last_error TEXT
	);`,
	// v4: which location ships each routed line's units, and orders waiting for stock to route.
	`CREATE TABLE assignments (
		order_key TEXT NOT NULL,
		line_id TEXT NOT NULL,
		location TEXT NOT NULL,
		quantity INTEGER NOT NULL CHECK (quantity > 0),
		PRIMARY KEY (order_key, line_id, location)
	);
	CREATE TABLE watchers (order_key TEXT PRIMARY KEY, notify INTEGER NOT NULL DEFAULT 0);`,
	// v5: commits from before v2 got at_ms 0, so a count dated before them never netted them out.
	`UPDATE commits SET at_ms = CAST(ROUND((julianday(at) - 2440587.5) * 86400000) AS INTEGER) WHERE at_ms = 0;`,
];

/** Bursts of changes reach a channel at most this often per SKU; an isolated change goes at once. */
const PUSH_COALESCE_MS = 250;
/** How long one push to a channel may take before it counts as failed (and is retried). */
const PUSH_TIMEOUT_MS = 10_000;
/** After this many failed attempts a push is raised as an exception (and still retried). */
const PUSH_RAISE_AFTER = 6;
const PUSH_MAX_BACKOFF_MS = 5 * 60_000;

/** Audit entries kept per SKU; older ones are pruned in batches. */
const AUDIT_KEEP = 20_000;

export interface LineRef {
	orderKey: string;
	lineId: string;
	/** The ledger learns its own SKU from its callers, to name itself in notices to orders. */
	sku?: string;
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
export interface DeltaEntry {
	source: string;
	seq: number;
	location: string;
	delta: number;
	reason?: string;
}
export interface ReturnReceipt {
	receiptId: string;
	location: string;
	quantity: number;
	orderKey?: string;
	lineId?: string;
}
/** A backordered line that got units after stock arrived, told to its order. */
export interface Allocation {
	sku: string;
	lineId: string;
	reserved: number;
	requested: number;
}

/** Units of one line to ship from one location. */
export interface Pick {
	location: string;
	quantity: number;
}
export type AssignResult = { ok: true } | { ok: false; location: string; free: number };

/** Why a SKU's numbers moved: an order line, a feed, or a person. */
export type AuditCause =
	| { orderKey: string; lineId: string; commitId?: string; receiptId?: string }
	| { source: string; seq?: number; asOf?: string; receiptId?: string; reason?: string }
	| { operator: string; reason: string };

type ReservationRow = { requested: number; quantity: number; status: ReserveResult["status"] };

/** One transaction's changes: each is an audit entry, and the totals move only after commit. */
class Change {
	onHand = 0;
	reserved = 0;
	entries = 0;
	allocations = 0;
	/** Set when any location's on-hand was written, so the cached stock map is re-read. */
	stockMoved = false;

	constructor(
		private readonly sql: SqlStorage,
		private readonly before: { onHand: number; reserved: number },
		readonly now: string,
	) {}

	get available(): number {
		return Math.max(0, this.before.onHand + this.onHand - (this.before.reserved + this.reserved));
	}

	record(kind: string, cause: AuditCause, delta: { onHand?: number; reserved?: number; location?: string }): void {
		this.onHand += delta.onHand ?? 0;
		this.reserved += delta.reserved ?? 0;
		this.entries++;
		if (delta.location !== undefined || delta.onHand) this.stockMoved = true;
		this.sql.exec(
			`INSERT INTO audit (at, kind, location, on_hand_delta, reserved_delta, on_hand_after, reserved_after, cause)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			this.now, kind, delta.location ?? null, delta.onHand ?? 0, delta.reserved ?? 0,
			this.before.onHand + this.onHand, this.before.reserved + this.reserved, JSON.stringify(cause),
		);
	}
}

/**
 * One SKU's stock and commitments, and the only writer of them. Every check-and-write runs
 * inside one synchronous transaction, so concurrent orders cannot oversell, and every change is
 * an audit entry with its cause. Reserved is derived from reservation rows (their sum is kept in
 * memory, never stored). Lines short of stock wait in FIFO order and get units as stock arrives.
 */
export class SkuLedger extends DurableObject<Env> {
	#sql: SqlStorage;
	#onHand = 0;
	#reserved = 0;
	/** On-hand per location, as committed; re-read only after a transaction that moved stock. */
	#stockByLocation = new Map<string, number>();
	#updatedAt: string | null = null;
	#sku: string | null = null;
	#notifying: Promise<void> | null = null;
	#pushing: Promise<void> | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		migrate(ctx.storage, MIGRATIONS);
		this.#stockByLocation = this.#readStock();
		this.#onHand = this.#scalar("SELECT COALESCE(SUM(on_hand), 0) AS n FROM stock");
		this.#reserved = this.#scalar("SELECT COALESCE(SUM(quantity), 0) AS n FROM reservations WHERE status = 'open'");
		this.#updatedAt = this.#meta("updated_at");
		this.#sku = this.#meta("sku");
	}

	availability(sku: string): Availability {
		return {
			sku,
			available: Math.max(0, this.#onHand - this.#reserved),
			onHand: this.#onHand,
			reserved: this.#reserved,
			updatedAt: this.#updatedAt,
			channels: this.#channels(sku, this.#reserved),
		};
	}

	/** What each connection is shown for the given stock by location and units held. */
	#channels(sku: string, reserved: number, stock: ReadonlyMap<string, number> = this.#stockByLocation): Record<string, number> {
		const { connections, inventory } = loadConfig(this.env);
		const safety = inventory.safetyStock[sku] ?? 0;
		const channels: Record<string, number> = {};
		for (const connection of connections.values()) channels[connection.id] = channelAvailable(stock, reserved, safety, connection);
		return channels;
	}

	/**
	 * Absolute counts per location. A count older than the one applied is ignored and reported
	 * stale. Units shipped (or returned) after the count's as-of time are not in it yet, so they
	 * are taken off (or added back) rather than counted twice.
	 */
	applySnapshot(sku: string, entries: StockEntry[]): SnapshotOutcome[] {
		return this.#transact(sku, (change) =>
			entries.map((entry): SnapshotOutcome => {
				const asOfMs = Date.parse(entry.asOf);
				const current = this.#stock(entry.location);
				if (current && current.as_of_ms > asOfMs) {
					return { sku, location: entry.location, status: "stale", onHand: current.on_hand };
				}
				const shippedSince = this.#scalar(
					"SELECT COALESCE(SUM(quantity - shortfall), 0) AS n FROM commits WHERE location = ? AND at_ms > ?",
					entry.location, asOfMs,
				);
				const returnedSince = this.#scalar(
					"SELECT COALESCE(SUM(quantity), 0) AS n FROM returns WHERE location = ? AND at_ms > ?",
					entry.location, asOfMs,
				);
				const onHand = Math.max(0, entry.onHand - shippedSince + returnedSince);
				this.#sql.exec(
					`INSERT INTO stock (location, on_hand, as_of_ms, source, updated_at) VALUES (?, ?, ?, ?, ?)
					 ON CONFLICT (location) DO UPDATE SET on_hand = excluded.on_hand, as_of_ms = excluded.as_of_ms,
					 source = excluded.source, updated_at = excluded.updated_at`,
					entry.location, onHand, asOfMs, entry.source, change.now,
				);
				change.record("snapshot", { source: entry.source, asOf: entry.asOf }, { onHand: onHand - (current?.on_hand ?? 0), location: entry.location });
				return { sku, location: entry.location, status: "applied", onHand };
			}),
		);
	}

	/**
	 * Relative changes from a feed, in the feed's own sequence (per source and SKU). A sequence
	 * already seen is a duplicate and changes nothing; one that skips ahead is parked until the
	 * missing ones arrive, because a gap is an exception, not a guess.
	 */
	async applyDeltas(sku: string, entries: DeltaEntry[]): Promise<DeltaOutcome[]> {
		const gapsBefore = new Set(this.gaps().map((g) => g.source));
		const outcomes = this.#transact(sku, (change) =>
			[...entries].sort((a, b) => a.seq - b.seq).map((entry): DeltaOutcome => {
				const last = this.#sql.exec<{ last_seq: number }>("SELECT last_seq FROM feeds WHERE source = ?", entry.source).toArray()[0]?.last_seq;
				const parked = this.#sql.exec("SELECT 1 FROM parked_deltas WHERE source = ? AND seq = ?", entry.source, entry.seq).toArray().length > 0;
				if ((last !== undefined && entry.seq <= last) || parked) {
					return { sku, source: entry.source, seq: entry.seq, status: "duplicate" };
				}
				if (last !== undefined && entry.seq > last + 1) {
					this.#sql.exec(
						"INSERT INTO parked_deltas (source, seq, location, delta, reason, received_at) VALUES (?, ?, ?, ?, ?, ?)",
						entry.source, entry.seq, entry.location, entry.delta, entry.reason ?? null, change.now,
					);
					return { sku, source: entry.source, seq: entry.seq, status: "gap", expected: last + 1 };
				}
				this.#applyDelta(change, entry);
				// The arrival may close a gap: apply parked successors in order.
				for (let next = entry.seq + 1; ; next++) {
					const row = this.#sql
						.exec<{ location: string; delta: number; reason: string | null }>(
							"SELECT location, delta, reason FROM parked_deltas WHERE source = ? AND seq = ?",
							entry.source, next,
						)
						.toArray()[0];
					if (!row) break;
					this.#sql.exec("DELETE FROM parked_deltas WHERE source = ? AND seq = ?", entry.source, next);
					this.#applyDelta(change, { source: entry.source, seq: next, location: row.location, delta: row.delta, reason: row.reason ?? undefined });
				}
				return { sku, source: entry.source, seq: entry.seq, status: "applied" };
			}),
		);
		await this.#reportGaps(sku, new Set(entries.map((e) => e.source)), gapsBefore);
		return outcomes;
	}

	/** A feed gap is an exception operators see; it clears itself once the missing deltas arrive. */
	async #reportGaps(sku: string, sources: Set<string>, openBefore: Set<string>): Promise<void> {
		const monitor = flowMonitor(this.env);
		const open = new Map(this.gaps().map((g) => [g.source, g]));
		try {
			for (const source of sources) {
				const gap = open.get(source);
				const id = `gap:${sku}:${source}`;
				if (gap) {
					const reason = `${source} feed for ${sku}: waiting for seq ${gap.expected}; parked ${gap.parked.join(", ")}`;
					await monitor.raise({ id, kind: "gap", reason });
					noteFlows(this.ctx, this.env, [{ type: "gap", sku, detail: reason }]);
				} else if (openBefore.has(source)) {
					await monitor.resolve(id, "the missing deltas arrived");
				}
			}
		} catch {
			// The gap stays visible in GET /ops/skus/:sku even when the monitor cannot be reached.
		}
	}

	/** Deltas that wait behind a gap, per source: what operators see as the exception. */
	gaps(): Array<{ source: string; expected: number; parked: number[] }> {
		return this.#sql
			.exec<{ source: string; last_seq: number; seqs: string }>(
				`SELECT p.source, f.last_seq, group_concat(p.seq) AS seqs FROM parked_deltas p
				 JOIN feeds f ON f.source = p.source GROUP BY p.source ORDER BY p.source`,
			)
			.toArray()
			.map((row) => ({ source: row.source, expected: row.last_seq + 1, parked: row.seqs.split(",").map(Number).sort((a, b) => a - b) }));
	}

	/** Returned goods put back on the shelf at the receiving location; once per receipt. */
	receiveReturn(sku: string, receipt: ReturnReceipt): { status: "applied" | "duplicate" } {
		return this.#transact(sku, (change) => {
			if (this.#sql.exec("SELECT 1 FROM returns WHERE receipt_id = ?", receipt.receiptId).toArray().length > 0) return { status: "duplicate" };
			this.#sql.exec(
				"INSERT INTO returns (receipt_id, location, quantity, order_key, line_id, at_ms) VALUES (?, ?, ?, ?, ?, ?)",
				receipt.receiptId, receipt.location, receipt.quantity, receipt.orderKey ?? null, receipt.lineId ?? null, Date.parse(change.now),
			);
			this.#addOnHand(change, receipt.location, receipt.quantity);
			const cause: AuditCause = receipt.orderKey
				? { orderKey: receipt.orderKey, lineId: receipt.lineId ?? "", receiptId: receipt.receiptId }
				: { source: "returns", receiptId: receipt.receiptId };
			change.record("return", cause, { onHand: receipt.quantity, location: receipt.location });
			return { status: "applied" };
		});
	}

	/** A person's correction (damaged, found, recount), audited with who and why. */
	adjust(sku: string, input: { location: string; delta: number; operator: string; reason: string }): { onHand: number } {
		return this.#transact(sku, (change) => {
			const current = this.#stock(input.location)?.on_hand ?? 0;
			const applied = Math.max(-current, input.delta);
			this.#addOnHand(change, input.location, applied);
			change.record("adjust", { operator: input.operator, reason: input.reason }, { onHand: applied, location: input.location });
			return { onHand: current + applied };
		});
	}

	/**
	 * Holds up to `quantity` units for one order line (an absolute target, so a retry changes
	 * nothing). What cannot be covered now is backordered and waits in FIFO order. A lower target
	 * releases the difference. A line already released or committed stays so.
	 */
	reserve(line: LineRef & { quantity: number }): ReserveResult {
		return this.#transact(line.sku, (change): ReserveResult => {
			const row = this.#reservation(line);
			if (row && row.status !== "open") return { status: row.status, reserved: 0, backordered: 0 };
			const held = row?.quantity ?? 0;
			const quantity = line.quantity <= held ? line.quantity : held + Math.min(line.quantity - held, change.available);
			if (!row || quantity !== held || row.requested !== line.quantity) {
				this.#sql.exec(
					`INSERT INTO reservations (order_key, line_id, requested, quantity, status, updated_at) VALUES (?, ?, ?, ?, 'open', ?)
					 ON CONFLICT (order_key, line_id) DO UPDATE SET requested = excluded.requested, quantity = excluded.quantity,
					 updated_at = excluded.updated_at`,
					line.orderKey, line.lineId, line.quantity, quantity, change.now,
				);
				change.record(quantity >= held ? "reserve" : "release", { orderKey: line.orderKey, lineId: line.lineId }, { reserved: quantity - held });
			}
			return { status: "open", reserved: quantity, backordered: line.quantity - quantity };
		});
	}

	/** Gives a line's units back. Leaves a tombstone so a late, retried reserve cannot revive it. */
	release(line: LineRef): { released: number } {
		return this.#transact(line.sku, (change) => {
			const row = this.#reservation(line);
			if (row && row.status !== "open") return { released: 0 };
			this.#sql.exec(
				`INSERT INTO reservations (order_key, line_id, requested, quantity, status, updated_at) VALUES (?, ?, 0, 0, 'released', ?)
				 ON CONFLICT (order_key, line_id) DO UPDATE SET quantity = 0, status = 'released', updated_at = excluded.updated_at`,
				line.orderKey, line.lineId, change.now,
			);
			this.#sql.exec("DELETE FROM assignments WHERE order_key = ? AND line_id = ?", line.orderKey, line.lineId);
			const released = row?.quantity ?? 0;
			change.record("release", { orderKey: line.orderKey, lineId: line.lineId }, { reserved: -released });
			return { released };
		});
	}

	/**
	 * Shipped units leave the building: the line's reservation is consumed and on-hand drops at
	 * the shipping location (or the fullest one when the channel did not say). Idempotent per commitId.
	 */
	commit(line: LineRef & { commitId: string; quantity: number; location?: string }): CommitResult {
		return this.#transact(line.sku, (change): CommitResult => {
			const done = this.#sql
				.exec<{ quantity: number; location: string | null; shortfall: number }>(
					"SELECT quantity, location, shortfall FROM commits WHERE order_key = ? AND line_id = ? AND commit_id = ?",
					line.orderKey, line.lineId, line.commitId,
				)
				.toArray()[0];
			if (done) return { committed: done.quantity, location: done.location, shortfall: done.shortfall };

			const row = this.#reservation(line);
			let consumed = 0;
			if (row?.status === "open") {
				consumed = Math.min(row.quantity, line.quantity);
				const left = row.quantity - consumed;
				// What shipped is no longer wanted: the line's request shrinks with it.
				const requested = Math.max(left, row.requested - line.quantity);
				this.#sql.exec(
					"UPDATE reservations SET quantity = ?, requested = ?, status = ?, updated_at = ? WHERE order_key = ? AND line_id = ?",
					left, requested, requested === 0 ? "committed" : "open", change.now, line.orderKey, line.lineId,
				);
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
				this.#sql.exec("UPDATE stock SET on_hand = on_hand - ?, updated_at = ? WHERE location = ?", take, change.now, location);
				remaining -= take;
			}
			const location = line.location ?? locations[0]?.location ?? null;
			// Shipped units no longer hold their location's assignment; a finished line holds none.
			this.#sql.exec(
				"DELETE FROM assignments WHERE order_key = ? AND line_id = ? AND (location = ? AND quantity <= ? OR ?)",
				line.orderKey, line.lineId, location ?? "", line.quantity, row?.status === "open" && row.requested - line.quantity <= 0 ? 1 : 0,
			);
			this.#sql.exec(
				"UPDATE assignments SET quantity = quantity - ? WHERE order_key = ? AND line_id = ? AND location = ?",
				line.quantity, line.orderKey, line.lineId, location ?? "",
			);
			this.#sql.exec(
				"INSERT INTO commits (order_key, line_id, commit_id, quantity, location, shortfall, at, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				line.orderKey, line.lineId, line.commitId, line.quantity, location, remaining, change.now, Date.parse(change.now),
			);
			change.record("commit", { orderKey: line.orderKey, lineId: line.lineId, commitId: line.commitId }, {
				onHand: -(line.quantity - remaining),
				reserved: -consumed,
				location: location ?? undefined,
			});
			return { committed: line.quantity, location, shortfall: remaining };
		});
	}

	/**
	 * Units each location can still be asked to ship: on hand there, less what routed orders
	 * already assigned to it. Routing reads this, then claims with `assign`.
	 */
	locate(): Record<string, number> {
		const assigned = new Map(
			this.#sql
				.exec<{ location: string; n: number }>("SELECT location, SUM(quantity) AS n FROM assignments GROUP BY location")
				.toArray()
				.map((row) => [row.location, row.n]),
		);
		const free: Record<string, number> = {};
		for (const [location, onHand] of this.#stockByLocation) free[location] = Math.max(0, onHand - (assigned.get(location) ?? 0));
		return free;
	}

	/**
	 * Claims units at locations for one routed line (replacing its earlier claim), checked against
	 * what other orders claimed in the same transaction, so two orders cannot route the same units.
	 */
	assign(line: LineRef & { picks: Pick[] }): AssignResult {
		return this.ctx.storage.transactionSync((): AssignResult => {
			for (const pick of line.picks) {
				const onHand = this.#stock(pick.location)?.on_hand ?? 0;
				const others = this.#scalar(
					"SELECT COALESCE(SUM(quantity), 0) AS n FROM assignments WHERE location = ? AND NOT (order_key = ? AND line_id = ?)",
					pick.location, line.orderKey, line.lineId,
				);
				if (onHand - others < pick.quantity) return { ok: false, location: pick.location, free: Math.max(0, onHand - others) };
			}
			this.#sql.exec("DELETE FROM assignments WHERE order_key = ? AND line_id = ?", line.orderKey, line.lineId);
			for (const pick of line.picks) {
				if (pick.quantity <= 0) continue;
				this.#sql.exec(
					"INSERT INTO assignments (order_key, line_id, location, quantity) VALUES (?, ?, ?, ?)",
					line.orderKey, line.lineId, pick.location, pick.quantity,
				);
			}
			return { ok: true };
		});
	}

	/** Drops a line's claim (a route that could not be completed, or a cancelled 3PL order). */
	unassign(line: LineRef): void {
		this.#sql.exec("DELETE FROM assignments WHERE order_key = ? AND line_id = ?", line.orderKey, line.lineId);
	}

	/** An order no location could ship asks to hear once when stock arrives here. */
	watch(orderKey: string): void {
		this.#sql.exec("INSERT INTO watchers (order_key) VALUES (?) ON CONFLICT (order_key) DO NOTHING", orderKey);
	}

	/** Stock by location, every reservation, waiting backorders and recent audit entries. */
	detail(sku: string, auditLimit = 50) {
		return {
			...this.availability(sku),
			locations: this.#sql
				.exec<{ location: string; on_hand: number; as_of_ms: number; source: string }>(
					"SELECT location, on_hand, as_of_ms, source FROM stock ORDER BY location",
				)
				.toArray()
				.map((row) => ({ location: row.location, onHand: row.on_hand, asOf: new Date(row.as_of_ms).toISOString(), source: row.source })),
			reservations: this.#sql
				.exec<{ order_key: string; line_id: string; requested: number; quantity: number; status: string }>(
					"SELECT order_key, line_id, requested, quantity, status FROM reservations ORDER BY rowid",
				)
				.toArray()
				.map((row) => ({ orderKey: row.order_key, lineId: row.line_id, requested: row.requested, quantity: row.quantity, status: row.status })),
			backorders: this.#sql
				.exec<{ order_key: string; line_id: string; short: number }>(
					"SELECT order_key, line_id, requested - quantity AS short FROM reservations WHERE status = 'open' AND quantity < requested ORDER BY rowid",
				)
				.toArray()
				.map((row, position) => ({ position: position + 1, orderKey: row.order_key, lineId: row.line_id, waiting: row.short })),
			assignments: this.#sql
				.exec<{ order_key: string; line_id: string; location: string; quantity: number }>("SELECT * FROM assignments ORDER BY rowid")
				.toArray()
				.map((row) => ({ orderKey: row.order_key, lineId: row.line_id, location: row.location, quantity: row.quantity })),
			gaps: this.gaps(),
			pushes: this.#sql
				.exec<{ connection: string; value: number; version: number; due_ms: number | null; sent_value: number | null; sent_at_ms: number | null; latency_ms: number | null; attempts: number; last_error: string | null }>(
					"SELECT * FROM pushes ORDER BY connection",
				)
				.toArray()
				.map((row) => ({
					connection: row.connection,
					value: row.value,
					version: row.version,
					pending: row.due_ms !== null,
					sentValue: row.sent_value,
					sentAt: row.sent_at_ms === null ? null : new Date(row.sent_at_ms).toISOString(),
					/** Stock change to push leaving the worker, for the last push sent. */
					latencyMs: row.latency_ms,
					attempts: row.attempts,
					lastError: row.last_error,
				})),
			audit: this.#sql
				.exec<{ seq: number; at: string; kind: string; location: string | null; on_hand_delta: number; reserved_delta: number; on_hand_after: number; reserved_after: number; cause: string }>(
					"SELECT * FROM audit ORDER BY seq DESC LIMIT ?",
					Math.min(Math.max(auditLimit, 1), 1000),
				)
				.toArray()
				.map((row) => ({
					seq: row.seq,
					at: row.at,
					kind: row.kind,
					location: row.location,
					onHandDelta: row.on_hand_delta,
					reservedDelta: row.reserved_delta,
					onHandAfter: row.on_hand_after,
					reservedAfter: row.reserved_after,
					cause: JSON.parse(row.cause) as AuditCause,
				})),
		};
	}

	/** Delivers backorder notices to orders and due pushes to channels; re-arms for what is left. */
	override async alarm(): Promise<void> {
		await Promise.all([this.#notifyOrders(), this.#flushPushes()]);
		await this.#rearm();
	}

	async #rearm(): Promise<void> {
		const due = this.#sql.exec<{ n: number | null }>("SELECT MIN(due_ms) AS n FROM pushes WHERE due_ms IS NOT NULL").one().n;
		const waiting = this.#scalar("SELECT (SELECT COUNT(*) FROM notices) + (SELECT COUNT(*) FROM watchers WHERE notify = 1) AS n") > 0;
		const next = Math.min(due ?? Infinity, waiting ? Date.now() + 1_000 + Math.random() * 4_000 : Infinity);
		if (next !== Infinity) await this.ctx.storage.setAlarm(next);
	}

	/**
	 * Queues the newest availability for each channel that takes pushes, inside the transaction
	 * that changed it. One row per channel holds only the newest value, so an older value can
	 * never be sent after a newer one.
	 */
	#queuePushes(sku: string, reserved: number, stock: ReadonlyMap<string, number>, nowMs: number): boolean {
		const targets = [...loadConfig(this.env).connections.values()].filter(pushesAvailability);
		if (targets.length === 0) return false;
		const shown = this.#channels(sku, reserved, stock);
		let queued = false;
		for (const connection of targets) {
			const value = shown[connection.id]!;
			const row = this.#sql
				.exec<{ value: number; due_ms: number | null; sent_value: number | null; sent_at_ms: number | null }>(
					"SELECT value, due_ms, sent_value, sent_at_ms FROM pushes WHERE connection = ?",
					connection.id,
				)
				.toArray()[0];
			if (row ? row.value === value : false) continue;
			if (!row && value === 0) continue; // nothing to tell a channel about a SKU it never had
			const due = row?.due_ms ?? Math.max(nowMs, (row?.sent_at_ms ?? 0) + PUSH_COALESCE_MS);
			this.#sql.exec(
				`INSERT INTO pushes (connection, value, version, due_ms, changed_at_ms) VALUES (?, ?, 1, ?, ?)
				 ON CONFLICT (connection) DO UPDATE SET value = excluded.value, version = version + 1, due_ms = excluded.due_ms,
				 changed_at_ms = COALESCE(changed_at_ms, excluded.changed_at_ms)`,
				connection.id, value, due, nowMs,
			);
			queued = true;
		}
		return queued;
	}

	/**
	 * The drift check (worker/sweep/stock-drift.ts): `shown` is what the channel displays of this
	 * SKU for the connection, one entry per listing (null: the channel does not count its stock),
	 * read at `readAtMs`. Compared in one synchronous step with what the ledger would push there
	 * now; where they differ and no push is due or in flight, the current value is queued again
	 * under a new version, so it goes out through the same queue as any change (debounced,
	 * retried, raised after repeated failures). A push settled after the channel was read makes
	 * the read stale: pending, not drift. A ledger that never heard of its SKU has no stock to
	 * compare and leaves the channel alone (known: false).
	 */
	checkDrift(
		sku: string,
		connectionId: string,
		shown: Array<number | null>,
		readAtMs: number = Date.now(),
	): { known: boolean; ledger: number; channel: number | null; drifted: boolean; queued: boolean; pending: boolean } {
		const connection = loadConfig(this.env).connections.get(connectionId);
		if (this.#sku === null || !connection || !pushesAvailability(connection)) {
			return { known: false, ledger: 0, channel: shown[0] ?? null, drifted: false, queued: false, pending: false };
		}
		const outcome = this.ctx.storage.transactionSync(() => {
			const ledger = this.#channels(sku, this.#reserved)[connectionId]!;
			const off = shown.find((value) => value !== ledger);
			if (off === undefined) return { known: true, ledger, channel: ledger, drifted: false, queued: false, pending: false };
			const row = this.#sql
				.exec<{ due_ms: number | null; sent_at_ms: number | null; value: number; last_error: string | null }>("SELECT due_ms, sent_at_ms, value, last_error FROM pushes WHERE connection = ?", connectionId)
				.toArray()[0];
			if (row && (row.due_ms !== null || (row.sent_at_ms ?? 0) >= readAtMs)) return { known: true, ledger, channel: off, drifted: false, queued: false, pending: true };
			// The channel refused this very value for good (its exception is open): asking again each sweep changes nothing.
			if (row && row.last_error !== null && row.value === ledger) return { known: true, ledger, channel: off, drifted: true, queued: false, pending: false };
			const nowMs = Date.now();
			this.#sql.exec(
				`INSERT INTO pushes (connection, value, version, due_ms, changed_at_ms) VALUES (?, ?, 1, ?, ?)
				 ON CONFLICT (connection) DO UPDATE SET value = excluded.value, version = version + 1, due_ms = excluded.due_ms,
				 changed_at_ms = COALESCE(changed_at_ms, excluded.changed_at_ms)`,
				connectionId, ledger, Math.max(nowMs, (row?.sent_at_ms ?? 0) + PUSH_COALESCE_MS), nowMs,
			);
			return { known: true, ledger, channel: off, drifted: true, queued: true, pending: false };
		});
		if (outcome.queued) {
			void this.#rearm();
			void this.#flushPushes().then(() => this.#rearm());
		}
		return outcome;
	}

	/** Sends every due push; one flush at a time, so each channel sees its values in order. */
	async #flushPushes(): Promise<void> {
		if (this.#pushing) return this.#pushing;
		this.#pushing = (async () => {
			const sku = this.#sku;
			if (!sku) return;
			const due = this.#sql
				.exec<{ connection: string; value: number; version: number; changed_at_ms: number | null; attempts: number }>(
					"SELECT connection, value, version, changed_at_ms, attempts FROM pushes WHERE due_ms IS NOT NULL AND due_ms <= ?",
					Date.now(),
				)
				.toArray();
			await Promise.all(due.map((row) => this.#push(sku, row)));
		})().finally(() => {
			this.#pushing = null;
		});
		return this.#pushing;
	}

	async #push(sku: string, row: { connection: string; value: number; version: number; changed_at_ms: number | null; attempts: number }): Promise<void> {
		const connection = loadConfig(this.env).connections.get(row.connection);
		if (!connection || !pushesAvailability(connection)) {
			this.#sql.exec("DELETE FROM pushes WHERE connection = ?", row.connection); // the channel no longer takes pushes
			return;
		}
		const leftAt = Date.now();
		const result = connection.admin && connection.adminToken
			? await this.#pushToShopify(sku, connection.admin, connection.adminToken, row)
			: await connectorFor(connection.channel).pushAvailability!(connection, { sku, quantity: row.value }, { timeoutMs: PUSH_TIMEOUT_MS, env: this.env, version: row.version });
		await this.#settlePush(sku, row, result, leftAt);
	}

	/** Shopify sets `available` on the inventory item of the SKU's variant, found once and remembered. */
	async #pushToShopify(sku: string, admin: ShopifyAdmin, adminToken: string, row: { connection: string; value: number; version: number }): Promise<CallResult<unknown>> {
		const cacheKey = `inventory_item:${row.connection}`;
		let itemId = this.#meta(cacheKey);
		let result: CallResult<unknown> | undefined;
		if (!itemId) {
			const lookup = await inventoryItemForSku(admin, adminToken, sku);
			if (lookup.ok && lookup.value === null) result = { ok: false as const, retryable: false, error: `the shop has no variant with SKU ${sku}` };
			else if (!lookup.ok) result = lookup;
			else {
				itemId = lookup.value;
				this.#sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", cacheKey, itemId);
			}
		}
		if (itemId) {
			result = await setAvailable(admin, adminToken, {
				inventoryItemId: itemId,
				quantity: row.value,
				idempotencyKey: `ordersync:${sku}:${row.connection}:${row.version}`,
				reference: `ordersync://skus/${encodeURIComponent(sku)}/availability/${row.version}`,
			});
		}
		return result!;
	}

	/** Records what a push came to: the value the channel now shows, or when to try again. */
	async #settlePush(
		sku: string,
		row: { connection: string; value: number; version: number; changed_at_ms: number | null; attempts: number },
		result: CallResult<unknown>,
		leftAt: number,
	): Promise<void> {
		const now = Date.now();
		const id = `push:${sku}:${row.connection}`;
		if (result.ok) {
			// Settle only the version sent; a newer value waits out the coalescing window.
			this.#sql.exec(
				`UPDATE pushes SET sent_value = ?, sent_at_ms = ?, latency_ms = ?, attempts = 0, last_error = NULL,
				 due_ms = CASE WHEN version = ? THEN NULL ELSE ? END, changed_at_ms = CASE WHEN version = ? THEN NULL ELSE ? END
				 WHERE connection = ?`,
				// A newer value queued during this push changed after it started.
				row.value, now, row.changed_at_ms === null ? null : leftAt - row.changed_at_ms, row.version, now + PUSH_COALESCE_MS, row.version, leftAt, row.connection,
			);
			noteFlows(this.ctx, this.env, [{ type: "pushed", sku, connection: row.connection, detail: `${row.connection} shows ${row.value}` }]);
			if (row.attempts >= PUSH_RAISE_AFTER) await flowMonitor(this.env).resolve(id, "the channel accepted the push").catch(() => {});
			return;
		}
		const failure = result;
		const attempts = row.attempts + 1;
		const backoff = Math.random() * Math.min(PUSH_MAX_BACKOFF_MS, 1_000 * 2 ** Math.min(attempts, 20));
		const due = failure.retryable ? now + Math.max(failure.retryAfterMs ?? 0, backoff) : null;
		this.#sql.exec("UPDATE pushes SET attempts = ?, last_error = ?, due_ms = ? WHERE connection = ?", attempts, failure.error, due, row.connection);
		if (!failure.retryable || attempts === PUSH_RAISE_AFTER) {
			const reason = `push of ${sku} = ${row.value} to ${row.connection} ${failure.retryable ? `failed ${attempts} times` : "was refused"}: ${failure.error}`;
			noteFlows(this.ctx, this.env, [{ type: "failed", sku, connection: row.connection, detail: reason }]);
			await flowMonitor(this.env).raise({ id, kind: "failure", reason }).catch(() => {});
		}
	}

	#applyDelta(change: Change, entry: DeltaEntry): void {
		const current = this.#stock(entry.location)?.on_hand ?? 0;
		// A feed cannot take a location below zero; what it could not take is visible in the audit.
		const applied = Math.max(-current, entry.delta);
		this.#addOnHand(change, entry.location, applied);
		this.#sql.exec(
			"INSERT INTO feeds (source, last_seq) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET last_seq = excluded.last_seq",
			entry.source, entry.seq,
		);
		change.record("delta", { source: entry.source, seq: entry.seq, ...(entry.reason ? { reason: entry.reason } : {}) }, { onHand: applied, location: entry.location });
	}

	#addOnHand(change: Change, location: string, delta: number): void {
		this.#sql.exec(
			`INSERT INTO stock (location, on_hand, as_of_ms, source, updated_at) VALUES (?, ?, 0, 'delta', ?)
			 ON CONFLICT (location) DO UPDATE SET on_hand = on_hand + ?, updated_at = excluded.updated_at`,
			location, Math.max(0, delta), change.now, delta,
		);
	}

	/** Stock that became available goes to the oldest waiting lines first. */
	#allocateBackorders(change: Change): void {
		// Only a change that freed units (more on hand, fewer held) can serve anyone waiting; this
		// keeps the hot reserve path free of the queue scan.
		if (change.available === 0 || (change.onHand <= 0 && change.reserved >= 0)) return;
		const waiting = this.#sql
			.exec<{ order_key: string; line_id: string; requested: number; quantity: number }>(
				`SELECT order_key, line_id, requested, quantity FROM reservations INDEXED BY backorders
				 WHERE status = 'open' AND quantity < requested ORDER BY rowid`,
			)
			.toArray();
		for (const row of waiting) {
			const take = Math.min(row.requested - row.quantity, change.available);
			if (take === 0) break;
			this.#sql.exec(
				"UPDATE reservations SET quantity = quantity + ?, updated_at = ? WHERE order_key = ? AND line_id = ?",
				take, change.now, row.order_key, row.line_id,
			);
			change.record("allocate", { orderKey: row.order_key, lineId: row.line_id }, { reserved: take });
			this.#sql.exec(
				`INSERT INTO notices (order_key, line_id, reserved, requested) VALUES (?, ?, ?, ?)
				 ON CONFLICT (order_key, line_id) DO UPDATE SET reserved = excluded.reserved, requested = excluded.requested`,
				row.order_key, row.line_id, row.quantity + take, row.requested,
			);
			change.allocations++;
		}
	}

	async #notifyOrders(): Promise<void> {
		if (this.#notifying) return this.#notifying;
		this.#notifying = (async () => {
			const sku = this.#sku;
			if (!sku) return;
			const notices = this.#sql.exec<{ order_key: string; line_id: string; reserved: number; requested: number }>("SELECT * FROM notices").toArray();
			await Promise.all(
				notices.map(async (n) => {
					try {
						await this.env.ORDER_FLOW.getByName(n.order_key).lineAllocated({ sku, lineId: n.line_id, reserved: n.reserved, requested: n.requested });
						// Only clear the notice that was delivered; a newer allocation stays queued.
						this.#sql.exec(
							"DELETE FROM notices WHERE order_key = ? AND line_id = ? AND reserved = ?",
							n.order_key, n.line_id, n.reserved,
						);
					} catch {
						// Left in the table: the alarm retries it.
					}
				}),
			);
			const watchers = this.#sql.exec<{ order_key: string }>("SELECT order_key FROM watchers WHERE notify = 1").toArray();
			await Promise.all(
				watchers.map(async ({ order_key }) => {
					try {
						await this.env.ORDER_FLOW.getByName(order_key).stockArrived(sku);
						this.#sql.exec("DELETE FROM watchers WHERE order_key = ? AND notify = 1", order_key);
					} catch {
						// Left marked: the alarm retries it.
					}
				}),
			);
		})().finally(() => {
			this.#notifying = null;
		});
		return this.#notifying;
	}

	/**
	 * Runs one check-and-write in a synchronous transaction (no await can interleave), then hands
	 * freed stock to waiting backorders in the same transaction. The in-memory totals move only
	 * once it has committed.
	 */
	#transact<T>(sku: string | null | undefined, body: (change: Change) => T): T {
		const change = new Change(this.#sql, { onHand: this.#onHand, reserved: this.#reserved }, new Date().toISOString());
		let pushes = false;
		let watchers = false;
		let stockAfter: Map<string, number> | undefined;
		const result = this.ctx.storage.transactionSync(() => {
			if (sku && this.#sku === null) this.#sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('sku', ?)", sku);
			const value = body(change);
			this.#allocateBackorders(change);
			if (change.onHand > 0) watchers = this.#sql.exec("UPDATE watchers SET notify = 1 WHERE notify = 0").rowsWritten > 0;
			if (change.entries > 0) {
				this.#sql.exec("INSERT INTO meta (key, value) VALUES ('updated_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", change.now);
				this.#pruneAudit();
				if (change.stockMoved) stockAfter = this.#readStock();
				const known = sku ?? this.#sku;
				if (known) pushes = this.#queuePushes(known, this.#reserved + change.reserved, stockAfter ?? this.#stockByLocation, Date.parse(change.now));
			}
			return value;
		});
		if (sku && this.#sku === null) this.#sku = sku;
		this.#onHand += change.onHand;
		this.#reserved += change.reserved;
		if (stockAfter) this.#stockByLocation = stockAfter;
		if (change.entries > 0) this.#updatedAt = change.now;
		if (change.allocations > 0 || pushes || watchers) {
			// The alarm is the durable backstop; the direct kick keeps an isolated change fast.
			void this.#rearm();
			if (change.allocations > 0 || watchers) void this.#notifyOrders();
			if (pushes) void this.#flushPushes().then(() => this.#rearm());
		}
		return result;
	}

	#pruneAudit(): void {
		const last = this.#scalar("SELECT COALESCE(MAX(seq), 0) AS n FROM audit");
		if (last > AUDIT_KEEP) this.#sql.exec("DELETE FROM audit WHERE seq <= ?", last - AUDIT_KEEP);
	}

	#readStock(): Map<string, number> {
		return new Map(this.#sql.exec<{ location: string; on_hand: number }>("SELECT location, on_hand FROM stock").toArray().map((r) => [r.location, r.on_hand]));
	}

	#stock(location: string) {
		return this.#sql
			.exec<{ on_hand: number; as_of_ms: number }>("SELECT on_hand, as_of_ms FROM stock WHERE location = ?", location)
			.toArray()[0];
	}

	#reservation(line: LineRef): ReservationRow | undefined {
		return this.#sql
			.exec<ReservationRow>("SELECT requested, quantity, status FROM reservations WHERE order_key = ? AND line_id = ?", line.orderKey, line.lineId)
			.toArray()[0];
	}

	#meta(key: string): string | null {
		return this.#sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
	}

	#scalar(query: string, ...bindings: (string | number)[]): number {
		return this.#sql.exec<{ n: number }>(query, ...bindings).one().n;
	}
}
