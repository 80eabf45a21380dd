// In-memory stand-ins for the worker, for the console's component tests: an Ops that answers only
// what a test gave it (anything else is recorded in `unexpected` and thrown), and a Stream the
// test drives by hand. Plus builders for the worker's shapes with plausible defaults.
import { OpsError, type Ops, type Stream, type StreamListener, type StreamStatus } from "../../console/ports";
import type { ExceptionDetail, ExceptionItem, FlowEvent, OrderView, PayoutItem, PayoutReport, ReplayResult, SkuDetail } from "../../console/protocol";

type Answer<T> = T | OpsError | (() => T | OpsError | Promise<T>);

export type Given = {
	orders?: Record<string, Answer<OrderView>>;
	skus?: Record<string, Answer<SkuDetail>>;
	exceptions?: Answer<ExceptionItem[]>;
	details?: Record<string, Answer<ExceptionDetail>>;
	replay?: Record<string, Answer<ReplayResult>>;
	cancel?: Record<string, Answer<ReplayResult>>;
	payouts?: Answer<PayoutItem[]>;
	/** By payout key, `<connection>:<payout id>`. */
	reports?: Record<string, Answer<PayoutReport>>;
};

export class FakeOps implements Ops {
	readonly calls: string[] = [];
	readonly unexpected: string[] = [];
	constructor(readonly given: Given = {}) {}

	order(keyOrName: string) {
		return this.#answer(`order ${keyOrName}`, this.given.orders?.[keyOrName]);
	}
	sku(sku: string) {
		return this.#answer(`sku ${sku}`, this.given.skus?.[sku]);
	}
	exceptions(status: "open" | "resolved" | "all" = "open") {
		return this.#answer(`exceptions ${status}`, status === "open" ? this.given.exceptions : undefined);
	}
	exception(id: string) {
		return this.#answer(`exception ${id}`, this.given.details?.[id]);
	}
	replay(id: string) {
		return this.#answer(`replay ${id}`, this.given.replay?.[id]);
	}
	cancel(id: string) {
		return this.#answer(`cancel ${id}`, this.given.cancel?.[id]);
	}
	payouts() {
		return this.#answer("payouts", this.given.payouts);
	}
	payout(connection: string, payoutId: string) {
		return this.#answer(`payout ${connection}:${payoutId}`, this.given.reports?.[`${connection}:${payoutId}`]);
	}

	/** How many times a call was made, e.g. `count("replay q1")`. */
	count(call: string): number {
		return this.calls.filter((c) => c === call).length;
	}

	async #answer<T>(call: string, answer: Answer<T> | undefined): Promise<T> {
		this.calls.push(call);
		if (answer === undefined) {
			this.unexpected.push(call);
			throw new Error(`FakeOps was not given an answer for ${call}`);
		}
		const value = typeof answer === "function" ? await (answer as () => T | OpsError | Promise<T>)() : answer;
		if (value instanceof OpsError) throw value;
		return structuredClone(value);
	}
}

export class FakeStream implements Stream {
	readonly listeners = new Set<StreamListener>();
	closed = false;
	constructor(public current: StreamStatus = { state: "live", role: "operator", cursor: 0 }) {}

	subscribe(listener: StreamListener) {
		this.listeners.add(listener);
		listener.status?.(this.current);
		return () => void this.listeners.delete(listener);
	}
	close() {
		this.closed = true;
	}
	status(status: StreamStatus) {
		this.current = status;
		for (const l of this.listeners) l.status?.(status);
	}
	events(...events: FlowEvent[]) {
		for (const l of this.listeners) l.events?.(events);
	}
	exception(item: ExceptionItem) {
		for (const l of this.listeners) l.exception?.(item);
	}
	gap(after: number, until: number) {
		for (const l of this.listeners) l.gap?.(after, until);
	}
	payout(payoutKey: string, status: string) {
		for (const l of this.listeners) l.payout?.({ payoutKey, status });
	}
}

let cursor = 0;
export function flow(fields: Partial<FlowEvent> & { type: string }): FlowEvent {
	return { cursor: ++cursor, at: new Date().toISOString(), ...fields };
}

export function exceptionItem(fields: Partial<ExceptionItem> & { id: string }): ExceptionItem {
	const at = new Date(Date.now() - 5 * 60_000).toISOString();
	return {
		kind: "quarantine",
		status: "open",
		reason: "body failed to parse",
		connection: "shopify-demo",
		channel: "shopify",
		topic: "orders/create",
		eventId: null,
		orderKey: null,
		attempts: 0,
		createdAt: at,
		updatedAt: at,
		resolution: null,
		...fields,
	};
}

export function orderView(fields: Partial<OrderView> = {}): OrderView {
	return {
		key: "shopify-demo:6100000001",
		status: "reserved",
		idle: true,
		order: {
			connection: "shopify-demo",
			channel: "shopify",
			channelOrderId: "6100000001",
			channelOrderName: "#1001",
			currency: "USD",
			total: { amount: 12345, currency: "USD" },
			lines: [{ channelLineId: "L1", sku: "BOOT-42", title: "Trail boot", quantity: 2, unitPrice: { amount: 4999, currency: "USD" } }],
		},
		lines: [{ lineId: "L1", sku: "BOOT-42", target: 2, reserved: 1, backordered: 1, committed: 0, shipped: 0, pending: false, lastError: null }],
		routes: [],
		shipments: [],
		deliveries: [
			{
				id: "d1",
				kind: "3pl.order",
				destination: "3pl:shipbob",
				status: "pending",
				attempts: 1,
				nextAttemptAt: "2026-01-02T10:00:30.000Z",
				lastError: "503 Service Unavailable",
				createdAt: "2026-01-02T10:00:02.000Z",
				updatedAt: "2026-01-02T10:00:03.000Z",
				payload: {},
				result: null,
				history: [{ at: "2026-01-02T10:00:03.000Z", ms: 120, ok: false, error: "503 Service Unavailable", retryable: true }],
			},
		],
		events: [
			{ seq: 1, eventId: "evt-1", source: "inbound", type: "orders/create", at: "2026-01-02T10:00:01.000Z", triggeredAt: null, outcome: "applied", body: '{"id":6100000001,"name":"#1001"}' },
			{ seq: 2, eventId: null, source: "ordersync", type: "reserved", at: "2026-01-02T10:00:02.000Z", triggeredAt: null, outcome: null, body: "" },
		],
		...fields,
	};
}

export function skuDetail(fields: Partial<SkuDetail> = {}): SkuDetail {
	return {
		sku: "BOOT-42",
		available: 7,
		onHand: 10,
		reserved: 3,
		updatedAt: "2026-01-02T10:00:00.000Z",
		channels: { "shopify-demo": 7, "shopify-outlet": 2 },
		locations: [
			{ location: "wh-east", onHand: 6, asOf: "2026-01-02T09:00:00.000Z", source: "feed" },
			{ location: "wh-west", onHand: 4, asOf: "2026-01-02T09:30:00.000Z", source: "adjustment" },
		],
		reservations: [
			{ orderKey: "shopify-demo:6000000001", lineId: "L1", requested: 0, quantity: 0, status: "committed" },
			{ orderKey: "shopify-demo:6100000001", lineId: "L1", requested: 2, quantity: 1, status: "open" },
			{ orderKey: "shopify-demo:6000000002", lineId: "L1", requested: 0, quantity: 0, status: "released" },
			{ orderKey: "shopify-demo:6000000003", lineId: "L3", requested: 0, quantity: 0, status: "committed" },
		],
		backorders: [{ position: 1, orderKey: "shopify-demo:6100000001", lineId: "L1", waiting: 1 }],
		audit: [
			{ seq: 1, at: "2026-01-02T09:00:00.000Z", kind: "receive", location: "wh-east", onHandDelta: 6, reservedDelta: 0, onHandAfter: 6, reservedAfter: 0, cause: { feed: "wms", seq: 17 } },
			{ seq: 2, at: "2026-01-02T10:00:00.000Z", kind: "reserve", location: null, onHandDelta: 0, reservedDelta: 1, onHandAfter: 10, reservedAfter: 3, cause: { orderKey: "shopify-demo:6100000001", lineId: "L1" } },
		],
		...fields,
	};
}

/** A Shopify Payments payout of five lines: two matched, a short payment, an unknown order, a reserve; posting to the ERP. */
export function payoutReport(fields: Partial<PayoutReport> = {}): PayoutReport {
	return {
		payoutKey: "shopify-demo:105127866449",
		connection: "shopify-demo",
		channel: "shopify",
		payoutId: "105127866449",
		currency: "USD",
		total: 12931,
		periodStart: "2026-01-01T00:00:00.000Z",
		periodEnd: "2026-01-04T00:00:00.000Z",
		paidAt: "2026-01-05T00:00:00.000Z",
		via: "api",
		receivedAt: "2026-01-05T10:00:00.000Z",
		status: "reconciled",
		reconciledAt: "2026-01-05T10:00:01.000Z",
		summary: {
			grossSales: 16500,
			refunds: -2000,
			fees: { reserve: -1000, payment_processing: -569 },
			adjustments: -1000,
			net: 12931,
			matched: { lines: 2, of: 4, percent: 50 },
			variance: 1000,
		},
		exceptions: [
			{ id: "bt_2", reason: "order #1002 was paid $50.00 of $55.00", variance: -500 },
			{ id: "bt_4", reason: "sale bt_4 names order 6100000099, which ordersync does not know", variance: 1500 },
		],
		lines: [
			{ id: "bt_1", kind: "order", channelOrderId: "6100000001", orderKey: "shopify-demo:6100000001", orderName: "#1001", status: "matched", amount: 10000, fees: -320, net: 9680, expected: 10000, variance: 0 },
			{ id: "bt_2", kind: "order", channelOrderId: "6100000002", orderKey: "shopify-demo:6100000002", orderName: "#1002", status: "amount_mismatch", amount: 5000, fees: -175, net: 4825, expected: 5500, variance: -500 },
			{ id: "bt_3", kind: "refund", channelOrderId: "6100000001", orderKey: "shopify-demo:6100000001", orderName: "#1001", status: "matched", amount: -2000, fees: 0, net: -2000, variance: 0 },
			{ id: "bt_4", kind: "order", channelOrderId: "6100000099", status: "unknown_order", amount: 1500, fees: -74, net: 1426, variance: 1500 },
			{ id: "adj_1", kind: "reserve", status: "other", amount: 0, fees: -1000, net: -1000, variance: 0 },
		],
		postings: null,
		erp: "posting",
		deliveries: [
			{
				id: "erp.deposit",
				kind: "erp.deposit",
				destination: "erp:netsuite",
				status: "pending",
				attempts: 1,
				nextAttemptAt: "2026-01-05T10:01:00.000Z",
				lastError: "503 Service Unavailable",
				createdAt: "2026-01-05T10:00:01.000Z",
				updatedAt: "2026-01-05T10:00:02.000Z",
				payload: {},
				result: null,
				history: [{ at: "2026-01-05T10:00:02.000Z", ms: 210, ok: false, error: "503 Service Unavailable", retryable: true }],
			},
		],
		...fields,
	};
}

/** The payouts list's entry for a report. */
export function payoutItem(report: PayoutReport, fields: Partial<PayoutItem> = {}): PayoutItem {
	return {
		payoutKey: report.payoutKey,
		connection: report.connection,
		channel: report.channel,
		payoutId: report.payoutId,
		currency: report.currency,
		total: report.total,
		paidAt: report.paidAt,
		status: report.status === "matching" ? "matching" : report.erp,
		summary: report.summary,
		exceptions: report.exceptions.length,
		updatedAt: report.reconciledAt ?? report.receivedAt,
		...fields,
	};
}
