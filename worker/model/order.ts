import { z } from "zod";
import { Currency, Money } from "./money";

/** Channels ordersync speaks; the model is shared by all of them. */
export const Channel = z.enum(["shopify", "tiktok", "amazon", "woocommerce", "edi"]);
export type Channel = z.infer<typeof Channel>;

export const TaxLine = z.object({
	title: z.string(),
	/** Rate as a decimal string ("0.0825"), kept exact for the ERP. */
	rate: z.string().optional(),
	amount: Money,
});
export type TaxLine = z.infer<typeof TaxLine>;

export const Discount = z.object({
	code: z.string().optional(),
	title: z.string().optional(),
	amount: Money,
});
export type Discount = z.infer<typeof Discount>;

export const OrderLine = z.object({
	channelLineId: z.string().min(1),
	/** The brand's SKU; null for lines the channel sells without one (custom items, tips). */
	sku: z.string().min(1).nullable(),
	title: z.string(),
	quantity: z.number().int().nonnegative(),
	unitPrice: Money,
	discounts: z.array(Discount),
	taxes: z.array(TaxLine),
	requiresShipping: z.boolean(),
});
export type OrderLine = z.infer<typeof OrderLine>;

export const ShippingLine = z.object({
	channelLineId: z.string(),
	title: z.string(),
	code: z.string().optional(),
	price: Money,
	discounts: z.array(Discount),
	taxes: z.array(TaxLine),
});
export type ShippingLine = z.infer<typeof ShippingLine>;

/** Personal data: everything here is redactable on request. */
export const Address = z.object({
	name: z.string().optional(),
	company: z.string().optional(),
	address1: z.string().optional(),
	address2: z.string().optional(),
	city: z.string().optional(),
	province: z.string().optional(),
	provinceCode: z.string().optional(),
	countryCode: z.string().optional(),
	zip: z.string().optional(),
	phone: z.string().optional(),
});
export type Address = z.infer<typeof Address>;

export const Customer = z.object({
	channelCustomerId: z.string().optional(),
	email: z.string().optional(),
	name: z.string().optional(),
	phone: z.string().optional(),
});
export type Customer = z.infer<typeof Customer>;

export const FinancialStatus = z.enum([
	"pending",
	"authorized",
	"partially_paid",
	"paid",
	"partially_refunded",
	"refunded",
	"voided",
	"unknown",
]);
export const FulfillmentStatus = z.enum(["unfulfilled", "partial", "fulfilled", "restocked"]);

export const Refund = z.object({
	channelRefundId: z.string(),
	createdAt: z.string(),
	lines: z.array(
		z.object({
			channelLineId: z.string(),
			quantity: z.number().int().nonnegative(),
			/** True when the units go back to sellable stock because they never shipped. */
			restockBeforeShipment: z.boolean(),
			amount: Money,
		}),
	),
});
export type Refund = z.infer<typeof Refund>;

/** The one order model every channel normalizes into. */
export const CanonicalOrder = z.object({
	connection: z.string(),
	channel: Channel,
	channelOrderId: z.string().min(1),
	/** The number people use: Shopify "#1001", Amazon "113-…", an EDI PO number. */
	channelOrderName: z.string(),
	currency: Currency,
	lines: z.array(OrderLine),
	shippingLines: z.array(ShippingLine),
	taxes: z.array(TaxLine),
	taxesIncluded: z.boolean(),
	discounts: z.array(Discount),
	subtotal: Money,
	total: Money,
	customer: Customer.optional(),
	shipTo: Address.optional(),
	financialStatus: FinancialStatus,
	fulfillmentStatus: FulfillmentStatus,
	cancelledAt: z.string().nullable(),
	refunds: z.array(Refund),
	createdAt: z.string(),
	/** The source's own update time (ISO 8601 UTC): older versions never overwrite newer ones. */
	sourceUpdatedAt: z.string(),
	/**
	 * Why the channel says not to ship yet (Amazon Pending, TikTok Shop UNPAID / ON_HOLD): units are
	 * held, but the order is not routed to a warehouse until a later version clears it.
	 */
	holdReason: z.string().optional(),
});
export type CanonicalOrder = z.infer<typeof CanonicalOrder>;

/** Durable Object name for an order: `<connection>:<channel order id>`. */
export function orderKey(connection: string, channelOrderId: string): string {
	return `${connection}:${channelOrderId}`;
}

/**
 * Drops null and blank fields: the model uses optional fields, not nullable ones. With `trim`, the
 * fields kept are trimmed too (for channels that pad what their sellers type).
 */
export function compact<T extends Record<string, string | null | undefined>>(fields: T, { trim = false } = {}): { [K in keyof T]?: string } {
	const out: { [K in keyof T]?: string } = {};
	for (const key in fields) {
		const value = fields[key];
		if (value != null && value.trim() !== "") out[key] = trim ? value.trim() : value;
	}
	return out;
}
