// The orders half of the reconciliation sweep: per channel, how to list the orders updated in a
// window, and how to feed one the normal way (the path its webhook would have taken), so the
// order's object deduplicates it by event id and by the order's own version.
import { flowMonitor } from "../../durable-objects/flow-monitor";
import { type Connection, formatIssues } from "../config";
import type { CallResult } from "../connectors/call";
import type { AmazonCredentials } from "../connectors/amazon";
import { AMAZON_SETTLE_MS, listAmazonOrdersSince } from "../connectors/amazon/orders-since";
import { listShopifyOrdersSince } from "../connectors/shopify/orders-since";
import { normalizeTikTokOrder, type TikTokCredentials } from "../connectors/tiktok";
import { listTikTokOrdersSince } from "../connectors/tiktok/orders-since";
import { TikTokOrder } from "../connectors/tiktok/payloads";
import type { WooCommerceCredentials } from "../connectors/woocommerce";
import { listWooCommerceOrdersSince } from "../connectors/woocommerce/orders-since";
import type { Env } from "../env";
import { deliverInbound } from "../inbound";
import { orderKey } from "../model/order";
import { applyWooCommerceWebhook } from "../routes/channel-webhooks";

/** Orders updated from `from` to `until` (ISO 8601 UTC); each channel widens it to its own resolution. */
export type SweepWindow = { from: string; until: string };

/** One order as the channel listed it: its id, its own update time, and the channel's record. */
export type SweptOrder = { channelOrderId: string; updatedAt: string; order: Record<string, unknown> };

export type OrdersPage = { orders: SweptOrder[]; next: string | null };

/**
 * What one order came to. `recovered`: ordersync did not know the order and now has it (or, for
 * Amazon, has its fetch queued, as a notification would); `updated`: it knew the order and now has
 * a newer version whose webhook never came; `duplicate`: it had this version; `stale`: it had a
 * newer one; `failed`: the channel's record could not be read (set aside for operators).
 */
export type SweepOutcome = "recovered" | "updated" | "duplicate" | "stale" | "failed";

export interface OrderSource {
	/** Whether pages come oldest update first, so the cursor may follow each page. */
	readonly sortedByUpdate: boolean;
	/** The latest a window may end now (Amazon wants two minutes' settling). */
	until(nowMs: number): number;
	list(window: SweepWindow, page: string | null): Promise<CallResult<OrdersPage>>;
	/** Feeds an order ordersync has not seen at this version through its channel's normal path. */
	feed(order: SweptOrder): Promise<{ outcome: SweepOutcome; detail?: string }>;
}

/** Listing calls wait this long at most: one slow page must not hold a run for long. */
const TIMEOUT_MS = 15_000;

/** The event id of an order version read by the sweep: the same version read again is a duplicate. */
export const sweepEventId = (order: SweptOrder) => `sweep:${order.channelOrderId}:${order.updatedAt}`;

/** Why a connection cannot be swept, or null when it can. */
export function unsweepable(connection: Connection): string | null {
	switch (connection.channel) {
		case "shopify":
			return connection.admin && connection.adminToken ? null : "no Admin API access (admin = { … }) to list its orders with";
		case "woocommerce":
			return connection.woocommerce ? null : "no REST API access (woocommerce = { … }) to list its orders with";
		case "tiktok":
		case "amazon":
			return null;
		case "edi":
			return "EDI has no pull API: the partner's gateway pushes each interchange and retries until it is acknowledged";
		default:
			return `no order listing for channel ${connection.channel}`;
	}
}

/** The connection's order source; call only when `unsweepable` said null. */
export function orderSource(env: Env, connection: Connection): OrderSource {
	const options = { timeoutMs: TIMEOUT_MS };
	const now = (nowMs: number) => nowMs;
	switch (connection.channel) {
		case "shopify": {
			const admin = connection.admin!;
			const token = connection.adminToken!;
			return {
				sortedByUpdate: true,
				until: now,
				list: (window, page) => listShopifyOrdersSince(admin, token, window, page, options),
				// The REST order is the orders/updated webhook's body: it goes in as one, by deliverInbound.
				feed: async (order) => {
					const rawBody = JSON.stringify(order.order);
					const event = { eventId: sweepEventId(order), connection: connection.id, channel: "shopify" as const, topic: "orders/updated", triggeredAt: order.updatedAt, receivedAt: new Date().toISOString(), rawBody };
					const result = await deliverInbound(env, event);
					if (result.ok) return { outcome: outcomeOf(result.outcome.status) };
					// As the webhook route does: set aside, for an operator to replay once the adapter reads it.
					await flowMonitor(env).quarantine({ ...event, reason: `swept order: ${result.error}` });
					return { outcome: "failed", detail: result.error };
				},
			};
		}
		case "woocommerce": {
			const account = connection.woocommerce!;
			const credentials = connection.credentials as WooCommerceCredentials;
			return {
				sortedByUpdate: true,
				until: now,
				list: (window, page) => listWooCommerceOrdersSince(account, credentials, window, page, options),
				// The listed resource is what order.updated carries: the webhook route's own apply takes it.
				feed: async (order) => {
					const received = { connection, topic: "order.updated", eventId: sweepEventId(order), receivedAt: new Date().toISOString(), rawBody: JSON.stringify(order.order) };
					const applied = await applyWooCommerceWebhook(env, received);
					if (applied.ok) return applied.orders.length === 0 ? { outcome: "duplicate", detail: applied.outcome } : { outcome: outcomeOf(applied.outcome) };
					await flowMonitor(env).quarantine({ connection: connection.id, channel: "woocommerce", topic: received.topic, eventId: received.eventId, triggeredAt: null, receivedAt: received.receivedAt, rawBody: received.rawBody, reason: `swept order: ${applied.error}` });
					return { outcome: "failed", detail: applied.error };
				},
			};
		}
		case "tiktok": {
			const account = connection.tiktok!;
			const credentials = connection.credentials as TikTokCredentials;
			return {
				sortedByUpdate: true,
				until: now,
				list: (window, page) => listTikTokOrdersSince(account, credentials, window, page, options),
				// Search Orders gives the whole order, as Get Order Detail would after a notification:
				// normalized here and applied like the fetched order. One the normalizer cannot read is
				// named to its object instead, whose fetch then fails where operators see and retry it.
				feed: async (order) => {
					const key = orderKey(connection.id, order.channelOrderId);
					const flow = env.ORDER_FLOW.getByName(key);
					const base = { eventId: sweepEventId(order), connection: connection.id, channel: "tiktok" as const, triggeredAt: order.updatedAt, receivedAt: new Date().toISOString(), rawBody: JSON.stringify(order.order) };
					const parsed = TikTokOrder.safeParse(order.order);
					let error: string;
					if (parsed.success) {
						try {
							const canonical = normalizeTikTokOrder(parsed.data, connection.id);
							const { status } = await flow.ingest({ ...base, topic: "order.swept", change: { kind: "order", order: canonical } });
							return { outcome: outcomeOf(status) };
						} catch (cause) {
							if (!(cause instanceof RangeError)) throw cause;
							error = cause.message;
						}
					} else error = formatIssues(parsed.error);
					await flow.notify({ ...base, topic: "order.swept", channelOrderId: order.channelOrderId });
					return { outcome: "failed", detail: error };
				},
			};
		}
		case "amazon": {
			const account = connection.amazon!;
			const credentials = connection.credentials as AmazonCredentials;
			return {
				sortedByUpdate: false,
				// Whole seconds, a little more than Amazon's two minutes behind, for clocks that differ.
				until: (nowMs) => Math.floor((nowMs - AMAZON_SETTLE_MS - 5_000) / 1000) * 1000,
				list: (window, page) => listAmazonOrdersSince(account, credentials, window, page, options),
				// getOrders leaves out the items (and the buyer): the order is named to its object, which
				// reads it with getOrder + getOrderItems as it does for an ORDER_CHANGE notification.
				feed: async (order) => {
					const key = orderKey(connection.id, order.channelOrderId);
					const { status } = await env.ORDER_FLOW.getByName(key).notify({
						eventId: sweepEventId(order),
						connection: connection.id,
						channel: "amazon",
						topic: `order.swept/${String(order.order.OrderStatus ?? "")}`,
						triggeredAt: order.updatedAt,
						receivedAt: new Date().toISOString(),
						rawBody: JSON.stringify(order.order),
						channelOrderId: order.channelOrderId,
					});
					return { outcome: status === "stored" ? "recovered" : "duplicate" };
				},
			};
		}
		default:
			throw new Error(`connection ${connection.id} cannot be swept: ${unsweepable(connection)}`);
	}
}

function outcomeOf(status: string): SweepOutcome {
	return status === "applied" || status === "stored" ? "recovered" : status === "stale" ? "stale" : "duplicate";
}

/**
 * One listed order: fed only when ordersync does not hold that version yet. The order's object
 * deduplicates by event id, but a webhook that did arrive had another id, and the same version
 * again would be applied again; so the version it holds is compared first.
 */
export async function sweepOrder(env: Env, connection: Connection, source: OrderSource, order: SweptOrder): Promise<{ key: string; outcome: SweepOutcome; detail?: string }> {
	const key = orderKey(connection.id, order.channelOrderId);
	const view = await env.ORDER_FLOW.getByName(key).view();
	if (view) {
		const held = view.order?.sourceUpdatedAt;
		// No order held (a notification whose fetch is under way, or died): fed anyway; its object
		// deduplicates, and a fetch that was dead-lettered is made good here.
		if (held) {
			const newer = Date.parse(held) - Date.parse(order.updatedAt);
			if (newer >= 0) return { key, outcome: newer === 0 ? "duplicate" : "stale" };
		}
	}
	const fed = await source.feed(order);
	return { key, ...fed, ...(view?.order && fed.outcome === "recovered" ? { outcome: "updated" as const } : {}) };
}
