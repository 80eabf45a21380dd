import type { CallResult } from "../worker/connectors/call";
import { type DeliveryConfig, loadConfig } from "../worker/config";
import type { Env } from "../worker/env";
import type { GateLimits, Outcome } from "./delivery-gate";
import { type FlowEventInput, flowMonitor } from "./flow-monitor";

/**
 * The outbox table, added by each owning object's own migration list. Frozen like any migration
 * text: a later change goes in as a new migration in every owner, never as an edit here.
 */
export const OUTBOX_MIGRATION = `CREATE TABLE deliveries (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	id TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	destination TEXT NOT NULL,
	payload TEXT NOT NULL,
	after TEXT,
	status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'cancelled')),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_at_ms INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	age_from_ms INTEGER NOT NULL,
	updated_at TEXT NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	waiting TEXT,
	last_error TEXT,
	result TEXT,
	history TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX deliveries_due ON deliveries (status, next_at_ms);`;

export type DeliveryStatus = "pending" | "delivered" | "dead" | "cancelled";
export type Attempt = { at: string; ms: number; ok: boolean; error?: string; retryable?: boolean; retryAfterMs?: number };

type Row = {
	seq: number;
	id: string;
	kind: string;
	destination: string;
	payload: string;
	after: string | null;
	status: DeliveryStatus;
	attempts: number;
	next_at_ms: number;
	created_at: string;
	age_from_ms: number;
	updated_at: string;
	version: number;
	waiting: string | null;
	last_error: string | null;
	result: string | null;
	history: string;
};

export type Delivery = ReturnType<typeof toDelivery>;

export interface NewDelivery {
	/** Unique within the owner, and the idempotency key sent to the destination. */
	id: string;
	kind: string;
	/** Shared gate name: a destination's concurrency limit and circuit span all objects. */
	destination: string;
	payload: unknown;
	/** A delivery of the same owner that must have been delivered before this one is sent. */
	after?: string;
}

/** What an owning object plugs in: how to send each kind, and what success changes. */
export interface OutboxHooks {
	/** Names the owner in gate leases and exception ids (an order key). */
	owner(): string;
	send(delivery: Delivery, payload: unknown, timeoutMs: number): Promise<CallResult<unknown>>;
	/** Runs after a delivery succeeded (synchronous storage writes only); returns flow events. */
	delivered(delivery: Delivery, value: unknown): FlowEventInput[];
	/** Flow events are telemetry: the owner sends them without waiting. */
	note(events: FlowEventInput[]): void;
}

/** Attempts kept per delivery (the first ones and the latest), so a row cannot grow without bound. */
const HISTORY_KEEP = 25;

/** Destinations that are other objects of ordersync: no gate, no circuit. */
const isInternal = (destination: string) => destination.startsWith("internal:");

/**
 * The durable outbox every outbound effect goes through. A delivery is written in the same
 * transaction as the change that causes it, then sent from the owner's alarm (or at once):
 * retried with full-jitter backoff and Retry-After, held back by its destination's shared gate,
 * dead-lettered after too many attempts or too long, with each attempt kept for operators.
 */
export class Outbox {
	#running: Promise<void> | null = null;
	#again = false;
	/** Deliveries whose request is out right now (not yet answered). */
	#inFlight = new Set<string>();

	constructor(
		private readonly sql: SqlStorage,
		private readonly env: Env,
		private readonly hooks: OutboxHooks,
	) {}

	/** Queues a delivery once: the same id again changes nothing and returns false. */
	enqueue(delivery: NewDelivery, nowMs = Date.now()): boolean {
		const now = new Date(nowMs).toISOString();
		return (
			this.sql.exec(
				`INSERT INTO deliveries (id, kind, destination, payload, after, status, next_at_ms, created_at, age_from_ms, updated_at)
				 VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				delivery.id, delivery.kind, delivery.destination, JSON.stringify(delivery.payload), delivery.after ?? null, nowMs, now, nowMs, now,
			).rowsWritten > 0
		);
	}

	get(id: string): Delivery | null {
		const row = this.sql.exec<Row>("SELECT * FROM deliveries WHERE id = ?", id).toArray()[0];
		return row ? toDelivery(row) : null;
	}

	list(): Delivery[] {
		return this.sql.exec<Row>("SELECT * FROM deliveries ORDER BY seq").toArray().map(toDelivery);
	}

	/** Pending deliveries whose predecessor (if any) is delivered: the ones time alone will send. */
	nextDueMs(): number | null {
		return this.sql
			.exec<{ n: number | null }>(
				`SELECT MIN(d.next_at_ms) AS n FROM deliveries d LEFT JOIN deliveries p ON p.id = d.after
				 WHERE d.status = 'pending' AND (d.after IS NULL OR p.status = 'delivered')`,
			)
			.one().n;
	}

	/** Whether a delivery of these kinds exists (in one of these statuses, when given), without reading every row. */
	has(kinds: string[], statuses: DeliveryStatus[] = ["pending", "delivered", "dead", "cancelled"]): boolean {
		const marks = (list: string[]) => list.map(() => "?").join(", ");
		return (
			this.sql
				.exec(`SELECT 1 FROM deliveries WHERE kind IN (${marks(kinds)}) AND status IN (${marks(statuses)}) LIMIT 1`, ...kinds, ...statuses)
				.toArray().length > 0
		);
	}

	pendingCount(): number {
		return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries WHERE status = 'pending'").one().n;
	}

	/** Sends every due delivery; concurrent callers share one run, and work that became due mid-run is picked up. */
	run(): Promise<void> {
		if (this.#running) {
			this.#again = true;
			return this.#running;
		}
		this.#running = (async () => {
			do {
				this.#again = false;
				const due = this.sql
					.exec<Row>(
						`SELECT d.* FROM deliveries d LEFT JOIN deliveries p ON p.id = d.after
						 WHERE d.status = 'pending' AND d.next_at_ms <= ? AND (d.after IS NULL OR p.status = 'delivered')
						 ORDER BY d.seq LIMIT 50`,
						Date.now(),
					)
					.toArray();
				const outcomes = await Promise.all(due.map((row) => this.#attempt(row)));
				// A success may unblock a delivery that was waiting for it.
				if (outcomes.includes("delivered")) this.#again = true;
			} while (this.#again);
		})().finally(() => {
			this.#running = null;
		});
		return this.#running;
	}

	/** True while a request for this delivery is out: it may land whatever happens next. */
	inFlight(id: string): boolean {
		return this.#inFlight.has(id);
	}

	/** Operator: send a dead (or pending) delivery again now, optionally with a corrected payload. */
	retry(id: string, payload?: unknown): { ok: true } | { ok: false; code: string; message: string } {
		const row = this.sql.exec<Row>("SELECT * FROM deliveries WHERE id = ?", id).toArray()[0];
		if (!row) return { ok: false, code: "unknown_delivery", message: `no delivery ${id}` };
		if (row.status === "delivered") return { ok: false, code: "already_delivered", message: `${id} was delivered` };
		const now = Date.now();
		this.sql.exec(
			`UPDATE deliveries SET status = 'pending', attempts = 0, next_at_ms = ?, age_from_ms = ?, updated_at = ?,
			 version = version + 1, payload = ?, waiting = NULL WHERE id = ?`,
			now, now, new Date(now).toISOString(), payload === undefined ? row.payload : JSON.stringify(payload), id,
		);
		return { ok: true };
	}

	/** Gives up on a delivery for good (see abandon for an operator's). */
	cancel(id: string, by: string): { ok: true } | { ok: false; code: string; message: string } {
		const row = this.sql.exec<Row>("SELECT status FROM deliveries WHERE id = ?", id).toArray()[0];
		if (!row) return { ok: false, code: "unknown_delivery", message: `no delivery ${id}` };
		if (row.status === "delivered") return { ok: false, code: "already_delivered", message: `${id} was delivered` };
		this.sql.exec(
			"UPDATE deliveries SET status = 'cancelled', version = version + 1, updated_at = ?, last_error = ? WHERE id = ?",
			new Date().toISOString(), `cancelled by ${by}`, id,
		);
		return { ok: true };
	}

	/** An operator gives up on a delivery: cancelled, its exception closed, the owner's stream told. */
	async abandon(id: string, by: string): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
		const result = this.cancel(id, by);
		if (result.ok) {
			await flowMonitor(this.env).resolve(this.exceptionId(id), `cancelled by ${by}`).catch(() => {});
			this.hooks.note([{ type: "delivery.cancelled", detail: `${id} by ${by}` }]);
		}
		return result;
	}

	/** The exception id operators see for a dead delivery of this owner. */
	exceptionId(id: string): string {
		return `delivery:${this.hooks.owner()}:${id}`;
	}

	async #attempt(row: Row): Promise<"delivered" | "retry" | "dead" | "waiting"> {
		const config = loadConfig(this.env).delivery;
		const limits = gateLimits(config, row.destination);
		const holder = `${this.hooks.owner()}/${row.id}`;
		const gate = isInternal(row.destination) ? null : this.env.DELIVERY_GATE.getByName(row.destination);
		if (gate) {
			const permit = await gate.acquire(holder, limits).catch((error: Error) => ({ ok: false as const, waitMs: 1_000, reason: `gate unreachable: ${error.message}` }));
			if (!permit.ok) {
				// Not an attempt: the destination was not called.
				this.sql.exec("UPDATE deliveries SET next_at_ms = ?, waiting = ? WHERE id = ? AND version = ?", Date.now() + permit.waitMs, permit.reason, row.id, row.version);
				return "waiting";
			}
		}
		const startedMs = Date.now();
		let result: CallResult<unknown>;
		this.#inFlight.add(row.id);
		try {
			result = await this.hooks.send(toDelivery(row), JSON.parse(row.payload), config.timeoutMs);
		} catch (error) {
			result = { ok: false, retryable: true, error: `internal: ${error instanceof Error ? error.message : String(error)}` };
		} finally {
			this.#inFlight.delete(row.id);
		}
		const endedMs = Date.now();
		if (gate) {
			const outcome: Outcome = result.ok ? { ok: true } : { ok: false, retryable: result.retryable, retryAfterMs: result.retryAfterMs, error: result.error };
			await gate.release(holder, outcome, limits).catch(() => {}); // the lease expires by itself
		}
		const attempt: Attempt = result.ok
			? { at: new Date(startedMs).toISOString(), ms: endedMs - startedMs, ok: true }
			: { at: new Date(startedMs).toISOString(), ms: endedMs - startedMs, ok: false, error: result.error, retryable: result.retryable, ...(result.retryAfterMs !== undefined ? { retryAfterMs: result.retryAfterMs } : {}) };
		const history = appendAttempt(row.history, attempt);
		const now = new Date(endedMs).toISOString();

		if (result.ok) {
			// What happened, happened: a delivery an operator cancelled mid-flight is still recorded as delivered.
			this.sql.exec(
				`UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, updated_at = ?, waiting = NULL,
				 last_error = NULL, result = ?, history = ? WHERE id = ?`,
				now, JSON.stringify(result.value ?? null), history, row.id,
			);
			const events = this.hooks.delivered(toDelivery({ ...row, status: "delivered", result: JSON.stringify(result.value ?? null) }), result.value);
			this.hooks.note([{ type: "sent", detail: `${row.kind} → ${row.destination}${row.attempts > 0 ? ` (attempt ${row.attempts + 1})` : ""}` }, ...events]);
			// Any earlier failure may have raised an exception (retried ones start again at 0 attempts).
			if (row.history !== "[]") {
				await flowMonitor(this.env).resolve(this.exceptionId(row.id), `delivered on attempt ${row.attempts + 1}`).catch(() => {});
			}
			return "delivered";
		}

		// Being throttled (429, Shopify THROTTLED) says nothing about the delivery itself: it waits
		// as told without spending an attempt; only its age can dead-letter it.
		const throttled = result.retryable && result.retryAfterMs !== undefined;
		const attempts = row.attempts + (throttled ? 0 : 1);
		const tooOld = endedMs - row.age_from_ms >= config.maxAgeMs;
		const dead = !result.retryable || attempts >= config.maxAttempts || tooOld;
		const backoff = Math.random() * Math.min(config.maxBackoffMs, config.baseBackoffMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
		const nextAt = endedMs + Math.max(result.retryAfterMs ?? 0, backoff);
		const written = this.sql.exec(
			`UPDATE deliveries SET status = ?, attempts = ?, next_at_ms = ?, updated_at = ?, waiting = NULL, last_error = ?, history = ?
			 WHERE id = ? AND version = ? AND status = 'pending'`,
			dead ? "dead" : "pending", attempts, nextAt, now, result.error, history, row.id, row.version,
		).rowsWritten;
		if (written === 0) return "retry"; // an operator changed it meanwhile; their version stands
		if (!dead) {
			const wait = Math.round((nextAt - endedMs) / 100) / 10;
			this.hooks.note([{ type: "retrying", detail: `${row.kind} → ${row.destination}: ${result.error} (attempt ${attempts}${throttled ? ", throttled" : ""}; again in ${wait} s)` }]);
			return "retry";
		}
		const why = !result.retryable ? "refused" : tooOld ? `still failing after ${Math.round(config.maxAgeMs / 60_000)} min` : `failed ${attempts} times`;
		const reason = `${row.kind} to ${row.destination} ${why}: ${result.error}`;
		this.hooks.note([{ type: "dead-lettered", detail: reason }]);
		await flowMonitor(this.env)
			.raise({ id: this.exceptionId(row.id), kind: "dead-letter", orderKey: this.hooks.owner(), reason })
			.catch(() => {}); // the dead delivery stays visible on the order either way
		return "dead";
	}
}

export function gateLimits(config: DeliveryConfig, destination: string): GateLimits {
	return {
		concurrency: config.concurrency[destination] ?? config.defaultConcurrency,
		leaseMs: config.timeoutMs + 5_000,
		failures: config.circuitFailures,
		cooldownMs: config.circuitCooldownMs,
	};
}

function appendAttempt(historyJson: string, attempt: Attempt): string {
	const history = JSON.parse(historyJson) as Attempt[];
	history.push(attempt);
	// Keep the first few (how it started) and the latest (how it is going).
	if (history.length > HISTORY_KEEP) history.splice(5, history.length - HISTORY_KEEP);
	return JSON.stringify(history);
}

function toDelivery(row: Row) {
	return {
		id: row.id,
		kind: row.kind,
		destination: row.destination,
		status: row.status,
		after: row.after,
		attempts: row.attempts,
		nextAttemptAt: row.status === "pending" ? new Date(row.next_at_ms).toISOString() : null,
		waiting: row.waiting,
		createdAt: row.created_at,
		updatedAt: row.updated_at,
		lastError: row.last_error,
		// JSON objects; typed loosely as `object` so they cross RPC.
		payload: JSON.parse(row.payload) as object,
		result: row.result === null ? null : (JSON.parse(row.result) as object | null),
		history: JSON.parse(row.history) as Attempt[],
	};
}
