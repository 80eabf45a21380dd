import { z } from "zod";
import { Address } from "./order";

/** One routed order (or one location's part of a split order) as a 3PL is asked to ship it. */
export const ThreePlOrder = z.object({
	/** Unique and immutable per shipment request: `<order key>/<location id>`. The 3PL dedupes on it. */
	referenceId: z.string().min(1).max(300),
	/** What people call the order (the channel's order name, e.g. "#1001"). */
	orderNumber: z.string(),
	/** The 3PL's own id of the fulfilment centre chosen by routing (ShipBob `location_id`). */
	fulfillmentCenterId: z.number().int().positive(),
	shippingMethod: z.string().min(1),
	purchaseDate: z.string(),
	recipient: Address.extend({ email: z.string().optional() }),
	products: z.array(z.object({ sku: z.string().min(1), name: z.string(), quantity: z.number().int().positive() })).min(1),
});
export type ThreePlOrder = z.infer<typeof ThreePlOrder>;

/** A 3PL's news about one shipment of an order, normalized from its webhook. */
export const ShipmentNotice = z.object({
	/** The webhook's own id: a redelivery carries the same one. */
	eventId: z.string().min(1),
	topic: z.string(),
	/** The `referenceId` ordersync sent with the order. */
	referenceId: z.string().min(1),
	/** The 3PL's shipment id: one shipment, one channel fulfilment. */
	shipmentId: z.string().min(1),
	status: z.enum(["shipped", "delivered", "exception", "cancelled"]),
	fulfillmentCenterId: z.number().int().optional(),
	carrier: z.string().optional(),
	trackingNumber: z.string().optional(),
	trackingUrl: z.string().optional(),
	/** When it happened, per the 3PL (ISO 8601 UTC). */
	at: z.string(),
	/** Units in this shipment, by the brand's SKU. */
	lines: z.array(z.object({ sku: z.string().min(1), quantity: z.number().int().positive() })),
});
export type ShipmentNotice = z.infer<typeof ShipmentNotice>;

/** Carrier statuses as EasyPost names them; ordersync records and relays all of them. */
export const TrackingStatus = z.enum([
	"unknown",
	"pre_transit",
	"in_transit",
	"out_for_delivery",
	"delivered",
	"available_for_pickup",
	"return_to_sender",
	"failure",
	"cancelled",
	"error",
]);
export type TrackingStatus = z.infer<typeof TrackingStatus>;

/** A carrier tracking event (EasyPost `tracker.updated`), normalized. */
export const TrackingUpdate = z.object({
	eventId: z.string().min(1),
	trackerId: z.string().min(1),
	trackingCode: z.string().min(1),
	carrier: z.string(),
	status: TrackingStatus,
	statusDetail: z.string().optional(),
	/** When the carrier reported it (ISO 8601 UTC). */
	at: z.string(),
	estDeliveryDate: z.string().nullable().optional(),
});
export type TrackingUpdate = z.infer<typeof TrackingUpdate>;

/** What ordersync asks the origin channel to record for one shipment. */
export const ChannelFulfillment = z.object({
	channelOrderId: z.string().min(1),
	shipmentId: z.string().min(1),
	lines: z.array(z.object({ channelLineId: z.string().min(1), quantity: z.number().int().positive() })).min(1),
	tracking: z.object({ company: z.string().optional(), number: z.string().optional(), url: z.string().optional() }),
	notifyCustomer: z.boolean(),
});
export type ChannelFulfillment = z.infer<typeof ChannelFulfillment>;

/**
 * ordersync's answer to an order the channel sent for acceptance (EDI 855): one decision per
 * channel line, for one version of the order (its sourceUpdatedAt), sent once its lines are held
 * or backordered.
 */
export const ChannelAcknowledgment = z.object({
	channelOrderId: z.string().min(1),
	/** The order version acknowledged: a later version gets an acknowledgment of its own. */
	version: z.string().min(1),
	lines: z.array(
		z.object({
			channelLineId: z.string().min(1),
			/** accepted: held in full; backordered: waiting for stock; rejected: no SKU ordersync can ship. */
			status: z.enum(["accepted", "backordered", "rejected"]),
			quantity: z.number().int().nonnegative(),
		}),
	),
});
export type ChannelAcknowledgment = z.infer<typeof ChannelAcknowledgment>;
