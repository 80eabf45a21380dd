import { parseShopifyChange } from "./connectors/shopify/normalize";
import { parseShopifyJson } from "./connectors/shopify/payloads";
import type { Env } from "./env";
import type { InboundEvent, OrderChange } from "./model/events";
import { orderKey } from "./model/order";
import type { IngestOutcome } from "../durable-objects/order-flow";

/** An inbound event as received and verified, before its channel adapter has read it. */
export type ReceivedEvent = Omit<InboundEvent, "change">;

export type DeliveryResult =
	| { ok: true; orderKey: string; outcome: IngestOutcome }
	| { ok: false; error: string };

/** Reads a verified event with its channel's adapter. */
export function parseChange(event: ReceivedEvent): { ok: true; change: OrderChange } | { ok: false; error: string } {
	switch (event.channel) {
		case "shopify": {
			let body: unknown;
			try {
				body = parseShopifyJson(event.rawBody.replace(/^\uFEFF/, "")); // JSON may start with a BOM (RFC 8259 §8.1)
			} catch (error) {
				return { ok: false, error: `body is not JSON: ${(error as Error).message}` };
			}
			return parseShopifyChange(event.topic, body, event.connection);
		}
		default:
			return { ok: false, error: `no adapter for channel ${event.channel}` };
	}
}

/**
 * Normalizes a verified event and hands it to its order's object, which stores it durably
 * before this resolves. Used by the webhook routes and by replays of quarantined events.
 */
export async function deliverInbound(env: Env, event: ReceivedEvent): Promise<DeliveryResult> {
	const parsed = parseChange(event);
	if (!parsed.ok) return parsed;
	const change = parsed.change;
	const channelOrderId = change.kind === "order" ? change.order.channelOrderId : change.channelOrderId;
	const key = orderKey(event.connection, channelOrderId);
	const outcome = await env.ORDER_FLOW.getByName(key).ingest({ ...event, change });
	return { ok: true, orderKey: key, outcome };
}
