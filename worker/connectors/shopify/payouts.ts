import { z } from "zod";
import { formatIssues, type ShopifyAdmin } from "../../config";
import { type Money, toMinorUnits } from "../../model/money";
import type { FeeCategory, Payout, SettlementFee, SettlementLine, SettlementLineKind } from "../../model/settlement";
import type { CallResult } from "../call";
import { graphql } from "./admin";

/**
 * Shopify Payments payouts through the GraphQL Admin API (the REST Admin API is legacy since
 * October 2024, and new public apps must use GraphQL since April 2025; admin.ts speaks GraphQL
 * already, with cost-based throttling handled there):
 *
 * - the payout: `node(id: "gid://shopify/ShopifyPaymentsPayout/<id>")` as a `ShopifyPaymentsPayout`
 *   (`legacyResourceId`, `issuedAt`, `status`, `transactionType` DEPOSIT/WITHDRAWAL, `net`);
 * - its balance transactions: `shopifyPaymentsAccount { balanceTransactions(first, after,
 *   query: "payments_transfer_id:<id>") }`, cursor-paged (`pageInfo { hasNextPage endCursor }`);
 *   GraphQL has no `payout_id` argument, the search filter is the documented way to a payout's
 *   transactions;
 * - payouts since a time: `shopifyPaymentsAccount { payouts(first, after, query: "issued_at:>='…'") }`.
 *
 * Each `ShopifyPaymentsBalanceTransaction` has a gross `amount`, a `fee` (positive: what Shopify
 * kept) and `net` = amount − fee, all in the payout's (shop's) currency even when the buyer paid in
 * another; the lines stay in that currency. Lines, one per balance transaction (its id):
 * - CHARGE: `order` line, amount = gross, fee `fee` → payment_processing;
 * - REFUND: `refund` line (negative), `channelRefundId` = sourceId (the refund);
 * - DISPUTE and the chargeback types: `adjustment` line, its money and its fee → adjustment;
 * - RESERVED_FUNDS: `reserve` line; ADJUSTMENT: `adjustment` line (code: its adjustmentReason);
 * - TRANSFER: the payout itself, left out; any other type: an `other` line with category null.
 * The order id is the numeric id of `associatedOrder`, as ordersync's order keys use it.
 */

type Options = { timeoutMs: number; pageSize?: number; connection?: string };

export type ShopifyPayoutSummary = { id: string; issuedAt: string; net: Money; status: string };

const MoneyV2 = z.object({ amount: z.union([z.string(), z.number()]), currencyCode: z.string().regex(/^[A-Z]{3}$/) });
const PageInfo = z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullish() });

const PayoutNode = z.looseObject({
	id: z.string(),
	legacyResourceId: z.union([z.string(), z.number()]),
	issuedAt: z.string(),
	status: z.string(),
	transactionType: z.string().nullish(),
	net: MoneyV2,
});

const BalanceTransaction = z.looseObject({
	id: z.string().min(1),
	type: z.string(),
	test: z.boolean().nullish(),
	amount: MoneyV2,
	fee: z.object({ amount: z.union([z.string(), z.number()]) }).nullish(),
	net: z.object({ amount: z.union([z.string(), z.number()]) }).nullish(),
	sourceId: z.union([z.string(), z.number()]).nullish(),
	sourceType: z.string().nullish(),
	sourceOrderTransactionId: z.union([z.string(), z.number()]).nullish(),
	associatedOrder: z.looseObject({ id: z.string(), name: z.string().nullish() }).nullish(),
	adjustmentReason: z.string().nullish(),
	transactionDate: z.string().nullish(),
});
type BalanceTransaction = z.infer<typeof BalanceTransaction>;

const PAYOUT = `query Payout($id: ID!) {
  node(id: $id) {
    ... on ShopifyPaymentsPayout { id legacyResourceId issuedAt status transactionType net { amount currencyCode } }
  }
}`;

const TRANSACTIONS = `query PayoutTransactions($first: Int!, $after: String, $query: String!) {
  shopifyPaymentsAccount {
    balanceTransactions(first: $first, after: $after, query: $query) {
      nodes {
        id type test transactionDate
        amount { amount currencyCode } fee { amount } net { amount }
        sourceId sourceType sourceOrderTransactionId adjustmentReason
        associatedOrder { id name }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

const PAYOUTS = `query Payouts($first: Int!, $after: String, $query: String!) {
  shopifyPaymentsAccount {
    payouts(first: $first, after: $after, query: $query) {
      nodes { id legacyResourceId issuedAt status transactionType net { amount currencyCode } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

/** Categories by transaction type (GraphQL `ShopifyPaymentsTransactionType`, as sent). */
const KINDS: Record<string, { kind: SettlementLineKind; category: FeeCategory }> = {
	DISPUTE: { kind: "adjustment", category: "adjustment" },
	CHARGEBACK_FEE: { kind: "adjustment", category: "adjustment" },
	CHARGEBACK_FEE_REFUND: { kind: "adjustment", category: "adjustment" },
	CHARGEBACK_HOLD: { kind: "adjustment", category: "adjustment" },
	CHARGEBACK_HOLD_RELEASE: { kind: "adjustment", category: "adjustment" },
	ADJUSTMENT: { kind: "adjustment", category: "adjustment" },
	RESERVED_FUNDS: { kind: "reserve", category: "reserve" },
	RESERVED_FUNDS_WITHDRAWAL: { kind: "reserve", category: "reserve" },
	RESERVED_FUNDS_REVERSAL: { kind: "reserve", category: "reserve" },
};

const MAX_PAGES = 500;
const refused = (error: string) => ({ ok: false as const, retryable: false, error });
const numeric = (id: string | number) => /(\d+)(?:\?.*)?$/.exec(String(id))?.[1] ?? String(id);

/** One payout and all its balance transactions, normalized. `payoutId` is the numeric id or the gid. */
export async function fetchShopifyPayout(admin: ShopifyAdmin, token: string, payoutId: string, options: Options): Promise<CallResult<Payout>> {
	const id = numeric(payoutId);
	if (!/^\d+$/.test(id)) return refused(`Shopify payout id ${JSON.stringify(payoutId)} is not a payout id`);
	const head = await graphql<{ node: unknown }>(admin, token, PAYOUT, { id: `gid://shopify/ShopifyPaymentsPayout/${id}` }, options.timeoutMs);
	if (!head.ok) return { ...head, error: `Shopify payout ${id}: ${head.error}` };
	if (head.value.node === null) return refused(`Shopify payout ${id} does not exist (or the app lacks the shopify_payments_payouts scope)`);
	const payout = PayoutNode.safeParse(head.value.node);
	if (!payout.success) return refused(`Shopify payout ${id}: unexpected payout: ${formatIssues(payout.error)}`);

	const transactions: BalanceTransaction[] = [];
	let after: string | null = null;
	for (let page = 0; ; page++) {
		if (page === MAX_PAGES) return refused(`Shopify payout ${id}: more than ${MAX_PAGES} pages of balance transactions`);
		type Page = { shopifyPaymentsAccount: { balanceTransactions: { nodes: unknown[]; pageInfo: unknown } } | null };
		const result: CallResult<Page> = await graphql<Page>(admin, token, TRANSACTIONS, { first: options.pageSize ?? 100, after, query: `payments_transfer_id:${id}` }, options.timeoutMs);
		if (!result.ok) return { ...result, error: `Shopify payout ${id} transactions: ${result.error}` };
		const connection = result.value.shopifyPaymentsAccount?.balanceTransactions;
		if (!connection) return refused(`Shopify payout ${id}: the shop has no Shopify Payments account`);
		const nodes = z.array(BalanceTransaction).safeParse(connection.nodes);
		const info = PageInfo.safeParse(connection.pageInfo);
		if (!nodes.success) return refused(`Shopify payout ${id}: unexpected balance transaction: ${formatIssues(nodes.error)}`);
		if (!info.success) return refused(`Shopify payout ${id}: unexpected pageInfo`);
		transactions.push(...nodes.data);
		if (!info.data.hasNextPage) break;
		if (!info.data.endCursor || info.data.endCursor === after) return refused(`Shopify payout ${id}: pageInfo has a next page but no new cursor`);
		after = info.data.endCursor;
	}
	try {
		return { ok: true, value: toPayout(options.connection ?? admin.shop, payout.data, transactions) };
	} catch (error) {
		if (error instanceof RangeError) return refused(`Shopify payout ${id}: ${error.message}`);
		throw error;
	}
}

/** Payouts issued at or after `since` (ISO 8601), oldest first as Shopify lists them. */
export async function listShopifyPayouts(admin: ShopifyAdmin, token: string, range: { since: string }, options: Options): Promise<CallResult<ShopifyPayoutSummary[]>> {
	const since = Date.parse(range.since);
	if (Number.isNaN(since)) return refused(`Shopify payouts: since ${JSON.stringify(range.since)} is not an ISO 8601 time`);
	const out: ShopifyPayoutSummary[] = [];
	let after: string | null = null;
	for (let page = 0; page < MAX_PAGES; page++) {
		type Page = { shopifyPaymentsAccount: { payouts: { nodes: unknown[]; pageInfo: unknown } } | null };
		const result: CallResult<Page> = await graphql<Page>(admin, token, PAYOUTS, { first: options.pageSize ?? 50, after, query: `issued_at:>='${new Date(since).toISOString()}'` }, options.timeoutMs);
		if (!result.ok) return { ...result, error: `Shopify payouts: ${result.error}` };
		const connection = result.value.shopifyPaymentsAccount?.payouts;
		if (!connection) return refused("Shopify payouts: the shop has no Shopify Payments account");
		const nodes = z.array(PayoutNode).safeParse(connection.nodes);
		const info = PageInfo.safeParse(connection.pageInfo);
		if (!nodes.success || !info.success) return refused(`Shopify payouts: unexpected answer${nodes.success ? "" : `: ${formatIssues(nodes.error)}`}`);
		for (const node of nodes.data) {
			try {
				const net = toMinorUnits(String(node.net.amount), node.net.currencyCode);
				out.push({ id: numeric(node.legacyResourceId), issuedAt: node.issuedAt, net: { amount: node.transactionType === "WITHDRAWAL" ? -net : net, currency: node.net.currencyCode }, status: node.status });
			} catch (error) {
				return refused(`Shopify payout ${node.legacyResourceId}: net: ${(error as Error).message}`);
			}
		}
		if (!info.data.hasNextPage) return { ok: true, value: out };
		if (!info.data.endCursor || info.data.endCursor === after) return refused("Shopify payouts: pageInfo has a next page but no new cursor");
		after = info.data.endCursor;
	}
	return refused(`Shopify payouts: more than ${MAX_PAGES} pages`);
}

function toPayout(connection: string, payout: z.infer<typeof PayoutNode>, transactions: BalanceTransaction[]): Payout {
	const currency = payout.net.currencyCode;
	const read = (value: string | number | undefined | null, field: string) => {
		try {
			return value === null || value === undefined || String(value).trim() === "" ? 0 : toMinorUnits(String(value), currency);
		} catch (error) {
			throw new RangeError(`${field}: ${(error as Error).message}`);
		}
	};
	const net = read(payout.net.amount, "net");
	const lines: SettlementLine[] = [];
	const seen = new Set<string>();
	transactions.forEach((t, i) => {
		const at = `balanceTransactions[${i}] (${t.id})`;
		if (t.amount.currencyCode !== currency) throw new RangeError(`${at}.amount: ${t.amount.currencyCode}, but the payout is in ${currency}`);
		// The payout's own transfer out of the balance is the payout, not a line of it.
		if (t.type === "TRANSFER") return;
		if (seen.has(t.id)) return;
		seen.add(t.id);
		const gross = read(t.amount.amount, `${at}.amount`);
		const fee = read(t.fee?.amount, `${at}.fee`);
		if (t.net && read(t.net.amount, `${at}.net`) !== gross - fee) throw new RangeError(`${at}: net ${t.net.amount} is not amount ${t.amount.amount} less fee ${t.fee?.amount ?? 0}`);
		lines.push(toLine(t, gross, fee, currency));
	});
	return {
		connection,
		channel: "shopify",
		payoutId: numeric(payout.legacyResourceId),
		currency,
		// "The payout only contains balance transactions that were available at this time."
		periodEnd: payout.issuedAt,
		// GraphQL gives the issue time, not the bank's value date (REST's `date`).
		paidAt: payout.issuedAt,
		total: { amount: payout.transactionType === "WITHDRAWAL" ? -net : net, currency },
		lines,
	};
}

function toLine(t: BalanceTransaction, gross: number, fee: number, currency: string): SettlementLine {
	const fees: SettlementFee[] = [];
	const add = (code: string, category: FeeCategory | null, amount: number) => {
		if (amount !== 0) fees.push({ code, category, amount: { amount, currency } });
	};
	let kind: SettlementLineKind;
	let amount = 0;
	if (t.type === "CHARGE" || t.type === "REFUND") {
		kind = t.type === "CHARGE" ? "order" : "refund";
		amount = gross;
		add("fee", "payment_processing", -fee);
	} else {
		const known = Object.hasOwn(KINDS, t.type) ? KINDS[t.type]! : null;
		kind = known?.kind ?? "other";
		const code = t.type === "ADJUSTMENT" && t.adjustmentReason ? t.adjustmentReason : t.type.toLowerCase();
		add(code, known?.category ?? null, gross);
		add(`${t.type.toLowerCase()}_fee`, known?.category ?? null, -fee);
	}
	const orderId = t.associatedOrder?.id ? numeric(t.associatedOrder.id) : undefined;
	const refundId = t.type === "REFUND" && t.sourceId != null ? String(t.sourceId) : undefined;
	return {
		id: numeric(t.id),
		kind,
		...(orderId ? { channelOrderId: orderId } : {}),
		...(refundId ? { channelRefundId: refundId } : {}),
		...(t.transactionDate ? { postedAt: t.transactionDate } : {}),
		amount: { amount, currency },
		fees,
		...(t.type !== "CHARGE" && t.type !== "REFUND" ? { description: t.adjustmentReason ? `${t.type}: ${t.adjustmentReason}` : t.type } : {}),
	};
}
