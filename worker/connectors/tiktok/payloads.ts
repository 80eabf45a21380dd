import { z } from "zod";

/*
 * TikTok Shop Open API 202309 payloads ordersync reads: Get Order Detail
 * (https://partner.tiktokshop.com/docv2/page/get-order-detail-202309; field list from TikTok's
 * generated SDK model `GetOrderDetailResponseDataOrders*` and the @tts-open-toolkit OpenAPI spec)
 * and Search Products (https://partner.tiktokshop.com/docv2/page/search-products-202309).
 * Objects are loose: TikTok adds fields per market and per version. Ids are strings; money is
 * decimal strings ("35.97"), converted to minor units and never to floats; times are Unix seconds.
 */

/** Order statuses of Get Order Detail `status`. */
export const TIKTOK_ORDER_STATUSES = [
	"UNPAID",
	"ON_HOLD",
	"AWAITING_SHIPMENT",
	"PARTIALLY_SHIPPING",
	"AWAITING_COLLECTION",
	"IN_TRANSIT",
	"DELIVERED",
	"COMPLETED",
	"CANCELLED",
] as const;
export type TikTokOrderStatus = (typeof TIKTOK_ORDER_STATUSES)[number];

/**
 * An order status from either source. The ORDER_STATUS_CHANGE webhook spells the cancelled state
 * `CANCEL` (https://partner.tiktokshop.com/docv2/page/1-order-status-change), Get Order Detail
 * `CANCELLED`: both are CANCELLED here. Null for a status TikTok does not document.
 */
export function tiktokOrderStatus(value: string): TikTokOrderStatus | null {
	const upper = value.trim().toUpperCase();
	if (upper === "CANCEL") return "CANCELLED";
	return (TIKTOK_ORDER_STATUSES as readonly string[]).includes(upper) ? (upper as TikTokOrderStatus) : null;
}

const Text = z.string().nullish();
/** A decimal amount as TikTok writes it; blank means absent. Checked when converted. */
const Amount = z.string().nullish();
/** Unix seconds; TikTok writes 0 for "not yet" in some markets. */
const Seconds = z.number().int().nonnegative().nullish();
const Id = z.string().min(1);

const ItemTax = z.looseObject({ tax_type: Text, tax_amount: Amount, tax_rate: Text });

export const TikTokLineItem = z.looseObject({
	/** One line item is one unit: the schema has no quantity; buying 3 gives 3 line items. */
	id: Id,
	sku_id: Text,
	seller_sku: Text,
	product_id: Text,
	product_name: Text,
	sku_name: Text,
	sale_price: Amount,
	original_price: Amount,
	seller_discount: Amount,
	platform_discount: Amount,
	currency: Text,
	item_tax: z.array(ItemTax).nullish(),
	is_gift: z.boolean().nullish(),
	/** US and UK local sellers: absent until the package ships. */
	package_id: Text,
	package_status: Text,
	display_status: Text,
	cancel_reason: Text,
	cancel_user: Text,
	rts_time: Seconds,
	tracking_number: Text,
	shipping_provider_id: Text,
	shipping_provider_name: Text,
});
export type TikTokLineItem = z.infer<typeof TikTokLineItem>;

const Payment = z.looseObject({
	currency: z.string().regex(/^[A-Z]{3}$/, "expected an ISO 4217 currency code"),
	sub_total: Amount,
	shipping_fee: Amount,
	seller_discount: Amount,
	platform_discount: Amount,
	tax: Amount,
	product_tax: Amount,
	shipping_fee_tax: Amount,
	original_total_product_price: Amount,
	original_shipping_fee: Amount,
	shipping_fee_seller_discount: Amount,
	shipping_fee_platform_discount: Amount,
	shipping_fee_cofunded_discount: Amount,
	retail_delivery_fee: Amount,
	total_amount: Amount,
});

const DistrictInfo = z.looseObject({ address_level: Text, address_level_name: Text, address_name: Text, iso_code: Text });

const RecipientAddress = z.looseObject({
	name: Text,
	first_name: Text,
	last_name: Text,
	phone_number: Text,
	address_line1: Text,
	address_line2: Text,
	address_detail: Text,
	full_address: Text,
	postal_code: Text,
	post_town: Text,
	region_code: Text,
	district_info: z.array(DistrictInfo).nullish(),
});

export const TikTokOrder = z.looseObject({
	id: Id,
	status: z.string().min(1),
	create_time: z.number().int().nonnegative(),
	update_time: Seconds,
	paid_time: Seconds,
	cancel_time: Seconds,
	rts_time: Seconds,
	buyer_email: Text,
	user_id: Text,
	cancel_reason: Text,
	cancellation_initiator: Text,
	delivery_option_id: Text,
	delivery_option_name: Text,
	shipping_provider: Text,
	shipping_provider_id: Text,
	shipping_type: Text,
	fulfillment_type: Text,
	tracking_number: Text,
	warehouse_id: Text,
	is_on_hold_order: z.boolean().nullish(),
	packages: z.array(z.looseObject({ id: Id })).nullish(),
	line_items: z.array(TikTokLineItem),
	/** Not documented as optional, but an UNPAID order may come without it; then nothing is known of money. */
	payment: Payment,
	/** "not available under UNPAID and ON_HOLD status". */
	recipient_address: RecipientAddress.nullish(),
});
export type TikTokOrder = z.infer<typeof TikTokOrder>;

/** The envelope of every response: `code` 0 is success; `data` is null on errors. */
export const TikTokEnvelope = z.looseObject({
	code: z.number().int(),
	message: z.string().nullish(),
	request_id: z.string().nullish(),
	data: z.unknown().optional(),
});

export const OrderDetailData = z.looseObject({ orders: z.array(TikTokOrder).nullish() });

// Search Products 202309 response data (TikTok's SDK `Product202309SearchProductsResponseData*`).
export const SearchProductsData = z.looseObject({
	total_count: z.number().int().nullish(),
	next_page_token: Text,
	products: z
		.array(
			z.looseObject({
				id: Id,
				status: Text,
				skus: z.array(z.looseObject({ id: Id, seller_sku: Text })).nullish(),
			}),
		)
		.nullish(),
});

// Update Inventory 202309 response data: per-SKU failures can come with a top-level code 0.
export const UpdateInventoryData = z
	.looseObject({
		errors: z
			.array(
				z.looseObject({
					code: z.number().int().nullish(),
					message: Text,
					detail: z.looseObject({ sku_id: Text }).nullish(),
				}),
			)
			.nullish(),
	})
	.nullish();
