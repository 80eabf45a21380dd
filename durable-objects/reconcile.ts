import type { NetSuiteAccount } from "../worker/connectors/netsuite/account";
import { type FeeCategory, lineNet, type Payout, type SettlementFee, type SettlementLine } from "../worker/model/settlement";

/** What a payout's matching needs to know about one order, from its OrderFlow. */
export type OrderFacts = {
	orderKey: string;
	name: string;
	currency: string;
	total: number;
	/** Refund ids the order knows (from the channel's order or its refund webhooks). */
	refundIds: string[];
	/** Gross already settled for this order by other payouts. */
	settledBefore: number;
};

export type LineStatus = "matched" | "partial" | "unknown_order" | "amount_mismatch" | "currency_mismatch" | "unknown_refund" | "already_settled" | "other";

export type ReconciledLine = {
	id: string;
	kind: SettlementLine["kind"];
	channelOrderId?: string;
	orderKey?: string;
	orderName?: string;
	status: LineStatus;
	amount: number;
	fees: number;
	net: number;
	/** What the order said was owed, for order lines. */
	expected?: number;
	/** Booked to the variance account for this line. */
	variance: number;
};

export type SettlementException = { id: string; reason: string; variance: number };

/** A receipt the deposit takes in: a customer deposit on a sales order, or the cash sale itself. */
export type PaymentPosting = { orderKey: string; orderName: string; type: "customerDeposit" | "cashSale"; externalId: string; amount: number };
export type RefundPosting = { lineId: string; orderKey: string; orderName: string; externalId: string; amount: number };
export type DepositLine = { account: string; amount: number; memo: string };

export type Reconciliation = {
	currency: string;
	total: number;
	summary: {
		grossSales: number;
		refunds: number;
		fees: Partial<Record<FeeCategory | "unmapped", number>>;
		adjustments: number;
		net: number;
		/** Order and refund lines matched to their order without a variance, of all such lines. */
		matched: { lines: number; of: number; percent: number };
		variance: number;
	};
	lines: ReconciledLine[];
	exceptions: SettlementException[];
	postings: { payments: PaymentPosting[]; refunds: RefundPosting[]; other: DepositLine[]; cashBack: DepositLine[] };
};

/** Categories that are movements of the seller's own money rather than fees. */
const ADJUSTMENTS = new Set<FeeCategory>(["adjustment", "reserve"]);

type Booking = { transaction: "salesOrder" | "cashSale" } | null;

/**
 * Matches every line of a payout to its order, categorizes every fee onto its GL account, and
 * plans the postings whose deposit equals the bank payout to the cent. Whatever does not match
 * (unknown order, wrong amount, unknown refund, unmapped fee, lines that do not add up to the
 * payout) is an exception whose variance is booked to the variance account, line by line.
 *
 * Channels that settle per shipment (Amazon) may pay part of an order; the rest stays open. Others
 * settle whole orders, so a short payment is a mismatch.
 */
export function reconcile(
	payout: Payout,
	orders: Map<string, OrderFacts | null>,
	accounts: Pick<NetSuiteAccount["accounts"], "clearing" | "variance" | "fees">,
	booking: Booking,
): Reconciliation {
	const key = `${payout.connection}:${payout.payoutId}`;
	const c = payout.currency;
	const lines: ReconciledLine[] = [];
	const exceptions: SettlementException[] = [];
	const postings: Reconciliation["postings"] = { payments: [], refunds: [], other: [], cashBack: [] };
	const fees: Reconciliation["summary"]["fees"] = {};
	let grossSales = 0;
	let refunds = 0;
	let adjustments = 0;

	const book = (account: string, amount: number, memo: string) => {
		if (amount > 0) postings.other.push({ account, amount, memo });
		else if (amount < 0) postings.cashBack.push({ account, amount: -amount, memo });
	};
	const vary = (line: SettlementLine, amount: number, reason: string) => {
		exceptions.push({ id: line.id, reason, variance: amount });
		book(accounts.variance, amount, `variance: ${reason}`);
	};

	const feeOf = (line: SettlementLine, fee: SettlementFee) => {
		const account = fee.category === null ? undefined : accounts.fees[fee.category];
		const bucket = fee.category === null ? "unmapped" : fee.category;
		fees[bucket] = (fees[bucket] ?? 0) + fee.amount.amount;
		if (fee.category && ADJUSTMENTS.has(fee.category)) adjustments += fee.amount.amount;
		if (account) book(account, fee.amount.amount, `${fee.code} (${line.id})`);
		else vary(line, fee.amount.amount, fee.category === null ? `unknown ${payout.channel} fee "${fee.code}" on ${line.id}` : `no GL account for ${fee.category} ("${fee.code}" on ${line.id})`);
	};

	// Sales: all of one order's lines in this payout are matched together (Amazon pays per shipment).
	const byOrder = new Map<string, SettlementLine[]>();
	for (const line of payout.lines) {
		if (line.kind === "order" && line.channelOrderId) byOrder.set(line.channelOrderId, [...(byOrder.get(line.channelOrderId) ?? []), line]);
	}
	const partialAllowed = payout.channel === "amazon";
	const orderStatus = new Map<string, { status: LineStatus; expected?: number; variance: number }>();
	for (const [channelOrderId, group] of byOrder) {
		const gross = group.reduce((n, l) => n + l.amount.amount, 0);
		grossSales += gross;
		const facts = orders.get(channelOrderId) ?? null;
		const first = group[0]!;
		if (!facts) {
			vary(first, gross, `order ${channelOrderId} is not known to ordersync`);
			orderStatus.set(channelOrderId, { status: "unknown_order", variance: gross });
			continue;
		}
		if (facts.currency !== c) {
			vary(first, gross, `${facts.name} is in ${facts.currency}, the payout in ${c}`);
			orderStatus.set(channelOrderId, { status: "currency_mismatch", variance: gross });
			continue;
		}
		const outstanding = facts.total - facts.settledBefore;
		let paid: number;
		let status: LineStatus;
		if (booking?.transaction === "cashSale") {
			// A cash sale is deposited whole, once.
			paid = facts.settledBefore === 0 ? facts.total : 0;
			status = facts.settledBefore > 0 ? "already_settled" : gross === facts.total ? "matched" : "amount_mismatch";
		} else if (gross === outstanding) {
			[paid, status] = [gross, "matched"];
		} else if (gross < outstanding && gross > 0 && partialAllowed) {
			[paid, status] = [gross, "partial"];
		} else {
			paid = Math.max(0, outstanding);
			status = outstanding <= 0 ? "already_settled" : "amount_mismatch";
		}
		const variance = gross - paid;
		if (variance !== 0) {
			const what = status === "already_settled" ? `${facts.name} was already settled by another payout` : `${facts.name}: the payout pays ${gross}, the order owes ${outstanding}`;
			vary(first, variance, what);
		}
		orderStatus.set(channelOrderId, { status, expected: outstanding, variance });
		if (booking && paid > 0) {
			postings.payments.push(
				booking.transaction === "cashSale"
					? { orderKey: facts.orderKey, orderName: facts.name, type: "cashSale", externalId: facts.orderKey, amount: paid }
					: { orderKey: facts.orderKey, orderName: facts.name, type: "customerDeposit", externalId: `cd:${key}:${facts.orderKey}`, amount: paid },
			);
		}
	}

	for (const line of payout.lines) {
		const facts = line.channelOrderId ? (orders.get(line.channelOrderId) ?? null) : null;
		let status: LineStatus = "other";
		let variance = 0;
		let expected: number | undefined;
		if (line.kind === "order" && line.channelOrderId) {
			const group = orderStatus.get(line.channelOrderId)!;
			status = group.status;
			// The group's variance is reported once, on its first line.
			if (byOrder.get(line.channelOrderId)![0] === line) [variance, expected] = [group.variance, group.expected];
		} else if (line.kind === "order" || line.kind === "refund") {
			const amount = line.amount.amount;
			if (line.kind === "refund") refunds += amount;
			else grossSales += amount;
			if (!facts || line.kind === "order") {
				// A refund of an order ordersync never saw, or a sale that names no order at all.
				status = "unknown_order";
				variance = amount;
				vary(line, amount, `${line.kind} ${line.id} names ${line.channelOrderId ? `order ${line.channelOrderId}, which ordersync does not know` : "no order"}`);
			} else if (line.channelRefundId && !facts.refundIds.includes(line.channelRefundId)) {
				status = "unknown_refund";
				variance = amount;
				vary(line, amount, `refund ${line.channelRefundId} of ${facts.name} is not known to ordersync`);
			} else if (-amount > facts.total) {
				status = "amount_mismatch";
				variance = amount + facts.total;
				vary(line, variance, `refund ${line.id} of ${facts.name} is more than the order's total`);
				postRefund(line, facts, facts.total);
			} else {
				status = "matched";
				postRefund(line, facts, -amount);
			}
		}
		for (const fee of line.fees) feeOf(line, fee);
		const feeTotal = line.fees.reduce((n, f) => n + f.amount.amount, 0);
		lines.push({
			id: line.id,
			kind: line.kind,
			...(line.channelOrderId ? { channelOrderId: line.channelOrderId } : {}),
			...(facts ? { orderKey: facts.orderKey, orderName: facts.name } : {}),
			status,
			amount: line.amount.amount,
			fees: feeTotal,
			net: lineNet(line),
			...(expected === undefined ? {} : { expected }),
			variance,
		});
	}

	function postRefund(line: SettlementLine, facts: OrderFacts, amount: number) {
		if (amount === 0) return;
		// Refunds pass through clearing: the credit memo's customer refund (or the cash refund) credits it, the deposit clears it.
		book(accounts.clearing, -amount, `refund ${line.channelRefundId ?? line.id} of ${facts.name}`);
		if (booking?.transaction === "salesOrder") postings.refunds.push({ lineId: line.id, orderKey: facts.orderKey, orderName: facts.name, externalId: `crf:${key}:${line.id}`, amount });
	}

	const net = payout.lines.reduce((n, l) => n + lineNet(l), 0);
	if (net !== payout.total.amount) {
		const gap = payout.total.amount - net;
		exceptions.push({ id: "total", reason: `the payout's lines add up to ${net}, but it pays ${payout.total.amount}`, variance: gap });
		book(accounts.variance, gap, "variance: lines do not add up to the payout");
	}

	const tracked = lines.filter((l) => l.kind === "order" || l.kind === "refund");
	const matched = tracked.filter((l) => (l.status === "matched" || l.status === "partial") && l.variance === 0 && !exceptions.some((e) => e.id === l.id)).length;
	const variance = exceptions.reduce((n, e) => n + e.variance, 0);
	return {
		currency: c,
		total: payout.total.amount,
		summary: {
			grossSales,
			refunds,
			fees,
			adjustments,
			net,
			matched: { lines: matched, of: tracked.length, percent: tracked.length === 0 ? 100 : Math.floor((matched / tracked.length) * 1000) / 10 },
			variance,
		},
		lines,
		exceptions,
		postings,
	};
}

/** What the deposit adds up to: receipts and other deposits, less cash back. */
export function depositTotal(postings: Reconciliation["postings"]): number {
	const receipts = postings.payments.reduce((n, p) => n + p.amount, 0);
	const other = postings.other.reduce((n, l) => n + l.amount, 0);
	const back = postings.cashBack.reduce((n, l) => n + l.amount, 0);
	return receipts + other - back;
}
