import { formatIssues } from "../../config";
import type { OrderChange } from "../../model/events";
import { currencyExponent, type Money, money, perUnit } from "../../model/money";
import { type Address, type CanonicalOrder, compact, type Customer, type Discount, type OrderLine, type Refund, type TaxLine } from "../../model/order";
import { WooCommerceDeletedBody, WooCommerceOrder } from "./payloads";

type ItemTax = WooCommerceOrder["line_items"][number]["taxes"][number];
type WooAddress = NonNullable<WooCommerceOrder["shipping"]>;

/** Topics `parseWooCommerceChange` reads; others (product.*, customer.*, action.*) are not ours. */
export const WOOCOMMERCE_ORDER_TOPICS: ReadonlySet<string> = new Set(["order.created", "order.updated", "order.deleted", "order.restored"]);

/**
 * Statuses that end an order without shipping it. `trash` is a trashed order (what order.deleted
 * announces); `failed` is a payment that did not go through.
 */
const ENDED = new Set(["cancelled", "refunded", "failed", "trash"]);

/**
 * A checkout still in progress, not an order yet: the Blocks checkout's `checkout-draft` (core's
 * webhook filter skips `draft` and `auto-draft` but not this slug). When it is placed, an
 * order.updated with its real status follows and creates the order in ordersync.
 */
const DRAFTS = new Set(["checkout-draft", "draft", "auto-draft"]);

function amount(decimal: string, currency: string, path: string): Money {
	try {
		return money(decimal, currency);
	} catch (error) {
		if (error instanceof RangeError) throw new RangeError(`${path}: ${error.message}`);
		throw error;
	}
}

/** `*_gmt` is UTC without a zone; a zone, when present, is respected. */
function utc(time: string, path: string): string {
	const ms = Date.parse(/(?:Z|[+-]\d{2}:?\d{2})$/.test(time) ? time : `${time}Z`);
	if (Number.isNaN(ms)) throw new RangeError(`${path}: ${JSON.stringify(time)} is not a date`);
	return new Date(ms).toISOString();
}

const NAMED: Record<string, string> = {
	amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", ndash: "\u2013", mdash: "\u2014",
	hellip: "\u2026", lsquo: "\u2018", rsquo: "\u2019", sbquo: "\u201a", ldquo: "\u201c", rdquo: "\u201d",
	bdquo: "\u201e", laquo: "\u00ab", raquo: "\u00bb", times: "\u00d7", trade: "\u2122", reg: "\u00ae",
	copy: "\u00a9", deg: "\u00b0", prime: "\u2032", Prime: "\u2033",
};

/**
 * WordPress stores titles HTML-encoded (wptexturize turns " - " into `&ndash;`, `&` into `&amp;`):
 * decoded once, numeric references and the named ones WordPress produces; others stay as sent.
 */
export function decodeEntities(text: string): string {
	if (!text.includes("&")) return text;
	return text.replace(/&(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});/g, (entity, name: string) => {
		if (name.startsWith("#")) {
			const code = name[1] === "x" || name[1] === "X" ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
			return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : entity;
		}
		return NAMED[name] ?? entity;
	});
}

function fullName(address: WooAddress | null | undefined): string | undefined {
	return [address?.first_name, address?.last_name].map((part) => part?.trim()).filter(Boolean).join(" ") || undefined;
}

/** `rate_percent` (7.25) as the model's decimal rate ("0.0725"), by moving the point, not by dividing. */
function rateOf(percent: number | null | undefined): string | undefined {
	if (percent == null) return undefined;
	const text = String(percent);
	const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
	if (!match) return undefined;
	const [, whole = "", fraction = ""] = match;
	const digits = whole + fraction;
	const point = whole.length - 2;
	const shifted = point <= 0 ? `0.${"0".repeat(-point)}${digits}` : `${digits.slice(0, point)}.${digits.slice(point)}`;
	const [int = "0", frac = ""] = shifted.split(".");
	const trimmedInt = int.replace(/^0+(?=\d)/, "");
	const trimmedFrac = frac.replace(/0+$/, "");
	return trimmedFrac ? `${trimmedInt}.${trimmedFrac}` : trimmedInt;
}

/**
 * A per-item tax amount in minor units, rounded half away from zero. The orders controller
 * (WC_REST_Orders_V2_Controller::get_order_item_data) passes `taxes[].total` through unformatted, as
 * stored: "0.9" in the docs' example, and unrounded ("3.195") when the shop rounds tax at subtotal
 * level. The order's `tax_lines` amounts are formatted to the currency and stay exact.
 */
function roundedTax(decimal: string, currency: string, path: string): Money {
	const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(decimal.trim());
	if (!match) throw new RangeError(`${path}: not a decimal amount: ${JSON.stringify(decimal)}`);
	const [, sign, whole = "0", fraction = ""] = match;
	const exponent = currencyExponent(currency);
	const kept = fraction.padEnd(exponent, "0").slice(0, exponent);
	const roundUp = (fraction[exponent] ?? "0") >= "5";
	const minor = Number(whole + kept) + (roundUp ? 1 : 0);
	if (!Number.isSafeInteger(minor)) throw new RangeError(`${path}: ${decimal} is too large`);
	return { amount: sign && minor !== 0 ? -minor : minor, currency };
}

/**
 * An item's taxes, one per rate, titled as the order's tax_lines name that rate. A rate whose
 * amount is "" (WooCommerce's way of saying the rate did not apply) is left out.
 */
function itemTaxes(order: WooCommerceOrder, taxes: ItemTax[], path: string): TaxLine[] {
	const out: TaxLine[] = [];
	for (const [i, tax] of taxes.entries()) {
		const total = tax.total?.trim();
		if (!total) continue;
		const rate = order.tax_lines.find((line) => line.rate_id === tax.id);
		const rateDecimal = rateOf(rate?.rate_percent);
		out.push({
			title: rate?.label?.trim() || rate?.rate_code?.trim() || `Tax rate ${tax.id}`,
			...(rateDecimal ? { rate: rateDecimal } : {}),
			amount: roundedTax(total, order.currency, `${path}taxes[${i}].total`),
		});
	}
	return out;
}

/**
 * The coupon a line's discount came from, when the order has exactly one; WooCommerce does not say
 * which of several coupons made up a line's discount, so then it carries their codes as its title.
 */
function lineDiscount(order: WooCommerceOrder, subtotal: Money, total: Money): Discount[] {
	const off = subtotal.amount - total.amount;
	if (off <= 0) return [];
	const codes = order.coupon_lines.map((coupon) => coupon.code);
	const label = codes.length === 1 ? { code: codes[0]!, title: codes[0]! } : codes.length > 1 ? { title: codes.join(", ") } : {};
	return [{ ...label, amount: { amount: off, currency: subtotal.currency } }];
}

/**
 * The unit price before discounts: the line's `subtotal` divided by its quantity in minor units,
 * rounded half away from zero when it does not divide evenly (10.00 for 3 is 3.33). `subtotal`,
 * `total` and the order's totals stay exact; only this per-unit figure can be a rounding.
 */
function unitPrice(subtotal: Money, quantity: number): Money {
	return { amount: perUnit(subtotal.amount, quantity), currency: subtotal.currency };
}

function financialStatus(order: WooCommerceOrder): CanonicalOrder["financialStatus"] {
	if (order.status === "refunded") return "refunded";
	if (order.refunds.length > 0) return "partially_refunded";
	if (order.date_paid_gmt) return "paid";
	// Cash on delivery and bank transfers sit in processing or on-hold until paid.
	if (order.status === "pending" || order.status === "on-hold" || order.status === "processing") return "pending";
	if (order.status === "cancelled" || order.status === "failed") return "voided";
	return "unknown";
}

function customer(order: WooCommerceOrder): Customer | undefined {
	const billing = order.billing;
	const fields = compact({
		channelCustomerId: order.customer_id ? String(order.customer_id) : undefined,
		email: billing?.email,
		name: fullName(billing),
		phone: billing?.phone,
	}, { trim: true });
	return Object.keys(fields).length > 0 ? fields : undefined;
}

/** The shipping address; a virtual order's is all blank, and then there is none. */
function shipTo(order: WooCommerceOrder): Address | undefined {
	const a = order.shipping;
	if (!a) return undefined;
	const fields = compact({
		name: fullName(a),
		company: a.company,
		address1: a.address_1,
		address2: a.address_2,
		city: a.city,
		provinceCode: a.state,
		countryCode: a.country,
		zip: a.postcode,
		phone: a.phone,
	}, { trim: true });
	return Object.keys(fields).length > 0 ? fields : undefined;
}

/**
 * One WooCommerce order as the canonical order. Throws a RangeError naming the field when an amount
 * cannot be represented exactly (more decimals than the currency has).
 *
 * - Amounts: WooCommerce reports item, fee and shipping amounts excluding tax whatever
 *   `prices_include_tax` says (that flag is how the shop entered its prices), with the tax beside
 *   them, so `taxesIncluded` is false. `total` is the order's total as placed; refunds do not lower it.
 * - Lines: products, then fees (sku null, quantity 1, not shipped). The unit price is
 *   `subtotal / quantity`; `subtotal - total` is the line's discount. Titles are entity-decoded.
 * - `subtotal` is the sum of the lines after discounts (items and fees), before shipping and tax.
 * - Status: `completed` is fulfilled; `cancelled`, `refunded`, `failed` and `trash` are cancelled,
 *   as of `date_modified_gmt` (WooCommerce records no cancellation time); any other status,
 *   custom ones included, is an open, unfulfilled order.
 * - Refunds: the order carries only `{id, reason, total}` per refund, with no date and no lines, so
 *   each becomes a refund with no lines, dated by this version's `date_modified_gmt` (the latest it
 *   can have happened). Its amount has no place in the canonical Refund, which counts by line.
 * - `sourceUpdatedAt` is `date_modified_gmt` (second resolution).
 */
export function normalizeWooCommerceOrder(order: WooCommerceOrder, connection: string): CanonicalOrder {
	const currency = order.currency;
	const updatedAt = order.date_modified_gmt ? utc(order.date_modified_gmt, "date_modified_gmt") : utc(order.date_created_gmt, "date_created_gmt");
	const products: OrderLine[] = order.line_items.map((line, i) => {
		const at = `line_items[${i}].`;
		const subtotal = amount(line.subtotal, currency, `${at}subtotal`);
		const total = amount(line.total, currency, `${at}total`);
		return {
			channelLineId: String(line.id),
			sku: line.sku?.trim() ? line.sku : null,
			title: decodeEntities(line.name),
			quantity: line.quantity,
			unitPrice: unitPrice(subtotal, line.quantity),
			discounts: lineDiscount(order, subtotal, total),
			taxes: itemTaxes(order, line.taxes, at),
			requiresShipping: true,
		};
	});
	const fees: OrderLine[] = order.fee_lines.map((fee, i) => {
		const at = `fee_lines[${i}].`;
		return {
			channelLineId: String(fee.id),
			sku: null,
			title: decodeEntities(fee.name),
			quantity: 1,
			unitPrice: amount(fee.total, currency, `${at}total`),
			discounts: [],
			taxes: itemTaxes(order, fee.taxes, at),
			requiresShipping: false,
		};
	});
	const subtotal = [...order.line_items.map((line, i) => amount(line.total, currency, `line_items[${i}].total`)), ...fees.map((fee) => fee.unitPrice)]
		.reduce((sum, m) => sum + m.amount, 0);
	const taxes: TaxLine[] = order.tax_lines.map((line, i) => {
		const at = `tax_lines[${i}].`;
		const rate = rateOf(line.rate_percent);
		return {
			title: line.label?.trim() || line.rate_code?.trim() || `Tax rate ${line.rate_id}`,
			...(rate ? { rate } : {}),
			amount: {
				amount: amount(line.tax_total, currency, `${at}tax_total`).amount + amount(line.shipping_tax_total, currency, `${at}shipping_tax_total`).amount,
				currency,
			},
		};
	});
	const refunds: Refund[] = order.refunds.map((refund) => ({ channelRefundId: String(refund.id), createdAt: updatedAt, lines: [] }));
	const buyer = customer(order);
	const address = shipTo(order);
	return {
		connection,
		channel: "woocommerce",
		channelOrderId: String(order.id),
		channelOrderName: String(order.number),
		currency,
		lines: [...products, ...fees],
		shippingLines: order.shipping_lines.map((line, i) => {
			const at = `shipping_lines[${i}].`;
			return {
				channelLineId: String(line.id),
				title: decodeEntities(line.method_title),
				...compact({ code: line.method_id }, { trim: true }),
				price: amount(line.total, currency, `${at}total`),
				discounts: [],
				taxes: itemTaxes(order, line.taxes, at),
			};
		}),
		taxes,
		taxesIncluded: false,
		discounts: order.coupon_lines.map((coupon, i) => ({ code: coupon.code, amount: amount(coupon.discount, currency, `coupon_lines[${i}].discount`) })),
		subtotal: { amount: subtotal, currency },
		total: amount(order.total, currency, "total"),
		...(buyer ? { customer: buyer } : {}),
		...(address ? { shipTo: address } : {}),
		financialStatus: financialStatus(order),
		fulfillmentStatus: order.status === "completed" ? "fulfilled" : "unfulfilled",
		cancelledAt: ENDED.has(order.status) ? updatedAt : null,
		refunds,
		createdAt: utc(order.date_created_gmt, "date_created_gmt"),
		sourceUpdatedAt: updatedAt,
	};
}

export type WooCommerceChangeResult =
	| { ok: true; change: OrderChange }
	/**
	 * order.deleted: the order was trashed, and the body is only `{"id":…}`, with no time and no
	 * state. Read the order (`fetchWooCommerceOrder`: a trashed order is still readable, with status
	 * `trash`, which normalizes to a cancellation as of its `date_modified_gmt`) and ingest that.
	 */
	| { ok: true; refetch: { channelOrderId: string }; reason: string }
	| { ok: true; ignored: string }
	| { ok: false; error: string };

/**
 * Validates and normalizes one webhook body (already JSON-parsed) for its X-WC-Webhook-Topic.
 * A bad payload is a result, not an exception.
 *
 * Why order.deleted is not turned into an order change here: OrderChange carries either a whole
 * order, which replaces the one held, or a refund. From `{id}` alone a whole order would be an
 * invented one (no lines, no totals) stamped with an invented time; and since WooCommerce builds
 * payloads at delivery time and does not keep deliveries in order, a trash delivered after the
 * restore that undid it would cancel a live order. The order's own state, read when the
 * notification arrives, has neither problem.
 */
export function parseWooCommerceChange(topic: string, body: unknown, connection: string): WooCommerceChangeResult {
	if (!WOOCOMMERCE_ORDER_TOPICS.has(topic)) return { ok: true, ignored: `topic ${topic || "(none)"} is not handled` };
	try {
		if (topic === "order.deleted") {
			const parsed = WooCommerceDeletedBody.safeParse(body);
			if (!parsed.success) return { ok: false, error: formatIssues(parsed.error) };
			const channelOrderId = String(parsed.data.id);
			return { ok: true, refetch: { channelOrderId }, reason: `order.deleted: order ${channelOrderId} was trashed; the notification carries only its id` };
		}
		const parsed = WooCommerceOrder.safeParse(body);
		if (!parsed.success) return { ok: false, error: formatIssues(parsed.error) };
		if (DRAFTS.has(parsed.data.status)) {
			return { ok: true, ignored: `order ${parsed.data.id} is a ${parsed.data.status}, a checkout in progress rather than an order` };
		}
		return { ok: true, change: { kind: "order", order: normalizeWooCommerceOrder(parsed.data, connection) } };
	} catch (error) {
		if (error instanceof RangeError) return { ok: false, error: error.message };
		throw error;
	}
}
