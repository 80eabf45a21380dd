import type { IRequest } from "itty-router";
import { flowMonitor } from "../../durable-objects/flow-monitor";
import { parseEasyPostEvent, verifyEasyPostWebhook } from "../connectors/easypost/webhook";
import { parseShipBobWebhook, SHIPBOB_HEADERS, verifyShipBobWebhook } from "../connectors/shipbob/webhook";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { BodyTooLarge, failure, json, readBody } from "../http";
import { MAX_WEBHOOK_BYTES } from "./webhooks";
import { verifyWithSecret } from "../secrets";

// The BOM is kept: signatures are over every byte sent, and the text is what they are checked on.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The raw body as text, or the response that refuses it. */
export async function readText(request: Request): Promise<{ text: string } | { response: Response }> {
	try {
		return { text: utf8.decode(await readBody(request, MAX_WEBHOOK_BYTES)) };
	} catch (error) {
		if (error instanceof BodyTooLarge) return { response: failure(413, "body_too_large", `webhook bodies are limited to ${MAX_WEBHOOK_BYTES} bytes`) };
		if (error instanceof TypeError) return { response: failure(400, "invalid_encoding", "body is not valid UTF-8") };
		throw error;
	}
}

/** The order a 3PL reference id belongs to: references are `<order key>/<location>`. */
export function orderKeyOfReference(referenceId: string): string {
	const slash = referenceId.lastIndexOf("/");
	return slash === -1 ? referenceId : referenceId.slice(0, slash);
}

/**
 * POST /webhooks/shipbob/:threePl — a ShipBob ship notice. Verified (Standard Webhooks), stored
 * with its order before the 200; redeliveries change nothing (webhook-id); a notice ordersync
 * cannot use is quarantined for operators and acknowledged, so ShipBob does not keep retrying.
 */
export async function receiveShipBobWebhook(request: IRequest, env: Env): Promise<Response> {
	const config = loadConfig(env);
	const account = config.threePls.get(decodeURIComponent(request.params.threePl ?? ""));
	if (!account) return failure(404, "unknown_3pl", "no 3PL account by that id");
	const body = await readText(request);
	if ("response" in body) return body.response;
	const verify = (secret: string) => verifyShipBobWebhook(secret, request.headers, body.text);
	if (!(await verifyWithSecret(env, account.webhookSecret, verify, { connection: account.id }))) {
		return failure(401, "invalid_signature", "webhook-signature does not match, or webhook-timestamp is outside 5 minutes");
	}
	const eventId = request.headers.get(SHIPBOB_HEADERS.id) ?? "";
	const topic = request.headers.get(SHIPBOB_HEADERS.topic) ?? "";
	const result = await applyShipBobWebhook(env, account.id, topic, eventId, body.text);
	if (!result.ok) {
		await flowMonitor(env).quarantine({ connection: account.id, channel: "shipbob", topic, eventId, triggeredAt: null, receivedAt: new Date().toISOString(), rawBody: body.text, reason: result.error });
		return json({ status: "quarantined", eventId });
	}
	return "ignored" in result ? json({ status: "ignored", eventId, reason: result.ignored }) : json({ status: "accepted", eventId, shipments: result.shipments });
}

/** Reads a verified ShipBob webhook and hands each shipment to its order (also how a quarantined one is replayed). */
export async function applyShipBobWebhook(env: Env, threePl: string, topic: string, eventId: string, text: string) {
	const config = loadConfig(env);
	const parsed = parseShipBobWebhook(topic, text, eventId, config.fulfillment.locations.filter((l) => l.threePl === threePl));
	if (!parsed.ok) return parsed;
	if ("ignored" in parsed) return { ok: true as const, ignored: parsed.ignored };
	const shipments = await Promise.all(
		parsed.notices.map(async (notice) => {
			const orderKey = orderKeyOfReference(notice.referenceId);
			const { status } = await env.ORDER_FLOW.getByName(orderKey).shipmentNotice(notice, text);
			return { shipmentId: notice.shipmentId, order: orderKey, status };
		}),
	);
	const unknown = shipments.filter((o) => o.status === "unknown_order");
	if (unknown.length > 0) return { ok: false as const, error: `no order for reference ${unknown.map((o) => o.order).join(", ")}` };
	return { ok: true as const, shipments };
}

/**
 * POST /webhooks/easypost/:account — a carrier tracking event (EasyPost `tracker.updated`),
 * verified by X-Hmac-Signature, stored on its parcel's object (keyed by tracking number) before
 * the 200, and forwarded from there to the order.
 */
export async function receiveEasyPostWebhook(request: IRequest, env: Env): Promise<Response> {
	const account = loadConfig(env).tracking.get(decodeURIComponent(request.params.account ?? ""));
	if (!account) return failure(404, "unknown_tracking_account", "no tracking account by that id");
	const body = await readText(request);
	if ("response" in body) return body.response;
	const verify = (secret: string) => verifyEasyPostWebhook(secret, request.headers, body.text);
	if (!(await verifyWithSecret(env, account.webhookSecret, verify, { connection: account.id }))) {
		return failure(401, "invalid_signature", "X-Hmac-Signature does not match the body");
	}
	const result = await applyEasyPostEvent(env, body.text);
	if (!result.ok) {
		const eventId = /"id"\s*:\s*"(evt_[^"]+)"/.exec(body.text)?.[1] ?? `unparsed:${crypto.randomUUID()}`;
		await flowMonitor(env).quarantine({ connection: account.id, channel: "easypost", topic: "tracker.updated", eventId, triggeredAt: null, receivedAt: new Date().toISOString(), rawBody: body.text, reason: result.error });
		return json({ status: "quarantined", eventId });
	}
	return json(result.answer);
}

/** Reads a verified EasyPost event and gives it to its parcel (also how a quarantined one is replayed). */
export async function applyEasyPostEvent(env: Env, text: string) {
	const parsed = parseEasyPostEvent(text);
	if (!parsed.ok) return parsed;
	if ("ignored" in parsed) return { ok: true as const, answer: { status: "ignored", reason: parsed.ignored } };
	const { status, linked } = await env.PARCEL.getByName(parsed.update.trackingCode).receive(parsed.update);
	return { ok: true as const, answer: { status, linked, eventId: parsed.update.eventId } };
}
