import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../worker/config";
import type { Env } from "../worker/env";
import type { InboundEvent } from "../worker/model/events";
import type { CanonicalOrder, Refund } from "../worker/model/order";
import { type FlowEventInput, flowMonitor, noteFlows } from "./flow-monitor";
import type { Allocation } from "./sku-ledger";
import { migrate } from "./schema";

const MIGRATIONS = [
	`CREATE TABLE events (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		event_id TEXT UNIQUE,
		source TEXT NOT NULL,
		type TEXT NOT NULL,
		at TEXT NOT NULL,
		triggered_at TEXT,
		body TEXT NOT NULL,
		outcome TEXT
	);
	CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	CREATE TABLE lines (
		line_id TEXT PRIMARY KEY,
		sku TEXT NOT NULL,
		op TEXT NOT NULL CHECK (op IN ('reserve', 'release', 'commit')),
		target INTEGER NOT NULL,
		version INTEGER NOT NULL,
		pending INTEGER NOT NULL,
		reserved INTEGER NOT NULL DEFAULT 0,
		backordered INTEGER NOT NULL DEFAULT 0,
		committed INTEGER NOT NULL DEFAULT 0,
		attempts INTEGER NOT NULL DEFAULT 0,
		last_error TEXT
	);`,
];

export const OrderStatus = ["received", "reserved", "backordered", "fulfilled", "cancelled"] as const;
export type OrderStatus = (typeof OrderStatus)[number];

/** A flow event before the order's key and connection are stamped on it. */
type FlowNote = Omit<FlowEventInput, "orderKey" | "connection">;

export type IngestOutcome = { status: "applied" | "duplicate" | "stale"; orderStatus: OrderStatus | null };

type LineRow = {
	line_id: string;
	sku: string;
	op: "reserve" | "release" | "commit";
	target: number;
	version: number;
	pending: number;
	reserved: number;
	backordered: number;
	committed: number;
	attempts: number;
	last_error: string | null;
};

/** Attempts after which a stuck ledger call becomes an exception operators see. */
const RAISE_AFTER_ATTEMPTS = 5;
/** Safety net: the alarm finishes any saga step a crash or eviction interrupted. */
const BACKSTOP_MS = 2_000;
const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * One order: its raw inbound events (for audit and replay), its canonical state, and the saga
 * that holds, releases or commits each line's units on the SKU ledgers. It alone decides the
 * order's state; every ledger call is idempotent, so the alarm can re-run any step.
 */
export class OrderFlow extends DurableObject<Env> {
	#sql: SqlStorage;
	#driving: Promise<void> | null = null;
	#again = false;
	/** Flow events waiting to go out with the saga's next batch. */
	#unsent: FlowNote[] = [];

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		migrate(ctx.storage, MIGRATIONS);
		// Repair: pending saga steps without an alarm (e.g. written by an older build) get one.
		if (this.#pendingCount() > 0) {
			void ctx.blockConcurrencyWhile(async () => {
				if ((await ctx.storage.getAlarm()) === null) await ctx.storage.setAlarm(Date.now());
			}).catch(() => {});
		}
	}

	/**
	 * Stores one inbound event and applies it, in one transaction: the caller acknowledges the
	 * webhook only after this returns. A known event id changes nothing; an order version older
	 * than the one held is logged but not applied.
	 */
	ingest(event: InboundEvent): IngestOutcome {
		const now = new Date().toISOString();
		const status = this.ctx.storage.transactionSync((): IngestOutcome["status"] => {
			if (this.#sql.exec("SELECT 1 FROM events WHERE event_id = ?", event.eventId).toArray().length > 0) {
				return "duplicate";
			}
			const change = event.change;
			const current = this.#get<CanonicalOrder>("order");
			const stale =
				change.kind === "order" && current !== null && Date.parse(change.order.sourceUpdatedAt) < Date.parse(current.sourceUpdatedAt);
			this.#sql.exec(
				"INSERT INTO events (event_id, source, type, at, triggered_at, body, outcome) VALUES (?, 'inbound', ?, ?, ?, ?, ?)",
				event.eventId, event.topic, now, event.triggeredAt, event.rawBody, stale ? "stale" : "applied",
			);
			if (stale) return "stale";
			if (this.#get<string>("key") === null) {
				const channelOrderId = change.kind === "order" ? change.order.channelOrderId : change.channelOrderId;
				this.#put("key", `${event.connection}:${channelOrderId}`);
				this.#put("status", "received");
			}
			if (change.kind === "order") this.#put("order", change.order);
			else this.#addRefund(change.refund);
			this.#planLines();
			return "applied";
		});

		const flowEvent = { type: status === "applied" ? "received" : status, topic: event.topic, eventId: event.eventId };
		if (status === "applied") this.#afterChange(flowEvent);
		else this.#emit([flowEvent]);
		return { status, orderStatus: this.#get<OrderStatus>("status") };
	}

	/** Everything an operator needs to explain this order. */
	view() {
		const key = this.#get<string>("key");
		if (key === null) return null;
		const order = this.#get<CanonicalOrder>("order");
		const extra = this.#get<Refund[]>("extra_refunds") ?? [];
		return {
			key,
			status: this.#get<OrderStatus>("status"),
			order: order && { ...order, refunds: [...order.refunds, ...extra] },
			lines: this.#lines().map((row) => ({
				lineId: row.line_id,
				sku: row.sku,
				op: row.op,
				target: row.target,
				reserved: row.reserved,
				backordered: row.backordered,
				committed: row.committed,
				pending: row.pending === 1,
				attempts: row.attempts,
				lastError: row.last_error,
			})),
			events: this.#sql
				.exec<{ seq: number; event_id: string | null; source: string; type: string; at: string; triggered_at: string | null; body: string; outcome: string | null }>(
					"SELECT seq, event_id, source, type, at, triggered_at, body, outcome FROM events ORDER BY seq",
				)
				.toArray()
				.map((row) => ({
					seq: row.seq,
					eventId: row.event_id,
					source: row.source,
					type: row.type,
					at: row.at,
					triggeredAt: row.triggered_at,
					outcome: row.outcome,
					body: row.body,
				})),
		};
	}

	/**
	 * A SkuLedger gave units to one of this order's backordered lines (stock arrived; oldest
	 * waiting lines first). Numbers are absolute, so a repeated notice changes nothing; a line with
	 * a newer intent in flight ignores it, since that call brings back the ledger's current truth.
	 */
	lineAllocated(notice: Allocation): void {
		const row = this.#sql
			.exec<LineRow>("SELECT * FROM lines WHERE line_id = ? AND sku = ?", notice.lineId, notice.sku)
			.toArray()[0];
		if (!row || row.op !== "reserve" || row.pending === 1 || row.reserved === notice.reserved) return;
		const reserved = Math.min(notice.reserved, row.target);
		this.#sql.exec(
			"UPDATE lines SET reserved = ?, backordered = ? WHERE line_id = ? AND version = ?",
			reserved, row.target - reserved, row.line_id, row.version,
		);
		const held = reserved < row.target ? ` (${reserved} held)` : "";
		this.#emit([
			...this.#refreshStatus(),
			{ type: reserved < row.target ? "line.backordered" : "line.allocated", sku: row.sku, detail: `×${row.target}${held}, stock arrived` },
		]);
	}

	override async alarm(): Promise<void> {
		await this.#drive();
		const stuck = this.#sql
			.exec<{ attempts: number }>("SELECT MAX(attempts) AS attempts FROM lines WHERE pending = 1")
			.one().attempts;
		if (stuck !== null) {
			// Full jitter: a ledger that is struggling is not hammered in lockstep by every order.
			const ceiling = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** Math.min(stuck, 20));
			await this.ctx.storage.setAlarm(Date.now() + Math.random() * ceiling);
		}
	}

	/** Refunds that arrive on their own (refunds/create) count until an order version includes them. */
	#addRefund(refund: Refund): void {
		const order = this.#get<CanonicalOrder>("order");
		const extra = this.#get<Refund[]>("extra_refunds") ?? [];
		const known = [...(order?.refunds ?? []), ...extra].some((r) => r.channelRefundId === refund.channelRefundId);
		if (!known) this.#put("extra_refunds", [...extra, refund]);
	}

	/**
	 * Turns the current order into one intent per tracked line: hold `target` units, release them,
	 * or commit them as shipped. Only a changed intent becomes pending work for the saga.
	 */
	#planLines(): void {
		const order = this.#get<CanonicalOrder>("order");
		if (!order) return;
		let extra = this.#get<Refund[]>("extra_refunds") ?? [];
		extra = extra.filter((r) => !order.refunds.some((known) => known.channelRefundId === r.channelRefundId));
		this.#put("extra_refunds", extra);

		const existing = new Map(this.#lines().map((row) => [row.line_id, row]));
		const wanted = new Map<string, { sku: string; op: LineRow["op"]; target: number }>();
		const { bundles } = loadConfig(this.env).inventory;
		for (const line of order.lines) {
			if (line.sku === null) continue; // not inventory-tracked (custom items, tips, gift cards)
			const restocked = extra
				.flatMap((r) => r.lines)
				.filter((l) => l.channelLineId === line.channelLineId && l.restockBeforeShipment)
				.reduce((sum, l) => sum + l.quantity, 0);
			const units = order.cancelledAt ? 0 : Math.max(0, line.quantity - restocked);
			const op = units === 0 ? "release" : order.fulfillmentStatus === "fulfilled" ? "commit" : "reserve";
			// A bundle holds its components, one saga line per component, on their own ledgers.
			const parts = bundles[line.sku];
			if (!parts) wanted.set(line.channelLineId, { sku: line.sku, op, target: units });
			else for (const part of parts) wanted.set(`${line.channelLineId}#${part.sku}`, { sku: part.sku, op, target: units * part.quantity });
		}
		for (const [lineId, row] of existing) {
			if (!wanted.has(lineId)) wanted.set(lineId, { sku: row.sku, op: "release", target: 0 });
		}
		for (const [lineId, want] of wanted) {
			const row = existing.get(lineId);
			if (row && row.op === "commit" && row.pending === 0) continue; // shipped units stay shipped
			if (row && row.op === want.op && row.target === want.target && row.sku === want.sku) continue;
			this.#sql.exec(
				`INSERT INTO lines (line_id, sku, op, target, version, pending) VALUES (?, ?, ?, ?, 1, 1)
				 ON CONFLICT (line_id) DO UPDATE SET sku = excluded.sku, op = excluded.op, target = excluded.target,
				 version = version + 1, pending = 1`,
				lineId, want.sku, want.op, want.target,
			);
		}
	}

	/** Starts the saga for new intents; the flow event goes out with its results, in one message. */
	#afterChange(received: FlowNote): void {
		if (this.#pendingCount() > 0) {
			this.#unsent.push(received);
			void this.ctx.storage.setAlarm(Date.now() + BACKSTOP_MS);
			void this.#drive().catch(() => {});
		} else {
			this.#emit([received, ...this.#refreshStatus()]);
		}
	}

	/** Runs pending saga steps; concurrent callers share one run, and a change mid-run triggers another. */
	#drive(): Promise<void> {
		if (this.#driving) {
			this.#again = true;
			return this.#driving;
		}
		this.#driving = (async () => {
			do {
				this.#again = false;
				const rows = this.#lines().filter((row) => row.pending === 1);
				const settled = await Promise.all(rows.map((row) => this.#step(row)));
				const events = [...this.#unsent.splice(0), ...this.#refreshStatus(), ...settled.filter((e) => e !== null)];
				this.#emit(events);
			} while (this.#again);
			// Nothing left for the backstop to finish: an idle order costs no alarm.
			if (this.#pendingCount() === 0) await this.ctx.storage.deleteAlarm();
		})().finally(() => {
			this.#driving = null;
		});
		return this.#driving;
	}

	/** One ledger call for one line; returns the flow event for a settled line, null otherwise. */
	async #step(row: LineRow): Promise<FlowNote | null> {
		const key = this.#get<string>("key")!;
		const ledger = this.env.SKU_LEDGER.getByName(row.sku);
		const ref = { orderKey: key, lineId: row.line_id, sku: row.sku };
		try {
			let reserved = 0;
			let backordered = 0;
			let committed = row.committed;
			if (row.op === "reserve") {
				({ reserved, backordered } = await ledger.reserve({ ...ref, quantity: row.target }));
			} else if (row.op === "release") {
				await ledger.release(ref);
			} else {
				await ledger.commit({ ...ref, commitId: "order-fulfilled", quantity: row.target });
				committed = row.target;
			}
			// Only settle the intent this call was made for; a newer one stays pending.
			this.#sql.exec(
				`UPDATE lines SET reserved = ?, backordered = ?, committed = ?, pending = 0, attempts = 0, last_error = NULL
				 WHERE line_id = ? AND version = ?`,
				reserved, backordered, committed, row.line_id, row.version,
			);
			if (row.attempts >= RAISE_AFTER_ATTEMPTS) {
				await flowMonitor(this.env).resolve(`saga:${key}:${row.line_id}`, "ledger call succeeded");
			}
			const outcome =
				row.op === "reserve" ? (backordered > 0 ? "backordered" : "reserved") : row.op === "release" ? "released" : "committed";
			const held = row.op === "reserve" && backordered > 0 ? ` (${reserved} held)` : "";
			return { type: `line.${outcome}`, sku: row.sku, detail: `×${row.target}${held}` };
		} catch (error) {
			const message = error instanceof Error ? error.message : String(error);
			this.#sql.exec("UPDATE lines SET attempts = attempts + 1, last_error = ? WHERE line_id = ?", message, row.line_id);
			if (row.attempts + 1 === RAISE_AFTER_ATTEMPTS) {
				await flowMonitor(this.env)
					.raise({
						id: `saga:${key}:${row.line_id}`,
						kind: "failure",
						orderKey: key,
						reason: `${row.op} of ${row.target} × ${row.sku} failed ${RAISE_AFTER_ATTEMPTS} times: ${message}`,
					})
					.catch(() => {});
			}
			return null;
		}
	}

	/** Derives the order's status from its lines, records each transition, and returns its flow event. */
	#refreshStatus(): FlowNote[] {
		const order = this.#get<CanonicalOrder>("order");
		const previous = this.#get<OrderStatus>("status");
		if (!order || previous === null) return [];
		const lines = this.#lines();
		const pending = lines.some((row) => row.pending === 1);
		// The status moves only once the ledgers have confirmed every step.
		let next: OrderStatus;
		if (pending) next = previous;
		else if (order.cancelledAt) next = "cancelled";
		else if (order.fulfillmentStatus === "fulfilled") next = "fulfilled";
		else next = lines.some((row) => row.backordered > 0) ? "backordered" : "reserved";
		if (next === previous) return [];

		const detail = {
			from: previous,
			lines: lines.map((row) => ({ lineId: row.line_id, sku: row.sku, reserved: row.reserved, backordered: row.backordered, committed: row.committed })),
		};
		this.#sql.exec(
			"INSERT INTO events (source, type, at, body) VALUES ('ordersync', ?, ?, ?)",
			next, new Date().toISOString(), JSON.stringify(detail),
		);
		this.#put("status", next);
		const short = lines.filter((row) => row.backordered > 0).length;
		return [{ type: next, detail: short > 0 ? `${short} of ${lines.length} lines short` : `${lines.length} lines` }];
	}

	/** Flow events are telemetry for consoles: never awaited, never allowed to fail the order. */
	#emit(events: FlowNote[]): void {
		const key = this.#get<string>("key");
		if (!key || events.length === 0) return;
		const connection = key.slice(0, key.indexOf(":"));
		const order = this.#get<CanonicalOrder>("order");
		const stamped = events.map((e) => ({ ...e, orderKey: key, connection, orderName: order?.channelOrderName }));
		noteFlows(this.ctx, this.env, stamped);
	}


	#lines(): LineRow[] {
		return this.#sql.exec<LineRow>("SELECT * FROM lines ORDER BY rowid").toArray();
	}

	#pendingCount(): number {
		return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM lines WHERE pending = 1").one().n;
	}

	#get<T>(key: string): T | null {
		const row = this.#sql.exec<{ value: string }>("SELECT value FROM state WHERE key = ?", key).toArray()[0];
		return row ? (JSON.parse(row.value) as T) : null;
	}

	#put(key: string, value: unknown): void {
		this.#sql.exec(
			"INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			key, JSON.stringify(value),
		);
	}
}
