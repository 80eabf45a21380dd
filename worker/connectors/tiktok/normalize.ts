import { formatIssues } from "../../config";
import { type Money, money } from "../../model/money";
import { type Address, type CanonicalOrder, compact, type Customer, type Discount, type OrderLine, type ShippingLine, type TaxLine } from "../../model/order";
import { OrderDetailData, TikTokEnvelope, type TikTokLineItem, type TikTokOrder, type TikTokOrderStatus, tiktokOrderStatus } from "./payloads";

/**
 * Get Order Detail (202309) → CanonicalOrder.
 *
 * Lines. TikTok has one line item per unit (no quantity field; buying three gives three line items
 * with their own ids). Units are grouped into one canonical line per SKU (`sku_id`, else
 * `seller_sku`) and unit price (`original_price`) and gift flag, so a free gift unit never shares a
 * line with paid units of its SKU. A line's `channelLineId` is the smallest line item id in its
 * group (ids compared as numbers): it is a real TikTok id, so a relay can find the group again,
 * and it does not change with the order TikTok lists items in, nor when one unit is cancelled
 * (cancelled items stay on the order with `display_status` CANCELLED).
 *
 * Quantity counts the units not cancelled; for an order cancelled as a whole every unit is
 * counted, and `cancelledAt` says the order is off. Discounts and taxes are the counted units'
 * sums. `unitPrice` is `original_price`; the seller's and the platform's discounts are the line's
 * discounts (sale_price = original_price − seller_discount − platform_discount, as in TikTok's
 * own payloads).
 */

type Group = { channelLineId: string; items: TikTokLineItem[] };

/** Numeric order of decimal id strings without converting them (they exceed 2^53). */
function compareIds(a: string, b: string): number {
	if (a.length !== b.length) return a.length - b.length;
	return a < b ? -1 : a > b ? 1 : 0;
}

const blank = (value: string | null | undefined): value is null | undefined | "" => value == null || value.trim() === "";

/** The units of one canonical line, grouped as described above; lines in order of first appearance. */
export function groupTikTokLineItems(items: TikTokLineItem[]): Group[] {
	const groups = new Map<string, TikTokLineItem[]>();
	for (const item of items) {
		const sku = !blank(item.sku_id) ? `sku:${item.sku_id}` : !blank(item.seller_sku) ? `seller_sku:${item.seller_sku}` : `item:${item.id}`;
		const key = `${sku}|${item.original_price ?? item.sale_price ?? ""}|${item.is_gift ? "gift" : ""}`;
		const group = groups.get(key);
		if (group) group.push(item);
		else groups.set(key, [item]);
	}
	return [...groups.values()].map((units) => ({ channelLineId: units.map((u) => u.id).sort(compareIds)[0]!, items: units }));
}

export const isCancelledItem = (item: TikTokLineItem) => item.display_status === "CANCELLED";

/** Shipped per TikTok: a tracking number, a ship time, or a package past TO_FULFILL. */
export function isShippedItem(item: TikTokLineItem): boolean {
	if (!blank(item.tracking_number) || (item.rts_time ?? 0) > 0) return true;
	return ["PROCESSING", "FULFILLING", "COMPLETED"].includes(item.package_status ?? "");
}

/** Converts one amount, naming the field when it cannot be represented exactly. */
function amountOf(value: string | null | undefined, currency: string, path: string): Money | null {
	if (blank(value)) return null;
	try {
		return money(value, currency);
	} catch (error) {
		if (error instanceof RangeError) throw new RangeError(`${path}: ${error.message}`);
		throw error;
	}
}

const zero = (currency: string): Money => ({ amount: 0, currency });
const add = (a: Money, b: Money | null): Money => (b ? { amount: a.amount + b.amount, currency: a.currency } : a);
const nonZero = (m: Money | null): m is Money => m !== null && m.amount !== 0;

function discount(title: string, amount: Money | null): Discount[] {
	return nonZero(amount) ? [{ title, amount }] : [];
}

function tax(title: string, amount: Money | null): TaxLine[] {
	return nonZero(amount) ? [{ title, amount }] : [];
}

function line(order: TikTokOrder, group: Group, currency: string, orderCancelled: boolean): OrderLine {
	const index = (item: TikTokLineItem) => `line_items[${order.line_items.indexOf(item)}].`;
	const first = group.items[0]!;
	const counted = orderCancelled ? group.items : group.items.filter((item) => !isCancelledItem(item));
	const unit = amountOf(first.original_price ?? first.sale_price, currency, `${index(first)}${first.original_price != null ? "original_price" : "sale_price"}`);

	let seller = zero(currency);
	let platform = zero(currency);
	const taxes = new Map<string, TaxLine>();
	for (const item of counted) {
		const at = index(item);
		seller = add(seller, amountOf(item.seller_discount, currency, `${at}seller_discount`));
		platform = add(platform, amountOf(item.platform_discount, currency, `${at}platform_discount`));
		for (const [t, itemTax] of (item.item_tax ?? []).entries()) {
			const amount = amountOf(itemTax.tax_amount, currency, `${at}item_tax[${t}].tax_amount`);
			if (!nonZero(amount)) continue;
			const title = blank(itemTax.tax_type) ? "Tax" : itemTax.tax_type;
			const rate = blank(itemTax.tax_rate) ? undefined : itemTax.tax_rate.trim();
			const key = `${title}|${rate ?? ""}`;
			const known = taxes.get(key);
			taxes.set(key, known ? { ...known, amount: add(known.amount, amount) } : { title, ...(rate ? { rate } : {}), amount });
		}
	}
	const name = first.product_name?.trim() || first.seller_sku?.trim() || "";
	return {
		channelLineId: group.channelLineId,
		sku: blank(first.seller_sku) ? null : first.seller_sku.trim(),
		title: blank(first.sku_name) ? name : `${name} - ${first.sku_name.trim()}`,
		quantity: counted.length,
		unitPrice: unit ?? zero(currency),
		discounts: [...discount("Seller discount", seller), ...discount("Platform discount", platform)],
		taxes: [...taxes.values()],
		requiresShipping: true,
	};
}

/** One shipping line from `payment`: the fee before discounts, TikTok's shipping discounts, shipping tax. */
function shippingLines(order: TikTokOrder, currency: string): ShippingLine[] {
	const p = order.payment;
	const original = amountOf(p.original_shipping_fee, currency, "payment.original_shipping_fee");
	const charged = amountOf(p.shipping_fee, currency, "payment.shipping_fee");
	if (!original && !charged) return [];
	const discounts = original
		? [
				...discount("Seller shipping discount", amountOf(p.shipping_fee_seller_discount, currency, "payment.shipping_fee_seller_discount")),
				...discount("Platform shipping discount", amountOf(p.shipping_fee_platform_discount, currency, "payment.shipping_fee_platform_discount")),
				...discount("Co-funded shipping discount", amountOf(p.shipping_fee_cofunded_discount, currency, "payment.shipping_fee_cofunded_discount")),
			]
		: [];
	return [
		{
			channelLineId: "shipping",
			title: order.delivery_option_name?.trim() || order.shipping_provider?.trim() || "Shipping",
			...(blank(order.delivery_option_id) ? {} : { code: order.delivery_option_id }),
			// Without the fee before discounts, the fee charged stands alone (no discounts to subtract).
			price: original ?? charged!,
			discounts,
			taxes: tax("Shipping tax", amountOf(p.shipping_fee_tax, currency, "payment.shipping_fee_tax")),
		},
	];
}

/** Order taxes: product and shipping tax when TikTok splits them, else the total `tax`. */
function orderTaxes(order: TikTokOrder, currency: string): TaxLine[] {
	const p = order.payment;
	const product = amountOf(p.product_tax, currency, "payment.product_tax");
	const shipping = amountOf(p.shipping_fee_tax, currency, "payment.shipping_fee_tax");
	if (product || shipping) return [...tax("Product tax", product), ...tax("Shipping tax", shipping)];
	return tax("Tax", amountOf(p.tax, currency, "payment.tax"));
}

/**
 * The ship-to address. TikTok has no flat city or state: they are levels of `district_info`
 * (`address_level_name` "State", "City", …, ISO code of a state like "US-CA"); `post_town` is the
 * UK's town. Masked values (platform logistics) are kept as TikTok sends them.
 */
function shipTo(order: TikTokOrder): Address | undefined {
	const a = order.recipient_address;
	if (!a) return undefined;
	const level = (...names: string[]) => a.district_info?.find((d) => names.includes(d.address_level_name?.trim().toLowerCase() ?? ""));
	const state = level("state", "province", "region", "prefecture");
	const city = level("city", "town");
	const isoState = state?.iso_code?.trim();
	const address = compact({
		name: a.name ?? ([a.first_name, a.last_name].filter((part) => !blank(part)).join(" ") || undefined),
		address1: blank(a.address_line1) ? a.address_detail : a.address_line1,
		address2: a.address_line2,
		city: city?.address_name ?? a.post_town,
		province: state?.address_name,
		provinceCode: isoState?.includes("-") ? isoState.slice(isoState.indexOf("-") + 1) : isoState,
		countryCode: a.region_code?.toUpperCase(),
		zip: a.postal_code,
		phone: a.phone_number,
	}, { trim: true });
	return Object.keys(address).length > 0 ? address : undefined;
}

function customer(order: TikTokOrder): Customer | undefined {
	const fields = compact({ channelCustomerId: order.user_id, email: order.buyer_email }, { trim: true });
	return Object.keys(fields).length > 0 ? fields : undefined;
}

function financialStatus(status: TikTokOrderStatus, order: TikTokOrder): CanonicalOrder["financialStatus"] {
	const paid = (order.paid_time ?? 0) > 0;
	switch (status) {
		case "UNPAID":
			return "pending";
		// ON_HOLD: accepted; a pre-order's payment is only authorized a day before release.
		case "ON_HOLD":
			return paid ? "paid" : "authorized";
		// TikTok refunds a paid order it cancels; an unpaid one is simply void.
		case "CANCELLED":
			return paid ? "refunded" : "voided";
		default:
			return "paid";
	}
}

function fulfillmentStatus(status: TikTokOrderStatus): CanonicalOrder["fulfillmentStatus"] {
	switch (status) {
		case "PARTIALLY_SHIPPING":
			return "partial";
		// Shipped as far as the channel is concerned: handed over (or arranged) with tracking.
		case "AWAITING_COLLECTION":
		case "IN_TRANSIT":
		case "DELIVERED":
		case "COMPLETED":
			return "fulfilled";
		default:
			return "unfulfilled";
	}
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** Throws a RangeError naming the field when an amount cannot be represented exactly or the status is unknown. */
export function normalizeTikTokOrder(order: TikTokOrder, connection: string): CanonicalOrder {
	const status = tiktokOrderStatus(order.status);
	if (!status) throw new RangeError(`status: unknown order status ${order.status}`);
	const currency = order.payment.currency;
	const cancelled = status === "CANCELLED";
	const lines = groupTikTokLineItems(order.line_items).map((group) => line(order, group, currency, cancelled));
	const shipping = shippingLines(order, currency);
	const taxes = orderTaxes(order, currency);
	const taxTotal = taxes.reduce((sum, t) => sum + t.amount.amount, 0);
	const p = order.payment;

	// sub_total and total_amount are what TikTok charged; only when absent are they summed here.
	const subtotal =
		amountOf(p.sub_total, currency, "payment.sub_total") ??
		lines.reduce((sum, l) => add(sum, { amount: l.unitPrice.amount * l.quantity - l.discounts.reduce((n, d) => n + d.amount.amount, 0), currency }), zero(currency));
	const shippingNet = shipping.reduce((sum, s) => sum + s.price.amount - s.discounts.reduce((n, d) => n + d.amount.amount, 0), 0);
	const total = amountOf(p.total_amount, currency, "payment.total_amount") ?? { amount: subtotal.amount + shippingNet + taxTotal, currency };
	const customerData = customer(order);
	const address = shipTo(order);
	const updated = (order.update_time ?? 0) > 0 ? order.update_time! : order.create_time;

	return {
		connection,
		channel: "tiktok",
		channelOrderId: order.id,
		// TikTok has no separate order number: sellers and buyers see the order id.
		channelOrderName: order.id,
		currency,
		lines,
		shippingLines: shipping,
		taxes,
		// TikTok reports tax apart from prices where it adds it (US sales tax: "sub_total … is
		// pre-tax"); where it reports none, prices are what the buyer paid, VAT included.
		taxesIncluded: taxTotal === 0,
		discounts: [
			...discount("Seller discount", amountOf(p.seller_discount, currency, "payment.seller_discount")),
			...discount("Platform discount", amountOf(p.platform_discount, currency, "payment.platform_discount")),
		],
		subtotal,
		total,
		...(customerData ? { customer: customerData } : {}),
		...(address ? { shipTo: address } : {}),
		financialStatus: financialStatus(status, order),
		fulfillmentStatus: fulfillmentStatus(status),
		cancelledAt: cancelled ? iso((order.cancel_time ?? 0) > 0 ? order.cancel_time! : updated) : null,
		// TikTok refuses to ship UNPAID and ON_HOLD orders (ON_HOLD: the buyer may still cancel).
		...(status === "UNPAID" || status === "ON_HOLD" ? { holdReason: `TikTok Shop order is ${status}` } : {}),
		// Returns and refunds live in TikTok's Return & Refund API, not in the order.
		refunds: [],
		createdAt: iso(order.create_time),
		sourceUpdatedAt: iso(updated),
	};
}

export type TikTokOrderDetail = { ok: true; order: TikTokOrder } | { ok: false; error: string; missing?: true };

/** The order with this id from a Get Order Detail response body (code 0 already checked or not). */
export function readTikTokOrderDetail(body: unknown, channelOrderId: string): TikTokOrderDetail {
	const envelope = TikTokEnvelope.safeParse(body);
	if (!envelope.success) return { ok: false, error: formatIssues(envelope.error) };
	if (envelope.data.code !== 0) return { ok: false, error: `code ${envelope.data.code}: ${envelope.data.message ?? ""}` };
	const full = TikTokEnvelope.extend({ data: OrderDetailData }).safeParse(body);
	if (!full.success) return { ok: false, error: formatIssues(full.error) };
	const order = full.data.data.orders?.find((o) => o.id === channelOrderId);
	if (!order) return { ok: false, error: `order ${channelOrderId} is not in the response`, missing: true };
	return { ok: true, order };
}

export type TikTokOrderResult = { ok: true; order: CanonicalOrder } | { ok: false; error: string; missing?: true };

/** Validates and normalizes one Get Order Detail response; a bad payload is a result, not an exception. */
export function parseTikTokOrderDetail(body: unknown, channelOrderId: string, connection: string): TikTokOrderResult {
	const read = readTikTokOrderDetail(body, channelOrderId);
	if (!read.ok) return read;
	try {
		return { ok: true, order: normalizeTikTokOrder(read.order, connection) };
	} catch (error) {
		if (error instanceof RangeError) return { ok: false, error: error.message };
		throw error;
	}
}
