import { toMinorUnits } from "../../model/money";
import { compact } from "../../model/order";
import type { FeeCategory, Payout, SettlementFee, SettlementLine, SettlementLineKind } from "../../model/settlement";

/**
 * Amazon's settlement report, `GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2` (Reports API; Amazon
 * schedules it, one per settlement period), as a normalized payout.
 *
 * The file is tab-separated with a header row naming the columns
 * (https://developer-docs.amazon.com/sp-api/docs/settlement-reports-attributes). Columns are found
 * by name, so their order and extra columns (many files end with `promotion-id`) do not matter.
 * The first data row is the summary: settlement-id, the period, deposit-date, total-amount and
 * currency, with no transaction-type. Every other row is one amount: `amount-type` (ItemPrice,
 * Promotion, ItemFees, ItemWithheldTax, other-transaction, Cost of Advertising, …),
 * `amount-description` (Principal, Commission, FBAPerUnitFulfillmentFee, Subscription Fee, …) and
 * `amount`, signed as it moves the seller's balance (a fee is negative).
 *
 * Lines:
 * - `Order` rows, per order and shipment (a partial fulfilment settles once per shipment): one
 *   `order` line. ItemPrice and Promotion rows are what the buyer paid and make its amount; every
 *   other row is a fee on it.
 * - `Refund` rows, per order and adjustment-id: one `refund` line (its amount negative, the fees
 *   Amazon gives back positive), `channelRefundId` the adjustment-id.
 * - Anything else (other-transaction, ServiceFee, Chargeback Refund, reserves, …): a `reserve`,
 *   `adjustment` or `other` line whose amount is 0 and whose money is all in its fees.
 *
 * A fee's code is Amazon's amount-description; its category comes from the tables below, and a
 * description they do not name gets `null` (an exception for an operator, never a silent plug).
 * The sum of the lines is not checked against total-amount here: the reconciliation reports it.
 */

export type AmazonSettlementResult = { ok: true; payout: Payout } | { ok: false; error: string };

/** The documented columns, all required (promotion-id, in many files, is optional). */
export const AMAZON_SETTLEMENT_COLUMNS = [
	"settlement-id",
	"settlement-start-date",
	"settlement-end-date",
	"deposit-date",
	"total-amount",
	"currency",
	"transaction-type",
	"order-id",
	"merchant-order-id",
	"adjustment-id",
	"shipment-id",
	"marketplace-name",
	"amount-type",
	"amount-description",
	"amount",
	"fulfillment-id",
	"posted-date",
	"posted-date-time",
	"order-item-code",
	"merchant-order-item-id",
	"merchant-adjustment-item-id",
	"sku",
	"quantity-purchased",
] as const;

type Column = (typeof AMAZON_SETTLEMENT_COLUMNS)[number];

/** Buyer money on an order or refund line: its amount, not a fee. */
const AMOUNT_TYPES = new Set(["ItemPrice", "Promotion"]);

const RESERVE = new Set(["Current Reserve Amount", "Previous Reserve Amount Balance"]);

/** Transaction types of movements that correct an order after the fact (a chargeback, a guarantee claim). */
const ADJUSTMENT_TYPES = new Set([
	"Chargeback Refund",
	"A-to-z Guarantee Refund",
	"Adjustment",
	"Fee Adjustment",
	"Order_Retrocharge",
	"Refund_Retrocharge",
	"SAFE-T Reimbursement",
	"Liquidations",
	"Liquidations Adjustments",
]);

/** Categories by amount-description, as Amazon spells it in the file. */
const BY_DESCRIPTION: Record<string, FeeCategory> = {
	// Referral and closing fees.
	Commission: "commission",
	RefundCommission: "commission",
	VariableClosingFee: "commission",
	FixedClosingFee: "commission",
	GiftWrapCommission: "commission",
	// FBA: pick, pack and ship; returns; storage and removals.
	FBAPerUnitFulfillmentFee: "fulfillment",
	FBAPerOrderFulfillmentFee: "fulfillment",
	FBAWeightBasedFee: "fulfillment",
	FBACustomerReturnPerUnitFee: "fulfillment",
	FBACustomerReturnPerOrderFee: "fulfillment",
	FBACustomerReturnWeightBasedFee: "fulfillment",
	GiftwrapChargeback: "fulfillment",
	"Storage Fee": "fulfillment",
	StorageFee: "fulfillment",
	StorageRenewalBilling: "fulfillment",
	"FBA Long-Term Storage Fee": "fulfillment",
	DisposalComplete: "fulfillment",
	RemovalComplete: "fulfillment",
	// Postage: FBA shipping chargebacks and holdbacks, Buy Shipping labels.
	ShippingChargeback: "shipping_label",
	ShippingHB: "shipping_label",
	"Shipping label purchase": "shipping_label",
	"Shipping label purchase for return": "shipping_label",
	"Postage Billing": "shipping_label",
	// Tax Amazon collects and remits as marketplace facilitator (paired with the Tax rows in the amount).
	"MarketplaceFacilitatorTax-Principal": "tax_withheld",
	"MarketplaceFacilitatorTax-Shipping": "tax_withheld",
	"MarketplaceFacilitatorTax-Giftwrap": "tax_withheld",
	"MarketplaceFacilitatorTax-Other": "tax_withheld",
	"MarketplaceFacilitatorVAT-Principal": "tax_withheld",
	"MarketplaceFacilitatorVAT-Shipping": "tax_withheld",
	// Account movements.
	"Current Reserve Amount": "reserve",
	"Previous Reserve Amount Balance": "reserve",
	"Subscription Fee": "other",
	Subscription: "other",
	TransactionTotalAmount: "advertising",
	"Lightning Deal Fee": "promotion",
	CouponRedemptionFee: "promotion",
	"Vine Enrollment Fee": "promotion",
	"SAFE-T Reimbursement": "adjustment",
	"Balance Adjustment": "adjustment",
};

/** Categories by amount-type, when the description is one of many (reimbursement reasons, ad spend). */
const BY_AMOUNT_TYPE: Record<string, FeeCategory> = {
	ItemWithheldTax: "tax_withheld",
	"Cost of Advertising": "advertising",
	"FBA Inventory Reimbursement": "adjustment",
	CouponRedemptionFee: "promotion",
	LightningDealFee: "promotion",
	"Vine Enrollment Fee": "promotion",
};

type Row = { line: number; get(column: Column | "promotion-id"): string };
type Group = { kind: SettlementLineKind; key: string; rows: Row[] };

export function parseAmazonSettlement(text: string, connection: string): AmazonSettlementResult {
	try {
		return { ok: true, payout: parse(text, connection) };
	} catch (error) {
		if (error instanceof SettlementError) return { ok: false, error: error.message };
		throw error;
	}
}

class SettlementError extends Error {}

const fail = (message: string): never => {
	throw new SettlementError(message);
};

function parse(text: string, connection: string): Payout {
	const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
	while (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop();
	if (lines.length === 0) fail("the settlement file is empty");

	const header = lines[0]!.split("\t").map((name) => name.trim());
	const index = new Map<string, number>();
	header.forEach((name, i) => {
		if (name && !index.has(name)) index.set(name, i);
	});
	const missing = AMAZON_SETTLEMENT_COLUMNS.filter((column) => !index.has(column));
	if (missing.length > 0) fail(`line 1 (header): missing column${missing.length > 1 ? "s" : ""} ${missing.map((c) => `"${c}"`).join(", ")}`);

	const rows: Row[] = [];
	for (let i = 1; i < lines.length; i++) {
		if (lines[i]!.trim() === "") continue;
		const fields = lines[i]!.split("\t");
		const line = i + 1;
		if (fields.length > header.length) fail(`line ${line}: ${fields.length} fields, but the header names ${header.length} columns`);
		// Trailing empty fields may be cut off (summary rows often are).
		rows.push({ line, get: (column) => (fields[index.get(column) ?? -1] ?? "").trim() });
	}

	const summary = rows[0];
	if (!summary || summary.get("transaction-type") !== "" || summary.get("total-amount") === "") {
		fail(`missing summary row: the first data row${summary ? ` (line ${summary.line})` : ""} must carry settlement-id, total-amount and currency and no transaction-type`);
	}
	const head = summary!;
	const settlementId = head.get("settlement-id");
	if (!settlementId) fail(`line ${head.line}: column "settlement-id" is empty in the summary row`);
	const currency = head.get("currency");
	if (!/^[A-Z]{3}$/.test(currency)) fail(`line ${head.line}: column "currency": expected an ISO 4217 code, got ${JSON.stringify(currency)}`);
	const total = amountOf(head, "total-amount", currency);

	const groups = new Map<string, Group>();
	for (const row of rows.slice(1)) {
		const rowCurrency = row.get("currency");
		if (rowCurrency !== "" && rowCurrency !== currency) fail(`line ${row.line}: column "currency": ${rowCurrency} differs from the settlement's ${currency}`);
		const rowSettlement = row.get("settlement-id");
		if (rowSettlement !== "" && rowSettlement !== settlementId) fail(`line ${row.line}: column "settlement-id": ${rowSettlement} differs from the summary's ${settlementId}`);
		const type = row.get("transaction-type");
		if (!type) fail(`line ${row.line}: column "transaction-type" is empty (only the first data row is a summary)`);
		if (row.get("amount") === "") fail(`line ${row.line}: column "amount" is empty`);
		const { kind, key } = classify(row);
		let group = groups.get(key);
		if (!group) groups.set(key, (group = { kind, key, rows: [] }));
		group.rows.push(row);
	}

	return {
		connection,
		channel: "amazon",
		payoutId: settlementId,
		currency,
		...compact({
			periodStart: date(head.get("settlement-start-date")),
			periodEnd: date(head.get("settlement-end-date")),
			paidAt: date(head.get("deposit-date")),
		}),
		total: { amount: total, currency },
		lines: [...groups.values()].map((group) => toLine(group, currency)),
	};
}

/** Which line a row belongs to; the key is also the line's id, so it is unique in the payout. */
function classify(row: Row): { kind: SettlementLineKind; key: string } {
	const type = row.get("transaction-type");
	const orderId = row.get("order-id");
	const when = row.get("posted-date-time") || row.get("posted-date");
	if (type === "Order" && orderId) return { kind: "order", key: `Order:${orderId}:${row.get("shipment-id") || when}` };
	if (type === "Refund" && orderId) return { kind: "refund", key: `Refund:${orderId}:${row.get("adjustment-id") || when}` };
	const description = row.get("amount-description");
	const kind: SettlementLineKind = RESERVE.has(type) || RESERVE.has(description) ? "reserve" : ADJUSTMENT_TYPES.has(type) ? "adjustment" : "other";
	const reference = orderId || row.get("adjustment-id");
	// Account-level rows (a subscription, a reserve) are one line per description; rows about an order stay together.
	return { kind, key: [type, reference, row.get("shipment-id"), when, reference ? "" : description].join(":") };
}

function toLine(group: Group, currency: string): SettlementLine {
	const first = group.rows[0]!;
	const onOrder = group.kind === "order" || group.kind === "refund";
	let amount = 0;
	const fees = new Map<string, SettlementFee>();
	for (const row of group.rows) {
		const value = amountOf(row, "amount", currency);
		const amountType = row.get("amount-type");
		if (onOrder && AMOUNT_TYPES.has(amountType)) {
			amount += value;
			continue;
		}
		const code = row.get("amount-description") || amountType || row.get("transaction-type");
		const category = categorize(group.kind, row.get("transaction-type"), amountType, row.get("amount-description"));
		const fee = fees.get(code);
		if (fee) fee.amount.amount += value;
		else fees.set(code, { code, category, amount: { amount: value, currency } });
	}
	const orderId = group.rows.map((r) => r.get("order-id")).find(Boolean);
	const refundId = group.kind === "refund" ? first.get("adjustment-id") : "";
	const postedAt = date(first.get("posted-date-time") || first.get("posted-date"));
	const descriptions = [...new Set(group.rows.map((r) => r.get("amount-description")).filter(Boolean))];
	return {
		id: group.key,
		kind: group.kind,
		...compact({
			channelOrderId: orderId,
			channelRefundId: refundId,
			postedAt,
			description: onOrder ? undefined : `${first.get("transaction-type")}: ${descriptions.join(", ")}`,
		}),
		amount: { amount, currency },
		fees: [...fees.values()],
	};
}

function categorize(kind: SettlementLineKind, type: string, amountType: string, description: string): FeeCategory | null {
	// Some files name a reserve or a subscription in transaction-type and leave the description empty.
	const known = own(BY_DESCRIPTION, description) ?? own(BY_AMOUNT_TYPE, amountType) ?? (description ? undefined : own(BY_DESCRIPTION, type));
	if (known) return known;
	// Buyer money on a line that is not a sale or refund (a chargeback, an A-to-z claim) is an adjustment.
	if (AMOUNT_TYPES.has(amountType) && kind !== "order" && kind !== "refund") return "adjustment";
	return null;
}

/**
 * A decimal amount in minor units. Files from EU marketplaces write a decimal comma ("-2,55");
 * that is read as a decimal point. Anything else that is not a plain decimal is an error.
 */
function amountOf(row: Row, column: Column, currency: string): number {
	const raw = row.get(column);
	const decimal = /^-?\d+,\d+$/.test(raw) ? raw.replace(",", ".") : raw;
	try {
		return toMinorUnits(decimal, currency);
	} catch (error) {
		return fail(`line ${row.line}: column "${column}": ${(error as Error).message}`);
	}
}

/**
 * Amazon's dates as ISO 8601: "2026-08-16T07:00:00+00:00", "2026-08-16 07:00:00 UTC" and the
 * European "16.08.2026 07:00:00 UTC" become UTC times; a date alone stays a date. Anything else is
 * kept as written (a date is not money: it is reported, not refused).
 */
function date(raw: string): string | undefined {
	if (!raw) return undefined;
	let value = raw.trim();
	const european = /^(\d{2})\.(\d{2})\.(\d{4})(.*)$/.exec(value);
	if (european) value = `${european[3]}-${european[2]}-${european[1]}${european[4]}`;
	if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
	const utc = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.\d+)?\s*(?:UTC|GMT|Z)$/.exec(value);
	if (utc) return `${utc[1]}T${utc[2]}.000Z`;
	if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2})$/.test(value)) {
		const at = Date.parse(value);
		if (!Number.isNaN(at)) return new Date(at).toISOString();
	}
	return raw;
}

/** A table entry, never an inherited property ("constructor" is not a fee). */
function own<T>(table: Record<string, T>, key: string): T | undefined {
	return Object.hasOwn(table, key) ? table[key] : undefined;
}
