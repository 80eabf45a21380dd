// What ordersync asks of each sales channel beyond its webhooks, one entry per channel: fetch an
// order a notification only names, relay a shipment, push availability, acknowledge an order (EDI
// 855). The outbox and the SKU ledgers call these through the delivery engine; each connector
// implements what its API offers.
import type { Connection } from "../config";
import type { Env } from "../env";
import type { ChannelAcknowledgment, ChannelFulfillment } from "../model/fulfillment";
import type { CanonicalOrder, Channel } from "../model/order";
import type { CallResult } from "./call";
import { type AmazonAccount, type AmazonCredentials, fetchAmazonOrder, pushAmazonAvailability, relayAmazonFulfillment } from "./amazon";
import {
	type ControlAllocator,
	type EdiAccount,
	type EdiCredentials,
	type LineDecision,
	type PurchaseOrderDetails,
	acknowledgeEdiOrder,
	pushEdiAvailability,
	relayEdiFulfillment,
} from "./edi";
import { createFulfillment } from "./shopify/fulfillment";
import { fetchTikTokOrder, pushTikTokAvailability, relayTikTokFulfillment, type TikTokAccount, type TikTokCredentials } from "./tiktok";
import { fetchWooCommerceOrder, pushWooCommerceAvailability, relayWooCommerceFulfillment, type WooCommerceAccount, type WooCommerceCredentials } from "./woocommerce";

/** `env` reaches ordersync's own objects (an EDI partner's control numbers); most connectors ignore it. */
type Options = { timeoutMs: number; env: Env };
/** The order as its OrderFlow holds it, for channels whose documents restate it (EDI 855/856/810). */
type OrderOptions = Options & { order?: CanonicalOrder };

export interface ChannelConnector {
	/** The whole order, for channels whose notifications carry only its id (TikTok Shop, Amazon). */
	fetchOrder?(connection: Connection, channelOrderId: string, options: Options): Promise<CallResult<CanonicalOrder>>;
	/** Tell the channel a shipment left, with its tracking; a retry must not ship twice. */
	relayFulfillment?(connection: Connection, payload: ChannelFulfillment, options: OrderOptions): Promise<CallResult<unknown>>;
	/**
	 * Set what the channel offers of a SKU. `version` counts the SKU's availability changes for this
	 * connection: the same version again is a retry of the same push.
	 */
	pushAvailability?(connection: Connection, update: { sku: string; quantity: number }, options: Options & { version?: number }): Promise<CallResult<unknown>>;
	/** Accept (or not) each line of an order the channel sent for acknowledgment (EDI 855); once per order version. */
	acknowledgeOrder?(connection: Connection, payload: ChannelAcknowledgment, options: OrderOptions): Promise<CallResult<unknown>>;
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
	// EDI X12: every document takes its control numbers from the partner's TradingPartner object,
	// under a key naming the document, so a retried delivery re-sends the same bytes (same ISA13)
	// and the gateway drops it as a duplicate.
	edi: {
		relayFulfillment: (connection, payload, options) =>
			withEdi(connection, options, async (account, credentials, partner) => {
				if (!options.order) return refused(`the 856 for ${payload.channelOrderId} needs the order, and none was given`);
				const po = await partner.purchaseOrder(payload.channelOrderId);
				return relayEdiFulfillment(account, credentials, payload, { timeoutMs: options.timeoutMs, controls: partner.controls(), order: options.order, ...(po ? { po } : {}) });
			}),
		pushAvailability: (connection, update, options) =>
			withEdi(connection, options, (account, credentials, partner) =>
				pushEdiAvailability(account, credentials, update, {
					timeoutMs: options.timeoutMs,
					// One 846 per availability version: a retry of the same push is the same interchange.
					controls: partner.controls(options.version === undefined ? undefined : `846:${update.sku}:${options.version}:${update.quantity}`),
				}),
			),
		acknowledgeOrder: (connection, payload, options) =>
			withEdi(connection, options, async (account, credentials, partner) => {
				const order = options.order;
				if (!order) return refused(`the 855 for ${payload.channelOrderId} needs the order, and none was given`);
				// A newer version (an 850 replace) or a cancellation came in meanwhile: that version speaks for the order now.
				if (order.sourceUpdatedAt !== payload.version) return { ok: true, value: { skipped: `order ${order.channelOrderId} changed since version ${payload.version}` } };
				if (order.cancelledAt) return { ok: true, value: { skipped: `order ${order.channelOrderId} is cancelled` } };
				const po = await partner.purchaseOrder(payload.channelOrderId);
				const lines: LineDecision[] = payload.lines.map((l) => ({ channelLineId: l.channelLineId, status: ACK_STATUS[l.status], quantity: l.quantity }));
				return acknowledgeEdiOrder(account, credentials, order, { timeoutMs: options.timeoutMs, controls: partner.controls(), lines, ...(po ? { po } : {}) });
			}),
	},
};

/** 855 ACK01: IA accepted, IB backordered, IR rejected. */
const ACK_STATUS = { accepted: "IA", backordered: "IB", rejected: "IR" } as const;

type Partner = {
	/** The partner's allocator; with a key, every request is made under that key. */
	controls(key?: string): ControlAllocator;
	/** What the 850 said, kept by the partner object (RPC loses the tuple types: restored here). */
	purchaseOrder(poNumber: string): Promise<PurchaseOrderDetails | null>;
};

/** An EDI connection's account, token and TradingPartner object. */
function withEdi(
	connection: Connection,
	options: Options,
	call: (account: EdiAccount, credentials: EdiCredentials, partner: Partner) => Promise<CallResult<unknown>>,
): Promise<CallResult<unknown>> {
	if (!connection.edi) return Promise.resolve(refused(`connection ${connection.id} has no edi = { … } block`));
	const stub = options.env.TRADING_PARTNER.getByName(connection.id);
	const partner: Partner = {
		controls: (key) => (request) => stub.allocate(key === undefined ? request : { ...request, key }),
		purchaseOrder: async (poNumber) => (await stub.purchaseOrder(poNumber)) as PurchaseOrderDetails | null,
	};
	return call(connection.edi, connection.credentials as EdiCredentials, partner);
}

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

/** Whether ordersync answers this connection's orders with an acknowledgment (EDI 855). */
export function acknowledgesOrders(connection: Connection): boolean {
	return hasApi(connection) && connectorFor(connection.channel).acknowledgeOrder !== undefined;
}
