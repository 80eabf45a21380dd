import { z } from "zod";
import type { Tracking } from "../../config";
import { TrackingStatus } from "../../model/fulfillment";
import { type CallResult, DEFAULT_TIMEOUT_MS, send } from "../call";

const DEFAULT_ENDPOINT = "https://api.easypost.com";

// Error object: https://docs.easypost.com/docs/errors ({ error: { code, message, errors: FieldError[] | string[] } })
const EasyPostError = z.object({
	error: z.object({
		code: z.string(),
		message: z.string(),
		errors: z.array(z.union([z.string(), z.object({ field: z.string().optional(), message: z.string().optional() }).loose()])).nullish(),
	}),
});

// The part of the Tracker object we read: https://docs.easypost.com/docs/trackers
const CreatedTracker = z.object({
	id: z.string().startsWith("trk_"),
	object: z.literal("Tracker"),
	status: z.string(),
});

/** A carrier status EasyPost may add later reads as "unknown" rather than failing the call. */
export function trackingStatus(value: string): TrackingStatus {
	const parsed = TrackingStatus.safeParse(value);
	return parsed.success ? parsed.data : "unknown";
}

/**
 * Registers a tracking number with EasyPost (POST /v2/trackers, HTTP Basic with the API key as
 * user name: https://docs.easypost.com/guides/tracking-guide). EasyPost answers a repeated
 * tracking_code + carrier with the tracker it already has instead of a second one (Trackers
 * reference, "duplicate" trackers), so a retry after a lost answer is harmless.
 */
export async function createTracker(
	account: Tracking,
	input: { trackingCode: string; carrier: string },
	options: { timeoutMs: number } = { timeoutMs: DEFAULT_TIMEOUT_MS },
): Promise<CallResult<{ trackerId: string; status: TrackingStatus }>> {
	const url = `${account.endpoint ?? DEFAULT_ENDPOINT}/v2/trackers`;
	const sent = await send(
		url,
		{
			method: "POST",
			headers: { "Content-Type": "application/json", Authorization: `Basic ${btoa(`${account.apiKey}:`)}` },
			body: JSON.stringify({ tracker: { tracking_code: input.trackingCode, carrier: input.carrier } }),
		},
		// 4xx other than 408/429 are read here for EasyPost's error object; send() classifies the rest.
		{ timeoutMs: options.timeoutMs, readable: (status) => status >= 400 && status < 500 && status !== 408 && status !== 429 },
	);
	if (!sent.ok) return sent;
	const { response } = sent;
	const text = await response.text();
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		return { ok: false, retryable: false, status: response.status, error: `${response.status}: not JSON: ${text.slice(0, 200)}` };
	}
	if (!response.ok) return { ok: false, retryable: false, status: response.status, error: describeError(response.status, body, text) };
	const tracker = CreatedTracker.safeParse(body);
	if (!tracker.success) return { ok: false, retryable: false, status: response.status, error: `unexpected tracker: ${text.slice(0, 200)}` };
	return { ok: true, value: { trackerId: tracker.data.id, status: trackingStatus(tracker.data.status) } };
}

/** `422 PARAMETER.REQUIRED: Missing required parameter. (tracker.tracking_code: cannot be blank)` */
function describeError(status: number, body: unknown, text: string): string {
	const parsed = EasyPostError.safeParse(body);
	if (!parsed.success) return `${status}: ${text.slice(0, 300)}`;
	const { code, message, errors } = parsed.data.error;
	const details = (errors ?? []).map((e) => (typeof e === "string" ? e : [e.field, e.message].filter(Boolean).join(": "))).filter(Boolean);
	return `${status} ${code}: ${message}${details.length ? ` (${details.join("; ")})` : ""}`;
}
