import { z } from "zod";
import type { CallResult } from "../worker/connectors/call";
import { createTracker } from "../worker/connectors/easypost/client";
import { cancelShipBobOrder, createShipBobOrder } from "../worker/connectors/shipbob/client";
import { connectorFor } from "../worker/connectors/channels";
import { bookOrder, bookRefund, bookShipment, closeOrder } from "../worker/connectors/netsuite/orders";
import { DepositPayload, PaymentPayload, RefundPaymentPayload, postDeposit, postOrderPayment, postRefundPayment } from "../worker/connectors/netsuite/payouts";
import { recordTrackingEvent } from "../worker/connectors/shopify/fulfillment";
import { loadConfig } from "../worker/config";
import type { Env } from "../worker/env";
import { ChannelAcknowledgment, ChannelFulfillment, ThreePlOrder, TrackingStatus } from "../worker/model/fulfillment";
import { type CanonicalOrder, Refund } from "../worker/model/order";

/** Payload of each outbound delivery kind; the schema also checks an operator's edited payload. */
export const DeliveryPayloads = {
	/** Create the order at the 3PL (ShipBob POST /order); `referenceId` is its idempotency key. */
	"3pl.order": ThreePlOrder,
	/** Cancel it there (the channel cancelled the order before it shipped). */
	"3pl.cancel": z.object({ referenceId: z.string().min(1) }),
	/** Record one shipment on the origin channel (Shopify fulfillmentCreate), with tracking. */
	"channel.fulfillment": ChannelFulfillment,
	/** Accept the order's lines on the channel that asked (EDI 855), once per order version. */
	"channel.acknowledge": ChannelAcknowledgment,
	/** Relay a carrier status to the channel (Shopify fulfillmentEventCreate). */
	"channel.tracking": z.object({ channelOrderId: z.string(), trackingNumber: z.string(), status: TrackingStatus, happenedAt: z.string(), message: z.string().optional() }),
	/** Register the tracking number with the carrier-tracking service (EasyPost POST /trackers). */
	"tracking.register": z.object({ trackingCode: z.string().min(1), carrier: z.string() }),
	/** Fetch the whole order from a channel whose notification only named it (TikTok Shop, Amazon). */
	"channel.fetch": z.object({ channelOrderId: z.string().min(1), channel: z.string() }),
	/** Tell the parcel's object which order it belongs to, so carrier events find the order. */
	"parcel.link": z.object({ trackingCode: z.string().min(1), carrier: z.string(), orderKey: z.string(), shipmentId: z.string() }),
	/** Book the order in the ERP (a sales order or cash sale, upserted by the order key), as its object holds it when sent. */
	"erp.order": z.object({ orderKey: z.string().min(1) }),
	/** One shipment: item fulfilment and invoice of its lines. */
	"erp.fulfillment": z.object({
		orderKey: z.string().min(1),
		connection: z.string(),
		shipmentId: z.string().min(1),
		shippedAt: z.string(),
		first: z.boolean(),
		lines: z.array(z.object({ channelLineId: z.string(), quantity: z.number().int().positive() })),
	}),
	/** The channel cancelled the order: close what is left of it. */
	"erp.close": z.object({ orderKey: z.string().min(1), connection: z.string() }),
	/** A refund: credit memo (or cash refund). `skus` names each channel line's SKU for its item. */
	"erp.refund": z.object({ orderKey: z.string().min(1), connection: z.string(), currency: z.string(), refund: Refund, skus: z.record(z.string(), z.string().nullable()) }),
	/** A payout's payment for one order (customer deposit on its sales order). */
	"erp.payment": PaymentPayload,
	/** A refund a payout paid out (customer refund from the clearing account). */
	"erp.refund-payment": RefundPaymentPayload,
	/** The payout's bank deposit. */
	"erp.deposit": DepositPayload,
} as const;
export type DeliveryKind = keyof typeof DeliveryPayloads;

/** Fields an edited payload must keep, because the destination dedupes on them. */
export const IDENTITY_FIELDS: Partial<Record<DeliveryKind, string[]>> = {
	"3pl.order": ["referenceId"],
	"channel.fulfillment": ["shipmentId", "channelOrderId"],
	"3pl.cancel": ["referenceId"],
	"channel.acknowledge": ["channelOrderId", "version"],
	"erp.order": ["orderKey"],
	"erp.fulfillment": ["shipmentId"],
	"erp.payment": ["externalId"],
	"erp.refund-payment": ["externalId"],
	"erp.deposit": ["payoutKey"],
};

/** Destination names: each is one gate (concurrency limit and circuit) shared by every object. */
export const destination = {
	threePl: (id: string) => `3pl:${id}`,
	channel: (connection: string) => `channel:${connection}`,
	tracking: (id: string) => `tracking:${id}`,
	internal: "internal:parcel",
	/** An EDI partner's 850s handed to their orders' objects. */
	internalOrder: "internal:order-flow",
	/** The ERP account: NetSuite's concurrency limit is on the whole account, so one gate. */
	erp: (id: string) => `erp:${id}`,
};

/**
 * Sends one delivery with the real connector for its destination. `context.order` is the order as
 * its OrderFlow holds it now, for channels whose documents restate it (EDI).
 */
export async function send(env: Env, kind: string, target: string, payload: unknown, timeoutMs: number, context: { order?: CanonicalOrder } = {}): Promise<CallResult<unknown>> {
	const config = loadConfig(env);
	const [, id = ""] = target.split(":");
	const options = { timeoutMs };
	switch (kind as DeliveryKind) {
		case "3pl.order":
		case "3pl.cancel": {
			const account = config.threePls.get(id);
			if (!account) return { ok: false, retryable: false, error: `no 3PL ${id} in THREEPLS` };
			return kind === "3pl.order"
				? createShipBobOrder(account, ThreePlOrder.parse(payload), options)
				: cancelShipBobOrder(account, DeliveryPayloads["3pl.cancel"].parse(payload).referenceId, options);
		}
		case "channel.fulfillment":
		case "channel.acknowledge":
		case "channel.fetch": {
			const connection = config.connections.get(id);
			if (!connection) return { ok: false, retryable: false, error: `no connection ${id} in CONNECTIONS` };
			const connector = connectorFor(connection.channel);
			const channelOptions = { ...options, env, ...(context.order ? { order: context.order } : {}) };
			if (kind === "channel.fulfillment") {
				return connector.relayFulfillment?.(connection, ChannelFulfillment.parse(payload), channelOptions) ?? { ok: false, retryable: false, error: `${connection.channel} connector cannot relay shipments` };
			}
			if (kind === "channel.acknowledge") {
				return connector.acknowledgeOrder?.(connection, ChannelAcknowledgment.parse(payload), channelOptions) ?? { ok: false, retryable: false, error: `${connection.channel} connector does not acknowledge orders` };
			}
			const { channelOrderId } = DeliveryPayloads["channel.fetch"].parse(payload);
			return connector.fetchOrder?.(connection, channelOrderId, channelOptions) ?? { ok: false, retryable: false, error: `${connection.channel} connector cannot fetch orders` };
		}
		case "channel.tracking": {
			const connection = config.connections.get(id);
			if (!connection?.admin || !connection.adminToken) return { ok: false, retryable: false, error: `connection ${id} has no Admin API access` };
			return recordTrackingEvent(connection.admin, connection.adminToken, DeliveryPayloads["channel.tracking"].parse(payload), options);
		}
		case "tracking.register": {
			const account = config.tracking.get(id);
			if (!account) return { ok: false, retryable: false, error: `no tracking account ${id} in TRACKING` };
			return createTracker(account, DeliveryPayloads["tracking.register"].parse(payload), options);
		}
		case "parcel.link": {
			const link = DeliveryPayloads["parcel.link"].parse(payload);
			await env.PARCEL.getByName(link.trackingCode).link(link);
			return { ok: true, value: null };
		}
		case "erp.order":
		case "erp.fulfillment":
		case "erp.close":
		case "erp.refund":
		case "erp.payment":
		case "erp.refund-payment":
		case "erp.deposit": {
			const erp = config.erp;
			if (!erp || erp.id !== id) return { ok: false, retryable: false, error: `no ERP ${id} in ERP` };
			switch (kind) {
				case "erp.order": {
					const { orderKey } = DeliveryPayloads["erp.order"].parse(payload);
					if (!context.order) return { ok: false, retryable: false, error: `order ${orderKey} has no contents to book` };
					return bookOrder(erp, orderKey, context.order, options);
				}
				case "erp.fulfillment":
					return bookShipment(erp, DeliveryPayloads["erp.fulfillment"].parse(payload), options);
				case "erp.close":
					return closeOrder(erp, DeliveryPayloads["erp.close"].parse(payload), options);
				case "erp.refund":
					return bookRefund(erp, DeliveryPayloads["erp.refund"].parse(payload), options);
				case "erp.payment":
					return postOrderPayment(erp, PaymentPayload.parse(payload), options);
				case "erp.refund-payment":
					return postRefundPayment(erp, RefundPaymentPayload.parse(payload), options);
				default:
					return postDeposit(erp, DepositPayload.parse(payload), options);
			}
		}
		default:
			return { ok: false, retryable: false, error: `unknown delivery kind ${kind}` };
	}
}
