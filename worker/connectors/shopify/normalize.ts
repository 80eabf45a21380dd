import { formatIssues } from "../../config";
import type { OrderChange } from "../../model/events";
import { money, type Money } from "../../model/money";
import {
	type Address,
	type CanonicalOrder,
	compact,
	type Customer,
	type Discount,
	FinancialStatus,
	FulfillmentStatus,
	type Refund,
	type TaxLine,
} from "../../model/order";
import { ShopifyOrder, ShopifyRefund } from "./payloads";

type MoneySet = NonNullable<ShopifyOrder["total_price_set"]>;
type ShopifyTaxLine = ShopifyOrder["tax_lines"][number];
type ShopifyAllocation = ShopifyOrder["line_items"][number]["discount_allocations"][number];

/**
 * The exact id: the digits of the gid ("gid://shopify/Order/820982911946154508") when there is one,
 * else the REST id, unless JSON.parse already rounded it (beyond 2^53): a wrong id would address
 * another order's object, so that is an error rather than a guess.
 */
function exactId(gid: string | undefined, id: number | string, path: string): string {
	const digits = gid && /\/(\d+)(?:\?.*)?$/.exec(gid)?.[1];
	if (digits) return digits;
	if (typeof id === "string" || Number.isSafeInteger(id)) return String(id);
	throw new RangeError(
		`${path}: ${id} is beyond 2^53 and was rounded by JSON.parse; parse the body with parseShopifyJson`,
	);
}

/** Prefers the `*_set.shop_money` amount; errors name the field that held the bad amount. */
function amount(
	set: MoneySet | null | undefined,
	plain: string | number,
	currency: string,
	path: string,
	field: string,
): Money {
	const [decimal, code, at] = set
		? [set.shop_money.amount, set.shop_money.currency_code, `${path}${field}_set.shop_money.amount`]
		: [String(plain), currency, `${path}${field}`];
	try {
		return money(decimal, code);
	} catch (error) {
		if (error instanceof RangeError) throw new RangeError(`${at}: ${error.message}`);
		throw error;
	}
}

function utc(timestamp: string): string {
	return new Date(timestamp).toISOString();
}

function fullName(first: string | null | undefined, last: string | null | undefined): string | undefined {
	return [first, last].filter((part) => part?.trim()).join(" ") || undefined;
}

function taxes(lines: ShopifyTaxLine[], currency: string, path: string): TaxLine[] {
	return lines.map((tax, i) => ({
		title: tax.title,
		// REST sends the rate as a JSON number (0.06); String() gives back its shortest decimal form.
		...(tax.rate == null ? {} : { rate: String(tax.rate) }),
		amount: amount(tax.price_set, tax.price, currency, `${path}tax_lines[${i}].`, "price"),
	}));
}

function allocations(order: ShopifyOrder, list: ShopifyAllocation[], currency: string, path: string): Discount[] {
	return list.map((allocation, i) => {
		const application = order.discount_applications[allocation.discount_application_index];
		return {
			...compact({ code: application?.code, title: application?.title ?? application?.code }),
			amount: amount(allocation.amount_set, allocation.amount, currency, `${path}discount_allocations[${i}].`, "amount"),
		};
	});
}

function refund(source: ShopifyRefund, currency: string, path: string): Refund {
	return {
		channelRefundId: exactId(source.admin_graphql_api_id, source.id, `${path}id`),
		createdAt: utc(source.created_at),
		lines: source.refund_line_items.map((item, i) => {
			const at = `${path}refund_line_items[${i}].`;
			return {
				channelLineId: exactId(item.line_item?.admin_graphql_api_id, item.line_item_id, `${at}line_item_id`),
				quantity: item.quantity,
				// "cancel" restocks units that never left; "return" units came back from a customer.
				restockBeforeShipment: item.restock_type === "cancel",
				amount: amount(item.subtotal_set, item.subtotal, currency, at, "subtotal"),
			};
		}),
	};
}

function financialStatus(value: string | null | undefined): CanonicalOrder["financialStatus"] {
	const parsed = FinancialStatus.safeParse(value);
	return parsed.success ? parsed.data : "unknown";
}

/** REST reports null until something ships; any other unknown value is treated the same way. */
function fulfillmentStatus(value: string | null | undefined): CanonicalOrder["fulfillmentStatus"] {
	const parsed = FulfillmentStatus.safeParse(value);
	return parsed.success ? parsed.data : "unfulfilled";
}

function customer(order: ShopifyOrder): Customer | undefined {
	const source = order.customer;
	const fields = compact({
		channelCustomerId: source ? exactId(source.admin_graphql_api_id, source.id, "customer.id") : undefined,
		email: source?.email?.trim() ? source.email : order.email,
		name: fullName(source?.first_name, source?.last_name),
		phone: source?.phone?.trim() ? source.phone : order.phone,
	});
	return Object.keys(fields).length > 0 ? fields : undefined;
}

function shipTo(order: ShopifyOrder): Address | undefined {
	const a = order.shipping_address;
	if (!a) return undefined;
	return compact({
		name: a.name ?? fullName(a.first_name, a.last_name),
		company: a.company,
		address1: a.address1,
		address2: a.address2,
		city: a.city,
		province: a.province,
		provinceCode: a.province_code,
		countryCode: a.country_code,
		zip: a.zip,
		phone: a.phone,
	});
}

/** The `current_*` amount (after edits and refunds) when Shopify sends one, else the original. */
function orderAmount(order: ShopifyOrder, field: "subtotal_price" | "total_price"): Money {
	const current = `current_${field}` as const;
	const set = order[`${current}_set`];
	const plain = order[current];
	if (set || plain !== undefined) return amount(set, plain ?? "", order.currency, "", current);
	return amount(order[`${field}_set`], order[field], order.currency, "", field);
}

/** Throws a RangeError naming the field when an amount or id cannot be represented exactly. */
export function normalizeShopifyOrder(order: ShopifyOrder, connection: string): CanonicalOrder {
	const currency = order.currency;
	const customerData = customer(order);
	const address = shipTo(order);
	return {
		connection,
		channel: "shopify",
		channelOrderId: exactId(order.admin_graphql_api_id, order.id, "id"),
		channelOrderName: order.name,
		currency,
		lines: order.line_items.map((line, i) => {
			const at = `line_items[${i}].`;
			return {
				channelLineId: exactId(line.admin_graphql_api_id, line.id, `${at}id`),
				sku: line.sku?.trim() ? line.sku : null,
				// `name` includes the variant ("Merino Crew Sweater - Oat / M"); `title` is the product's.
				title: line.name ?? line.title,
				quantity: line.current_quantity ?? line.quantity,
				unitPrice: amount(line.price_set, line.price, currency, at, "price"),
				discounts: allocations(order, line.discount_allocations, currency, at),
				taxes: taxes(line.tax_lines, currency, at),
				requiresShipping: line.requires_shipping ?? true,
			};
		}),
		shippingLines: order.shipping_lines.map((line, i) => {
			const at = `shipping_lines[${i}].`;
			return {
				channelLineId: exactId(line.admin_graphql_api_id, line.id, `${at}id`),
				title: line.title,
				...compact({ code: line.code }),
				price: amount(line.price_set, line.price, currency, at, "price"),
				discounts: allocations(order, line.discount_allocations, currency, at),
				taxes: taxes(line.tax_lines, currency, at),
			};
		}),
		taxes: taxes(order.tax_lines, currency, ""),
		taxesIncluded: order.taxes_included,
		discounts: order.discount_codes.map((code, i) => ({
			code: code.code,
			amount: amount(undefined, code.amount, currency, `discount_codes[${i}].`, "amount"),
		})),
		subtotal: orderAmount(order, "subtotal_price"),
		total: orderAmount(order, "total_price"),
		...(customerData ? { customer: customerData } : {}),
		...(address ? { shipTo: address } : {}),
		financialStatus: financialStatus(order.financial_status),
		fulfillmentStatus: fulfillmentStatus(order.fulfillment_status),
		cancelledAt: order.cancelled_at ? utc(order.cancelled_at) : null,
		refunds: order.refunds.map((item, i) => refund(item, currency, `refunds[${i}].`)),
		createdAt: utc(order.created_at),
		sourceUpdatedAt: utc(order.updated_at),
	};
}

/** `currency` is the shop's currency, in which the refund's plain amounts are expressed. */
export function normalizeShopifyRefund(
	source: ShopifyRefund,
	currency: string,
): { channelOrderId: string; refund: Refund } {
	return {
		channelOrderId: exactId(undefined, source.order_id, "order_id"),
		refund: refund(source, currency, ""),
	};
}

/** The first `shop_money.currency_code` anywhere in the value: every shop_money is in the shop's currency. */
function shopCurrencyIn(value: unknown): string | undefined {
	if (Array.isArray(value)) {
		for (const item of value) {
			const found = shopCurrencyIn(item);
			if (found) return found;
		}
	} else if (value && typeof value === "object") {
		const record = value as Record<string, unknown>;
		const shop = record.shop_money as Record<string, unknown> | undefined;
		if (typeof shop?.currency_code === "string") return shop.currency_code;
		for (const child of Object.values(record)) {
			const found = shopCurrencyIn(child);
			if (found) return found;
		}
	}
	return undefined;
}

/** Topics whose body is the whole order. */
const orderTopics = new Set(["orders/create", "orders/updated", "orders/cancelled", "orders/fulfilled"]);

/** Every topic `parseShopifyChange` reads; others are not ours to handle. */
export const SHOPIFY_ORDER_TOPICS: ReadonlySet<string> = new Set([...orderTopics, "refunds/create"]);

export type ShopifyChangeResult = { ok: true; change: OrderChange } | { ok: false; error: string };

/** Validates and normalizes one webhook body; a bad payload is a result, not an exception. */
export function parseShopifyChange(topic: string, body: unknown, connection: string): ShopifyChangeResult {
	try {
		if (orderTopics.has(topic)) {
			const parsed = ShopifyOrder.safeParse(body);
			if (!parsed.success) return { ok: false, error: formatIssues(parsed.error) };
			return { ok: true, change: { kind: "order", order: normalizeShopifyOrder(parsed.data, connection) } };
		}
		if (topic === "refunds/create") {
			const parsed = ShopifyRefund.safeParse(body);
			if (!parsed.success) return { ok: false, error: formatIssues(parsed.error) };
			const currency = shopCurrencyIn(parsed.data) ?? parsed.data.transactions.find((t) => t.currency)?.currency;
			if (!currency) {
				const error = "refund has no currency: no *_set.shop_money.currency_code and no transactions[].currency";
				return { ok: false, error };
			}
			return { ok: true, change: { kind: "refund", ...normalizeShopifyRefund(parsed.data, currency) } };
		}
		return { ok: false, error: `unsupported Shopify topic ${topic}` };
	} catch (error) {
		if (error instanceof RangeError) return { ok: false, error: error.message };
		throw error;
	}
}
