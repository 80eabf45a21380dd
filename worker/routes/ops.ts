import type { IRequest } from "itty-router";
import { z } from "zod";
import { type ConsoleRole, flowMonitor } from "../../durable-objects/flow-monitor";
import { gateLimits } from "../../durable-objects/outbox";
import { PAYOUT_OWNER_PREFIX } from "../../durable-objects/settlement";
import { PARTNER_OWNER_PREFIX } from "../../durable-objects/trading-partner";
import { loadConfig } from "../config";
import { relaysFulfillment } from "../connectors/channels";
import type { Env } from "../env";
import { failure, invalid, json, readJson } from "../http";
import { deliverInbound, type ReceivedEvent } from "../inbound";
import type { Channel } from "../model/order";
import { applyAmazonWebhook, applyTikTokWebhook, applyWooCommerceWebhook } from "./channel-webhooks";
import { applyEasyPostEvent, applyShipBobWebhook } from "./fulfillment-webhooks";


/** GET /ops/orders/:id — canonical order, state, lines and the full event log. */
export async function getOrder(request: IRequest, env: Env): Promise<Response> {
	const id = decodeURIComponent(request.params.id ?? "");
	if (!id.includes(":")) return failure(400, "invalid_order_id", "order ids look like <connection>:<channel order id>");
	const view = await env.ORDER_FLOW.getByName(id).view();
	return view ? json(view) : failure(404, "unknown_order", `no order ${id}`);
}

/** GET /ops/skus/:sku — stock by location and every reservation. */
export async function getSku(request: IRequest, env: Env): Promise<Response> {
	const sku = decodeURIComponent(request.params.sku ?? "");
	return json(await env.SKU_LEDGER.getByName(sku).detail(sku));
}

/** GET /ops/exceptions?status=open|resolved|all — quarantined webhooks and failed steps. */
export async function listExceptions(request: IRequest, env: Env): Promise<Response> {
	const status = new URL(request.url).searchParams.get("status") ?? "open";
	if (status !== "open" && status !== "resolved" && status !== "all") {
		return failure(400, "invalid_request", "status: expected open, resolved or all");
	}
	return json({ items: await flowMonitor(env).exceptions(status) });
}

/** GET /ops/partners/:connection?limit=N — an EDI trading partner: control numbers, interchanges, its 997s, deliveries. */
export async function getPartner(request: IRequest, env: Env): Promise<Response> {
	const id = decodeURIComponent(request.params.connection ?? "");
	if (loadConfig(env).connections.get(id)?.channel !== "edi") return failure(404, "unknown_partner", `no EDI connection ${id}`);
	const limit = Number(new URL(request.url).searchParams.get("limit") ?? "50");
	if (!Number.isSafeInteger(limit) || limit < 1) return failure(400, "invalid_request", "limit must be a positive integer");
	return json(await env.TRADING_PARTNER.getByName(id).view({ limit }));
}

/** A dead letter's exception id names its owner and delivery: `delivery:<order key>:<delivery id>`. */
function deliveryOf(item: { id: string; orderKey: string | null }): { orderKey: string; deliveryId: string } | null {
	if (!item.id.startsWith("delivery:") || !item.orderKey) return null;
	return { orderKey: item.orderKey, deliveryId: item.id.slice(`delivery:${item.orderKey}:`.length) };
}

/** The object whose outbox holds a dead letter: an order, an EDI trading partner (`partner/<connection>`) or a payout (`payout/<key>`). */
function outboxOwner(env: Env, owner: string) {
	if (owner.startsWith(PARTNER_OWNER_PREFIX)) return env.TRADING_PARTNER.getByName(owner.slice(PARTNER_OWNER_PREFIX.length));
	if (owner.startsWith(PAYOUT_OWNER_PREFIX)) return env.SETTLEMENT.getByName(owner.slice(PAYOUT_OWNER_PREFIX.length));
	return env.ORDER_FLOW.getByName(owner);
}

/** GET /ops/exceptions/:id — one exception with its raw body, or its delivery and full attempt history. */
export async function getException(request: IRequest, env: Env): Promise<Response> {
	const item = await flowMonitor(env).exception(decodeURIComponent(request.params.id ?? ""));
	if (!item) return failure(404, "unknown_exception", "no such exception");
	const ref = deliveryOf(item);
	const delivery = ref ? await outboxOwner(env, ref.orderKey).delivery(ref.deliveryId) : null;
	return json(delivery ? { ...item, delivery } : item);
}

export const RetryBody = z.object({ payload: z.record(z.string(), z.unknown()).optional() }).strict();

/** What a replay or retry came to: the answer for one id, in the bulk report or as its own response. */
type Replayed = { ok: true; status: 200 | 202; body: Record<string, unknown> } | { ok: false; status: number; code: string; message: string };

const refused = (status: number, code: string, message: string): Replayed => ({ ok: false, status, code, message });

function toResponse(outcome: Replayed): Response {
	return outcome.ok ? json(outcome.body, outcome.status) : failure(outcome.status, outcome.code, outcome.message);
}

/** Re-sends a dead letter (optionally with an edited payload); its exception clears when it is delivered. */
async function retryDeadLetter(env: Env, item: { id: string; orderKey: string | null }, payload?: unknown): Promise<Replayed> {
	const ref = deliveryOf(item)!;
	const result = await outboxOwner(env, ref.orderKey).retryDelivery(ref.deliveryId, payload);
	if (!result.ok) return refused(result.code === "unknown_delivery" ? 404 : 409, result.code, result.message);
	await flowMonitor(env).noteAttempt(item.id, `retried by an operator${payload === undefined ? "" : " with an edited payload"}`);
	return { ok: true, status: 202, body: { status: "retrying", order: ref.orderKey, delivery: ref.deliveryId } };
}

/** POST /ops/exceptions/:id/cancel — give up on a dead letter for good. */
export async function cancelException(request: IRequest, env: Env): Promise<Response> {
	const item = await flowMonitor(env).exception(decodeURIComponent(request.params.id ?? ""));
	if (!item) return failure(404, "unknown_exception", "no such exception");
	if (item.kind === "settlement") {
		// The variance is already booked; closing it says finance has reviewed it.
		await flowMonitor(env).resolve(item.id, "reviewed by an operator");
		return json({ status: "resolved", id: item.id });
	}
	const ref = deliveryOf(item);
	if (!ref) return failure(409, "not_cancellable", "only dead-lettered deliveries and payout exceptions can be closed");
	const result = await outboxOwner(env, ref.orderKey).cancelDelivery(ref.deliveryId, "operator");
	if (!result.ok) return failure(result.code === "unknown_delivery" ? 404 : 409, result.code, result.message);
	return json({ status: "cancelled", order: ref.orderKey, delivery: ref.deliveryId });
}

export const BulkReplay = z.object({
	ids: z.array(z.string().min(1)).min(1).max(500).optional(),
	/** Or every open exception of this kind (and, optionally, whose reason, order key or name contains `text`). */
	kind: z.string().optional(),
	text: z.string().optional(),
}).refine((b) => b.ids !== undefined || b.kind !== undefined, "give ids, or a kind to replay every open exception of");

/** POST /ops/exceptions/replay — replay or retry many at once; reports each one's outcome. */
export async function replayMany(request: IRequest, env: Env): Promise<Response> {
	const body = await readJson(request, BulkReplay);
	if ("response" in body) return body.response;
	const { ids, kind, text } = body.data;
	const targets = ids ?? (await flowMonitor(env).exceptions("open", 1000))
		.filter((e) => e.kind === kind && (!text || [e.reason, e.orderKey, e.orderName].some((field) => field?.includes(text))))
		.map((e) => e.id);
	const results = [];
	for (const id of targets) {
		const outcome = await replayOne(env, id);
		// `status` is what happened ("replayed", "retrying"); `httpStatus` what the single replay would have answered.
		results.push(outcome.ok ? { id, ok: true, httpStatus: outcome.status, ...outcome.body } : { id, ok: false, httpStatus: outcome.status, code: outcome.code, message: outcome.message });
	}
	return json({ total: results.length, succeeded: results.filter((r) => r.ok).length, results });
}

/**
 * POST /ops/exceptions/:id/replay — re-runs a quarantined webhook from its stored raw body
 * through today's adapter. Its original event id makes a second replay change nothing.
 */
export async function replayException(request: IRequest, env: Env): Promise<Response> {
	const id = decodeURIComponent(request.params.id ?? "");
	// An empty body replays as stored; a dead letter's retry may carry `{ "payload": {…} }`.
	const text = await request.text();
	let payload: unknown;
	if (text.trim() !== "") {
		let body: unknown;
		try {
			body = JSON.parse(text);
		} catch {
			return failure(400, "invalid_json", "body is not JSON");
		}
		const parsed = RetryBody.safeParse(body);
		if (!parsed.success) return invalid(parsed.error);
		payload = parsed.data.payload;
	}
	return toResponse(await replayOne(env, id, payload));
}

/** Replay a quarantined webhook, or retry a dead-lettered delivery. */
async function replayOne(env: Env, id: string, payload?: unknown): Promise<Replayed> {
	const item = await flowMonitor(env).exception(id);
	if (!item) return refused(404, "unknown_exception", "no such exception");
	if (deliveryOf(item)) return retryDeadLetter(env, item, payload);
	if (item.kind !== "quarantine" || item.rawBody === null || !item.connection || !item.eventId) {
		return refused(409, "not_replayable", "only quarantined webhooks and dead-lettered deliveries can be replayed");
	}
	const result = await replayInbound(env, { ...item, rawBody: item.rawBody, connection: item.connection, eventId: item.eventId });
	if (!result.ok) {
		await flowMonitor(env).noteAttempt(id, result.error);
		return refused(422, "still_invalid", result.error);
	}
	await flowMonitor(env).resolve(id, `replayed${result.order ? ` into ${result.order}` : ""} (${result.outcome})`);
	await flowMonitor(env).record([{ type: "replayed", orderKey: result.order, connection: item.connection, channel: item.channel ?? undefined, eventId: item.eventId, topic: item.topic ?? undefined, detail: result.outcome }]);
	return { ok: true, status: 200, body: { status: "replayed", order: result.order, outcome: result.outcome } };
}

type Stored = { connection: string; channel: string | null; topic: string | null; eventId: string; triggeredAt: string | null; receivedAt: string | null; createdAt: string; rawBody: string };

/** Re-runs a stored webhook through today's adapter for its source, exactly as if it had just arrived. */
async function replayInbound(env: Env, item: Stored): Promise<{ ok: true; order?: string; outcome: string } | { ok: false; error: string }> {
	switch (item.channel) {
		case "shipbob": {
			const result = await applyShipBobWebhook(env, item.connection, item.topic ?? "", item.eventId, item.rawBody);
			if (!result.ok) return result;
			if ("ignored" in result) return { ok: true, outcome: `ignored: ${result.ignored}` };
			return { ok: true, order: result.shipments[0]?.order, outcome: result.shipments.map((s) => `${s.shipmentId} ${s.status}`).join(", ") };
		}
		case "easypost": {
			const result = await applyEasyPostEvent(env, item.rawBody);
			return result.ok ? { ok: true, outcome: String(result.answer.status) } : result;
		}
		case "tiktok":
		case "amazon":
		case "woocommerce": {
			const connection = loadConfig(env).connections.get(item.connection);
			if (!connection) return { ok: false, error: `connection ${item.connection} is no longer configured` };
			const received = { connection, topic: item.topic ?? "", eventId: item.eventId, receivedAt: item.receivedAt ?? item.createdAt, rawBody: item.rawBody };
			const apply = { tiktok: applyTikTokWebhook, amazon: applyAmazonWebhook, woocommerce: applyWooCommerceWebhook }[item.channel];
			const result = await apply(env, received);
			return result.ok ? { ok: true, order: result.orders[0], outcome: result.outcome } : result;
		}
		default: {
			const event: ReceivedEvent = {
				eventId: item.eventId,
				connection: item.connection,
				channel: item.channel as Channel,
				topic: item.topic ?? "",
				triggeredAt: item.triggeredAt,
				receivedAt: item.receivedAt ?? item.createdAt,
				rawBody: item.rawBody,
			};
			const result = await deliverInbound(env, event);
			return result.ok ? { ok: true, order: result.orderKey, outcome: result.outcome.status } : result;
		}
	}
}

/** GET /ops/stream?after=<cursor> — the live flow stream for consoles, a hibernating WebSocket on the FlowMonitor. */
export async function openStream(request: IRequest, env: Env, role: ConsoleRole): Promise<Response> {
	if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
		return failure(426, "upgrade_required", "the stream is a WebSocket: connect with Upgrade: websocket", { Upgrade: "websocket" });
	}
	// The role header is set here, never taken from the client.
	const headers = new Headers(request.headers);
	headers.set("X-Ordersync-Role", role);
	return flowMonitor(env).fetch(new Request(request.url, { headers }));
}

/** GET /ops/orders?name=%231001 — orders by the name people use, most recently active first. */
export async function findOrders(request: IRequest, env: Env): Promise<Response> {
	const name = new URL(request.url).searchParams.get("name");
	if (!name) return failure(400, "invalid_request", "name: give the order's name, e.g. ?name=%231001");
	return json({ items: await flowMonitor(env).ordersNamed(name) });
}

/** GET /ops/flows?after=<cursor>&limit=N — the recent flow stream, resumable by cursor. */
export async function listFlows(request: IRequest, env: Env): Promise<Response> {
	const params = new URL(request.url).searchParams;
	const after = Number(params.get("after") ?? "0");
	const limit = Number(params.get("limit") ?? "200");
	if (!Number.isSafeInteger(after) || after < 0 || !Number.isSafeInteger(limit) || limit < 1) {
		return failure(400, "invalid_request", "after and limit must be non-negative integers");
	}
	return json(await flowMonitor(env).flows(after, limit));
}

/** GET /ops/destinations — each outbound destination's in-flight requests, limit and circuit. */
export async function listDestinations(_: IRequest, env: Env): Promise<Response> {
	const config = loadConfig(env);
	const names = [
		...[...config.threePls.keys()].map((id) => `3pl:${id}`),
		// Every channel ordersync talks back to (Shopify with Admin access, TikTok Shop, Amazon, WooCommerce, EDI).
		...[...config.connections.values()].filter(relaysFulfillment).map((c) => `channel:${c.id}`),
		...[...config.tracking.keys()].map((id) => `tracking:${id}`),
	];
	const items = await Promise.all(
		names.map(async (name) => ({ destination: name, ...(await env.DELIVERY_GATE.getByName(name).status(gateLimits(config.delivery, name))) })),
	);
	return json({ items });
}
