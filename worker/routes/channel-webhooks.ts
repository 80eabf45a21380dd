import type { IRequest } from "itty-router";
import { flowMonitor, noteFlows } from "../../durable-objects/flow-monitor";
import { parseAmazonNotification, verifyAmazonWebhook } from "../connectors/amazon";
import { EDI_CONTENT_TYPE, verifyEdiWebhook } from "../connectors/edi";
import { parseTikTokNotification, verifyTikTokWebhook } from "../connectors/tiktok";
import { parseWooCommerceChange, readWooCommerceHeaders, verifyWooCommerceWebhook, wooCommerceEventId, wooCommercePing } from "../connectors/woocommerce";
import { type Connection, loadConfig } from "../config";
import type { Env } from "../env";
import { failure, json } from "../http";
import type { Channel } from "../model/order";
import { readText } from "./fulfillment-webhooks";
import { verifyWithSecret } from "../secrets";

/** What reading a verified webhook came to: the orders it reached, or why it was set aside. */
export type Applied = { ok: true; eventId: string; orders: string[]; outcome: string } | { ok: false; eventId: string; error: string };

type Received = { connection: Connection; topic: string; eventId: string; receivedAt: string; rawBody: string };

/**
 * TikTok Shop and Amazon notifications name an order without its contents: each is stored on the
 * order's object (which fetches the order from the channel after this answers), so TikTok and
 * Amazon get their 200 as soon as it is durable.
 */
async function notifyOrders(env: Env, received: Received, orders: string[], triggeredAt: string | null): Promise<Applied> {
	const { connection, eventId } = received;
	const outcomes = await Promise.all(
		orders.map(async (channelOrderId) => {
			const key = `${connection.id}:${channelOrderId}`;
			const { status } = await env.ORDER_FLOW.getByName(key).notify({
				eventId,
				connection: connection.id,
				channel: connection.channel,
				topic: received.topic,
				triggeredAt,
				receivedAt: received.receivedAt,
				rawBody: received.rawBody,
				channelOrderId,
			});
			return { key, status };
		}),
	);
	return { ok: true, eventId, orders: outcomes.map((o) => o.key), outcome: outcomes.map((o) => o.status).join(", ") || "no orders" };
}

/** Reads a verified TikTok Shop notification (also how a quarantined one is replayed). */
export async function applyTikTokWebhook(env: Env, received: Received): Promise<Applied> {
	const parsed = await parseTikTokNotification(received.rawBody, received.connection.tiktok?.shopId);
	if (!parsed.ok) return { ok: false, eventId: received.eventId, error: parsed.error };
	if ("ignored" in parsed) return { ok: true, eventId: parsed.eventId, orders: [], outcome: `ignored: ${parsed.ignored}` };
	const { notification } = parsed;
	return notifyOrders(env, { ...received, eventId: notification.eventId, topic: notification.topic }, notification.orderIds, notification.triggeredAt);
}

/** Reads a verified Amazon ORDER_CHANGE notification (also how a quarantined one is replayed). */
export async function applyAmazonWebhook(env: Env, received: Received): Promise<Applied> {
	const parsed = parseAmazonNotification(received.rawBody, received.connection.amazon);
	if (!parsed.ok) return { ok: false, eventId: received.eventId, error: parsed.error };
	if ("ignored" in parsed) return { ok: true, eventId: parsed.eventId ?? received.eventId, orders: [], outcome: `ignored: ${parsed.ignored}` };
	const { notice } = parsed;
	return notifyOrders(env, { ...received, eventId: notice.eventId, topic: `ORDER_CHANGE/${notice.orderStatus}` }, [notice.channelOrderId], notice.eventTime);
}

/**
 * Reads a verified WooCommerce webhook, which carries the whole order (also how a quarantined one is
 * replayed). A trashed order's webhook carries only its id: the order is read back from the store.
 */
export async function applyWooCommerceWebhook(env: Env, received: Received): Promise<Applied> {
	let body: unknown;
	try {
		body = JSON.parse(received.rawBody);
	} catch (error) {
		return { ok: false, eventId: received.eventId, error: `body is not JSON: ${(error as Error).message}` };
	}
	const parsed = parseWooCommerceChange(received.topic, body, received.connection.id);
	if (!parsed.ok) return { ok: false, eventId: received.eventId, error: parsed.error };
	if ("ignored" in parsed) return { ok: true, eventId: received.eventId, orders: [], outcome: `ignored: ${parsed.ignored}` };
	if ("refetch" in parsed) return notifyOrders(env, received, [parsed.refetch.channelOrderId], null);
	const change = parsed.change;
	const channelOrderId = change.kind === "order" ? change.order.channelOrderId : change.channelOrderId;
	const key = `${received.connection.id}:${channelOrderId}`;
	const outcome = await env.ORDER_FLOW.getByName(key).ingest({
		eventId: received.eventId,
		connection: received.connection.id,
		channel: "woocommerce",
		topic: received.topic,
		triggeredAt: null,
		receivedAt: received.receivedAt,
		rawBody: received.rawBody,
		change,
	});
	return { ok: true, eventId: received.eventId, orders: [key], outcome: outcome.status };
}

/** The one shape every channel's webhook takes once verified: apply, or quarantine and still acknowledge. */
async function settle(env: Env, ctx: ExecutionContext, received: Received, applied: Applied): Promise<Response> {
	const { connection } = received;
	if (!applied.ok) {
		await flowMonitor(env).quarantine({
			connection: connection.id,
			channel: connection.channel,
			topic: received.topic,
			eventId: applied.eventId,
			triggeredAt: null,
			receivedAt: received.receivedAt,
			rawBody: received.rawBody,
			reason: applied.error,
		});
		return json({ status: "quarantined", eventId: applied.eventId });
	}
	if (applied.orders.length === 0) {
		noteFlows(ctx, env, [{ type: "ignored", connection: connection.id, channel: connection.channel, topic: received.topic, eventId: applied.eventId, detail: applied.outcome }]);
		return json({ status: "ignored", eventId: applied.eventId });
	}
	return json({ status: applied.outcome, eventId: applied.eventId, orders: applied.orders });
}

/** The id of a body that could not be read for one: the same bytes redelivered are quarantined once. */
async function bodyId(text: string): Promise<string> {
	const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
	return `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The connection a webhook path names, if it is one of this channel's. */
function connectionFor(request: IRequest, env: Env, channel: Channel): Connection | null {
	const connection = loadConfig(env).connections.get(decodeURIComponent(request.params.connection ?? ""));
	return connection?.channel === channel ? connection : null;
}

/** POST /webhooks/tiktok/:connection — `Authorization` is hex HMAC-SHA256(app secret, app key + body). */
export async function receiveTikTokWebhook(request: IRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
	const connection = connectionFor(request, env, "tiktok");
	if (!connection?.tiktok) return failure(404, "unknown_connection", "no TikTok Shop connection by that id");
	const body = await readText(request);
	if ("response" in body) return body.response;
	const { appKey, appSecretSecret } = connection.tiktok;
	const verify = (appSecret: string) => verifyTikTokWebhook({ appKey, appSecret }, request.headers, body.text);
	if (!(await verifyWithSecret(env, appSecretSecret, verify, { connection: connection.id }))) {
		return failure(401, "invalid_signature", "Authorization does not match HMAC-SHA256(app secret, app key + body)");
	}
	const received = { connection, topic: "tiktok", eventId: await bodyId(body.text), receivedAt: new Date().toISOString(), rawBody: body.text };
	return settle(env, ctx, received, await applyTikTokWebhook(env, received));
}

/** POST /webhooks/amazon/:connection — from an EventBridge API destination, authenticated by its API key header. */
export async function receiveAmazonWebhook(request: IRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
	const connection = connectionFor(request, env, "amazon");
	if (!connection?.amazon) return failure(404, "unknown_connection", "no Amazon connection by that id");
	const body = await readText(request);
	if ("response" in body) return body.response;
	const { notificationKeySecret, notificationHeader } = connection.amazon;
	const verify = (key: string) => verifyAmazonWebhook(key, request.headers, body.text, notificationHeader);
	if (!(await verifyWithSecret(env, notificationKeySecret, verify, { connection: connection.id }))) {
		return failure(401, "invalid_credentials", `${connection.amazon.notificationHeader} is missing or wrong`);
	}
	const received = { connection, topic: "ORDER_CHANGE", eventId: await bodyId(body.text), receivedAt: new Date().toISOString(), rawBody: body.text };
	return settle(env, ctx, received, await applyAmazonWebhook(env, received));
}

/**
 * POST /webhooks/woocommerce/:connection — `X-WC-Webhook-Signature` is base64 HMAC-SHA256 of the
 * body. WooCommerce never retries and disables a webhook that keeps failing, so anything signed is
 * acknowledged; the ping it sends when a webhook is created (unsigned) gets exactly 200.
 */
export async function receiveWooCommerceWebhook(request: IRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
	const connection = connectionFor(request, env, "woocommerce");
	if (!connection) return failure(404, "unknown_connection", "no WooCommerce connection by that id");
	const body = await readText(request);
	if ("response" in body) return body.response;
	const ping = wooCommercePing(request.headers, body.text);
	if (ping) return json({ status: "pong", webhookId: ping.webhookId });
	const verify = (secret: string) => verifyWooCommerceWebhook(secret, request.headers, body.text);
	if (!(await verifyWithSecret(env, connection.secret, verify, { connection: connection.id }))) {
		return failure(401, "invalid_signature", "X-WC-Webhook-Signature does not match the body");
	}
	const received = {
		connection,
		topic: readWooCommerceHeaders(request.headers).topic ?? "",
		eventId: await wooCommerceEventId(request.headers, body.text),
		receivedAt: new Date().toISOString(),
		rawBody: body.text,
	};
	return settle(env, ctx, received, await applyWooCommerceWebhook(env, received));
}

/**
 * POST /webhooks/edi/:connection — one X12 interchange from the trading partner's AS2/VAN gateway,
 * with the shared bearer token. The connection's TradingPartner object reads it and stores it,
 * with each 850's hand-off to its order and the 997 for its groups, before this answers:
 * - an interchange whose envelope cannot be trusted: 400 with the reader's error, nothing stored
 *   (a reused ISA13 with other content: 409);
 * - otherwise 200 with the 997 interchange as the body (`application/edi-x12`), which the 997's
 *   delivery to the gateway repeats byte for byte; JSON instead when the request accepts only
 *   JSON, or when nothing needed a 997 (an interchange of 997s). Sets the 997 rejects are refused
 *   there, for the partner to correct and resend: nothing is quarantined.
 * The same interchange again is answered the same way and changes nothing.
 */
export async function receiveEdiWebhook(request: IRequest, env: Env): Promise<Response> {
	const connection = connectionFor(request, env, "edi");
	if (!connection?.edi) return failure(404, "unknown_connection", "no EDI connection by that id");
	const body = await readText(request);
	if ("response" in body) return body.response;
	const verify = (token: string) => verifyEdiWebhook(token, request.headers, body.text);
	if (!(await verifyWithSecret(env, connection.edi.tokenSecret, verify, { connection: connection.id }))) {
		return failure(401, "invalid_token", "Authorization: Bearer <gateway token> is missing or wrong", { "WWW-Authenticate": 'Bearer realm="ordersync-edi", error="invalid_token"' });
	}
	const outcome = await env.TRADING_PARTNER.getByName(connection.id).receive({ connection: connection.id, rawBody: body.text, receivedAt: new Date().toISOString() });
	if (!outcome.ok) return failure(outcome.code === "duplicate_control_number" ? 409 : outcome.code === "unknown_connection" ? 404 : 400, outcome.code, outcome.error);
	const { acknowledgmentText, ok: _, ...summary } = outcome;
	const accept = request.headers.get("Accept") ?? "";
	if (acknowledgmentText && !(accept.includes("application/json") && !accept.includes(EDI_CONTENT_TYPE))) {
		return new Response(acknowledgmentText, {
			status: 200,
			headers: { "Content-Type": EDI_CONTENT_TYPE, "X-Ordersync-Status": summary.status, "X-Ordersync-Orders": summary.orders.join(" ") },
		});
	}
	return json({ ...summary, acknowledgmentInterchange: acknowledgmentText });
}
