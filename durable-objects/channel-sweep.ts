import { DurableObject } from "cloudflare:workers";
import { type Connection, loadConfig } from "../worker/config";
import type { Env } from "../worker/env";
import { type OrderSource, orderSource, type SweepOutcome, type SweepWindow, sweepOrder, unsweepable } from "../worker/sweep/orders";
import { checkStockDrift, type DriftReport } from "../worker/sweep/stock-drift";
import { noteFlows } from "./flow-monitor";
import { migrate } from "./schema";

export const MIGRATIONS = [
	`CREATE TABLE state (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		connection TEXT NOT NULL,
		cursor TEXT,
		resume TEXT,
		retry_at INTEGER,
		drift_cursor TEXT
	);
	CREATE TABLE runs (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		trigger TEXT NOT NULL,
		status TEXT NOT NULL,
		started_at TEXT NOT NULL,
		finished_at TEXT,
		window_from TEXT,
		window_until TEXT,
		pages INTEGER NOT NULL DEFAULT 0,
		seen INTEGER NOT NULL DEFAULT 0,
		recovered INTEGER NOT NULL DEFAULT 0,
		updated INTEGER NOT NULL DEFAULT 0,
		duplicates INTEGER NOT NULL DEFAULT 0,
		stale INTEGER NOT NULL DEFAULT 0,
		failed INTEGER NOT NULL DEFAULT 0,
		recovered_orders TEXT NOT NULL DEFAULT '[]',
		drift TEXT,
		error TEXT,
		next_cursor TEXT,
		retry_at TEXT
	);`,
];

/** What started a run: the cron trigger, an operator, or the alarm after a rate limit. */
export type SweepTrigger = "cron" | "manual" | "retry";
/**
 * complete: the window was read to its end; partial: the page cap stopped it (the next run goes
 * on); rate_limited: the channel asked to wait (the alarm goes on); failed: the channel or an
 * order's object failed (the next run reads the same pages again); interrupted: the object
 * restarted mid-run.
 */
export type SweepRunStatus = "running" | "complete" | "partial" | "rate_limited" | "failed" | "interrupted";

export type SweepRun = {
	id: number;
	trigger: SweepTrigger;
	status: SweepRunStatus;
	startedAt: string;
	finishedAt: string | null;
	window: SweepWindow | null;
	pages: number;
	ordersSeen: number;
	recovered: number;
	/** Orders ordersync knew, of which it now has a newer version whose webhook never came. */
	updated: number;
	duplicates: number;
	stale: number;
	failed: number;
	/** Keys of the orders this run recovered (the first hundred). */
	recoveredOrders: string[];
	drift: DriftReport | null;
	error: string | null;
	/** The cursor once the run was done with orders. */
	nextCursor: string | null;
	/** When the channel said the sweep may go on (a 429's Retry-After). */
	retryAt: string | null;
};

/** A window left part-way, and the channel's token for the page to read next (null: its first). */
type Resume = SweepWindow & { page: string | null };

export type SweepStatus = {
	connection: string | null;
	/** Orders updated before this (less the overlap) have been read and fed. */
	cursor: string | null;
	resume: Resume | null;
	retryAt: string | null;
	running: boolean;
	runs: SweepRun[];
};

export type SweepRunResult =
	| { ok: true; run: SweepRun }
	| { ok: false; code: "already_running" | "rate_limited" | "unsupported" | "unknown_connection"; message: string; run?: SweepRun; retryAt?: string };

type StateRow = { connection: string; cursor: string | null; resume: string | null; retry_at: number | null; drift_cursor: string | null };
type RunRow = {
	id: number;
	trigger: SweepTrigger;
	status: SweepRunStatus;
	started_at: string;
	finished_at: string | null;
	window_from: string | null;
	window_until: string | null;
	pages: number;
	seen: number;
	recovered: number;
	updated: number;
	duplicates: number;
	stale: number;
	failed: number;
	recovered_orders: string;
	drift: string | null;
	error: string | null;
	next_cursor: string | null;
	retry_at: string | null;
};

/** Runs kept per connection. */
const KEEP_RUNS = 50;
/** Recovered order keys kept per run. */
const KEEP_RECOVERED = 100;
/** Orders fed at once: each is a call to its order's object. */
const FEED_CONCURRENCY = 8;
/** Never sooner than this after a 429, whatever it said. */
const MIN_WAIT_MS = 1_000;

const iso = (ms: number) => new Date(ms).toISOString();

type Counts = { seen: number; recovered: number; updated: number; duplicates: number; stale: number; failed: number; recoveredOrders: string[] };

/**
 * The reconciliation sweep of one connection (addressed by the connection id): reads the orders
 * the channel updated since its cursor, page by page, and feeds those ordersync has not seen
 * through the normal path; then has the channel's shown stock compared with the ledgers.
 *
 * The cursor moves only over what was fed, and is written after every page with the progress of
 * the window, so a crash, a rate limit or the page cap resumes where it stopped. One run at a
 * time: a trigger while one runs (or while the channel asked to wait) is a no-op that says so.
 */
export class ChannelSweep extends DurableObject<Env> {
	#sql: SqlStorage;
	#current: Promise<SweepRunResult> | null = null;
	#currentRun: number | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		migrate(ctx.storage, MIGRATIONS);
		// A run cut off by a restart did durable work up to its last page; the next run goes on from there.
		this.#sql.exec("UPDATE runs SET status = 'interrupted', finished_at = ?, error = COALESCE(error, 'the sweep restarted during the run') WHERE status = 'running'", iso(Date.now()));
		// Repair: a wait for a rate limit whose alarm was lost gets one.
		const state = this.#state();
		if (state?.resume && state.retry_at !== null) {
			const at = state.retry_at;
			void ctx.blockConcurrencyWhile(async () => {
				if ((await ctx.storage.getAlarm()) === null) await ctx.storage.setAlarm(Math.max(Date.now(), at));
			}).catch(() => {});
		}
	}

	/** Runs a sweep now, unless one is running or the channel asked to wait; resolves when it is done. */
	run(request: { connection: string; trigger: "cron" | "manual" }): Promise<SweepRunResult> {
		return this.#start(request.connection, request.trigger);
	}

	/** The cursor, where a part-read window stands, and the latest runs (newest first). */
	status(limit = 10): SweepStatus {
		const state = this.#state();
		const runs = this.#sql.exec<RunRow>("SELECT * FROM runs ORDER BY id DESC LIMIT ?", Math.max(1, Math.min(KEEP_RUNS, limit))).toArray().map(toRun);
		return {
			connection: state?.connection ?? null,
			cursor: state?.cursor ?? null,
			resume: state?.resume ? (JSON.parse(state.resume) as Resume) : null,
			retryAt: state?.retry_at ? iso(state.retry_at) : null,
			running: this.#current !== null,
			runs,
		};
	}

	/** After a rate limit: the run goes on where it stopped. */
	override async alarm(): Promise<void> {
		const state = this.#state();
		if (!state?.resume) return;
		if (this.#current) {
			await this.ctx.storage.setAlarm(Date.now() + 5_000);
			return;
		}
		await this.#start(state.connection, "retry");
	}

	#start(connectionId: string, trigger: SweepTrigger): Promise<SweepRunResult> {
		if (this.#current && this.#currentRun !== null) {
			const run = this.#run(this.#currentRun);
			return Promise.resolve({ ok: false, code: "already_running", message: `a sweep of ${connectionId} is running (run ${this.#currentRun}, started ${run?.startedAt ?? "just now"}): nothing new was started`, ...(run ? { run } : {}) });
		}
		const connection = loadConfig(this.env).connections.get(connectionId);
		if (!connection) return Promise.resolve({ ok: false, code: "unknown_connection", message: `no connection ${connectionId}` });
		const why = unsweepable(connection);
		if (why) return Promise.resolve({ ok: false, code: "unsupported", message: `${connection.id} is not swept: ${why}` });
		const state = this.#state();
		if (trigger !== "retry" && state?.resume && state.retry_at !== null && state.retry_at > Date.now()) {
			const retryAt = iso(state.retry_at);
			return Promise.resolve({ ok: false, code: "rate_limited", message: `${connection.channel} asked ${connection.id}'s sweep to wait until ${retryAt}; it goes on then by itself`, retryAt });
		}
		const now = iso(Date.now());
		const id = this.ctx.storage.transactionSync(() => {
			if (!state) this.#sql.exec("INSERT INTO state (id, connection) VALUES (1, ?)", connection.id);
			else if (state.connection !== connection.id) this.#sql.exec("UPDATE state SET connection = ? WHERE id = 1", connection.id);
			const row = this.#sql.exec<{ id: number }>("INSERT INTO runs (trigger, status, started_at) VALUES (?, 'running', ?) RETURNING id", trigger, now).one();
			this.#sql.exec("DELETE FROM runs WHERE id <= ?", row.id - KEEP_RUNS);
			return row.id;
		});
		// Nothing awaited since the check above: a second trigger now finds this run.
		this.#currentRun = id;
		this.#current = this.#sweep(connection, id).finally(() => {
			this.#current = null;
			this.#currentRun = null;
		});
		return this.#current;
	}

	async #sweep(connection: Connection, runId: number): Promise<SweepRunResult> {
		const config = loadConfig(this.env).sweep;
		const source = orderSource(this.env, connection);
		const counts: Counts = { seen: 0, recovered: 0, updated: 0, duplicates: 0, stale: 0, failed: 0, recoveredOrders: [] };
		let status: SweepRunStatus = "complete";
		let error: string | null = null;
		let retryAt: number | null = null;

		const state = this.#state()!;
		let cursor = state.cursor;
		const resume = state.resume ? (JSON.parse(state.resume) as Resume) : null;
		let window: SweepWindow;
		let page: string | null = null;
		if (resume) {
			window = { from: resume.from, until: resume.until };
			page = resume.page;
		} else {
			const now = Date.now();
			const from = cursor ? Date.parse(cursor) - config.overlapMinutes * 60_000 : now - config.lookbackHours * 3_600_000;
			// Nothing to read yet when the window has not opened (Amazon's settling): the cursor stays.
			window = { from: iso(from), until: iso(Math.max(from, source.until(now))) };
		}
		this.#sql.exec("UPDATE runs SET window_from = ?, window_until = ? WHERE id = ?", window.from, window.until, runId);

		try {
			for (let pages = 0; window.from < window.until; ) {
				if (pages >= config.maxPagesPerRun) {
					status = "partial";
					break;
				}
				const listed = await source.list(window, page);
				if (!listed.ok) {
					error = listed.error;
					if (listed.retryable && listed.retryAfterMs !== undefined) {
						status = "rate_limited";
						retryAt = Date.now() + Math.max(MIN_WAIT_MS, listed.retryAfterMs);
						// Where it stopped, kept for the alarm; the cursor stays at the last page fed.
						this.#saveProgress(runId, { cursor, resume: { ...window, page }, retryAt }, 0, counts);
					} else {
						status = "failed";
						// A refused page token (expired, say) is dropped: the next run reads the window again from the cursor.
						if (!listed.retryable && page !== null) this.#saveProgress(runId, { cursor, resume: null, retryAt: null }, 0, counts);
					}
					break;
				}
				pages++;
				const { orders, next } = listed.value;
				const failure = await this.#feed(connection, source, orders, counts);
				if (failure) {
					// Nothing moves past an order not durably fed: the next run reads this page again.
					status = "failed";
					error = `an order could not be fed: ${failure}`;
					this.#saveProgress(runId, { cursor, resume: { ...window, page }, retryAt: null }, 1, counts);
					break;
				}
				const last = orders.at(-1);
				if (next === null) cursor = window.until;
				else if (source.sortedByUpdate && last && (cursor === null || last.updatedAt > cursor)) cursor = last.updatedAt < window.until ? last.updatedAt : window.until;
				this.#saveProgress(runId, { cursor, resume: next === null ? null : { ...window, page: next }, retryAt: null }, 1, counts);
				if (next === null) break;
				page = next;
			}
		} catch (cause) {
			status = "failed";
			error = cause instanceof Error ? cause.message : String(cause);
		}
		if (retryAt !== null) await this.ctx.storage.setAlarm(retryAt);

		// The stock half, once the orders are in; not while the channel asks to wait.
		let drift: DriftReport | null = null;
		if (status !== "rate_limited") {
			try {
				// A catalogue larger than one check's pages is read over several runs, from where the last stopped.
				drift = await checkStockDrift(this.env, connection, { cursor: this.#state()?.drift_cursor ?? undefined });
				this.#sql.exec("UPDATE state SET drift_cursor = ? WHERE id = 1", drift.cursor ?? null);
			} catch (cause) {
				drift = { checked: 0, drifted: [], repushed: 0, error: cause instanceof Error ? cause.message : String(cause) };
			}
		}

		this.#sql.exec(
			"UPDATE runs SET status = ?, finished_at = ?, drift = ?, error = ?, next_cursor = ?, retry_at = ? WHERE id = ?",
			status, iso(Date.now()), drift ? JSON.stringify(drift) : null, error, this.#state()?.cursor ?? null, retryAt === null ? null : iso(retryAt), runId,
		);
		const run = this.#run(runId)!;
		noteFlows(this.ctx, this.env, [{ type: "swept", connection: connection.id, channel: connection.channel, detail: sweptDetail(connection.id, run) }]);
		return { ok: true, run };
	}

	/** Feeds a page's orders, a few at a time; the first failure to feed stops it (and is returned). */
	async #feed(connection: Connection, source: OrderSource, orders: { channelOrderId: string; updatedAt: string; order: Record<string, unknown> }[], counts: Counts): Promise<string | null> {
		for (let i = 0; i < orders.length; i += FEED_CONCURRENCY) {
			const settled = await Promise.allSettled(orders.slice(i, i + FEED_CONCURRENCY).map((order) => sweepOrder(this.env, connection, source, order)));
			let failure: string | null = null;
			for (const result of settled) {
				if (result.status === "rejected") {
					failure ??= result.reason instanceof Error ? result.reason.message : String(result.reason);
					continue;
				}
				counts.seen++;
				count(counts, result.value.outcome, result.value.key);
			}
			if (failure) return failure;
		}
		return null;
	}

	/** One page's progress, durably: the cursor, the window's next page, and the run's counts. */
	#saveProgress(runId: number, progress: { cursor: string | null; resume: Resume | null; retryAt: number | null }, pages: number, counts: Counts): void {
		this.ctx.storage.transactionSync(() => {
			this.#sql.exec("UPDATE state SET cursor = ?, resume = ?, retry_at = ? WHERE id = 1", progress.cursor, progress.resume ? JSON.stringify(progress.resume) : null, progress.retryAt);
			this.#sql.exec(
				"UPDATE runs SET pages = pages + ?, seen = ?, recovered = ?, updated = ?, duplicates = ?, stale = ?, failed = ?, recovered_orders = ?, next_cursor = ? WHERE id = ?",
				pages, counts.seen, counts.recovered, counts.updated, counts.duplicates, counts.stale, counts.failed, JSON.stringify(counts.recoveredOrders), progress.cursor, runId,
			);
		});
	}

	#state(): StateRow | null {
		return this.#sql.exec<StateRow>("SELECT connection, cursor, resume, retry_at, drift_cursor FROM state WHERE id = 1").toArray()[0] ?? null;
	}

	#run(id: number): SweepRun | null {
		const row = this.#sql.exec<RunRow>("SELECT * FROM runs WHERE id = ?", id).toArray()[0];
		return row ? toRun(row) : null;
	}
}

function count(counts: Counts, outcome: SweepOutcome, key: string): void {
	switch (outcome) {
		case "recovered":
			counts.recovered++;
			if (counts.recoveredOrders.length < KEEP_RECOVERED) counts.recoveredOrders.push(key);
			return;
		case "updated":
			counts.updated++;
			return;
		case "duplicate":
			counts.duplicates++;
			return;
		case "stale":
			counts.stale++;
			return;
		case "failed":
			counts.failed++;
	}
}

function toRun(row: RunRow): SweepRun {
	return {
		id: row.id,
		trigger: row.trigger,
		status: row.status,
		startedAt: row.started_at,
		finishedAt: row.finished_at,
		window: row.window_from && row.window_until ? { from: row.window_from, until: row.window_until } : null,
		pages: row.pages,
		ordersSeen: row.seen,
		recovered: row.recovered,
		updated: row.updated,
		duplicates: row.duplicates,
		stale: row.stale,
		failed: row.failed,
		recoveredOrders: JSON.parse(row.recovered_orders) as string[],
		drift: row.drift ? (JSON.parse(row.drift) as DriftReport) : null,
		error: row.error,
		nextCursor: row.next_cursor,
		retryAt: row.retry_at,
	};
}

/** "shopify-demo: 120 orders read, 2 recovered, 0 drifted", and why it stopped if it did. */
export function sweptDetail(connection: string, run: SweepRun): string {
	const parts = [`${run.ordersSeen} order${run.ordersSeen === 1 ? "" : "s"} read`, `${run.recovered} recovered`];
	if (run.updated > 0) parts.push(`${run.updated} updated`);
	if (run.failed > 0) parts.push(`${run.failed} unreadable`);
	parts.push(run.drift ? `${run.drift.drifted.length} drifted` : "stock not checked");
	const why =
		run.status === "rate_limited" ? `; rate limited, goes on at ${run.retryAt}`
		: run.status === "partial" ? "; page cap reached, the next run goes on"
		: run.status === "failed" ? `; stopped: ${run.error}`
		: "";
	return `${connection}: ${parts.join(", ")}${why}`;
}
