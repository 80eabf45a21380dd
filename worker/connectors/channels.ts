// What ordersync asks of each sales channel beyond its webhooks, one entry per channel: fetch an
// order a notification only names, relay a shipment, push availability. The outbox and the SKU
// ledgers call these through the delivery engine; each connector implements what its API offers.
import type { Connection } from "../config";
import type { ChannelFulfillment } from "../model/fulfillment";
import type { CanonicalOrder, Channel } from "../model/order";
import type { CallResult } from "./call";
import { createFulfillment } from "./shopify/fulfillment";

type Options = { timeoutMs: number };

export interface ChannelConnector {
	/** The whole order, for channels whose notifications carry only its id (TikTok Shop, Amazon). */
	fetchOrder?(connection: Connection, channelOrderId: string, options: Options): Promise<CallResult<CanonicalOrder>>;
	/** Tell the channel a shipment left, with its tracking; a retry must not ship twice. */
	relayFulfillment?(connection: Connection, payload: ChannelFulfillment, options: Options): Promise<CallResult<unknown>>;
	/** Set what the channel offers of a SKU. */
	pushAvailability?(connection: Connection, update: { sku: string; quantity: number }, options: Options): Promise<CallResult<unknown>>;
}

const refused = (error: string) => ({ ok: false as const, retryable: false, error });

const CONNECTORS: Partial<Record<Channel, ChannelConnector>> = {
	shopify: {
		relayFulfillment: (connection, payload, options) =>
			connection.admin && connection.adminToken
				? createFulfillment(connection.admin, connection.adminToken, payload, options)
				: Promise.resolve(refused(`connection ${connection.id} has no Admin API access`)),
	},
};

export function connectorFor(channel: Channel): ChannelConnector {
	return CONNECTORS[channel] ?? {};
}

/** Whether ordersync can tell this connection's channel about shipments. */
export function relaysFulfillment(connection: Connection): boolean {
	return connection.channel === "shopify" ? Boolean(connection.admin) : connectorFor(connection.channel).relayFulfillment !== undefined;
}

/** Whether ordersync keeps this connection's channel told of each SKU's availability. */
export function pushesAvailability(connection: Connection): boolean {
	return connection.channel === "shopify" ? Boolean(connection.admin) : connectorFor(connection.channel).pushAvailability !== undefined;
}
