import { DurableObject } from "cloudflare:workers";
import { OpsRole } from "../worker/config";
import type { Env } from "../worker/env";
import { log, logs } from "../worker/log";
import { replaceValues } from "../worker/model/personal-data";
import { PRIVACY_MIGRATION, PrivacyDesk, type PrivacyRequestInput } from "./privacy-desk";
import { migrate } from "./schema";

export const MIGRATIONS = [
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
	// v3: events name their channel and the order's status after them; orders are found by name.
	`ALTER TABLE flows ADD COLUMN channel TEXT;
	ALTER TABLE flows ADD COLUMN status TEXT;
	CREATE TABLE orders (
		order_key TEXT PRIMARY KEY,
		order_name TEXT,
		connection TEXT,
		status TEXT,
		updated_at TEXT NOT NULL
	);
	CREATE INDEX orders_by_name ON orders (order_name);`,
	// v4: the index is pruned by age every few hundred events; without this that was a full scan.
	`CREATE INDEX orders_by_updated ON orders (updated_at);`,
	// v5: payouts and their reconciliation at a glance (each Settlement object holds the detail).
	`CREATE TABLE payouts (
		payout_key TEXT PRIMARY KEY,
		connection TEXT NOT NULL,
		channel TEXT NOT NULL,
		payout_id TEXT NOT NULL,
		currency TEXT NOT NULL,
		total INTEGER NOT NULL,
		paid_at TEXT,
		status TEXT NOT NULL,
		summary TEXT NOT NULL,
		exceptions INTEGER NOT NULL,
		updated_at TEXT NOT NULL
	);
	CREATE INDEX payouts_by_updated ON payouts (updated_at);`,
	// v6: counters of flow events by type and connection: since the start (for scrapers) and per hour.
	`CREATE TABLE counter_totals (name TEXT NOT NULL, connection TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (name, connection));
	CREATE TABLE counter_hours (hour TEXT NOT NULL, name TEXT NOT NULL, connection TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (hour, name, connection));`,
	// v7: privacy requests, and who each order belongs to as digests (never pruned: shop/redact needs every order).
	PRIVACY_MIGRATION,
];

export type ExceptionKind = "quarantine" | "failure" | "gap" | "dead-letter" | "unroutable" | "shipment" | "settlement";

/** One payout as the payouts list shows it. */
export type PayoutEntry = {
	payoutKey: string;
	connection: string;
	channel: string;
	payoutId: string;
	currency: string;
	total: number;
	paidAt: string | null;
	status: string;
	summary: unknown;
	exceptions: number;
	updatedAt: string;
};

/** The one FlowMonitor: every flow event and exception goes to this object. */
export function flowMonitor(env: Env) {
	return env.FLOW_MONITOR.getByName("global");
}

/** Flow events are telemetry for consoles: never awaited, never allowed to fail the caller. */
export function noteFlows(ctx: { waitUntil(promise: Promise<unknown>): void }, env: Env, events: FlowEventInput[]): void {
	for (const e of events) logFlow(e);
	if (events.length > 0) ctx.waitUntil(flowMonitor(env).record(events).catch(() => {}));
}

/** Trouble is a warning; the steps of every order and SKU (several per order) are debug; the rest info. */
const WARN_EVENTS = new Set(["dead-lettered", "failed", "quarantined", "unroutable", "privacy.unusable"]);
const DEBUG_EVENTS = /^(pushed|sent|line\.|stock\.arrived|notified)/;

/** Each flow event is also a log line, written where it happened, with its identifiers as fields. */
export function logFlow(e: FlowEventInput): void {
	const level = WARN_EVENTS.has(e.type) ? "warn" : DEBUG_EVENTS.test(e.type) ? "debug" : "info";
	if (!logs(level)) return;
	log(level, e.type, { connection: e.connection, order: e.orderKey, sku: e.sku, topic: e.topic, eventId: e.eventId, status: e.status, detail: e.detail && logSafe(e.detail) });
}

/**
 * A detail fit for logs: a parser's quote of the body it refused, or a vendor's error echoing a
 * field, may carry personal data, so quoted text and email addresses are left out.
 */
function logSafe(detail: string): string {
	return replaceValues(detail.replace(/"[^"]*"|'[^']{4,}'/g, "\"…\""), []);
}

/** Recent flow events kept for consoles that reconnect and ask for everything after a cursor. */
const FLOW_HISTORY = 10_000;
/** What a console sees first when it does not say where it left off. */
const FIRST_SCREEN = 200;
/** Events per stream frame when catching a console up. */
const FRAME_EVENTS = 500;
/** Orders not heard of for this long drop out of the by-name index (their objects keep everything). */
const ORDER_INDEX_DAYS = 90;
/** Hourly counters are kept this long (the totals for ever). */
const COUNTER_HOURS = 7 * 24;
/** Counts are gathered in memory and written this often. */
const COUNTER_FLUSH_MS = 5_000;

export interface FlowEventInput {
	type: string;
	connection?: string;
	channel?: string;
	orderKey?: string;
	orderName?: string;
	/** The order's status once this event was applied. */
	status?: string;
	sku?: string;
	topic?: string;
	eventId?: string;
	detail?: string;
	/** An order's owner as privacy-index digests (on its "received" event); indexed, never shown. */
	subjects?: string[];
}
export interface FlowEvent extends Omit<FlowEventInput, "subjects"> {
	cursor: number;
	at: string;
}

/** The ops token a console connected with (worker/config.ts OpsRole). */
export type ConsoleRole = OpsRole;
/** Kept with each console's socket, so it survives the object hibernating. */
type Attachment = { role: ConsoleRole; connectedAt: string };

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
	/** From the orders index, when the exception belongs to an order it has seen. */
	order_name?: string | null;
};

/**
 * Operations' view across all orders: a bounded stream of recent flow events (with cursors),
 * fanned out live to consoles over hibernating WebSockets, and the exceptions desk (quarantined
 * webhooks, dead letters, unroutable orders). Order processing never waits on the stream;
 * quarantines are written here before the webhook is acknowledged.
 */
export class FlowMonitor extends DurableObject<Env> {
	#sql: SqlStorage;
	#sincePrune = 0;
	/** Counts not yet written, by `hour\ntype\nconnection`. */
	#uncounted = new Map<string, number>();
	#flushTimer: ReturnType<typeof setTimeout> | null = null;
	#privacy: PrivacyDesk;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		migrate(ctx.storage, MIGRATIONS);
		this.#privacy = new PrivacyDesk(ctx, env);
		// Keepalives are answered without waking the object.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
	}

	record(events: FlowEventInput[]): void {
		// All or nothing: a row that failed midway must not leave earlier ones stored but never sent.
		const stored = this.ctx.storage.transactionSync(() => this.#store(events));
		for (const e of events) {
			if (e.subjects && e.orderKey && e.connection) this.#privacy.index({ orderKey: e.orderKey, connection: e.connection, subjects: e.subjects });
		}
		this.#count(events, stored[0]?.at ?? new Date().toISOString());
		this.#broadcast({ type: "events", events: stored });
		this.#sincePrune += events.length;
		if (this.#sincePrune >= 500) {
			this.#sincePrune = 0;
			this.#sql.exec("DELETE FROM flows WHERE cursor <= (SELECT MAX(cursor) FROM flows) - ?", FLOW_HISTORY);
			this.#sql.exec("DELETE FROM orders WHERE updated_at < ?", new Date(Date.now() - ORDER_INDEX_DAYS * 86_400_000).toISOString());
			this.#sql.exec("DELETE FROM counter_hours WHERE hour < ?", new Date(Date.now() - COUNTER_HOURS * 3_600_000).toISOString());
		}
	}

	#store(events: FlowEventInput[]): FlowEvent[] {
		const at = new Date().toISOString();
		const stored: FlowEvent[] = [];
		/** The latest of each order in this batch (a batch is usually one order's): one index write each. */
		const orders = new Map<string, FlowEventInput>();
		for (const e of events) {
			const { cursor } = this.#sql
				.exec<{ cursor: number }>(
					`INSERT INTO flows (at, type, connection, channel, order_key, order_name, status, sku, topic, event_id, detail)
					 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING cursor`,
					at, e.type, e.connection ?? null, e.channel ?? null, e.orderKey ?? null, e.orderName ?? null, e.status ?? null,
					e.sku ?? null, e.topic ?? null, e.eventId ?? null, e.detail ?? null,
				)
				.one();
			if (e.orderKey) orders.set(e.orderKey, { ...orders.get(e.orderKey), ...withoutEmpty({ orderName: e.orderName, connection: e.connection, status: e.status }), type: e.type });
			const { subjects: _, ...shown } = e;
			stored.push({ ...shown, cursor, at });
		}
		for (const [key, e] of orders) {
			this.#sql.exec(
				`INSERT INTO orders (order_key, order_name, connection, status, updated_at) VALUES (?, ?, ?, ?, ?)
				 ON CONFLICT (order_key) DO UPDATE SET order_name = COALESCE(excluded.order_name, order_name),
				 status = COALESCE(excluded.status, status), updated_at = excluded.updated_at`,
				key, e.orderName ?? null, e.connection ?? null, e.status ?? null, at,
			);
		}
		return stored;
	}

	/**
	 * Adds a batch of events to the counters in memory; they are written every COUNTER_FLUSH_MS (or
	 * when read), one row per hour, type and connection, instead of two writes per batch. An
	 * eviction can lose at most that window's counts: they are telemetry, the orders keep the facts.
	 */
	#count(events: FlowEventInput[], at: string): void {
		const hour = `${at.slice(0, 13)}:00Z`;
		for (const e of events) {
			const key = `${hour}\n${e.type}\n${e.connection ?? ""}`;
			this.#uncounted.set(key, (this.#uncounted.get(key) ?? 0) + 1);
		}
		this.#flushTimer ??= setTimeout(() => this.#flushCounters(), COUNTER_FLUSH_MS);
	}

	#flushCounters(): void {
		if (this.#flushTimer) clearTimeout(this.#flushTimer);
		this.#flushTimer = null;
		if (this.#uncounted.size === 0) return;
		const counts = this.#uncounted;
		this.#uncounted = new Map();
		this.ctx.storage.transactionSync(() => {
			for (const [key, n] of counts) {
				const [hour, name, connection] = key.split("\n") as [string, string, string];
				this.#sql.exec(
					"INSERT INTO counter_totals (name, connection, n) VALUES (?, ?, ?) ON CONFLICT (name, connection) DO UPDATE SET n = n + excluded.n",
					name, connection, n,
				);
				this.#sql.exec(
					"INSERT INTO counter_hours (hour, name, connection, n) VALUES (?, ?, ?, ?) ON CONFLICT (hour, name, connection) DO UPDATE SET n = n + excluded.n",
					hour, name, connection, n,
				);
			}
		});
	}

	/**
	 * Flow events counted by type and connection: since counting began (`total`, only ever grows)
	 * and over the last `hours` hours (whole hours, the current one included).
	 */
	counters(hours: number): { since: string; counters: { name: string; connection: string | null; total: number; recent: number }[] } {
		this.#flushCounters();
		const since = new Date(Date.now() - (Math.min(Math.max(hours, 1), COUNTER_HOURS) - 1) * 3_600_000).toISOString();
		const sinceHour = `${since.slice(0, 13)}:00Z`;
		const rows = this.#sql
			.exec<{ name: string; connection: string; total: number; recent: number | null }>(
				`SELECT t.name, t.connection, t.n AS total,
				 (SELECT SUM(h.n) FROM counter_hours h WHERE h.name = t.name AND h.connection = t.connection AND h.hour >= ?) AS recent
				 FROM counter_totals t ORDER BY t.name, t.connection`,
				sinceHour,
			)
			.toArray();
		return { since: sinceHour, counters: rows.map((r) => ({ name: r.name, connection: r.connection || null, total: r.total, recent: r.recent ?? 0 })) };
	}

	/** Events after `cursor`, oldest first; `cursor` in the answer is where to ask from next. */
	flows(after: number, limit: number): { events: FlowEvent[]; cursor: number } {
		const rows = this.#sql
			.exec<FlowRow>("SELECT * FROM flows WHERE cursor > ? ORDER BY cursor LIMIT ?", after, Math.min(Math.max(limit, 1), 1000))
			.toArray();
		const events = rows.map(toFlowEvent);
		return { events, cursor: events.at(-1)?.cursor ?? after };
	}

	/** A Settlement object's payout changed (ingested, reconciled, posted): the list shows the latest. */
	notePayout(entry: Omit<PayoutEntry, "updatedAt">): void {
		this.#sql.exec(
			`INSERT INTO payouts (payout_key, connection, channel, payout_id, currency, total, paid_at, status, summary, exceptions, updated_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (payout_key) DO UPDATE SET total = excluded.total, paid_at = excluded.paid_at, status = excluded.status,
			 summary = excluded.summary, exceptions = excluded.exceptions, updated_at = excluded.updated_at`,
			entry.payoutKey, entry.connection, entry.channel, entry.payoutId, entry.currency, entry.total, entry.paidAt, entry.status, JSON.stringify(entry.summary), entry.exceptions, new Date().toISOString(),
		);
		this.#broadcast({ type: "payout", payoutKey: entry.payoutKey, status: entry.status });
	}

	/** Payouts, most recently changed first. */
	payouts(limit = 100): PayoutEntry[] {
		return this.#sql
			.exec<{ payout_key: string; connection: string; channel: string; payout_id: string; currency: string; total: number; paid_at: string | null; status: string; summary: string; exceptions: number; updated_at: string }>(
				"SELECT * FROM payouts ORDER BY updated_at DESC LIMIT ?",
				Math.min(Math.max(limit, 1), 1000),
			)
			.toArray()
			.map((row) => ({
				payoutKey: row.payout_key,
				connection: row.connection,
				channel: row.channel,
				payoutId: row.payout_id,
				currency: row.currency,
				total: row.total,
				paidAt: row.paid_at,
				status: row.status,
				summary: JSON.parse(row.summary) as unknown,
				exceptions: row.exceptions,
				updatedAt: row.updated_at,
			}));
	}

	/** Orders by the name people use (`#1001`), most recently active first. */
	ordersNamed(name: string) {
		return this.#sql
			.exec<{ order_key: string; order_name: string | null; connection: string | null; status: string | null; updated_at: string }>(
				"SELECT * FROM orders WHERE order_name = ? ORDER BY updated_at DESC LIMIT 50",
				name,
			)
			.toArray()
			.map((row) => ({ key: row.order_key, name: row.order_name, connection: row.connection, status: row.status, updatedAt: row.updated_at }));
	}

	/**
	 * A console's live stream (the worker has checked its token and says which role it has).
	 * It gets `hello`, then every kept event after `?after=` (or the latest few), then each new
	 * event as it is recorded. All of that happens before this returns, with no await, so no
	 * event recorded meanwhile can slip between the catch-up and the live feed.
	 */
	override fetch(request: Request): Response {
		if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
			return Response.json({ error: { code: "upgrade_required", message: "the stream is a WebSocket" } }, { status: 426, headers: { Upgrade: "websocket" } });
		}
		const parsedRole = OpsRole.safeParse(request.headers.get("X-Ordersync-Role"));
		const role: ConsoleRole = parsedRole.success ? parsedRole.data : "read";
		const param = new URL(request.url).searchParams.get("after");
		const after = param === null ? null : Number(param);
		if (after !== null && (!Number.isSafeInteger(after) || after < 0)) {
			return Response.json({ error: { code: "invalid_request", message: "after must be a non-negative integer" } }, { status: 400 });
		}

		const { 0: client, 1: server } = new WebSocketPair();
		this.ctx.acceptWebSocket(server);
		server.serializeAttachment({ role, connectedAt: new Date().toISOString() } satisfies Attachment);
		const bounds = this.#sql
			.exec<{ newest: number | null; oldest: number | null }>("SELECT MAX(cursor) AS newest, MIN(cursor) AS oldest FROM flows")
			.one();
		const newest = bounds.newest ?? 0;
		// Where this connection's catch-up starts; the console takes it as the last cursor it has seen.
		// A cursor beyond the newest comes from a log that has since started over (fresh state).
		let from = after === null || after > newest ? Math.max(0, newest - FIRST_SCREEN) : after;
		const pruned = after !== null && bounds.oldest !== null && after <= newest && after < bounds.oldest - 1;
		if (pruned) from = bounds.oldest! - 1;
		server.send(JSON.stringify({ type: "hello", role, cursor: newest, oldest: bounds.oldest ?? 0, from }));
		if (pruned) server.send(JSON.stringify({ type: "gap", after, until: from }));
		for (;;) {
			const rows = this.#sql.exec<FlowRow>("SELECT * FROM flows WHERE cursor > ? ORDER BY cursor LIMIT ?", from, FRAME_EVENTS).toArray();
			if (rows.length === 0) break;
			server.send(JSON.stringify({ type: "events", events: rows.map(toFlowEvent) }));
			from = rows.at(-1)!.cursor;
		}
		return new Response(null, { status: 101, webSocket: client });
	}

	/** Consoles only listen (their keepalive `ping` is answered without waking this object). */
	override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
		if (message !== "ping") ws.send(JSON.stringify({ type: "error", message: "the stream takes no messages; reconnect with ?after=<cursor> to resume" }));
	}

	/** Answer the close frame, or the console waits for it until its own timeout. */
	override webSocketClose(ws: WebSocket, code: number, reason: string): void {
		try {
			ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
		} catch {
			// already closed
		}
	}

	override webSocketError(ws: WebSocket, error: unknown): void {
		const attachment = ws.deserializeAttachment() as Attachment | null;
		log("warn", "console.stream_error", { role: attachment?.role, error: String(error) });
	}

	/** Sends to every connected console; one that cannot take it is dropped and will resume by cursor. */
	#broadcast(message: unknown): void {
		const sockets = this.ctx.getWebSockets();
		if (sockets.length === 0) return;
		const frame = JSON.stringify(message);
		for (const ws of sockets) {
			try {
				ws.send(frame);
			} catch {
				try {
					ws.close(1011, "send failed; resume with ?after=<cursor>");
				} catch {
					// already gone
				}
			}
		}
	}

	/** Tells consoles an exception opened, changed or cleared. */
	#announce(id: string): void {
		const row = this.#sql.exec<ExceptionRow>(`${EXCEPTIONS} WHERE exceptions.id = ?`, id).toArray()[0];
		if (row) this.#broadcast({ type: "exception", exception: toException(row) });
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
			const event = { type: "quarantined", connection: input.connection, channel: input.channel, topic: input.topic, eventId: input.eventId, detail: input.reason };
			logFlow(event);
			this.record([event]);
			this.#announce(id);
		}
		return { id, created };
	}

	/** Opens (or re-opens) an exception for something that keeps failing. The caller notes its own flow event. */
	raise(input: { id: string; kind: Exclude<ExceptionKind, "quarantine">; orderKey?: string; reason: string }): void {
		const now = new Date().toISOString();
		this.#sql.exec(
			`INSERT INTO exceptions (id, kind, status, reason, order_key, created_at, updated_at) VALUES (?, ?, 'open', ?, ?, ?, ?)
			 ON CONFLICT (id) DO UPDATE SET status = 'open', reason = excluded.reason, updated_at = excluded.updated_at, resolution = NULL`,
			input.id, input.kind, input.reason, input.orderKey ?? null, now, now,
		);
		this.#announce(input.id);
	}

	/** Exceptions clear themselves once what failed has succeeded. */
	resolve(id: string, resolution: string): boolean {
		const now = new Date().toISOString();
		const changed = this.#sql.exec(
			"UPDATE exceptions SET status = 'resolved', resolution = ?, updated_at = ? WHERE id = ? AND status = 'open'",
			resolution, now, id,
		).rowsWritten;
		if (changed > 0) this.#announce(id);
		return changed > 0;
	}

	noteAttempt(id: string, error: string): void {
		this.#sql.exec(
			"UPDATE exceptions SET attempts = attempts + 1, reason = ?, updated_at = ? WHERE id = ?",
			error, new Date().toISOString(), id,
		);
		this.#announce(id);
	}

	exceptions(status: "open" | "resolved" | "all" = "open", limit = 200) {
		const rows = this.#sql
			.exec<ExceptionRow>(
				`${EXCEPTIONS} WHERE (? = 'all' OR exceptions.status = ?) ORDER BY exceptions.created_at DESC LIMIT ?`,
				status, status, Math.min(Math.max(limit, 1), 1000),
			)
			.toArray();
		return rows.map((row) => ({ ...toException(row), bodyBytes: row.raw_body?.length ?? 0 }));
	}

	exception(id: string) {
		const row = this.#sql.exec<ExceptionRow>(`${EXCEPTIONS} WHERE exceptions.id = ?`, id).toArray()[0];
		return row ? { ...toException(row), rawBody: row.raw_body } : null;
	}

	/** An order's owner, as digests of their email, phone and customer id (see privacy-desk.ts). */
	/** A privacy request (redaction or data export), stored before it is acknowledged; a redaction starts at once. */
	privacyRequest(input: PrivacyRequestInput) {
		return this.#privacy.record(input);
	}

	/** A privacy request's status and result; an export's data as held now. */
	privacyRequestView(id: string) {
		return this.#privacy.view(id);
	}

	/** Privacy requests are the only work this object schedules: unfinished redactions run again. */
	override async alarm(): Promise<void> {
		await this.#privacy.run();
	}
}

/** Exceptions with their order's name, which people know them by. */
const EXCEPTIONS = "SELECT exceptions.*, orders.order_name FROM exceptions LEFT JOIN orders USING (order_key)";

type FlowRow = Record<string, string | number | null> & { cursor: number; at: string; type: string };

function toFlowEvent(row: FlowRow): FlowEvent {
	return {
		cursor: row.cursor,
		at: row.at,
		type: row.type,
		...withoutEmpty({
			connection: row.connection,
			channel: row.channel,
			orderKey: row.order_key,
			orderName: row.order_name,
			status: row.status,
			sku: row.sku,
			topic: row.topic,
			eventId: row.event_id,
			detail: row.detail,
		}),
	};
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
		orderName: row.order_name ?? null,
		triggeredAt: row.triggered_at,
		receivedAt: row.received_at,
		attempts: row.attempts,
		createdAt: row.created_at,
		updatedAt: row.updated_at,
		resolution: row.resolution,
	};
}

function withoutEmpty(fields: Record<string, string | number | null | undefined>): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [key, value] of Object.entries(fields)) if (value !== null && value !== undefined) out[key] = String(value);
	return out;
}
