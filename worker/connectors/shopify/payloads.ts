import { z } from "zod";
import { Currency } from "../../model/money";

/*
 * The REST Admin API `Order` and `Refund` resources, as Shopify delivers them in the bodies of
 * orders/create|updated|cancelled|fulfilled and refunds/create. Only the fields we read are declared;
 * every object is loose so the hundred others (and new ones) pass through untouched.
 */

/**
 * Shopify ids are 64-bit. A plain JSON.parse rounds those beyond 2^53, so an id is a number
 * (possibly rounded: the normalizer decides whether it can trust it) or the exact digits as a
 * string when the body went through `parseShopifyJson`.
 */
const Id = z.union([z.number(), z.string().regex(/^\d+$/)], { error: "expected a numeric id" });

/** Money is a decimal string ("199.00", "1500"); it is converted to minor units, never to a float. */
const Decimal = z.string();

const Timestamp = z.iso.datetime({ offset: true });

/** Shopify sends null (and sometimes omits the key) for absent text. */
const MaybeText = z.string().nullish();

const MoneyInCurrency = z.looseObject({ amount: Decimal, currency_code: Currency });

/** `*_set`: the same amount in the shop's currency and in the buyer's. We read `shop_money`. */
const MoneySet = z.looseObject({ shop_money: MoneyInCurrency, presentment_money: MoneyInCurrency.optional() });

const TaxLine = z.looseObject({
	title: z.string(),
	price: Decimal,
	price_set: MoneySet.optional(),
	/** A JSON number such as 0.06. */
	rate: z.number().nullish(),
});

const DiscountAllocation = z.looseObject({
	amount: Decimal,
	amount_set: MoneySet.optional(),
	discount_application_index: z.number().int().nonnegative(),
});

/** `title` exists for manual and automatic discounts, `code` for discount codes. */
const DiscountApplication = z.looseObject({
	type: z.string(),
	title: MaybeText,
	code: MaybeText,
	description: MaybeText,
});

const DiscountCode = z.looseObject({
	code: z.string(),
	amount: Decimal,
	type: MaybeText,
});

const LineItem = z.looseObject({
	id: Id,
	admin_graphql_api_id: z.string().optional(),
	variant_id: Id.nullish(),
	product_id: Id.nullish(),
	title: z.string(),
	name: MaybeText,
	sku: MaybeText,
	quantity: z.number().int().nonnegative(),
	/** Since API 2024-01: quantity after removals (edits and refunds). */
	current_quantity: z.number().int().nonnegative().optional(),
	price: Decimal,
	price_set: MoneySet.optional(),
	requires_shipping: z.boolean().nullish(),
	gift_card: z.boolean().optional(),
	tax_lines: z.array(TaxLine).default([]),
	discount_allocations: z.array(DiscountAllocation).default([]),
});

const ShippingLine = z.looseObject({
	id: Id,
	admin_graphql_api_id: z.string().optional(),
	title: z.string(),
	code: MaybeText,
	price: Decimal,
	price_set: MoneySet.optional(),
	tax_lines: z.array(TaxLine).default([]),
	discount_allocations: z.array(DiscountAllocation).default([]),
});

const Address = z.looseObject({
	name: MaybeText,
	first_name: MaybeText,
	last_name: MaybeText,
	company: MaybeText,
	address1: MaybeText,
	address2: MaybeText,
	city: MaybeText,
	province: MaybeText,
	province_code: MaybeText,
	country: MaybeText,
	country_code: MaybeText,
	zip: MaybeText,
	phone: MaybeText,
});

const Customer = z.looseObject({
	id: Id,
	admin_graphql_api_id: z.string().optional(),
	email: MaybeText,
	first_name: MaybeText,
	last_name: MaybeText,
	phone: MaybeText,
});

const RefundLineItem = z.looseObject({
	id: Id,
	line_item_id: Id,
	/** The refunded line as it was; its gid carries the exact line id. */
	line_item: z.looseObject({ id: Id, admin_graphql_api_id: z.string().optional() }).optional(),
	quantity: z.number().int().nonnegative(),
	/** "no_restock" | "cancel" (never shipped) | "return" (shipped, came back) | "legacy_restock". */
	restock_type: MaybeText,
	/** The REST docs show this one as a JSON number (195.66), unlike every other amount. */
	subtotal: z.union([Decimal, z.number()]),
	subtotal_set: MoneySet.optional(),
});

const Transaction = z.looseObject({
	kind: MaybeText,
	amount: Decimal.nullish(),
	currency: Currency.nullish(),
});

export const ShopifyRefund = z.looseObject({
	id: Id,
	admin_graphql_api_id: z.string().optional(),
	order_id: Id,
	created_at: Timestamp,
	refund_line_items: z.array(RefundLineItem).default([]),
	transactions: z.array(Transaction).default([]),
});
export type ShopifyRefund = z.infer<typeof ShopifyRefund>;

export const ShopifyOrder = z.looseObject({
	id: Id,
	admin_graphql_api_id: z.string().optional(),
	name: z.string(),
	email: MaybeText,
	phone: MaybeText,
	created_at: Timestamp,
	updated_at: Timestamp,
	cancelled_at: Timestamp.nullable(),
	cancel_reason: MaybeText,
	/** The shop's currency; `presentment_currency` is the buyer's. */
	currency: Currency,
	financial_status: MaybeText,
	fulfillment_status: MaybeText,
	taxes_included: z.boolean(),
	subtotal_price: Decimal,
	subtotal_price_set: MoneySet.optional(),
	total_price: Decimal,
	total_price_set: MoneySet.optional(),
	/** `current_*` reflect edits and refunds after checkout (API 2021-01 and later). */
	current_subtotal_price: Decimal.optional(),
	current_subtotal_price_set: MoneySet.optional(),
	current_total_price: Decimal.optional(),
	current_total_price_set: MoneySet.optional(),
	line_items: z.array(LineItem),
	shipping_lines: z.array(ShippingLine).default([]),
	tax_lines: z.array(TaxLine).default([]),
	discount_codes: z.array(DiscountCode).default([]),
	discount_applications: z.array(DiscountApplication).default([]),
	customer: Customer.nullish(),
	shipping_address: Address.nullish(),
	billing_address: Address.nullish(),
	refunds: z.array(ShopifyRefund).default([]),
});
export type ShopifyOrder = z.infer<typeof ShopifyOrder>;

const UNSAFE_DIGITS = /\d{16}/;

/**
 * JSON.parse that keeps every id (`id`, `*_id`) beyond 2^53 as its exact digits, read from the
 * source text (ES2025 JSON.parse source access, available in workerd). Use it on webhook bodies
 * instead of JSON.parse: refunds/create carries `order_id` with no gid to recover it from.
 */
export function parseShopifyJson(text: string): unknown {
	// A reviver costs a call per value; only bodies with a 16+ digit number can hold an unsafe id.
	if (!UNSAFE_DIGITS.test(text)) return JSON.parse(text);
	return JSON.parse(text, (key: string, value: unknown, context?: { source?: string }) => {
		if (typeof value === "number" && !Number.isSafeInteger(value) && (key === "id" || key.endsWith("_id"))) {
			const source = context?.source;
			if (source && /^\d+$/.test(source)) return source;
		}
		return value;
	});
}
