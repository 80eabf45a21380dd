import { z } from "zod";
import { CanonicalOrder, Channel, Refund } from "./order";

/** What one inbound webhook changes, after its channel adapter normalized it. */
export const OrderChange = z.discriminatedUnion("kind", [
	/** The channel sent the whole order (Shopify orders/*): it replaces older versions. */
	z.object({ kind: z.literal("order"), order: CanonicalOrder }),
	/** The channel sent one refund of an order (Shopify refunds/create). */
	z.object({ kind: z.literal("refund"), channelOrderId: z.string().min(1), refund: Refund }),
]);
export type OrderChange = z.infer<typeof OrderChange>;

/** One inbound webhook as it is stored: raw for audit and replay, normalized for use. */
export const InboundEvent = z.object({
	eventId: z.string().min(1),
	connection: z.string(),
	channel: Channel,
	topic: z.string(),
	/** The channel's own time for the event (Shopify X-Shopify-Triggered-At), if it sent one. */
	triggeredAt: z.string().nullable(),
	receivedAt: z.string(),
	rawBody: z.string(),
	change: OrderChange,
});
export type InboundEvent = z.infer<typeof InboundEvent>;

/**
 * A channel notification that names an order without its contents (TikTok Shop, Amazon): stored as
 * received, and the order is fetched from the channel's API after the webhook is acknowledged.
 */
export const Notification = InboundEvent.omit({ change: true }).extend({ channelOrderId: z.string().min(1) });
export type Notification = z.infer<typeof Notification>;
