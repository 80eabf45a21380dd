/** Webhook topics that carry an order (or a refund of one); every other topic is acknowledged and ignored. */
export const SHOPIFY_ORDER_TOPICS: ReadonlySet<string> = new Set([
	"orders/create",
	"orders/updated",
	"orders/cancelled",
	"orders/fulfilled",
	"refunds/create",
]);
