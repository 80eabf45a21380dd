import { z } from "zod";
import { Currency, Money } from "./money";

/** The channels whose payouts ordersync reconciles. */
export const PayoutChannel = z.enum(["shopify", "tiktok", "amazon"]);
export type PayoutChannel = z.infer<typeof PayoutChannel>;

/**
 * Where a fee, charge or other movement in a payout goes in the books. Each category maps to a GL
 * account in the ERP config; `null` on a fee means the channel named a fee ordersync does not know,
 * which is an exception ("missing fee mapping"), never a silent plug.
 */
export const FeeCategory = z.enum([
	"commission",
	"payment_processing",
	"fulfillment",
	"shipping_label",
	"affiliate",
	"promotion",
	"advertising",
	"tax_withheld",
	"adjustment",
	"reserve",
	"other",
]);
export type FeeCategory = z.infer<typeof FeeCategory>;

/** One fee or other movement on a payout line, signed as it moves the payout: a fee charged is negative. */
export const SettlementFee = z.object({
	/** The channel's own name for it (Amazon "Commission", TikTok "transaction_fee", Shopify "fee"). */
	code: z.string().min(1),
	category: FeeCategory.nullable(),
	amount: Money,
});
export type SettlementFee = z.infer<typeof SettlementFee>;

/**
 * What a payout line is: money for an order (a sale), money back for a refund, or a movement not
 * tied to one order (a reserve held or released, an adjustment, a chargeback fee, ad spend).
 */
export const SettlementLineKind = z.enum(["order", "refund", "adjustment", "reserve", "other"]);
export type SettlementLineKind = z.infer<typeof SettlementLineKind>;

export const SettlementLine = z.object({
	/** The channel's id for this line (Shopify balance transaction, TikTok statement transaction, Amazon row group), unique in the payout. */
	id: z.string().min(1),
	kind: SettlementLineKind,
	/** The channel's order id, as ordersync's order key uses it (Shopify order id, TikTok order id, Amazon order id). */
	channelOrderId: z.string().min(1).optional(),
	/** The channel's refund id, when the channel names one. */
	channelRefundId: z.string().min(1).optional(),
	postedAt: z.string().optional(),
	/**
	 * What the buyer paid for this order (positive) or was given back (negative), in the payout's
	 * currency: merchandise, shipping and tax, before the channel's fees. 0 on lines not tied to an order.
	 */
	amount: Money,
	/** Fees and other movements on this line; for lines not tied to an order, all of their money. */
	fees: z.array(SettlementFee),
	description: z.string().optional(),
});
export type SettlementLine = z.infer<typeof SettlementLine>;

/** One payout (Shopify Payments payout, TikTok Shop statement, Amazon settlement), normalized. */
export const Payout = z.object({
	connection: z.string().min(1),
	channel: PayoutChannel,
	/** The channel's id for the payout (Shopify payout id, TikTok statement id, Amazon settlement-id). */
	payoutId: z.string().min(1),
	currency: Currency,
	periodStart: z.string().optional(),
	periodEnd: z.string().optional(),
	/** When the money reaches (or reached) the bank. */
	paidAt: z.string().optional(),
	/** What the channel pays into the bank: the deposit must equal this to the cent. */
	total: Money,
	lines: z.array(SettlementLine),
});
export type Payout = z.infer<typeof Payout>;

/** A line's net effect on the payout: its amount plus its (signed) fees. */
export function lineNet(line: SettlementLine): number {
	return line.fees.reduce((sum, fee) => sum + fee.amount.amount, line.amount.amount);
}
