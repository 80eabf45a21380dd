import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MIGRATIONS as CHANNEL_SWEEP } from "../durable-objects/channel-sweep";
import { MIGRATIONS as DELIVERY_GATE } from "../durable-objects/delivery-gate";
import { FlowMonitor, MIGRATIONS as FLOW_MONITOR } from "../durable-objects/flow-monitor";
import { OrderFlow, MIGRATIONS as ORDER_FLOW } from "../durable-objects/order-flow";
import { MIGRATIONS as PARCEL } from "../durable-objects/parcel";
import { migrate } from "../durable-objects/schema";
import { MIGRATIONS as SETTLEMENT } from "../durable-objects/settlement";
import { SkuLedger, MIGRATIONS as SKU_LEDGER } from "../durable-objects/sku-ledger";
import { MIGRATIONS as TRADING_PARTNER } from "../durable-objects/trading-partner";
import { parseShopifyChange } from "../worker/connectors/shopify/normalize";
import type { CanonicalOrder } from "../worker/model/order";
import { CONNECTION, HOLDING, availability, deliver, deliverCallbacks, eventually, newOrderId, order, sandbox, stock, uniqueSku } from "./helpers";

/**
 * The versions the tests below upgrade from, per class. Each starts from an object holding the
 * schema and rows an older build wrote, then runs the class constructor on that storage, as the
 * first request after a deploy does. Versions are pinned: the rows are in that version's shape.
 */
const UPGRADES = { OrderFlow: [1], SkuLedger: [1, 3, 4], FlowMonitor: [1, 6] };

/** Tables of the object's own (SQLite's and the runtime's bookkeeping left out). */
function tables(sql: SqlStorage): string[] {
	return sql
		.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name")
		.toArray()
		.map((row) => row.name);
}

/** Every table, index and its SQL: what "the schema" is, for comparing before and after. */
function schema(sql: SqlStorage): Array<{ type: string; name: string; sql: string | null }> {
	return sql
		.exec<{ type: string; name: string; sql: string | null }>("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY type, name")
		.toArray();
}

function columns(sql: SqlStorage, table: string): string[] {
	return sql.exec<{ name: string }>("SELECT name FROM pragma_table_info(?)", table).toArray().map((row) => row.name);
}

function version(sql: SqlStorage): number | null {
	return sql.exec<{ version: number }>("SELECT version FROM _schema").toArray()[0]?.version ?? null;
}

/** The object as the build with `at` migrations left it: everything dropped, then those migrations applied. */
function rewind(storage: DurableObjectStorage, migrations: readonly string[], at: number): void {
	for (const table of tables(storage.sql)) storage.sql.exec(`DROP TABLE "${table}"`);
	migrate(storage, migrations.slice(0, at));
	expect(version(storage.sql) ?? 0).toBe(at);
}

function canonical(topic: string, body: unknown): CanonicalOrder {
	const parsed = parseShopifyChange(topic, body, CONNECTION);
	if (!parsed.ok || parsed.change.kind !== "order") throw new Error(`not an order: ${parsed.ok ? parsed.change.kind : parsed.error}`);
	return parsed.change.order;
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const HOUR = 3_600_000;

describe("schema upgrades", () => {
	it("has an upgrade test from the previous version of every class whose schema moved on", () => {
		const all = {
			OrderFlow: ORDER_FLOW, SkuLedger: SKU_LEDGER, FlowMonitor: FLOW_MONITOR, DeliveryGate: DELIVERY_GATE,
			Parcel: PARCEL, TradingPartner: TRADING_PARTNER, Settlement: SETTLEMENT, ChannelSweep: CHANNEL_SWEEP,
		};
		const moved = Object.entries(all).filter(([, migrations]) => migrations.length > 1);
		// A new migration makes the current version the previous one: add its upgrade test here.
		expect(Object.fromEntries(moved.map(([name, migrations]) => [name, migrations.length - 1]))).toEqual(
			Object.fromEntries(Object.entries(UPGRADES).map(([name, from]) => [name, Math.max(...from)])),
		);
	});
});

describe("OrderFlow v1 → current", () => {
	/**
	 * An order the v1 build ingested, its rows exactly as v1's ingest and saga wrote them. `crashed`:
	 * the saga recorded its intent, then the object went away before the ledger was called.
	 */
	async function v1Order(label: string, onHand: number, quantity: number, { crashed = false } = {}) {
		const sku = uniqueSku(label);
		await stock(sku, onHand, "wh-east");
		const id = newOrderId();
		const createdAt = ago(HOUR);
		const body = order({ id, lines: [{ sku, quantity, price: "12.50" }], createdAt });
		const placed = canonical("orders/create", body);
		const key = `${CONNECTION}:${id}`;
		const lineId = placed.lines[0]!.channelLineId;
		// The v1 saga held the units (a line short of stock waits as a backorder).
		const held = crashed ? { reserved: 0, backordered: 0 } : await env.SKU_LEDGER.getByName(sku).reserve({ orderKey: key, lineId, sku, quantity });
		if (!crashed) expect(held.reserved).toBe(Math.min(onHand, quantity));
		const status = crashed ? "received" : held.backordered > 0 ? "backordered" : "reserved";
		const write = (sql: SqlStorage) => {
			sql.exec(
				"INSERT INTO events (event_id, source, type, at, triggered_at, body, outcome) VALUES (?, 'inbound', 'orders/create', ?, ?, ?, 'applied')",
				crypto.randomUUID(), ago(HOUR - 1_000), createdAt, JSON.stringify(body),
			);
			for (const [name, value] of Object.entries({ key, status, order: placed })) {
				sql.exec("INSERT INTO state (key, value) VALUES (?, ?)", name, JSON.stringify(value));
			}
			if (crashed) {
				sql.exec("INSERT INTO lines (line_id, sku, op, target, version, pending) VALUES (?, ?, 'reserve', ?, 1, 1)", lineId, sku, quantity);
				return;
			}
			sql.exec(
				"INSERT INTO lines (line_id, sku, op, target, version, pending, reserved, backordered) VALUES (?, ?, 'reserve', ?, 1, 0, ?, ?)",
				lineId, sku, quantity, held.reserved, held.backordered,
			);
			const detail = { from: "received", lines: [{ lineId, sku, reserved: held.reserved, backordered: held.backordered, committed: 0 }] };
			sql.exec("INSERT INTO events (source, type, at, body) VALUES ('ordersync', ?, ?, ?)", status, ago(HOUR - 2_000), JSON.stringify(detail));
		};
		return { sku, id, key, body, createdAt, placed, lineId, status, write };
	}

	it("reads a held v1 order unchanged, with new columns at their defaults, then routes, ships and fulfils it", async () => {
		const old = await v1Order("upgrade-ship", 5, 2);
		await sandbox("/sandbox/orders", { json: old.body }); // the shop knows the order, so its fulfilment can be relayed
		const flow = env.ORDER_FLOW.getByName(old.key);

		await runInDurableObject(flow, (_: OrderFlow, state) => {
			const sql = state.storage.sql;
			rewind(state.storage, ORDER_FLOW, 1);
			expect(columns(sql, "lines")).not.toContain("shipped");
			expect(tables(sql)).toEqual(["_schema", "events", "lines", "state"]);
			old.write(sql);

			const upgraded = new OrderFlow(state, env);
			expect(version(sql)).toBe(ORDER_FLOW.length);
			expect(tables(sql)).toEqual(expect.arrayContaining(["deliveries", "routes", "shipments", "shipment_commits"]));
			const view = upgraded.view()!;
			expect(view).toMatchObject({ key: old.key, status: "reserved", routing: null, settlements: {}, routes: [], shipments: [], deliveries: [] });
			expect(view.order).toEqual(old.placed);
			expect(view.lines).toEqual([
				{ lineId: old.lineId, sku: old.sku, op: "reserve", target: 2, reserved: 2, backordered: 0, committed: 0, shipped: 0, pending: false, attempts: 0, lastError: null },
			]);
			expect(view.events.map((e) => [e.source, e.type, e.outcome])).toEqual([["inbound", "orders/create", "applied"], ["ordersync", "reserved", null]]);
			expect(JSON.parse(view.events[0]!.body)).toEqual(old.body);
		});
		// A restart on the new build: what follows runs on what storage holds, nothing kept in memory.
		await evictDurableObject(flow);

		// v1 had no routing: the order's next update sends it to the 3PL at the location holding it.
		const updated = order({ id: old.id, lines: [{ sku: old.sku, quantity: 2, price: "12.50" }], createdAt: old.createdAt, updatedAt: ago(0) });
		expect((await deliver("orders/updated", updated)).status).toBe(200);
		const accepted = await eventually(() => flow.view(), (v) => v?.status === "accepted");
		expect(accepted!.routes).toEqual([expect.objectContaining({ referenceId: `${old.key}/wh-east`, location: "wh-east", status: "accepted" })]);

		await sandbox("/sandbox/shipbob/ship", { json: { match: old.key } });
		expect(await deliverCallbacks(old.key)).toEqual([200]);
		const fulfilled = await eventually(() => flow.view(), (v) => v?.status === "fulfilled" && v.deliveries.every((d) => d.status === "delivered"));
		expect(fulfilled!.lines.map((l) => [l.shipped, l.committed, l.pending])).toEqual([[2, 2, false]]);
		expect(fulfilled!.deliveries.map((d) => d.kind)).toContain("channel.fulfillment");
		expect(await availability(old.sku)).toMatchObject({ onHand: 3, reserved: 0 });
	});

	it("cancels a v1 backordered order: the units it held go back to the ledger", async () => {
		const old = await v1Order("upgrade-cancel", 1, 3);
		expect(old.status).toBe("backordered");
		const flow = env.ORDER_FLOW.getByName(old.key);
		await runInDurableObject(flow, (_: OrderFlow, state) => {
			rewind(state.storage, ORDER_FLOW, 1);
			old.write(state.storage.sql);
			const view = new OrderFlow(state, env).view()!;
			expect(view.status).toBe("backordered");
			expect(view.lines[0]).toMatchObject({ target: 3, reserved: 1, backordered: 2, shipped: 0 });
		});
		await evictDurableObject(flow);

		const cancelled = order({ id: old.id, lines: [{ sku: old.sku, quantity: 3, price: "12.50" }], createdAt: old.createdAt, updatedAt: ago(0), cancelled: true });
		expect((await deliver("orders/cancelled", cancelled)).status).toBe(200);
		const done = await eventually(() => flow.view(), (v) => v?.status === "cancelled" && v.idle);
		expect(done!.lines[0]).toMatchObject({ op: "release", target: 0, reserved: 0, pending: false });
		expect(await availability(old.sku)).toMatchObject({ onHand: 1, reserved: 0, available: 1 });
		const ledger = await env.SKU_LEDGER.getByName(old.sku).detail(old.sku);
		expect(ledger.reservations).toEqual([expect.objectContaining({ orderKey: old.key, lineId: old.lineId, status: "released", quantity: 0 })]);
	});

	it("finishes a saga step a v1 object left pending: the upgraded constructor arms the alarm that runs it", async () => {
		const old = await v1Order("upgrade-pending", 4, 2, { crashed: true });
		const flow = env.ORDER_FLOW.getByName(old.key);
		await runInDurableObject(flow, async (_: OrderFlow, state) => {
			rewind(state.storage, ORDER_FLOW, 1);
			await state.storage.deleteAlarm();
			old.write(state.storage.sql);
			// Nothing else calls the ledger for this order: only the alarm the constructor arms can.
			new OrderFlow(state, env);
		});
		const view = await eventually(() => flow.view(), (v) => HOLDING.includes(v?.status ?? "") && v!.lines.every((l) => !l.pending));
		expect(view!.lines[0]).toMatchObject({ reserved: 2, backordered: 0, shipped: 0 });
		expect((await availability(old.sku)).reserved).toBe(2);
	});
});

describe("SkuLedger → current", () => {
	const ledgerAt = (sku: string) => env.SKU_LEDGER.getByName(sku);
	const key = (label: string) => `${CONNECTION}:upgrade-${label}-${crypto.randomUUID().slice(0, 6)}`;

	it("v3: stock, holds, backorders, a parked feed gap and pushes carry over; routing claims work on them", async () => {
		const sku = uniqueSku("upgrade-ledger-v3");
		const [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map(key) as [string, string, string, string, string];
		const countedMs = Date.now() - 2 * 24 * HOUR;
		const at = ago(24 * HOUR);
		await runInDurableObject(ledgerAt(sku), async (_: SkuLedger, state) => {
			const sql = state.storage.sql;
			rewind(state.storage, SKU_LEDGER, 3);
			expect(tables(sql)).not.toContain("assignments");
			// As v3 left it: 6 + 1 counted, a held 3, b held 2 of 4, c released, d shipped 2 from wh-east.
			sql.exec("INSERT INTO stock (location, on_hand, as_of_ms, source, updated_at) VALUES ('wh-east', 4, ?, 'wms', ?), ('wh-west', 1, ?, 'wms', ?)", countedMs, at, countedMs, at);
			sql.exec(
				`INSERT INTO reservations (order_key, line_id, requested, quantity, status, updated_at) VALUES
				 (?, '11', 3, 3, 'open', ?), (?, '21', 4, 2, 'open', ?), (?, '31', 1, 0, 'released', ?), (?, '41', 0, 0, 'committed', ?)`,
				a, at, b, at, c, at, d, at,
			);
			sql.exec("INSERT INTO commits (order_key, line_id, commit_id, quantity, location, shortfall, at, at_ms) VALUES (?, '41', 'shipment:shp-d', 2, 'wh-east', 0, ?, ?)", d, at, Date.parse(at));
			sql.exec(
				`INSERT INTO audit (at, kind, location, on_hand_delta, reserved_delta, on_hand_after, reserved_after, cause) VALUES
				 (?, 'snapshot', 'wh-east', 6, 0, 6, 0, ?), (?, 'snapshot', 'wh-west', 1, 0, 7, 0, ?), (?, 'commit', 'wh-east', -2, -2, 5, 5, ?)`,
				at, JSON.stringify({ source: "wms", asOf: new Date(countedMs).toISOString() }), at, JSON.stringify({ source: "wms", asOf: new Date(countedMs).toISOString() }),
				at, JSON.stringify({ orderKey: d, lineId: "41", commitId: "shipment:shp-d" }),
			);
			sql.exec("INSERT INTO feeds (source, last_seq) VALUES ('wms-deltas', 17)");
			sql.exec("INSERT INTO parked_deltas (source, seq, location, delta, reason, received_at) VALUES ('wms-deltas', 19, 'wh-east', 1, 'cycle count', ?)", at);
			sql.exec("INSERT INTO pushes (connection, value, version, sent_value, sent_at_ms, latency_ms) VALUES (?, 0, 3, 0, ?, 40)", CONNECTION, Date.parse(at));
			sql.exec("INSERT INTO meta (key, value) VALUES ('sku', ?), ('updated_at', ?)", sku, at);

			const ledger = new SkuLedger(state, env);
			expect(version(sql)).toBe(SKU_LEDGER.length);
			expect(ledger.availability(sku)).toMatchObject({ onHand: 5, reserved: 5, available: 0, updatedAt: at });
			const before = ledger.detail(sku);
			expect(before.locations).toEqual([
				{ location: "wh-east", onHand: 4, asOf: new Date(countedMs).toISOString(), source: "wms" },
				{ location: "wh-west", onHand: 1, asOf: new Date(countedMs).toISOString(), source: "wms" },
			]);
			expect(before.reservations.map((r) => [r.orderKey, r.status, r.requested, r.quantity])).toEqual([[a, "open", 3, 3], [b, "open", 4, 2], [c, "released", 1, 0], [d, "committed", 0, 0]]);
			expect(before.backorders).toEqual([{ position: 1, orderKey: b, lineId: "21", waiting: 2 }]);
			expect(before.assignments).toEqual([]);
			expect(before.gaps).toEqual([{ source: "wms-deltas", expected: 18, parked: [19] }]);
			expect(before.pushes).toEqual([{ connection: CONNECTION, value: 0, version: 3, pending: false, sentValue: 0, sentAt: at, latencyMs: 40, attempts: 0, lastError: null }]);
			expect(before.audit.map((entry) => [entry.kind, entry.onHandAfter, entry.reservedAfter])).toEqual([["commit", 5, 5], ["snapshot", 7, 0], ["snapshot", 6, 0]]);

			// v4's routing claims, on v3's stock: a claim cannot take units another order claimed.
			expect(ledger.locate()).toEqual({ "wh-east": 4, "wh-west": 1 });
			expect(ledger.assign({ orderKey: a, lineId: "11", sku, picks: [{ location: "wh-east", quantity: 3 }] })).toEqual({ ok: true });
			expect(ledger.assign({ orderKey: e, lineId: "51", sku, picks: [{ location: "wh-east", quantity: 2 }] })).toEqual({ ok: false, location: "wh-east", free: 1 });
			expect(ledger.locate()).toEqual({ "wh-east": 1, "wh-west": 1 });
			ledger.watch(e);

			// The missing delta arrives: the parked one follows it, and the old backorder gets the units.
			expect(await ledger.applyDeltas(sku, [{ source: "wms-deltas", seq: 18, location: "wh-west", delta: 2 }])).toEqual([{ sku, source: "wms-deltas", seq: 18, status: "applied" }]);
			const topped = ledger.detail(sku);
			expect(topped.gaps).toEqual([]);
			expect(topped.locations.map((l) => [l.location, l.onHand])).toEqual([["wh-east", 5], ["wh-west", 3]]);
			expect(topped.backorders).toEqual([]);
			expect(topped.reservations[1]).toMatchObject({ orderKey: b, requested: 4, quantity: 4 });
			expect(ledger.availability(sku)).toMatchObject({ onHand: 8, reserved: 7, available: 1 });

			// The old hold ships from its claimed location; the claim goes with it.
			expect(ledger.commit({ orderKey: a, lineId: "11", sku, commitId: "shipment:shp-a", quantity: 3, location: "wh-east" })).toEqual({ committed: 3, location: "wh-east", shortfall: 0 });
			expect(ledger.detail(sku).assignments).toEqual([]);
			expect(ledger.locate()).toEqual({ "wh-east": 2, "wh-west": 3 });
			expect(ledger.detail(sku).audit[0]).toMatchObject({ kind: "commit", onHandDelta: -3, reservedDelta: -3, onHandAfter: 5, reservedAfter: 4 });

			// Old tombstones and commits still make retries change nothing.
			expect(ledger.reserve({ orderKey: c, lineId: "31", sku, quantity: 1 })).toEqual({ status: "released", reserved: 0, backordered: 0 });
			expect(ledger.commit({ orderKey: d, lineId: "41", sku, commitId: "shipment:shp-d", quantity: 2, location: "wh-east" })).toEqual({ committed: 2, location: "wh-east", shortfall: 0 });
			const after = ledger.availability(sku);
			expect(after).toMatchObject({ onHand: 5, reserved: 4, available: 1 });
			// A restart rebuilds the same totals from the upgraded rows.
			expect(new SkuLedger(state, env).availability(sku)).toEqual(after);
		});
	});

	it("v1: holds and a commit without at_ms read back; a count and a return work on them", async () => {
		const sku = uniqueSku("upgrade-ledger-v1");
		const [a, b, d] = ["a", "b", "d"].map(key) as [string, string, string];
		const at = ago(24 * HOUR);
		await runInDurableObject(ledgerAt(sku), async (_: SkuLedger, state) => {
			const sql = state.storage.sql;
			rewind(state.storage, SKU_LEDGER, 1);
			expect(columns(sql, "commits")).not.toContain("at_ms");
			sql.exec("INSERT INTO stock (location, on_hand, as_of_ms, source, updated_at) VALUES ('wh-east', 3, ?, 'wms', ?)", Date.parse(at) - HOUR, at);
			sql.exec(
				`INSERT INTO reservations (order_key, line_id, requested, quantity, status, updated_at) VALUES
				 (?, '11', 2, 2, 'open', ?), (?, '21', 3, 1, 'open', ?), (?, '41', 0, 0, 'committed', ?)`,
				a, at, b, at, d, at,
			);
			sql.exec("INSERT INTO commits (order_key, line_id, commit_id, quantity, location, shortfall, at) VALUES (?, '41', 'order-fulfilled', 1, 'wh-east', 0, ?)", d, at);
			sql.exec("INSERT INTO meta (key, value) VALUES ('sku', ?), ('updated_at', ?)", sku, at);

			const ledger = new SkuLedger(state, env);
			expect(version(sql)).toBe(SKU_LEDGER.length);
			expect(columns(sql, "commits")).toContain("at_ms");
			expect(ledger.availability(sku)).toMatchObject({ onHand: 3, reserved: 3, available: 0 });
			const detail = ledger.detail(sku);
			expect(detail.backorders).toEqual([{ position: 1, orderKey: b, lineId: "21", waiting: 2 }]);
			expect([detail.audit, detail.gaps, detail.pushes, detail.assignments]).toEqual([[], [], [], []]);

			// A count taken after the old commit: three more units, and the old backorder (found through
			// v2's partial index over v1's rows) takes two of them.
			expect(ledger.applySnapshot(sku, [{ location: "wh-east", onHand: 6, asOf: ago(0), source: "wms" }])).toEqual([{ sku, location: "wh-east", status: "applied", onHand: 6 }]);
			expect(ledger.availability(sku)).toMatchObject({ onHand: 6, reserved: 5, available: 1 });
			expect(ledger.detail(sku).audit.map((entry) => [entry.kind, entry.onHandAfter, entry.reservedAfter])).toEqual([["allocate", 6, 5], ["snapshot", 6, 3]]);
			expect(ledger.commit({ orderKey: d, lineId: "41", sku, commitId: "order-fulfilled", quantity: 1 })).toEqual({ committed: 1, location: "wh-east", shortfall: 0 });
			expect(ledger.receiveReturn(sku, { receiptId: `rma-${sku}`, location: "wh-east", quantity: 1, orderKey: d, lineId: "41" })).toEqual({ status: "applied" });
			expect(ledger.availability(sku)).toMatchObject({ onHand: 7, reserved: 5, available: 2 });
		});
	});
});

describe("SkuLedger v4 → v5", () => {
	it("dates the commits v1 left without at_ms, so a count taken before them nets them out", async () => {
		const sku = uniqueSku("upgrade-ledger-v4");
		const shippedAt = ago(2 * HOUR);
		await runInDurableObject(env.SKU_LEDGER.getByName(sku), async (_: SkuLedger, state) => {
			const sql = state.storage.sql;
			rewind(state.storage, SKU_LEDGER, 4);
			sql.exec("INSERT INTO stock (location, on_hand, as_of_ms, source, updated_at) VALUES ('wh-east', 10, ?, 'wms', ?)", Date.now() - 4 * HOUR, ago(4 * HOUR));
			// Two units shipped under v1: v2 added at_ms with its default, 0.
			sql.exec("INSERT INTO commits (order_key, line_id, commit_id, quantity, location, shortfall, at, at_ms) VALUES ('shopify-demo:old', '1', 'shipment:1', 2, 'wh-east', 0, ?, 0)", shippedAt);
			sql.exec("INSERT INTO meta (key, value) VALUES ('sku', ?), ('updated_at', ?)", sku, shippedAt);

			const ledger = new SkuLedger(state, env);
			expect(sql.exec<{ at_ms: number }>("SELECT at_ms FROM commits").one().at_ms).toBe(Date.parse(shippedAt));
			// The warehouse counted 10 three hours ago, before those two left: 8 are there now.
			ledger.applySnapshot(sku, [{ location: "wh-east", onHand: 10, asOf: ago(3 * HOUR), source: "wms" }]);
			expect(ledger.availability(sku)).toMatchObject({ onHand: 8 });
		});
	});
});

describe("FlowMonitor → current", () => {
	const monitorAt = () => env.FLOW_MONITOR.getByName(`schema-upgrade:${crypto.randomUUID()}`);

	it("v1: the exceptions table rebuilt by v2 keeps every row and column, and takes the new kinds", async () => {
		const orderKey = `${CONNECTION}:${newOrderId()}`;
		const at = ago(3 * 24 * HOUR);
		const rawBody = JSON.stringify(order({ id: newOrderId(), lines: [{ sku: "TEE-BLK-M", quantity: 1, price: "20.00" }] })).replace("\"line_items\"", "\"line_items_broken\"");
		const quarantined = {
			connection: CONNECTION, channel: "shopify", topic: "orders/create", eventId: crypto.randomUUID(),
			triggeredAt: ago(3 * 24 * HOUR + 5_000), receivedAt: at, rawBody, reason: "line_items: expected array, received undefined",
		};
		const ids = { quarantine: `quarantine:${CONNECTION}:${quarantined.eventId}`, failure: `saga:${orderKey}:11`, resolved: `saga:${orderKey}:12` };
		await runInDurableObject(monitorAt(), (_: FlowMonitor, state) => {
			const sql = state.storage.sql;
			rewind(state.storage, FLOW_MONITOR, 1);
			expect(columns(sql, "flows")).not.toContain("channel");
			sql.exec(
				`INSERT INTO flows (at, type, connection, order_key, order_name, sku, topic, event_id, detail) VALUES
				 (?, 'received', ?, ?, '#1042', NULL, 'orders/create', ?, NULL), (?, 'line.backordered', ?, ?, '#1042', 'TEE-BLK-M', NULL, NULL, '×2 (0 held)')`,
				at, CONNECTION, orderKey, crypto.randomUUID(), at, CONNECTION, orderKey,
			);
			sql.exec(
				`INSERT INTO exceptions (id, kind, status, reason, connection, channel, topic, event_id, triggered_at, received_at, raw_body, created_at, updated_at)
				 VALUES (?, 'quarantine', 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				ids.quarantine, quarantined.reason, quarantined.connection, quarantined.channel, quarantined.topic, quarantined.eventId, quarantined.triggeredAt, quarantined.receivedAt, rawBody, at, at,
			);
			sql.exec(
				`INSERT INTO exceptions (id, kind, status, reason, order_key, attempts, created_at, updated_at, resolution) VALUES
				 (?, 'failure', 'open', 'reserve of 2 × TEE-BLK-M failed 5 times: SkuLedger overloaded', ?, 5, ?, ?, NULL),
				 (?, 'failure', 'resolved', 'release of 1 × CAP-NVY failed 5 times: network connection lost', ?, 5, ?, ?, 'ledger call succeeded')`,
				ids.failure, orderKey, ago(2 * 24 * HOUR), ago(2 * 24 * HOUR), ids.resolved, orderKey, ago(24 * HOUR), ago(HOUR),
			);
			// What v2 was for: v1 took no other kinds.
			expect(() => sql.exec("INSERT INTO exceptions (id, kind, status, reason, created_at, updated_at) VALUES ('gap:x', 'gap', 'open', 'x', ?, ?)", at, at)).toThrow(/CHECK constraint/);
			const v1 = sql.exec("SELECT * FROM exceptions ORDER BY id").toArray();
			const v1Flows = sql.exec("SELECT * FROM flows ORDER BY cursor").toArray();

			const monitor = new FlowMonitor(state, env);
			expect(version(sql)).toBe(FLOW_MONITOR.length);
			expect(tables(sql)).not.toContain("exceptions_v2");
			expect(sql.exec("SELECT * FROM exceptions ORDER BY id").toArray()).toEqual(v1.map((row) => ({ ...row })));
			const rebuilt = schema(sql).filter((entry) => entry.name === "exceptions" || entry.name === "exceptions_by_status");
			expect(rebuilt.map((entry) => entry.name).sort()).toEqual(["exceptions", "exceptions_by_status"]);
			expect(rebuilt.find((entry) => entry.name === "exceptions")!.sql).not.toMatch(/kind IN/);

			expect(monitor.exception(ids.quarantine)).toMatchObject({ kind: "quarantine", status: "open", eventId: quarantined.eventId, triggeredAt: quarantined.triggeredAt, receivedAt: at, rawBody, attempts: 0 });
			expect(monitor.exceptions("all").map((x) => [x.id, x.status, x.attempts, x.resolution])).toEqual([
				[ids.resolved, "resolved", 5, "ledger call succeeded"],
				[ids.failure, "open", 5, null],
				[ids.quarantine, "open", 0, null],
			]);
			// Old flow events read back under their old cursors, with no channel or status (they had none).
			const flows = monitor.flows(0, 100).events;
			expect(flows.map((f) => [f.cursor, f.type, f.orderKey, f.orderName])).toEqual(v1Flows.map((row) => [row.cursor, row.type, orderKey, "#1042"]));
			expect(flows.every((f) => !("channel" in f) && !("status" in f))).toBe(true);

			// The same webhook quarantined again is the same exception; the old ones resolve; new kinds open.
			expect(monitor.quarantine(quarantined)).toEqual({ id: ids.quarantine, created: false });
			expect(monitor.resolve(ids.failure, "ledger call succeeded")).toBe(true);
			expect(monitor.resolve(ids.failure, "ledger call succeeded")).toBe(false);
			monitor.raise({ id: `gap:TEE-BLK-M:wms-deltas`, kind: "gap", reason: "wms-deltas feed for TEE-BLK-M: waiting for seq 18; parked 19" });
			expect(monitor.exception("gap:TEE-BLK-M:wms-deltas")).toMatchObject({ kind: "gap", status: "open" });

			// New events continue the cursor, fill the by-name index, and name the old exception's order.
			monitor.record([{ type: "received", connection: CONNECTION, channel: "shopify", orderKey, orderName: "#1042", status: "received", topic: "orders/updated" }]);
			const next = monitor.flows(flows.at(-1)!.cursor, 10).events;
			expect(next).toEqual([expect.objectContaining({ cursor: flows.at(-1)!.cursor + 1, channel: "shopify", status: "received" })]);
			expect(monitor.ordersNamed("#1042")).toEqual([expect.objectContaining({ key: orderKey, connection: CONNECTION, status: "received" })]);
			expect(monitor.exception(ids.failure)).toMatchObject({ status: "resolved", resolution: "ledger call succeeded", orderName: "#1042" });
		});
	});

	it("v6: flows, the order index, exceptions, payouts and counters read back and carry on", async () => {
		const orderKey = `${CONNECTION}:${newOrderId()}`;
		const payoutKey = `${CONNECTION}:${newOrderId()}`;
		const at = ago(2 * HOUR);
		await runInDurableObject(monitorAt(), (_: FlowMonitor, state) => {
			const sql = state.storage.sql;
			rewind(state.storage, FLOW_MONITOR, 6);
			sql.exec(
				`INSERT INTO flows (at, type, connection, channel, order_key, order_name, status, sku, detail) VALUES
				 (?, 'routed', ?, 'shopify', ?, '#2001', 'routed', NULL, 'wh-east (2 units)'), (?, 'unroutable', ?, 'shopify', ?, '#2001', 'reserved', NULL, 'no location serves ZZ')`,
				at, CONNECTION, orderKey, at, CONNECTION, orderKey,
			);
			sql.exec("INSERT INTO orders (order_key, order_name, connection, status, updated_at) VALUES (?, '#2001', ?, 'routed', ?)", orderKey, CONNECTION, at);
			sql.exec(
				"INSERT INTO exceptions (id, kind, status, reason, order_key, created_at, updated_at) VALUES (?, 'unroutable', 'open', 'no location serves ZZ', ?, ?, ?)",
				`route:${orderKey}`, orderKey, at, at,
			);
			const summary = { matched: 3, unmatched: 0, fees: { commission: 420 } };
			sql.exec(
				`INSERT INTO payouts (payout_key, connection, channel, payout_id, currency, total, paid_at, status, summary, exceptions, updated_at)
				 VALUES (?, ?, 'shopify', '97531', 'USD', 12345, ?, 'reconciled', ?, 0, ?)`,
				payoutKey, CONNECTION, at, JSON.stringify(summary), at,
			);
			const hour = `${at.slice(0, 13)}:00Z`;
			sql.exec("INSERT INTO counter_totals (name, connection, n) VALUES ('routed', ?, 7), ('unroutable', ?, 1)", CONNECTION, CONNECTION);
			sql.exec("INSERT INTO counter_hours (hour, name, connection, n) VALUES (?, 'routed', ?, 2), (?, 'unroutable', ?, 1)", hour, CONNECTION, hour, CONNECTION);

			const monitor = new FlowMonitor(state, env);
			expect(version(sql)).toBe(FLOW_MONITOR.length);
			const flows = monitor.flows(0, 100).events;
			expect(flows.map((f) => [f.type, f.channel, f.status, f.orderName])).toEqual([["routed", "shopify", "routed", "#2001"], ["unroutable", "shopify", "reserved", "#2001"]]);
			expect(monitor.ordersNamed("#2001")).toEqual([{ key: orderKey, name: "#2001", connection: CONNECTION, status: "routed", updatedAt: at }]);
			expect(monitor.exceptions("open")).toEqual([expect.objectContaining({ id: `route:${orderKey}`, kind: "unroutable", orderName: "#2001" })]);
			expect(monitor.payouts()).toEqual([
				{ payoutKey, connection: CONNECTION, channel: "shopify", payoutId: "97531", currency: "USD", total: 12345, paidAt: at, status: "reconciled", summary, exceptions: 0, updatedAt: at },
			]);

			expect(monitor.resolve(`route:${orderKey}`, "routed")).toBe(true);
			monitor.record([{ type: "routed", connection: CONNECTION, channel: "shopify", orderKey, orderName: "#2001", status: "accepted" }]);
			expect(monitor.ordersNamed("#2001")[0]).toMatchObject({ status: "accepted" });
			expect(monitor.counters(24).counters).toEqual([
				{ name: "routed", connection: CONNECTION, total: 8, recent: 3 },
				{ name: "unroutable", connection: CONNECTION, total: 1, recent: 1 },
			]);
		});
	});
});

describe("migrate()", () => {
	/** A throwaway object to run migration lists on; its own tables are dropped first. */
	const scratch = () => env.PARCEL.getByName(`schema-upgrade:${crypto.randomUUID()}`);

	it("is idempotent: a second run of every class's list changes nothing", async () => {
		const lists = { ORDER_FLOW, SKU_LEDGER, FLOW_MONITOR, DELIVERY_GATE, PARCEL, TRADING_PARTNER, SETTLEMENT, CHANNEL_SWEEP };
		await runInDurableObject(scratch(), (_, state) => {
			const sql = state.storage.sql;
			for (const [name, migrations] of Object.entries(lists)) {
				rewind(state.storage, migrations, migrations.length);
				const first = schema(sql);
				const seeded = tables(sql).filter((t) => t !== "_schema").map((t) => [t, sql.exec(`SELECT COUNT(*) AS n FROM "${t}"`).one().n]);
				migrate(state.storage, migrations);
				expect(schema(sql), name).toEqual(first);
				expect(tables(sql).filter((t) => t !== "_schema").map((t) => [t, sql.exec(`SELECT COUNT(*) AS n FROM "${t}"`).one().n]), name).toEqual(seeded);
				expect(sql.exec("SELECT version FROM _schema").toArray(), name).toEqual([{ version: migrations.length }]);
			}
		});
	});

	it("rolls back a failing migration whole: none of its statements stay and the version does not move", async () => {
		const first = "CREATE TABLE things (id TEXT PRIMARY KEY)";
		const broken = "CREATE TABLE parts (id TEXT PRIMARY KEY); CREATE INDEX parts_by_id ON parts (id); INSERT INTO missing (id) VALUES ('x')";
		await runInDurableObject(scratch(), (_, state) => {
			const sql = state.storage.sql;
			rewind(state.storage, [first], 1);
			sql.exec("INSERT INTO things (id) VALUES ('kept')");
			expect(() => migrate(state.storage, [first, broken])).toThrow(/no such table: missing/);
			expect(version(sql)).toBe(1);
			expect(tables(sql)).toEqual(["_schema", "things"]);
			expect(schema(sql).map((entry) => entry.name)).not.toContain("parts_by_id");
			expect(sql.exec("SELECT id FROM things").toArray()).toEqual([{ id: "kept" }]);

			// Steps pending together share the transaction: a failure in a later one undoes the earlier.
			rewind(state.storage, [], 0);
			expect(() => migrate(state.storage, [first, broken])).toThrow(/no such table: missing/);
			expect(version(sql)).toBeNull();
			expect(tables(sql)).toEqual(["_schema"]);

			// The fixed migration then runs as if the failure never happened.
			migrate(state.storage, [first, "CREATE TABLE parts (id TEXT PRIMARY KEY); CREATE INDEX parts_by_id ON parts (id)"]);
			expect(version(sql)).toBe(2);
			expect(tables(sql)).toEqual(["_schema", "parts", "things"]);
		});
	});

	it("leaves an object at a newer version than the code knows alone (a rolled-back deploy keeps working)", async () => {
		const key = `${CONNECTION}:${newOrderId()}`;
		await runInDurableObject(env.ORDER_FLOW.getByName(key), (_: OrderFlow, state) => {
			const sql = state.storage.sql;
			const newer = [...ORDER_FLOW, "CREATE TABLE later_build (id INTEGER PRIMARY KEY); ALTER TABLE lines ADD COLUMN later INTEGER NOT NULL DEFAULT 0"];
			rewind(state.storage, newer, newer.length);
			sql.exec("INSERT INTO later_build (id) VALUES (1)");
			const before = schema(sql);

			migrate(state.storage, ORDER_FLOW);
			expect(version(sql)).toBe(newer.length);
			expect(schema(sql)).toEqual(before);
			// The older class runs on it: its constructor migrates nothing and its reads work.
			const flow = new OrderFlow(state, env);
			expect(flow.view()).toBeNull();
			expect(version(sql)).toBe(newer.length);
			expect(sql.exec("SELECT id FROM later_build").toArray()).toEqual([{ id: 1 }]);
		});
	});
});
