import { formatIssues } from "../../config";
import { type Money, money, perUnit } from "../../model/money";
import { type Address, type CanonicalOrder, compact, type Customer, type Discount, type OrderLine, type ShippingLine, type TaxLine } from "../../model/order";
import { MARKETPLACES } from "./account";
import { type AmazonMoney, type AmazonOrder, type AmazonOrderItem, GetOrderItemsResponse, GetOrderResponse } from "./payloads";

/**
 * An Amazon order (Orders API v0 getOrder + every page of getOrderItems) as the canonical order.
 *
 * - Money: `Amount` strings, parsed exactly into minor units; an amount with more decimals than
 *   its currency has is an error naming the field, never rounded.
 * - Lines: one per OrderItem; `OrderItemId` is the line id confirmShipment takes back, `SellerSKU`
 *   the brand's SKU. `ItemPrice` is "the selling price of the item multiplied by the quantity
 *   ordered", so the unit price is ItemPrice / QuantityOrdered (rounded half away from zero to the
 *   minor unit when it does not divide). `PromotionDiscount` is the line's discount, `ItemTax` its tax.
 * - Shipping: Amazon prices shipping per item; ordersync keeps one shipping line for the order,
 *   titled with the ShipmentServiceLevelCategory (Standard, Expedited, …, what a 3PL maps) and
 *   coded with the ShipServiceLevel, carrying the summed ShippingPrice, ShippingDiscount, ShippingTax.
 * - Taxes included: read from the order's own arithmetic when OrderTotal tells (EU/JP prices
 *   include VAT and ItemTax is the VAT share; US/CA prices exclude it); otherwise by marketplace.
 * - Status: OrderStatus → financial / fulfilment status; Canceled sets cancelledAt to the order's
 *   LastUpdateDate (Amazon gives no separate cancellation time). LastUpdateDate is sourceUpdatedAt.
 * - Pending orders carry no prices ("getOrderItems does not return information about pricing,
 *   taxes, shipping charges, gift status or promotions"): their amounts are zero, and their
 *   currency is the marketplace's.
 * - Amazon gives no customer id; name, street and phone come only with a Restricted Data Token
 *   (./rdt.ts), so without one the ship-to holds city, region, postal code and country and the
 *   customer only the anonymized buyer email. The customer's name is BuyerInfo.BuyerName; their
 *   phone is ShippingAddress.Phone ("The phone number of the buyer"), which is also the ship-to's.
 *   The street is the first non-blank of AddressLine1..3 and address2 the others, so an address
 *   written from its second line still has an address1.
 */

const TAX_EXCLUSIVE_COUNTRIES = new Set(["US", "CA"]);

const FINANCIAL: Record<string, CanonicalOrder["financialStatus"]> = {
	PendingAvailability: "pending",
	Pending: "pending",
	// Payment is authorized; Amazon charges the buyer as units ship.
	Unshipped: "authorized",
	PartiallyShipped: "partially_paid",
	Shipped: "paid",
	InvoiceUnconfirmed: "paid",
	Canceled: "voided",
	Unfulfillable: "unknown",
};

/** Statuses Amazon says not to ship in. */
const HELD = new Set(["Pending", "PendingAvailability"]);

const FULFILLMENT: Record<string, CanonicalOrder["fulfillmentStatus"]> = {
	PartiallyShipped: "partial",
	Shipped: "fulfilled",
	InvoiceUnconfirmed: "fulfilled",
};

/** Throws a RangeError naming the field when an amount, currency or time cannot be read exactly. */
export function normalizeAmazonOrder(order: AmazonOrder, items: AmazonOrderItem[], connection: string): CanonicalOrder {
	const currency = orderCurrency(order, items);
	const read = (value: AmazonMoney | null | undefined, path: string): number => {
		if (!value) return 0;
		if (value.CurrencyCode !== currency) throw new RangeError(`${path}.CurrencyCode: ${value.CurrencyCode}, but the order is in ${currency}`);
		try {
			return money(value.Amount, value.CurrencyCode).amount;
		} catch (error) {
			if (error instanceof RangeError) throw new RangeError(`${path}.Amount: ${error.message}`);
			throw error;
		}
	};
	const of = (amount: number): Money => ({ amount, currency });
	const facilitated = items.some((item) => item.TaxCollection?.Model === "MarketplaceFacilitator");
	const taxTitle = facilitated ? "Marketplace facilitator tax" : "Tax";
	const shipsHere = order.FulfillmentChannel !== "AFN";

	const sums = { items: 0, promotions: 0, itemTax: 0, shipping: 0, shippingDiscount: 0, shippingTax: 0, discountTax: 0 };
	const promotionIds = new Set<string>();
	const lines: OrderLine[] = items.map((item, i) => {
		const at = `OrderItems[${i}]`;
		const price = read(item.ItemPrice, `${at}.ItemPrice`);
		// A discount is a reduction whichever sign Amazon writes it with.
		const promotion = Math.abs(read(item.PromotionDiscount, `${at}.PromotionDiscount`));
		const tax = read(item.ItemTax, `${at}.ItemTax`);
		sums.items += price;
		sums.promotions += promotion;
		sums.itemTax += tax;
		sums.shipping += read(item.ShippingPrice, `${at}.ShippingPrice`);
		sums.shippingDiscount += Math.abs(read(item.ShippingDiscount, `${at}.ShippingDiscount`));
		sums.shippingTax += read(item.ShippingTax, `${at}.ShippingTax`);
		sums.discountTax +=
			Math.abs(read(item.PromotionDiscountTax, `${at}.PromotionDiscountTax`)) + Math.abs(read(item.ShippingDiscountTax, `${at}.ShippingDiscountTax`));
		const ids = (item.PromotionIds ?? []).filter((id) => id.trim());
		for (const id of ids) promotionIds.add(id);
		const discounts: Discount[] = promotion === 0 ? [] : [{ ...(ids.length ? { code: ids.join(",") } : {}), title: "Amazon promotion", amount: of(promotion) }];
		const taxes: TaxLine[] = tax === 0 ? [] : [{ title: taxTitle, amount: of(tax) }];
		return {
			channelLineId: item.OrderItemId,
			sku: item.SellerSKU?.trim() ? item.SellerSKU : null,
			title: item.Title?.trim() ? item.Title : item.ASIN,
			quantity: item.QuantityOrdered,
			unitPrice: of(perUnit(price, item.QuantityOrdered)),
			discounts,
			taxes,
			requiresShipping: shipsHere,
		};
	});

	const serviceTitle = order.ShipmentServiceLevelCategory?.trim() || order.ShipServiceLevel?.trim();
	const shippingLines: ShippingLine[] =
		serviceTitle || sums.shipping !== 0
			? [
					{
						channelLineId: "shipping",
						title: serviceTitle || "Standard",
						...(order.ShipServiceLevel?.trim() ? { code: order.ShipServiceLevel } : {}),
						price: of(sums.shipping),
						discounts: sums.shippingDiscount === 0 ? [] : [{ title: "Shipping discount", amount: of(sums.shippingDiscount) }],
						taxes: sums.shippingTax === 0 ? [] : [{ title: taxTitle, amount: of(sums.shippingTax) }],
					},
				]
			: [];

	const tax = sums.itemTax + sums.shippingTax;
	const preTax = sums.items - sums.promotions + sums.shipping - sums.shippingDiscount;
	const orderTotal = order.OrderTotal ? read(order.OrderTotal, "OrderTotal") : null;
	let taxesIncluded = !TAX_EXCLUSIVE_COUNTRIES.has(MARKETPLACES[order.MarketplaceId ?? ""]?.country ?? "US");
	if (orderTotal !== null && tax !== 0) {
		if (orderTotal === preTax) taxesIncluded = true;
		else if (orderTotal === preTax + tax || orderTotal === preTax + tax - sums.discountTax) taxesIncluded = false;
	}
	const subtotal = sums.items - sums.promotions;
	const promotionTotal = sums.promotions + sums.shippingDiscount;
	const customer = customerOf(order);
	const shipTo = shipToOf(order);
	const updatedAt = utc(order.LastUpdateDate, "LastUpdateDate");

	return {
		connection,
		channel: "amazon",
		channelOrderId: order.AmazonOrderId,
		channelOrderName: order.AmazonOrderId,
		currency,
		lines,
		shippingLines,
		taxes: tax === 0 ? [] : [{ title: taxTitle, amount: of(tax) }],
		taxesIncluded,
		discounts:
			promotionTotal === 0 ? [] : [{ ...(promotionIds.size ? { code: [...promotionIds].join(",") } : {}), title: "Amazon promotions", amount: of(promotionTotal) }],
		subtotal: of(subtotal),
		total: of(orderTotal ?? preTax + (taxesIncluded ? 0 : tax)),
		...(customer ? { customer } : {}),
		...(shipTo ? { shipTo } : {}),
		financialStatus: FINANCIAL[order.OrderStatus] ?? "unknown",
		fulfillmentStatus: FULFILLMENT[order.OrderStatus] ?? "unfulfilled",
		cancelledAt: order.OrderStatus === "Canceled" ? updatedAt : null,
		// Amazon: "do not ship" a Pending order (payment not yet authorized; no address either).
		...(HELD.has(order.OrderStatus) ? { holdReason: `Amazon order is ${order.OrderStatus}` } : {}),
		refunds: [],
		createdAt: utc(order.PurchaseDate, "PurchaseDate"),
		sourceUpdatedAt: updatedAt,
	};
}

export type AmazonOrderResult = { ok: true; order: CanonicalOrder } | { ok: false; error: string };

/**
 * Validates a getOrder response body and the getOrderItems response body of every page, and
 * normalizes them; a bad payload is a result, not an exception.
 */
export function parseAmazonOrder(orderBody: unknown, itemPages: unknown[], connection: string): AmazonOrderResult {
	const order = GetOrderResponse.safeParse(orderBody);
	if (!order.success) return { ok: false, error: `getOrder: ${formatIssues(order.error)}` };
	const items: AmazonOrderItem[] = [];
	const seen = new Set<string>();
	for (const [page, body] of itemPages.entries()) {
		const parsed = GetOrderItemsResponse.safeParse(body);
		if (!parsed.success) return { ok: false, error: `getOrderItems page ${page + 1}: ${formatIssues(parsed.error)}` };
		if (parsed.data.payload.AmazonOrderId !== order.data.payload.AmazonOrderId) {
			return { ok: false, error: `getOrderItems page ${page + 1}: items of order ${parsed.data.payload.AmazonOrderId}, not ${order.data.payload.AmazonOrderId}` };
		}
		for (const item of parsed.data.payload.OrderItems) {
			if (seen.has(item.OrderItemId)) continue;
			seen.add(item.OrderItemId);
			items.push(item);
		}
	}
	try {
		return { ok: true, order: normalizeAmazonOrder(order.data.payload, items, connection) };
	} catch (error) {
		if (error instanceof RangeError) return { ok: false, error: error.message };
		throw error;
	}
}

/** The order's currency: its total's, else the first item amount's, else the marketplace's. */
function orderCurrency(order: AmazonOrder, items: AmazonOrderItem[]): string {
	if (order.OrderTotal) return order.OrderTotal.CurrencyCode;
	for (const item of items) {
		const first = [item.ItemPrice, item.ShippingPrice, item.ItemTax, item.PromotionDiscount].find((m) => m);
		if (first) return first.CurrencyCode;
	}
	const marketplace = MARKETPLACES[order.MarketplaceId ?? ""];
	if (marketplace) return marketplace.currency;
	throw new RangeError(`OrderTotal: missing, no item has an amount, and marketplace ${order.MarketplaceId ?? "(none)"} is not one ordersync knows the currency of`);
}

function utc(timestamp: string, field: string): string {
	const ms = Date.parse(timestamp);
	if (Number.isNaN(ms)) throw new RangeError(`${field}: not an ISO 8601 time: ${JSON.stringify(timestamp)}`);
	return new Date(ms).toISOString();
}

function customerOf(order: AmazonOrder): Customer | undefined {
	const fields = compact({ email: order.BuyerInfo?.BuyerEmail, name: order.BuyerInfo?.BuyerName, phone: order.ShippingAddress?.Phone });
	return Object.keys(fields).length > 0 ? fields : undefined;
}

function shipToOf(order: AmazonOrder): Address | undefined {
	const a = order.ShippingAddress;
	if (!a) return undefined;
	const region = a.StateOrRegion?.trim();
	const [street, ...more] = [a.AddressLine1, a.AddressLine2, a.AddressLine3].filter((line): line is string => !!line?.trim());
	const fields = compact({
		name: a.Name,
		company: a.CompanyName,
		address1: street,
		address2: more.join(", "),
		city: a.City,
		province: region,
		// A short upper-case region is a code (US "MI", CA "ON"); longer ones are names.
		provinceCode: region && /^[A-Z0-9]{1,3}$/.test(region) ? region : undefined,
		countryCode: a.CountryCode,
		zip: a.PostalCode,
		phone: a.Phone,
	});
	return Object.keys(fields).length > 0 ? fields : undefined;
}
