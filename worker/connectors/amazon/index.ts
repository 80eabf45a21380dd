// Amazon Selling Partner API: ORDER_CHANGE intake (via an EventBridge Pipe / API destination),
// order fetch and normalization, shipment confirmation, listing quantity.
export { AmazonAccount, type AmazonCredentials, LWA_TOKEN_ENDPOINT, MARKETPLACES, resolveAmazonCredentials, spApiBase } from "./account";
export { amazonCarrier, fetchAmazonOrder, packageReferenceId, pushAmazonAvailability, relayAmazonFulfillment } from "./client";
export { clearLwaTokens, forgetLwaToken, LWA_REFRESH_MARGIN_MS, type LwaClient, lwaAccessToken } from "./lwa";
export { type AmazonOrderResult, normalizeAmazonOrder, parseAmazonOrder } from "./normalize";
export { type AmazonNotificationResult, type AmazonOrderNotice, parseAmazonNotification, verifyAmazonWebhook } from "./notification";
export { AmazonOrder, AmazonOrderItem, OrderChangeNotification } from "./payloads";
