import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setLogLevel } from "../worker/log";
import { call, deliver, eventually, newOrderId, ops, order, uniqueSku } from "./helpers";

type Metrics = {
	groups: Record<"webhooks" | "deliveries" | "failures" | "pushes", { total: number; recent: number }>;
	counters: { name: string; connection: string | null; total: number; recent: number }[];
};
const metrics = async () => (await (await ops("/ops/metrics?hours=1")).json()) as Metrics;
const count = (m: Metrics, name: string, connection = "shopify-demo") => m.counters.find((c) => c.name === name && c.connection === connection)?.total ?? 0;

/** A Shopify order carrying personal data that must never reach a log line. */
function personalOrder(id: number, sku: string) {
	const body = order({ id, lines: [{ sku, quantity: 1, price: "12.00" }] }) as Record<string, unknown>;
	const address = { ...(body.shipping_address as object), first_name: "Zelda", last_name: "Quixote", name: "Zelda Quixote", address1: "77 Unlikely Lane", phone: "+1 555 867 5309" };
	return { ...body, email: "zelda.quixote@example.net", phone: "+1 555 867 5309", shipping_address: address, billing_address: address };
}
const PERSONAL = ["Zelda", "Quixote", "Unlikely Lane", "867 5309", "zelda.quixote@example.net"];

afterEach(() => {
	vi.restoreAllMocks();
	setLogLevel("info");
});

describe("counters: GET /ops/metrics", () => {
	it("counts webhooks by what became of them, per connection, in the groups operators ask about", async () => {
		const before = await metrics();
		const sku = uniqueSku("metric");
		const [a, b] = [newOrderId(), newOrderId()];
		expect((await deliver("orders/create", order({ id: a, lines: [{ sku, quantity: 1, price: "3.00" }] }), { eventId: `m-${a}` })).status).toBe(200);
		expect((await deliver("orders/create", order({ id: b, lines: [{ sku, quantity: 1, price: "3.00" }] }))).status).toBe(200);
		expect((await deliver("orders/create", order({ id: a, lines: [{ sku, quantity: 1, price: "3.00" }] }), { eventId: `m-${a}` })).status).toBe(200);
		expect((await deliver("orders/create", "{ not an order")).status).toBe(200); // signed, unusable: quarantined

		const after = await eventually(metrics, (m) => count(m, "received") - count(before, "received") >= 2 && count(m, "quarantined") > count(before, "quarantined"));
		expect(count(after, "received") - count(before, "received")).toBe(2);
		expect(count(after, "duplicate") - count(before, "duplicate")).toBe(1);
		expect(count(after, "quarantined") - count(before, "quarantined")).toBe(1);
		expect(after.groups.webhooks.total - before.groups.webhooks.total).toBe(4);
		expect(after.groups.webhooks.recent).toBeGreaterThanOrEqual(4);
	});

	it("serves the totals to scrapers in Prometheus text format, to any ops token only", async () => {
		await deliver("orders/create", order({ id: newOrderId(), lines: [{ sku: uniqueSku("prom"), quantity: 1, price: "1.00" }] }));
		const text = await eventually(
			async () => (await ops("/ops/metrics", { headers: { Accept: "text/plain" } })).text(),
			(body) => body.includes('type="received",connection="shopify-demo"'),
		);
		expect(text).toMatch(/^# TYPE ordersync_flow_events_total counter$/m);
		expect(text).toMatch(/^ordersync_flow_events_total\{type="received",connection="shopify-demo"\} [1-9]\d*$/m);
		expect((await call("/ops/metrics")).status).toBe(401);
		expect((await call("/ops/metrics", { headers: { Authorization: `Bearer ${env.OPS_READ_TOKEN as string}` } })).status).toBe(200);
		expect((await ops("/ops/metrics?hours=0")).status).toBe(400);
	});
});

describe("structured logs", () => {
	it("writes one JSON object per line with the order and connection, and no personal data or secret", async () => {
		setLogLevel("debug"); // every line there is, the per-line steps too
		const lines: string[] = [];
		for (const method of ["log", "info", "warn", "error", "debug"] as const) {
			vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
		}
		const id = newOrderId();
		const sku = uniqueSku("log");
		expect((await deliver("orders/create", personalOrder(id, sku))).status).toBe(200);
		expect((await deliver("orders/create", { ...personalOrder(newOrderId(), sku), line_items: "Zelda Quixote" })).status).toBe(200);
		// Not JSON: the parser's message quotes the start of the body, which must not reach the log.
		expect((await deliver("orders/create", "Zelda Quixote <zelda.quixote@example.net>")).status).toBe(200);
		const key = `shopify-demo:${id}`;
		await eventually(async () => lines, (seen) => seen.some((line) => line.includes(`"order":"${key}"`) && line.includes('"event":"received"')));

		const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
		expect(parsed.find((entry) => entry.event === "received" && entry.order === key)).toMatchObject({ level: "info", connection: "shopify-demo", topic: "orders/create" });
		expect(parsed.some((entry) => entry.event === "quarantined" && entry.level === "warn")).toBe(true);
		expect(parsed.find((entry) => entry.event === "line.backordered" && entry.order === key)).toMatchObject({ level: "debug", sku });
		const secrets = [env.SHOPIFY_DEMO_SECRET, env.OPS_TOKEN, env.SHOPIFY_DEMO_ADMIN_TOKEN, env.SHIPBOB_TOKEN] as string[];
		for (const needle of [...PERSONAL, ...secrets]) {
			expect(lines.filter((line) => line.includes(needle)), needle).toEqual([]);
		}
	});
});
