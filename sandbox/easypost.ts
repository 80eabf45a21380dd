/**
 * A local EasyPost peer (Trackers API and tracker webhooks), for the tests and the demo. It
 * speaks what ordersync uses: HTTP Basic with the API key as user name, POST /v2/trackers that
 * answers a repeated tracking_code + carrier with the tracker it already has, GET
 * /v2/trackers/:id, the documented error object, and tracker.updated Events signed the way
 * EasyPost signs them (X-Hmac-Signature: hmac-sha256-hex=…, key = NFKD(secret)). Parcels move
 * only when told to (/sandbox/easypost/advance) or on the demo's clock (advanceDue).
 */
import type { Callbacks } from "./callbacks";
import { type Faults, failAfter, failBefore } from "./faults";

type Status = "unknown" | "pre_transit" | "in_transit" | "out_for_delivery" | "delivered" | "available_for_pickup" | "return_to_sender" | "failure" | "cancelled" | "error";

// TrackingDetail / TrackingLocation: https://docs.easypost.com/docs/trackers
type TrackingDetail = {
	object: "TrackingDetail";
	message: string;
	description: string;
	status: Status;
	status_detail: string;
	datetime: string;
	source: string;
	carrier_code: string | null;
	tracking_location: { object: "TrackingLocation"; city: string | null; state: string | null; country: string | null; zip: string | null };
};

// Tracker object: https://docs.easypost.com/docs/trackers
type Tracker = {
	id: string;
	object: "Tracker";
	mode: "test" | "production";
	tracking_code: string;
	status: Status;
	status_detail: string;
	created_at: string;
	updated_at: string;
	signed_by: string | null;
	weight: number | null;
	est_delivery_date: string | null;
	shipment_id: string | null;
	carrier: string;
	tracking_details: TrackingDetail[];
	carrier_detail: null;
	finalized: boolean;
	is_return: boolean;
	public_url: string;
};

const STATUSES: Status[] = ["unknown", "pre_transit", "in_transit", "out_for_delivery", "delivered", "available_for_pickup", "return_to_sender", "failure", "cancelled", "error"];
const NEXT: Partial<Record<Status, Status>> = { unknown: "pre_transit", pre_transit: "in_transit", in_transit: "out_for_delivery", out_for_delivery: "delivered", available_for_pickup: "delivered" };
const FINAL = new Set<Status>(["delivered", "return_to_sender", "failure", "cancelled", "error"]);
/** What a carrier says at each step (status_detail values as EasyPost names them). */
const STEP: Record<Status, { detail: string; message: string }> = {
	unknown: { detail: "unknown", message: "No tracking information yet" },
	pre_transit: { detail: "label_created", message: "Shipping label created" },
	in_transit: { detail: "arrived_at_facility", message: "Arrived at carrier facility" },
	out_for_delivery: { detail: "out_for_delivery", message: "Out for delivery" },
	delivered: { detail: "arrived_at_destination", message: "Delivered, front door" },
	available_for_pickup: { detail: "available_for_pickup", message: "Available for pickup at the post office" },
	return_to_sender: { detail: "return", message: "Returned to sender" },
	failure: { detail: "lost", message: "Package lost in transit" },
	cancelled: { detail: "cancelled", message: "Shipment cancelled" },
	error: { detail: "unknown", message: "Carrier reported an error" },
};
const PLACES = [
	{ city: "RENO", state: "NV", zip: "89502" },
	{ city: "SALT LAKE CITY", state: "UT", zip: "84104" },
	{ city: "DENVER", state: "CO", zip: "80202" },
	{ city: "PORTLAND", state: "OR", zip: "97205" },
];

/** EasyPost's timestamps: ISO 8601 UTC to the second. */
const stamp = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const hexId = () => crypto.randomUUID().replaceAll("-", "");
// Error object: https://docs.easypost.com/docs/errors
const failure = (status: number, code: string, message: string, errors: unknown[] = [], headers?: HeadersInit) =>
	Response.json({ error: { code, message, errors } }, { status, headers });

const encoder = new TextEncoder();

export class EasyPostSandbox {
	#apiKey: string;
	#webhookSecret: string;
	#faults: Faults;
	#callbacks: Callbacks;
	#trackers = new Map<string, Tracker>();
	/** `<carrier>|<tracking code>` → tracker id: EasyPost keeps one tracker per code and carrier. */
	#byCode = new Map<string, string>();
	/** When each tracker last changed, for the demo clock. */
	#changedAt = new Map<string, number>();
	#userId = `user_${hexId()}`;
	#key: Promise<CryptoKey> | null = null;

	constructor(options: { apiKey: string; webhookSecret: string; faults: Faults; callbacks: Callbacks }) {
		this.#apiKey = options.apiKey;
		this.#webhookSecret = options.webhookSecret;
		this.#faults = options.faults;
		this.#callbacks = options.callbacks;
	}

	async fetch(request: Request, url: URL): Promise<Response> {
		const path = url.pathname;
		if (path.startsWith("/sandbox/easypost/")) return this.#control(request, url);
		const raw = request.method === "POST" ? await request.text() : ""; // read first: an early answer must not leave the body unread
		if (!this.#authorized(request.headers.get("Authorization"))) {
			// Plausible body: EasyPost documents 401 for failed authentication with its error object.
			return failure(401, "APIKEY.REQUIRED", "No valid API key was supplied. Send it as the user name with HTTP Basic authentication.");
		}
		const fault = this.#faults.pick("easypost");
		const early = await failBefore(fault, {
			error5xx: (status) => failure(status, status === 503 ? "SERVICE_UNAVAILABLE" : "INTERNAL_SERVER_ERROR", "Something went wrong on our end; please try again."),
			// https://docs.easypost.com/guides/rate-limiting-guide: 429 "Too Many Requests"; the Retry-After header is this sandbox's assumption.
			tooMany: (seconds) => failure(429, "RATE_LIMITED", "Too many requests. Please slow down and retry.", [], { "Retry-After": String(seconds) }),
		});
		if (early) return early;
		let response: Response;
		const one = /^\/easypost\/v2\/trackers\/([^/]+)$/.exec(path);
		if (request.method === "POST" && path === "/easypost/v2/trackers") response = this.#create(raw);
		else if (request.method === "GET" && one) {
			const tracker = this.#trackers.get(decodeURIComponent(one[1]!));
			response = tracker ? Response.json(tracker) : failure(404, "NOT_FOUND", "The requested resource could not be found.");
		} else response = failure(404, "NOT_FOUND", "The requested resource could not be found.");
		await failAfter(fault);
		return response;
	}

	#authorized(header: string | null): boolean {
		const match = header ? /^Basic\s+(\S+)$/i.exec(header) : null;
		if (!match) return false;
		let decoded: string;
		try {
			decoded = atob(match[1]!);
		} catch {
			return false;
		}
		const user = decoded.includes(":") ? decoded.slice(0, decoded.indexOf(":")) : decoded;
		return user === this.#apiKey;
	}

	/** POST /v2/trackers { tracker: { tracking_code, carrier } }: the existing tracker for a repeated code and carrier. */
	#create(raw: string): Response {
		let body: { tracker?: { tracking_code?: unknown; carrier?: unknown } };
		try {
			body = JSON.parse(raw) as typeof body;
		} catch {
			return failure(400, "BAD_REQUEST", "The request body could not be parsed as JSON.");
		}
		const code = body?.tracker?.tracking_code;
		const carrier = body?.tracker?.carrier;
		if (typeof code !== "string" || code.trim() === "") {
			return failure(422, "PARAMETER.REQUIRED", "Missing required parameter.", [{ field: "tracker.tracking_code", message: "cannot be blank", suggestion: null }]);
		}
		const carrierName = typeof carrier === "string" && carrier.trim() ? carrier.trim() : "USPS";
		const key = `${carrierName.toLowerCase()}|${code.trim()}`;
		const existing = this.#byCode.get(key);
		if (existing) return Response.json(this.#trackers.get(existing), { status: 200 });
		const now = Date.now();
		const tracker: Tracker = {
			id: `trk_${hexId()}`,
			object: "Tracker",
			mode: "test",
			tracking_code: code.trim(),
			status: "pre_transit",
			status_detail: STEP.pre_transit.detail,
			created_at: stamp(now),
			updated_at: stamp(now),
			signed_by: null,
			weight: null,
			est_delivery_date: stamp(now + 3 * 86_400_000),
			shipment_id: null,
			carrier: carrierName,
			tracking_details: [this.#detail("pre_transit", carrierName, now, 0)],
			carrier_detail: null,
			finalized: false,
			is_return: false,
			public_url: `https://track.easypost.com/${hexId()}`,
		};
		this.#trackers.set(tracker.id, tracker);
		this.#byCode.set(key, tracker.id);
		this.#changedAt.set(tracker.id, now);
		return Response.json(tracker, { status: 201 });
	}

	#detail(status: Status, carrier: string, at: number, step: number): TrackingDetail {
		const place = PLACES[step % PLACES.length]!;
		return {
			object: "TrackingDetail",
			message: STEP[status].message,
			description: STEP[status].message,
			status,
			status_detail: STEP[status].detail,
			datetime: stamp(at),
			source: carrier,
			carrier_code: null,
			tracking_location: { object: "TrackingLocation", city: place.city, state: place.state, country: "US", zip: place.zip },
		};
	}

	/**
	 * Moves one tracker a step (or to `status`), records the scan and queues the signed
	 * tracker.updated Event EasyPost would post (https://docs.easypost.com/docs/events).
	 */
	async #advance(tracker: Tracker, status?: Status): Promise<boolean> {
		const next = status ?? NEXT[tracker.status];
		if (!next || (status === undefined && FINAL.has(tracker.status))) return false;
		const previous = tracker.status;
		const now = Date.now();
		tracker.status = next;
		tracker.status_detail = STEP[next].detail;
		tracker.updated_at = stamp(now);
		tracker.finalized = FINAL.has(next);
		if (next === "delivered") tracker.signed_by = "J DOE";
		tracker.tracking_details.push(this.#detail(next, tracker.carrier, now, tracker.tracking_details.length));
		this.#changedAt.set(tracker.id, now);
		const event = {
			description: "tracker.updated",
			mode: tracker.mode,
			previous_attributes: { status: previous },
			created_at: stamp(now),
			pending_urls: ["http://127.0.0.1:8787/webhooks/easypost/easypost"],
			completed_urls: [],
			updated_at: stamp(now),
			id: `evt_${hexId()}`,
			user_id: this.#userId,
			status: "pending",
			object: "Event",
			result: tracker,
		};
		const body = JSON.stringify(event);
		this.#callbacks.enqueue({
			key: tracker.tracking_code,
			path: "/webhooks/easypost/easypost",
			headers: { "Content-Type": "application/json", "X-Hmac-Signature": await this.#sign(body) },
			body,
		});
		return true;
	}

	/** EasyPost's signature, computed here on its own (not with ordersync's code) so tests check one against the other. */
	async #sign(body: string): Promise<string> {
		this.#key ??= crypto.subtle.importKey("raw", encoder.encode(this.#webhookSecret.normalize("NFKD")), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
		const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await this.#key, encoder.encode(body)));
		return `hmac-sha256-hex=${Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("")}`;
	}

	/** Demo clock: every tracker unchanged for `afterMs` moves one step, until delivered. Returns how many moved. */
	advanceDue(afterMs: number): number {
		const now = Date.now();
		let moved = 0;
		for (const tracker of this.#trackers.values()) {
			if (FINAL.has(tracker.status) || now - (this.#changedAt.get(tracker.id) ?? now) < afterMs) continue;
			// Status and scan change synchronously; only the signing awaits, and its callback is queued when done.
			void this.#advance(tracker);
			moved++;
		}
		return moved;
	}

	async #control(request: Request, url: URL): Promise<Response> {
		switch (`${request.method} ${url.pathname}`) {
			case "POST /sandbox/easypost/advance": {
				const { match = "", status } = (await request.json().catch(() => ({}))) as { match?: string; status?: string };
				if (status !== undefined && !STATUSES.includes(status as Status)) {
					return Response.json({ error: `status must be one of ${STATUSES.join(", ")}` }, { status: 400 });
				}
				const moved: Tracker[] = [];
				for (const tracker of this.#trackers.values()) {
					if (!tracker.tracking_code.includes(match)) continue;
					if (await this.#advance(tracker, status as Status | undefined)) moved.push(tracker);
				}
				return Response.json({ trackers: moved });
			}
			case "GET /sandbox/easypost/trackers": {
				const match = url.searchParams.get("match") ?? "";
				return Response.json({ trackers: [...this.#trackers.values()].filter((t) => t.tracking_code.includes(match)) });
			}
			default:
				return Response.json({ error: "Not Found" }, { status: 404 });
		}
	}
}
