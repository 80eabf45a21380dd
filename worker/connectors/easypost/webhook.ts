import { z } from "zod";
import { TrackingUpdate } from "../../model/fulfillment";
import { trackingStatus } from "./client";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();
const PREFIX = "hmac-sha256-hex=";

/**
 * EasyPost keys the HMAC with the NFKD-normalized secret as UTF-8, as its client libraries'
 * validate_webhook do (easypost-node `Utils.validateWebhook`, easypost-python `validate_webhook`).
 */
function hmacKey(secret: string): Promise<CryptoKey> {
	let key = keys.get(secret);
	if (!key) {
		key = crypto.subtle.importKey("raw", encoder.encode(secret.normalize("NFKD")), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
		keys.set(secret, key);
	}
	return key;
}

function fromHex(hex: string): Uint8Array | null {
	if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return null;
	const bytes = new Uint8Array(hex.length / 2);
	for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
	return bytes;
}

/**
 * `X-Hmac-Signature: hmac-sha256-hex=<hex of HMAC-SHA256(NFKD(secret), raw body)>`
 * (https://docs.easypost.com/guides/webhooks-guide, "HMAC Validation"). The raw body is checked
 * as received, never re-serialized; WebCrypto's verify compares in constant time.
 */
export async function verifyEasyPostWebhook(secret: string, headers: Headers, rawBody: string): Promise<boolean> {
	const header = headers.get("X-Hmac-Signature")?.trim();
	if (!header || !header.startsWith(PREFIX)) return false;
	const signature = fromHex(header.slice(PREFIX.length));
	if (!signature || signature.byteLength !== 32) return false;
	return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, encoder.encode(rawBody));
}

/** The sender's side (sandbox, tests): the whole `X-Hmac-Signature` header value. */
export async function signEasyPostWebhook(secret: string, body: string): Promise<string> {
	const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(body)));
	return PREFIX + Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// TrackingDetail: https://docs.easypost.com/docs/trackers (status, status_detail, message, datetime, tracking_location)
const TrackingDetail = z
	.object({
		object: z.literal("TrackingDetail").optional(),
		message: z.string().nullish(),
		status: z.string(),
		status_detail: z.string().nullish(),
		datetime: z.string(),
	})
	.loose();

// Tracker object: https://docs.easypost.com/docs/trackers
const Tracker = z
	.object({
		id: z.string().startsWith("trk_"),
		object: z.literal("Tracker"),
		mode: z.enum(["test", "production"]).optional(),
		tracking_code: z.string().min(1),
		carrier: z.string(),
		status: z.string(),
		status_detail: z.string().nullish(),
		tracking_details: z.array(TrackingDetail).default([]),
		est_delivery_date: z.string().nullish(),
		created_at: z.string().optional(),
		updated_at: z.string(),
	})
	.loose();

// Event object: https://docs.easypost.com/docs/events (object "Event", id "evt_…", description, result)
const EasyPostEvent = z
	.object({
		object: z.literal("Event"),
		id: z.string().startsWith("evt_"),
		description: z.string(),
		mode: z.enum(["test", "production"]).optional(),
		previous_attributes: z.record(z.string(), z.unknown()).nullish(),
		created_at: z.string().optional(),
		updated_at: z.string().optional(),
		result: z.unknown(),
	})
	.loose();

const TRACKER_EVENTS = new Set(["tracker.created", "tracker.updated"]);

export type EasyPostParse = { ok: true; update: TrackingUpdate } | { ok: true; ignored: string } | { ok: false; error: string };

/** A verified EasyPost webhook body as a tracking update; other event kinds are acknowledged and ignored. */
export function parseEasyPostEvent(rawBody: string): EasyPostParse {
	let json: unknown;
	try {
		json = JSON.parse(rawBody);
	} catch {
		return { ok: false, error: "body is not JSON" };
	}
	const event = EasyPostEvent.safeParse(json);
	if (!event.success) return { ok: false, error: `not an EasyPost Event: ${issues(event.error)}` };
	if (!TRACKER_EVENTS.has(event.data.description)) return { ok: true, ignored: event.data.description };
	const tracker = Tracker.safeParse(event.data.result);
	if (!tracker.success) return { ok: false, error: `${event.data.description} without a Tracker: ${issues(tracker.error)}` };
	const t = tracker.data;
	const update = TrackingUpdate.safeParse({
		eventId: event.data.id,
		trackerId: t.id,
		trackingCode: t.tracking_code,
		carrier: t.carrier,
		status: trackingStatus(t.status),
		statusDetail: t.status_detail ?? undefined,
		at: reportedAt(t),
		estDeliveryDate: t.est_delivery_date ? utc(t.est_delivery_date) : null,
	});
	if (!update.success) return { ok: false, error: issues(update.error) };
	return { ok: true, update: update.data };
}

/**
 * When the carrier last reported: the latest scan in tracking_details, else the tracker's
 * updated_at. EasyPost gives scan times a local offset when it knows the place, so both are
 * brought to UTC.
 */
function reportedAt(tracker: z.infer<typeof Tracker>): string {
	let latest: number | null = null;
	for (const detail of tracker.tracking_details) {
		const at = Date.parse(detail.datetime);
		if (!Number.isNaN(at) && (latest === null || at > latest)) latest = at;
	}
	return latest !== null ? new Date(latest).toISOString() : utc(tracker.updated_at);
}

function utc(value: string): string {
	const at = Date.parse(value);
	return Number.isNaN(at) ? value : new Date(at).toISOString();
}

function issues(error: z.ZodError): string {
	return error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
}
