import type { CanonicalOrder, Refund } from "../../model/order";
import { currencyExponent } from "../../model/money";
import type { CallResult } from "../call";
import type { BookedConnection, NetSuite } from "./account";
import { findByExternalId, itemIds, patch, type RecordRef, transform, upsert } from "./client";

/**
 * Orders into NetSuite: one transaction per order with its lines (never a daily lump), then what
 * happens to it. External ids are ordersync's own keys, so each effect exists once:
 *   order `<order key>` (sales order or cash sale), fulfilment `ful:<shipment>`, invoice
 *   `inv:<shipment>`, credit memo `cm:<order key>:<refund>`, cash refund `cr:<order key>:<refund>`.
 */

type Options = { timeoutMs: number };
/** Each SO line carries the channel's line id, so later transforms find their lines by it, not by position. */
const LINE_FIELD = "custcol_ordersync_line";

/** Minor units as the major-unit number NetSuite's JSON takes (1999 USD → 19.99). */
export function major(minor: number, currency: string): number {
	return minor / 10 ** currencyExponent(currency);
}

export function bookingFor(account: NetSuite, connection: string): BookedConnection | null {
	return account.connections[connection] ?? null;
}

const sum = (list: Array<{ amount: { amount: number } }>) => list.reduce((n, x) => n + x.amount.amount, 0);

/**
 * The transaction's item lines: products at their unit price, then one line each for discounts,
 * shipping and tax. They must add up to the channel's total: if they do not, the order is not
 * booked (a permanent failure an operator sees), rather than balanced by an invented line.
 */
export function orderLines(order: CanonicalOrder, items: Map<string, string>, account: NetSuite): CallResult<Array<Record<string, unknown>>> {
	const c = order.currency;
	const lines: Array<Record<string, unknown>> = [];
	let total = 0;
	for (const line of order.lines) {
		if (line.quantity === 0) continue;
		const item = line.sku === null ? undefined : items.get(line.sku);
		if (!item) return { ok: false, retryable: false, error: `line ${line.channelLineId} (${line.title}) has no SKU NetSuite knows` };
		const amount = line.unitPrice.amount * line.quantity;
		total += amount;
		lines.push({ item: { id: item }, quantity: line.quantity, rate: major(line.unitPrice.amount, c), amount: major(amount, c), description: line.title, [LINE_FIELD]: line.channelLineId });
	}
	const extra = (item: string, amount: number, description: string, key: string) => {
		if (amount === 0) return;
		total += amount;
		lines.push({ item: { id: item }, quantity: 1, amount: major(amount, c), description, [LINE_FIELD]: key });
	};
	const discounts = order.lines.reduce((n, l) => n + sum(l.discounts), 0) + order.shippingLines.reduce((n, l) => n + sum(l.discounts), 0);
	extra(account.discountItem, -discounts, "Discounts", "discount");
	extra(account.shippingItem, order.shippingLines.reduce((n, l) => n + l.price.amount, 0), order.shippingLines.map((l) => l.title).join(", ") || "Shipping", "shipping");
	if (!order.taxesIncluded) extra(account.taxItem, sum(order.taxes), order.taxes.map((t) => t.title).join(", ") || "Tax", "tax");
	if (total !== order.total.amount) {
		return { ok: false, retryable: false, error: `${order.channelOrderName}: lines, discounts, shipping and tax add up to ${major(total, c)} ${c}, but the channel's total is ${major(order.total.amount, c)} ${c}` };
	}
	return { ok: true, value: lines };
}

/** Books the order as its connection says (sales order or cash sale), by upsert on the order key. */
export async function bookOrder(account: NetSuite, orderKey: string, order: CanonicalOrder, options: Options): Promise<CallResult<{ skipped: string } | RecordRef>> {
	const booking = bookingFor(account, order.connection);
	if (!booking) return { ok: true, value: { skipped: `${order.connection} is not booked in NetSuite` } };
	// Cancelled while its booking waited for a retry: there is nothing to book any more.
	if (order.cancelledAt) return { ok: true, value: { skipped: "cancelled before it was booked" } };
	const skus = order.lines.flatMap((l) => (l.sku === null || l.quantity === 0 ? [] : [l.sku]));
	const items = await itemIds(account, skus, options);
	if (!items.ok) return items;
	const lines = orderLines(order, items.value, account);
	if (!lines.ok) return lines;
	return upsert(
		account,
		booking.transaction,
		orderKey,
		{
			entity: { id: booking.customer },
			tranDate: order.createdAt.slice(0, 10),
			otherRefNum: order.channelOrderName,
			memo: `${order.channel} order ${order.channelOrderName} (${order.connection})`,
			currency: { refName: order.currency },
			...(account.subsidiary ? { subsidiary: { id: account.subsidiary } } : {}),
			...(booking.transaction === "cashSale" ? { undepFunds: true } : {}),
			item: { items: lines.value },
		},
		options,
	);
}

type SoLine = { line: number; quantity?: number; isClosed?: boolean; [LINE_FIELD]?: string };

/** The booked sales order with its lines; null when there is none. */
async function salesOrder(account: NetSuite, orderKey: string, options: Options): Promise<CallResult<{ ref: RecordRef; lines: SoLine[] } | null>> {
	const found = await findByExternalId(account, "salesOrder", orderKey, options);
	if (!found.ok) return found;
	if (!found.value) return { ok: true, value: null };
	const lines = ((found.value.item as { items?: SoLine[] } | undefined)?.items ?? []).filter((l) => typeof l.line === "number");
	return { ok: true, value: { ref: { type: "salesOrder", id: found.value.id }, lines } };
}

/**
 * One shipment: an item fulfilment of its lines from the sales order, then an invoice for them
 * ("bill on fulfilment"). The first shipment's invoice also bills the order's discount, shipping
 * and tax lines. A cash sale was final when booked, so it has nothing to add.
 */
export async function bookShipment(
	account: NetSuite,
	input: { orderKey: string; connection: string; shipmentId: string; shippedAt: string; first: boolean; lines: Array<{ channelLineId: string; quantity: number }> },
	options: Options,
): Promise<CallResult<{ skipped: string } | { fulfillment: string; invoice: string }>> {
	const booking = bookingFor(account, input.connection);
	if (!booking || booking.transaction === "cashSale") return { ok: true, value: { skipped: booking ? "cash sale: nothing to fulfil" : `${input.connection} is not booked in NetSuite` } };
	const so = await salesOrder(account, input.orderKey, options);
	if (!so.ok) return so;
	if (!so.value) return { ok: false, retryable: true, error: `NetSuite has no sales order ${input.orderKey} yet` };
	const picked: Array<{ orderLine: number; quantity: number }> = [];
	for (const shipped of input.lines) {
		const line = so.value.lines.find((l) => l[LINE_FIELD] === shipped.channelLineId);
		if (!line) return { ok: false, retryable: false, error: `sales order ${input.orderKey} has no line for ${shipped.channelLineId}` };
		picked.push({ orderLine: line.line, quantity: shipped.quantity });
	}
	const fulfillment = await transform(account, so.value.ref, "itemFulfillment", `ful:${input.shipmentId}`, { tranDate: input.shippedAt.slice(0, 10), item: { items: picked.map((p) => ({ ...p, itemReceive: true })) } }, options);
	if (!fulfillment.ok) return fulfillment;
	const charges = input.first ? so.value.lines.filter((l) => ["discount", "shipping", "tax"].includes(l[LINE_FIELD] ?? "")).map((l) => ({ orderLine: l.line, quantity: 1 })) : [];
	const invoice = await transform(account, so.value.ref, "invoice", `inv:${input.shipmentId}`, { tranDate: input.shippedAt.slice(0, 10), item: { items: [...picked, ...charges] } }, options);
	if (!invoice.ok) return invoice;
	return { ok: true, value: { fulfillment: fulfillment.value.id, invoice: invoice.value.id } };
}

/** A cancelled order's sales order is closed: every line not fully fulfilled is marked closed. */
export async function closeOrder(account: NetSuite, input: { orderKey: string; connection: string }, options: Options): Promise<CallResult<{ skipped: string } | RecordRef>> {
	const booking = bookingFor(account, input.connection);
	if (!booking || booking.transaction === "cashSale") return { ok: true, value: { skipped: booking ? "cash sale: the channel's refund reverses it" : `${input.connection} is not booked in NetSuite` } };
	const so = await salesOrder(account, input.orderKey, options);
	if (!so.ok) return so;
	// The close runs after the booking; no sales order then means it was never booked (cancelled first).
	if (!so.value) return { ok: true, value: { skipped: "never booked" } };
	const open = so.value.lines.filter((l) => !l.isClosed);
	if (open.length === 0) return { ok: true, value: so.value.ref };
	return patch(account, so.value.ref, { item: { items: open.map((l) => ({ line: l.line, isClosed: true })) } }, options);
}

/**
 * A refund: a credit memo against the sales order, or a cash refund of the cash sale paid out of
 * the clearing account (the payout that withholds it clears it). One line per refunded item.
 */
export async function bookRefund(account: NetSuite, input: { orderKey: string; connection: string; currency: string; refund: Refund; skus: Record<string, string | null> }, options: Options): Promise<CallResult<{ skipped: string } | RecordRef>> {
	const booking = bookingFor(account, input.connection);
	if (!booking) return { ok: true, value: { skipped: `${input.connection} is not booked in NetSuite` } };
	const refunded = input.refund.lines.filter((l) => l.amount.amount !== 0);
	if (refunded.length === 0) return { ok: true, value: { skipped: "nothing refunded in money" } };
	const items = await itemIds(account, refunded.flatMap((l) => (input.skus[l.channelLineId] ? [input.skus[l.channelLineId]!] : [])), options);
	if (!items.ok) return items;
	const lines = refunded.map((l) => {
		const sku = input.skus[l.channelLineId];
		return { item: { id: (sku && items.value.get(sku)) || account.discountItem }, quantity: l.quantity || 1, amount: major(l.amount.amount, input.currency), [LINE_FIELD]: l.channelLineId };
	});
	const cash = booking.transaction === "cashSale";
	const from = await findByExternalId(account, booking.transaction, input.orderKey, options);
	if (!from.ok) return from;
	if (!from.value) return { ok: false, retryable: true, error: `NetSuite has no ${booking.transaction} ${input.orderKey} yet` };
	return upsert(
		account,
		cash ? "cashRefund" : "creditMemo",
		`${cash ? "cr" : "cm"}:${input.orderKey}:${input.refund.channelRefundId}`,
		{
			entity: { id: booking.customer },
			createdFrom: { id: from.value.id },
			tranDate: input.refund.createdAt.slice(0, 10),
			memo: `refund ${input.refund.channelRefundId} of ${input.orderKey}`,
			currency: { refName: input.currency },
			...(cash ? { account: { id: account.accounts.clearing } } : {}),
			item: { items: lines },
		},
		options,
	);
}
