// How the console shows things: a label and an outcome tone per flow event (the choices of
// demo/live-log.mjs, kept for a screen that shows every event rather than a chosen few), money
// from integer minor units, times and ages. Pure: no Ink here, so it can be tested on its own.
import type { FlowEvent, Money } from "./protocol";

/** What an outcome means to an operator; views map each to a colour (see `toneStyle`). */
export type Tone = "done" | "finished" | "moving" | "waiting" | "operator" | "routine" | "plain";

export type ToneStyle = { color?: "green" | "cyan" | "yellow" | "red"; dimColor?: boolean; bold?: boolean };

/** green done, cyan on its way, yellow waiting or changed, red needs an operator, dim routine. */
export const toneStyle: Record<Tone, ToneStyle> = {
	done: { color: "green" },
	finished: { color: "green", bold: true },
	moving: { color: "cyan" },
	waiting: { color: "yellow" },
	operator: { color: "red" },
	routine: { dimColor: true },
	plain: {},
};

const TONE: Record<string, Tone> = {
	received: "moving",
	reserved: "done",
	fulfilled: "done",
	partially_fulfilled: "moving",
	delivered: "finished",
	backordered: "waiting",
	cancelled: "waiting",
	duplicate: "routine",
	stale: "routine",
	ignored: "routine",
	quarantined: "operator",
	failed: "operator",
	gap: "operator",
	replayed: "moving",
	released: "waiting",
	committed: "done",
	allocated: "done",
	routed: "moving",
	accepted: "moving",
	unroutable: "operator",
	"dead-lettered": "operator",
	retrying: "waiting",
	sent: "routine",
	pushed: "routine",
	"cancelled.at-3pl": "waiting",
	"cancel.too-late": "operator",
	"stock.arrived": "moving",
	"delivery.cancelled": "waiting",
	"fulfilled.on-channel": "done",
	"tracking.on-channel": "routine",
	"console.missed": "waiting",
	// Money: a payout arrives, is matched to its orders, and is booked as a deposit; each order is
	// booked in the ERP as it moves, and marked settled when a payout pays it.
	"payout.received": "moving",
	"payout.reconciled": "done",
	"payout.posted": "finished",
	settled: "done",
	"erp.booked": "done",
	"erp.fulfilled": "done",
	"erp.closed": "routine",
	"erp.refunded": "waiting",
};

/** What a person calls an event, where its type does not read well. */
const LABELS: Record<string, string> = {
	partially_fulfilled: "part shipped",
	"fulfilled.on-channel": "on channel",
	"tracking.on-channel": "tracking relayed",
	"cancelled.at-3pl": "cancelled at 3PL",
	"cancel.too-late": "cancel too late",
	"stock.arrived": "stock arrived",
	"delivery.cancelled": "call cancelled",
	"console.missed": "missed",
	"payout.received": "payout received",
	"payout.reconciled": "reconciled",
	"payout.posted": "payout posted",
	"erp.booked": "ERP booked",
	"erp.fulfilled": "ERP fulfilled",
	"erp.closed": "ERP closed",
	"erp.refunded": "ERP refunded",
};

const WHAT: Record<string, string> = {
	received: "webhook stored",
	duplicate: "redelivery, already had it",
	stale: "older version arrived late, kept the newer one",
	ignored: "topic not handled, acknowledged",
	quarantined: "signed but unreadable, quarantined",
};

/** Carrier statuses (EasyPost's names): what they read as, and their tone. */
const TRACKING: Record<string, [string, Tone]> = {
	pre_transit: ["label created", "routine"],
	in_transit: ["in transit", "moving"],
	out_for_delivery: ["out for delivery", "moving"],
	available_for_pickup: ["at pickup point", "waiting"],
	delivered: ["parcel delivered", "done"],
	return_to_sender: ["returning", "operator"],
	failure: ["parcel lost", "operator"],
	error: ["carrier error", "operator"],
	cancelled: ["label voided", "waiting"],
	unknown: ["no scan yet", "routine"],
};

export type Described = { label: string; tone: Tone; text: string };

/** A label, a tone and a one-line text for any flow event, known type or not. */
export function describeFlow(event: FlowEvent): Described {
	const type = event.type;
	const detail = event.detail ?? "";
	const sku = event.sku ?? "";
	if (type.startsWith("line.")) {
		const outcome = type.slice(5);
		// Each shipment commits its units: routine, unless the units were not on hand.
		if (outcome === "committed" && detail.includes("not on hand")) return { label: "committed short", tone: "waiting", text: `${sku} ${detail}` };
		return { label: outcome, tone: outcome === "committed" ? "routine" : (TONE[outcome] ?? "plain"), text: `${sku} ${detail}`.trim() };
	}
	if (type === "sent") {
		// "3pl.order → 3pl:shipbob (attempt 2)": a call that needed retries is worth noticing.
		const retried = / \(attempt (\d+)\)$/.test(detail);
		return { label: retried ? "retried ok" : "sent", tone: retried ? "waiting" : "routine", text: detail };
	}
	if (type.startsWith("tracking.") && type !== "tracking.on-channel") {
		const status = type.slice(9);
		const [label, tone] = TRACKING[status] ?? [status.replaceAll("_", " "), "plain" as Tone];
		return { label, tone, text: detail };
	}
	if (type.startsWith("shipment.")) {
		const status = type.slice(9);
		// "<shipment id>: 2 units via USPS 9400…"
		const m = /^(\S+): (.*)$/.exec(detail);
		const text = m ? `${m[2]} · parcel ${m[1]}` : detail;
		return { label: status === "shipped" ? "shipped" : `shipment ${status}`, tone: status === "shipped" ? "moving" : "waiting", text };
	}
	if (type === "payout.reconciled") {
		// "payout 123: 3/4 matched, 1 exception": a payout with exceptions is not done with.
		const exceptions = Number(/(\d+) exceptions?\b/.exec(detail)?.[1] ?? 0);
		return { label: LABELS[type]!, tone: exceptions > 0 ? "waiting" : "done", text: detail };
	}
	const label = LABELS[type] ?? type;
	const tone = TONE[type] ?? "plain";
	const what = WHAT[type];
	if (what !== undefined) {
		const text = event.topic ? `${event.topic} · ${what}` : what;
		return { label, tone, text: type === "quarantined" && detail ? `${text} (${detail})` : text };
	}
	if (type === "pushed" || type === "stock.arrived") return { label, tone, text: `${sku} ${detail}`.trim() };
	return { label, tone, text: detail };
}

/** Who an event is about, for the narrow column: the order's name, else its key, SKU or connection. */
export function flowSubject(event: FlowEvent, nameOf: (orderKey: string) => string | undefined = () => undefined): string {
	if (event.orderName) return event.orderName;
	if (event.orderKey) return nameOf(event.orderKey) ?? event.orderKey.slice(event.orderKey.lastIndexOf(":") + 1);
	return event.sku ?? event.connection ?? event.channel ?? "";
}

/** HH:MM:SS in UTC, the clock the worker writes in. */
export function formatTime(iso: string | null | undefined): string {
	if (!iso) return "--:--:--";
	const ms = Date.parse(iso);
	return Number.isNaN(ms) ? iso.slice(0, 8) : new Date(ms).toISOString().slice(11, 19);
}

/** How long ago, coarsely: "12s", "5m", "3h", "2d". */
export function formatAge(iso: string, now: number): string {
	const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
	if (Number.isNaN(seconds)) return "?";
	if (seconds < 60) return `${seconds}s`;
	if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
	if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
	return `${Math.floor(seconds / 86_400)}d`;
}

/** Milliseconds as seconds with one decimal: "2.1 s". */
export function formatSeconds(ms: number): string {
	return `${(Math.round(ms / 100) / 10).toFixed(1)} s`;
}

function currencyFormat(currency: string): Intl.NumberFormat | null {
	try {
		return new Intl.NumberFormat("en-US", { style: "currency", currency });
	} catch {
		return null;
	}
}

/** Integer minor units as a decimal string in the currency's exponent (JPY 0, USD 2, KWD 3): no float involved. */
function decimalOf(amount: number, format: Intl.NumberFormat): string {
	const exponent = format.resolvedOptions().maximumFractionDigits ?? 2;
	const digits = Math.abs(amount).toString().padStart(exponent + 1, "0");
	const decimal = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
	return `${amount < 0 ? "-" : ""}${decimal}`;
}

/**
 * Money from integer minor units. The decimal string is built from the integer's digits and the
 * currency's exponent (JPY 0, USD 2, KWD 3) and handed to Intl as a string, so no float is involved.
 */
export function formatMoney({ amount, currency }: Money): string {
	const format = currencyFormat(currency);
	if (!format) return `${amount} ${currency} (minor units)`;
	return format.format(decimalOf(amount, format) as Intl.StringNumericLiteral);
}

/** Money for scripts and logs: "1234.50 USD", "-2.50 EUR", "1500 JPY" (no symbols, no grouping). */
export function formatAmount({ amount, currency }: Money): string {
	const format = currencyFormat(currency);
	return format ? `${decimalOf(amount, format)} ${currency}` : `${amount} ${currency} (minor units)`;
}

// ---------------------------------------------------------------- payouts

/** A payout's state in the list: matching, then reconciled (and, with an ERP, posting → posted, or failed). */
export function payoutStatusTone(status: string): Tone {
	switch (status) {
		case "matching":
			return "waiting";
		case "reconciled":
			return "done";
		case "posting":
			return "moving";
		case "posted":
			return "finished";
		case "failed":
			return "operator";
		default:
			return "plain";
	}
}

/** Where a payout's ERP postings stand; `reconciled` there means nothing is booked in an ERP. */
export function erpStatusText(erp: string): [string, Tone] {
	if (erp === "reconciled") return ["not booked", "routine"];
	return [erp, erp === "failed" ? "operator" : erp === "posted" ? "finished" : erp === "posting" ? "moving" : "plain"];
}

/** How a payout line matched its order: green matched, dim partial or not an order's, yellow or red otherwise. */
export const LINE_STATUS: Record<string, [string, Tone]> = {
	matched: ["matched", "done"],
	partial: ["partial", "routine"],
	other: ["other", "routine"],
	already_settled: ["already settled", "waiting"],
	unknown_order: ["unknown order", "operator"],
	amount_mismatch: ["amount mismatch", "operator"],
	currency_mismatch: ["wrong currency", "operator"],
	unknown_refund: ["unknown refund", "operator"],
};

export function lineStatusText(status: string): [string, Tone] {
	return LINE_STATUS[status] ?? [status.replaceAll("_", " "), "waiting"];
}

/** Fee categories (the worker's names), in the order a statement lists them. */
const FEE_LABELS: Record<string, string> = {
	commission: "commission",
	payment_processing: "payment processing",
	fulfillment: "fulfillment",
	shipping_label: "shipping labels",
	affiliate: "affiliate",
	promotion: "promotion",
	advertising: "advertising",
	tax_withheld: "tax withheld",
	other: "other fees",
	unmapped: "unmapped",
	adjustment: "adjustment",
	reserve: "reserve",
};

/** Categories that move the seller's own money rather than charge a fee: the summary's `adjustments`. */
export const ADJUSTMENT_CATEGORIES = new Set(["adjustment", "reserve"]);

/** A summary's fee buckets as [label, amount], known categories first in statement order, and whether each is an adjustment. */
export function feeBreakdown(fees: Record<string, number>): Array<{ category: string; label: string; amount: number; adjustment: boolean }> {
	const order = Object.keys(FEE_LABELS);
	return Object.entries(fees)
		.sort(([a], [b]) => (order.indexOf(a) === -1 ? 99 : order.indexOf(a)) - (order.indexOf(b) === -1 ? 99 : order.indexOf(b)))
		.map(([category, amount]) => ({ category, label: FEE_LABELS[category] ?? category.replaceAll("_", " "), amount, adjustment: ADJUSTMENT_CATEGORIES.has(category) }));
}

/** The fees proper: every bucket but the adjustments (which the summary adds up on their own). */
export function feeTotal(fees: Record<string, number>): number {
	return Object.entries(fees).reduce((n, [category, amount]) => (ADJUSTMENT_CATEGORIES.has(category) ? n : n + amount), 0);
}

/** A date as YYYY-MM-DD (UTC), or "—". */
export function formatDate(iso: string | null | undefined): string {
	if (!iso) return "—";
	const ms = Date.parse(iso);
	return Number.isNaN(ms) ? iso.slice(0, 10) : new Date(ms).toISOString().slice(0, 10);
}

/** "3/4 (75%)" */
export function matchedText(matched: { lines: number; of: number; percent: number }): string {
	return `${matched.lines}/${matched.of} (${matched.percent}%)`;
}

/** A body as lines: pretty-printed when it is JSON, as sent when it is not. */
export function prettyBody(body: string): string[] {
	try {
		return JSON.stringify(JSON.parse(body), null, 2).split("\n");
	} catch {
		return body.split(/\r?\n/);
	}
}

/** Any value as pretty JSON lines. */
export function prettyJson(value: unknown): string[] {
	return (JSON.stringify(value, null, 2) ?? String(value)).split("\n");
}

/** Fits text into a column of `width`, marking a cut with "…". */
export const column = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width));

/** Breaks text into lines of at most `width` characters, at spaces where it can. */
export function wrapText(text: string, width: number): string[] {
	const lines: string[] = [];
	for (const paragraph of text.split("\n")) {
		let rest = paragraph;
		while (rest.length > width) {
			const space = rest.lastIndexOf(" ", width);
			const cut = space > width / 2 ? space : width;
			lines.push(rest.slice(0, cut));
			rest = rest.slice(cut).trimStart();
		}
		lines.push(rest);
	}
	return lines;
}

/**
 * A short reading of an audit entry's cause: the order and line it was for, bare (they are what
 * an operator looks for, and keys are long), then its other plain fields as `key=value`.
 */
export function summarizeCause(cause: unknown): string {
	if (cause === null || cause === undefined) return "";
	if (typeof cause !== "object") return String(cause);
	return Object.entries(cause)
		.filter(([, value]) => value !== null && value !== undefined && typeof value !== "object")
		.sort(([a], [b]) => Number(b === "orderKey") - Number(a === "orderKey") || Number(b === "lineId") - Number(a === "lineId"))
		.map(([key, value]) => (key === "orderKey" || key === "lineId" ? String(value) : `${key}=${String(value)}`))
		.join(" ");
}

/** A signed delta: "+2", "-1", "0". */
export function signed(n: number): string {
	return n > 0 ? `+${n}` : String(n);
}
