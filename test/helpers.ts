import { env, exports } from "cloudflare:workers";
import { shopifyOrder, signedDelivery, type DemoLine } from "../demo/shopify-orders.mjs";

export const SECRET = env.SHOPIFY_DEMO_SECRET as string;
export const OPS_TOKEN = env.OPS_TOKEN as string;
export const CONNECTION = "shopify-demo";

export function call(path: string, init?: RequestInit): Promise<Response> {
	return exports.default.fetch(new Request(`https://ordersync.test${path}`, init));
}

export function ops(path: string, init: RequestInit = {}): Promise<Response> {
	return call(path, { ...init, headers: { Authorization: `Bearer ${OPS_TOKEN}`, "Content-Type": "application/json", ...init.headers } });
}

/** Sends one signed Shopify webhook through the worker, as Shopify would. */
export async function deliver(topic: string, body: unknown, options: { eventId?: string; secret?: string; headers?: Record<string, string> } = {}) {
	const delivery = await signedDelivery({ secret: options.secret ?? SECRET, topic, body, eventId: options.eventId });
	return call(`/webhooks/shopify/${CONNECTION}`, {
		method: "POST",
		headers: { ...delivery.headers, ...options.headers },
		body: delivery.body,
	});
}

let nextId = 1;
/** A fresh order id per call: each test gets objects of its own. */
export function newOrderId(): number {
	return Math.floor(Math.random() * 1e9) * 1000 + nextId++;
}

export function order(spec: Parameters<typeof shopifyOrder>[0]) {
	return shopifyOrder(spec);
}
export type { DemoLine };

export function uniqueSku(label: string): string {
	return `${label}-${crypto.randomUUID().slice(0, 8)}`;
}

export async function stock(sku: string, onHand: number, location = "wh-east", asOf = new Date().toISOString()) {
	const response = await ops("/v1/inventory/snapshots", {
		method: "POST",
		body: JSON.stringify({ source: "test-wms", asOf, items: [{ sku, location, onHand }] }),
	});
	if (response.status !== 200) throw new Error(`snapshot failed: ${response.status} ${await response.text()}`);
	return response.json();
}

export async function availability(sku: string) {
	// With the ops token: live from the ledger, never the storefronts' edge cache.
	const response = await ops(`/v1/availability?sku=${encodeURIComponent(sku)}`);
	const body = (await response.json()) as { items: Array<{ sku: string; available: number; onHand: number; reserved: number }> };
	return body.items[0]!;
}

export type OrderView = {
	key: string;
	status: string;
	idle: boolean;
	order: { channelOrderId: string; sourceUpdatedAt: string; cancelledAt: string | null; lines: Array<{ quantity: number }> } | null;
	lines: Array<{ lineId: string; sku: string; op: string; target: number; reserved: number; backordered: number; committed: number; shipped: number; pending: boolean }>;
	events: Array<{ seq: number; eventId: string | null; source: string; type: string; outcome: string | null; body: string }>;
};

export async function orderView(id: number | string): Promise<OrderView | null> {
	const response = await ops(`/ops/orders/${CONNECTION}:${id}`);
	if (response.status === 404) return null;
	return (await response.json()) as OrderView;
}

/** Polls until `check` passes: the saga runs after the webhook is acknowledged. */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let value = await read();
	while (!check(value)) {
		if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
		await new Promise((resolve) => setTimeout(resolve, 20));
		value = await read();
	}
	return value;
}

/** The order has done all it can by itself for now: saga steps, routing and deliveries included. */
export function settled(view: OrderView | null): boolean {
	return view !== null && view.status !== "received" && view.idle;
}

/** Statuses of an order whose units are all held and not yet shipped (routing may have moved it on). */
export const HOLDING = ["reserved", "routed", "accepted"];

export const SANDBOX = "http://127.0.0.1:8789";

/** A call to the sandbox of peer services (outbound fetch in tests is routed to it). */
export async function sandbox<T = unknown>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
	const response = await fetch(`${SANDBOX}${path}`, {
		...init,
		method: init.method ?? (init.json === undefined ? "GET" : "POST"),
		body: init.json === undefined ? init.body : JSON.stringify(init.json),
	});
	if (!response.ok) throw new Error(`sandbox ${path}: ${response.status} ${await response.text()}`);
	return (await response.json()) as T;
}

type Callback = { key: string; path: string; headers: Record<string, string>; body: string };

/**
 * Delivers the sandbox's queued callbacks (3PL ship notices, carrier events) whose key contains
 * `match` to the worker, as the vendors would; returns each answer's status.
 */
export async function deliverCallbacks(match: string): Promise<number[]> {
	const { callbacks } = await sandbox<{ callbacks: Callback[] }>("/sandbox/callbacks/drain", { json: { match } });
	const statuses: number[] = [];
	for (const callback of callbacks) {
		const response = await call(callback.path, { method: "POST", headers: callback.headers, body: callback.body });
		statuses.push(response.status);
	}
	return statuses;
}
