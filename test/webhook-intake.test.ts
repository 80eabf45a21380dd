import { describe, expect, it } from "vitest";
import { signedDelivery } from "../demo/shopify-orders.mjs";
import { CONNECTION, SECRET, call, deliver, eventually, newOrderId, ops, order, orderView, uniqueSku } from "./helpers";

async function openExceptions() {
	const response = await ops("/ops/exceptions");
	return ((await response.json()) as { items: Array<{ id: string; eventId: string; reason: string; kind: string; status: string }> }).items;
}

describe("POST /webhooks/shopify/:connection", () => {
	it("stores a signed orders/create durably before acknowledging it", async () => {
		const id = newOrderId();
		const response = await deliver("orders/create", order({ id, lines: [{ sku: uniqueSku("tee"), quantity: 1, price: "25.00" }] }), { eventId: `evt-${id}` });
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ status: "applied", eventId: `evt-${id}`, order: `${CONNECTION}:${id}` });
		const view = await orderView(id);
		expect(view?.events[0]).toMatchObject({ eventId: `evt-${id}`, source: "inbound", type: "orders/create", outcome: "applied" });
		expect(JSON.parse(view!.events[0]!.body).id).toBe(id);
	});

	it("answers 401 to a wrong or missing signature and stores nothing", async () => {
		const id = newOrderId();
		const body = order({ id, lines: [{ sku: "x", quantity: 1, price: "1.00" }] });
		const wrong = await deliver("orders/create", body, { secret: "not-the-secret" });
		expect(wrong.status).toBe(401);
		expect(await wrong.json()).toMatchObject({ error: { code: "invalid_signature" } });

		const unsigned = await call(`/webhooks/shopify/${CONNECTION}`, {
			method: "POST",
			headers: { "X-Shopify-Topic": "orders/create", "X-Shopify-Event-Id": `e-${id}` },
			body: JSON.stringify(body),
		});
		expect(unsigned.status).toBe(401);

		// Signed, but the body was changed on the way.
		const delivery = await signedDelivery({ secret: SECRET, topic: "orders/create", body });
		const tampered = await call(`/webhooks/shopify/${CONNECTION}`, { method: "POST", headers: delivery.headers, body: delivery.body.replace('"paid"', '"refunded"') });
		expect(tampered.status).toBe(401);

		expect(await orderView(id)).toBeNull();
		expect((await openExceptions()).some((e) => e.eventId === `e-${id}`)).toBe(false);
	});

	it("answers 404 for an unknown connection", async () => {
		const delivery = await signedDelivery({ secret: SECRET, topic: "orders/create", body: {} });
		const response = await call("/webhooks/shopify/nobody", { method: "POST", headers: delivery.headers, body: delivery.body });
		expect(response.status).toBe(404);
		expect(await response.json()).toMatchObject({ error: { code: "unknown_connection" } });
	});

	it("answers 413 to a body over 1 MiB, before reading it all", async () => {
		const big = JSON.stringify({ padding: "x".repeat(1024 * 1024) });
		const delivery = await signedDelivery({ secret: SECRET, topic: "orders/create", body: big });
		const response = await call(`/webhooks/shopify/${CONNECTION}`, { method: "POST", headers: delivery.headers, body: delivery.body });
		expect(response.status).toBe(413);

		// Without a Content-Length the limit still holds while streaming.
		const stream = new Blob([delivery.body]).stream();
		const chunked = await call(`/webhooks/shopify/${CONNECTION}`, { method: "POST", headers: delivery.headers, body: stream, duplex: "half" } as RequestInit);
		expect(chunked.status).toBe(413);
	});

	it("acknowledges a redelivery with the same event id and changes nothing", async () => {
		const id = newOrderId();
		const body = order({ id, lines: [{ sku: uniqueSku("mug"), quantity: 2, price: "12.00" }] });
		const first = await deliver("orders/create", body, { eventId: `dup-${id}` });
		const again = await deliver("orders/create", body, { eventId: `dup-${id}` });
		expect(first.status).toBe(200);
		expect(again.status).toBe(200);
		expect(await again.json()).toMatchObject({ status: "duplicate" });
		const view = await orderView(id);
		expect(view!.events.filter((e) => e.source === "inbound")).toHaveLength(1);
	});

	it("falls back to X-Shopify-Webhook-Id for deduplication", async () => {
		const id = newOrderId();
		const delivery = await signedDelivery({ secret: SECRET, topic: "orders/create", body: order({ id, lines: [{ sku: uniqueSku("cap"), quantity: 1, price: "9.00" }] }) });
		const { "X-Shopify-Event-Id": _, ...headers } = delivery.headers;
		const send = () => call(`/webhooks/shopify/${CONNECTION}`, { method: "POST", headers, body: delivery.body });
		expect(await (await send()).json()).toMatchObject({ status: "applied", eventId: headers["X-Shopify-Webhook-Id"] });
		expect(await (await send()).json()).toMatchObject({ status: "duplicate" });
	});

	it("acknowledges other topics and records them as ignored", async () => {
		const response = await deliver("products/update", { id: 1, title: "Tee" }, { eventId: "ignored-topic-1" });
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ status: "ignored" });
		await eventually(
			async () => (await (await ops("/ops/flows?after=0&limit=1000")).json()) as { events: Array<{ type: string; eventId?: string }> },
			(flows) => flows.events.some((e) => e.type === "ignored" && e.eventId === "ignored-topic-1"),
		);
	});

	it("quarantines a signed body that is not JSON: acknowledged, kept whole, visible to ops", async () => {
		const response = await deliver("orders/create", '{"id": 12, "line_items": [', { eventId: "not-json-1" });
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ status: "quarantined" });
		const item = (await openExceptions()).find((e) => e.eventId === "not-json-1");
		expect(item).toMatchObject({ kind: "quarantine", status: "open" });
		expect(item!.reason).toMatch(/not JSON/);
		const full = (await (await ops(`/ops/exceptions/${encodeURIComponent(item!.id)}`)).json()) as { rawBody: string };
		expect(full.rawBody).toBe('{"id": 12, "line_items": [');
	});

	it("quarantines a body that fails the schema, naming the field, and stores it once on redelivery", async () => {
		const id = newOrderId();
		const body = order({ id, lines: [{ sku: "ok", quantity: 1, price: "1.00" }] });
		(body.line_items[0] as Record<string, unknown>).quantity = "one";
		await deliver("orders/create", body, { eventId: `bad-${id}` });
		await deliver("orders/create", body, { eventId: `bad-${id}` });
		const matches = (await openExceptions()).filter((e) => e.eventId === `bad-${id}`);
		expect(matches).toHaveLength(1);
		expect(matches[0]!.reason).toContain("line_items[0].quantity");
		expect(await orderView(id)).toBeNull();
	});

	it("quarantines a body that is not valid UTF-8 as base64", async () => {
		const bytes = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
		const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
		const mac = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes))));
		const response = await call(`/webhooks/shopify/${CONNECTION}`, {
			method: "POST",
			headers: { "X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": mac, "X-Shopify-Event-Id": "bad-utf8" },
			body: bytes,
		});
		expect(await response.json()).toMatchObject({ status: "quarantined" });
		const item = (await openExceptions()).find((e) => e.eventId === "bad-utf8");
		const full = (await (await ops(`/ops/exceptions/${encodeURIComponent(item!.id)}`)).json()) as { rawBody: string };
		expect(full.rawBody).toBe(btoa(String.fromCharCode(...bytes)));
	});
});

describe("ids beyond 2^53", () => {
	it("routes an order and its refund, both with Shopify's 18-digit sample id, to the same order object", async () => {
		const big = "820982911946154508"; // JSON.parse alone would read 820982911946154500
		const sku = uniqueSku("big");
		const created = JSON.stringify(order({ id: 1, lines: [{ sku, quantity: 1, price: "10.00" }] }))
			.replace('"id":1,', `"id":${big},`)
			.replace('"gid://shopify/Order/1"', `"gid://shopify/Order/${big}"`);
		const refund = `{"id":509562969,"order_id":${big},"created_at":"2026-11-27T10:00:00Z","note":null,"restock":false,"refund_line_items":[],"transactions":[{"id":1,"amount":"0.00","currency":"USD","kind":"refund","status":"success"}],"order_adjustments":[]}`;
		expect(await (await deliver("orders/create", created)).json()).toMatchObject({ order: `${CONNECTION}:${big}` });
		expect(await (await deliver("refunds/create", refund)).json()).toMatchObject({ status: "applied", order: `${CONNECTION}:${big}` });
		const view = await orderView(big);
		expect(view!.events.filter((e) => e.source === "inbound").map((e) => e.type)).toEqual(["orders/create", "refunds/create"]);
	});
});
