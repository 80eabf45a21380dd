import { z } from "zod";
import type { CallResult } from "../call";
import type { NetSuite } from "./account";
import { findByExternalId, type RecordRef, upsert } from "./client";
import { bookingFor, major } from "./orders";

/**
 * Payouts into NetSuite: the channel's payment for each order lands in undeposited funds (a
 * customer deposit on its sales order; a cash sale is already there), refunds the channel paid out
 * are customer refunds from the clearing account, and one bank deposit per payout takes in the
 * receipts and books fees, refunds and variances as its other and cash-back lines, so that it
 * equals what reached the bank.
 */

type Options = { timeoutMs: number };

const Money = z.number().int();
const Line = z.object({ account: z.string(), amount: Money.positive(), memo: z.string() });

export const PaymentPayload = z.object({
	payoutKey: z.string(),
	connection: z.string(),
	orderKey: z.string(),
	orderName: z.string(),
	externalId: z.string(),
	amount: Money.positive(),
	currency: z.string(),
	tranDate: z.string(),
});
export const RefundPaymentPayload = PaymentPayload;
export const DepositPayload = z.object({
	payoutKey: z.string(),
	connection: z.string(),
	currency: z.string(),
	tranDate: z.string(),
	memo: z.string(),
	payments: z.array(z.object({ type: z.enum(["customerDeposit", "cashSale"]), externalId: z.string(), amount: Money.positive() })),
	other: z.array(Line),
	cashBack: z.array(Line),
});

function booked(account: NetSuite, connection: string) {
	const booking = bookingFor(account, connection);
	return booking ? { ok: true as const, booking } : { ok: false as const, retryable: false, error: `${connection} is not booked in NetSuite` };
}

/** The channel's payment for one order: a customer deposit on its sales order, into undeposited funds. */
export async function postOrderPayment(account: NetSuite, input: z.infer<typeof PaymentPayload>, options: Options): Promise<CallResult<RecordRef>> {
	const b = booked(account, input.connection);
	if (!b.ok) return b;
	const so = await findByExternalId(account, "salesOrder", input.orderKey, options);
	if (!so.ok) return so;
	if (!so.value) return { ok: false, retryable: true, error: `NetSuite has no sales order ${input.orderKey} yet` };
	return upsert(
		account,
		"customerDeposit",
		input.externalId,
		{
			customer: { id: b.booking.customer },
			salesOrder: { id: so.value.id },
			payment: major(input.amount, input.currency),
			undepFunds: true,
			tranDate: input.tranDate,
			currency: { refName: input.currency },
			memo: `${input.orderName}: paid by payout ${input.payoutKey}`,
		},
		options,
	);
}

/** A refund the channel took out of the payout: a customer refund paid from the clearing account. */
export async function postRefundPayment(account: NetSuite, input: z.infer<typeof RefundPaymentPayload>, options: Options): Promise<CallResult<RecordRef>> {
	const b = booked(account, input.connection);
	if (!b.ok) return b;
	return upsert(
		account,
		"customerRefund",
		input.externalId,
		{
			customer: { id: b.booking.customer },
			account: { id: account.accounts.clearing },
			total: major(input.amount, input.currency),
			tranDate: input.tranDate,
			currency: { refName: input.currency },
			memo: `${input.orderName}: refunded in payout ${input.payoutKey}`,
		},
		options,
	);
}

/** The bank deposit for the whole payout; it must come to the payout's amount (checked before it is queued). */
export async function postDeposit(account: NetSuite, input: z.infer<typeof DepositPayload>, options: Options): Promise<CallResult<RecordRef>> {
	const b = booked(account, input.connection);
	if (!b.ok) return b;
	const payments: Array<Record<string, unknown>> = [];
	for (const payment of input.payments) {
		const found = await findByExternalId(account, payment.type, payment.externalId, options);
		if (!found.ok) return found;
		if (!found.value) return { ok: false, retryable: true, error: `NetSuite has no ${payment.type} ${payment.externalId} yet` };
		payments.push({ id: found.value.id, deposit: true, paymentAmount: major(payment.amount, input.currency) });
	}
	const lines = (list: Array<z.infer<typeof Line>>) => list.map((l) => ({ account: { id: l.account }, amount: major(l.amount, input.currency), memo: l.memo.slice(0, 999) }));
	return upsert(
		account,
		"deposit",
		`dep:${input.payoutKey}`,
		{
			account: { id: b.booking.bank ?? account.accounts.bank },
			tranDate: input.tranDate,
			currency: { refName: input.currency },
			memo: input.memo,
			payment: { items: payments },
			other: { items: lines(input.other) },
			cashBack: { items: lines(input.cashBack) },
		},
		options,
	);
}
