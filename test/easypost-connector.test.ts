import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../worker/config";
import { createTracker } from "../worker/connectors/easypost/client";
import { parseEasyPostEvent, signEasyPostWebhook, verifyEasyPostWebhook } from "../worker/connectors/easypost/webhook";

// Every outbound fetch from a test reaches the sandbox worker (vitest.config.ts), which plays EasyPost.
const sandbox = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:8789${path}`, init);
const account = () => {
	const tracking = loadConfig(env).tracking.get("easypost");
	if (!tracking) throw new Error("wrangler.toml has no TRACKING entry easypost");
	return tracking;
};
const uniqueCode = () => `EZ${Date.now()}${Math.floor(Math.random() * 1e6)}`;
const headers = (signature?: string) => new Headers(signature === undefined ? { "Content-Type": "application/json" } : { "X-Hmac-Signature": signature });

// EasyPost's published test vector, from its client libraries' validate_webhook tests
// (easypost-node test "validates a webhook secret", easypost-python conftest `event_body`):
// the secret "sécret" must be NFKD-normalized before it keys the HMAC.
const PUBLISHED = {
	secret: "sécret",
	body: JSON.stringify({
		result: {
			id: "batch_123...",
			object: "Batch",
			mode: "test",
			state: "created",
			num_shipments: 0,
			reference: null,
			created_at: "2022-07-26T17:22:32Z",
			updated_at: "2022-07-26T17:22:32Z",
			scan_form: null,
			shipments: [],
			status: { created: 0, queued_for_purchase: 0, creation_failed: 0, postage_purchased: 0, postage_purchase_failed: 0 },
			pickup: null,
			label_url: null,
		},
		description: "batch.created",
		mode: "test",
		previous_attributes: null,
		completed_urls: null,
		user_id: "user_123...",
		status: "pending",
		object: "Event",
		id: "evt_123...",
	}),
	signature: "hmac-sha256-hex=e93977c8ccb20363d51a62b3fe1fc402b7829be1152da9e88cf9e8d07115a46b",
};

// EasyPost's documented tracker.updated Event (EasyPost/examples official/fixtures/event-body.json).
const TRACKER_UPDATED = `{"description":"tracker.updated","mode":"production","previous_attributes":{"status":"in_transit"},"created_at":"2024-08-02T19:26:52.000Z","pending_urls":["https://example.com/easypost"],"completed_urls":[],"updated_at":"2024-08-02T19:26:52.000Z","id":"evt_1","user_id":"user_1","status":"pending","object":"Event","result":{"id":"trk_1","object":"Tracker","mode":"production","tracking_code":"1","status":"in_transit","status_detail":"arrived_at_facility","created_at":"2024-07-31T14:45:27Z","updated_at":"2024-08-02T19:26:51Z","signed_by":null,"weight":614.4,"est_delivery_date":"2024-08-05T00:00:00Z","shipment_id":null,"carrier":"FedEx","tracking_details":[{"object":"TrackingDetail","message":"Shipment information sent to FedEx","description":"Shipment information sent to FedEx","status":"pre_transit","status_detail":"label_created","datetime":"2024-07-31T15:00:00Z","source":"FedEx","carrier_code":"OC","tracking_location":{"object":"TrackingLocation","city":null,"state":null,"country":"US","zip":"32837"}},{"object":"TrackingDetail","message":"Picked up","description":"Picked up","status":"in_transit","status_detail":"arrived_at_facility","datetime":"2024-07-31T19:27:00Z","source":"FedEx","carrier_code":"PU","tracking_location":{"object":"TrackingLocation","city":"ORLANDO","state":"FL","country":"US","zip":"32809"}},{"object":"TrackingDetail","message":"Arrived at FedEx location","description":"Arrived at FedEx location","status":"in_transit","status_detail":"arrived_at_facility","datetime":"2024-07-31T22:35:00Z","source":"FedEx","carrier_code":"AR","tracking_location":{"object":"TrackingLocation","city":"ORLANDO","state":"FL","country":"US","zip":"32809"}},{"object":"TrackingDetail","message":"Departed FedEx location","description":"Departed FedEx location","status":"in_transit","status_detail":"departed_facility","datetime":"2024-08-01T14:42:13Z","source":"FedEx","carrier_code":"DP","tracking_location":{"object":"TrackingLocation","city":"ORLANDO","state":"FL","country":"US","zip":"32809"}},{"object":"TrackingDetail","message":"On the way","description":"On the way","status":"in_transit","status_detail":"unknown","datetime":"2024-08-02T02:46:19Z","source":"FedEx","carrier_code":"IT","tracking_location":{"object":"TrackingLocation","city":"KENLY","state":"NC","country":"US","zip":"27542"}},{"object":"TrackingDetail","message":"On the way","description":"On the way","status":"in_transit","status_detail":"unknown","datetime":"2024-08-02T18:35:20Z","source":"FedEx","carrier_code":"IT","tracking_location":{"object":"TrackingLocation","city":"EDISON TWP","state":"NJ","country":"US","zip":"08817"}},{"object":"TrackingDetail","message":"Arrived at FedEx location","description":"Arrived at FedEx location","status":"in_transit","status_detail":"arrived_at_facility","datetime":"2024-08-02T18:50:00Z","source":"FedEx","carrier_code":"AR","tracking_location":{"object":"TrackingLocation","city":"EDISON","state":"NJ","country":"US","zip":"08817"}}],"carrier_detail":{"object":"CarrierDetail","service":"FEDEX_GROUND","container_type":null,"est_delivery_date_local":"2024-08-05","est_delivery_time_local":null,"origin_location":"ORLANDO FL US","origin_tracking_location":{"object":"TrackingLocation","city":"ORLANDO","state":"FL","country":"US","zip":"32809"},"destination_location":"BROOKLYN HGTS NY US","destination_tracking_location":null,"guaranteed_delivery_date":null,"alternate_identifier":null,"initial_delivery_attempt":null},"finalized":false,"is_return":false,"public_url":"https://track.easypost.com/1"}}`;

describe("EasyPost webhook signatures (X-Hmac-Signature: hmac-sha256-hex=…)", () => {
	it("verifies EasyPost's published example, whose secret needs NFKD normalization", async () => {
		expect(await verifyEasyPostWebhook(PUBLISHED.secret, headers(PUBLISHED.signature), PUBLISHED.body)).toBe(true);
		// The same secret composed (NFC "é") or decomposed (NFKD "e" + U+0301) is the same key.
		expect(await verifyEasyPostWebhook(PUBLISHED.secret.normalize("NFD"), headers(PUBLISHED.signature), PUBLISHED.body)).toBe(true);
		expect(await signEasyPostWebhook(PUBLISHED.secret, PUBLISHED.body)).toBe(PUBLISHED.signature);
	});

	it("round-trips what it signs, and rejects a tampered body, a wrong secret, a missing or malformed header", async () => {
		const secret = "whsec_round_trip";
		const signature = await signEasyPostWebhook(secret, TRACKER_UPDATED);
		expect(signature).toMatch(/^hmac-sha256-hex=[0-9a-f]{64}$/);
		expect(await verifyEasyPostWebhook(secret, headers(signature), TRACKER_UPDATED)).toBe(true);
		expect(await verifyEasyPostWebhook(secret, headers(signature.toUpperCase().replace("HMAC-SHA256-HEX=", "hmac-sha256-hex=")), TRACKER_UPDATED)).toBe(true);
		expect(await verifyEasyPostWebhook(secret, headers(signature), TRACKER_UPDATED.replace('"status":"in_transit"', '"status":"delivered"'))).toBe(false);
		expect(await verifyEasyPostWebhook(secret, headers(signature), `${TRACKER_UPDATED} `)).toBe(false);
		expect(await verifyEasyPostWebhook("another-secret", headers(signature), TRACKER_UPDATED)).toBe(false);
		expect(await verifyEasyPostWebhook(secret, headers(), TRACKER_UPDATED)).toBe(false);
		expect(await verifyEasyPostWebhook(secret, headers(signature.slice("hmac-sha256-hex=".length)), TRACKER_UPDATED)).toBe(false);
		expect(await verifyEasyPostWebhook(secret, headers(`${signature.slice(0, -2)}zz`), TRACKER_UPDATED)).toBe(false);
		expect(await verifyEasyPostWebhook(secret, headers(signature.slice(0, -2)), TRACKER_UPDATED)).toBe(false);
	});
});

describe("EasyPost Event parsing", () => {
	it("reads the documented tracker.updated Event as a tracking update", () => {
		expect(parseEasyPostEvent(TRACKER_UPDATED)).toEqual({
			ok: true,
			update: {
				eventId: "evt_1",
				trackerId: "trk_1",
				trackingCode: "1",
				carrier: "FedEx",
				status: "in_transit",
				statusDetail: "arrived_at_facility",
				at: "2024-08-02T18:50:00.000Z", // the latest scan, not the webhook's own time
				estDeliveryDate: "2024-08-05T00:00:00.000Z",
			},
		});
	});

	it("acknowledges other events without an update, and names what is wrong with a bad one", () => {
		expect(parseEasyPostEvent(PUBLISHED.body)).toEqual({ ok: true, ignored: "batch.created" });
		expect(parseEasyPostEvent("not json")).toEqual({ ok: false, error: "body is not JSON" });
		const noResult = JSON.parse(TRACKER_UPDATED) as Record<string, unknown>;
		noResult.result = { object: "Tracker" };
		const parsed = parseEasyPostEvent(JSON.stringify(noResult));
		expect(parsed.ok).toBe(false);
		expect(!parsed.ok && parsed.error).toMatch(/tracker\.updated without a Tracker: .*tracking_code/);
		const strange = JSON.parse(TRACKER_UPDATED) as { result: { status: string; tracking_details: unknown[] } };
		strange.result.status = "teleported";
		strange.result.tracking_details = [];
		expect(parseEasyPostEvent(JSON.stringify(strange))).toMatchObject({ ok: true, update: { status: "unknown", at: "2024-08-02T19:26:51.000Z" } });
	});
});

describe("EasyPost trackers against the sandbox", () => {
	it("creates a tracker once: the same code and carrier again is the same tracker", async () => {
		const trackingCode = uniqueCode();
		const first = await createTracker(account(), { trackingCode, carrier: "USPS" }, { timeoutMs: 5_000 });
		expect(first).toMatchObject({ ok: true, value: { status: "pre_transit" } });
		if (!first.ok) return;
		expect(first.value.trackerId).toMatch(/^trk_/);
		const again = await createTracker(account(), { trackingCode, carrier: "USPS" }, { timeoutMs: 5_000 });
		expect(again).toEqual(first);
		const { trackers } = (await (await sandbox(`/sandbox/easypost/trackers?match=${trackingCode}`)).json()) as { trackers: Array<{ id: string }> };
		expect(trackers.map((t) => t.id)).toEqual([first.value.trackerId]);
	});

	it("classifies a wrong API key and a missing tracking code as permanent, a 500 as retryable", async () => {
		const denied = await createTracker({ ...account(), apiKey: "EZTK_wrong" }, { trackingCode: uniqueCode(), carrier: "USPS" }, { timeoutMs: 5_000 });
		expect(denied).toMatchObject({ ok: false, retryable: false, status: 401 });
		expect(!denied.ok && denied.error).toMatch(/^401 APIKEY\./);
		const invalid = await createTracker(account(), { trackingCode: " ", carrier: "USPS" }, { timeoutMs: 5_000 });
		expect(invalid).toMatchObject({ ok: false, retryable: false, status: 422 });
		expect(!invalid.ok && invalid.error).toContain("PARAMETER.REQUIRED");
		// Another file may take this fault first; then our call simply succeeds.
		await sandbox("/sandbox/faults", { method: "POST", body: JSON.stringify({ target: "easypost", kind: "500", remaining: 1 }) });
		const flaky = await createTracker(account(), { trackingCode: uniqueCode(), carrier: "USPS" }, { timeoutMs: 5_000 });
		if (!flaky.ok) expect(flaky).toMatchObject({ retryable: true, status: 500 });
	});

	it("moves a parcel and sends a signed tracker.updated that verifies and parses", async () => {
		const trackingCode = uniqueCode();
		const created = await createTracker(account(), { trackingCode, carrier: "UPS" }, { timeoutMs: 5_000 });
		expect(created.ok).toBe(true);
		const moved = (await (await sandbox("/sandbox/easypost/advance", { method: "POST", body: JSON.stringify({ match: trackingCode }) })).json()) as { trackers: Array<{ status: string }> };
		expect(moved.trackers.map((t) => t.status)).toEqual(["in_transit"]);
		await sandbox("/sandbox/easypost/advance", { method: "POST", body: JSON.stringify({ match: trackingCode, status: "delivered" }) });

		const { callbacks } = (await (await sandbox("/sandbox/callbacks/drain", { method: "POST", body: JSON.stringify({ match: trackingCode }) })).json()) as {
			callbacks: Array<{ key: string; path: string; headers: Record<string, string>; body: string }>;
		};
		expect(callbacks).toHaveLength(2);
		const updates = [];
		for (const callback of callbacks) {
			expect(callback.path).toBe("/webhooks/easypost/easypost");
			expect(await verifyEasyPostWebhook(env[account().webhookSecret] as string, new Headers(callback.headers), callback.body)).toBe(true);
			const parsed = parseEasyPostEvent(callback.body);
			if (!parsed.ok || !("update" in parsed)) throw new Error(`not an update: ${JSON.stringify(parsed)}`);
			updates.push(parsed.update);
		}
		expect(updates.map((u) => u.status)).toEqual(["in_transit", "delivered"]);
		expect(updates[0]).toMatchObject({ trackingCode, carrier: "UPS", trackerId: created.ok ? created.value.trackerId : "" });
		expect(new Set(updates.map((u) => u.eventId)).size).toBe(2);
	});
});
