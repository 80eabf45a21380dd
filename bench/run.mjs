// `npm run bench`: builds the worker, runs it on workerd (Miniflare, in bench/server.mjs — a separate
// process) and loads it from this process with autocannon:
//   1. the floor: a trivial worker's requests/s;
//   2. signed Shopify orders/create webhooks/s (2–3 lines, every one a new order, 1,000 SKUs) and
//      ack latency, then the time until every acked order's reservations are on the ledgers;
//   3. one-line orders for one hot SKU, end to end (webhook → OrderFlow → SkuLedger), so bounded
//      by order intake; then checks that nothing was oversold (fails loudly);
//   3b. reservations/s on one hot SkuLedger called directly over RPC, as a saga calls it, from
//      bench/probe-worker.ts in a workerd process of its own; then the same kind of checks;
//   4. GET /v1/availability latency for 1 and for 50 SKUs per request.
// Writes bench/results.json and bench/results.md. Loopback only; every loop is bounded; the servers
// it starts are stopped in `finally` (and on SIGINT/SIGTERM). Roughly 2 minutes.
//
// Knobs (env): BENCH_CONNECTIONS (32), BENCH_FLOOR_SECONDS (10), BENCH_WEBHOOK_SECONDS (10),
// BENCH_AVAIL_SECONDS (5), BENCH_LEDGER_RESERVES (20,000), BENCH_LEDGER_STOCK (75 % of the
// reserves), BENCH_LEDGER_CONCURRENCY (32), BENCH_DO_STORAGE (shm|disk, see server.mjs),
// BENCH_PORT_BASE (18780).

import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { shopifyOrder, signedDelivery } from "../demo/shopify-orders.mjs";
import { CONNECTION, OPS_TOKEN, SHOPIFY_SECRET } from "./config.mjs";
import { buildProbe, buildWorker, cannon, cpuWindow, http, quiesce, setClockTicks, sleep, startServer, stopServer } from "./lib.mjs";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const FLOOR_SECONDS = Number(process.env.BENCH_FLOOR_SECONDS ?? 10);
const WEBHOOK_SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 10);
const AVAIL_SECONDS = Number(process.env.BENCH_AVAIL_SECONDS ?? 5);
const LEDGER_RESERVES = Number(process.env.BENCH_LEDGER_RESERVES ?? 20_000);
const LEDGER_STOCK = Number(process.env.BENCH_LEDGER_STOCK ?? Math.floor(LEDGER_RESERVES * 0.75));
const LEDGER_CONCURRENCY = Number(process.env.BENCH_LEDGER_CONCURRENCY ?? 32);
const LEDGER_SKU = "LEDGER-HOT-0001";
const SKU_COUNT = 1000;
const HOT_SKU = "HOT-0001";
const SETTLE_TIMEOUT_MS = 45_000;
const WEBHOOK_PATH = `/webhooks/shopify/${CONNECTION}`;

const GOALS = {
	webhookRatio: 0.3,
	webhookP99: 25,
	reservationsPerSecond: 2000,
	avail1P99: 10,
	avail50P99: 30,
};

const t0Run = performance.now();
const log = (...args) => console.error(`[bench ${((performance.now() - t0Run) / 1000).toFixed(1).padStart(5)}s]`, ...args);
const r1 = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);
const r2 = (x) => (x === null || x === undefined ? null : Math.round(x * 100) / 100);
const n0 = (x) => (x === null || x === undefined ? "n/a" : Math.round(x).toLocaleString("en-US"));

const skuName = (i) => `SKU-${String(i).padStart(4, "0")}`;

// ---------------------------------------------------------------- signed webhook pools

/** Pre-signed deliveries (raw body + headers), each a new order with its own event id. */
async function signedOrders(count, firstId, linesFor) {
	const out = new Array(count);
	for (let i = 0; i < count; i++) {
		const id = firstId + i;
		const lines = linesFor(i);
		const delivery = await signedDelivery({ secret: SHOPIFY_SECRET, topic: "orders/create", body: shopifyOrder({ id, lines }) });
		out[i] = { id, lines, body: Buffer.from(delivery.body), headers: delivery.headers };
	}
	return out;
}

function randomLines() {
	const n = 2 + Math.floor(Math.random() * 2); // 2–3 lines, distinct SKUs
	const skus = new Set();
	while (skus.size < n) skus.add(skuName(Math.floor(Math.random() * SKU_COUNT)));
	return [...skus].map((sku) => ({ sku, quantity: 1 + Math.floor(Math.random() * 3), price: "12.50" }));
}

/**
 * Sends each pooled delivery at most once: one cursor shared by all connections. If the pool runs
 * dry the run is stopped (a wrapped cursor would measure dedupe, not ingestion) and the rate is taken
 * up to the last ack instead of over autocannon's duration.
 */
async function runWebhooks(base, pool, { connections = CONNECTIONS, ...opts }, phase) {
	const tally = { status: {}, http: {}, acked: new Set(), other: 0, samples: [], lastAckAt: 0 };
	const state = { next: 0, exhausted: false, instance: null };
	const requests = [
		{
			method: "POST",
			path: WEBHOOK_PATH,
			setupRequest(req) {
				const item = pool[state.next];
				if (!item) {
					if (!state.exhausted) {
						state.exhausted = true;
						setImmediate(() => state.instance?.stop());
					}
					return { ...req, method: "GET", path: "/health", headers: {}, body: undefined };
				}
				state.next++;
				return { ...req, headers: item.headers, body: item.body };
			},
			onResponse(status, body) {
				if (status !== 200) {
					tally.http[status] = (tally.http[status] ?? 0) + 1;
					if (tally.samples.length < 5) tally.samples.push(`${status} ${body.slice(0, 200)}`);
					return;
				}
				if (body.startsWith('{"ok"')) return; // /health filler after the pool ran dry
				let parsed;
				try {
					parsed = JSON.parse(body);
				} catch {
					tally.other++;
					return;
				}
				tally.status[parsed.status] = (tally.status[parsed.status] ?? 0) + 1;
				if (parsed.status === "applied") {
					tally.acked.add(Number(parsed.order.slice(parsed.order.indexOf(":") + 1)));
					tally.lastAckAt = performance.now();
				}
			},
		},
	];
	const startedAt = performance.now();
	const run = await cannon({ url: base, connections, requests, ...opts }, { onStart: (instance) => (state.instance = instance) });
	if (Object.keys(tally.http).length || tally.other || run.result.errors || run.result.timeouts) {
		log(`WARNING ${phase}: non-200 ${JSON.stringify(tally.http)}, unparsed ${tally.other}, errors ${run.result.errors}, timeouts ${run.result.timeouts}`, tally.samples);
	}
	const applied = tally.status.applied ?? 0;
	const seconds = state.exhausted ? (tally.lastAckAt - startedAt) / 1000 : run.result.duration;
	return { run, tally, applied, rate: applied / seconds, seconds, exhausted: state.exhausted, sent: pool.slice(0, state.next) };
}

/**
 * Orders that were sent but whose ack autocannon never read (in flight when a timed run ended) may
 * still have been applied: ask their OrderFlow objects.
 */
async function appliedInFlight(base, sent, acked) {
	const unknown = sent.filter((p) => !acked.has(p.id));
	const applied = [];
	for (const p of unknown) {
		const response = await fetch(`${base}/ops/orders/${encodeURIComponent(`${CONNECTION}:${p.id}`)}`, {
			headers: { Authorization: `Bearer ${OPS_TOKEN}` },
		});
		await response.arrayBuffer();
		if (response.status === 200) applied.push(p);
	}
	return { unknown: unknown.length, applied };
}

/**
 * workerd keeps 3 files open per live SQLite-backed object (db, -wal, -shm) and evicts idle ones
 * after ~10 s, so the orders one run can create are bounded by the process's open-file limit;
 * past it new objects fail with SQLITE_CANTOPEN (500s). Returns how many new objects fit.
 */
function objectBudget(pid) {
	let limit = 1024;
	let open = 100;
	try {
		limit = Number(/Max open files\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))?.[1] ?? limit);
		open = readdirSync(`/proc/${pid}/fd`).length;
	} catch {}
	return { limit, open, budget: Math.max(0, Math.floor((limit - 300 - open) / 3)) };
}

// ---------------------------------------------------------------- phases

async function measureFloor(server, groups) {
	log(`(1) floor: trivial worker, warm-up 2 s, then ${FLOOR_SECONDS} s at ${CONNECTIONS} connections`);
	const measure = async (url, seconds, group) => {
		await cannon({ url, connections: CONNECTIONS, duration: 2 });
		const cpu = cpuWindow(groups, { threadsOf: server.info.floorPids });
		const { result, latency } = await cannon({ url, connections: CONNECTIONS, duration: seconds });
		const usage = cpu.end();
		const rps = result["2xx"] / result.duration;
		return { rps: Math.round(rps), p50Ms: r2(latency.p50), p99Ms: r2(latency.p99), requests: result["2xx"], non2xx: result.non2xx, errors: result.errors, seconds: result.duration, cpu: usage, [group]: true };
	};
	const direct = await measure(server.info.floorUrl, FLOOR_SECONDS, "directSocket");
	log(`    ${n0(direct.rps)} req/s, p50 ${direct.p50Ms} ms, p99 ${direct.p99Ms} ms; cpu ${JSON.stringify(direct.cpu)}`);
	const viaEntry = await measure(server.info.floorEntryUrl, 4, "miniflareEntrySocket");
	log(`    reference, through Miniflare's entry worker: ${n0(viaEntry.rps)} req/s, p50 ${viaEntry.p50Ms} ms, p99 ${viaEntry.p99Ms} ms`);
	return { ...direct, viaMiniflareEntry: viaEntry };
}

async function stockCatalog(base) {
	const items = Array.from({ length: SKU_COUNT }, (_, i) => ({ sku: skuName(i), location: "wh-bench", onHand: 1_000_000 }));
	const t = performance.now();
	const out = await http(base, "/v1/inventory/snapshots", { method: "POST", ops: true, body: { source: "bench", asOf: new Date().toISOString(), items } });
	if (out.applied !== SKU_COUNT) throw new Error(`snapshot applied ${out.applied} of ${SKU_COUNT}`);
	log(`stocked ${SKU_COUNT} SKUs × 1,000,000 units (one snapshot request, ${SKU_COUNT} new SkuLedger objects) in ${(performance.now() - t).toFixed(0)} ms`);
}

/** Reserved units for all 1,000 SKUs (10 requests × 100 SKUs). */
async function reservedBySku(base) {
	const out = new Map();
	for (let i = 0; i < SKU_COUNT; i += 100) {
		const qs = Array.from({ length: 100 }, (_, j) => `sku=${skuName(i + j)}`).join("&");
		const { items } = await http(base, `/v1/availability?${qs}`);
		for (const item of items) out.set(item.sku, item.reserved);
	}
	return out;
}

async function measureWebhooks(server, groups) {
	const base = server.info.appUrl;
	let nextId = 1_000_000;
	const take = async (count, lines = randomLines) => {
		const pool = await signedOrders(count, nextId, lines);
		nextId += count;
		return pool;
	};
	/** Units every applied order holds, per SKU (stock is ample, so nothing is backordered). */
	const expected = new Map();
	const expect = (orders) => {
		for (const p of orders) for (const l of p.lines) expected.set(l.sku, (expected.get(l.sku) ?? 0) + l.quantity);
	};
	const account = async (pool, out) => {
		const byId = new Map(pool.map((p) => [p.id, p]));
		expect([...out.tally.acked].map((id) => byId.get(id)));
		const inFlight = await appliedInFlight(base, out.sent, out.tally.acked);
		expect(inFlight.applied);
		return inFlight;
	};

	log("(2) webhooks: warm-up with 1,000 signed orders");
	const warmPool = await take(1000);
	const warm = await runWebhooks(base, warmPool, { amount: warmPool.length - CONNECTIONS * 4 }, "warm-up");
	await account(warmPool, warm);
	let poolSize = Math.max(6000, Math.ceil(warm.rate * WEBHOOK_SECONDS * 1.8) + 2000);
	const fds = objectBudget(server.info.appPids[0]);
	const capped = poolSize > fds.budget;
	if (capped) poolSize = fds.budget; // past it, new objects would fail with SQLITE_CANTOPEN
	log(`    warm-up: ${warm.rate.toFixed(0)} acks/s; generating ${n0(poolSize)} signed orders for the measured run`);
	const tGen = performance.now();
	const pool = await take(poolSize);
	const drained = await quiesce(server.info.appPids, { maxMs: 20_000 });
	log(`    generated in ${((performance.now() - tGen) / 1000).toFixed(1)} s (avg body ${(pool.reduce((a, p) => a + p.body.byteLength, 0) / pool.length).toFixed(0)} B); measuring ${WEBHOOK_SECONDS} s at ${CONNECTIONS} connections (after ${drained} ms drain)`);

	const cpu = cpuWindow(groups, { threadsOf: server.info.appPids });
	const tStart = Date.now();
	const main = await runWebhooks(base, pool, { duration: WEBHOOK_SECONDS }, "webhooks");
	const ackCpu = cpu.end();
	const tAcked = Date.now();
	const cappedByFileLimit = capped && main.exhausted;
	if (cappedByFileLimit) {
		log(`    NOTE: the run stopped after ${n0(poolSize)} orders: workerd's open-file limit (${fds.limit}, 3 files per live object) allows no more; raise \`ulimit -n\` for a full ${WEBHOOK_SECONDS} s run`);
	}
	const inFlight = await account(pool, main);
	const lines = [...main.tally.acked].reduce((a, id) => a + pool[id - pool[0].id].lines.length, 0);
	log(`    ${main.rate.toFixed(0)} webhooks/s acked (${main.applied} applied, ${main.tally.status.duplicate ?? 0} duplicate, ${lines} lines; ${inFlight.unknown} in flight at the end, ${inFlight.applied.length} of them applied), p50 ${main.run.latency.p50.toFixed(2)} ms, p99 ${main.run.latency.p99.toFixed(2)} ms${main.exhausted ? " — POOL EXHAUSTED, rate taken to the last ack" : ""}`);
	log(`    cpu during acks: ${JSON.stringify(ackCpu)}`);

	// The saga runs after the ack: wait until every applied order's units are reserved.
	log("    waiting for every applied order's reservations to land on the ledgers…");
	const settleCpu = cpuWindow(groups, { threadsOf: server.info.appPids });
	let settledAt = null;
	let mismatched = null;
	const deadline = performance.now() + SETTLE_TIMEOUT_MS;
	while (performance.now() < deadline) {
		const reserved = await reservedBySku(base);
		mismatched = 0;
		for (let i = 0; i < SKU_COUNT; i++) if ((reserved.get(skuName(i)) ?? 0) !== (expected.get(skuName(i)) ?? 0)) mismatched++;
		if (mismatched === 0) {
			settledAt = Date.now();
			break;
		}
		await sleep(200);
	}
	const drainCpu = settleCpu.end();
	const applied = main.applied + inFlight.applied.length;
	const settle = settledAt
		? { settled: true, drainAfterLastAckMs: settledAt - tAcked, endToEndOrdersPerSecond: Math.round(applied / ((settledAt - tStart) / 1000)), cpu: drainCpu }
		: { settled: false, skusStillMismatched: mismatched, cpu: drainCpu };
	log(settledAt
		? `    all reservations landed ${settle.drainAfterLastAckMs} ms after the last ack → ${settle.endToEndOrdersPerSecond} orders/s end to end`
		: `    WARNING: ${mismatched} SKUs still differ from the acked orders after ${SETTLE_TIMEOUT_MS} ms`);


	return {
		rps: Math.round(main.rate),
		p50Ms: r2(main.run.latency.p50),
		p90Ms: r2(main.run.latency.p90),
		p99Ms: r2(main.run.latency.p99),
		maxMs: r2(main.run.latency.max),
		seconds: r2(main.seconds),
		applied: main.applied,
		duplicates: main.tally.status.duplicate ?? 0,
		lines,
		inFlightAtEnd: inFlight.unknown,
		non200: main.tally.http,
		errors: main.run.result.errors,
		timeouts: main.run.result.timeouts,
		poolExhausted: main.exhausted,
		cappedByFileLimit,
		avgBodyBytes: Math.round(pool.reduce((a, p) => a + p.body.byteLength, 0) / pool.length),
		warmupAcksPerSecond: Math.round(warm.rate),
		cpu: ackCpu,
		workerdCpuMsPerOrder: r2((ackCpu.appWorkerd * 1000) / main.rate),
		settle,
	};
}

/** Ack latency without queueing: one connection (each order's saga still runs after its ack). */
async function measureWebhooksSingle(server, rateHint) {
	await quiesce(server.info.appPids, { maxMs: 10_000 });
	const count = Math.min(objectBudget(server.info.appPids[0]).budget, Math.max(600, Math.ceil(rateHint * 4)));
	const pool = await signedOrders(count, 40_000_000, randomLines);
	const single = await runWebhooks(server.info.appUrl, pool, { connections: 1, duration: 3 }, "webhooks @1");
	log(`(2) 1 connection: ${single.rate.toFixed(0)} webhooks/s, ack p50 ${single.run.latency.p50.toFixed(2)} ms, p99 ${single.run.latency.p99.toFixed(2)} ms`);
	return { rps: Math.round(single.rate), p50Ms: r2(single.run.latency.p50), p99Ms: r2(single.run.latency.p99), applied: single.applied, poolExhausted: single.exhausted };
}

async function measureAvailability(server, groups) {
	const base = server.info.appUrl;
	const pick = () => skuName(Math.floor(Math.random() * SKU_COUNT));
	const paths1 = Array.from({ length: 4096 }, () => `/v1/availability?sku=${pick()}`);
	const paths50 = Array.from({ length: 1024 }, () => {
		const s = new Set();
		while (s.size < 50) s.add(pick());
		return `/v1/availability?${[...s].map((k) => `sku=${k}`).join("&")}`;
	});
	const load = (paths) => {
		let i = 0;
		return [{ method: "GET", setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] }) }];
	};
	const out = {};
	for (const [name, paths] of [["one", paths1], ["fifty", paths50]]) {
		for (const connections of [1, CONNECTIONS]) {
			await cannon({ url: base, connections, duration: 1, requests: load(paths) });
			const cpu = cpuWindow(groups, { threadsOf: server.info.appPids });
			const { result, latency } = await cannon({ url: base, connections, duration: AVAIL_SECONDS, requests: load(paths) });
			const usage = cpu.end();
			const key = `${name}_c${connections}`;
			out[key] = {
				skusPerRequest: name === "one" ? 1 : 50,
				connections,
				rps: Math.round(result["2xx"] / result.duration),
				p50Ms: r2(latency.p50),
				p99Ms: r2(latency.p99),
				non2xx: result.non2xx,
				errors: result.errors,
				cpu: usage,
			};
			log(`(4) availability ${name === "one" ? "1 SKU" : "50 SKUs"} @ ${connections} conn: ${n0(out[key].rps)} req/s, p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms; app workerd ${usage.appWorkerd} cores`);
			if (result.non2xx || result.errors) log(`    WARNING: non-2xx ${result.non2xx}, errors ${result.errors}`);
		}
	}
	return out;
}

async function measureHotSku(server, groups, oneLineRateHint) {
	const base = server.info.appUrl;
	// Several seconds of orders at the expected rate; stock below the order count.
	const fds = objectBudget(server.info.appPids[0]);
	const orders = Math.min(20_000, fds.budget, Math.max(3000, Math.round((oneLineRateHint * 8) / 500) * 500));
	const stock = Math.floor(orders * 0.75);
	log(`(3) hot SKU: stocking ${HOT_SKU} with ${n0(stock)} units, generating ${n0(orders)} one-line orders (1 unit each)`);
	await http(base, "/v1/inventory/snapshots", {
		method: "POST",
		ops: true,
		body: { source: "bench", asOf: new Date().toISOString(), items: [{ sku: HOT_SKU, location: "wh-bench", onHand: stock }] },
	});
	// `amount` caps what is sent; the margin keeps connections that pre-build a request off the end of the pool.
	const pool = await signedOrders(orders + CONNECTIONS * 4, 50_000_000, () => [{ sku: HOT_SKU, quantity: 1, price: "30.00" }]);
	const drained = await quiesce(server.info.appPids, { maxMs: 20_000 });
	log(`    firing ${n0(orders)} webhooks at ${CONNECTIONS} connections (after ${drained} ms drain)`);

	const cpu = cpuWindow(groups, { threadsOf: server.info.appPids });
	const tFirst = Date.now();
	const { run, tally, applied } = await runWebhooks(base, pool, { amount: orders }, "hot SKU");
	const tAcked = Date.now();
	const sentOrders = Object.values(tally.status).reduce((a, b) => a + b, 0);
	log(`    acked ${n0(applied)} orders in ${((tAcked - tFirst) / 1000).toFixed(2)} s (${(applied / ((tAcked - tFirst) / 1000)).toFixed(0)}/s), ack p99 ${run.latency.p99.toFixed(1)} ms; polling the ledger`);

	// Cheap poll until every unit is held, then the full detail until every order has its row.
	let detail = null;
	let tSeen = null;
	const deadline = performance.now() + SETTLE_TIMEOUT_MS;
	while (performance.now() < deadline) {
		const { items } = await http(base, `/v1/availability?sku=${HOT_SKU}`);
		if (items[0].reserved >= Math.min(stock, applied)) break;
		await sleep(100);
	}
	while (performance.now() < deadline) {
		detail = await http(base, `/ops/skus/${HOT_SKU}`, { ops: true });
		if (detail.reservations.length >= applied) {
			tSeen = Date.now();
			break;
		}
		await sleep(200);
	}
	const usage = cpu.end();
	if (!detail) throw new Error(`hot SKU: the ledger did not answer within ${SETTLE_TIMEOUT_MS} ms`);

	const rows = detail.reservations.length;
	const open = detail.reservations.filter((r) => r.status === "open");
	const sumOpen = open.reduce((a, r) => a + r.quantity, 0);
	const holding = detail.reservations.filter((r) => r.quantity > 0).length;
	const overRequested = detail.reservations.filter((r) => r.quantity > r.requested).length;
	const expectedReserved = Math.min(stock, applied);
	// The ledger stamps updatedAt on every reservation write: after the last row it is that row's time.
	const tLast = Date.parse(detail.updatedAt);
	const windowMs = tLast - tFirst;
	const checks = {
		everyOrderHasOneRow: rows === applied,
		reservedEqualsMinOfStockAndOrders: detail.reserved === expectedReserved,
		reservedNotAboveOnHand: detail.reserved <= detail.onHand,
		availableNonNegative: detail.available >= 0 && detail.onHand - detail.reserved >= 0,
		sumOfOpenReservationsEqualsReserved: sumOpen === detail.reserved,
		noLineHoldsMoreThanRequested: overRequested === 0,
		everyRequestAppliedOnce: (tally.status.duplicate ?? 0) === 0 && sentOrders === applied && Object.keys(tally.http).length === 0,
	};
	const oversell = Math.max(0, detail.reserved - detail.onHand, sumOpen - detail.onHand, holding - stock);
	const result = {
		orders: applied,
		stock,
		rows,
		reserved: detail.reserved,
		onHand: detail.onHand,
		available: detail.available,
		sumOpenReservations: sumOpen,
		linesHoldingUnits: holding,
		backorderedRows: rows - holding,
		oversell,
		ackSeconds: r2((tAcked - tFirst) / 1000),
		ackRate: Math.round(applied / ((tAcked - tFirst) / 1000)),
		ackP50Ms: r2(run.latency.p50),
		ackP99Ms: r2(run.latency.p99),
		firstRequestToLastReservationMs: windowMs,
		lastReservationAfterLastAckMs: tLast - tAcked,
		pollSawAllRowsAfterMs: tSeen ? tSeen - tFirst : null,
		reservationsPerSecond: rows === applied && windowMs > 0 ? Math.round(rows / (windowMs / 1000)) : null,
		checks,
		cpu: usage,
	};
	log(`    ${n0(rows)} reservation rows (${n0(holding)} holding a unit, ${n0(rows - holding)} backordered); reserved ${detail.reserved}/${stock}, onHand ${detail.onHand}, Σ open ${sumOpen}`);
	log(`    first request → last reservation ${windowMs} ms → ${result.reservationsPerSecond} reservations/s; oversell ${oversell}; cpu ${JSON.stringify(usage)}`);
	return result;
}

/**
 * (3b) One hot SkuLedger called directly over RPC, the way OrderFlow's saga calls it, without the
 * order intake in front. Runs in the probe worker's own workerd process: one request there makes
 * N one-unit reserves, each a distinct order line, from C concurrent callers in the isolate, to a
 * freshly stocked SKU with S < N units. The Workers clock only moves on I/O, so the client times
 * that request. Then the ledger's detail must show exactly S reserved and N − S backordered.
 */
async function measureLedger(server, groups) {
	const base = server.info.probeUrl;
	const [n, stock, c] = [LEDGER_RESERVES, LEDGER_STOCK, LEDGER_CONCURRENCY];
	if (!(n > stock && stock > 0 && c > 0)) throw new Error(`(3b) needs BENCH_LEDGER_RESERVES > BENCH_LEDGER_STOCK > 0 and concurrency > 0 (got ${n}, ${stock}, ${c})`);
	log(`(3b) one SkuLedger over RPC: warm-up (2,000 reserves on another SKU), then ${n0(n)} one-unit reserves, ${c} in flight, against ${n0(stock)} units of ${LEDGER_SKU}`);
	const post = (path) => http(base, path, { method: "POST" });
	await post("/__probe/ledger/stock?sku=LEDGER-WARM&units=1500");
	await post(`/__probe/ledger/reserve?sku=LEDGER-WARM&n=2000&c=${c}&prefix=warm`);
	const stocked = await post(`/__probe/ledger/stock?sku=${LEDGER_SKU}&units=${stock}`);
	const outcome = stocked.outcomes?.[0];
	if (outcome?.status !== "applied" || outcome.onHand !== stock) throw new Error(`(3b) stocking ${LEDGER_SKU} failed: ${JSON.stringify(stocked)}`);
	const drained = await quiesce([...server.info.probePids, ...server.info.appPids], { maxMs: 10_000 });

	const cpu = cpuWindow(groups, { threadsOf: server.info.probePids });
	const t = performance.now();
	const batch = await post(`/__probe/ledger/reserve?sku=${LEDGER_SKU}&n=${n}&c=${c}&prefix=order`);
	const wallMs = performance.now() - t;
	const usage = cpu.end();
	const detail = await http(base, `/__probe/ledger/detail?sku=${LEDGER_SKU}`);

	const rows = detail.reservations;
	const open = rows.filter((r) => r.status === "open");
	const sumOpen = open.reduce((a, r) => a + r.quantity, 0);
	const holding = rows.filter((r) => r.quantity > 0).length;
	const overRequested = rows.filter((r) => r.quantity > r.requested).length;
	const waiting = detail.backorders.reduce((a, b) => a + b.waiting, 0);
	// Rows are in arrival order and stock only shrinks: every holder must come before every backorder.
	const firstBackorder = rows.findIndex((r) => r.quantity === 0);
	const lastHolder = rows.findLastIndex((r) => r.quantity > 0);
	const checks = {
		everyCallAnswered: batch.calls === n && batch.errors === 0 && batch.notOpen === 0,
		oneRowPerLine: rows.length === n && rows.every((r) => r.requested === 1),
		reservedEqualsStock: detail.reserved === stock,
		availableIsZero: detail.available === 0 && detail.onHand - detail.reserved === 0,
		onHandUnchanged: detail.onHand === stock,
		sumOfOpenReservationsEqualsReserved: open.length === n && sumOpen === detail.reserved,
		noReservationAboveItsRequest: overRequested === 0 && batch.overRequest === 0,
		backordersEqualReservesMinusStock: detail.backorders.length === n - stock && waiting === n - stock,
		callersToldTheSame: batch.reserved === stock && batch.backordered === n - stock,
		firstComeFirstServed: holding === stock && (firstBackorder === -1 || lastHolder < firstBackorder),
		auditAgrees: detail.audit?.[0]?.reservedAfter === stock && detail.audit[0].onHandAfter === stock,
	};
	const oversell = Math.max(0, detail.reserved - detail.onHand, sumOpen - detail.onHand, holding - stock, batch.reserved - stock);
	const result = {
		sku: LEDGER_SKU,
		reserves: n,
		stock,
		concurrency: c,
		wallMs: r1(wallMs),
		isolateMs: batch.isolateMs,
		reservationsPerSecond: Math.round(n / (wallMs / 1000)),
		reserved: detail.reserved,
		onHand: detail.onHand,
		available: detail.available,
		rows: rows.length,
		sumOpenReservations: sumOpen,
		linesHoldingUnits: holding,
		backorders: detail.backorders.length,
		unitsWaiting: waiting,
		callErrors: batch.errors,
		firstCallError: batch.firstError,
		oversell,
		checks,
		drainBeforeMs: drained,
		cpu: usage,
		workerdCpuUsPerReserve: usage.probeWorkerd === undefined ? null : r1((usage.probeWorkerd * usage.seconds * 1e6) / n),
	};
	log(`    ${n0(n)} reserves in ${wallMs.toFixed(0)} ms (client clock; ${batch.isolateMs} ms by the isolate's) → ${n0(result.reservationsPerSecond)} reservations/s; ${result.workerdCpuUsPerReserve} µs of workerd CPU each`);
	log(`    reserved ${detail.reserved}/${stock}, onHand ${detail.onHand}, available ${detail.available}, Σ open ${sumOpen}, backorders ${detail.backorders.length} (${waiting} units); oversell ${oversell}; cpu ${JSON.stringify(usage)}`);
	const failed = Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => name);
	if (failed.length) log(`    FAILED checks: ${failed.join(", ")}${batch.firstError ? `; first call error: ${batch.firstError}` : ""}`);
	return result;
}

// ---------------------------------------------------------------- report

function machineInfo(storage) {
	const cpus = os.cpus();
	const version = (pkg) => {
		try {
			return JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, "utf8")).version;
		} catch {
			return null;
		}
	};
	return {
		cpuModel: cpus[0]?.model ?? "unknown",
		cores: cpus.length,
		memoryGiB: Math.round(os.totalmem() / 2 ** 30),
		os: `${os.type()} ${os.release()} ${os.arch()}`,
		node: process.version,
		workerd: version("workerd"),
		miniflare: version("miniflare"),
		wrangler: version("wrangler"),
		autocannon: version("autocannon"),
		date: new Date().toISOString(),
		loadAverageAtStart: os.loadavg().map(r2),
		durableObjectStorage: storage,
		note:
			`${cpus.length} cores shared by the server (workerd) and the load generator (autocannon, same machine, loopback). ` +
			"Each workerd process runs its isolate on one thread, so the app's figures are bounded by one core.",
	};
}

function sourceInfo() {
	const git = (...args) => {
		try {
			return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
		} catch {
			return null;
		}
	};
	const dirty = git("status", "--porcelain", "--", "worker", "durable-objects", "demo", "wrangler.toml", "package.json");
	return { commit: git("rev-parse", "--short", "HEAD"), uncommittedChanges: dirty === null ? null : dirty.length > 0 };
}

/** Phases during which other processes on the machine used noticeable CPU (their figures are suspect). */
function contaminated(results) {
	const out = [];
	const check = (label, cpu) => {
		if (cpu && cpu.otherProcesses !== null && cpu.otherProcesses > 0.15) out.push(`${label} (${cpu.otherProcesses} cores)`);
	};
	check("(1)", results.floor?.cpu);
	check("(2)", results.webhooks?.cpu);
	check("(3)", results.reservations?.cpu);
	check("(3b)", results.ledger?.cpu);
	for (const [k, v] of Object.entries(results.availability ?? {})) check(`(4) ${k}`, v.cpu);
	return out;
}

function goalsOf(results) {
	const { floor, webhooks, reservations, ledger, availability } = results;
	const ratio = webhooks && floor ? webhooks.rps / floor.rps : null;
	const a = (key) => availability?.[key];
	const avail = (key) => a(key) && `p50 ${a(key).p50Ms} ms, p99 ${a(key).p99Ms} ms (${n0(a(key).rps)} req/s)`;
	return [
		{ figure: `(1) floor: trivial worker, ${CONNECTIONS} conn`, value: floor && `${n0(floor.rps)} req/s (p50 ${floor.p50Ms} ms, p99 ${floor.p99Ms} ms)`, goal: "—", met: null },
		{
			figure: `(2) signed orders/create webhooks, ${CONNECTIONS} conn`,
			value: webhooks && `${n0(webhooks.rps)} /s = ${(ratio * 100).toFixed(1)} % of (1); ack p50 ${webhooks.p50Ms} ms, p99 ${webhooks.p99Ms} ms`,
			goal: `≥ ${GOALS.webhookRatio * 100} % of (1), p99 ≤ ${GOALS.webhookP99} ms`,
			met: webhooks ? ratio >= GOALS.webhookRatio && webhooks.p99Ms <= GOALS.webhookP99 : false,
		},
		{
			figure: "(2) same, 1 conn (ack without queueing)",
			value: webhooks?.oneConnection && `${n0(webhooks.oneConnection.rps)} /s; ack p50 ${webhooks.oneConnection.p50Ms} ms, p99 ${webhooks.oneConnection.p99Ms} ms`,
			goal: "",
			met: null,
		},
		{
			figure: "(2) same orders, until all reservations landed",
			value: webhooks?.settle?.settled
				? `${n0(webhooks.settle.endToEndOrdersPerSecond)} orders/s end to end (ledgers caught up ${(webhooks.settle.drainAfterLastAckMs / 1000).toFixed(1)} s after the last ack)`
				: "did not settle",
			goal: "",
			met: null,
		},
		{
			figure: "(3) hot SKU end to end: one-line webhooks → OrderFlow → SkuLedger (bounded by order intake)",
			value: reservations && `${n0(reservations.reservationsPerSecond)} reservations/s (${n0(reservations.orders)} one-line orders, ${n0(reservations.stock)} units); oversell ${reservations.oversell}`,
			goal: `≥ ${n0(GOALS.reservationsPerSecond)} /s, oversell = 0`,
			met: reservations ? (reservations.reservationsPerSecond ?? 0) >= GOALS.reservationsPerSecond && reservations.oversell === 0 && Object.values(reservations.checks).every(Boolean) : false,
		},
		{
			figure: "(3b) one hot SkuLedger, reserve called directly over RPC (as a saga calls it)",
			value: ledger && `${n0(ledger.reservationsPerSecond)} reservations/s (${n0(ledger.reserves)} one-unit reserves, ${ledger.concurrency} in flight, ${n0(ledger.stock)} units); oversell ${ledger.oversell}${Object.values(ledger.checks).every(Boolean) ? "" : ", checks FAILED"}`,
			goal: `≥ ${n0(GOALS.reservationsPerSecond)} /s, oversell = 0`,
			met: ledger ? ledger.reservationsPerSecond >= GOALS.reservationsPerSecond && ledger.oversell === 0 && Object.values(ledger.checks).every(Boolean) : false,
		},
		{ figure: `(4) availability, 1 SKU, ${CONNECTIONS} conn`, value: avail(`one_c${CONNECTIONS}`), goal: `p99 ≤ ${GOALS.avail1P99} ms`, met: a(`one_c${CONNECTIONS}`) ? a(`one_c${CONNECTIONS}`).p99Ms <= GOALS.avail1P99 : false },
		{ figure: "(4) availability, 1 SKU, 1 conn", value: avail("one_c1"), goal: "", met: null },
		{ figure: `(4) availability, 50 SKUs, ${CONNECTIONS} conn`, value: avail(`fifty_c${CONNECTIONS}`), goal: `p99 ≤ ${GOALS.avail50P99} ms`, met: a(`fifty_c${CONNECTIONS}`) ? a(`fifty_c${CONNECTIONS}`).p99Ms <= GOALS.avail50P99 : false },
		{ figure: "(4) availability, 50 SKUs, 1 conn", value: avail("fifty_c1"), goal: "", met: null },
	];
}

function markdown(results) {
	const m = results.machine;
	const rows = results.goals.map((g) => `| ${g.figure} | ${g.value ?? "not measured"} | ${g.goal} | ${g.met === null ? "" : g.met ? "✅" : "❌"} |`);
	const w = results.webhooks;
	const f = results.floor;
	return [
		`**${m.date.slice(0, 10)}**${results.source?.commit ? ` · commit ${results.source.commit}${results.source.uncommittedChanges ? " + uncommitted changes" : ""}${results.source.changedDuringRun ? " (the source changed during the run)" : ""}` : ""} · ${m.cpuModel}, **${m.cores} cores shared by server and load generator** · Node ${m.node} · workerd ${m.workerd} (Miniflare ${m.miniflare}) · autocannon ${m.autocannon}`,
		"",
		"| Figure | Result | Goal | Met |",
		"|---|---|---|---|",
		...rows,
		"",
		`Measured on workerd directly: each worker is reached through a workerd socket bound straight to it (Miniflare \`unsafeDirectSockets\`), not through \`wrangler dev\` or Miniflare's entry worker${f?.viaMiniflareEntry ? ` (through which the same trivial worker manages ${n0(f.viaMiniflareEntry.rps)} req/s, p99 ${f.viaMiniflareEntry.p99Ms} ms)` : ""}. ` +
			`Durable Objects are SQLite-backed, with their files in a temp dir on ${m.durableObjectStorage === "shm" ? "tmpfs (/dev/shm)" : "the VM's disk"}. ` +
			"Load generator and server share the machine's cores over loopback; each workerd process runs the worker and all its Durable Objects on one thread, so the app is bounded by one core" +
			(w ? ` (during (2) the app's workerd used ${w.cpu.appWorkerd} cores — ${w.workerdCpuMsPerOrder} ms of CPU per order — autocannon ${w.cpu.loadgen}, other processes ${w.cpu.otherProcesses})` : "") +
			". Latency percentiles are exact, from every response." +
			(results.ledger ? ` (3b) runs \`bench/probe-worker.ts\` (the same worker and Durable Object classes plus \`/__probe\` routes) in a third workerd process: one request makes every reserve RPC from ${results.ledger.concurrency} concurrent callers inside that isolate, so callers and ledger share its one thread; the client times the request.` : ""),
		w?.cappedByFileLimit ? `\n**Note:** (2) stopped early, at workerd's open-file limit (3 files per live Durable Object); raise \`ulimit -n\`.` : "",
		results.otherCpu?.length ? `\n**Warning:** other processes used CPU during ${results.otherCpu.join(", ")}: those figures are low; rerun on a quiet machine.` : "",
		...(results.failures ?? []).map((f) => `\n**Run failed:** ${f}`),
		"",
	].join("\n");
}

// ---------------------------------------------------------------- main

let server = null;
let stopping = false;
async function cleanupAndExit(code) {
	if (stopping) return;
	stopping = true;
	log("interrupted: stopping servers");
	await stopServer(server).catch(() => {});
	process.exit(code);
}
process.on("SIGINT", () => void cleanupAndExit(130));
process.on("SIGTERM", () => void cleanupAndExit(143));

async function main() {
	try {
		setClockTicks(Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()));
	} catch {}
	const results = {
		machine: null,
		config: {
			connections: CONNECTIONS,
			floorSeconds: FLOOR_SECONDS,
			webhookSeconds: WEBHOOK_SECONDS,
			availabilitySeconds: AVAIL_SECONDS,
			skus: SKU_COUNT,
			ledger: { reserves: LEDGER_RESERVES, stock: LEDGER_STOCK, concurrency: LEDGER_CONCURRENCY },
			goals: GOALS,
		},
	};
	const failures = [];
	// What is built is the tree at the start; others may commit while the bench runs.
	const sourceAtBuild = sourceInfo();
	try {
		buildWorker(log);
		const probeScript = await buildProbe(log);
		log("starting bench/server.mjs (Miniflare → workerd)");
		server = await startServer({ env: { BENCH_PROBE_SCRIPT: probeScript } });
		results.machine = machineInfo(server.info.storage);
		const groups = { appWorkerd: server.info.appPids, floorWorkerd: server.info.floorPids, probeWorkerd: server.info.probePids, serverNode: [server.info.pid] };
		log(`app ${server.info.appUrl} (workerd pid ${server.info.appPids}), floor ${server.info.floorUrl} (workerd pid ${server.info.floorPids}), probe ${server.info.probeUrl} (workerd pid ${server.info.probePids}); DO storage: ${server.info.storage} (${server.info.tmpdir})`);

		results.floor = await measureFloor(server, groups);
		await stockCatalog(server.info.appUrl);
		results.webhooks = await measureWebhooks(server, groups);
		await quiesce(server.info.appPids, { maxMs: 15_000 });
		results.availability = await measureAvailability(server, groups);
		results.webhooks.oneConnection = await measureWebhooksSingle(server, results.webhooks.rps);
		// One-line orders cost less than 2–3-line ones; the 2–3-line rate sizes the run conservatively.
		results.reservations = await measureHotSku(server, groups, results.webhooks.rps * 1.5);
		const failed = Object.entries(results.reservations.checks).filter(([, ok]) => !ok).map(([name]) => name);
		if (results.reservations.oversell !== 0 || failed.length) {
			failures.push(`hot SKU invariants violated: oversell ${results.reservations.oversell}; failed checks: ${failed.join(", ") || "none"}`);
		}
		await quiesce(server.info.appPids, { maxMs: 15_000 });
		results.ledger = await measureLedger(server, groups);
		const failedLedger = Object.entries(results.ledger.checks).filter(([, ok]) => !ok).map(([name]) => name);
		if (results.ledger.oversell !== 0 || failedLedger.length) {
			failures.push(`(3b) SkuLedger invariants violated: oversell ${results.ledger.oversell}; failed checks: ${failedLedger.join(", ") || "none"}`);
		}
	} catch (error) {
		failures.push(error instanceof Error ? error.stack ?? error.message : String(error));
	} finally {
		log("stopping servers");
		await stopServer(server);
	}
	results.machine ??= machineInfo(null);
	const sourceAtEnd = sourceInfo();
	results.source = { ...sourceAtBuild, changedDuringRun: sourceAtEnd.commit !== sourceAtBuild.commit || sourceAtEnd.uncommittedChanges !== sourceAtBuild.uncommittedChanges };
	results.otherCpu = contaminated(results);
	const failure = failures.length ? failures.join("\n") : null;
	results.error = failure;
	results.failures = failures.map((f) => f.split("\n")[0]);
	results.totalSeconds = r1((performance.now() - t0Run) / 1000);
	results.goals = goalsOf(results);
	writeFileSync("bench/results.json", `${JSON.stringify(results, null, "\t")}\n`);
	const md = markdown(results);
	writeFileSync("bench/results.md", md);
	console.log(`\n${md}`);
	log(`wrote bench/results.json and bench/results.md (${results.totalSeconds} s total)`);
	if (failure) {
		console.error(`\n!!! BENCH FAILED: ${failure}\n`);
		process.exitCode = 1;
	}
}

await main();
