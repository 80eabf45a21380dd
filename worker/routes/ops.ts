import type { IRequest } from "itty-router";
import { z } from "zod";
import { flowMonitor } from "../../durable-objects/flow-monitor";
import { gateLimits } from "../../durable-objects/outbox";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { failure, invalid, json, readJson } from "../http";
import { deliverInbound, type ReceivedEvent } from "../inbound";
import type { Channel } from "../model/order";


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

/** A dead letter's exception id names its order and delivery: `delivery:<order key>:<delivery id>`. */
function deliveryOf(item: { id: string; orderKey: string | null }): { orderKey: string; deliveryId: string } | null {
	if (!item.id.startsWith("delivery:") || !item.orderKey) return null;
	return { orderKey: item.orderKey, deliveryId: item.id.slice(`delivery:${item.orderKey}:`.length) };
}

/** GET /ops/exceptions/:id — one exception with its raw body, or its delivery and full attempt history. */
export async function getException(request: IRequest, env: Env): Promise<Response> {
	const item = await flowMonitor(env).exception(decodeURIComponent(request.params.id ?? ""));
	if (!item) return failure(404, "unknown_exception", "no such exception");
	const ref = deliveryOf(item);
	const delivery = ref ? await env.ORDER_FLOW.getByName(ref.orderKey).delivery(ref.deliveryId) : null;
	return json(delivery ? { ...item, delivery } : item);
}

const RetryBody = z.object({ payload: z.record(z.string(), z.unknown()).optional() }).strict();

/** Re-sends a dead letter (optionally with an edited payload); its exception clears when it is delivered. */
async function retryDeadLetter(env: Env, item: { id: string; orderKey: string | null }, payload?: unknown): Promise<Response> {
	const ref = deliveryOf(item)!;
	const result = await env.ORDER_FLOW.getByName(ref.orderKey).retryDelivery(ref.deliveryId, payload);
	if (!result.ok) return failure(result.code === "unknown_delivery" ? 404 : 409, result.code, result.message);
	await flowMonitor(env).noteAttempt(item.id, `retried by an operator${payload === undefined ? "" : " with an edited payload"}`);
	return json({ status: "retrying", order: ref.orderKey, delivery: ref.deliveryId }, 202);
}

/** POST /ops/exceptions/:id/cancel — give up on a dead letter for good. */
export async function cancelException(request: IRequest, env: Env): Promise<Response> {
	const item = await flowMonitor(env).exception(decodeURIComponent(request.params.id ?? ""));
	if (!item) return failure(404, "unknown_exception", "no such exception");
	const ref = deliveryOf(item);
	if (!ref) return failure(409, "not_cancellable", "only dead-lettered deliveries can be cancelled");
	const result = await env.ORDER_FLOW.getByName(ref.orderKey).cancelDelivery(ref.deliveryId, "operator");
	if (!result.ok) return failure(result.code === "unknown_delivery" ? 404 : 409, result.code, result.message);
	return json({ status: "cancelled", order: ref.orderKey, delivery: ref.deliveryId });
}

const BulkReplay = z.object({
	ids: z.array(z.string().min(1)).min(1).max(500).optional(),
	/** Or every open exception of this kind (and, optionally, whose reason or order contains `text`). */
	kind: z.string().optional(),
	text: z.string().optional(),
}).refine((b) => b.ids !== undefined || b.kind !== undefined, "give ids, or a kind to replay every open exception of");

/** POST /ops/exceptions/replay — replay or retry many at once; reports each one's outcome. */
export async function replayMany(request: IRequest, env: Env): Promise<Response> {
	const body = await readJson(request, BulkReplay);
	if ("response" in body) return body.response;
	const { ids, kind, text } = body.data;
	const targets = ids ?? (await flowMonitor(env).exceptions("open", 1000))
		.filter((e) => e.kind === kind && (!text || e.reason.includes(text) || (e.orderKey ?? "").includes(text)))
		.map((e) => e.id);
	const results = [];
	for (const id of targets) {
		const response = await replayOne(env, id);
		const answer = (await response.json()) as Record<string, unknown>;
		results.push({ id, ok: response.status < 300, status: response.status, ...answer });
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
	return replayOne(env, id, payload);
}

/** Replay a quarantined webhook, or retry a dead-lettered delivery. */
async function replayOne(env: Env, id: string, payload?: unknown): Promise<Response> {
	const item = await flowMonitor(env).exception(id);
	if (!item) return failure(404, "unknown_exception", "no such exception");
	if (deliveryOf(item)) return retryDeadLetter(env, item, payload);
	if (item.kind !== "quarantine" || item.rawBody === null || !item.connection || !item.eventId) {
		return failure(409, "not_replayable", "only quarantined webhooks and dead-lettered deliveries can be replayed");
	}
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
	if (!result.ok) {
		await flowMonitor(env).noteAttempt(id, result.error);
		return failure(422, "still_invalid", result.error);
	}
	await flowMonitor(env).resolve(id, `replayed into ${result.orderKey} (${result.outcome.status})`);
	await flowMonitor(env).record([{ type: "replayed", orderKey: result.orderKey, connection: item.connection, eventId: item.eventId, topic: item.topic ?? undefined }]);
	return json({ status: "replayed", order: result.orderKey, outcome: result.outcome.status });
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
		...[...config.connections.values()].filter((c) => c.admin).map((c) => `channel:${c.id}`),
		...[...config.tracking.keys()].map((id) => `tracking:${id}`),
	];
	const items = await Promise.all(
		names.map(async (name) => ({ destination: name, ...(await env.DELIVERY_GATE.getByName(name).status(gateLimits(config.delivery, name))) })),
	);
	return json({ items });
}
