import { createExecutionContext, createScheduledController, evictDurableObject, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { SweepRun } from "../durable-objects/channel-sweep";
import worker from "../worker/index";
import order727 from "./fixtures/woocommerce/order-727.json";
import { call, CONNECTION, deliver, eventually, newOrderId, ops, order, SANDBOX, sandbox, stock, uniqueSku } from "./helpers";

// The reconciliation sweep: orders placed in a channel whose webhooks never came are read back from
// the channel's own API and go through the normal path, once; a rate limit stops a run where it is
// and its alarm finishes it. The sandbox is shared by every test file, so the channels hold other
// files' orders too: assertions name this file's own orders, never totals.

type SweepItem = {
	connection: string;
	channel: string;
	skipped?: string;
	cursor: string | null;
	resume: { from: string; until: string; page: string | null } | null;
	retryAt: string | null;
	running: boolean;
	lastRun: SweepRun | null;
	runs: SweepRun[];
};
type Sweeps = { settings: { lookbackHours: number; overlapMinutes: number; maxPagesPerRun: number }; items: SweepItem[] };
type View = {
	order: { channel: string; sourceUpdatedAt: string; lines: Array<{ sku: string | null; quantity: number }> } | null;
	events: Array<{ eventId: string | null; source: string; type: string; outcome: string | null }>;
};
type Reservation = { orderKey: string; requested: number; quantity: number; status: string };

const READ_TOKEN = env.OPS_READ_TOKEN as string;

async function sweeps(): Promise<Sweeps> {
	const response = await ops("/ops/sweeps?runs=10");
	expect(response.status).toBe(200);
	return (await response.json()) as Sweeps;
}
const sweepOf = async (connection: string) => (await sweeps()).items.find((item) => item.connection === connection)!;

async function sweep(connection: string): Promise<SweepRun> {
	const response = await ops(`/ops/sweeps/${connection}/run`, { method: "POST" });
	const body = await response.json();
	if (response.status !== 200) throw new Error(`sweep of ${connection}: ${response.status} ${JSON.stringify(body)}`);
	return body as SweepRun;
}

async function view(key: string): Promise<View | null> {
	const response = await ops(`/ops/orders/${encodeURIComponent(key)}`);
	return response.status === 404 ? null : ((await response.json()) as View);
}
const inbound = (v: View | null) => (v?.events ?? []).filter((e) => e.source === "inbound");

async function reservations(sku: string): Promise<Reservation[]> {
	return ((await (await ops(`/ops/skus/${sku}`)).json()) as { reservations: Reservation[] }).reservations;
}
const heldFor = (list: Reservation[], key: string) => list.filter((r) => r.orderKey === key).reduce((sum, r) => sum + r.quantity, 0);

/** A Shopify order the shop has, as REST lists it, whose webhook was never sent. */
async function placeInShop(orders: Array<Record<string, unknown>>) {
	await sandbox("/sandbox/shopify/orders", { json: { orders } });
}
const shopifyKey = (id: number | string) => `${CONNECTION}:${id}`;
const iso = (value: unknown) => new Date(String(value)).toISOString();

afterEach(async () => {
	// The listing knobs and faults are the shared sandbox's: back to plain for the next test and file.
	await sandbox("/sandbox/shopify/listing", { json: {} });
	await sandbox("/sandbox/faults", { method: "DELETE" });
});

describe("Shopify: orders whose webhooks never arrived", () => {
	it("stops at a 429 mid-pagination with the cursor at the last page fed, and its alarm finishes the run, after eviction too", async () => {
		// First in the file: the object's earlier runs would leave their requests' deadline timers
		// running, and eviction waits for those (it passes after them too, only slower).
		const { settings, items } = await sweeps();
		const before = items.find((i) => i.connection === CONNECTION)!;
		const sku = uniqueSku("sweep-429");
		await stock(sku, 10);
		// Five orders updated since the last sweep, the newest in the next window.
		const now = Date.now();
		const late = Array.from({ length: 5 }, (_, i) => {
			const at = new Date(now - 5 + i).toISOString();
			return order({ id: newOrderId(), lines: [{ sku, quantity: 1, price: "3.00" }], createdAt: at, updatedAt: at });
		});
		if (before.cursor) expect(Date.parse(late[0]!.updated_at)).toBeGreaterThan(Date.parse(before.cursor));
		await placeInShop(late);
		// The window starts a lookback ago, or the overlap before the cursor: orders updated there come first.
		const from = new Date(before.cursor ? Date.parse(before.cursor) - settings.overlapMinutes * 60_000 : now - settings.lookbackHours * 3_600_000).toISOString();
		const listed = await fetch(`${SANDBOX}/admin/api/2026-10/orders.json?status=any&limit=250&updated_at_min=${from}&updated_at_max=${late[0]!.updated_at}`, {
			headers: { "X-Shopify-Access-Token": env.SHOPIFY_DEMO_ADMIN_TOKEN as string },
		});
		const earlier = ((await listed.json()) as { orders: unknown[] }).orders.length - 1;
		// A first page of those and two of the five; the second listing is refused with 429 and Retry-After: 30.
		await sandbox("/sandbox/shopify/listing", { json: { maxPerPage: earlier + 2, throttle: { after: 1, retryAfterSeconds: 30 } } });

		const stopped = await sweep(CONNECTION);
		expect(stopped).toMatchObject({ status: "rate_limited", pages: 1, ordersSeen: earlier + 2 });
		expect(stopped.error).toContain("429");
		expect(Date.parse(stopped.retryAt!) - Date.parse(stopped.finishedAt!)).toBeGreaterThan(25_000);
		expect(stopped.recoveredOrders).toEqual(late.slice(0, 2).map((o) => shopifyKey(o.id)));
		const waiting = await sweepOf(CONNECTION);
		expect(waiting.cursor).toBe(iso(late[1]!.updated_at));
		expect(waiting.resume).toMatchObject({ from: stopped.window!.from, until: stopped.window!.until });
		expect(waiting.resume!.page).toEqual(expect.any(String));
		for (const o of late.slice(2)) expect(await view(shopifyKey(o.id))).toBeNull();

		// Triggered again while the channel asks to wait: a no-op that says so.
		const early = await ops(`/ops/sweeps/${CONNECTION}/run`, { method: "POST" });
		expect(early.status).toBe(429);
		expect(((await early.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
		expect(Number(early.headers.get("Retry-After"))).toBeGreaterThan(20);

		// The object is evicted: the cursor and the wait were durable; the alarm goes on from the page it stopped at.
		const stub = env.CHANNEL_SWEEP.getByName(CONNECTION);
		await evictDurableObject(stub);
		expect((await sweepOf(CONNECTION)).cursor).toBe(iso(late[1]!.updated_at));
		expect(await runDurableObjectAlarm(stub)).toBe(true);

		const finished = await sweepOf(CONNECTION);
		expect(finished.lastRun).toMatchObject({ trigger: "retry", status: "complete", window: stopped.window, ordersSeen: 3, recovered: 3 });
		expect(finished.lastRun!.recoveredOrders).toEqual(late.slice(2).map((o) => shopifyKey(o.id)));
		expect(finished).toMatchObject({ cursor: stopped.window!.until, resume: null, retryAt: null });
		const held = await eventually(() => reservations(sku), (list) => late.every((o) => heldFor(list, shopifyKey(o.id)) === 1));
		expect(held.filter((r) => late.some((o) => r.orderKey === shopifyKey(o.id)))).toHaveLength(5);
	});

	it("are recovered by one sweep through the normal path, and a second sweep changes nothing", async () => {
		const sku = uniqueSku("sweep");
		await stock(sku, 10);
		const missed = [newOrderId(), newOrderId(), newOrderId()].map((id, i) => order({ id, lines: [{ sku, quantity: i + 1, price: "12.00" }] }));
		const arrived = order({ id: newOrderId(), lines: [{ sku, quantity: 1, price: "12.00" }] });
		await placeInShop([...missed, arrived]);
		// This one's webhook did come: the sweep finds it known.
		expect((await deliver("orders/create", arrived)).status).toBe(200);

		const first = await sweep(CONNECTION);
		expect(first).toMatchObject({ trigger: "manual", status: "complete", error: null });
		for (const o of missed) expect(first.recoveredOrders).toContain(shopifyKey(o.id));
		expect(first.recoveredOrders).not.toContain(shopifyKey(arrived.id));
		expect(first.recovered).toBeGreaterThanOrEqual(3);
		expect(first.duplicates).toBeGreaterThanOrEqual(1);
		expect(first.ordersSeen).toBe(first.recovered + first.updated + first.duplicates + first.stale + first.failed);

		// Each went in as an orders/updated event whose id names the version, and reserved its units.
		for (const [i, o] of missed.entries()) {
			const recovered = await view(shopifyKey(o.id));
			expect(recovered?.order?.lines).toEqual([expect.objectContaining({ sku, quantity: i + 1 })]);
			expect(inbound(recovered)).toEqual([expect.objectContaining({ eventId: `sweep:${o.id}:${iso(o.updated_at)}`, type: "orders/updated", outcome: "applied" })]);
		}
		const held = await eventually(() => reservations(sku), (list) => [...missed, arrived].every((o) => heldFor(list, shopifyKey(o.id)) > 0));
		expect(missed.map((o) => heldFor(held, shopifyKey(o.id)))).toEqual([1, 2, 3]);
		expect(heldFor(held, shopifyKey(arrived.id))).toBe(1);
		// The order whose webhook arrived was not applied again.
		expect(inbound(await view(shopifyKey(arrived.id))).map((e) => e.type)).toEqual(["orders/create"]);

		const second = await sweep(CONNECTION);
		expect(second).toMatchObject({ status: "complete", recovered: 0, recoveredOrders: [] });
		expect(second.duplicates).toBeGreaterThanOrEqual(4);
		for (const o of missed) expect(inbound(await view(shopifyKey(o.id)))).toHaveLength(1);
		const after = await reservations(sku);
		expect(missed.map((o) => heldFor(after, shopifyKey(o.id)))).toEqual([1, 2, 3]);

		// Operators see it: /ops/sweeps with either token, and a "swept" flow event per run.
		const read = await call("/ops/sweeps", { headers: { Authorization: `Bearer ${READ_TOKEN}` } });
		expect(read.status).toBe(200);
		const item = ((await read.json()) as Sweeps).items.find((i) => i.connection === CONNECTION)!;
		expect(item.lastRun).toMatchObject({ id: second.id, status: "complete" });
		expect(item.runs.map((r) => r.id)).toEqual(expect.arrayContaining([first.id, second.id]));
		expect(item.cursor).toBe(second.window!.until);
		const flows = (await (await ops("/ops/flows?after=0&limit=1000")).json()) as { events: Array<{ type: string; connection?: string; detail?: string }> };
		const swept = flows.events.filter((e) => e.type === "swept" && e.connection === CONNECTION).map((e) => e.detail);
		expect(swept).toContainEqual(expect.stringMatching(new RegExp(`^${CONNECTION}: ${first.ordersSeen} orders read, ${first.recovered} recovered, (\\d+ updated, )?(\\d+ drifted|stock not checked)$`)));
		// The read-only token may look, not run one.
		expect((await call(`/ops/sweeps/${CONNECTION}/run`, { method: "POST", headers: { Authorization: `Bearer ${READ_TOKEN}` } })).status).toBe(403);
	});

	it("applies an update whose webhook was lost, but not a version older than the one held", async () => {
		const sku = uniqueSku("sweep-upd");
		await stock(sku, 10);
		const id = newOrderId();
		const created = new Date(Date.now() - 60_000).toISOString();
		const first = order({ id, lines: [{ sku, quantity: 1, price: "5.00" }], createdAt: created });
		expect((await deliver("orders/create", first)).status).toBe(200);
		// The customer changed the order; Shopify's orders/updated never came.
		const edited = order({ id, lines: [{ sku, quantity: 3, price: "5.00" }], createdAt: created, updatedAt: new Date(Date.now() - 1_000).toISOString() });
		await placeInShop([edited]);

		const run = await sweep(CONNECTION);
		// Known to ordersync, so an update rather than a recovery.
		expect(run.recoveredOrders).not.toContain(shopifyKey(id));
		expect(run.updated).toBeGreaterThanOrEqual(1);
		expect((await view(shopifyKey(id)))?.order).toMatchObject({ sourceUpdatedAt: iso(edited.updated_at), lines: [{ sku, quantity: 3 }] });
		expect(heldFor(await eventually(() => reservations(sku), (list) => heldFor(list, shopifyKey(id)) === 3), shopifyKey(id))).toBe(3);

		// The shop lists an older version than ordersync holds (a webhook was ahead of it): stale, not applied.
		const newer = order({ id, lines: [{ sku, quantity: 2, price: "5.00" }], createdAt: created, updatedAt: new Date().toISOString() });
		expect((await deliver("orders/updated", newer)).status).toBe(200);
		const again = await sweep(CONNECTION);
		expect(again.recoveredOrders).not.toContain(shopifyKey(id));
		expect(again.stale).toBeGreaterThanOrEqual(1);
		expect((await view(shopifyKey(id)))?.order).toMatchObject({ sourceUpdatedAt: iso(newer.updated_at), lines: [{ sku, quantity: 2 }] });
	});

	it("runs one sweep at a time: a second trigger while one runs is a no-op that says so", async () => {
		await sandbox("/sandbox/shopify/listing", { json: { delayMs: 600 } });
		const first = ops(`/ops/sweeps/${CONNECTION}/run`, { method: "POST" });
		await eventually(() => sweepOf(CONNECTION), (item) => item.running, 5_000);
		const second = await ops(`/ops/sweeps/${CONNECTION}/run`, { method: "POST" });
		expect(second.status).toBe(409);
		const refused = (await second.json()) as { error: { code: string; message: string } };
		expect(refused.error.code).toBe("already_running");
		const done = (await (await first).json()) as SweepRun;
		expect(done.status).toBe("complete");
		expect(refused.error.message).toContain(`run ${done.id}`);
	});
});

describe("the other channels", () => {
	it("WooCommerce: an order edited while the window is read moves no other order onto a page already read", async () => {
		const sku = uniqueSku("sweep-woo-pages");
		await stock(sku, 500);
		const line = { ...order727.line_items[0]!, sku, quantity: 1, subtotal: "10.00", total: "10.00", subtotal_tax: "0.00", total_tax: "0.00", taxes: [] };
		// 150 orders the store has, a second apart, none of whose webhooks came: two pages of 100.
		const start = Date.now() - 20 * 60_000;
		const ids: number[] = [];
		for (let i = 0; i < 150; i++) {
			const modified = new Date(start + i * 1000).toISOString().slice(0, 19);
			const { order: placed } = await sandbox<{ order: { id: number } }>("/sandbox/woocommerce/orders", {
				json: { order: { ...order727, line_items: [line], date_modified: modified, date_modified_gmt: modified } },
			});
			ids.push(placed.id);
		}
		// The merchant edits the 10th while the first page is being fed: it leaves the window read.
		await sandbox("/sandbox/woocommerce/orders/touch", { json: { orderId: ids[9], beforeListCall: 2 } });

		const run = await sweep("woocommerce");
		expect(run.status).toBe("complete");
		const missing = [];
		for (const id of ids) if (!(await view(`woocommerce:${id}`))?.order) missing.push(id);
		expect(missing).toEqual([]);
	});

	it("WooCommerce: an order the store has but whose webhook never came is read with the REST list and applied", async () => {
		const sku = uniqueSku("sweep-woo");
		await stock(sku, 5);
		const now = new Date().toISOString().slice(0, 19);
		const line = { ...order727.line_items[0]!, sku, quantity: 2, subtotal: "20.00", total: "20.00", subtotal_tax: "0.00", total_tax: "0.00", taxes: [] };
		const { order: placed } = await sandbox<{ order: { id: number } }>("/sandbox/woocommerce/orders", {
			json: { order: { ...order727, line_items: [line], date_modified: now, date_modified_gmt: now } },
		});
		const key = `woocommerce:${placed.id}`;

		const run = await sweep("woocommerce");
		expect(run.status).toBe("complete");
		expect(run.recoveredOrders).toContain(key);
		const recovered = await view(key);
		expect(recovered?.order).toMatchObject({ channel: "woocommerce", lines: [{ sku, quantity: 2 }] });
		expect(inbound(recovered).map((e) => [e.type, e.outcome])).toEqual([["order.updated", "applied"]]);
		expect(heldFor(await eventually(() => reservations(sku), (list) => heldFor(list, key) === 2), key)).toBe(2);

		const again = await sweep("woocommerce");
		expect(again.recoveredOrders).not.toContain(key);
		expect(inbound(await view(key))).toHaveLength(1);
		const { calls } = await sandbox<{ calls: Array<{ path: string; query: string; auth: string }> }>("/sandbox/woocommerce/calls?match=/wc/v3/orders?");
		expect(calls.at(-1)).toMatchObject({ auth: "basic" });
		expect(calls.at(-1)!.query).toContain("orderby=modified");
	});

	it("TikTok Shop: Search Orders gives the whole order, applied without a second call", async () => {
		const sku = uniqueSku("sweep-tt");
		await stock(sku, 5);
		const { order: placed } = await sandbox<{ order: { id: string; update_time: number } }>("/sandbox/tiktok/orders", { json: { lines: [{ sellerSku: sku, quantity: 2, price: "9.00" }] } });
		const key = `tiktok:${placed.id}`;

		const run = await sweep("tiktok");
		expect(run.status).toBe("complete");
		expect(run.recoveredOrders).toContain(key);
		const recovered = await view(key);
		expect(recovered?.order).toMatchObject({ channel: "tiktok", lines: [{ sku, quantity: 2 }] });
		expect(inbound(recovered)).toEqual([expect.objectContaining({ eventId: `sweep:${placed.id}:${new Date(placed.update_time * 1000).toISOString()}`, type: "order.swept", outcome: "applied" })]);
		expect(heldFor(await eventually(() => reservations(sku), (list) => heldFor(list, key) === 2), key)).toBe(2);

		const again = await sweep("tiktok");
		expect(again.recoveredOrders).not.toContain(key);
		expect(inbound(await view(key))).toHaveLength(1);
	});

	it("Amazon: getOrders names the order, which is read with getOrder + getOrderItems as a notification has it read", async () => {
		const sku = uniqueSku("sweep-amz");
		await stock(sku, 5);
		// getOrders lists only what changed two minutes ago or more.
		const updated = new Date(Date.now() - 5 * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
		const { amazonOrderId } = await sandbox<{ amazonOrderId: string }>("/sandbox/amazon/orders", { json: { lines: [{ sku, quantity: 1, price: "7.50" }], lastUpdateDate: updated } });
		const fresh = await sandbox<{ amazonOrderId: string }>("/sandbox/amazon/orders", { json: { lines: [{ sku, quantity: 1, price: "7.50" }] } });
		const key = `amazon:${amazonOrderId}`;

		const run = await sweep("amazon");
		expect(run.status).toBe("complete");
		expect(Date.parse(run.window!.until)).toBeLessThanOrEqual(Date.now() - 120_000);
		expect(run.recoveredOrders).toContain(key);
		// Not yet settled: the next sweeps read it.
		expect(run.recoveredOrders).not.toContain(`amazon:${fresh.amazonOrderId}`);
		const fetched = await eventually(() => view(key), (v) => v?.order !== null && v?.order !== undefined, 15_000);
		expect(fetched!.order).toMatchObject({ channel: "amazon", lines: [{ sku, quantity: 1 }] });
		expect(inbound(fetched).map((e) => [e.eventId, e.outcome])).toEqual([
			[`sweep:${amazonOrderId}:${new Date(updated).toISOString()}`, "fetching"],
			[`fetched:sweep:${amazonOrderId}:${new Date(updated).toISOString()}`, "applied"],
		]);
		expect(heldFor(await eventually(() => reservations(sku), (list) => heldFor(list, key) === 1), key)).toBe(1);

		const again = await sweep("amazon");
		expect(again.recoveredOrders).not.toContain(key);
		expect(inbound(await view(key))).toHaveLength(2);
	});

	it("EDI is not swept, and says why; neither is a Shopify connection without Admin API access", async () => {
		const response = await ops("/ops/sweeps/edi-retailer/run", { method: "POST" });
		expect(response.status).toBe(409);
		expect(((await response.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "not_swept", message: expect.stringContaining("no pull API") });
		const { items } = await sweeps();
		expect(items.find((i) => i.connection === "edi-retailer")).toMatchObject({ skipped: expect.stringContaining("gateway pushes") });
		expect(items.find((i) => i.connection === "shopify-outlet")).toMatchObject({ skipped: expect.stringContaining("Admin API") });
		expect((await ops("/ops/sweeps/nope/run", { method: "POST" })).status).toBe(404);
	});
});

describe("the cron trigger", () => {
	it("scheduled() sweeps every connection that can be swept", async () => {
		const sku = uniqueSku("sweep-cron");
		await stock(sku, 5);
		const missed = order({ id: newOrderId(), lines: [{ sku, quantity: 1, price: "4.00" }] });
		await placeInShop([missed]);
		const { order: tiktok } = await sandbox<{ order: { id: string } }>("/sandbox/tiktok/orders", { json: { lines: [{ sellerSku: sku, quantity: 1, price: "4.00" }] } });
		const startedAt = new Date().toISOString();

		const ctx = createExecutionContext();
		worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "*/10 * * * *" }), env, ctx);
		await waitOnExecutionContext(ctx);

		const { items } = await sweeps();
		for (const connection of [CONNECTION, "tiktok", "woocommerce", "amazon"]) {
			const item = items.find((i) => i.connection === connection)!;
			expect(item.lastRun, connection).toMatchObject({ trigger: "cron" });
			expect(item.lastRun!.startedAt >= startedAt, connection).toBe(true);
			expect(item.lastRun!.status, connection).not.toBe("running");
		}
		expect(items.find((i) => i.connection === CONNECTION)!.lastRun!.recoveredOrders).toContain(shopifyKey(missed.id));
		expect(items.find((i) => i.connection === "tiktok")!.lastRun!.recoveredOrders).toContain(`tiktok:${tiktok.id}`);
		expect((await view(shopifyKey(missed.id)))?.order?.lines).toEqual([expect.objectContaining({ sku, quantity: 1 })]);
	});
});
