// What ordersync asks of each sales channel beyond its webhooks, one entry per channel: fetch an
// order a notification only names, relay a shipment, push availability. The outbox and the SKU
// ledgers call these through the delivery engine; each connector implements what its API offers.
import type { Connection } from "../config";
import type { ChannelFulfillment } from "../model/fulfillment";
import type { CanonicalOrder, Channel } from "../model/order";
import type { CallResult } from "./call";
import { type AmazonAccount, type AmazonCredentials, fetchAmazonOrder, pushAmazonAvailability, relayAmazonFulfillment } from "./amazon";
import { createFulfillment } from "./shopify/fulfillment";
import { fetchTikTokOrder, pushTikTokAvailability, relayTikTokFulfillment, type TikTokAccount, type TikTokCredentials } from "./tiktok";
import { fetchWooCommerceOrder, pushWooCommerceAvailability, relayWooCommerceFulfillment, type WooCommerceAccount, type WooCommerceCredentials } from "./woocommerce";

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

/** A connection's API block and the secrets it names; the config has checked the block is there. */
const api = <Block, Credentials>(connection: Connection, block: Block | undefined) => [block!, connection.credentials as Credentials] as const;

const CONNECTORS: Partial<Record<Channel, ChannelConnector>> = {
	shopify: {
		relayFulfillment: (connection, payload, options) =>
			connection.admin && connection.adminToken
				? createFulfillment(connection.admin, connection.adminToken, payload, options)
				: Promise.resolve(refused(`connection ${connection.id} has no Admin API access`)),
	},
	tiktok: {
		fetchOrder: (connection, id, options) => fetchTikTokOrder(...api<TikTokAccount, TikTokCredentials>(connection, connection.tiktok), connection.id, id, options),
		relayFulfillment: (connection, payload, options) => relayTikTokFulfillment(...api<TikTokAccount, TikTokCredentials>(connection, connection.tiktok), payload, options),
		pushAvailability: (connection, update, options) => pushTikTokAvailability(...api<TikTokAccount, TikTokCredentials>(connection, connection.tiktok), update, options),
	},
	amazon: {
		fetchOrder: (connection, id, options) => fetchAmazonOrder(...api<AmazonAccount, AmazonCredentials>(connection, connection.amazon), connection.id, id, options),
		relayFulfillment: (connection, payload, options) => relayAmazonFulfillment(...api<AmazonAccount, AmazonCredentials>(connection, connection.amazon), payload, options),
		pushAvailability: (connection, update, options) => pushAmazonAvailability(...api<AmazonAccount, AmazonCredentials>(connection, connection.amazon), update, options),
	},
	woocommerce: {
		fetchOrder: (connection, id, options) => withWoo(connection, (account, credentials) => fetchWooCommerceOrder(account, credentials, connection.id, id, options)),
		relayFulfillment: (connection, payload, options) => withWoo(connection, (account, credentials) => relayWooCommerceFulfillment(account, credentials, payload, options)),
		pushAvailability: (connection, update, options) => withWoo(connection, (account, credentials) => pushWooCommerceAvailability(account, credentials, update, options)),
	},
};

/** WooCommerce webhooks work without API access; the REST calls need the woocommerce block. */
function withWoo<T>(connection: Connection, call: (account: WooCommerceAccount, credentials: WooCommerceCredentials) => Promise<CallResult<T>>): Promise<CallResult<T>> {
	return connection.woocommerce
		? call(connection.woocommerce, connection.credentials as WooCommerceCredentials)
		: Promise.resolve(refused(`connection ${connection.id} has no woocommerce = { storeUrl, … } block for the REST API`));
}

export function connectorFor(channel: Channel): ChannelConnector {
	return CONNECTORS[channel] ?? {};
}

/** Whether ordersync can tell this connection's channel about shipments. */
export function relaysFulfillment(connection: Connection): boolean {
	return hasApi(connection) && connectorFor(connection.channel).relayFulfillment !== undefined;
}

/** Shopify talks back through its Admin API block, WooCommerce through its REST block; the others always have theirs. */
function hasApi(connection: Connection): boolean {
	if (connection.channel === "shopify") return Boolean(connection.admin);
	if (connection.channel === "woocommerce") return Boolean(connection.woocommerce);
	return true;
}

/** Whether ordersync keeps this connection's channel told of each SKU's availability. */
export function pushesAvailability(connection: Connection): boolean {
	return hasApi(connection) && (connection.channel === "shopify" || connectorFor(connection.channel).pushAvailability !== undefined);
}
