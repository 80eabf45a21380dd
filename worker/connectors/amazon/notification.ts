import { formatIssues } from "../../config";
import { NotificationEnvelope, OrderChangeNotification } from "./payloads";

/**
 * ORDER_CHANGE notifications, as they reach ordersync over HTTPS.
 *
 * Amazon delivers ORDER_CHANGE to an SQS queue only (the EventBridge destination carries listing
 * notifications alone: "Set up notifications using the Amazon EventBridge workflow" lists six
 * types and sends every other type to the SQS workflow). ordersync's endpoint is fed from that
 * queue by an EventBridge Pipe whose target is an API destination, so a request is one of:
 *
 * - the SP-API notification itself (a pipe whose input template is `<$.body>`),
 * - an EventBridge event whose `detail` is the notification, or the SQS message body as a string,
 * - an SQS message (`{ messageId, body, … }`), what a pipe sends without a template, alone or
 *   in a one-element array (batch size 1: a request holds one notification).
 *
 * API destinations cannot sign requests (no HMAC, no mTLS); their connection authenticates with a
 * static header, here an API key (`ApiKeyName`/`ApiKeyValue`, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-api-destinations.html),
 * which is compared in constant time. The event id is `NotificationMetadata.NotificationId`,
 * which a redelivery of the same SQS message keeps.
 */

const encoder = new TextEncoder();

/**
 * True when the request carries the API destination's key in `headerName`. Both values are
 * hashed first so the comparison takes the same time whatever their lengths and contents.
 * `rawBody` is not covered: API destinations send no signature over it.
 */
export async function verifyAmazonWebhook(secret: string, headers: Headers, rawBody: string, headerName = "x-api-key"): Promise<boolean> {
	void rawBody;
	const presented = headers.get(headerName);
	if (presented === null || secret.length === 0) return false;
	const [a, b] = await Promise.all([
		crypto.subtle.digest("SHA-256", encoder.encode(presented)),
		crypto.subtle.digest("SHA-256", encoder.encode(secret)),
	]);
	const x = new Uint8Array(a);
	const y = new Uint8Array(b);
	let difference = 0;
	for (let i = 0; i < x.length; i++) difference |= x[i]! ^ y[i]!;
	return difference === 0;
}

/** What an ORDER_CHANGE tells: which order changed, and how; the order itself is fetched. */
export type AmazonOrderNotice = {
	/** NotificationMetadata.NotificationId: the dedupe key. */
	eventId: string;
	notificationType: "ORDER_CHANGE";
	channelOrderId: string;
	sellerId: string;
	marketplaceId: string;
	/** Summary.OrderStatus at the time of the notification. */
	orderStatus: string;
	/** OrderStatusChange or BuyerRequestedChange. */
	changeType: string;
	changeReason: string;
	/** MFN or AFN. */
	fulfillmentType: string;
	/** EventTime, "the time when this notification was published" (ISO 8601 UTC). */
	eventTime: string;
	/** OrderChangeTrigger.TimeOfOrderChange, null when Amazon has none. */
	changedAt: string | null;
};

export type AmazonNotificationResult =
	| { ok: true; notice: AmazonOrderNotice }
	| { ok: true; ignored: string; eventId?: string }
	| { ok: false; error: string };

/**
 * Reads one delivery. With `account`, a notification for another seller or marketplace is
 * ignored (one SQS destination serves every seller of the application). Orders Amazon fulfils
 * (FulfillmentType AFN) are ignored: nothing ships from ordersync's locations for them.
 */
export function parseAmazonNotification(rawBody: string, account?: { sellerId: string; marketplaceId: string }): AmazonNotificationResult {
	let json: unknown;
	try {
		json = JSON.parse(rawBody);
	} catch {
		return { ok: false, error: "body is not JSON" };
	}
	const unwrapped = unwrap(json, 0);
	if ("error" in unwrapped) return { ok: false, error: unwrapped.error };
	const envelope = NotificationEnvelope.safeParse(unwrapped.notification);
	if (!envelope.success) return { ok: false, error: formatIssues(envelope.error) };
	const eventId = envelope.data.NotificationMetadata.NotificationId;
	if (envelope.data.NotificationType !== "ORDER_CHANGE") {
		return { ok: true, ignored: `notification type ${envelope.data.NotificationType} is not handled`, eventId };
	}
	const parsed = OrderChangeNotification.safeParse(unwrapped.notification);
	if (!parsed.success) return { ok: false, error: formatIssues(parsed.error) };
	const change = parsed.data.Payload.OrderChangeNotification;
	const summary = change.Summary;
	if (account && change.SellerId !== account.sellerId) {
		return { ok: true, ignored: `notification for seller ${change.SellerId}, not this connection's ${account.sellerId}`, eventId };
	}
	if (account && summary.MarketplaceId !== account.marketplaceId) {
		return { ok: true, ignored: `order in marketplace ${summary.MarketplaceId}, not this connection's ${account.marketplaceId}`, eventId };
	}
	if (summary.FulfillmentType === "AFN") {
		return { ok: true, ignored: `order ${change.AmazonOrderId} is fulfilled by Amazon (AFN)`, eventId };
	}
	const eventTime = isoUtc(parsed.data.EventTime);
	if (!eventTime) return { ok: false, error: `EventTime: not an ISO 8601 time: ${JSON.stringify(parsed.data.EventTime)}` };
	const changedAt = change.OrderChangeTrigger.TimeOfOrderChange ? isoUtc(change.OrderChangeTrigger.TimeOfOrderChange) : null;
	return {
		ok: true,
		notice: {
			eventId,
			notificationType: "ORDER_CHANGE",
			channelOrderId: change.AmazonOrderId,
			sellerId: change.SellerId,
			marketplaceId: summary.MarketplaceId,
			orderStatus: summary.OrderStatus,
			changeType: change.OrderChangeType,
			changeReason: change.OrderChangeTrigger.ChangeReason,
			fulfillmentType: summary.FulfillmentType,
			eventTime,
			changedAt,
		},
	};
}

/** Peels EventBridge, SQS and JSON-string layers off until the notification itself is left. */
function unwrap(value: unknown, depth: number): { notification: Record<string, unknown> } | { error: string } {
	if (depth > 4) return { error: "(root): too many envelopes" };
	if (typeof value === "string") {
		try {
			return unwrap(JSON.parse(value), depth + 1);
		} catch {
			return { error: "(root): a string that is not JSON where a notification was expected" };
		}
	}
	if (Array.isArray(value)) {
		if (value.length === 1) return unwrap(value[0], depth + 1);
		return { error: `(root): a batch of ${value.length} messages; give the pipe a batch size of 1` };
	}
	if (typeof value !== "object" || value === null) return { error: "(root): expected an object" };
	const record = value as Record<string, unknown>;
	if ("NotificationType" in record || "NotificationMetadata" in record) return { notification: record };
	// An EventBridge event: detail-type, source, … and the notification in `detail`.
	if ("detail" in record && ("detail-type" in record || "source" in record || "version" in record)) return unwrap(record.detail, depth + 1);
	// An SQS message as a pipe forwards it: the notification is the message body.
	if (typeof record.body === "string" && ("messageId" in record || "eventSource" in record)) return unwrap(record.body, depth + 1);
	return { error: "(root): neither an SP-API notification, an EventBridge event nor an SQS message" };
}

function isoUtc(value: string): string | null {
	const ms = Date.parse(value);
	return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
