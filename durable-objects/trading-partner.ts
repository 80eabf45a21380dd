import { DurableObject } from "cloudflare:workers";
import { type Connection, loadConfig } from "../worker/config";
import {
	type ControlNumbers,
	type ControlRequest,
	type EdiCredentials,
	type EdiReceipt,
	type PurchaseOrderDetails,
	build997,
	ediInterchange,
	nextControlNumbers,
	parseEdiInterchange,
	postEdiDocument,
	readX12,
} from "../worker/connectors/edi";
import type { CallResult } from "../worker/connectors/call";
import type { Env } from "../worker/env";
import type { InboundEvent } from "../worker/model/events";
import { scrubRaw, scrubX12 } from "../worker/model/personal-data";
import { destination } from "./destinations";
import { type FlowEventInput, flowMonitor, noteFlows } from "./flow-monitor";
import { type Delivery, OUTBOX_MIGRATION, Outbox } from "./outbox";
import { migrate } from "./schema";

export const MIGRATIONS = [
	`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	CREATE TABLE controls (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		isa INTEGER NOT NULL,
		gs INTEGER NOT NULL,
		st INTEGER NOT NULL,
		updated_at TEXT NOT NULL
	);
	CREATE TABLE issued (
		key TEXT PRIMARY KEY,
		isa TEXT NOT NULL,
		groups TEXT NOT NULL,
		numbers TEXT NOT NULL,
		issued_at_ms INTEGER NOT NULL
	);
	CREATE INDEX issued_age ON issued (issued_at_ms);
	CREATE TABLE interchanges (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		sender TEXT NOT NULL,
		control TEXT NOT NULL,
		received_at TEXT NOT NULL,
		raw TEXT NOT NULL,
		summary TEXT NOT NULL,
		acknowledgment TEXT,
		attempts INTEGER NOT NULL DEFAULT 1,
		UNIQUE (sender, control)
	);
	CREATE TABLE purchase_orders (
		po_number TEXT PRIMARY KEY,
		event_id TEXT NOT NULL,
		triggered_at TEXT NOT NULL,
		details TEXT NOT NULL,
		interchange_seq INTEGER NOT NULL
	);
	CREATE TABLE receipts (
		event_id TEXT PRIMARY KEY,
		interchange_seq INTEGER NOT NULL,
		functional_id TEXT NOT NULL,
		group_control TEXT NOT NULL,
		status TEXT NOT NULL,
		sets TEXT NOT NULL,
		document TEXT,
		received_at TEXT NOT NULL
	);
	${OUTBOX_MIGRATION}`,
];

/** Document keys are kept this long, so a retry within it re-sends the same interchange. */
const KEEP_ISSUED_MS = 180 * 24 * 3600_000;
/** 846s are superseded by the next report: their keys only need to outlive the push's retries. */
const KEEP_846_MS = 2 * 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;
/** An interchange row holds the raw text: stay well under SQLite's 2 MB per row. */
const MAX_INTERCHANGE_BYTES = 1_500_000;

/** How a partner's document was answered in its 997 (AK9/AK5 statuses other than A). */
const NOT_ACCEPTED = new Set(["R", "P", "E"]);

type Summary = {
	orders: string[];
	rejected: Array<{ eventId: string; error: string }>;
	ignored: Array<{ eventId: string; reason: string }>;
	receipts: number;
	/** ISA13 of the 997 interchange answered, when any group needed one. */
	acknowledgment: string | null;
};

export type ReceiveOutcome =
	| ({ ok: true; status: "stored" | "duplicate"; control: string; acknowledgmentText: string | null } & Summary)
	| { ok: false; code: "invalid_interchange" | "duplicate_control_number" | "unknown_connection"; error: string };

type InterchangeRow = { seq: number; sender: string; control: string; received_at: string; raw: string; summary: string; acknowledgment: string | null; attempts: number };
type ReceiptRow = { event_id: string; interchange_seq: number; functional_id: string; group_control: string; status: string; sets: string; document: string | null; received_at: string };

/** Outbox owners that are trading partners, not orders: `partner/<connection>` (no order key starts so). */
export const PARTNER_OWNER_PREFIX = "partner/";

/**
 * One EDI trading partner (a retailer), addressed by its connection id. It alone hands out the
 * control numbers of ordersync's interchanges to that partner, and it is where the partner's
 * interchanges land:
 *
 * - `allocate` runs `nextControlNumbers` and persists the counters in one transaction. A request
 *   with a key (a document's name, e.g. `856:<PO>:<shipment>`) gets the numbers and issue time it
 *   got the first time, so a retried delivery rebuilds the same bytes and the gateway drops it as
 *   a duplicate.
 * - `receive` stores an interchange whole, once per sender and ISA13, with everything it causes in
 *   the same transaction: each 850 handed to its OrderFlow and the 997 for its groups, both as
 *   outbox deliveries (retried, dead-lettered to the exceptions desk); and the partner's own 997s
 *   about ordersync's documents, recorded against the document they answer.
 */
export class TradingPartner extends DurableObject<Env> {
	#sql: SqlStorage;
	#outbox: Outbox;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		migrate(ctx.storage, MIGRATIONS);
		this.#outbox = new Outbox(this.#sql, env, {
			owner: () => `${PARTNER_OWNER_PREFIX}${this.#connectionId()}`,
			send: (delivery, payload, timeoutMs) => this.#send(delivery, payload, timeoutMs),
			delivered: (delivery, value) => this.#delivered(delivery, value),
			note: (events) => this.#emit(events),
		});
		// Repair: due deliveries without an alarm (one lost in a crash) get one.
		if (this.#outbox.pendingCount() > 0) {
			void ctx.blockConcurrencyWhile(async () => {
				if ((await ctx.storage.getAlarm()) === null) await ctx.storage.setAlarm(Date.now());
			}).catch(() => {});
		}
	}

	/** Control numbers for one outbound interchange, persisted before they are handed out. */
	allocate(request: ControlRequest): ControlNumbers {
		return this.ctx.storage.transactionSync(() => this.#issue(request));
	}

	/**
	 * One interchange from the partner's gateway (its bearer token already checked). An envelope
	 * that cannot be trusted is refused and nothing is stored. Otherwise the interchange, its 850
	 * hand-offs and its 997 are stored in one transaction before this returns; the same interchange
	 * again changes nothing and gets the same 997 back.
	 */
	receive(input: { connection: string; rawBody: string; receivedAt: string }): ReceiveOutcome {
		const connection = loadConfig(this.env).connections.get(input.connection);
		if (!connection?.edi || connection.channel !== "edi") return { ok: false, code: "unknown_connection", error: `no EDI connection ${input.connection}` };
		const account = connection.edi;
		if (input.rawBody.length > MAX_INTERCHANGE_BYTES) {
			return { ok: false, code: "invalid_interchange", error: `the interchange is ${input.rawBody.length} bytes; split it (at most ${MAX_INTERCHANGE_BYTES})` };
		}
		const parsed = parseEdiInterchange(account, input.rawBody, connection.id);
		if (!parsed.ok) return { ok: false, code: "invalid_interchange", error: parsed.error };
		const { senderId, control } = parsed.interchange;
		const sets = setTexts(input.rawBody);

		const outcome = this.ctx.storage.transactionSync((): ReceiveOutcome => {
			this.#put("connection", connection.id);
			const known = this.#sql.exec<InterchangeRow>("SELECT * FROM interchanges WHERE sender = ? AND control = ?", senderId, control).toArray()[0];
			if (known) {
				if (known.raw !== input.rawBody) {
					return {
						ok: false,
						code: "duplicate_control_number",
						error: `ISA13 ${control} from ${senderId} was already used for a different interchange (received ${known.received_at}); each interchange needs a control number of its own`,
					};
				}
				this.#sql.exec("UPDATE interchanges SET attempts = attempts + 1 WHERE seq = ?", known.seq);
				return { ok: true, status: "duplicate", control, acknowledgmentText: known.acknowledgment, ...(JSON.parse(known.summary) as Summary) };
			}

			const seq = this.#sql
				.exec<{ seq: number }>(
					"INSERT INTO interchanges (sender, control, received_at, raw, summary) VALUES (?, ?, ?, ?, '{}') RETURNING seq",
					senderId, control, input.receivedAt, input.rawBody,
				)
				.one().seq;

			// Each 850 goes to its order's object, which dedupes on the set's event id.
			const orders: string[] = [];
			for (const po of parsed.orders) {
				const key = `${connection.id}:${po.change.order.channelOrderId}`;
				orders.push(key);
				this.#sql.exec(
					`INSERT INTO purchase_orders (po_number, event_id, triggered_at, details, interchange_seq) VALUES (?, ?, ?, ?, ?)
					 ON CONFLICT (po_number) DO UPDATE SET event_id = excluded.event_id, triggered_at = excluded.triggered_at,
					 details = excluded.details, interchange_seq = excluded.interchange_seq WHERE excluded.triggered_at >= purchase_orders.triggered_at`,
					po.po.poNumber, po.eventId, po.triggeredAt, JSON.stringify(po.po), seq,
				);
				const event: InboundEvent = {
					eventId: po.eventId,
					connection: connection.id,
					channel: "edi",
					topic: po.topic,
					triggeredAt: po.triggeredAt,
					receivedAt: input.receivedAt,
					// The 850 set as received (ST to SE); the whole interchange stays here.
					rawBody: sets.get(po.eventId.split(":").slice(-2).join(":")) ?? JSON.stringify(po.po),
					change: po.change,
				};
				this.#outbox.enqueue({ id: `ingest:${po.eventId}`, kind: "order.ingest", destination: destination.internalOrder, payload: event });
			}

			for (const receipt of parsed.receipts) this.#record(receipt, seq, input.receivedAt, connection);

			// One 997 interchange for every group received, keyed by the interchange it answers.
			let acknowledgmentText: string | null = null;
			let acknowledgment: string | null = null;
			if (parsed.acknowledgments.length > 0) {
				const numbers = this.#issue({ key: `997:${senderId}:${control}`, sets: [parsed.acknowledgments.length] });
				acknowledgmentText = ediInterchange(account, numbers, [{ setId: "997", sets: parsed.acknowledgments.map(build997) }]);
				acknowledgment = numbers.isa;
				this.#outbox.enqueue({
					id: `997:${senderId}:${control}`,
					kind: "edi.997",
					destination: destination.channel(connection.id),
					payload: { interchange: acknowledgmentText, control: numbers.isa, answers: control },
				});
			}
			const summary: Summary = { orders, rejected: parsed.rejected, ignored: parsed.ignored, receipts: parsed.receipts.length, acknowledgment };
			this.#sql.exec("UPDATE interchanges SET summary = ?, acknowledgment = ? WHERE seq = ?", JSON.stringify(summary), acknowledgmentText, seq);
			return { ok: true, status: "stored", control, acknowledgmentText, ...summary };
		});

		if (outcome.ok && outcome.status === "stored") {
			const parts = [
				`${parsed.orders.length} PO${parsed.orders.length === 1 ? "" : "s"}`,
				...(outcome.rejected.length > 0 ? [`${outcome.rejected.length} rejected`] : []),
				...(outcome.receipts > 0 ? [`${outcome.receipts} 997${outcome.receipts === 1 ? "" : "s"} for our documents`] : []),
			];
			this.#emit([{ type: "edi.received", topic: "x12", eventId: `x12:${senderId}:${control}`, detail: `ISA13 ${control} from ${senderId}: ${parts.join(", ")}` }]);
			// The alarm is the backstop; the deliveries go out now.
			void this.ctx.storage.setAlarm(Date.now() + 2_000);
			void this.#runOutbox();
		} else if (outcome.ok) {
			this.#emit([{ type: "duplicate", topic: "x12", eventId: `x12:${senderId}:${control}`, detail: `ISA13 ${control} from ${senderId} again` }]);
		}
		return outcome;
	}

	/** What the partner's 850 said beyond the canonical order (ids, units and prices to echo back). */
	purchaseOrder(poNumber: string): PurchaseOrderDetails | null {
		const row = this.#sql.exec<{ details: string }>("SELECT details FROM purchase_orders WHERE po_number = ?", poNumber).toArray()[0];
		return row ? (JSON.parse(row.details) as PurchaseOrderDetails) : null;
	}

	/** For operators: the counters, recent interchanges, the partner's 997s and the deliveries. */
	view(options: { limit?: number } = {}) {
		const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
		const controls = this.#sql.exec<{ isa: number; gs: number; st: number; updated_at: string }>("SELECT isa, gs, st, updated_at FROM controls").toArray()[0];
		return {
			connection: this.#connectionId(),
			controls: controls ? { isa: controls.isa, gs: controls.gs, st: controls.st, updatedAt: controls.updated_at } : null,
			interchanges: this.#sql
				.exec<Omit<InterchangeRow, "raw"> & { bytes: number }>(
					"SELECT seq, sender, control, received_at, summary, acknowledgment, attempts, LENGTH(raw) AS bytes FROM interchanges ORDER BY seq DESC LIMIT ?",
					limit,
				)
				.toArray()
				.map((row) => ({ seq: row.seq, sender: row.sender, control: row.control, receivedAt: row.received_at, attempts: row.attempts, bytes: row.bytes, ...(JSON.parse(row.summary) as Summary) })),
			receipts: this.#sql
				.exec<ReceiptRow>("SELECT * FROM receipts ORDER BY received_at DESC, event_id LIMIT ?", limit)
				.toArray()
				.map((row) => ({
					eventId: row.event_id,
					functionalId: row.functional_id,
					groupControl: row.group_control,
					status: row.status,
					document: row.document,
					sets: JSON.parse(row.sets) as EdiReceipt["sets"],
					receivedAt: row.received_at,
				})),
			deliveries: this.#outbox.list().slice(-limit),
		};
	}

	/**
	 * Privacy: removes names, addresses and contacts (N1–N4, PER, NTE, MSG) from the stored
	 * interchanges' sets for these POs (`null`: every PO, for a whole-connection request), and the
	 * personal data in their hand-offs to the orders (the canonical order and the 850 set). Control
	 * numbers, quantities, prices and the partner's ids stay. In one transaction; again changes nothing.
	 */
	redact(request: { requestId: string; poNumbers: string[] | null; values: string[] }): { changed: number } {
		const only = request.poNumbers === null ? undefined : new Set(request.poNumbers);
		const changed = this.ctx.storage.transactionSync(() => {
			let n = 0;
			for (const row of this.#sql.exec<{ seq: number; raw: string }>("SELECT seq, raw FROM interchanges").toArray()) {
				const raw = scrubX12(row.raw, { only }).text;
				if (raw !== row.raw) {
					this.#sql.exec("UPDATE interchanges SET raw = ? WHERE seq = ?", raw, row.seq);
					n++;
				}
			}
			type Row = { id: string; payload: string; result: string | null; last_error: string | null; history: string };
			for (const row of this.#sql.exec<Row>("SELECT id, payload, result, last_error, history FROM deliveries WHERE kind = 'order.ingest'").toArray()) {
				const po = (JSON.parse(row.payload) as Partial<InboundEvent>).change;
				if (only && !(po?.kind === "order" && only.has(po.order.channelOrderId))) continue;
				const text = (value: string | null) => (value === null ? null : scrubRaw(value, request.values).text);
				const next = { payload: text(row.payload)!, result: text(row.result), last_error: text(row.last_error), history: text(row.history)! };
				if (next.payload !== row.payload || next.result !== row.result || next.last_error !== row.last_error || next.history !== row.history) {
					this.#sql.exec("UPDATE deliveries SET payload = ?, result = ?, last_error = ?, history = ? WHERE id = ?", next.payload, next.result, next.last_error, next.history, row.id);
					n++;
				}
			}
			return n;
		});
		if (changed > 0) this.#emit([{ type: "privacy.redacted", detail: `personal data removed from ${changed} record${changed === 1 ? "" : "s"} (request ${request.requestId})` }]);
		return { changed };
	}

	delivery(id: string): Delivery | null {
		return this.#outbox.get(id);
	}

	/** Operator: send a dead delivery again. Its bytes are fixed by their control numbers, so no edits. */
	retryDelivery(id: string, payload?: unknown): { ok: true } | { ok: false; code: string; message: string } {
		if (payload !== undefined) return { ok: false, code: "invalid_payload", message: "EDI deliveries cannot be edited: the interchange's control numbers fix its content" };
		const result = this.#outbox.retry(id);
		if (result.ok) {
			this.#emit([{ type: "replayed", detail: id }]);
			void this.#runOutbox();
		}
		return result;
	}

	cancelDelivery(id: string, by: string): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
		return this.#outbox.abandon(id, by);
	}

	override async alarm(): Promise<void> {
		await this.#outbox.run();
		await this.#schedule();
	}

	async #schedule(): Promise<void> {
		const next = this.#outbox.nextDueMs();
		if (next === null) await this.ctx.storage.deleteAlarm();
		else await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
	}

	#runOutbox(): Promise<void> {
		return this.#outbox
			.run()
			.then(() => this.#schedule())
			.catch(() => {});
	}

	/**
	 * `nextControlNumbers` over the persisted counters (call inside a transaction). A keyed request
	 * seen before gets its first numbers back; a new partner's numbering starts from the clock, so
	 * a recreated object (storage wiped, a connection renamed back) does not reuse an ISA13 the
	 * gateway has already seen.
	 */
	#issue(request: ControlRequest): ControlNumbers {
		const nowMs = request.now ?? Date.now();
		const row = this.#sql.exec<{ isa: number; gs: number; st: number }>("SELECT isa, gs, st FROM controls").toArray()[0];
		const start = nowMs % 900_000_000;
		const counters = row ?? { isa: start, gs: start, st: 0 };
		const known =
			request.key === undefined ? undefined : this.#sql.exec<{ numbers: string }>("SELECT numbers FROM issued WHERE key = ?", request.key).toArray()[0];
		const issued = known && request.key !== undefined ? [{ key: request.key, numbers: JSON.parse(known.numbers) as ControlNumbers }] : [];
		const next = nextControlNumbers({ ...counters, issued }, { ...request, now: nowMs });
		const { state, reused, ...numbers } = next;
		if (reused) return numbers;
		this.#sql.exec(
			`INSERT INTO controls (id, isa, gs, st, updated_at) VALUES (1, ?, ?, ?, ?)
			 ON CONFLICT (id) DO UPDATE SET isa = excluded.isa, gs = excluded.gs, st = excluded.st, updated_at = excluded.updated_at`,
			state.isa, state.gs, state.st, new Date(nowMs).toISOString(),
		);
		if (request.key !== undefined) {
			this.#sql.exec(
				"INSERT INTO issued (key, isa, groups, numbers, issued_at_ms) VALUES (?, ?, ?, ?, ?)",
				request.key, numbers.isa, `,${numbers.gs.join(",")},`, JSON.stringify(numbers), nowMs,
			);
			this.#prune(nowMs);
		}
		return numbers;
	}

	#prune(nowMs: number): void {
		const last = Number(this.#get("pruned_at_ms") ?? "0");
		if (nowMs - last < PRUNE_EVERY_MS) return;
		this.#sql.exec(
			"DELETE FROM issued WHERE issued_at_ms < ? OR (key LIKE '846:%' AND issued_at_ms < ?)",
			nowMs - KEEP_ISSUED_MS, nowMs - KEEP_846_MS,
		);
		this.#put("pruned_at_ms", String(nowMs));
	}

	/** The partner's 997 about one of our functional groups: kept, matched to the document, and an exception unless accepted. */
	#record(receipt: EdiReceipt, seq: number, receivedAt: string, connection: Connection): void {
		const document =
			this.#sql.exec<{ key: string }>("SELECT key FROM issued WHERE groups LIKE ? ORDER BY issued_at_ms DESC LIMIT 1", `%,${Number(receipt.groupControl)},%`).toArray()[0]?.key ?? null;
		const written = this.#sql.exec(
			`INSERT INTO receipts (event_id, interchange_seq, functional_id, group_control, status, sets, document, received_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
			receipt.eventId, seq, receipt.functionalId, receipt.groupControl, receipt.status, JSON.stringify(receipt.sets), document, receivedAt,
		).rowsWritten;
		if (written === 0) return;
		const what = `${document ?? `group ${receipt.groupControl}`} (${receipt.functionalId} ${receipt.groupControl})`;
		const refusedSets = receipt.sets.filter((s) => NOT_ACCEPTED.has(s.status));
		if (!NOT_ACCEPTED.has(receipt.status) && refusedSets.length === 0) {
			this.#emit([{ type: "edi.accepted", eventId: receipt.eventId, detail: `the partner accepted ${what}` }]);
			return;
		}
		const sets = refusedSets.map((s) => `set ${s.control} (${s.id}) ${s.status}${s.codes.length ? ` codes ${s.codes.join(",")}` : ""}`).join("; ");
		const reason = `${connection.id}: the partner's 997 answered ${what} with AK9 ${receipt.status}${sets ? `: ${sets}` : ""}`;
		this.#emit([{ type: "edi.rejected", eventId: receipt.eventId, detail: reason }]);
		const id = `edi-997:${connection.id}:${receipt.functionalId}:${receipt.groupControl}`;
		void flowMonitor(this.env).raise({ id, kind: "failure", reason }).catch(() => {});
	}

	async #send(delivery: Delivery, payload: unknown, timeoutMs: number): Promise<CallResult<unknown>> {
		const connection = loadConfig(this.env).connections.get(this.#connectionId());
		switch (delivery.kind) {
			case "edi.997": {
				if (!connection?.edi) return { ok: false, retryable: false, error: `no EDI connection ${this.#connectionId()} in CONNECTIONS` };
				const { interchange } = payload as { interchange: string };
				return postEdiDocument(connection.edi, connection.credentials as EdiCredentials, interchange, { timeoutMs });
			}
			case "order.ingest": {
				const event = payload as InboundEvent;
				if (event.change.kind !== "order") return { ok: false, retryable: false, error: "an 850 hand-off carries a whole order" };
				const key = `${event.connection}:${event.change.order.channelOrderId}`;
				const outcome = await this.env.ORDER_FLOW.getByName(key).ingest(event);
				return { ok: true, value: { orderKey: key, ...outcome } };
			}
			default:
				return { ok: false, retryable: false, error: `unknown delivery kind ${delivery.kind}` };
		}
	}

	#delivered(delivery: Delivery, value: unknown): FlowEventInput[] {
		if (delivery.kind === "edi.997") {
			const { control, answers } = delivery.payload as { control: string; answers: string };
			const duplicate = (value as { duplicate?: boolean } | null)?.duplicate ? " (the gateway had it already)" : "";
			return [{ type: "edi.997.sent", detail: `997 ISA13 ${control} for interchange ${answers}${duplicate}` }];
		}
		return [];
	}

	#emit(events: FlowEventInput[]): void {
		const connection = this.#connectionId();
		noteFlows(this.ctx, this.env, events.map((e) => ({ connection, channel: "edi", ...e })));
	}

	#connectionId(): string {
		return this.#get("connection") ?? this.ctx.id.name ?? this.ctx.id.toString();
	}

	#get(key: string): string | null {
		return this.#sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
	}

	#put(key: string, value: string): void {
		this.#sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value);
	}
}

/** Each transaction set's text (ST to SE, with the interchange's delimiters), by `<GS06>:<ST02>`. */
function setTexts(raw: string): Map<string, string> {
	const { interchange } = readX12(raw);
	const texts = new Map<string, string>();
	if (!interchange) return texts;
	const d = interchange.delimiters;
	for (const group of interchange.groups) {
		for (const set of group.sets) {
			texts.set(`${group.control}:${set.control}`, set.segments.map((s) => s.fields.join(d.element)).join(`${d.segment}\n`) + d.segment);
		}
	}
	return texts;
}
