import { z } from "zod";
import type { ExceptionKind as ExceptionKindT, FlowEvent as FlowEventT, FlowMonitor, PayoutEntry as PayoutEntryT } from "../durable-objects/flow-monitor";
import type { DeliveryGate } from "../durable-objects/delivery-gate";
import { type OrderFlow, OrderStatus } from "../durable-objects/order-flow";
import type { Delivery as DeliveryT } from "../durable-objects/outbox";
import type { ChannelSweep, SweepRun as SweepRunT } from "../durable-objects/channel-sweep";
import type { Settlement } from "../durable-objects/settlement";
import type { SkuLedger } from "../durable-objects/sku-ledger";
import type { ReceiveOutcome, TradingPartner } from "../durable-objects/trading-partner";
import { OpsRole, type SweepConfig } from "./config";
import { EDI_CONTENT_TYPE } from "./connectors/edi";
import { SHIPBOB_HEADERS } from "./connectors/shipbob/webhook";
import { TIKTOK_SIGNATURE_HEADER } from "./connectors/tiktok";
import { WOOCOMMERCE_HEADERS } from "./connectors/woocommerce";
import { Availability, DeltaOutcome, InventoryDeltas, InventorySnapshot, ReturnReceipts, SnapshotOutcome, StockAdjustment } from "./model/inventory";
import { Money } from "./model/money";
import { Address, CanonicalOrder, Customer, Discount, OrderLine, Refund, ShippingLine, TaxLine } from "./model/order";
import { PayoutChannel } from "./model/settlement";
import { AvailabilityQuery } from "./routes/inventory";
import { BulkReplay, RetryBody } from "./routes/ops";
import { DataRequestBody, RedactionBody } from "./routes/privacy";
import { SyncBody } from "./routes/settlements";
import { MAX_WEBHOOK_BYTES } from "./routes/webhooks";

/**
 * The OpenAPI 3.1 document of ordersync's HTTP surface, served at GET /openapi.json. Request and
 * response schemas are generated from the zod schemas the routes parse with (`z.toJSONSchema`);
 * where a route answers with an object built in code and no zod schema, a small one is declared
 * here and held to the code's own type by the checks at the end of this file. test/openapi.test.ts
 * fails when a route on the router has no operation here, or an operation no route.
 */

/** package.json's version (a worker cannot import it). */
export const API_VERSION = "0.1.0";

type Json = Record<string, unknown>;

// --- Response bodies built in code: declared here, checked against the code's types below. ---

const Count = z.number().int().nonnegative();

/** worker/http.ts `failure()`: every error body has this one shape. */
const ErrorBody = z.object({
	error: z.object({
		code: z.string().describe("Stable, machine-readable, e.g. unauthorized, invalid_request, unknown_order"),
		message: z.string().describe("For people: what is wrong; for a 400, the field and why"),
	}),
});

const SnapshotResult = z.object({ applied: Count, stale: Count, results: z.array(SnapshotOutcome) });
const DeltaResult = z.object({ applied: Count, duplicate: Count, gap: Count, results: z.array(DeltaOutcome) });
const ReturnResult = z.object({
	results: z.array(z.object({ receiptId: z.string(), sku: z.string(), status: z.enum(["applied", "duplicate"]) })),
});
const AvailabilityResult = z.object({ items: z.array(Availability) });

const FlowEvent = z.object({
	cursor: z.number().int(),
	at: z.string(),
	type: z.string(),
	connection: z.string().optional(),
	channel: z.string().optional(),
	orderKey: z.string().optional(),
	orderName: z.string().optional(),
	status: z.string().optional().describe("The order's status once this event was applied"),
	sku: z.string().optional(),
	topic: z.string().optional(),
	eventId: z.string().optional(),
	detail: z.string().optional(),
});
const FlowPage = z.object({
	events: z.array(FlowEvent),
	cursor: z.number().int().describe("Where to ask from next (?after=)"),
});

const OrderMatch = z.object({
	key: z.string(),
	name: z.string().nullable(),
	connection: z.string().nullable(),
	status: z.string().nullable(),
	updatedAt: z.string(),
});

/** A JSON object the code types only as `object` (a delivery's payload and result). */
const JsonObject = z.custom<object>((value) => typeof value === "object" && value !== null && !Array.isArray(value));

const Attempt = z.object({
	at: z.string(),
	ms: z.number(),
	ok: z.boolean(),
	error: z.string().optional(),
	retryable: z.boolean().optional(),
	retryAfterMs: z.number().optional(),
});
/** durable-objects/outbox.ts: one outbound delivery of an order, payout or trading partner. */
const Delivery = z.object({
	id: z.string(),
	kind: z.string().describe("e.g. 3pl.order, channel.fulfillment, erp.order"),
	destination: z.string().describe("Its gate: 3pl:<id>, channel:<connection>, tracking:<id>, erp:<id>"),
	status: z.enum(["pending", "delivered", "dead", "cancelled"]),
	after: z.string().nullable(),
	attempts: z.number().int(),
	nextAttemptAt: z.string().nullable(),
	waiting: z.string().nullable(),
	createdAt: z.string(),
	updatedAt: z.string(),
	lastError: z.string().nullable(),
	payload: JsonObject,
	result: JsonObject.nullable(),
	history: z.array(Attempt),
});

const ExceptionKind = z.enum(["quarantine", "failure", "gap", "dead-letter", "unroutable", "shipment", "settlement"]);
const ExceptionFields = {
	id: z.string(),
	kind: ExceptionKind,
	status: z.enum(["open", "resolved"]),
	reason: z.string(),
	connection: z.string().nullable(),
	channel: z.string().nullable(),
	topic: z.string().nullable(),
	eventId: z.string().nullable(),
	orderKey: z.string().nullable(),
	orderName: z.string().nullable(),
	triggeredAt: z.string().nullable(),
	receivedAt: z.string().nullable(),
	attempts: z.number().int(),
	createdAt: z.string(),
	updatedAt: z.string(),
	resolution: z.string().nullable(),
};
const ExceptionSummary = z.object({ ...ExceptionFields, bodyBytes: Count });
const ExceptionDetail = z.object({
	...ExceptionFields,
	rawBody: z.string().nullable().describe("A quarantined webhook's body as received"),
	delivery: Delivery.optional().describe("For a dead letter: the delivery and its attempt history"),
});

const PayoutEntry = z.object({
	payoutKey: z.string(),
	connection: z.string(),
	channel: z.string(),
	payoutId: z.string(),
	currency: z.string(),
	total: z.number().int().describe("Minor units of `currency`"),
	paidAt: z.string().nullable(),
	status: z.string(),
	summary: z.unknown(),
	exceptions: Count,
	updatedAt: z.string(),
});

const Destination = z.object({
	destination: z.string(),
	inFlight: Count,
	limit: z.number().int(),
	waiting: Count,
	circuit: z.enum(["closed", "open", "half-open"]),
	consecutiveFailures: Count,
	lastError: z.string().nullable(),
	openedAt: z.string().nullable(),
	retryAt: z.string().nullable(),
	pausedUntil: z.string().nullable(),
});

// The larger views: the fields below are typed, the rest is described in words (loose objects).
const OrderView = z.looseObject({
	key: z.string(),
	status: z.enum(OrderStatus).nullable(),
	idle: z.boolean().describe("Nothing in flight or due for this order: no saga step, routing or delivery waiting"),
	order: CanonicalOrder.nullable(),
	lines: z.array(
		z.looseObject({
			lineId: z.string(),
			sku: z.string(),
			target: z.number().int(),
			reserved: z.number().int(),
			backordered: z.number().int(),
			committed: z.number().int(),
			shipped: z.number().int(),
			pending: z.boolean(),
		}),
	),
	routing: z.looseObject({ status: z.enum(["routed", "unroutable", "retry"]), since: z.string() }).nullable(),
	settlements: z.record(z.string(), z.number()).describe("Gross settled for this order, by payout (<connection>:<payout id>)"),
	routes: z.array(z.looseObject({ referenceId: z.string(), location: z.string(), threePl: z.string(), status: z.string() })),
	shipments: z.array(z.looseObject({ shipmentId: z.string(), referenceId: z.string(), status: z.string() })),
	deliveries: z.array(Delivery),
	events: z.array(
		z.looseObject({
			seq: z.number().int(),
			eventId: z.string().nullable(),
			source: z.string(),
			type: z.string(),
			at: z.string(),
			outcome: z.string().nullable(),
			body: z.string().describe("The stored raw body"),
		}),
	),
});

const SkuDetail = z.looseObject({
	...Availability.shape,
	locations: z.array(z.object({ location: z.string(), onHand: z.number().int(), asOf: z.string(), source: z.string() })),
	reservations: z.array(z.object({ orderKey: z.string(), lineId: z.string(), requested: z.number().int(), quantity: z.number().int(), status: z.string() })),
	gaps: z.array(z.object({ source: z.string(), expected: z.number().int(), parked: z.array(z.number().int()) })),
});

const PayoutReport = z.looseObject({
	payoutKey: z.string(),
	connection: z.string(),
	channel: PayoutChannel,
	payoutId: z.string(),
	currency: z.string(),
	total: z.number().int().describe("Minor units of `currency`"),
	periodStart: z.string().nullable(),
	periodEnd: z.string().nullable(),
	paidAt: z.string().nullable(),
	via: z.string(),
	receivedAt: z.string(),
	status: z.string(),
	reconciledAt: z.string().nullable(),
	exceptions: z.array(z.object({ id: z.string(), reason: z.string(), variance: z.number().int() })),
	erp: z.enum(["reconciled", "posting", "posted", "failed"]),
	deliveries: z.array(Delivery),
});
const IngestedPayout = z.object({ status: z.enum(["reconciled", "duplicate"]), report: PayoutReport });
const SyncReport = z.object({
	total: Count,
	reconciled: Count,
	results: z.array(
		z.union([
			z.object({ payoutId: z.string(), ok: z.literal(true), status: z.enum(["reconciled", "duplicate"]), summary: z.unknown(), exceptions: Count }),
			z.object({ payoutId: z.string(), ok: z.literal(false), error: z.string() }),
		]),
	),
});

const PartnerView = z.looseObject({
	connection: z.string(),
	controls: z.object({ isa: z.number().int(), gs: z.number().int(), st: z.number().int(), updatedAt: z.string() }).nullable(),
	interchanges: z.array(z.looseObject({ seq: z.number().int(), sender: z.string(), control: z.string(), receivedAt: z.string() })),
	receipts: z.array(z.looseObject({ eventId: z.string(), functionalId: z.string(), status: z.string() })),
	deliveries: z.array(Delivery),
});

const EdiReceipt = z.object({
	status: z.enum(["stored", "duplicate"]),
	control: z.string().describe("ISA13 of the interchange received"),
	orders: z.array(z.string()),
	rejected: z.array(z.object({ eventId: z.string(), error: z.string() })),
	ignored: z.array(z.object({ eventId: z.string(), reason: z.string() })),
	receipts: Count,
	acknowledgment: z.string().nullable().describe("ISA13 of the 997 answered, when any group needed one"),
	acknowledgmentInterchange: z.string().nullable().describe("The 997 interchange itself"),
});

const WebhookAck = z.looseObject({
	status: z.string().describe("applied, duplicate, stale, stored, accepted, ignored, quarantined (… per order, comma-separated)"),
	eventId: z.string().optional(),
});

const Replayed = z.object({ status: z.literal("replayed"), order: z.string().optional(), outcome: z.string() });
const Retrying = z.object({ status: z.literal("retrying"), order: z.string(), delivery: z.string() });
const Closed = z.union([
	z.object({ status: z.literal("resolved"), id: z.string() }),
	z.object({ status: z.literal("cancelled"), order: z.string(), delivery: z.string() }),
]);
const BulkReplayReport = z.object({
	total: Count,
	succeeded: Count,
	results: z.array(
		z.union([
			z.looseObject({ id: z.string(), ok: z.literal(true), httpStatus: z.number().int(), status: z.string() }),
			z.object({ id: z.string(), ok: z.literal(false), httpStatus: z.number().int(), code: z.string(), message: z.string() }),
		]),
	),
});

const Counter = z.object({ name: z.string(), connection: z.string().nullable(), total: Count, recent: Count });
const Metrics = z.object({
	since: z.string().describe("Start of the hour `recent` counts from"),
	hours: z.number().int(),
	groups: z.record(z.string(), z.object({ total: Count, recent: Count })),
	counters: z.array(Counter),
});

const SweepRun = z.looseObject({
	id: z.number().int(),
	trigger: z.enum(["cron", "manual", "retry"]),
	status: z.enum(["running", "complete", "partial", "rate_limited", "failed", "interrupted"]),
	startedAt: z.string(),
	finishedAt: z.string().nullable(),
	pages: Count,
	ordersSeen: Count,
	recovered: Count,
	updated: Count.describe("Known orders brought up to a newer version whose webhook never came"),
	duplicates: Count,
	stale: Count,
	failed: Count,
	recoveredOrders: z.array(z.string()).describe("Keys of the orders this run recovered (the first hundred)"),
	error: z.string().nullable(),
	nextCursor: z.string().nullable(),
	retryAt: z.string().nullable(),
});
const SweepSettings = z.looseObject({ lookbackHours: z.number(), overlapMinutes: z.number().int(), maxPagesPerRun: z.number().int() });
const SweepList = z.object({
	settings: SweepSettings,
	items: z.array(
		z.union([
			z.object({ connection: z.string(), channel: z.string(), skipped: z.string().describe("Why this connection is not swept") }),
			z.looseObject({ connection: z.string(), channel: z.string(), cursor: z.string().nullable(), retryAt: z.string().nullable(), running: z.boolean(), lastRun: SweepRun.nullable(), runs: z.array(SweepRun) }),
		]),
	),
});

const PrivacyStatus = z.enum(["pending", "partial", "done"]);
const PrivacyAccepted = z.object({ id: z.string(), status: PrivacyStatus, href: z.string() });
const PrivacyRequest = z.looseObject({
	id: z.string(),
	kind: z.enum(["redact", "export"]),
	source: z.string(),
	connection: z.string(),
	scope: z.object({ orders: z.array(z.string()), subjects: Count.describe("How many people it names (digests only)"), shop: z.boolean() }),
	status: PrivacyStatus,
	attempts: Count,
	lastError: z.string().nullable(),
	createdAt: z.string(),
	updatedAt: z.string(),
	result: z.looseObject({ unknown: z.array(z.string()), quarantined: Count, monitorRows: Count }).nullable(),
	data: z
		.looseObject({ connection: z.string(), orders: z.array(z.looseObject({})), quarantined: z.array(z.looseObject({ exceptionId: z.string() })) })
		.optional()
		.describe("For an export: the personal data held now, by order, and in quarantined webhooks"),
});

const Health = z.object({ ok: z.literal(true), connections: z.array(z.string()) });

// --- The operations ---

type Method = "get" | "post" | "put" | "patch" | "delete" | "options";
type Ref = { $ref: string };
type Tag = "webhooks" | "inventory" | "availability" | "ops" | "privacy" | "settlements" | "meta";

interface Operation {
	method: Method;
	/** OpenAPI form: `/ops/orders/{id}`. */
	path: string;
	operationId: string;
	tag: Tag;
	summary: string;
	description?: string;
	/** The ops token scope the route's guard asks for (worker/router.ts requireRead/requireOps/requireAdmin). */
	role?: OpsRole;
	/** Security requirements other than a role's: optional auth, say. */
	security?: Json[];
	/** A webhook authenticated by an Authorization header of its own (OpenAPI ignores header parameters of that name). */
	scheme?: "tiktokSignature" | "ediGatewayToken";
	/** Descriptions of the `{name}` segments of `path`. */
	pathParams?: Record<string, string>;
	parameters?: Json[];
	requestBody?: Json;
	/** Successful answers, by status. */
	responses: Record<number, Json>;
	/** Error answers (all with the common error body), by status: what each means here. */
	errors?: Record<number, string>;
}

const json = (schema: Ref | Json): Json => ({ "application/json": { schema } });
const answer = (description: string, schema?: Ref, headers?: Json): Json => ({ description, ...(schema && { content: json(schema) }), ...(headers && { headers }) });
const query = (name: string, description: string, schema: Json, required = false): Json => ({ name, in: "query", description, required, schema });
const header = (name: string, description: string, required = true): Json => ({ name, in: "header", description, required, schema: { type: "string" } });
const integer = (extra: Json = {}): Json => ({ type: "integer", ...extra });

const WEBHOOK_TOO_LARGE = `the body is over ${MAX_WEBHOOK_BYTES} bytes`;
const BAD_UTF8 = "the body is not UTF-8";

/** A schema as a component: `add(id, schema)` registers it for generation and answers its $ref. */
type Add = (id: string, schema: z.ZodType) => Ref;

function operations(input: Add, output: Add): Operation[] {
	output("Error", ErrorBody);
	const ack = output("WebhookAck", WebhookAck);
	const webhookAck = (what: string) => ({ 200: answer(what, ack) });
	return [
		// Inbound webhooks: each channel's own signature, never the ops token.
		{
			method: "post",
			path: "/webhooks/shopify/{connection}",
			operationId: "receiveShopifyWebhook",
			tag: "webhooks",
			summary: "Shopify webhooks (orders/*, refunds/create, and the compliance topics): verify, store durably, acknowledge",
			description:
				"For Shopify. Everything validly signed is acknowledged with 200 once stored: unusable bodies are quarantined for operators, unknown topics ignored, redeliveries (same X-Shopify-Event-Id) change nothing. The compliance topics (customers/data_request, customers/redact, shop/redact) are read, never stored: the privacy request is recorded (`request` names it; status accepted, duplicate or unusable).",
			pathParams: { connection: "A configured Shopify connection id" },
			parameters: [
				header("X-Shopify-Hmac-Sha256", "base64 HMAC-SHA256 of the raw body with the connection's signing secret"),
				header("X-Shopify-Topic", "e.g. orders/create, orders/updated, refunds/create", false),
				header("X-Shopify-Event-Id", "Deduplication key (else X-Shopify-Webhook-Id, else a hash of topic and body)", false),
				header("X-Shopify-Webhook-Id", "Deduplication key when X-Shopify-Event-Id is absent", false),
				header("X-Shopify-Triggered-At", "Shopify's time for the event", false),
			],
			requestBody: { required: true, description: "Shopify's webhook payload for the topic (the Order or Refund resource), as sent", content: { "application/json": {} } },
			responses: webhookAck("Stored (applied, duplicate, stale), ignored or quarantined; `order` names the order key"),
			errors: { 401: "X-Shopify-Hmac-Sha256 does not match the body", 404: "no Shopify connection by that id", 413: WEBHOOK_TOO_LARGE },
		},
		{
			method: "post",
			path: "/webhooks/shipbob/{threePl}",
			operationId: "receiveShipBobWebhook",
			tag: "webhooks",
			summary: "ShipBob ship notices (Standard Webhooks): each shipment handed to its order",
			description: "For ShipBob. Stored with its order before the 200; redeliveries (same webhook-id) change nothing; a notice ordersync cannot use is quarantined and acknowledged.",
			pathParams: { threePl: "A configured 3PL account id" },
			parameters: [
				header(SHIPBOB_HEADERS.id, "Standard Webhooks message id; the deduplication key"),
				header(SHIPBOB_HEADERS.timestamp, "Unix seconds; refused when more than 5 minutes off"),
				header(SHIPBOB_HEADERS.signature, "v1,<base64 HMAC-SHA256 of `id.timestamp.body`> (space-separated list)"),
				header(SHIPBOB_HEADERS.topic, "e.g. order.shipped", false),
			],
			requestBody: { required: true, description: "ShipBob's webhook payload, as sent", content: { "application/json": {} } },
			responses: webhookAck("accepted (with `shipments`), ignored (with `reason`) or quarantined"),
			errors: { 400: BAD_UTF8, 401: "webhook-signature does not match, or webhook-timestamp is outside 5 minutes", 404: "no 3PL account by that id", 413: WEBHOOK_TOO_LARGE },
		},
		{
			method: "post",
			path: "/webhooks/easypost/{account}",
			operationId: "receiveEasyPostWebhook",
			tag: "webhooks",
			summary: "EasyPost tracker.updated events: stored on the parcel, forwarded to its order",
			pathParams: { account: "A configured tracking account id" },
			parameters: [header("X-Hmac-Signature", "hmac-sha256-hex=<HMAC-SHA256 of the body with the webhook secret>")],
			requestBody: { required: true, description: "EasyPost's Event object, as sent", content: { "application/json": {} } },
			responses: webhookAck("The parcel's answer (`status`, `linked`, `eventId`), ignored (with `reason`) or quarantined"),
			errors: { 400: BAD_UTF8, 401: "X-Hmac-Signature does not match the body", 404: "no tracking account by that id", 413: WEBHOOK_TOO_LARGE },
		},
		{
			method: "post",
			path: "/webhooks/tiktok/{connection}",
			operationId: "receiveTikTokWebhook",
			tag: "webhooks",
			summary: "TikTok Shop order notifications: stored on each order, which then fetches the order",
			description: `For TikTok Shop. \`${TIKTOK_SIGNATURE_HEADER}\` carries hex HMAC-SHA256(app secret, app key + body) (the tiktokSignature scheme).`,
			scheme: "tiktokSignature",
			pathParams: { connection: "A configured TikTok Shop connection id" },
			requestBody: { required: true, description: "TikTok Shop's notification, as sent", content: { "application/json": {} } },
			responses: webhookAck("stored/duplicate per order (with `orders`), ignored or quarantined"),
			errors: { 400: BAD_UTF8, 401: "the signature does not match", 404: "no TikTok Shop connection by that id", 413: WEBHOOK_TOO_LARGE },
		},
		{
			method: "post",
			path: "/webhooks/amazon/{connection}",
			operationId: "receiveAmazonWebhook",
			tag: "webhooks",
			summary: "Amazon SP-API ORDER_CHANGE notifications from an EventBridge API destination",
			description: "For Amazon, via SQS and an EventBridge Pipe: the SP-API notification, an EventBridge event or an SQS message. API destinations cannot sign: the connection authenticates with a static API key header.",
			pathParams: { connection: "A configured Amazon connection id" },
			parameters: [header("x-api-key", "The API destination's key (or the header the connection's amazon.notificationHeader names)")],
			requestBody: { required: true, description: "One ORDER_CHANGE notification, in one of the envelopes above", content: { "application/json": {} } },
			responses: webhookAck("stored/duplicate (with `orders`), ignored or quarantined"),
			errors: { 400: BAD_UTF8, 401: "the API key header is missing or wrong", 404: "no Amazon connection by that id", 413: WEBHOOK_TOO_LARGE },
		},
		{
			method: "post",
			path: "/webhooks/woocommerce/{connection}",
			operationId: "receiveWooCommerceWebhook",
			tag: "webhooks",
			summary: "WooCommerce order webhooks, and the unsigned ping sent when a webhook is created",
			description: "For WooCommerce, which never retries and disables failing webhooks: anything signed is acknowledged. The creation ping (form body `webhook_id=<id>`, no signature) gets exactly 200 `{ status: pong }`.",
			pathParams: { connection: "A configured WooCommerce connection id" },
			parameters: [
				header(WOOCOMMERCE_HEADERS.signature, "base64 HMAC-SHA256 of the body with the webhook secret (absent on the ping)", false),
				header(WOOCOMMERCE_HEADERS.topic, "e.g. order.created, order.updated, order.deleted", false),
				header(WOOCOMMERCE_HEADERS.deliveryId, `Deduplication key (or ${WOOCOMMERCE_HEADERS.deliveryIdAsDocumented})`, false),
				header(WOOCOMMERCE_HEADERS.webhookId, "The webhook's id", false),
			],
			requestBody: {
				required: true,
				description: "The REST order resource as WooCommerce sends it; or the ping",
				content: { "application/json": {}, "application/x-www-form-urlencoded": { schema: { type: "object", properties: { webhook_id: { type: "string" } } } } },
			},
			responses: webhookAck("applied/duplicate/stale (with `orders`), ignored, quarantined, or pong (with `webhookId`)"),
			errors: { 400: BAD_UTF8, 401: "X-WC-Webhook-Signature does not match the body", 404: "no WooCommerce connection by that id", 413: WEBHOOK_TOO_LARGE },
		},
		{
			method: "post",
			path: "/webhooks/edi/{connection}",
			operationId: "receiveEdiWebhook",
			tag: "webhooks",
			summary: "One X12 interchange from a trading partner's AS2/VAN gateway; answered with its 997",
			description:
				"For EDI trading partners, with the gateway's bearer token (the ediGatewayToken scheme, not the ops token). Stored with each 850's hand-off to its order before the answer; the same interchange again is answered the same way and changes nothing. The 200 body is the 997 interchange (X-Ordersync-Status and X-Ordersync-Orders headers say what was stored), or JSON when the request accepts only JSON or nothing needed a 997.",
			scheme: "ediGatewayToken",
			pathParams: { connection: "A configured EDI connection id" },
			requestBody: { required: true, description: "The X12 interchange text", content: { [EDI_CONTENT_TYPE]: { schema: { type: "string" } }, "text/plain": { schema: { type: "string" } } } },
			responses: {
				200: {
					description: "Stored (or a duplicate): the 997 acknowledgment, or a JSON summary",
					headers: {
						"X-Ordersync-Status": { description: "stored or duplicate (997 answers only)", schema: { type: "string" } },
						"X-Ordersync-Orders": { description: "Order keys the interchange reached, space-separated (997 answers only)", schema: { type: "string" } },
					},
					content: { [EDI_CONTENT_TYPE]: { schema: { type: "string" } }, ...json(output("EdiReceipt", EdiReceipt)) },
				},
			},
			errors: {
				400: "the envelope cannot be trusted (the reader's error), or the body is not UTF-8; nothing stored",
				401: "Authorization: Bearer <gateway token> is missing or wrong",
				404: "no EDI connection by that id",
				409: "an interchange control number (ISA13) reused with other content",
				413: WEBHOOK_TOO_LARGE,
			},
		},

		// Stock feeds (warehouse systems) and availability (storefronts).
		{
			method: "post",
			path: "/v1/inventory/snapshots",
			operationId: "postSnapshot",
			tag: "inventory",
			summary: "Absolute on-hand counts per SKU and location from a warehouse system",
			description: "For WMS/ERP feeds. A snapshot older than the count a location already has changes nothing and is reported stale.",
			role: "operator",
			requestBody: { required: true, content: json(input("InventorySnapshot", InventorySnapshot)) },
			responses: { 200: answer("Each item's outcome, and how many were applied or stale", output("SnapshotResult", SnapshotResult)) },
			errors: { 400: "not JSON, or a field is invalid (the message names it)" },
		},
		{
			method: "post",
			path: "/v1/inventory/deltas",
			operationId: "postDeltas",
			tag: "inventory",
			summary: "Relative stock changes from a feed, sequenced per source and SKU",
			description: "For feeds of movements. Duplicates (a seq already seen) change nothing; a seq that skips ahead is parked as a gap, raised as an exception, until the missing ones arrive.",
			role: "operator",
			requestBody: { required: true, content: json(input("InventoryDeltas", InventoryDeltas)) },
			responses: { 200: answer("Each item's outcome, and how many were applied, duplicates or gaps", output("DeltaResult", DeltaResult)) },
			errors: { 400: "not JSON, or a field is invalid (the message names it)" },
		},
		{
			method: "post",
			path: "/v1/inventory/returns",
			operationId: "postReturns",
			tag: "inventory",
			summary: "Return receipts: units back on the shelf at the receiving location, once per receipt",
			role: "operator",
			requestBody: { required: true, content: json(input("ReturnReceipts", ReturnReceipts)) },
			responses: { 200: answer("Each receipt's outcome (a receipt id seen before is a duplicate)", output("ReturnResult", ReturnResult)) },
			errors: { 400: "not JSON, or a field is invalid (the message names it)" },
		},
		{
			method: "get",
			path: "/v1/availability",
			operationId: "getAvailability",
			tag: "availability",
			summary: "Live availability of up to 100 SKUs (bundles from their components), for storefronts",
			description:
				"Public: storefront traffic is rate-limited per client IP and may be answered from the edge cache for a few seconds (Cache-Control says how long). Callers with any ops token read live and unlimited (Cache-Control: no-store). Browsers on the configured storefront origins get CORS headers (Access-Control-Allow-Origin: <origin>, Vary: Origin). Unknown SKUs answer 0.",
			security: [{}, { opsToken: ["read"] }],
			parameters: [{ ...query("sku", "A SKU; repeat for more (?sku=A&sku=B)", inline(AvailabilityQuery), true), style: "form", explode: true }],
			responses: {
				200: answer("One item per distinct SKU asked, in the order asked", output("AvailabilityResult", AvailabilityResult), {
					"Cache-Control": { description: "public, max-age=<cache seconds> for storefronts; no-store for ops tokens", schema: { type: "string" } },
				}),
			},
			errors: { 400: "no ?sku=, more than 100, or an empty one", 429: "too many requests from this client (rate_limited); Retry-After says when to try again" },
		},
		{
			method: "options",
			path: "/v1/availability",
			operationId: "preflightAvailability",
			tag: "availability",
			summary: "CORS preflight for storefront browsers",
			responses: {
				204: {
					description: "Allow-Origin for configured storefront origins only; methods GET, OPTIONS; max age 600 s",
					headers: {
						"Access-Control-Allow-Origin": { schema: { type: "string" } },
						"Access-Control-Allow-Methods": { schema: { type: "string" } },
						"Access-Control-Max-Age": { schema: { type: "string" } },
					},
				},
			},
		},

		// Operations: the console and people with an ops token.
		{
			method: "get",
			path: "/ops/whoami",
			operationId: "whoami",
			tag: "ops",
			summary: "Which scope the presented ops token has",
			role: "read",
			responses: { 200: answer("The token's role", output("WhoAmI", z.object({ role: OpsRole }))) },
		},
		{
			method: "get",
			path: "/ops/stream",
			operationId: "openStream",
			tag: "ops",
			summary: "The live flow stream for consoles: a hibernating WebSocket",
			description: "Upgrade: websocket. Frames are JSON: hello, then every kept event after ?after= (or the latest few), then each new event as it is recorded.",
			role: "read",
			parameters: [query("after", "Resume after this cursor", integer({ minimum: 0 }))],
			responses: { 101: { description: "Switching to the WebSocket protocol" } },
			errors: { 426: "not a WebSocket upgrade" },
		},
		{
			method: "get",
			path: "/ops/flows",
			operationId: "listFlows",
			tag: "ops",
			summary: "Recent flow events, oldest first, resumable by cursor",
			role: "read",
			parameters: [query("after", "Only events after this cursor", integer({ minimum: 0, default: 0 })), query("limit", "At most this many (capped at 1000)", integer({ minimum: 1, default: 200 }))],
			responses: { 200: answer("Events and the cursor to ask from next", output("FlowPage", FlowPage)) },
			errors: { 400: "after or limit is not a non-negative integer" },
		},
		{
			method: "get",
			path: "/ops/orders",
			operationId: "findOrders",
			tag: "ops",
			summary: "Orders by the name people use (#1001), most recently active first",
			role: "read",
			parameters: [query("name", "The order's name, e.g. %231001", { type: "string", minLength: 1 }, true)],
			responses: { 200: answer("Matching orders (at most 50)", output("OrderMatches", z.object({ items: z.array(OrderMatch) }))) },
			errors: { 400: "no ?name=" },
		},
		{
			method: "get",
			path: "/ops/orders/{id}",
			operationId: "getOrder",
			tag: "ops",
			summary: "One order: canonical order, state, lines, routes, shipments, deliveries and its full event log",
			role: "read",
			pathParams: { id: "The order key: <connection>:<channel order id> (URL-encoded)" },
			responses: { 200: answer("Everything an operator needs to explain the order", output("OrderView", OrderView)) },
			errors: { 400: "the id is not <connection>:<channel order id>", 404: "no such order" },
		},
		{
			method: "get",
			path: "/ops/skus/{sku}",
			operationId: "getSku",
			tag: "ops",
			summary: "One SKU: availability, stock by location, reservations, backorders, gaps, pushes and audit trail",
			role: "read",
			pathParams: { sku: "The brand's SKU (URL-encoded)" },
			responses: { 200: answer("The ledger's detail (zeros for a SKU never stocked); also backorders, assignments, pushes and the latest audit rows", output("SkuDetail", SkuDetail)) },
		},
		{
			method: "get",
			path: "/ops/partners/{connection}",
			operationId: "getPartner",
			tag: "ops",
			summary: "An EDI trading partner: control numbers, interchanges, receipts (997s) and deliveries",
			role: "read",
			pathParams: { connection: "A configured EDI connection id" },
			parameters: [query("limit", "Rows per list (capped at 500)", integer({ minimum: 1, default: 50 }))],
			responses: { 200: answer("The partner's view; each interchange row also carries its summary (orders, rejected, ignored, receipts)", output("PartnerView", PartnerView)) },
			errors: { 400: "limit is not a positive integer", 404: "no EDI connection by that id" },
		},
		{
			method: "post",
			path: "/ops/skus/{sku}/adjustments",
			operationId: "postAdjustment",
			tag: "ops",
			summary: "An operator's audited correction of one location's count (damaged, found, recount)",
			description: "On-hand never goes below 0: a larger negative delta takes it to 0.",
			role: "operator",
			pathParams: { sku: "The brand's SKU (URL-encoded)" },
			requestBody: { required: true, content: json(input("StockAdjustment", StockAdjustment)) },
			responses: { 200: answer("The location's on-hand after the correction", output("AdjustmentResult", z.object({ onHand: z.number().int() }))) },
			errors: { 400: "not JSON, or a field is invalid (the message names it)" },
		},
		{
			method: "get",
			path: "/ops/exceptions",
			operationId: "listExceptions",
			tag: "ops",
			summary: "The exceptions desk: quarantined webhooks, failed steps, gaps, dead letters, unroutable orders, payout variances",
			role: "read",
			parameters: [query("status", "Which ones", { type: "string", enum: ["open", "resolved", "all"], default: "open" })],
			responses: { 200: answer("Newest first (at most 200), without raw bodies", output("ExceptionList", z.object({ items: z.array(ExceptionSummary) }))) },
			errors: { 400: "status is not open, resolved or all" },
		},
		{
			method: "post",
			path: "/ops/exceptions/replay",
			operationId: "replayMany",
			tag: "ops",
			summary: "Replay or retry many exceptions at once (by ids, or every open one of a kind)",
			role: "operator",
			requestBody: { required: true, content: json(input("BulkReplay", BulkReplay)) },
			responses: { 200: answer("Each id's outcome and the status a single replay would have answered", output("BulkReplayReport", BulkReplayReport)) },
			errors: { 400: "not JSON, or neither ids nor kind given" },
		},
		{
			method: "get",
			path: "/ops/exceptions/{id}",
			operationId: "getException",
			tag: "ops",
			summary: "One exception with its raw body, or its dead-lettered delivery and attempt history",
			role: "read",
			pathParams: { id: "The exception id (URL-encoded)" },
			responses: { 200: answer("The exception", output("ExceptionDetail", ExceptionDetail)) },
			errors: { 404: "no such exception" },
		},
		{
			method: "post",
			path: "/ops/exceptions/{id}/replay",
			operationId: "replayException",
			tag: "ops",
			summary: "Re-run a quarantined webhook through today's adapter, or retry a dead letter (optionally with an edited payload)",
			description: "A replay keeps the webhook's original event id, so a second replay changes nothing. An empty body replays as stored.",
			role: "operator",
			pathParams: { id: "The exception id (URL-encoded)" },
			requestBody: { required: false, content: json(input("RetryBody", RetryBody)) },
			responses: {
				200: answer("A quarantined webhook replayed; the exception is resolved", output("Replayed", Replayed)),
				202: answer("A dead letter queued for another attempt; the exception clears when it is delivered", output("Retrying", Retrying)),
			},
			errors: {
				400: "the body is not JSON or not `{ payload }`",
				404: "no such exception or delivery",
				409: "not replayable (only quarantined webhooks and dead letters are), or the delivery cannot be retried now",
				422: "still invalid under today's adapter (still_invalid); the attempt is noted",
			},
		},
		{
			method: "post",
			path: "/ops/exceptions/{id}/cancel",
			operationId: "cancelException",
			tag: "ops",
			summary: "Give up on a dead letter for good, or close a reviewed payout exception",
			role: "operator",
			pathParams: { id: "The exception id (URL-encoded)" },
			responses: { 200: answer("resolved (a payout exception) or cancelled (a delivery)", output("Closed", Closed)) },
			errors: { 404: "no such exception or delivery", 409: "not cancellable (only dead letters and payout exceptions are), or the delivery is no longer dead" },
		},
		{
			method: "get",
			path: "/ops/destinations",
			operationId: "listDestinations",
			tag: "ops",
			summary: "Each outbound destination's in-flight requests, concurrency limit and circuit",
			role: "read",
			responses: { 200: answer("One item per 3PL, channel and tracking destination", output("DestinationList", z.object({ items: z.array(Destination) }))) },
		},

		{
			method: "get",
			path: "/ops/metrics",
			operationId: "getMetrics",
			tag: "ops",
			summary: "Flow event counters by type and connection: totals since counting began, and over the last hours",
			description: "For dashboards and scrapers. With Accept: text/plain (or ?format=prometheus) the totals come in Prometheus text format (ordersync_flow_events_total).",
			role: "read",
			parameters: [
				query("hours", "The window of `recent`", integer({ minimum: 1, maximum: 168, default: 24 })),
				query("format", "prometheus for the text format", { type: "string", enum: ["prometheus"] }),
			],
			responses: {
				200: {
					description: "Counters, and sums of them for webhooks, deliveries, failures and pushes",
					content: { ...json(output("Metrics", Metrics)), "text/plain": { schema: { type: "string" } } },
				},
			},
			errors: { 400: "hours is not a whole number from 1 to 168" },
		},

		{
			method: "get",
			path: "/ops/sweeps",
			operationId: "listSweeps",
			tag: "ops",
			summary: "Every connection's reconciliation sweep: cursor, part-read window, rate-limit wait and recent runs",
			description: "Connections that are not swept say why (`skipped`).",
			role: "read",
			parameters: [query("runs", "Recent runs per connection", integer({ minimum: 1, maximum: 50, default: 5 }))],
			responses: { 200: answer("The sweep settings and one item per connection", output("SweepList", SweepList)) },
			errors: { 400: "runs is not a whole number from 1 to 50" },
		},
		{
			method: "post",
			path: "/ops/sweeps/{connection}/run",
			operationId: "runSweep",
			tag: "ops",
			summary: "Sweep one connection now: re-read its orders from the channel and feed what webhooks missed",
			role: "operator",
			pathParams: { connection: "A configured connection id" },
			responses: { 200: answer("The run, once it is done", output("SweepRun", SweepRun)) },
			errors: {
				404: "no connection by that id",
				409: "the connection is not swept (not_swept, unsupported), or a sweep is already running",
				429: "the channel asked to wait (rate_limited); Retry-After says how long",
			},
		},
		{
			method: "post",
			path: "/ops/privacy/redactions",
			operationId: "postRedaction",
			tag: "privacy",
			summary: "Redact a customer's personal data (by email, phone or id), given orders', or a whole connection's",
			description: "Stored before it is answered, then carried out and retried until done; the request keeps order ids and SHA-256 digests, never the values. Poll Location for its status.",
			role: "admin",
			requestBody: { required: true, content: json(input("RedactionBody", RedactionBody)) },
			responses: {
				202: answer("Accepted", output("PrivacyAccepted", PrivacyAccepted), { Location: { description: "/ops/privacy/requests/<id>", schema: { type: "string" } } }),
			},
			errors: { 400: "not JSON, a field is invalid, or nothing named", 404: "no connection by that id" },
		},
		{
			method: "post",
			path: "/ops/privacy/data-requests",
			operationId: "postDataRequest",
			tag: "privacy",
			summary: "Export the personal data held about a customer or orders (the request is recorded; GET reads it again)",
			role: "admin",
			requestBody: { required: true, content: json(input("DataRequestBody", DataRequestBody)) },
			responses: { 200: answer("The request, with `data`: what is held now", output("PrivacyRequest", PrivacyRequest)) },
			errors: { 400: "not JSON, a field is invalid, or no customer or orders named", 404: "no connection by that id" },
		},
		{
			method: "get",
			path: "/ops/privacy/requests/{id}",
			operationId: "getPrivacyRequest",
			tag: "privacy",
			summary: "A privacy request's status and result; an export carries the data as held now",
			role: "admin",
			pathParams: { id: "The request id (ops-<uuid>, or shopify:<connection>:<event id>)" },
			responses: { 200: answer("The request", { $ref: "#/components/schemas/PrivacyRequest" }) },
			errors: { 404: "no such request" },
		},

		// Settlements: payouts reconciled against orders.
		{
			method: "get",
			path: "/ops/settlements",
			operationId: "listPayouts",
			tag: "settlements",
			summary: "Payouts, most recently changed first, with their reconciliation at a glance",
			role: "read",
			parameters: [query("limit", "At most this many (capped at 1000)", integer({ minimum: 1, default: 100 }))],
			responses: { 200: answer("The payouts", output("PayoutList", z.object({ items: z.array(PayoutEntry) }))) },
			errors: { 400: "limit is not a positive integer" },
		},
		{
			method: "get",
			path: "/ops/settlements/{connection}/{payoutId}",
			operationId: "getPayout",
			tag: "settlements",
			summary: "One payout's reconciliation report: totals, each line's match, exceptions, ERP postings",
			role: "read",
			pathParams: { connection: "The payout's connection id", payoutId: "The channel's payout id (Shopify payout, TikTok statement, Amazon settlement-id)" },
			responses: { 200: answer("The report; also `summary`, `lines` (each line's match) and `postings` once reconciled", output("PayoutReport", PayoutReport)) },
			errors: { 404: "no such payout" },
		},
		{
			method: "post",
			path: "/ops/settlements/{connection}/amazon-report",
			operationId: "uploadAmazonReport",
			tag: "settlements",
			summary: "Upload an Amazon V2 settlement report (flat file, as downloaded) and reconcile it",
			role: "operator",
			pathParams: { connection: "A configured Amazon connection id" },
			requestBody: { required: true, description: "The tab-separated V2 flat file, UTF-8, at most 20 MiB", content: { "text/tab-separated-values": { schema: { type: "string" } }, "text/plain": { schema: { type: "string" } } } },
			responses: {
				201: answer("Reconciled", output("IngestedPayout", IngestedPayout)),
				200: answer("The same report again: nothing changed", { $ref: "#/components/schemas/IngestedPayout" }),
			},
			errors: {
				400: "not UTF-8, or not a V2 settlement report (the reader's error)",
				404: "no Amazon connection by that id",
				409: "a payout by that id was already received with other content",
				413: "over 20 MiB",
				422: "the payout is invalid",
			},
		},
		{
			method: "post",
			path: "/ops/settlements/{connection}/sync",
			operationId: "syncPayouts",
			tag: "settlements",
			summary: "Fetch payouts from the channel's finance API (TikTok Shop statements, Shopify Payments payouts) and reconcile each",
			description: "Re-fetching a payout changes nothing. Amazon settlements are uploaded instead (409 upload_required).",
			role: "operator",
			pathParams: { connection: "A configured connection id" },
			requestBody: { required: true, content: json(input("SyncBody", SyncBody)) },
			responses: { 200: answer("Each payout's outcome", output("SyncReport", SyncReport)) },
			errors: {
				400: "not JSON, or neither payoutId nor since given",
				404: "no connection by that id",
				409: "the channel has no payouts to fetch (no_payouts), or takes uploads (upload_required)",
				502: "the channel's API refused the listing (channel_error)",
				503: "the channel's API is unavailable or rate-limited (channel_error; Retry-After when it said how long)",
			},
		},

		// About the service itself.
		{
			method: "get",
			path: "/health",
			operationId: "health",
			tag: "meta",
			summary: "Liveness and configuration check: the configured connections",
			responses: { 200: answer("The configuration loads", output("Health", Health)) },
		},
		{
			method: "get",
			path: "/openapi.json",
			operationId: "openApi",
			tag: "meta",
			summary: "This document",
			responses: { 200: { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } },
		},
	];
}

const ERROR_STATUS: Record<number, string> = {
	400: "Bad request",
	401: "Unauthorized",
	403: "Forbidden",
	404: "Not found",
	409: "Conflict",
	413: "Body too large",
	422: "Unprocessable",
	426: "Upgrade required",
	429: "Too many requests",
	500: "Internal error",
	502: "Bad gateway",
	503: "Unavailable",
};

/** OpenAPI 3.1 security requirements may name roles for any scheme type: the ops token's scopes. */
const ROLE_TEXT: Record<OpsRole, string> = {
	read: "any ops token (read, operator or admin)",
	operator: "the operator or admin token",
	admin: "the admin token",
};

function toOperation(op: Operation): Json {
	const params = [...(op.parameters ?? [])];
	for (const [, name] of op.path.matchAll(/\{([^}]+)\}/g)) {
		const description = op.pathParams?.[name!];
		if (!description) throw new Error(`${op.operationId}: path parameter {${name}} is not described`);
		params.unshift({ name, in: "path", required: true, description, schema: { type: "string", minLength: 1 } });
	}
	const errorContent = json({ $ref: "#/components/schemas/Error" });
	const errors: Record<number, string> = { ...op.errors };
	if (op.role) {
		errors[401] = "no ops token, or not a valid one (WWW-Authenticate: Bearer)";
		if (op.role !== "read") errors[403] = `this token's scope is too small: ${ROLE_TEXT[op.role]} is needed`;
	}
	errors[500] ??= "the request could not be processed (invalid_config names a bad configuration field)";
	const responses: Json = {};
	for (const [status, response] of Object.entries(op.responses)) responses[status] = response;
	for (const [status, text] of Object.entries(errors)) {
		responses[status] = {
			description: `${ERROR_STATUS[Number(status)] ?? "Error"}: ${text}`,
			content: errorContent,
			...(status === "401" && op.role && { headers: { "WWW-Authenticate": { schema: { type: "string" }, description: 'Bearer realm="ordersync-ops"' } } }),
		};
	}
	const security = op.role ? [{ opsToken: [op.role] }] : op.scheme ? [{ [op.scheme]: [] }] : op.security;
	return {
		operationId: op.operationId,
		tags: [op.tag],
		summary: op.summary,
		...(op.description && { description: op.description }),
		...(security && { security }),
		...(op.role && { "x-ordersync-scope": op.role }),
		...(params.length > 0 && { parameters: params }),
		...(op.requestBody && { requestBody: op.requestBody }),
		responses,
	};
}

/** JSON Schema 2020-12's formats; zod names a few checks (`includes`, `starts_with`) as formats of its own. */
const FORMATS = new Set(["date-time", "date", "time", "duration", "email", "idn-email", "hostname", "idn-hostname", "ipv4", "ipv6", "uri", "uri-reference", "iri", "iri-reference", "uuid", "uri-template", "json-pointer", "relative-json-pointer", "regex"]);

function override({ zodSchema, jsonSchema }: { zodSchema: unknown; jsonSchema: Json }): void {
	if (zodSchema === JsonObject) jsonSchema.type = "object";
	if (typeof jsonSchema.format === "string" && !FORMATS.has(jsonSchema.format)) delete jsonSchema.format;
}

/** A parameter's schema, generated in place. */
function inline(schema: z.ZodType): Json {
	const { $schema: _schema, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any", override }) as Json;
	return rest;
}

/** Registers a zod schema under `id` (once) and answers the reference to it. */
function adder(registry: z.core.$ZodRegistry<{ id: string }>): Add {
	return (id, schema) => {
		if (registry.get(schema)?.id !== id) registry.add(schema, { id });
		return { $ref: `#/components/schemas/${id}` };
	};
}

/** Every registered schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), cross-referenced by component. */
function generate(registry: z.core.$ZodRegistry<{ id: string }>, io: "input" | "output"): Record<string, Json> {
	const { schemas } = z.toJSONSchema(registry, {
		target: "draft-2020-12",
		io,
		// A transform's output has no JSON Schema; refinements are simply not expressed.
		unrepresentable: "any",
		override,
		uri: (id) => `#/components/schemas/${id}`,
	});
	const out: Record<string, Json> = {};
	for (const [id, schema] of Object.entries(schemas)) {
		// `$id` and `$schema` belong to standalone documents, not to components of this one.
		const { $id: _id, $schema: _schema, ...rest } = schema as Json;
		out[id] = rest;
	}
	return out;
}

function build(): Json {
	const inputs = z.registry<{ id: string }>();
	const outputs = z.registry<{ id: string }>();
	const output = adder(outputs);
	// Shared parts of the canonical order, as components of their own.
	for (const [id, schema] of Object.entries({ Money, TaxLine, Discount, OrderLine, ShippingLine, Address, Customer, Refund, CanonicalOrder, Availability, SnapshotOutcome, DeltaOutcome, Delivery })) {
		output(id, schema);
	}
	const table = operations(adder(inputs), output);

	const schemas: Record<string, Json> = generate(outputs, "output");
	for (const [id, schema] of Object.entries(generate(inputs, "input"))) {
		if (id in schemas) throw new Error(`component ${id} is both a request and a response schema`);
		schemas[id] = schema;
	}
	const paths: Record<string, Record<string, Json>> = {};
	for (const op of table) {
		const item = (paths[op.path] ??= {});
		if (item[op.method]) throw new Error(`${op.method.toUpperCase()} ${op.path} is documented twice`);
		item[op.method] = toOperation(op);
	}
	return {
		openapi: "3.1.1",
		info: {
			title: "ordersync",
			version: API_VERSION,
			summary: "Real-time order and inventory sync at the edge",
			description:
				"Channel webhooks (Shopify, TikTok Shop, Amazon, WooCommerce, EDI) and 3PL/carrier notices in; stock feeds in; live availability out to storefronts; an ops API for the console. Money is integer minor units with an ISO 4217 currency. Every error body is `{ error: { code, message } }`.",
		},
		jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
		tags: [
			{ name: "webhooks", description: "Inbound notifications, each authenticated by its sender's own signature or key" },
			{ name: "inventory", description: "Stock feeds from warehouse systems (operator token)" },
			{ name: "availability", description: "Live availability for storefronts (public)" },
			{ name: "ops", description: "Operations API for the console and people (ops token)" },
			{ name: "privacy", description: "Personal-data requests: redaction and export (admin token)" },
			{ name: "settlements", description: "Payouts reconciled against orders (ops token)" },
			{ name: "meta", description: "About the service" },
		],
		paths,
		components: {
			schemas,
			securitySchemes: {
				opsToken: {
					type: "http",
					scheme: "bearer",
					description:
						"An ops token: OPS_READ_TOKEN (read), OPS_TOKEN (operator) or OPS_ADMIN_TOKEN (admin); during a rotation each one's previous value too. An operation's required role is named in its security requirement (and x-ordersync-scope): read takes any ops token, operator the operator or admin token, admin only the admin token.",
				},
				tiktokSignature: {
					type: "apiKey",
					in: "header",
					name: TIKTOK_SIGNATURE_HEADER,
					description: "TikTok Shop's webhook signature: hex HMAC-SHA256(app secret, app key + raw body)",
				},
				ediGatewayToken: {
					type: "http",
					scheme: "bearer",
					description: "The shared token an EDI connection's AS2/VAN gateway presents (its own secret, not an ops token)",
				},
			},
		},
	};
}

let document: Json | undefined;
let body: string | undefined;

/** The document, built once per isolate. */
export function openApiDocument(): Json {
	return (document ??= build());
}

/** GET /openapi.json — public: it says what exists, not what anything holds. */
export function serveOpenApi(): Response {
	body ??= JSON.stringify(openApiDocument());
	return new Response(body, {
		headers: { "Content-Type": "application/json; charset=utf-8", "Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300" },
	});
}

// --- The declared response schemas must stay true to the code that builds those bodies. ---

/** Exactly the same type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** The code's value fits the documented (loose) schema. */
type Fits<Actual, Documented> = [Actual] extends [Documented] ? true : false;
type Holds<T extends true> = T;

export type ResponseSchemasInSync = [
	Holds<Same<z.infer<typeof FlowEvent>, FlowEventT>>,
	Holds<Same<z.infer<typeof FlowPage>, ReturnType<FlowMonitor["flows"]>>>,
	Holds<Same<z.infer<typeof OrderMatch>, ReturnType<FlowMonitor["ordersNamed"]>[number]>>,
	Holds<Same<z.infer<typeof ExceptionKind>, ExceptionKindT>>,
	Holds<Same<z.infer<typeof ExceptionSummary>, ReturnType<FlowMonitor["exceptions"]>[number]>>,
	Holds<Same<Omit<z.infer<typeof ExceptionDetail>, "delivery">, NonNullable<ReturnType<FlowMonitor["exception"]>>>>,
	Holds<Same<z.infer<typeof PayoutEntry>, PayoutEntryT>>,
	// `circuit` is typed string there, though only closed, open and half-open are ever set.
	Holds<Same<Omit<z.infer<typeof Destination>, "destination" | "circuit">, Omit<ReturnType<DeliveryGate["status"]>, "circuit">>>,
	Holds<Same<z.infer<typeof Delivery>, DeliveryT>>,
	Holds<Same<z.infer<typeof Counter>, ReturnType<FlowMonitor["counters"]>["counters"][number]>>,
	Holds<Same<z.infer<typeof ReturnResult>["results"][number]["status"], ReturnType<SkuLedger["receiveReturn"]>["status"]>>,
	Holds<Same<z.infer<typeof AvailabilityResult>["items"][number], ReturnType<SkuLedger["availability"]>>>,
	Holds<Same<z.infer<typeof EdiReceipt>, Omit<Extract<ReceiveOutcome, { ok: true }>, "ok" | "acknowledgmentText"> & { acknowledgmentInterchange: string | null }>>,
	Holds<Fits<NonNullable<ReturnType<OrderFlow["view"]>>, z.infer<typeof OrderView>>>,
	Holds<Fits<ReturnType<SkuLedger["detail"]>, z.infer<typeof SkuDetail>>>,
	Holds<Fits<NonNullable<ReturnType<Settlement["report"]>>, z.infer<typeof PayoutReport>>>,
	Holds<Fits<ReturnType<TradingPartner["view"]>, z.infer<typeof PartnerView>>>,
	Holds<Fits<SweepRunT, z.infer<typeof SweepRun>>>,
	Holds<Fits<ReturnType<ChannelSweep["status"]>["runs"], z.infer<typeof SweepRun>[]>>,
	Holds<Fits<SweepConfig, z.infer<typeof SweepSettings>>>,
	Holds<Fits<NonNullable<Awaited<ReturnType<FlowMonitor["privacyRequestView"]>>>, z.infer<typeof PrivacyRequest>>>,
	Holds<Same<z.infer<typeof PrivacyStatus>, Awaited<ReturnType<FlowMonitor["privacyRequest"]>>["status"]>>,
];
