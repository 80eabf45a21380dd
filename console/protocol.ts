// What the console reads from the worker: the live stream's messages and the ops API's answers.
// The console is a separate program (Node), so it checks what it is sent rather than importing the
// worker's types; objects are loose so a newer worker's extra fields pass through.
import { z } from "zod";

/** One flow event: something that happened to an order, a SKU or a webhook. `cursor` orders them. */
export const FlowEvent = z.looseObject({
	cursor: z.number().int(),
	at: z.string(),
	/** received, duplicate, stale, quarantined, reserved, routed, accepted, sent, retrying, dead-lettered, … */
	type: z.string(),
	connection: z.string().optional(),
	/** shopify, tiktok, amazon, woocommerce, edi; or the peer for 3PL and carrier webhooks. */
	channel: z.string().optional(),
	orderKey: z.string().optional(),
	orderName: z.string().optional(),
	/** The order's status once this event was applied. */
	status: z.string().optional(),
	sku: z.string().optional(),
	topic: z.string().optional(),
	eventId: z.string().optional(),
	detail: z.string().optional(),
});
export type FlowEvent = z.infer<typeof FlowEvent>;

export const ExceptionItem = z.looseObject({
	id: z.string(),
	/** quarantine, dead-letter, unroutable, failure, gap, shipment, settlement */
	kind: z.string(),
	status: z.enum(["open", "resolved"]),
	reason: z.string(),
	connection: z.string().nullable(),
	channel: z.string().nullable(),
	topic: z.string().nullable(),
	eventId: z.string().nullable(),
	orderKey: z.string().nullable(),
	/** The order's name (#1001), when the worker has seen the order. */
	orderName: z.string().nullable().optional(),
	attempts: z.number().int(),
	createdAt: z.string(),
	updatedAt: z.string(),
	resolution: z.string().nullable(),
});
export type ExceptionItem = z.infer<typeof ExceptionItem>;

/**
 * Server → console messages on `GET /ops/stream?after=<cursor>` (a WebSocket; JSON text frames).
 * On connect: `hello`, then every kept event after its `from` in `events` batches, preceded by
 * `gap` when some of those the console asked for were already pruned; then live.
 */
export const StreamMessage = z.discriminatedUnion("type", [
	z.looseObject({
		type: z.literal("hello"),
		role: z.enum(["read", "operator", "admin"]),
		/** The newest cursor when the console connected. */
		cursor: z.number().int(),
		/** The oldest cursor still kept (0 when none). */
		oldest: z.number().int(),
		/**
		 * The cursor after which this connection's catch-up starts: the `after` asked for; the newest
		 * minus 200 without one, or when the log started over (`after` beyond its newest); the oldest
		 * minus 1 after a gap. Absent from workers older than the field.
		 */
		from: z.number().int().optional(),
	}),
	z.looseObject({ type: z.literal("events"), events: z.array(FlowEvent) }),
	/** Events after `after` up to `until` were pruned before this console asked for them. */
	z.looseObject({ type: z.literal("gap"), after: z.number().int(), until: z.number().int() }),
	/** An exception was opened, updated or resolved. */
	z.looseObject({ type: z.literal("exception"), exception: ExceptionItem }),
	/** A payout was received, reconciled or posted (GET /ops/settlements has the rest). */
	z.looseObject({ type: z.literal("payout"), payoutKey: z.string(), status: z.string() }),
]);
export type StreamMessage = z.infer<typeof StreamMessage>;

export const Money = z.object({ amount: z.number().int(), currency: z.string() });
export type Money = z.infer<typeof Money>;

export const Attempt = z.looseObject({
	at: z.string(),
	ms: z.number(),
	ok: z.boolean(),
	error: z.string().optional(),
	retryable: z.boolean().optional(),
	retryAfterMs: z.number().optional(),
});

export const Delivery = z.looseObject({
	id: z.string(),
	kind: z.string(),
	destination: z.string(),
	/** pending, delivered, dead, cancelled */
	status: z.string(),
	attempts: z.number().int(),
	nextAttemptAt: z.string().nullable(),
	lastError: z.string().nullable(),
	createdAt: z.string(),
	updatedAt: z.string(),
	payload: z.unknown(),
	result: z.unknown(),
	history: z.array(Attempt),
});
export type Delivery = z.infer<typeof Delivery>;

/** GET /ops/orders/:key (`:key` is `<connection>:<channel order id>`; `?name=#1001` finds one by name). */
export const OrderView = z.looseObject({
	key: z.string(),
	/** received, reserved, backordered, routed, accepted, partially_fulfilled, fulfilled, delivered, cancelled */
	status: z.string().nullable(),
	idle: z.boolean(),
	/** The canonical order (see worker/model/order.ts), kept loose here. */
	order: z
		.looseObject({
			connection: z.string(),
			channel: z.string(),
			channelOrderId: z.string(),
			channelOrderName: z.string(),
			currency: z.string(),
			total: Money,
			lines: z.array(z.looseObject({ channelLineId: z.string(), sku: z.string().nullable(), title: z.string(), quantity: z.number(), unitPrice: Money })),
		})
		.nullable(),
	lines: z.array(
		z.looseObject({
			lineId: z.string(),
			sku: z.string(),
			target: z.number(),
			reserved: z.number(),
			backordered: z.number(),
			committed: z.number(),
			shipped: z.number(),
			pending: z.boolean(),
			lastError: z.string().nullable(),
		}),
	),
	routes: z.array(z.looseObject({ referenceId: z.string(), location: z.string(), threePl: z.string(), status: z.string(), externalId: z.string().nullable() })),
	shipments: z.array(
		z.looseObject({
			shipmentId: z.string(),
			location: z.string().nullable(),
			carrier: z.string().nullable(),
			trackingNumber: z.string().nullable(),
			trackingStatus: z.string().nullable(),
			shippedAt: z.string().nullable(),
		}),
	),
	deliveries: z.array(Delivery),
	/** The order's own log. `source` is inbound (channel webhook), 3pl, carrier or ordersync; `body` is the raw payload. */
	events: z.array(
		z.looseObject({
			seq: z.number(),
			eventId: z.string().nullable(),
			source: z.string(),
			type: z.string(),
			at: z.string(),
			triggeredAt: z.string().nullable(),
			outcome: z.string().nullable(),
			body: z.string(),
		}),
	),
});
export type OrderView = z.infer<typeof OrderView>;

/** GET /ops/skus/:sku */
export const SkuDetail = z.looseObject({
	sku: z.string(),
	available: z.number(),
	onHand: z.number(),
	reserved: z.number(),
	updatedAt: z.string().nullable().optional(),
	/** Available to promise on each connection (after its safety stock and location rules). */
	channels: z.record(z.string(), z.number()),
	locations: z.array(z.looseObject({ location: z.string(), onHand: z.number(), asOf: z.string(), source: z.string() })),
	reservations: z.array(z.looseObject({ orderKey: z.string(), lineId: z.string(), requested: z.number(), quantity: z.number(), status: z.string() })),
	backorders: z.array(z.looseObject({ position: z.number(), orderKey: z.string(), lineId: z.string(), waiting: z.number() })),
	audit: z.array(
		z.looseObject({
			seq: z.number(),
			at: z.string(),
			kind: z.string(),
			location: z.string().nullable(),
			onHandDelta: z.number(),
			reservedDelta: z.number(),
			onHandAfter: z.number(),
			reservedAfter: z.number(),
			cause: z.unknown(),
		}),
	),
});
export type SkuDetail = z.infer<typeof SkuDetail>;

/** GET /ops/exceptions/:id: the item, plus its raw body (quarantines) or its delivery (dead letters). */
export const ExceptionDetail = ExceptionItem.extend({ rawBody: z.string().nullable().optional(), delivery: Delivery.optional() });
export type ExceptionDetail = z.infer<typeof ExceptionDetail>;

/** Every ops error: `{ error: { code, message } }`. */
export const ApiError = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** POST /ops/exceptions/:id/replay answers 200/202 with one of these, or an ApiError. */
export const ReplayResult = z.looseObject({ status: z.string(), order: z.string().optional() });
export type ReplayResult = z.infer<typeof ReplayResult>;

/**
 * A payout's reconciliation in totals, signed minor units of the payout's currency (fees and
 * refunds negative). `fees` is by category (commission, payment_processing, fulfillment, …;
 * `unmapped` for fees the channel named but ordersync does not know).
 */
export const PayoutSummary = z.looseObject({
	grossSales: z.number().int(),
	refunds: z.number().int(),
	fees: z.record(z.string(), z.number().int()),
	adjustments: z.number().int(),
	net: z.number().int(),
	/** Order and refund lines matched to their order without a variance, of all such lines. */
	matched: z.looseObject({ lines: z.number().int(), of: z.number().int(), percent: z.number() }),
	/** What was booked to the variance account: the exceptions' variances added up. */
	variance: z.number().int(),
});
export type PayoutSummary = z.infer<typeof PayoutSummary>;

/** One entry of GET /ops/settlements: a payout and its reconciliation at a glance. */
export const PayoutItem = z.looseObject({
	/** `<connection>:<payoutId>` */
	payoutKey: z.string(),
	connection: z.string(),
	/** shopify, tiktok, amazon */
	channel: z.string(),
	payoutId: z.string(),
	currency: z.string(),
	/** What the channel pays into the bank, in minor units. */
	total: z.number().int(),
	paidAt: z.string().nullable(),
	/** matching, reconciled, posting, posted, failed */
	status: z.string(),
	summary: PayoutSummary.nullable(),
	/** How many of its lines (or its total) did not reconcile. */
	exceptions: z.number().int(),
	updatedAt: z.string(),
});
export type PayoutItem = z.infer<typeof PayoutItem>;

/** GET /ops/settlements/:connection/:payoutId: how each line of one payout matched, and its ERP postings. */
export const PayoutReport = z.looseObject({
	payoutKey: z.string(),
	connection: z.string(),
	channel: z.string(),
	payoutId: z.string(),
	currency: z.string(),
	total: z.number().int(),
	periodStart: z.string().nullable(),
	periodEnd: z.string().nullable(),
	paidAt: z.string().nullable(),
	/** upload (an Amazon flat file) or api (fetched from the channel) */
	via: z.string(),
	receivedAt: z.string(),
	/** matching, reconciled */
	status: z.string(),
	reconciledAt: z.string().nullable(),
	summary: PayoutSummary.nullable(),
	/** Lines (or `total`, when the lines do not add up to the payout) whose variance was booked. */
	exceptions: z.array(z.looseObject({ id: z.string(), reason: z.string(), variance: z.number().int() })),
	lines: z.array(
		z.looseObject({
			id: z.string(),
			/** order, refund, adjustment, reserve, other */
			kind: z.string(),
			channelOrderId: z.string().optional(),
			orderKey: z.string().optional(),
			orderName: z.string().optional(),
			/** matched, partial, unknown_order, amount_mismatch, currency_mismatch, unknown_refund, already_settled, other */
			status: z.string(),
			amount: z.number().int(),
			fees: z.number().int(),
			net: z.number().int(),
			/** What the order said was owed, for order lines. */
			expected: z.number().int().optional(),
			variance: z.number().int(),
		}),
	),
	postings: z.unknown(),
	/** reconciled (not booked in an ERP), posting, posted, failed (a dead letter) */
	erp: z.string(),
	deliveries: z.array(Delivery),
});
export type PayoutReport = z.infer<typeof PayoutReport>;

/** POST /ops/settlements/:connection/sync: each payout fetched from the channel, and how it reconciled. */
export const PayoutSync = z.looseObject({
	total: z.number().int(),
	reconciled: z.number().int(),
	results: z.array(
		z.looseObject({
			payoutId: z.string(),
			ok: z.boolean(),
			status: z.string().optional(),
			summary: PayoutSummary.nullable().optional(),
			exceptions: z.number().int().optional(),
			error: z.string().optional(),
		}),
	),
});
export type PayoutSync = z.infer<typeof PayoutSync>;

/** POST /ops/settlements/:connection/amazon-report: 201 reconciled, or 200 duplicate (the same file again). */
export const PayoutUpload = z.looseObject({ status: z.string(), report: PayoutReport });
export type PayoutUpload = z.infer<typeof PayoutUpload>;

/** A sweep's stock check: SKUs whose channel count differed from ordersync's, pushed again. */
export const Drift = z.looseObject({ checked: z.number(), drifted: z.array(z.looseObject({ sku: z.string() })), repushed: z.number(), error: z.string().nullish() });
export type Drift = z.infer<typeof Drift>;

/** One reconciliation sweep run (POST /ops/sweeps/:connection/run answers with one). */
export const SweepRun = z.looseObject({
	id: z.number(),
	/** cron, manual (an operator), retry (the alarm after a rate limit) */
	trigger: z.string(),
	/** running, complete, partial, rate_limited, failed, interrupted */
	status: z.string(),
	startedAt: z.string(),
	finishedAt: z.string().nullable(),
	window: z.looseObject({ from: z.string(), until: z.string() }).nullable(),
	pages: z.number(),
	ordersSeen: z.number(),
	recovered: z.number(),
	updated: z.number(),
	duplicates: z.number(),
	stale: z.number(),
	failed: z.number(),
	recoveredOrders: z.array(z.string()),
	drift: Drift.nullable(),
	error: z.string().nullable(),
	nextCursor: z.string().nullable(),
	retryAt: z.string().nullable(),
});
export type SweepRun = z.infer<typeof SweepRun>;

/** One connection's sweep in GET /ops/sweeps; a connection that is not swept says why in `skipped`. */
export const SweepItem = z.looseObject({
	connection: z.string(),
	channel: z.string(),
	skipped: z.string().optional(),
	cursor: z.string().nullish(),
	retryAt: z.string().nullish(),
	running: z.boolean().optional(),
	lastRun: SweepRun.nullish(),
	runs: z.array(SweepRun).optional(),
});
export type SweepItem = z.infer<typeof SweepItem>;

/** GET /ops/sweeps?runs=N: every connection's sweep, and the sweep settings. */
export const SweepList = z.looseObject({ settings: z.looseObject({}).optional(), items: z.array(SweepItem) });
export type SweepList = z.infer<typeof SweepList>;
