import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../worker/config";
import { acknowledgesOrders, relaysFulfillment } from "../worker/connectors/channels";
import type { Env } from "../worker/env";
import type { InboundEvent, Notification } from "../worker/model/events";
import type { ShipmentNotice, TrackingUpdate } from "../worker/model/fulfillment";
import { CanonicalOrder, type Refund } from "../worker/model/order";
import { type Found, orderSubjects, personalValues, replaceValues, scrubJson, scrubRaw, uniqueValues } from "../worker/model/personal-data";
import { DeliveryPayloads, IDENTITY_FIELDS, type DeliveryKind, destination, send } from "./destinations";
import { type FlowEventInput, flowMonitor, noteFlows } from "./flow-monitor";
import { type Delivery, OUTBOX_MIGRATION, Outbox } from "./outbox";
import type { OrderFacts } from "./reconcile";
import { planRoute, type RouteLine } from "./routing";
import type { Allocation, Pick } from "./sku-ledger";
import { migrate } from "./schema";

export const MIGRATIONS = [
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
	// v2: the fulfilment loop: the outbox, routes to 3PL locations, shipments and their commits.
	`${OUTBOX_MIGRATION}
	ALTER TABLE lines ADD COLUMN shipped INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE routes (
		reference_id TEXT PRIMARY KEY,
		location TEXT NOT NULL,
		three_pl TEXT NOT NULL,
		lines TEXT NOT NULL,
		status TEXT NOT NULL CHECK (status IN ('sent', 'accepted', 'cancelling', 'cancelled', 'cancel_failed')),
		external_id TEXT,
		created_at TEXT NOT NULL
	);
	CREATE TABLE shipments (
		shipment_id TEXT PRIMARY KEY,
		reference_id TEXT NOT NULL,
		location TEXT,
		status TEXT NOT NULL,
		carrier TEXT,
		tracking_number TEXT,
		tracking_url TEXT,
		tracking_status TEXT,
		tracking_at TEXT,
		shipped_at TEXT NOT NULL,
		lines TEXT NOT NULL,
		unmatched TEXT
	);
	CREATE TABLE shipment_commits (
		shipment_id TEXT NOT NULL,
		line_id TEXT NOT NULL,
		sku TEXT NOT NULL,
		quantity INTEGER NOT NULL,
		location TEXT,
		done INTEGER NOT NULL DEFAULT 0,
		attempts INTEGER NOT NULL DEFAULT 0,
		last_error TEXT,
		PRIMARY KEY (shipment_id, line_id)
	);`,
];

export type RedactOutcome =
	| { ok: true; orderKey: string; connection: string; channelOrderId: string; channel: string | null; changed: number; held: string[]; values: string[] }
	| { ok: false; code: "unknown_order" };

/** What an order holds about its customer, for a data request. */
export type PersonalData = {
	orderKey: string;
	channel: string | null;
	channelOrderId: string;
	channelOrderName: string | null;
	customer: CanonicalOrder["customer"] | null;
	shipTo: CanonicalOrder["shipTo"] | null;
	/** Each personal value found in the stored payloads, with where it is. */
	found: Found[];
};

export const OrderStatus = [
	"received",
	"reserved",
	"backordered",
	"routed",
	"accepted",
	"partially_fulfilled",
	"fulfilled",
	"delivered",
	"cancelled",
] as const;
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
	shipped: number;
};

type RouteRow = { reference_id: string; location: string; three_pl: string; lines: string; status: string; external_id: string | null; created_at: string };
type ShipmentRow = {
	shipment_id: string;
	reference_id: string;
	location: string | null;
	status: string;
	carrier: string | null;
	tracking_number: string | null;
	tracking_url: string | null;
	tracking_status: string | null;
	tracking_at: string | null;
	shipped_at: string;
	lines: string;
	unmatched: string | null;
};
type CommitRow = { shipment_id: string; line_id: string; sku: string; quantity: number; location: string | null; attempts: number };
/** Where routing stands for this order. */
type RouteState = { status: "routed" | "unroutable" | "retry"; reason?: string; retryAtMs?: number; since: string };

/** Attempts after which a stuck ledger call becomes an exception operators see. */
const RAISE_AFTER_ATTEMPTS = 5;
/** Safety net: the alarm finishes any saga step a crash or eviction interrupted. */
const BACKSTOP_MS = 2_000;
const MAX_BACKOFF_MS = 5 * 60_000;
/** An unroutable order also tries again this often, besides when stock arrives. */
const REROUTE_MS = 5 * 60_000;
/** Carrier statuses that mean a parcel is in trouble: operators see them as exceptions. */
const PARCEL_TROUBLE = new Set(["failure", "return_to_sender", "error"]);

/** What each channel's answer to a relayed shipment names it by (see "channel.fulfillment" in #delivered). */
const RECORDED_AS = [
	["fulfillmentId", "fulfilment"],
	["packageId", "package"],
	["packageReferenceId", "package"],
	["control", "interchange"],
] as const;

/**
 * One order: its raw inbound events (for audit and replay), its canonical state, the saga that
 * holds, releases or commits each line's units on the SKU ledgers, the route to the locations
 * that ship it, its shipments, and the outbox that tells the 3PL, the channel and the carrier.
 * It alone decides the order's state; every ledger call and delivery is idempotent, so the
 * alarm can re-run any step.
 */
export class OrderFlow extends DurableObject<Env> {
	#sql: SqlStorage;
	#driving: Promise<void> | null = null;
	#again = false;
	/** Flow events waiting to go out with the saga's next batch. */
	#unsent: FlowNote[] = [];
	#outbox: Outbox;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		migrate(ctx.storage, MIGRATIONS);
		this.#outbox = new Outbox(this.#sql, env, {
			owner: () => this.#get<string>("key") ?? ctx.id.toString(),
			send: (delivery, payload, timeoutMs) => send(this.env, delivery.kind, delivery.destination, payload, timeoutMs, { order: this.#get<CanonicalOrder>("order") ?? undefined }),
			delivered: (delivery, value) => this.#delivered(delivery, value),
			note: (events) => this.#emit(events),
		});
		// Repair: due work without an alarm (an older build, or an alarm lost in a crash) gets one;
		// an order held in full but never routed (a build before routing) is routed by it too.
		if (this.#pendingCount() > 0 || this.#outbox.pendingCount() > 0 || this.#routable()) {
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
			if (stale) {
				this.#keepRedacted();
				return "stale";
			}
			if (this.#get<string>("key") === null) {
				const channelOrderId = change.kind === "order" ? change.order.channelOrderId : change.channelOrderId;
				this.#put("key", `${event.connection}:${channelOrderId}`);
			}
			// A notification may have named the order (and its key) before its contents arrived.
			if (this.#get<OrderStatus>("status") === null) this.#put("status", "received");
			if (change.kind === "order") this.#put("order", change.order);
			else this.#addRefund(change.refund);
			this.#planLines();
			this.#cancelRoutesIfCancelled();
			this.#bookInErp();
			this.#keepRedacted();
			return "applied";
		});
		const subjects = status === "applied" && event.change.kind === "order" ? this.#newSubjects(event.change.order) : undefined;

		const flowEvent = { type: status === "applied" ? "received" : status, topic: event.topic, eventId: event.eventId, ...(subjects ? { subjects } : {}) };
		if (status === "applied") this.#afterChange(flowEvent);
		else this.#emit([flowEvent]);
		return { status, orderStatus: this.#get<OrderStatus>("status") };
	}

	/**
	 * A channel notification that names the order but leaves out its contents (TikTok Shop, Amazon):
	 * stored before the webhook is acknowledged, with a fetch of the order queued in the same
	 * transaction. The fetched order is then applied like any other version of it.
	 */
	notify(event: Notification): { status: "stored" | "duplicate" } {
		const status = this.ctx.storage.transactionSync(() => {
			if (this.#sql.exec("SELECT 1 FROM events WHERE event_id = ?", event.eventId).toArray().length > 0) return "duplicate" as const;
			this.#sql.exec(
				"INSERT INTO events (event_id, source, type, at, triggered_at, body, outcome) VALUES (?, 'inbound', ?, ?, ?, ?, 'fetching')",
				event.eventId, event.topic, new Date().toISOString(), event.triggeredAt, event.rawBody,
			);
			if (this.#get<string>("key") === null) this.#put("key", `${event.connection}:${event.channelOrderId}`);
			this.#outbox.enqueue({
				id: `channel.fetch:${event.eventId}`,
				kind: "channel.fetch",
				destination: destination.channel(event.connection),
				payload: { channelOrderId: event.channelOrderId, channel: event.channel },
			});
			return "stored" as const;
		});
		if (status === "stored") {
			this.#emit([{ type: "notified", topic: event.topic, eventId: event.eventId, detail: "fetching the order" }]);
			void this.#runOutbox();
		}
		return { status };
	}

	/**
	 * A 3PL ship notice (or its later news about the shipment), stored with the order before the
	 * webhook is acknowledged. A new shipment commits its units on the ledgers at the location it
	 * shipped from and goes to the channel as a fulfilment, after the 3PL's acceptance of the order.
	 */
	shipmentNotice(notice: ShipmentNotice, rawBody: string): { status: "applied" | "duplicate" | "unknown_order" } {
		const status = this.ctx.storage.transactionSync((): "applied" | "duplicate" | "unknown_order" => {
			const key = this.#get<string>("key");
			if (key === null) return "unknown_order";
			const eventId = `3pl:${notice.eventId}:${notice.shipmentId}`;
			if (this.#sql.exec("SELECT 1 FROM events WHERE event_id = ?", eventId).toArray().length > 0) return "duplicate";
			this.#sql.exec(
				"INSERT INTO events (event_id, source, type, at, triggered_at, body, outcome) VALUES (?, '3pl', ?, ?, ?, ?, 'applied')",
				eventId, notice.topic, new Date().toISOString(), notice.at, rawBody,
			);
			this.#applyShipment(key, notice);
			this.#keepRedacted();
			return "applied";
		});
		if (status === "applied") this.#afterChange({ type: `shipment.${notice.status}`, detail: shipmentDetail(notice) });
		return { status };
	}

	/** A carrier event for one of this order's shipments, forwarded by its Parcel. */
	trackingUpdate(update: TrackingUpdate, shipmentId: string): { status: "applied" | "duplicate" | "stale" | "unknown_shipment" } {
		const status = this.ctx.storage.transactionSync(() => {
			const eventId = `carrier:${update.eventId}`;
			if (this.#sql.exec("SELECT 1 FROM events WHERE event_id = ?", eventId).toArray().length > 0) return "duplicate" as const;
			const shipment = this.#sql.exec<ShipmentRow>("SELECT * FROM shipments WHERE shipment_id = ?", shipmentId).toArray()[0];
			if (!shipment) return "unknown_shipment" as const;
			// Carrier events can arrive out of order: an older one is kept but does not move the parcel back.
			const stale = shipment.tracking_at !== null && Date.parse(update.at) < Date.parse(shipment.tracking_at);
			this.#sql.exec(
				"INSERT INTO events (event_id, source, type, at, triggered_at, body, outcome) VALUES (?, 'carrier', ?, ?, ?, ?, ?)",
				eventId, `tracker.${update.status}`, new Date().toISOString(), update.at, JSON.stringify(update), stale ? "stale" : "applied",
			);
			if (stale) return "stale" as const;
			this.#sql.exec("UPDATE shipments SET tracking_status = ?, tracking_at = ? WHERE shipment_id = ?", update.status, update.at, shipmentId);
			const order = this.#get<CanonicalOrder>("order");
			const connection = order && loadConfig(this.env).connections.get(order.connection);
			if (order && connection?.admin && shipment.tracking_number && !["unknown", "cancelled"].includes(update.status)) {
				this.#outbox.enqueue({
					id: `channel.tracking:${shipmentId}:${update.status}`,
					kind: "channel.tracking",
					destination: destination.channel(order.connection),
					payload: { channelOrderId: order.channelOrderId, trackingNumber: shipment.tracking_number, status: update.status, happenedAt: update.at, message: update.statusDetail },
					after: `channel.fulfillment:${shipmentId}`,
				});
			}
			return "applied" as const;
		});
		if (status === "applied") {
			const key = this.#get<string>("key")!;
			if (PARCEL_TROUBLE.has(update.status)) {
				void flowMonitor(this.env)
					.raise({ id: `parcel:${key}:${shipmentId}`, kind: "shipment", orderKey: key, reason: `parcel ${update.trackingCode} (${update.carrier}): ${update.status}${update.statusDetail ? ` — ${update.statusDetail}` : ""}` })
					.catch(() => {});
			} else if (update.status === "delivered") {
				void flowMonitor(this.env).resolve(`parcel:${key}:${shipmentId}`, "delivered").catch(() => {});
			}
			this.#afterChange({ type: `tracking.${update.status}`, detail: `${update.carrier} ${update.trackingCode}` });
		}
		return { status };
	}

	/** Everything an operator needs to explain this order. */
	view() {
		const key = this.#get<string>("key");
		if (key === null) return null;
		const order = this.#get<CanonicalOrder>("order");
		return {
			key,
			status: this.#get<OrderStatus>("status"),
			/** Nothing in flight or due for this order: no saga step, routing or delivery waiting. */
			idle: this.#driving === null && this.#pendingCount() === 0 && this.#outbox.pendingCount() === 0 && !this.#routable(),
			order: order && { ...order, refunds: this.#refunds(order) },
			lines: this.#lines().map((row) => ({
				lineId: row.line_id,
				sku: row.sku,
				op: row.op,
				target: row.target,
				reserved: row.reserved,
				backordered: row.backordered,
				committed: row.committed,
				shipped: row.shipped,
				pending: row.pending === 1,
				attempts: row.attempts,
				lastError: row.last_error,
			})),
			routing: this.#get<RouteState>("route"),
			/** Gross settled for this order, by payout (`<connection>:<payout id>`). */
			settlements: this.#get<Record<string, number>>("settlements") ?? {},
			routes: this.#sql.exec<RouteRow>("SELECT * FROM routes ORDER BY created_at").toArray().map((row) => ({
				referenceId: row.reference_id,
				location: row.location,
				threePl: row.three_pl,
				status: row.status,
				externalId: row.external_id,
				lines: JSON.parse(row.lines) as RouteLine[],
			})),
			shipments: this.#sql.exec<ShipmentRow>("SELECT * FROM shipments ORDER BY shipped_at").toArray().map((row) => ({
				shipmentId: row.shipment_id,
				referenceId: row.reference_id,
				location: row.location,
				status: row.status,
				carrier: row.carrier,
				trackingNumber: row.tracking_number,
				trackingUrl: row.tracking_url,
				trackingStatus: row.tracking_status,
				shippedAt: row.shipped_at,
				lines: JSON.parse(row.lines) as Array<{ lineId: string; sku: string; quantity: number }>,
				unmatched: row.unmatched === null ? [] : (JSON.parse(row.unmatched) as Array<{ sku: string; quantity: number }>),
			})),
			deliveries: this.#outbox.list(),
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

	delivery(id: string): Delivery | null {
		return this.#outbox.get(id);
	}

	/**
	 * Operator: send a dead or waiting delivery again, optionally with a corrected payload. The
	 * payload must still fit its kind and keep the fields the destination dedupes on.
	 */
	retryDelivery(id: string, payload?: unknown): { ok: true } | { ok: false; code: string; message: string } {
		const current = this.#outbox.get(id);
		if (!current) return { ok: false, code: "unknown_delivery", message: `no delivery ${id}` };
		if (payload !== undefined) {
			const schema = DeliveryPayloads[current.kind as DeliveryKind];
			const parsed = schema?.safeParse(payload);
			if (!parsed?.success) return { ok: false, code: "invalid_payload", message: parsed ? parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") : `${current.kind} cannot be edited` };
			for (const field of IDENTITY_FIELDS[current.kind as DeliveryKind] ?? []) {
				if ((parsed.data as Record<string, unknown>)[field] !== (current.payload as Record<string, unknown>)[field]) {
					return { ok: false, code: "invalid_payload", message: `${field} cannot change: the destination dedupes on it` };
				}
			}
			payload = parsed.data;
		}
		const result = this.#outbox.retry(id, payload);
		if (result.ok) {
			this.#emit([{ type: "replayed", detail: `${current.kind} → ${current.destination}${payload === undefined ? "" : " (payload edited)"}` }]);
			void this.#runOutbox();
		}
		return result;
	}

	/** Operator: give up on a delivery; its exception is closed as cancelled. */
	cancelDelivery(id: string, by: string): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
		return this.#outbox.abandon(id, by);
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
		if (this.#routable()) void this.#drive().catch(() => {});
	}

	/** A ledger this order waits on for routing got stock: try routing again now. */
	stockArrived(sku: string): void {
		const route = this.#get<RouteState>("route");
		if (route?.status !== "unroutable") return;
		this.#put("route", { ...route, retryAtMs: Date.now() });
		this.#emit([{ type: "stock.arrived", sku, detail: "routing again" }]);
		void this.#drive().catch(() => {});
	}

	override async alarm(): Promise<void> {
		await Promise.all([this.#drive(), this.#outbox.run()]);
		await this.#schedule();
	}

	/** Arms the alarm for the earliest due work (saga retry, routing retry, delivery), or clears it. */
	async #schedule(): Promise<void> {
		let next = this.#outbox.nextDueMs() ?? Infinity;
		const stuck = this.#sql
			.exec<{ attempts: number | null }>(
				"SELECT MAX(attempts) AS attempts FROM (SELECT attempts FROM lines WHERE pending = 1 UNION ALL SELECT attempts FROM shipment_commits WHERE done = 0)",
			)
			.one().attempts;
		if (stuck !== null) {
			// Full jitter: a ledger that is struggling is not hammered in lockstep by every order.
			next = Math.min(next, Date.now() + Math.max(50, Math.random() * Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** Math.min(stuck, 20))));
		}
		const route = this.#get<RouteState>("route");
		if (route && route.status !== "routed" && route.retryAtMs !== undefined) next = Math.min(next, route.retryAtMs);
		if (next === Infinity) await this.ctx.storage.deleteAlarm();
		else await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
	}

	/** Refunds that arrive on their own (refunds/create) count until an order version includes them. */
	#addRefund(refund: Refund): void {
		const order = this.#get<CanonicalOrder>("order");
		const known = this.#refunds(order).some((r) => r.channelRefundId === refund.channelRefundId);
		if (!known) this.#put("extra_refunds", [...(this.#get<Refund[]>("extra_refunds") ?? []), refund]);
	}

	/** Every refund known for the order: those in its latest version and those that came on their own. */
	#refunds(order: CanonicalOrder | null): Refund[] {
		return [...(order?.refunds ?? []), ...(this.#get<Refund[]>("extra_refunds") ?? [])];
	}

	/**
	 * Turns the current order into one intent per tracked line: hold the units not yet shipped,
	 * release them, or commit them as shipped (when the channel says so without a 3PL shipment).
	 * Only a changed intent becomes pending work for the saga.
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
		const want = (lineId: string, sku: string, units: number) => {
			const shipped = existing.get(lineId)?.shipped ?? 0;
			const outstanding = Math.max(0, units - shipped);
			// A cancelled order releases whatever is still held; what shipped stays committed.
			const op = outstanding === 0 ? (shipped > 0 && !order.cancelledAt ? "commit" : "release") : order.fulfillmentStatus === "fulfilled" ? "commit" : "reserve";
			wanted.set(lineId, { sku, op, target: outstanding });
		};
		for (const line of order.lines) {
			if (line.sku === null) continue; // not inventory-tracked (custom items, tips, gift cards)
			const restocked = extra
				.flatMap((r) => r.lines)
				.filter((l) => l.channelLineId === line.channelLineId && l.restockBeforeShipment)
				.reduce((sum, l) => sum + l.quantity, 0);
			const units = order.cancelledAt ? 0 : Math.max(0, line.quantity - restocked);
			// A bundle holds its components, one saga line per component, on their own ledgers.
			const parts = bundles[line.sku];
			if (!parts) want(line.channelLineId, line.sku, units);
			else for (const part of parts) want(`${line.channelLineId}#${part.sku}`, part.sku, units * part.quantity);
		}
		for (const [lineId, row] of existing) {
			if (!wanted.has(lineId)) wanted.set(lineId, { sku: row.sku, op: row.shipped > 0 ? "commit" : "release", target: 0 });
		}
		for (const [lineId, want] of wanted) {
			const row = existing.get(lineId);
			if (row && row.op === "commit" && row.pending === 0 && row.target > 0) continue; // units the channel called shipped stay shipped
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
		if (this.#pendingCount() > 0 || this.#routable()) {
			this.#unsent.push({ ...received, status: this.#get<OrderStatus>("status") ?? undefined });
			void this.ctx.storage.setAlarm(Date.now() + BACKSTOP_MS);
			void this.#drive().catch(() => {});
		} else {
			this.#emit([received, ...this.#refreshStatus()]);
		}
		if (this.#outbox.pendingCount() > 0) void this.#runOutbox();
	}

	/** Runs pending saga steps, then routing; concurrent callers share one run, and a change mid-run triggers another. */
	#drive(): Promise<void> {
		if (this.#driving) {
			this.#again = true;
			return this.#driving;
		}
		this.#driving = (async () => {
			do {
				this.#again = false;
				const rows = this.#lines().filter((row) => row.pending === 1);
				const commits = this.#sql.exec<CommitRow>("SELECT * FROM shipment_commits WHERE done = 0").toArray();
				const settled = await Promise.all([...rows.map((row) => this.#step(row)), ...commits.map((row) => this.#commitShipped(row))]);
				const events = [...this.#unsent.splice(0), ...this.#refreshStatus(), ...settled.filter((e) => e !== null)];
				if (this.#routable()) events.push(...(await this.#route()), ...this.#refreshStatus());
				this.#emit(events);
			} while (this.#again);
			if (this.#outbox.pendingCount() > 0) void this.#runOutbox();
			await this.#schedule();
		})().finally(() => {
			this.#driving = null;
		});
		return this.#driving;
	}

	#runOutbox(): Promise<void> {
		return this.#outbox
			.run()
			.then(() => {
				if (this.#routable()) return this.#drive();
			})
			.then(() => this.#schedule())
			.catch(() => {});
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
			} else if (row.target > 0) {
				await ledger.commit({ ...ref, commitId: "order-fulfilled", quantity: row.target });
				committed = row.committed + row.target;
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
			if (row.op === "commit" && row.target === 0) return null; // shipped by the 3PL: committed per shipment already
			const outcome =
				row.op === "reserve" ? (backordered > 0 ? "backordered" : "reserved") : row.op === "release" ? "released" : "committed";
			const held = row.op === "reserve" && backordered > 0 ? ` (${reserved} held)` : "";
			return { type: `line.${outcome}`, sku: row.sku, detail: `×${row.target}${held}` };
		} catch (error) {
			await this.#stepFailed(`saga:${key}:${row.line_id}`, `${row.op} of ${row.target} × ${row.sku}`, row.attempts, error);
			this.#sql.exec("UPDATE lines SET attempts = attempts + 1, last_error = ? WHERE line_id = ?", errorText(error), row.line_id);
			return null;
		}
	}

	/** Commits one shipment's units of one line on its ledger, at the location it shipped from. */
	async #commitShipped(row: CommitRow): Promise<FlowNote | null> {
		const key = this.#get<string>("key")!;
		try {
			const result = await this.env.SKU_LEDGER.getByName(row.sku).commit({
				orderKey: key,
				lineId: row.line_id,
				sku: row.sku,
				commitId: `shipment:${row.shipment_id}`,
				quantity: row.quantity,
				location: row.location ?? undefined,
			});
			this.#sql.exec("UPDATE shipment_commits SET done = 1, last_error = NULL WHERE shipment_id = ? AND line_id = ?", row.shipment_id, row.line_id);
			this.#sql.exec("UPDATE lines SET committed = committed + ? WHERE line_id = ?", row.quantity, row.line_id);
			if (row.attempts >= RAISE_AFTER_ATTEMPTS) await flowMonitor(this.env).resolve(`saga:${key}:${row.shipment_id}:${row.line_id}`, "ledger call succeeded");
			const short = result.shortfall > 0 ? `, ${result.shortfall} not on hand` : "";
			return { type: "line.committed", sku: row.sku, detail: `×${row.quantity} shipped from ${result.location ?? "?"}${short}` };
		} catch (error) {
			await this.#stepFailed(`saga:${key}:${row.shipment_id}:${row.line_id}`, `commit of ${row.quantity} × ${row.sku} shipped`, row.attempts, error);
			this.#sql.exec("UPDATE shipment_commits SET attempts = attempts + 1, last_error = ? WHERE shipment_id = ? AND line_id = ?", errorText(error), row.shipment_id, row.line_id);
			return null;
		}
	}

	async #stepFailed(id: string, what: string, attempts: number, error: unknown): Promise<void> {
		if (attempts + 1 !== RAISE_AFTER_ATTEMPTS) return;
		const reason = `${what} failed ${RAISE_AFTER_ATTEMPTS} times: ${errorText(error)}`;
		this.#emit([{ type: "failed", detail: reason }]);
		await flowMonitor(this.env).raise({ id, kind: "failure", orderKey: this.#get<string>("key") ?? undefined, reason }).catch(() => {});
	}

	/** An order is routed once all its shippable units are held and no saga step is in flight. */
	#routable(): boolean {
		const status = this.#get<OrderStatus>("status");
		if (status !== "reserved") return false;
		const route = this.#get<RouteState>("route");
		if (route?.status === "routed") return false;
		if (route?.retryAtMs !== undefined && route.retryAtMs > Date.now()) return false;
		if (loadConfig(this.env).fulfillment.locations.length === 0) return false;
		if (this.#get<CanonicalOrder>("order")?.holdReason) return false; // the channel says not yet
		return this.#pendingCount() === 0 && this.#shippable().length > 0;
	}

	/** Units still to ship, per saga line, for the lines that need shipping. */
	#shippable(lines: LineRow[] = this.#lines(), order = this.#get<CanonicalOrder>("order")): RouteLine[] {
		if (!order) return [];
		const physical = new Set(order.lines.filter((l) => l.requiresShipping).map((l) => l.channelLineId));
		return lines
			.filter((row) => row.op === "reserve" && row.target > 0 && physical.has(parentLineId(row.line_id)))
			.map((row) => ({ lineId: row.line_id, sku: row.sku, quantity: row.target }));
	}

	/**
	 * Picks the location(s) that ship this order, claims the units there on each ledger, and
	 * queues the 3PL order for each location, all recorded together. If no location can ship it,
	 * the order waits for stock (the ledgers call back) and is an exception until then.
	 */
	async #route(): Promise<FlowNote[]> {
		const key = this.#get<string>("key")!;
		const order = this.#get<CanonicalOrder>("order")!;
		const { fulfillment } = loadConfig(this.env);
		const lines = this.#shippable();
		const fingerprint = JSON.stringify(lines);
		const skus = [...new Set(lines.map((l) => l.sku))];
		const ledger = (sku: string) => this.env.SKU_LEDGER.getByName(sku);
		const retry = (reason: string): FlowNote[] => {
			this.#put("route", { status: "retry", reason, retryAtMs: Date.now() + 200 + Math.random() * 800, since: new Date().toISOString() } satisfies RouteState);
			return [];
		};
		let free: Record<string, Record<string, number>>;
		try {
			free = Object.fromEntries(await Promise.all(skus.map(async (sku) => [sku, await ledger(sku).locate()] as const)));
		} catch (error) {
			return retry(`reading stock by location failed: ${errorText(error)}`);
		}
		const plan = planRoute({ lines, free, locations: fulfillment.locations, shipTo: order.shipTo, allowSplit: fulfillment.allowSplit });
		if (!plan.ok) {
			const before = this.#get<RouteState>("route");
			this.#put("route", { status: "unroutable", reason: plan.reason, retryAtMs: Date.now() + REROUTE_MS, since: before?.since ?? new Date().toISOString() } satisfies RouteState);
			await Promise.all(skus.map((sku) => ledger(sku).watch(key))).catch(() => {}); // the timed retry covers a lost watch
			if (before?.status === "unroutable" && before.reason === plan.reason) return [];
			await flowMonitor(this.env).raise({ id: `route:${key}`, kind: "unroutable", orderKey: key, reason: plan.reason }).catch(() => {});
			return [{ type: "unroutable", detail: plan.reason }];
		}

		const picks = new Map<string, { sku: string; picks: Pick[] }>();
		for (const part of plan.parts) {
			for (const line of part.lines) {
				const entry = picks.get(line.lineId) ?? { sku: line.sku, picks: [] };
				entry.picks.push({ location: part.location, quantity: line.quantity });
				picks.set(line.lineId, entry);
			}
		}
		const claims = await Promise.all(
			[...picks].map(([lineId, { sku, picks }]) => ledger(sku).assign({ orderKey: key, lineId, sku, picks }).catch((error: Error) => ({ ok: false as const, location: "?", free: 0, error }))),
		);
		const undo = () => Promise.all([...picks].map(([lineId, { sku }]) => ledger(sku).unassign({ orderKey: key, lineId, sku }).catch(() => {})));
		if (claims.some((c) => !c.ok)) {
			await undo();
			return retry("another order claimed the same units first");
		}

		const recorded = this.ctx.storage.transactionSync(() => {
			// The order may have changed while the ledgers answered: route only what is still wanted.
			if (this.#get<RouteState>("route")?.status === "routed" || JSON.stringify(this.#shippable()) !== fingerprint || this.#get<CanonicalOrder>("order")?.cancelledAt) return false;
			const now = new Date().toISOString();
			for (const part of plan.parts) {
				const location = fulfillment.locations.find((l) => l.id === part.location)!;
				const referenceId = `${key}/${part.location}`;
				this.#sql.exec(
					"INSERT INTO routes (reference_id, location, three_pl, lines, status, created_at) VALUES (?, ?, ?, ?, 'sent', ?) ON CONFLICT (reference_id) DO NOTHING",
					referenceId, part.location, location.threePl, JSON.stringify(part.lines), now,
				);
				this.#outbox.enqueue({
					id: `3pl.order:${part.location}`,
					kind: "3pl.order",
					destination: destination.threePl(location.threePl),
					payload: threePlOrder(order, referenceId, location.fulfillmentCenterId, part.lines, fulfillment.defaultShippingMethod),
				});
			}
			this.#put("route", { status: "routed", since: now } satisfies RouteState);
			return true;
		});
		if (!recorded) {
			await undo();
			return retry("the order changed while it was being routed");
		}
		await flowMonitor(this.env).resolve(`route:${key}`, "routed").catch(() => {});
		void this.#runOutbox();
		const where = plan.parts
			.map((p) => {
				const units = p.lines.reduce((n, l) => n + l.quantity, 0);
				return `${p.location} (${units} unit${units === 1 ? "" : "s"})`;
			})
			.join(" + ");
		return [{ type: "routed", detail: where }];
	}

	/** Records one shipment: which lines it carries, their commits, and what goes to the channel and the carrier. */
	#applyShipment(key: string, notice: ShipmentNotice): void {
		const known = this.#sql.exec<ShipmentRow>("SELECT * FROM shipments WHERE shipment_id = ?", notice.shipmentId).toArray()[0];
		if (known) {
			// Later news of a known shipment (delivered, exception, cancelled): its state, nothing shipped twice.
			this.#sql.exec(
				"UPDATE shipments SET status = ?, tracking_number = COALESCE(?, tracking_number), carrier = COALESCE(?, carrier), tracking_url = COALESCE(?, tracking_url) WHERE shipment_id = ?",
				notice.status === "shipped" ? known.status : notice.status, notice.trackingNumber ?? null, notice.carrier ?? null, notice.trackingUrl ?? null, notice.shipmentId,
			);
			return;
		}
		const config = loadConfig(this.env);
		const route = this.#sql.exec<RouteRow>("SELECT * FROM routes WHERE reference_id = ?", notice.referenceId).toArray()[0];
		const location =
			config.fulfillment.locations.find((l) => l.fulfillmentCenterId === notice.fulfillmentCenterId && (!route || l.threePl === route.three_pl))?.id ?? route?.location ?? null;

		// Units go to the lines routed to this reference first, then any line of the SKU still open.
		const routed = route ? (JSON.parse(route.lines) as RouteLine[]).map((l) => l.lineId) : [];
		const open = this.#lines()
			.filter((row) => row.op === "reserve" && row.target > 0)
			.sort((a, b) => Number(routed.includes(b.line_id)) - Number(routed.includes(a.line_id)));
		const carried: Array<{ lineId: string; sku: string; quantity: number }> = [];
		const unmatched: Array<{ sku: string; quantity: number }> = [];
		for (const item of notice.lines) {
			let left = item.quantity;
			for (const row of open.filter((r) => r.sku === item.sku)) {
				const take = Math.min(left, row.target - (carried.filter((c) => c.lineId === row.line_id).reduce((n, c) => n + c.quantity, 0)));
				if (take <= 0) continue;
				carried.push({ lineId: row.line_id, sku: row.sku, quantity: take });
				left -= take;
				if (left === 0) break;
			}
			if (left > 0) unmatched.push({ sku: item.sku, quantity: left });
		}
		this.#sql.exec(
			`INSERT INTO shipments (shipment_id, reference_id, location, status, carrier, tracking_number, tracking_url, shipped_at, lines, unmatched)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			notice.shipmentId, notice.referenceId, location, notice.status, notice.carrier ?? null, notice.trackingNumber ?? null, notice.trackingUrl ?? null,
			notice.at, JSON.stringify(carried), unmatched.length > 0 ? JSON.stringify(unmatched) : null,
		);
		for (const c of carried) {
			this.#sql.exec(
				"INSERT INTO shipment_commits (shipment_id, line_id, sku, quantity, location) VALUES (?, ?, ?, ?, ?)",
				notice.shipmentId, c.lineId, c.sku, c.quantity, location,
			);
			// The ledger's commit consumes the reservation itself, so the line's hold shrinks without a release.
			this.#sql.exec(
				`UPDATE lines SET shipped = shipped + ?, target = MAX(0, target - ?), reserved = MAX(0, reserved - ?),
				 op = CASE WHEN target - ? <= 0 THEN 'commit' ELSE op END WHERE line_id = ?`,
				c.quantity, c.quantity, c.quantity, c.quantity, c.lineId,
			);
		}
		if (notice.status !== "shipped" || carried.length === 0) return;

		const order = this.#get<CanonicalOrder>("order")!;
		const connection = config.connections.get(order.connection);
		const earlier = this.#sql
			.exec<{ line_id: string; n: number }>("SELECT line_id, SUM(quantity) AS n FROM shipment_commits WHERE shipment_id != ? GROUP BY line_id", notice.shipmentId)
			.toArray();
		const channelLines = channelQuantities(carried, config.inventory.bundles, order, new Map(earlier.map((r) => [r.line_id, r.n])));
		const after = this.#outbox.get(`3pl.order:${route?.location ?? location}`) ? `3pl.order:${route?.location ?? location}` : undefined;
		if (connection && relaysFulfillment(connection) && channelLines.length > 0) {
			this.#outbox.enqueue({
				id: `channel.fulfillment:${notice.shipmentId}`,
				kind: "channel.fulfillment",
				destination: destination.channel(order.connection),
				payload: {
					channelOrderId: order.channelOrderId,
					shipmentId: notice.shipmentId,
					lines: channelLines,
					tracking: { company: notice.carrier, number: notice.trackingNumber, url: notice.trackingUrl },
					notifyCustomer: true,
				},
				// A fulfilment must not reach the channel before the 3PL accepted the order.
				after,
			});
		}
		// A parcel with only part of a bundle's components fulfils no whole channel line: nothing to book.
		if (config.erp?.connections[order.connection] && this.#outbox.get("erp.order") && channelLines.length > 0) {
			const first = !this.#outbox.has(["erp.fulfillment"]);
			this.#outbox.enqueue({
				id: `erp.fulfillment:${notice.shipmentId}`,
				kind: "erp.fulfillment",
				destination: destination.erp(config.erp.id),
				payload: { orderKey: key, connection: order.connection, shipmentId: notice.shipmentId, shippedAt: notice.at, first, lines: channelLines },
				after: "erp.order",
			});
		}
		const tracking = [...config.tracking.values()][0];
		if (notice.trackingNumber) {
			const parcel = { trackingCode: notice.trackingNumber, carrier: notice.carrier ?? "" };
			this.#outbox.enqueue({ id: `parcel.link:${notice.shipmentId}`, kind: "parcel.link", destination: destination.internal, payload: { ...parcel, orderKey: key, shipmentId: notice.shipmentId } });
			if (tracking) this.#outbox.enqueue({ id: `tracking.register:${notice.shipmentId}`, kind: "tracking.register", destination: destination.tracking(tracking.id), payload: parcel });
		}
	}

	/** A cancelled order's 3PL orders are cancelled too (or never sent, if they had not gone yet). */
	#cancelRoutesIfCancelled(): void {
		if (!this.#get<CanonicalOrder>("order")?.cancelledAt) return;
		const routes = this.#sql.exec<RouteRow>("SELECT * FROM routes WHERE status IN ('sent', 'accepted')").toArray();
		for (const route of routes) {
			const create = this.#outbox.get(`3pl.order:${route.location}`);
			if (create?.status === "pending" && create.attempts === 0 && !this.#outbox.inFlight(create.id)) {
				this.#outbox.cancel(create.id, "the channel's cancellation");
				this.#sql.exec("UPDATE routes SET status = 'cancelled' WHERE reference_id = ?", route.reference_id);
				continue;
			}
			this.#outbox.enqueue({
				id: `3pl.cancel:${route.location}`,
				kind: "3pl.cancel",
				destination: destination.threePl(route.three_pl),
				payload: { referenceId: route.reference_id },
				// Cancel only after the create settled, or the create could land after the cancel.
				after: create?.status === "pending" || create?.status === "delivered" ? create.id : undefined,
			});
			this.#sql.exec("UPDATE routes SET status = 'cancelling' WHERE reference_id = ?", route.reference_id);
		}
	}

	/**
	 * Keeps the ERP in step with the order (when its connection is booked): the order once the
	 * channel says it may ship (held orders are not booked yet), its close when cancelled, and each
	 * refund. Shipments are booked from #applyShipment. Each is a delivery with its own id, after the
	 * order's booking, so it happens once and in order.
	 */
	#bookInErp(): void {
		const order = this.#get<CanonicalOrder>("order");
		const key = this.#get<string>("key");
		const erp = loadConfig(this.env).erp;
		if (!order || !key || !erp?.connections[order.connection]) return;
		const to = destination.erp(erp.id);
		const booking = this.#outbox.get("erp.order");
		if (!booking) {
			if (order.cancelledAt || order.holdReason) return; // nothing to book until it may ship
			this.#outbox.enqueue({ id: "erp.order", kind: "erp.order", destination: to, payload: { orderKey: key } });
		} else if (order.cancelledAt && booking.status !== "cancelled") {
			if (booking.status === "pending" && booking.attempts === 0 && !this.#outbox.inFlight(booking.id)) {
				this.#outbox.cancel(booking.id, "the channel's cancellation");
				return;
			}
			this.#outbox.enqueue({ id: "erp.close", kind: "erp.close", destination: to, payload: { orderKey: key, connection: order.connection }, after: "erp.order" });
		}
		if (this.#outbox.get("erp.order")?.status === "cancelled") return;
		const skus = Object.fromEntries(order.lines.map((l) => [l.channelLineId, l.sku]));
		for (const refund of this.#refunds(order)) {
			this.#outbox.enqueue({
				id: `erp.refund:${refund.channelRefundId}`,
				kind: "erp.refund",
				destination: to,
				payload: { orderKey: key, connection: order.connection, currency: order.currency, refund, skus },
				after: "erp.order",
			});
		}
	}

	/**
	 * What a payout's matching needs to know about this order; null when ordersync never saw it.
	 * `settledBefore` counts what other payouts already paid for it.
	 */
	settlementFacts(payoutKey: string): OrderFacts | null {
		const key = this.#get<string>("key");
		const order = this.#get<CanonicalOrder>("order");
		if (!key || !order) return null;
		const settled = this.#get<Record<string, number>>("settlements") ?? {};
		return {
			orderKey: key,
			name: order.channelOrderName,
			currency: order.currency,
			total: order.total.amount,
			refundIds: this.#refunds(order).map((r) => r.channelRefundId),
			settledBefore: Object.entries(settled).reduce((n, [payout, amount]) => (payout === payoutKey ? n : n + amount), 0),
		};
	}

	/** A payout paid this much gross for the order (recorded once per payout). */
	recordSettlement(payoutKey: string, gross: number): void {
		const settled = this.#get<Record<string, number>>("settlements") ?? {};
		if (settled[payoutKey] === gross) return;
		this.#put("settlements", { ...settled, [payoutKey]: gross });
		this.#emit([{ type: "settled", detail: `${gross} in payout ${payoutKey}` }]);
	}

	/**
	 * Privacy: removes the personal data this order holds, in one transaction: the canonical
	 * order's customer and ship-to (country and province stay), every stored raw event by its
	 * channel's format, the outbox's payloads, answers and errors, and any other text that repeats a
	 * known value. Money, SKUs, quantities, ids, taxes and dates stay exactly as they were. A
	 * delivery still pending keeps its payload (a 3PL order that has yet to go needs the address):
	 * it is reported as held, and the request runs again once it has settled. The order's history
	 * records the redaction once per request, without the data. Running it again changes nothing;
	 * later versions of the order are scrubbed as they arrive.
	 */
	redact(request: { requestId: string }): RedactOutcome {
		const outcome = this.ctx.storage.transactionSync((): RedactOutcome => {
			const key = this.#get<string>("key");
			if (key === null) return { ok: false, code: "unknown_order" };
			const order = this.#get<CanonicalOrder>("order");
			const values = this.#personalValues(order);
			const { changed, held } = this.#scrubPersonal(values);
			const now = new Date().toISOString();
			const eventId = `privacy:${request.requestId}`;
			if (this.#sql.exec("SELECT 1 FROM events WHERE event_id = ?", eventId).toArray().length === 0) {
				this.#sql.exec(
					"INSERT INTO events (event_id, source, type, at, body, outcome) VALUES (?, 'ordersync', 'privacy.redacted', ?, ?, 'applied')",
					eventId, now, JSON.stringify({ request: request.requestId, changed, held }),
				);
			}
			if (this.#get("redacted") === null) this.#put("redacted", { at: now, request: request.requestId });
			const colon = key.indexOf(":");
			return { ok: true, orderKey: key, connection: key.slice(0, colon), channelOrderId: key.slice(colon + 1), channel: order?.channel ?? null, changed, held, values };
		});
		if (outcome.ok && outcome.changed > 0) {
			const held = outcome.held.length > 0 ? `; ${outcome.held.length} pending deliver${outcome.held.length === 1 ? "y" : "ies"} held` : "";
			this.#emit([{ type: "privacy.redacted", detail: `personal data removed from ${outcome.changed} record${outcome.changed === 1 ? "" : "s"}${held}` }]);
		}
		return outcome;
	}

	/** Privacy: the personal data this order holds (for a data request), where each value is stored. */
	personalData(): PersonalData | null {
		const key = this.#get<string>("key");
		if (key === null) return null;
		const order = this.#get<CanonicalOrder>("order");
		const found: Found[] = scrubJson(JSON.stringify({ customer: order?.customer, shipTo: order?.shipTo })).found;
		const events = this.#sql.exec<{ seq: number; type: string; body: string }>("SELECT seq, type, body FROM events ORDER BY seq").toArray();
		for (const row of events) {
			for (const f of scrubRaw(row.body).found) found.push({ path: `events[${row.seq}] ${row.type}: ${f.path}`, value: f.value });
		}
		const colon = key.indexOf(":");
		return {
			orderKey: key,
			channel: order?.channel ?? null,
			channelOrderId: key.slice(colon + 1),
			channelOrderName: order?.channelOrderName ?? null,
			customer: order?.customer ?? null,
			shipTo: order?.shipTo ?? null,
			found,
		};
	}

	/** Every personal value this order holds: the canonical order's and whatever its stored events carry. */
	#personalValues(order: CanonicalOrder | null): string[] {
		const found: Found[] = personalValues(order).map((value) => ({ path: "", value }));
		for (const row of this.#sql.exec<{ body: string }>("SELECT body FROM events").toArray()) found.push(...scrubRaw(row.body).found);
		return uniqueValues(found);
	}

	/** Scrubs every row that can hold personal data (call inside a transaction). */
	#scrubPersonal(values: string[]): { changed: number; held: string[] } {
		let changed = 0;
		const held: string[] = [];
		const text = (value: string | null) => (value === null ? null : scrubRaw(value, values).text);
		for (const row of this.#sql.exec<{ key: string; value: string }>("SELECT key, value FROM state").toArray()) {
			// Only records hold personal data; a plain string or number here is an id or a status.
			if (!row.value.startsWith("{") && !row.value.startsWith("[")) continue;
			const next = text(row.value)!;
			if (next !== row.value) {
				this.#sql.exec("UPDATE state SET value = ? WHERE key = ?", next, row.key);
				changed++;
			}
		}
		for (const row of this.#sql.exec<{ seq: number; body: string }>("SELECT seq, body FROM events").toArray()) {
			const next = text(row.body)!;
			if (next !== row.body) {
				this.#sql.exec("UPDATE events SET body = ? WHERE seq = ?", next, row.seq);
				changed++;
			}
		}
		type Row = { id: string; status: string; payload: string; result: string | null; last_error: string | null; history: string };
		for (const row of this.#sql.exec<Row>("SELECT id, status, payload, result, last_error, history FROM deliveries").toArray()) {
			let payload = text(row.payload)!;
			if (payload !== row.payload && row.status === "pending") {
				held.push(row.id);
				payload = row.payload;
			}
			const next = { payload, result: text(row.result), last_error: text(row.last_error), history: text(row.history)! };
			if (next.payload !== row.payload || next.result !== row.result || next.last_error !== row.last_error || next.history !== row.history) {
				this.#sql.exec(
					"UPDATE deliveries SET payload = ?, result = ?, last_error = ?, history = ? WHERE id = ?",
					next.payload, next.result, next.last_error, next.history, row.id,
				);
				changed++;
			}
		}
		for (const table of ["lines", "shipment_commits"]) {
			for (const row of this.#sql.exec<{ id: number; last_error: string }>(`SELECT rowid AS id, last_error FROM ${table} WHERE last_error IS NOT NULL`).toArray()) {
				const next = replaceValues(row.last_error, values);
				if (next !== row.last_error) {
					this.#sql.exec(`UPDATE ${table} SET last_error = ? WHERE rowid = ?`, next, row.id);
					changed++;
				}
			}
		}
		return { changed, held };
	}

	/** A redacted order stays so: what arrives later is scrubbed in the transaction that stores it. */
	#keepRedacted(): void {
		if (this.#get("redacted") === null) return;
		this.#scrubPersonal(this.#personalValues(this.#get<CanonicalOrder>("order")));
	}

	/**
	 * Who this order belongs to, as digests for the privacy index. They ride on the order's
	 * "received" flow event, so indexing costs no call of its own; each version sends them again
	 * (the index keeps each pair once), so a lost flow event is made good by the next version.
	 */
	#newSubjects(order: CanonicalOrder): string[] | undefined {
		if (this.#get<string>("key") === null || this.#get("redacted") !== null) return undefined;
		return orderSubjects(order);
	}

	/** What a delivered effect changes here (inside the outbox's write, synchronously). */
	#delivered(delivery: Delivery, value: unknown): FlowNote[] {
		const location = delivery.id.slice(delivery.id.indexOf(":") + 1);
		switch (delivery.kind) {
			case "3pl.order": {
				const id = (value as { shipbobOrderId?: number | string } | null)?.shipbobOrderId;
				this.#sql.exec("UPDATE routes SET status = CASE WHEN status = 'sent' THEN 'accepted' ELSE status END, external_id = ? WHERE location = ?", id === undefined ? null : String(id), location);
				return [{ type: "accepted", detail: `${delivery.destination} order ${id ?? "?"} for ${location}` }, ...this.#refreshStatus()];
			}
			case "3pl.cancel": {
				const state = (value as { state?: string } | null)?.state;
				const shipped = state === "already_shipped";
				this.#sql.exec("UPDATE routes SET status = ? WHERE location = ?", shipped ? "cancel_failed" : "cancelled", location);
				if (shipped) {
					const key = this.#get<string>("key")!;
					void flowMonitor(this.env)
						.raise({ id: `cancel:${key}:${location}`, kind: "shipment", orderKey: key, reason: `the channel cancelled the order, but ${location} had already shipped it` })
						.catch(() => {});
				}
				return [{ type: shipped ? "cancel.too-late" : "cancelled.at-3pl", detail: location }];
			}
			case "channel.fulfillment": {
				// Each channel names what it recorded: Shopify its fulfilment, TikTok Shop the package,
				// Amazon the package reference, an EDI gateway the interchange (ISA13) it took.
				const sent = (value ?? {}) as Record<string, string | undefined>;
				const named = RECORDED_AS.find(([field]) => sent[field]);
				const what = named ? `${named[1]} ${sent[named[0]]}` : `shipment ${(delivery.payload as { shipmentId?: string }).shipmentId ?? ""} recorded`;
				return [{ type: "fulfilled.on-channel", detail: `${what} on ${delivery.destination.slice("channel:".length)}` }];
			}
			case "channel.acknowledge": {
				const sent = value as { control?: string; skipped?: string } | null;
				return [{ type: "acknowledged.on-channel", detail: sent?.skipped ?? `interchange ${sent?.control ?? "?"}` }];
			}
			case "channel.tracking":
				return [{ type: "tracking.on-channel", detail: (delivery.payload as { status?: string }).status }];
			case "erp.order":
			case "erp.fulfillment":
			case "erp.close":
			case "erp.refund": {
				const booked = (value ?? {}) as { skipped?: string; type?: string; id?: string; fulfillment?: string; invoice?: string };
				const what = booked.skipped ?? (booked.fulfillment ? `item fulfilment ${booked.fulfillment}, invoice ${booked.invoice}` : `${booked.type} ${booked.id}`);
				const type = { "erp.order": "erp.booked", "erp.fulfillment": "erp.fulfilled", "erp.close": "erp.closed", "erp.refund": "erp.refunded" }[delivery.kind];
				return [{ type, detail: `${what} in ${delivery.destination.slice("erp:".length)}` }];
			}
			case "channel.fetch": {
				// The order as the channel has it now; its own update time decides whether it is news.
				const order = CanonicalOrder.parse(value);
				this.ingest({
					eventId: `fetched:${delivery.id.slice("channel.fetch:".length)}`,
					connection: order.connection,
					channel: order.channel,
					topic: "order.fetched",
					triggeredAt: order.sourceUpdatedAt,
					receivedAt: new Date().toISOString(),
					rawBody: JSON.stringify(value),
					change: { kind: "order", order },
				});
				return [];
			}
			default:
				return [];
		}
	}

	/** Derives the order's status from its lines, routes and shipments, records each transition, and returns its flow event. */
	#refreshStatus(): FlowNote[] {
		const order = this.#get<CanonicalOrder>("order");
		const previous = this.#get<OrderStatus>("status");
		if (!order || previous === null) return [];
		const lines = this.#lines();
		// The status moves only once the ledgers have confirmed every step.
		if (lines.some((row) => row.pending === 1)) return [];
		this.#acknowledgeIfDue(order, lines);
		const shipments = this.#sql.exec<{ tracking_status: string | null; status: string }>("SELECT tracking_status, status FROM shipments").toArray();
		const routes = this.#sql.exec<{ status: string }>("SELECT status FROM routes").toArray();
		const shipped = lines.some((row) => row.shipped > 0);
		const outstanding = this.#shippable(lines, order).length > 0;
		let next: OrderStatus;
		if (order.cancelledAt) next = "cancelled";
		else if (shipped && !outstanding) {
			const delivered = shipments.length > 0 && shipments.every((s) => s.tracking_status === "delivered" || s.status === "delivered");
			next = delivered ? "delivered" : "fulfilled";
		} else if (order.fulfillmentStatus === "fulfilled") next = "fulfilled";
		else if (shipped) next = "partially_fulfilled";
		else if (routes.length > 0 && routes.every((r) => r.status === "accepted")) next = "accepted";
		else if (routes.some((r) => r.status === "sent" || r.status === "accepted")) next = "routed";
		else next = lines.some((row) => row.backordered > 0) ? "backordered" : "reserved";
		if (next === previous) return [];

		const detail = {
			from: previous,
			lines: lines.map((row) => ({ lineId: row.line_id, sku: row.sku, reserved: row.reserved, backordered: row.backordered, committed: row.committed, shipped: row.shipped })),
		};
		this.#sql.exec(
			"INSERT INTO events (source, type, at, body) VALUES ('ordersync', ?, ?, ?)",
			next, new Date().toISOString(), JSON.stringify(detail),
		);
		this.#put("status", next);
		const short = lines.filter((row) => row.backordered > 0).length;
		const count = `${lines.length} line${lines.length === 1 ? "" : "s"}`;
		return [{ type: next, status: next, detail: short > 0 ? `${short} of ${count} short` : count }];
	}

	/**
	 * A channel that wants each order acknowledged (EDI 855) hears, once per order version, which
	 * lines are held and which wait for stock, as soon as every line's hold is settled. Lines with no
	 * SKU ordersync can ship are rejected. The caller runs the outbox.
	 */
	#acknowledgeIfDue(order: CanonicalOrder, lines: LineRow[]): void {
		if (order.cancelledAt) return;
		const connection = loadConfig(this.env).connections.get(order.connection);
		if (!connection || !acknowledgesOrders(connection)) return;
		const id = `channel.acknowledge:${order.sourceUpdatedAt}`;
		if (this.#outbox.get(id)) return;
		const decisions = order.lines.map((line) => {
			const held = lines.filter((row) => parentLineId(row.line_id) === line.channelLineId);
			const status = line.sku === null || held.length === 0 ? "rejected" : held.some((row) => row.backordered > 0) ? "backordered" : "accepted";
			return { channelLineId: line.channelLineId, status, quantity: line.quantity } as const;
		});
		this.#outbox.enqueue({
			id,
			kind: "channel.acknowledge",
			destination: destination.channel(order.connection),
			payload: { channelOrderId: order.channelOrderId, version: order.sourceUpdatedAt, lines: decisions },
		});
	}

	/** Flow events are telemetry for consoles: never awaited, never allowed to fail the order. */
	#emit(events: FlowNote[]): void {
		const key = this.#get<string>("key");
		if (!key || events.length === 0) return;
		const connection = key.slice(0, key.indexOf(":"));
		const order = this.#get<CanonicalOrder>("order");
		// Events batch up while the saga runs: each carries the status the order had reached by then.
		let status = events.find((e) => e.status)?.status ?? this.#get<OrderStatus>("status") ?? undefined;
		const stamped: FlowEventInput[] = [];
		for (const e of events) {
			status = e.status ?? status;
			const previous = stamped.at(-1);
			// "routed → wh-east" then the status "routed": one event that says both.
			if (e.status && previous?.type === e.type) {
				previous.status = status;
				continue;
			}
			stamped.push({ ...e, orderKey: key, connection, channel: order?.channel, orderName: order?.channelOrderName, status });
		}
		noteFlows(this.ctx, this.env, stamped);
	}

	#lines(): LineRow[] {
		return this.#sql.exec<LineRow>("SELECT * FROM lines ORDER BY rowid").toArray();
	}

	#pendingCount(): number {
		return this.#sql.exec<{ n: number }>("SELECT (SELECT COUNT(*) FROM lines WHERE pending = 1) + (SELECT COUNT(*) FROM shipment_commits WHERE done = 0) AS n").one().n;
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

/** Saga line ids of bundle components are `<channel line id>#<component SKU>`. */
function parentLineId(lineId: string): string {
	const hash = lineId.indexOf("#");
	return hash === -1 ? lineId : lineId.slice(0, hash);
}

function errorText(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

function shipmentDetail(notice: ShipmentNotice): string {
	const units = notice.lines.reduce((n, l) => n + l.quantity, 0);
	return `${notice.shipmentId}: ${units} unit${units === 1 ? "" : "s"}${notice.carrier ? ` via ${notice.carrier}` : ""}${notice.trackingNumber ? ` ${notice.trackingNumber}` : ""}`;
}

/**
 * The channel's own lines and quantities for what one shipment carried. A bundle line counts as
 * shipped as many times as this shipment completes whole bundles: its components here, with those
 * that `earlier` shipments carried (a bundle's parts may leave in different parcels).
 */
function channelQuantities(
	carried: Array<{ lineId: string; sku: string; quantity: number }>,
	bundles: Record<string, Array<{ sku: string; quantity: number }>>,
	order: CanonicalOrder,
	earlier: Map<string, number>,
): Array<{ channelLineId: string; quantity: number }> {
	const out: Array<{ channelLineId: string; quantity: number }> = [];
	const here = (lineId: string) => carried.filter((c) => c.lineId === lineId).reduce((n, c) => n + c.quantity, 0);
	for (const line of order.lines) {
		if (line.sku === null) continue;
		const parts = bundles[line.sku];
		const whole = (withThis: boolean) =>
			Math.min(...parts!.map((p) => {
				const lineId = `${line.channelLineId}#${p.sku}`;
				return Math.floor(((earlier.get(lineId) ?? 0) + (withThis ? here(lineId) : 0)) / p.quantity);
			}));
		const quantity = parts ? whole(true) - whole(false) : here(line.channelLineId);
		if (quantity > 0) out.push({ channelLineId: line.channelLineId, quantity });
	}
	return out;
}

/** The 3PL's order for one location's part of a routed order. */
function threePlOrder(order: CanonicalOrder, referenceId: string, fulfillmentCenterId: number, lines: RouteLine[], defaultShippingMethod: string) {
	const units = new Map<string, number>();
	for (const line of lines) units.set(line.sku, (units.get(line.sku) ?? 0) + line.quantity);
	const title = (sku: string) => order.lines.find((l) => l.sku === sku)?.title ?? sku;
	return {
		referenceId,
		orderNumber: order.channelOrderName,
		fulfillmentCenterId,
		shippingMethod: order.shippingLines[0]?.title || defaultShippingMethod,
		purchaseDate: order.createdAt,
		recipient: { ...order.shipTo, name: order.shipTo?.name ?? order.customer?.name, email: order.customer?.email },
		products: [...units].map(([sku, quantity]) => ({ sku, name: title(sku), quantity })),
	};
}
