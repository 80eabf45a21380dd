import type { IRequest } from "itty-router";
import { flowMonitor, noteFlows } from "../../durable-objects/flow-monitor";
import { toBase64 } from "../base64";
import { SHOPIFY_ORDER_TOPICS } from "../connectors/shopify/normalize";
import { verifyShopifyHmac } from "../connectors/shopify/signature";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { BodyTooLarge, failure, json, readBody } from "../http";
import { deliverInbound, type ReceivedEvent } from "../inbound";
import { SHOPIFY_PRIVACY_TOPICS, receiveShopifyPrivacy } from "./privacy";
import { verifyWithSecret } from "../secrets";

/** Shopify's own webhook payloads stay far below this; anything larger is refused. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;

// A BOM is kept: the stored raw body is every byte Shopify signed.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * POST /webhooks/shopify/:connection — verify, store, acknowledge. Everything validly signed is
 * acknowledged with 200 once durable (Shopify deletes subscriptions that keep failing): unusable
 * bodies are quarantined, unknown topics recorded as ignored, redeliveries change nothing.
 */
export async function receiveShopifyWebhook(request: IRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
	const connection = loadConfig(env).connections.get(decodeURIComponent(request.params.connection ?? ""));
	if (!connection || connection.channel !== "shopify") return failure(404, "unknown_connection", "no Shopify connection by that id");

	let body: Uint8Array;
	try {
		body = await readBody(request, MAX_WEBHOOK_BYTES);
	} catch (error) {
		if (error instanceof BodyTooLarge) return failure(413, "body_too_large", `webhook bodies are limited to ${MAX_WEBHOOK_BYTES} bytes`);
		throw error;
	}
	const hmac = request.headers.get("X-Shopify-Hmac-Sha256");
	if (!(await verifyWithSecret(env, connection.secret, (key) => verifyShopifyHmac(key, body, hmac), { connection: connection.id }))) {
		return failure(401, "invalid_signature", "X-Shopify-Hmac-Sha256 does not match the body");
	}

	const topic = request.headers.get("X-Shopify-Topic") ?? "";
	if (SHOPIFY_PRIVACY_TOPICS.has(topic)) {
		// Compliance requests: the body names a customer, so it is read, never stored or quarantined.
		const eventId = request.headers.get("X-Shopify-Event-Id") ?? request.headers.get("X-Shopify-Webhook-Id") ?? `sha256:${await sha256Hex(topic, body)}`;
		return receiveShopifyPrivacy(env, ctx, connection, topic, eventId, body);
	}
	const event: ReceivedEvent = {
		eventId:
			request.headers.get("X-Shopify-Event-Id") ??
			request.headers.get("X-Shopify-Webhook-Id") ??
			`sha256:${await sha256Hex(topic, body)}`,
		connection: connection.id,
		channel: "shopify",
		topic,
		triggeredAt: request.headers.get("X-Shopify-Triggered-At"),
		receivedAt: new Date().toISOString(),
		rawBody: "",
	};
	const monitor = flowMonitor(env);

	try {
		event.rawBody = utf8.decode(body);
	} catch {
		event.rawBody = toBase64(body);
		await monitor.quarantine({ ...event, reason: "body is not valid UTF-8 (kept as base64)" });
		return json({ status: "quarantined", eventId: event.eventId });
	}

	if (!SHOPIFY_ORDER_TOPICS.has(topic)) {
		// Noted for operators, but not awaited: a busy monitor must not fail a webhook we do not use.
		const note = { type: "ignored", connection: connection.id, topic, eventId: event.eventId, detail: `topic ${topic || "(none)"} is not handled` };
		noteFlows(ctx, env, [note]);
		return json({ status: "ignored", eventId: event.eventId });
	}

	const result = await deliverInbound(env, event);
	if (!result.ok) {
		await monitor.quarantine({ ...event, reason: result.error });
		return json({ status: "quarantined", eventId: event.eventId });
	}
	return json({ status: result.outcome.status, eventId: event.eventId, order: result.orderKey });
}

async function sha256Hex(topic: string, body: Uint8Array): Promise<string> {
	const topicBytes = new TextEncoder().encode(`${topic}\n`);
	const data = new Uint8Array(topicBytes.byteLength + body.byteLength);
	data.set(topicBytes);
	data.set(body, topicBytes.byteLength);
	const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
	return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
