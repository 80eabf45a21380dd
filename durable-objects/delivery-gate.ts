import { DurableObject } from "cloudflare:workers";
import type { Env } from "../worker/env";
import { migrate } from "./schema";

export const MIGRATIONS = [
	`CREATE TABLE leases (holder TEXT PRIMARY KEY, expires_ms INTEGER NOT NULL, probe INTEGER NOT NULL DEFAULT 0);
	CREATE TABLE circuit (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		failures INTEGER NOT NULL,
		open_until_ms INTEGER NOT NULL,
		paused_until_ms INTEGER NOT NULL,
		last_error TEXT,
		opened_at TEXT
	);
	INSERT INTO circuit (id, failures, open_until_ms, paused_until_ms) VALUES (1, 0, 0, 0);`,
];

export type Permit = { ok: true; probe: boolean } | { ok: false; waitMs: number; reason: string };
export type Outcome = { ok: boolean; retryable?: boolean; retryAfterMs?: number; error?: string };
export type GateLimits = { concurrency: number; leaseMs: number; failures: number; cooldownMs: number };

type CircuitRow = { failures: number; open_until_ms: number; paused_until_ms: number; last_error: string | null; opened_at: string | null };

/** Waiters forgotten after this long without asking again (they gave up, or were served elsewhere). */
const WAITER_TTL_MS = 60_000;

/**
 * One per outbound destination (a 3PL account, a shop, a tracking account), shared by every
 * object that delivers there. It admits at most `concurrency` requests at a time (leases expire,
 * so a holder that crashed cannot keep a slot), pauses everyone when the destination says 429
 * with Retry-After, and opens a circuit after consecutive failures: while open nobody calls; after
 * the cooldown one probe goes through, and its success closes the circuit again.
 */
export class DeliveryGate extends DurableObject<Env> {
	#sql: SqlStorage;
	/** Holders refused for lack of a slot, with when they last asked: the queue in front of the gate. */
	#waiters = new Map<string, number>();
	/** How long a slot is typically held (moving average), to say when a waiter's turn comes. */
	#holdMs = 100;
	#acquiredAt = new Map<string, number>();

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		migrate(ctx.storage, MIGRATIONS);
	}

	acquire(holder: string, limits: GateLimits): Permit {
		return this.ctx.storage.transactionSync((): Permit => {
			const now = Date.now();
			this.#sql.exec("DELETE FROM leases WHERE expires_ms <= ?", now);
			const circuit = this.#circuit();
			if (circuit.paused_until_ms > now) {
				return { ok: false, waitMs: circuit.paused_until_ms - now + Math.random() * 250, reason: "rate limited by the destination" };
			}
			let probe = false;
			if (circuit.failures >= limits.failures) {
				if (circuit.open_until_ms > now) {
					return { ok: false, waitMs: circuit.open_until_ms - now + Math.random() * 1000, reason: `circuit open: ${circuit.last_error ?? "failing"}` };
				}
				// Half-open: one probe at a time finds out whether the destination is back.
				const probing = this.#sql.exec("SELECT 1 FROM leases WHERE probe = 1").toArray().length > 0;
				if (probing) return { ok: false, waitMs: 500 + Math.random() * 1000, reason: "circuit half-open: a probe is in flight" };
				probe = true;
			}
			const inFlight = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM leases WHERE holder != ?", holder).one().n;
			if (inFlight >= limits.concurrency) {
				// Come back about when a slot should be free for you: with a long queue, polling
				// sooner would only burn the thread that serves the slots.
				this.#waiters.set(holder, now);
				for (const [waiter, seen] of this.#waiters) if (now - seen > WAITER_TTL_MS) this.#waiters.delete(waiter);
				const turns = this.#waiters.size / limits.concurrency;
				const waitMs = Math.min(30_000, 20 + turns * this.#holdMs * (0.5 + Math.random()));
				return { ok: false, waitMs, reason: `${inFlight} requests in flight (limit ${limits.concurrency}), ${this.#waiters.size} waiting` };
			}
			this.#waiters.delete(holder);
			if (this.#acquiredAt.size > 10_000) this.#acquiredAt.clear(); // holders that crashed never release
			this.#acquiredAt.set(holder, now);
			this.#sql.exec(
				"INSERT INTO leases (holder, expires_ms, probe) VALUES (?, ?, ?) ON CONFLICT (holder) DO UPDATE SET expires_ms = excluded.expires_ms, probe = excluded.probe",
				holder, now + limits.leaseMs, probe ? 1 : 0,
			);
			return { ok: true, probe };
		});
	}

	/** Gives the slot back and tells the gate how the call went. */
	release(holder: string, outcome: Outcome, limits: GateLimits): { circuit: "closed" | "open" } {
		return this.ctx.storage.transactionSync(() => {
			const now = Date.now();
			const probe = this.#sql.exec<{ probe: number }>("SELECT probe FROM leases WHERE holder = ?", holder).toArray()[0]?.probe === 1;
			this.#sql.exec("DELETE FROM leases WHERE holder = ?", holder);
			const acquired = this.#acquiredAt.get(holder);
			if (acquired !== undefined) {
				this.#acquiredAt.delete(holder);
				this.#holdMs = 0.8 * this.#holdMs + 0.2 * (now - acquired);
			}
			const circuit = this.#circuit();
			if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > 0) {
				this.#sql.exec("UPDATE circuit SET paused_until_ms = MAX(paused_until_ms, ?)", now + outcome.retryAfterMs);
			}
			if (outcome.ok || !outcome.retryable) {
				// The destination answered: it is up, even if it refused this one request.
				this.#sql.exec("UPDATE circuit SET failures = 0, open_until_ms = 0, opened_at = NULL");
				return { circuit: "closed" as const };
			}
			if (outcome.retryAfterMs !== undefined) return { circuit: circuit.failures >= limits.failures ? "open" as const : "closed" as const }; // 429 is throttling, not an outage
			const failures = circuit.failures + 1;
			const opens = failures >= limits.failures && (probe || circuit.failures < limits.failures);
			this.#sql.exec(
				"UPDATE circuit SET failures = ?, last_error = ?, open_until_ms = CASE WHEN ? THEN ? ELSE open_until_ms END, opened_at = CASE WHEN ? THEN ? ELSE opened_at END",
				failures, outcome.error ?? null, opens ? 1 : 0, now + limits.cooldownMs, opens && circuit.opened_at === null ? 1 : 0, new Date(now).toISOString(),
			);
			return { circuit: failures >= limits.failures ? "open" as const : "closed" as const };
		});
	}

	/** What operators see per destination. */
	status(limits: GateLimits) {
		const now = Date.now();
		const circuit = this.#circuit();
		const inFlight = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM leases WHERE expires_ms > ?", now).one().n;
		const open = circuit.failures >= limits.failures;
		return {
			inFlight,
			limit: limits.concurrency,
			waiting: [...this.#waiters.values()].filter((seen) => now - seen <= WAITER_TTL_MS).length,
			circuit: !open ? "closed" : circuit.open_until_ms > now ? "open" : "half-open",
			consecutiveFailures: circuit.failures,
			lastError: circuit.last_error,
			openedAt: circuit.opened_at,
			retryAt: open ? new Date(circuit.open_until_ms).toISOString() : null,
			pausedUntil: circuit.paused_until_ms > now ? new Date(circuit.paused_until_ms).toISOString() : null,
		};
	}

	#circuit(): CircuitRow {
		return this.#sql.exec<CircuitRow>("SELECT failures, open_until_ms, paused_until_ms, last_error, opened_at FROM circuit").one();
	}
}
