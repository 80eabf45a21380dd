import { DurableObject } from "cloudflare:workers";
import type { Env } from "../worker/env";
import { migrate } from "./schema";

const MIGRATIONS = [
	`CREATE TABLE flows (
		cursor INTEGER PRIMARY KEY AUTOINCREMENT,
		at TEXT NOT NULL,
		type TEXT NOT NULL,
		connection TEXT,
		order_key TEXT,
		order_name TEXT,
		sku TEXT,
		topic TEXT,
		event_id TEXT,
		detail TEXT
	);
	CREATE TABLE exceptions (
		id TEXT PRIMARY KEY,
		kind TEXT NOT NULL CHECK (kind IN ('quarantine', 'failure')),
		status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
		reason TEXT NOT NULL,
		connection TEXT,
		channel TEXT,
		topic TEXT,
		event_id TEXT,
		order_key TEXT,
		triggered_at TEXT,
		received_at TEXT,
		raw_body TEXT,
		attempts INTEGER NOT NULL DEFAULT 0,
		created_at TEXT NOT NULL,
		updated_at TEXT NOT NULL,
		resolution TEXT
	);
	CREATE INDEX exceptions_by_status ON exceptions (status, created_at);`,
	// v2: exception kinds are open-ended (feed gaps now, dead letters later); the type names them.
	`CREATE TABLE exceptions_v2 (
		id TEXT PRIMARY KEY,
		kind TEXT NOT NULL,
		status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
		reason TEXT NOT NULL,
		connection TEXT,
		channel TEXT,
		topic TEXT,
		event_id TEXT,
		order_key TEXT,
		triggered_at TEXT,
		received_at TEXT,
		raw_body TEXT,
		attempts INTEGER NOT NULL DEFAULT 0,
		created_at TEXT NOT NULL,
		updated_at TEXT NOT NULL,
		resolution TEXT
	);
	INSERT INTO exceptions_v2 SELECT * FROM exceptions;
	DROP TABLE exceptions;
	ALTER TABLE exceptions_v2 RENAME TO exceptions;
	CREATE INDEX exceptions_by_status ON exceptions (status, created_at);
	`,
];

export type ExceptionKind = "quarantine" | "failure" | "gap" | "dead-letter" | "unroutable" | "shipment";

/** The one FlowMonitor: every flow event and exception goes to this object. */
export function flowMonitor(env: Env) {
	return env.FLOW_MONITOR.getByName("global");
}

/** Flow events are telemetry for consoles: never awaited, never allowed to fail the caller. */
export function noteFlows(ctx: { waitUntil(promise: Promise<unknown>): void }, env: Env, events: FlowEventInput[]): void {
	if (events.length > 0) ctx.waitUntil(flowMonitor(env).record(events).catch(() => {}));
}

/** Recent flow events kept for consoles that reconnect and ask for everything after a cursor. */
const FLOW_HISTORY = 10_000;

export interface FlowEventInput {
	type: string;
	connection?: string;
	orderKey?: string;
	orderName?: string;
	sku?: string;
	topic?: string;
	eventId?: string;
	detail?: string;
}
export interface FlowEvent extends FlowEventInput {
	cursor: number;
	at: string;
}

export interface QuarantineInput {
	connection: string;
	channel: string;
	topic: string;
	eventId: string;
	triggeredAt: string | null;
	receivedAt: string;
	rawBody: string;
	reason: string;
}

type ExceptionRow = {
	id: string;
	kind: ExceptionKind;
	status: "open" | "resolved";
	reason: string;
	connection: string | null;
	channel: string | null;
	topic: string | null;
	event_id: string | null;
	order_key: string | null;
	triggered_at: string | null;
	received_at: string | null;
	raw_body: string | null;
	attempts: number;
	created_at: string;
	updated_at: string;
	resolution: string | null;
};

/**
 * Operations' view across all orders: a bounded stream of recent flow events (with cursors)
 * and the exceptions desk (quarantined webhooks, failed saga steps). Order processing never
 * waits on the stream; quarantines are written here before the webhook is acknowledged.
 */
export class FlowMonitor extends DurableObject<Env> {
	#sql: SqlStorage;
	#sincePrune = 0;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		migrate(ctx.storage, MIGRATIONS);
	}

	record(events: FlowEventInput[]): void {
		const at = new Date().toISOString();
		for (const e of events) {
			this.#sql.exec(
				"INSERT INTO flows (at, type, connection, order_key, order_name, sku, topic, event_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
				at, e.type, e.connection ?? null, e.orderKey ?? null, e.orderName ?? null, e.sku ?? null, e.topic ?? null, e.eventId ?? null, e.detail ?? null,
			);
		}
		this.#sincePrune += events.length;
		if (this.#sincePrune >= 500) {
			this.#sincePrune = 0;
			this.#sql.exec("DELETE FROM flows WHERE cursor <= (SELECT MAX(cursor) FROM flows) - ?", FLOW_HISTORY);
		}
	}

	/** Events after `cursor`, oldest first; `cursor` in the answer is where to ask from next. */
	flows(after: number, limit: number): { events: FlowEvent[]; cursor: number } {
		const rows = this.#sql
			.exec<Record<string, string | number | null>>(
				"SELECT * FROM flows WHERE cursor > ? ORDER BY cursor LIMIT ?",
				after, Math.min(Math.max(limit, 1), 1000),
			)
			.toArray();
		const events = rows.map((row) => ({
			cursor: row.cursor as number,
			at: row.at as string,
			type: row.type as string,
			...optional({
				connection: row.connection,
				orderKey: row.order_key,
				orderName: row.order_name,
				sku: row.sku,
				topic: row.topic,
				eventId: row.event_id,
				detail: row.detail,
			}),
		}));
		return { events, cursor: events.at(-1)?.cursor ?? after };
	}

	/** Keeps a signed-but-unusable webhook whole; the same event redelivered is stored once. */
	quarantine(input: QuarantineInput): { id: string; created: boolean } {
		const id = `quarantine:${input.connection}:${input.eventId}`;
		const now = new Date().toISOString();
		const created = this.ctx.storage.transactionSync(() => {
			if (this.#sql.exec("SELECT 1 FROM exceptions WHERE id = ?", id).toArray().length > 0) return false;
			this.#sql.exec(
				`INSERT INTO exceptions (id, kind, status, reason, connection, channel, topic, event_id, triggered_at, received_at, raw_body, created_at, updated_at)
				 VALUES (?, 'quarantine', 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, input.reason, input.connection, input.channel, input.topic, input.eventId, input.triggeredAt, input.receivedAt, input.rawBody, now, now,
			);
			return true;
		});
		if (created) {
			this.record([{ type: "quarantined", connection: input.connection, topic: input.topic, eventId: input.eventId, detail: input.reason }]);
		}
		return { id, created };
	}

	/** Opens (or re-opens) an exception for something that keeps failing. */
	raise(input: { id: string; kind: Exclude<ExceptionKind, "quarantine">; orderKey?: string; reason: string }): void {
		const now = new Date().toISOString();
		this.#sql.exec(
			`INSERT INTO exceptions (id, kind, status, reason, order_key, created_at, updated_at) VALUES (?, ?, 'open', ?, ?, ?, ?)
			 ON CONFLICT (id) DO UPDATE SET status = 'open', reason = excluded.reason, updated_at = excluded.updated_at, resolution = NULL`,
			input.id, input.kind, input.reason, input.orderKey ?? null, now, now,
		);
		const type = input.kind === "gap" || input.kind === "unroutable" ? input.kind : input.kind === "dead-letter" ? "dead-lettered" : "failed";
		this.record([{ type, orderKey: input.orderKey, detail: input.reason }]);
	}

	/** Exceptions clear themselves once what failed has succeeded. */
	resolve(id: string, resolution: string): boolean {
		const now = new Date().toISOString();
		const changed = this.#sql.exec(
			"UPDATE exceptions SET status = 'resolved', resolution = ?, updated_at = ? WHERE id = ? AND status = 'open'",
			resolution, now, id,
		).rowsWritten;
		return changed > 0;
	}

	noteAttempt(id: string, error: string): void {
		this.#sql.exec(
			"UPDATE exceptions SET attempts = attempts + 1, reason = ?, updated_at = ? WHERE id = ?",
			error, new Date().toISOString(), id,
		);
	}

	exceptions(status: "open" | "resolved" | "all" = "open", limit = 200) {
		const rows = this.#sql
			.exec<ExceptionRow>(
				"SELECT * FROM exceptions WHERE (? = 'all' OR status = ?) ORDER BY created_at DESC LIMIT ?",
				status, status, Math.min(Math.max(limit, 1), 1000),
			)
			.toArray();
		return rows.map((row) => ({ ...toException(row), bodyBytes: row.raw_body?.length ?? 0 }));
	}

	exception(id: string) {
		const row = this.#sql.exec<ExceptionRow>("SELECT * FROM exceptions WHERE id = ?", id).toArray()[0];
		return row ? { ...toException(row), rawBody: row.raw_body } : null;
	}
}

function toException(row: ExceptionRow) {
	return {
		id: row.id,
		kind: row.kind,
		status: row.status,
		reason: row.reason,
		connection: row.connection,
		channel: row.channel,
		topic: row.topic,
		eventId: row.event_id,
		orderKey: row.order_key,
		triggeredAt: row.triggered_at,
		receivedAt: row.received_at,
		attempts: row.attempts,
		createdAt: row.created_at,
		updatedAt: row.updated_at,
		resolution: row.resolution,
	};
}

function optional(fields: Record<string, string | number | null | undefined>): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [key, value] of Object.entries(fields)) if (value !== null && value !== undefined) out[key] = String(value);
	return out;
}
