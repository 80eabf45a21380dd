// TikTok Shop (Open API 202309): the public surface the routes, the outbox and the ledgers use.
export { shippingProviderFor, TikTokAccount, type TikTokCredentials } from "./account";
export {
	fetchTikTokOrder,
	getTikTokOrder,
	pushTikTokAvailability,
	relayTikTokFulfillment,
	TIKTOK_BASE_URL,
	type TikTokRelayed,
	type TikTokStockSet,
} from "./client";
export { groupTikTokLineItems, normalizeTikTokOrder, parseTikTokOrderDetail, type TikTokOrderResult } from "./normalize";
export { type TikTokOrder, type TikTokOrderStatus, tiktokOrderStatus } from "./payloads";
export { signedTikTokUrl, signTikTokRequest, tiktokSignBase } from "./sign";
export {
	type ParsedTikTokNotification,
	parseTikTokNotification,
	signTikTokWebhook,
	TIKTOK_SIGNATURE_HEADER,
	TIKTOK_TOPICS,
	type TikTokNotification,
	type TikTokOrderTopic,
	type TikTokSigner,
	verifyTikTokWebhook,
} from "./webhook";
