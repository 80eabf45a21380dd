import { z } from "zod";
import { Currency } from "../../model/money";

/*
 * The REST API v3 order resource (`GET /wp-json/wc/v3/orders/<id>`), which is also the body of the
 * order.created / order.updated / order.restored webhooks: "exactly the same as if requested via
 * the REST API" (woocommerce-rest-api-docs, wp-api-v3/_webhooks.md; core builds it with
 * RestApiUtil::get_endpoint_data). Field list from WC_REST_Orders_V2_Controller::get_formatted_item_data().
 * Only the fields ordersync reads are declared; every object is loose, so what a newer WooCommerce
 * or a plugin adds passes through.
 */

const Id = z.number().int().nonnegative();

/**
 * Money comes as a decimal string from `wc_format_decimal` ("29.35", "0.9", "-10.00"), converted to
 * minor units without floats. Line items also carry `price`, a float (total / quantity): never read.
 */
const Decimal = z.string();

/**
 * `*_gmt` times: UTC written without a zone ("2017-03-22T19:28:08"); `date_created` and friends are
 * site-local, also without one, and are not read. A zone, if a plugin adds one, is honoured.
 */
export const GmtTime = z
	.string()
	.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?$/, "expected a WooCommerce *_gmt time, YYYY-MM-DDTHH:MM:SS");

const Text = z.string().nullish();

const Address = z.looseObject({
	first_name: Text,
	last_name: Text,
	company: Text,
	address_1: Text,
	address_2: Text,
	city: Text,
	/** A state code for countries WooCommerce knows ("CA"), else free text. */
	state: Text,
	postcode: Text,
	/** ISO 3166-1 alpha-2. */
	country: Text,
	email: Text,
	phone: Text,
});

/** One rate's part of an item: `id` is the rate id (tax_lines[].rate_id); "" means no tax at that rate. */
const ItemTax = z.looseObject({ id: Id, total: Decimal.nullish(), subtotal: Decimal.nullish() });

const LineItem = z.looseObject({
	id: Id,
	/** HTML-entity encoded, as WordPress stores titles ("Ship Your Idea &ndash; Color: Black"). */
	name: z.string(),
	product_id: Id.nullish(),
	/** 0 for simple products; SKU and stock live on the variation when set. */
	variation_id: Id.nullish(),
	quantity: z.number().int().nonnegative(),
	/** Line amount before discounts, excluding tax. */
	subtotal: Decimal,
	/** Line amount after discounts, excluding tax. */
	total: Decimal,
	taxes: z.array(ItemTax).default([]),
	/** "" or null when the product has none. */
	sku: Text,
});

const ShippingLine = z.looseObject({
	id: Id,
	method_title: z.string(),
	method_id: Text,
	total: Decimal,
	taxes: z.array(ItemTax).default([]),
});

/** Fees (surcharges, or negative amounts for ad-hoc discounts) added to the order. */
const FeeLine = z.looseObject({
	id: Id,
	name: z.string(),
	total: Decimal,
	taxes: z.array(ItemTax).default([]),
});

const CouponLine = z.looseObject({ id: Id, code: z.string(), discount: Decimal });

const TaxLine = z.looseObject({
	id: Id,
	rate_code: Text,
	rate_id: Id,
	label: Text,
	tax_total: Decimal,
	shipping_tax_total: Decimal,
	/** Newer versions: the rate in percent, a JSON number (7.25). */
	rate_percent: z.number().nullish(),
});

/** The order's summary of each refund; `total` is negative ("-10.00"). Older controllers said `refund` for `reason`. */
const RefundSummary = z.looseObject({ id: Id, reason: Text, refund: Text, total: Decimal });

export const WooCommerceOrder = z.looseObject({
	id: Id.positive(),
	parent_id: Id.nullish(),
	/** The display number; sequential-number plugins make it differ from `id`. */
	number: z.union([z.string(), z.number()]),
	/** Core slugs, `trash`, `checkout-draft`, or whatever a plugin registered: any string. */
	status: z.string().min(1),
	currency: Currency,
	date_created_gmt: GmtTime,
	date_modified_gmt: GmtTime.nullish(),
	date_paid_gmt: GmtTime.nullish(),
	date_completed_gmt: GmtTime.nullish(),
	total: Decimal,
	total_tax: Decimal.nullish(),
	prices_include_tax: z.boolean().nullish(),
	customer_id: Id.nullish(),
	billing: Address.nullish(),
	shipping: Address.nullish(),
	line_items: z.array(LineItem),
	tax_lines: z.array(TaxLine).default([]),
	shipping_lines: z.array(ShippingLine).default([]),
	fee_lines: z.array(FeeLine).default([]),
	coupon_lines: z.array(CouponLine).default([]),
	refunds: z.array(RefundSummary).default([]),
});
export type WooCommerceOrder = z.infer<typeof WooCommerceOrder>;

/** order.deleted (fired when an order is trashed) carries only the id: `{"id":727}`. */
export const WooCommerceDeletedBody = z.looseObject({ id: Id.positive() });
