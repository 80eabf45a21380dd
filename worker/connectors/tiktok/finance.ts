import { z } from "zod";
import { type Connection, formatIssues } from "../../config";
import { type Money, toMinorUnits } from "../../model/money";
import type { FeeCategory, Payout, SettlementFee, SettlementLine, SettlementLineKind } from "../../model/settlement";
import type { CallResult } from "../call";
import type { TikTokCredentials } from "./account";
import { call } from "./client";

/**
 * TikTok Shop's statements (Finance API), as normalized payouts.
 *
 * - Get Statements, `GET /finance/202309/statements` (sort_field `statement_time` is required;
 *   `statement_time_ge`/`_lt` in Unix seconds; `page_size` 1–100 and `page_token`): one statement
 *   a day, generated at 00:00 UTC for the past day's settled transactions.
 * - Get Transactions by Statement, `GET /finance/202501/statements/{statement_id}/statement_transactions`
 *   (sort_field `order_create_time` is required; paged the same way): the 202501 version is the one
 *   documented "for all regions' sellers" (202309 was UK/US only) and the one with `RESERVE`
 *   transactions and itemized `fee_tax_breakdown`, `shipping_cost_breakdown`, `revenue_breakdown`.
 *
 * Amounts are decimal strings in the statement's currency, signed as they move the seller's money
 * (fees and shipping costs negative): a transaction's settlement_amount is revenue_amount +
 * shipping_cost_amount + fee_tax_amount + adjustment_amount. Its reserve_amount (negative when
 * withheld, positive when released) is outside it; the statement's payable_amount is
 * total_settlement_amount + total_reserve_amount, and is the payout's total.
 *
 * Lines, one per transaction (its `id`):
 * - `ORDER`: an `order` line (a `refund` line when its revenue is negative, i.e. refunds settled
 *   without a sale), amount = revenue_amount (subtotal after seller discounts, net of refunds) +
 *   the shipping the buyer paid (`shipping_cost_breakdown.customer_paid_shipping_fee_amount`) +
 *   the US sales tax TikTok collected (`supplementary_component.sales_tax_amount`, which TikTok
 *   remits itself, so it comes back out as a `tax_withheld` fee and the line still nets to the
 *   settlement). Every other itemized amount is a fee, categorized by the tables below.
 * - `RESERVE`: a `reserve` line whose money is its reserve_amount.
 * - Adjustment types (GMV_PAYMENT_FOR_ADS, SHIPPING_FEE_ADJUSTMENT, CHARGE_BACK, …): an
 *   `adjustment` line (ad spend: `other`) whose money is its adjustment_amount, code = the type.
 * Whatever an itemization leaves unexplained (a breakdown that does not add up to its total, a
 * field TikTok adds later) becomes a fee with category null, so each line still nets to exactly
 * what TikTok settled and the gap shows as an exception.
 */

type Options = { timeoutMs: number; pageSize?: number };

export type TikTokStatementSummary = { id: string; statementTime: string; settlementAmount: Money; status: string };

const Text = z.string().nullish();
const Amount = z.union([z.string(), z.number()]).nullish();
/** A breakdown: amounts by field name; nested objects (supplementary components) are for reference only. */
const Breakdown = z.record(z.string(), z.unknown()).nullish();

const StatementTransaction = z.looseObject({
	id: z.string().min(1),
	type: Text,
	currency: Text,
	order_id: Text,
	adjustment_id: Text,
	adjustment_order_id: Text,
	associated_order_id: Text,
	reserve_id: Text,
	reserve_status: Text,
	revenue_amount: Amount,
	shipping_cost_amount: Amount,
	fee_tax_amount: Amount,
	adjustment_amount: Amount,
	reserve_amount: Amount,
	settlement_amount: Amount,
	revenue_breakdown: Breakdown,
	shipping_cost_breakdown: Breakdown,
	fee_tax_breakdown: z.looseObject({ fee: Breakdown, tax: Breakdown }).nullish(),
	supplementary_component: Breakdown,
});
type StatementTransaction = z.infer<typeof StatementTransaction>;

const StatementTransactionsData = z.looseObject({
	id: Text,
	currency: z.string().regex(/^[A-Z]{3}$/),
	create_time: z.number().int().nullish(),
	status: Text,
	payable_amount: Amount,
	total_settlement_amount: Amount,
	total_reserve_amount: Amount,
	next_page_token: Text,
	transactions: z.array(StatementTransaction).nullish(),
});

const StatementsData = z.looseObject({
	next_page_token: Text,
	statements: z
		.array(
			z.looseObject({
				id: z.string().min(1),
				statement_time: z.number().int(),
				currency: z.string().regex(/^[A-Z]{3}$/),
				settlement_amount: Amount,
				payment_status: Text,
			}),
		)
		.nullish(),
});

/** Fee fields of `fee_tax_breakdown.fee`. */
const FEES: Record<string, FeeCategory> = {
	platform_commission_amount: "commission",
	referral_fee_amount: "commission",
	refund_administration_fee_amount: "commission",
	dynamic_commission_amount: "commission",
	fee_per_item_sold_amount: "commission",
	mall_service_fee_amount: "commission",
	transaction_fee_amount: "payment_processing",
	credit_card_handling_fee_amount: "payment_processing",
	seller_paylater_handling_fee_amount: "payment_processing",
	affiliate_commission_amount: "affiliate",
	affiliate_commission_amount_before_pit: "affiliate",
	affiliate_partner_commission_amount: "affiliate",
	affiliate_ads_commission_amount: "affiliate",
	affiliate_commission_deposit: "affiliate",
	affiliate_commission_release: "affiliate",
	cofunded_creator_bonus_amount: "affiliate",
	external_affiliate_marketing_fee_amount: "affiliate",
	tap_shop_ads_commission: "affiliate",
	cofunded_promotion_service_fee_amount: "promotion",
	voucher_xtra_service_fee_amount: "promotion",
	flash_sales_service_fee_amount: "promotion",
	bonus_cashback_service_fee_amount: "promotion",
	live_specials_fee_amount: "promotion",
	campaign_resource_fee: "promotion",
	pre_order_service_fee_amount: "promotion",
	sfp_service_fee_amount: "shipping_label",
	shipping_fee_guarantee_service_fee: "shipping_label",
	dt_handling_fee_amount: "fulfillment",
	installation_service_fee: "other",
	epr_pob_service_fee_amount: "other",
	tsp_commission_amount: "other",
	vn_fix_infrastructure_fee: "other",
};

/** Tax fields of `fee_tax_breakdown.tax`: withheld or paid by TikTok on the seller's behalf. */
const TAXES: Record<string, FeeCategory> = {
	anti_dumping_duty_amount: "tax_withheld",
	customs_duty_amount: "tax_withheld",
	gst_amount: "tax_withheld",
	import_vat_amount: "tax_withheld",
	isr_amount: "tax_withheld",
	iva_amount: "tax_withheld",
	local_vat_amount: "tax_withheld",
	pit_amount: "tax_withheld",
	sst_amount: "tax_withheld",
	vat_amount: "tax_withheld",
	// Charged by the logistics supplier, listed with the taxes.
	customs_clearance_amount: "shipping_label",
};

/** Fields of `shipping_cost_breakdown` (its `supplementary_component` does not add to the total). */
const SHIPPING: Record<string, FeeCategory> = Object.fromEntries(
	[
		"actual_shipping_fee_amount",
		"customer_paid_shipping_fee_amount",
		"exchange_shipping_fee_amount",
		"failed_delivery_subsidy_amount",
		"fbt_free_shipping_fee_amount",
		"fbt_fulfillment_fee_reimbursement_amount",
		"free_return_subsidy_amount",
		"replacement_shipping_fee_amount",
		"return_shipping_fee_amount",
		"return_shipping_fee_paid_buyer_amount",
		"return_shipping_label_fee_amount",
		"seller_self_shipping_service_fee_amount",
		"shipping_fee_discount_amount",
		"shipping_fee_guarantee_reimbursement",
		"shipping_insurance_fee_amount",
		"signature_confirmation_fee_amount",
	].map((field) => [field, "shipping_label" as const]),
);

/** Adjustment transaction types, compared without case, spaces or punctuation. */
const ADJUSTMENTS: Record<string, FeeCategory> = {
	GMVPAYMENTFORADS: "advertising",
	SHIPPINGFEEADJUSTMENT: "shipping_label",
	SHIPPINGFEECOMPENSATION: "shipping_label",
	SHIPPINGFEEREBATE: "shipping_label",
	SAMPLESHIPPINGFEE: "shipping_label",
	FBTWAREHOUSESERVICEFEE: "fulfillment",
	PLATFORMCOMMISSIONADJUSTMENT: "commission",
	PLATFORMCOMMISSIONCOMPENSATION: "commission",
	REBATE: "commission",
	PROMOTIONADJUSTMENT: "promotion",
	COFUNDEDCREATORREWARDS: "affiliate",
	STAMPDUTY: "tax_withheld",
	CHARGEBACK: "adjustment",
	CUSTOMERSERVICECOMPENSATION: "adjustment",
	DEDUCTIONSINCURREDBYSELLER: "adjustment",
	PLATFORMPENALTY: "adjustment",
	PLATFORMCOMPENSATION: "adjustment",
	PLATFORMREIMBURSEMENT: "adjustment",
	LOGISTICSREIMBURSEMENT: "adjustment",
	SELLERMISSIONREWARD: "adjustment",
	OTHERADJUSTMENT: "adjustment",
	VIOLATIONFEESETTLEMENTFEE: "adjustment",
	VIOLATIONFEECREDITCARD: "adjustment",
	BILLPAYMENTNEGATIVEBALANCE: "adjustment",
	SALESPROCEEDNEGATIVEBALANCE: "adjustment",
	BILLDEDUCTIONFORNEGATIVEBALANCE: "adjustment",
};

const MAX_PAGES = 500;

function account(connection: Connection) {
	if (!connection.tiktok) return null;
	return { account: connection.tiktok, credentials: connection.credentials as TikTokCredentials };
}

const refused = (error: string) => ({ ok: false as const, retryable: false, error });

/** Statements generated in [from, to), oldest first, with what each settles. */
export async function listTikTokStatements(
	connection: Connection,
	range: { from: string; to: string },
	options: Options,
): Promise<CallResult<TikTokStatementSummary[]>> {
	const api = account(connection);
	if (!api) return refused(`connection ${connection.id} has no TikTok Shop API block`);
	const from = Date.parse(range.from);
	const to = Date.parse(range.to);
	if (Number.isNaN(from) || Number.isNaN(to)) return refused(`TikTok statements: ${JSON.stringify(range)} is not a pair of ISO 8601 times`);
	const path = "/finance/202309/statements";
	const out: TikTokStatementSummary[] = [];
	let token: string | null = null;
	for (let page = 0; page < MAX_PAGES; page++) {
		const query: Record<string, string> = {
			sort_field: "statement_time",
			sort_order: "ASC",
			statement_time_ge: String(Math.floor(from / 1000)),
			statement_time_lt: String(Math.ceil(to / 1000)),
			page_size: String(options.pageSize ?? 100),
			...(token ? { page_token: token } : {}),
		};
		const result: CallResult<{ data: unknown }> = await call(api.account, api.credentials, "GET", path, options, { query });
		if (!result.ok) return result;
		const data = StatementsData.safeParse(result.value.data);
		if (!data.success) return refused(`TikTok GET ${path}: unexpected data: ${formatIssues(data.error)}`);
		for (const statement of data.data.statements ?? []) {
			try {
				out.push({
					id: statement.id,
					statementTime: new Date(statement.statement_time * 1000).toISOString(),
					settlementAmount: { amount: minor(statement.settlement_amount, statement.currency, `statement ${statement.id} settlement_amount`), currency: statement.currency },
					status: statement.payment_status ?? "",
				});
			} catch (error) {
				if (error instanceof RangeError) return refused(`TikTok GET ${path}: ${error.message}`);
				throw error;
			}
		}
		const next = data.data.next_page_token?.trim() || null;
		if (!next) return { ok: true, value: out };
		if (next === token) return refused(`TikTok GET ${path}: the same page_token came back twice`);
		token = next;
	}
	return refused(`TikTok GET ${path}: more than ${MAX_PAGES} pages`);
}

/** One statement and every page of its transactions, as a payout. */
export async function fetchTikTokStatement(connection: Connection, statementId: string, options: Options): Promise<CallResult<Payout>> {
	const api = account(connection);
	if (!api) return refused(`connection ${connection.id} has no TikTok Shop API block`);
	const path = `/finance/202501/statements/${encodeURIComponent(statementId)}/statement_transactions`;
	const transactions: StatementTransaction[] = [];
	const seen = new Set<string>();
	let head: z.infer<typeof StatementTransactionsData> | null = null;
	let token: string | null = null;
	for (let page = 0; ; page++) {
		if (page === MAX_PAGES) return refused(`TikTok GET ${path}: more than ${MAX_PAGES} pages`);
		const query: Record<string, string> = { sort_field: "order_create_time", sort_order: "ASC", page_size: String(options.pageSize ?? 100), ...(token ? { page_token: token } : {}) };
		const result: CallResult<{ data: unknown }> = await call(api.account, api.credentials, "GET", path, options, { query });
		if (!result.ok) return result;
		const data = StatementTransactionsData.safeParse(result.value.data);
		if (!data.success) return refused(`TikTok GET ${path}: unexpected data: ${formatIssues(data.error)}`);
		head ??= data.data;
		if (data.data.currency !== head.currency) return refused(`TikTok GET ${path}: page ${page + 1} is in ${data.data.currency}, the statement in ${head.currency}`);
		// "The transaction Unique key, you can use this field to determine whether it is repeated."
		for (const transaction of data.data.transactions ?? []) {
			if (seen.has(transaction.id)) continue;
			seen.add(transaction.id);
			transactions.push(transaction);
		}
		const next = data.data.next_page_token?.trim() || null;
		if (!next) break;
		if (next === token) return refused(`TikTok GET ${path}: the same page_token came back twice`);
		token = next;
	}
	try {
		return { ok: true, value: toPayout(connection.id, statementId, head!, transactions) };
	} catch (error) {
		if (error instanceof RangeError) return refused(`TikTok statement ${statementId}: ${error.message}`);
		throw error;
	}
}

/** A statement's transactions (raw, every page) as a payout. Throws a RangeError naming the field. */
function toPayout(
	connection: string,
	statementId: string,
	head: { currency: string; create_time?: number | null; payable_amount?: string | number | null; total_settlement_amount?: string | number | null; total_reserve_amount?: string | number | null },
	transactions: StatementTransaction[],
): Payout {
	const currency = head.currency;
	const lines = transactions.map((transaction, i) => toLine(transaction, currency, `transactions[${i}] (${transaction.id})`));
	let total: number;
	if (present(head.payable_amount)) total = minor(head.payable_amount, currency, "payable_amount");
	else if (present(head.total_settlement_amount)) total = minor(head.total_settlement_amount, currency, "total_settlement_amount") + minor(head.total_reserve_amount, currency, "total_reserve_amount");
	else throw new RangeError("the statement has neither payable_amount nor total_settlement_amount");
	const created = head.create_time ? head.create_time * 1000 : null;
	return {
		connection,
		channel: "tiktok",
		payoutId: statementId,
		currency,
		// "Statements are generated daily at 00:00 UTC, and it includes all transactions from the past day."
		...(created ? { periodStart: new Date(created - 86_400_000).toISOString(), periodEnd: new Date(created).toISOString() } : {}),
		total: { amount: total, currency },
		lines,
	};
}

function toLine(t: StatementTransaction, currency: string, at: string): SettlementLine {
	if (t.currency && t.currency !== currency) throw new RangeError(`${at}.currency: ${t.currency} differs from the statement's ${currency}`);
	const read = (value: unknown, field: string) => minor(value, currency, `${at}.${field}`);
	const type = (t.type ?? "").trim();
	const key = type.toUpperCase().replace(/[^A-Z]/g, "");
	const revenue = read(t.revenue_amount, "revenue_amount");
	const shipping = read(t.shipping_cost_amount, "shipping_cost_amount");
	const feeTax = read(t.fee_tax_amount, "fee_tax_amount");
	const adjustment = read(t.adjustment_amount, "adjustment_amount");
	const reserve = read(t.reserve_amount, "reserve_amount");

	const isOrder = key === "ORDER" || key === "REFUND";
	const kind: SettlementLineKind = isOrder
		? key === "REFUND" || revenue < 0
			? "refund"
			: "order"
		: key === "RESERVE"
			? "reserve"
			: // Ad spend is not an adjustment of anything; a type TikTok has not documented is not known to be one.
				key === "GMVPAYMENTFORADS" || !Object.hasOwn(ADJUSTMENTS, key)
				? "other"
				: "adjustment";

	const fees: SettlementFee[] = [];
	const fee = (code: string, category: FeeCategory | null, amount: number) => {
		if (amount !== 0) fees.push({ code, category, amount: { amount, currency } });
	};
	let amount = 0;

	// Revenue: the buyer's money on an order; on anything else, an adjustment of the seller's.
	if (isOrder) amount += revenue;
	else fee("revenue_amount", "adjustment", revenue);

	// Shipping: what the buyer paid is in the amount; the seller's costs and TikTok's subsidies are fees.
	const shippingBreakdown = t.shipping_cost_breakdown;
	if (shippingBreakdown) {
		let itemized = 0;
		for (const [field, value] of Object.entries(shippingBreakdown)) {
			if (field === "supplementary_component" || (value !== null && typeof value === "object")) continue;
			const part = read(value, `shipping_cost_breakdown.${field}`);
			itemized += part;
			if (isOrder && field === "customer_paid_shipping_fee_amount") amount += part;
			else fee(field, own(SHIPPING, field), part);
		}
		fee("shipping_cost_amount", null, shipping - itemized);
	} else {
		fee("shipping_cost_amount", "shipping_label", shipping);
	}

	// Fees and taxes, itemized.
	const breakdown = t.fee_tax_breakdown;
	if (breakdown && (breakdown.fee || breakdown.tax)) {
		let itemized = 0;
		for (const [group, table] of [["fee", FEES], ["tax", TAXES]] as const) {
			for (const [field, value] of Object.entries(breakdown[group] ?? {})) {
				if (value !== null && typeof value === "object") continue;
				const part = read(value, `fee_tax_breakdown.${group}.${field}`);
				itemized += part;
				fee(field, own(table, field), part);
			}
		}
		fee("fee_tax_amount", null, feeTax - itemized);
	} else {
		fee("fee_tax_amount", null, feeTax);
	}

	// Sales tax TikTok collects and remits (US): what the buyer paid, and out again at once.
	if (isOrder) {
		const tax = read(t.supplementary_component?.sales_tax_amount, "supplementary_component.sales_tax_amount");
		amount += tax;
		fee("sales_tax_amount", "tax_withheld", -tax);
	}

	fee(isOrder ? "adjustment_amount" : type || "adjustment_amount", isOrder ? "adjustment" : (own(ADJUSTMENTS, key) ?? null), adjustment);
	fee("reserve_amount", "reserve", reserve);

	// Whatever TikTok settled beyond the sum of its parts.
	if (present(t.settlement_amount)) fee("settlement_amount", null, read(t.settlement_amount, "settlement_amount") - (revenue + shipping + feeTax + adjustment));

	const orderId = [t.order_id, t.adjustment_order_id, t.associated_order_id].map((id) => id?.trim()).find((id) => id && id !== "0");
	return {
		id: t.id,
		kind,
		...(orderId ? { channelOrderId: orderId } : {}),
		amount: { amount, currency },
		fees,
		...(type ? { description: type } : {}),
	};
}

function present(value: unknown): boolean {
	return value !== null && value !== undefined && String(value).trim() !== "";
}

/** A TikTok amount in minor units; blank is 0. Throws a RangeError naming the field. */
function minor(value: unknown, currency: string, field: string): number {
	if (!present(value)) return 0;
	if (typeof value !== "string" && typeof value !== "number") throw new RangeError(`${field}: not an amount: ${JSON.stringify(value)}`);
	try {
		return toMinorUnits(String(value), currency);
	} catch (error) {
		throw new RangeError(`${field}: ${(error as Error).message}`);
	}
}

function own<T>(table: Record<string, T>, key: string): T | null {
	return Object.hasOwn(table, key) ? table[key]! : null;
}
