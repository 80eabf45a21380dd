import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../worker/config";
import type { CallResult } from "../worker/connectors/call";
import { createFulfillment, recordTrackingEvent } from "../worker/connectors/shopify/fulfillment";
import type { ChannelFulfillment } from "../worker/model/fulfillment";
import { newOrderId, order } from "./helpers";

// Every outbound fetch from a test reaches the sandbox worker (vitest.config.ts), which plays the shop.
const sandbox = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:8789${path}`, init);
const shop = () => {
	const connection = loadConfig(env).connections.get("shopify-demo");
	if (!connection?.admin || !connection.adminToken) throw new Error("shopify-demo has no admin API in wrangler.toml");
	return { admin: connection.admin, token: connection.adminToken };
};
const fast = { timeoutMs: 5_000 };

type Fulfillments = {
	fulfillments: Array<{ id: string; trackingInfo: Array<{ number: string | null; company: string | null }>; lineItems: Array<{ lineItemId: string; quantity: number }>; events: Array<{ status: string }>; createAttempts: number }>;
	fulfillmentOrders?: Array<{ id: string; status: string; lineItems: Array<{ id: string; lineItemId: string; remainingQuantity: number }> }>;
};
const inShop = async (orderId: number) => (await (await sandbox(`/sandbox/fulfillments?order=${orderId}`)).json()) as Fulfillments;

/** A two-line order in the sandbox shop: line 1 (×2) and line 2 (×1). */
async function registerOrder() {
	const id = newOrderId();
	const body = order({ id, lines: [{ sku: "TEE-BLK-M", quantity: 2, price: "20.00" }, { sku: "CAP-NVY", quantity: 1, price: "15.00" }] });
	const response = await sandbox("/sandbox/orders", { method: "POST", body: JSON.stringify(body) });
	expect(response.status).toBe(200);
	return { id, line1: String(id * 10 + 1), line2: String(id * 10 + 2) };
}

const shipment = (orderId: number, lines: Array<[string, number]>, number: string | undefined): ChannelFulfillment => ({
	channelOrderId: String(orderId),
	shipmentId: `shp-${number ?? crypto.randomUUID()}`,
	lines: lines.map(([channelLineId, quantity]) => ({ channelLineId, quantity })),
	tracking: { company: "UPS", number, url: number ? `https://www.ups.com/track?tracknum=${number}` : undefined },
	notifyCustomer: false,
});
const trackingNumber = () => `1Z${crypto.randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase()}`;

/** Other test files share the sandbox and its faults: retry what is retryable, as the outbox would. */
async function retrying<T>(call: () => Promise<CallResult<T>>, attempts = 8): Promise<CallResult<T>> {
	let result = await call();
	for (let i = 1; i < attempts && !result.ok && result.retryable; i++) {
		await new Promise((resolve) => setTimeout(resolve, Math.min(result.ok ? 0 : (result.retryAfterMs ?? 200), 1_500)));
		result = await call();
	}
	return result;
}

describe("Shopify fulfilments (fulfillmentCreate)", () => {
	it("records a shipment of some lines once, with its tracking; the same shipment again is the same fulfilment", async () => {
		const { admin, token } = shop();
		const { id, line1 } = await registerOrder();
		const number = trackingNumber();
		const first = await retrying(() => createFulfillment(admin, token, shipment(id, [[line1, 2]], number), fast));
		expect(first).toMatchObject({ ok: true, value: { existing: false } });
		let state = await inShop(id);
		expect(state.fulfillments).toHaveLength(1);
		expect(state.fulfillments[0]).toMatchObject({ trackingInfo: [{ number, company: "UPS" }], lineItems: [{ lineItemId: `gid://shopify/LineItem/${line1}`, quantity: 2 }] });
		expect(state.fulfillmentOrders?.[0]?.status).toBe("IN_PROGRESS");

		const again = await retrying(() => createFulfillment(admin, token, shipment(id, [[line1, 2]], number), fast));
		expect(again).toEqual({ ok: true, value: { fulfillmentId: first.ok ? first.value.fulfillmentId : "", existing: true } });
		state = await inShop(id);
		expect(state.fulfillments).toHaveLength(1);
		expect(state.fulfillments[0]!.createAttempts).toBe(1);
	});

	it("a fulfilment whose answer was lost is found by the retry, never created twice", async () => {
		const { admin, token } = shop();
		const { id, line1 } = await registerOrder();
		const number = trackingNumber();
		// The shop does the work, then answers after the caller has given up.
		await sandbox("/sandbox/faults", { method: "POST", body: JSON.stringify({ target: "shopify", kind: "lost-response", remaining: 1, ms: 1_500 }) });
		const lost = await createFulfillment(admin, token, shipment(id, [[line1, 2]], number), { timeoutMs: 400 });
		if (!lost.ok) expect(lost.retryable).toBe(true); // another file may have taken the fault
		const retry = await retrying(() => createFulfillment(admin, token, shipment(id, [[line1, 2]], number), fast));
		expect(retry.ok).toBe(true);
		const state = await inShop(id);
		expect(state.fulfillments).toHaveLength(1);
		expect(state.fulfillments[0]!.createAttempts).toBe(1);
		if (!lost.ok && retry.ok) expect(retry.value.existing).toBe(true);
	});

	it("a second shipment for the rest closes the fulfillment order; a third has nothing left to fulfil", async () => {
		const { admin, token } = shop();
		const { id, line1, line2 } = await registerOrder();
		expect((await retrying(() => createFulfillment(admin, token, shipment(id, [[line1, 1]], trackingNumber()), fast))).ok).toBe(true);
		expect((await retrying(() => createFulfillment(admin, token, shipment(id, [[line1, 1], [line2, 1]], trackingNumber()), fast))).ok).toBe(true);
		const state = await inShop(id);
		expect(state.fulfillments).toHaveLength(2);
		expect(state.fulfillmentOrders?.[0]).toMatchObject({ status: "CLOSED", lineItems: [{ remainingQuantity: 0 }, { remainingQuantity: 0 }] });

		const extra = await retrying(() => createFulfillment(admin, token, shipment(id, [[line2, 1]], trackingNumber()), fast));
		expect(extra).toMatchObject({ ok: false, retryable: false });
		expect(!extra.ok && extra.error).toMatch(/nothing remains to fulfil/);
		expect((await inShop(id)).fulfillments).toHaveLength(2);
	});

	it("an untracked shipment is matched by its lines; an order the shop does not have is a permanent failure", async () => {
		const { admin, token } = shop();
		const { id, line2 } = await registerOrder();
		const first = await retrying(() => createFulfillment(admin, token, shipment(id, [[line2, 1]], undefined), fast));
		expect(first).toMatchObject({ ok: true, value: { existing: false } });
		const again = await retrying(() => createFulfillment(admin, token, shipment(id, [[line2, 1]], undefined), fast));
		expect(again).toMatchObject({ ok: true, value: { existing: true } });
		expect((await inShop(id)).fulfillments).toHaveLength(1);

		const missing = await retrying(() => createFulfillment(admin, token, shipment(newOrderId(), [["1", 1]], trackingNumber()), fast));
		expect(missing).toMatchObject({ ok: false, retryable: false });
		expect(!missing.ok && missing.error).toMatch(/Shopify has no order/);
	});

	it("the shop refuses more than remains with Shopify's userError", async () => {
		const { admin, token } = shop();
		const { id } = await registerOrder();
		const { fulfillmentOrders } = await inShop(id);
		expect(fulfillmentOrders).toHaveLength(1);
		const fo = fulfillmentOrders![0]!;
		const ask = () =>
			fetch(`${admin.endpoint}/admin/api/${admin.apiVersion}/graphql.json`, {
				method: "POST",
				headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": token },
				body: JSON.stringify({
					query: "mutation FulfillmentCreate($fulfillment: FulfillmentInput!) { fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id } userErrors { field message } } }",
					variables: { fulfillment: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: fo.id, fulfillmentOrderLineItems: [{ id: fo.lineItems[0]!.id, quantity: 3 }] }] } },
				}),
			}).then((r) => r.json() as Promise<{ data?: { fulfillmentCreate: unknown } }>);
		let body = await ask();
		for (let i = 0; i < 3 && !body.data; i++) body = await ask(); // a shared fault may answer first
		expect(body.data?.fulfillmentCreate).toEqual({ fulfillment: null, userErrors: [{ field: ["fulfillment"], message: "Invalid fulfillment order line item quantity requested." }] });
		expect((await inShop(id)).fulfillments).toHaveLength(0);
	});
});

describe("Shopify tracking events (fulfillmentEventCreate)", () => {
	it("records delivered once, skips it the second time, and skips statuses that say nothing", async () => {
		const { admin, token } = shop();
		const { id, line1 } = await registerOrder();
		const number = trackingNumber();
		const early = await recordTrackingEvent(admin, token, { channelOrderId: String(id), trackingNumber: number, status: "in_transit", happenedAt: new Date().toISOString() }, fast);
		if (!early.ok) expect(early).toMatchObject({ retryable: true });
		expect(!early.ok && early.error).toMatch(/fulfillment not created yet|network|THROTTLED|429|50\d/);

		expect((await retrying(() => createFulfillment(admin, token, shipment(id, [[line1, 2]], number), fast))).ok).toBe(true);
		const happenedAt = "2026-11-20T15:04:05.000Z";
		const delivered = await retrying(() => recordTrackingEvent(admin, token, { channelOrderId: String(id), trackingNumber: number, status: "delivered", happenedAt, message: "Delivered, front door" }, fast));
		expect(delivered).toMatchObject({ ok: true, value: { fulfillmentEventId: expect.stringMatching(/^gid:\/\/shopify\/FulfillmentEvent\//) } });
		expect(delivered.ok && delivered.value.skipped).toBeUndefined();
		const again = await retrying(() => recordTrackingEvent(admin, token, { channelOrderId: String(id), trackingNumber: number, status: "delivered", happenedAt }, fast));
		expect(again).toMatchObject({ ok: true, value: { skipped: "fulfillment already shows DELIVERED" } });
		const unknown = await recordTrackingEvent(admin, token, { channelOrderId: String(id), trackingNumber: number, status: "unknown", happenedAt }, fast);
		expect(unknown).toMatchObject({ ok: true, value: { fulfillmentEventId: null, skipped: expect.stringContaining("unknown") } });

		const [fulfillment] = (await inShop(id)).fulfillments;
		expect(fulfillment!.events).toEqual([{ status: "DELIVERED", happenedAt }]);
	});

	for (const kind of ["429", "500"] as const) {
		it(`a ${kind} from the shop is a retryable failure`, async () => {
			const { admin, token } = shop();
			const { id, line1 } = await registerOrder();
			const number = trackingNumber();
			expect((await retrying(() => createFulfillment(admin, token, shipment(id, [[line1, 2]], number), fast))).ok).toBe(true);
			// Other files share the faults: try a few times until this file's fault meets this file's call.
			let failure: CallResult<unknown> | null = null;
			for (let i = 0; i < 5 && !failure; i++) {
				await sandbox("/sandbox/faults", { method: "POST", body: JSON.stringify({ target: "shopify", kind, remaining: 1 }) });
				const result = await recordTrackingEvent(admin, token, { channelOrderId: String(id), trackingNumber: number, status: "in_transit", happenedAt: new Date().toISOString() }, fast);
				if (!result.ok) failure = result;
			}
			expect(failure).toMatchObject({ ok: false, retryable: true, error: kind === "429" ? "429 Too Many Requests" : "500 from Shopify" });
			if (kind === "429") expect(failure).toMatchObject({ retryAfterMs: 1_000 });
		});
	}
});
