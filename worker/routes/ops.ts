import type { IRequest } from "itty-router";
import { flowMonitor } from "../../durable-objects/flow-monitor";
import type { Env } from "../env";
import { failure, json } from "../http";
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

/** GET /ops/exceptions/:id — one exception with its raw body. */
export async function getException(request: IRequest, env: Env): Promise<Response> {
	const item = await flowMonitor(env).exception(decodeURIComponent(request.params.id ?? ""));
	return item ? json(item) : failure(404, "unknown_exception", "no such exception");
}

/**
 * POST /ops/exceptions/:id/replay — re-runs a quarantined webhook from its stored raw body
 * through today's adapter. Its original event id makes a second replay change nothing.
 */
export async function replayException(request: IRequest, env: Env): Promise<Response> {
	const id = decodeURIComponent(request.params.id ?? "");
	const item = await flowMonitor(env).exception(id);
	if (!item) return failure(404, "unknown_exception", "no such exception");
	if (item.kind !== "quarantine" || item.rawBody === null || !item.connection || !item.eventId) {
		return failure(409, "not_replayable", "only quarantined webhooks can be replayed");
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
