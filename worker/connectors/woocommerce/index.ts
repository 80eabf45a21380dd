// The WooCommerce connector's public surface: account config, webhook intake, normalization, REST client.
export { WooCommerceAccount, type WooCommerceCredentials } from "./account";
export {
	WOOCOMMERCE_HEADERS,
	readWooCommerceHeaders,
	signWooCommerceBody,
	verifyWooCommerceWebhook,
	wooCommerceEventId,
	wooCommercePing,
	wpSpecialcharsDecode,
	type WooCommerceDeliveryHeaders,
} from "./webhook";
export { WOOCOMMERCE_ORDER_TOPICS, normalizeWooCommerceOrder, parseWooCommerceChange, type WooCommerceChangeResult } from "./normalize";
export { WooCommerceOrder } from "./payloads";
export {
	fetchWooCommerceOrder,
	pushWooCommerceAvailability,
	relayWooCommerceFulfillment,
	type WooCommerceRelayResult,
	type WooCommerceStockResult,
} from "./client";
