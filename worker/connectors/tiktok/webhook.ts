import { z } from "zod";
import { formatIssues } from "../../config";
import { hmacSha256Hex, toHex, verifyHmacSha256Hex } from "./sign";
import { type TikTokOrderStatus, tiktokOrderStatus } from "./payloads";

/**
 * TikTok Shop webhooks (https://partner.tiktokshop.com/docv2/page/tts-webhooks-overview): a JSON
 * POST signed in the `Authorization` header with hex HMAC-SHA256, keyed with the app secret, of
 * `{app key}{raw body}`: no prefix, no timestamp (so no replay window: duplicates are caught by the
 * event id). The body is `{ type, tts_notification_id?, shop_id, timestamp, data }`; the order
 * topics carry ids and statuses only, so the order itself is fetched (fetchTikTokOrder).
 */
export const TIKTOK_SIGNATURE_HEADER = "Authorization";

/** Who signs: the app's key and secret (the secret is `appSecretSecret`'s value). */
export type TikTokSigner = { appKey: string; appSecret: string };

/** True when `Authorization` is the signature of exactly these body bytes; compared in constant time. */
export async function verifyTikTokWebhook(signer: TikTokSigner, headers: Headers, rawBody: string): Promise<boolean> {
	const header = headers.get(TIKTOK_SIGNATURE_HEADER)?.trim();
	if (!header) return false;
	return verifyHmacSha256Hex(signer.appSecret, `${signer.appKey}${rawBody}`, header);
}

/** The sender's side (sandbox, tests, demo): the `Authorization` value for one body. */
export function signTikTokWebhook(signer: TikTokSigner, rawBody: string): Promise<string> {
	return hmacSha256Hex(signer.appSecret, `${signer.appKey}${rawBody}`);
}

/** Topic pages `docv2/page/<type>-<name>`; the names are the subscription `event_type`s. */
export const TIKTOK_TOPICS: Record<number, string> = {
	1: "ORDER_STATUS_CHANGE",
	2: "REVERSE_STATUS_UPDATE",
	3: "RECIPIENT_ADDRESS_UPDATE",
	4: "PACKAGE_UPDATE",
	5: "PRODUCT_STATUS_CHANGE",
	6: "SELLER_DEAUTHORIZATION",
	7: "UPCOMING_AUTHORIZATION_EXPIRATION",
	11: "CANCELLATION_STATUS_CHANGE",
	12: "RETURN_STATUS_CHANGE",
	13: "NEW_CONVERSATION",
	14: "NEW_MESSAGE",
	15: "PRODUCT_INFORMATION_CHANGE",
	27: "INVENTORY_STATUS_CHANGE",
	36: "INVOICE_STATUS_CHANGE",
	37: "PRODUCT_AUDIT_STATUS_CHANGE",
};

/** The topics that change an order, and so send ordersync to fetch it. */
export type TikTokOrderTopic = "ORDER_STATUS_CHANGE" | "PACKAGE_UPDATE" | "CANCELLATION_STATUS_CHANGE" | "RETURN_STATUS_CHANGE";

const Id = z.union([z.string().regex(/^\d+$/, "expected a numeric id"), z.number().int().nonnegative().transform(String)]);
const Seconds = z.number().int().nonnegative();

const Envelope = z.looseObject({
	type: z.number().int(),
	tts_notification_id: z.string().min(1).optional(),
	shop_id: Id,
	timestamp: Seconds,
	data: z.record(z.string(), z.unknown()),
});

// (1) Order status change: https://partner.tiktokshop.com/docv2/page/1-order-status-change
const OrderStatusData = z.looseObject({
	order_id: Id,
	order_status: z.string().min(1),
	is_on_hold_order: z.boolean().optional(),
	update_time: Seconds.optional(),
});
// (4) Package update: https://partner.tiktokshop.com/docv2/page/4-package-update
const PackageData = z.looseObject({
	sc_type: z.string().optional(),
	role_type: z.string().optional(),
	package_list: z.array(z.looseObject({ package_id: Id, order_id_list: z.array(Id) })),
	update_time: Seconds.optional(),
});
// (11) Cancellation status change: https://partner.tiktokshop.com/docv2/page/11-cancellation-status-change
const CancellationData = z.looseObject({
	order_id: Id,
	cancellations_role: z.string().optional(),
	cancel_status: z.string().min(1),
	cancel_id: Id.optional(),
	create_time: Seconds.optional(),
	update_time: Seconds.optional(),
});
// (12) Return status change: https://partner.tiktokshop.com/docv2/page/12-return-status-change
const ReturnData = z.looseObject({
	order_id: Id,
	return_role: z.string().optional(),
	return_type: z.string().optional(),
	return_status: z.string().min(1),
	return_id: Id.optional(),
	create_time: Seconds.optional(),
	update_time: Seconds.optional(),
});

export type TikTokNotification = {
	/** `tts_notification_id`, or (older payloads without one) `sha256:` of type, shop id and data. */
	eventId: string;
	type: number;
	topic: TikTokOrderTopic;
	shopId: string;
	/** The orders it is about; PACKAGE_UPDATE may name several. Each is fetched whole. */
	orderIds: string[];
	/** ORDER_STATUS_CHANGE: the new status, the webhook's `CANCEL` spelled as the order's `CANCELLED`. */
	orderStatus?: TikTokOrderStatus;
	/** The topic's own state: `cancel_status`, `return_status`, or `sc_type` (package split/combine). */
	detail?: string;
	/** When it happened per TikTok (`update_time`, else `create_time`, else the push time), ISO 8601 UTC. */
	at: string;
	/** When TikTok pushed it (`timestamp`), ISO 8601 UTC. */
	triggeredAt: string;
};

export type ParsedTikTokNotification =
	| { ok: true; notification: TikTokNotification }
	| { ok: true; ignored: string; eventId: string; type: number }
	| { ok: false; error: string };

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

async function hashedEventId(type: number, shopId: string, data: unknown): Promise<string> {
	// The push `timestamp` is left out: a redelivery of the same news may be pushed at another time.
	const bytes = new TextEncoder().encode(`${type}\n${shopId}\n${JSON.stringify(data)}`);
	return `sha256:${toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)))}`;
}

/**
 * Reads a verified notification. `shopId`, when given, is the connection's shop: a notification
 * for another shop is an error (a webhook address configured on the wrong shop), not news.
 * Topics that do not change an order are `ignored`; a body that does not match its topic's
 * documented shape is an error naming the field.
 */
export async function parseTikTokNotification(rawBody: string, shopId?: string): Promise<ParsedTikTokNotification> {
	let json: unknown;
	try {
		json = JSON.parse(rawBody);
	} catch {
		return { ok: false, error: "body is not JSON" };
	}
	const envelope = Envelope.safeParse(json);
	if (!envelope.success) return { ok: false, error: formatIssues(envelope.error) };
	const { type, shop_id, timestamp, data } = envelope.data;
	if (shopId !== undefined && shop_id !== shopId) return { ok: false, error: `shop_id: ${shop_id} is not this connection's shop (${shopId})` };
	const eventId = envelope.data.tts_notification_id ?? (await hashedEventId(type, shop_id, data));
	const base = { eventId, type, shopId: shop_id, triggeredAt: iso(timestamp) };
	// Each topic's data is checked inside the envelope, so an error names its path from the root.
	const read = <T extends z.ZodType>(schema: T) => {
		const parsed = z.looseObject({ data: schema }).safeParse(json);
		return parsed.success ? { success: true as const, data: parsed.data.data as z.infer<T> } : { success: false as const, error: parsed.error };
	};
	const invalid = (error: z.ZodError) => ({ ok: false as const, error: formatIssues(error) });

	switch (type) {
		case 1: {
			const parsed = read(OrderStatusData);
			if (!parsed.success) return invalid(parsed.error);
			const status = tiktokOrderStatus(parsed.data.order_status);
			if (!status) return { ok: false, error: `data.order_status: unknown status ${parsed.data.order_status}` };
			return {
				ok: true,
				notification: { ...base, topic: "ORDER_STATUS_CHANGE", orderIds: [parsed.data.order_id], orderStatus: status, at: iso(parsed.data.update_time ?? timestamp) },
			};
		}
		case 4: {
			const parsed = read(PackageData);
			if (!parsed.success) return invalid(parsed.error);
			const orderIds = [...new Set(parsed.data.package_list.flatMap((p) => p.order_id_list))];
			if (orderIds.length === 0) return { ok: true, ignored: "PACKAGE_UPDATE names no order", eventId, type };
			return {
				ok: true,
				notification: {
					...base,
					topic: "PACKAGE_UPDATE",
					orderIds,
					...(parsed.data.sc_type ? { detail: parsed.data.sc_type } : {}),
					at: iso(parsed.data.update_time ?? timestamp),
				},
			};
		}
		case 11: {
			const parsed = read(CancellationData);
			if (!parsed.success) return invalid(parsed.error);
			return {
				ok: true,
				notification: {
					...base,
					topic: "CANCELLATION_STATUS_CHANGE",
					orderIds: [parsed.data.order_id],
					detail: parsed.data.cancel_status,
					at: iso(parsed.data.update_time ?? parsed.data.create_time ?? timestamp),
				},
			};
		}
		case 12: {
			const parsed = read(ReturnData);
			if (!parsed.success) return invalid(parsed.error);
			return {
				ok: true,
				notification: {
					...base,
					topic: "RETURN_STATUS_CHANGE",
					orderIds: [parsed.data.order_id],
					detail: parsed.data.return_status,
					at: iso(parsed.data.update_time ?? parsed.data.create_time ?? timestamp),
				},
			};
		}
		default:
			return { ok: true, ignored: `type ${type} (${TIKTOK_TOPICS[type] ?? "unknown"}) is not an order topic ordersync handles`, eventId, type };
	}
}
