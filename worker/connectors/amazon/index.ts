// Amazon Selling Partner API: ORDER_CHANGE intake (via an EventBridge Pipe / API destination),
// order fetch (with a Restricted Data Token for the buyer's name and address) and normalization,
// shipment confirmation, listing quantity.
export { AmazonAccount, type AmazonCredentials, LWA_TOKEN_ENDPOINT, MARKETPLACES, resolveAmazonCredentials, spApiBase } from "./account";
export { type AmazonFetchedOrder, amazonCarrier, fetchAmazonOrder, fetchAmazonOrderDetailed, packageReferenceId, pushAmazonAvailability, relayAmazonFulfillment } from "./client";
export { clearLwaTokens, forgetLwaToken, LWA_REFRESH_MARGIN_MS, type LwaClient, lwaAccessToken } from "./lwa";
export { type AmazonOrderResult, normalizeAmazonOrder, parseAmazonOrder } from "./normalize";
export { type AmazonNotificationResult, type AmazonOrderNotice, parseAmazonNotification, verifyAmazonWebhook } from "./notification";
export { AmazonOrder, AmazonOrderItem, CreateRestrictedDataTokenResponse, OrderChangeNotification } from "./payloads";
export { type OrderAccess, orderAccess } from "./rdt";
