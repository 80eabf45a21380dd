// `npm run bench`: builds the worker, runs it on workerd (Miniflare, in bench/server.mjs — a separate
// process, with the bindings of wrangler.toml and the sandbox Shopify shop as the push target) and
// loads it from this process with autocannon:
//   1. the floor: a trivial worker's requests/s;
//   2. signed Shopify orders/create webhooks/s (2–3 lines, every one a new order, 1,000 SKUs) and
//      ack latency, then the time until every acked order's reservations are on the ledgers and the
//      shop shows every SKU's pushed number;
//   3. one-line orders for one hot SKU, end to end (webhook → OrderFlow → SkuLedger), so bounded
//      by order intake; then checks that nothing was oversold (fails loudly);
//   3b. reservations/s on one hot SkuLedger called directly over RPC, as a saga calls it, from
//      bench/probe-worker.ts in a workerd process of its own; then the same kind of checks;
//   3c. the same with bundles: half the lines are one component alone, half a bundle whose
//      components are reserved on their own ledgers at once; both ledgers checked;
//   4. GET /v1/availability latency for 1 and for 50 SKUs per request;
//   5. propagation: stock change on a ledger → the push carrying it reaching the shop, under
//      orders at half the rate of (2) plus periodic snapshots, and on a sample of (2)'s SKUs;
//   6. the fulfilment loop with healthy destinations, at a steady 50/s (run right after (1)):
//      (6a) order webhook sent → its 3PL order at the ShipBob sandbox; (6b) ShipBob's signed
//      order.shipped callback sent to the app → the fulfilment at the Shopify sandbox.
// Stock is at a FULFILLMENT location, so every fully reserved order of every phase is routed and
// sent to the ShipBob sandbox; between phases the bench waits (bounded) for that backlog.
// Writes bench/results.json and bench/results.md. Loopback only; every loop is bounded; the servers
// it starts are stopped in `finally` (and on SIGINT/SIGTERM). Roughly 2.5 minutes, more while the
// app is slow to work off its 3PL backlog.
//
// Knobs (env): BENCH_CONNECTIONS (32), BENCH_FLOOR_SECONDS (10), BENCH_WEBHOOK_SECONDS (10),
// BENCH_AVAIL_SECONDS (5), BENCH_LEDGER_RESERVES (20,000), BENCH_LEDGER_STOCK (75 % of the
// reserves), BENCH_LEDGER_CONCURRENCY (32), BENCH_BUNDLE_LINES (12,000), BENCH_BUNDLE (GIFT-SET),
// BENCH_PROPAGATION_SECONDS (8), BENCH_PROPAGATION_LOAD (0.5 of the rate of (2)),
// BENCH_LOOP_RATE (50), BENCH_LOOP_SECONDS (10), BENCH_BACKLOG_WAIT_MS (15,000),
// BENCH_SANDBOX_LIMITS (off|shopify, see lib.mjs sandboxPlan), BENCH_DO_STORAGE (shm|disk, see
// server.mjs), BENCH_PORT_BASE (18780).

import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { shopifyOrder, signedDelivery } from "../demo/shopify-orders.mjs";
import { CONNECTION, OPS_TOKEN, SHOPIFY_SECRET } from "./config.mjs";
import {
	buildProbe, buildSandbox, buildWorker, cannon, cpuWindow, http, percentile, quiesce, sandboxLog, seedVariants, setClockTicks, sleep, startServer, stopServer,
} from "./lib.mjs";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const FLOOR_SECONDS = Number(process.env.BENCH_FLOOR_SECONDS ?? 10);
const WEBHOOK_SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 10);
const AVAIL_SECONDS = Number(process.env.BENCH_AVAIL_SECONDS ?? 5);
const LEDGER_RESERVES = Number(process.env.BENCH_LEDGER_RESERVES ?? 20_000);
const LEDGER_STOCK = Number(process.env.BENCH_LEDGER_STOCK ?? Math.floor(LEDGER_RESERVES * 0.75));
const LEDGER_CONCURRENCY = Number(process.env.BENCH_LEDGER_CONCURRENCY ?? 32);
const LEDGER_SKU = "LEDGER-HOT-0001";
const BUNDLE_LINES = Number(process.env.BENCH_BUNDLE_LINES ?? 12_000);
const BUNDLE_SKU = process.env.BENCH_BUNDLE ?? "GIFT-SET";
const PROPAGATION_SECONDS = Number(process.env.BENCH_PROPAGATION_SECONDS ?? 8);
const PROPAGATION_SKUS = 100;
const PROPAGATION_CONNECTIONS = 16;
/** Offered order rate in (5), as a share of what (2) sustained. */
const PROPAGATION_LOAD = Number(process.env.BENCH_PROPAGATION_LOAD ?? 0.5);
const PROPAGATION_SNAPSHOT_MS = 250;
/** SKUs of (2) whose changes are matched to pushes, for propagation at full load. */
const WEBHOOK_PROPAGATION_SAMPLE = 200;
const SKU_COUNT = 1000;
const HOT_SKU = "HOT-0001";
const SETTLE_TIMEOUT_MS = 45_000;
const WEBHOOK_PATH = `/webhooks/shopify/${CONNECTION}`;
const SANDBOX_LIMITS = process.env.BENCH_SANDBOX_LIMITS ?? "off";
/** (6) the fulfilment loop: orders (and then ship notices) per second, for how long. */
const LOOP_RATE = Number(process.env.BENCH_LOOP_RATE ?? 50);
const LOOP_SECONDS = Number(process.env.BENCH_LOOP_SECONDS ?? 10);
const LOOP_WAIT_MS = 30_000;
/** (6)'s order ids (no other phase uses ids starting with 77) and the match that selects their 3PL references. */
const LOOP_FIRST_ID = 77_000_000;
const LOOP_MATCH = `${CONNECTION}:77`;
const LOOP_WARMUP = 20;
const LOOP_WARMUP_FIRST_ID = 78_000_000;
const LOOP_WARMUP_MATCH = `${CONNECTION}:78`;
/** Longest wait, between phases, for the app to finish sending the 3PL orders a phase left behind. */
const BACKLOG_WAIT_MS = Number(process.env.BENCH_BACKLOG_WAIT_MS ?? 15_000);

const GOALS = {
	webhookRatio: 0.3,
	webhookP99: 25,
	reservationsPerSecond: 2000,
	avail1P99: 10,
	avail50P99: 30,
	propagationP99: 1000,
	placedToThreePlP99: 1000,
	shipNoticeToChannelP99: 1000,
};

const t0Run = performance.now();
const log = (...args) => console.error(`[bench ${((performance.now() - t0Run) / 1000).toFixed(1).padStart(5)}s]`, ...args);
const r1 = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);
const r2 = (x) => (x === null || x === undefined ? null : Math.round(x * 100) / 100);
const n0 = (x) => (x === null || x === undefined ? "n/a" : Math.round(x).toLocaleString("en-US"));

/**
 * Where the bench stocks its SKUs: a fulfilment location of wrangler.toml's [vars.FULFILLMENT] that
 * ships to every address the bench's orders use (US and CA), lowest rank first, so every fully
 * reserved order is routed to its 3PL as in production; "wh-bench" (unroutable) if there is none.
 * Set in main() from the server's config.
 */
let stockLocation = "wh-bench";
function pickStockLocation(config) {
	const ships = (l) => !l.countries || ["US", "CA"].every((c) => l.countries.includes(c));
	return [...(config.fulfillmentLocations ?? [])].filter(ships).sort((a, b) => a.rank - b.rank)[0]?.id ?? "wh-bench";
}

const skuName = (i) => `SKU-${String(i).padStart(4, "0")}`;
const propSkuName = (i) => `PROP-${String(i).padStart(4, "0")}`;
/** Wall-clock ms with sub-ms resolution, comparable with the ISO times workerd stamps. */
const wallNow = () => performance.timeOrigin + performance.now();

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
async function runWebhooks(base, pool, { connections = CONNECTIONS, recordAcks = false, ...opts }, phase) {
	/** `ackAt`: order id → wall-clock ms of its ack (with `recordAcks`), to compare with workerd's clocks. */
	const tally = { status: {}, http: {}, acked: new Set(), other: 0, samples: [], lastAckAt: 0, ackAt: recordAcks ? new Map() : null };
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
					const id = Number(parsed.order.slice(parsed.order.indexOf(":") + 1));
					tally.acked.add(id);
					tally.lastAckAt = performance.now();
					tally.ackAt?.set(id, wallNow());
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
	const items = Array.from({ length: SKU_COUNT }, (_, i) => ({ sku: skuName(i), location: stockLocation, onHand: 1_000_000 }));
	const t = performance.now();
	const out = await http(base, "/v1/inventory/snapshots", { method: "POST", ops: true, body: { source: "bench", asOf: new Date().toISOString(), items } });
	if (out.applied !== SKU_COUNT) throw new Error(`snapshot applied ${out.applied} of ${SKU_COUNT}`);
	log(`stocked ${SKU_COUNT} SKUs × 1,000,000 units (one snapshot request, ${SKU_COUNT} new SkuLedger objects) in ${(performance.now() - t).toFixed(0)} ms`);
}

/** Availability (reserved, channels, …) for the given SKUs, 100 per request. */
async function ledgerView(base, skus) {
	const out = new Map();
	for (let i = 0; i < skus.length; i += 100) {
		const qs = skus.slice(i, i + 100).map((sku) => `sku=${encodeURIComponent(sku)}`).join("&");
		const { items } = await http(base, `/v1/availability?${qs}`);
		for (const item of items) out.set(item.sku, item);
	}
	return out;
}

const CATALOG = Array.from({ length: SKU_COUNT }, (_, i) => skuName(i));

/** Reserved units for all 1,000 SKUs (10 requests × 100 SKUs). */
async function reservedBySku(base) {
	const view = await ledgerView(base, CATALOG);
	return new Map([...view].map(([sku, item]) => [sku, item.reserved]));
}

/**
 * Polls until what the sandbox shop shows for each SKU (its `available` at the pushed location)
 * equals what the SKU's ledger says the pushing connection is shown. Pushes trail changes by up to
 * the 250 ms coalescing window, so this is the "channels caught up" check.
 */
async function channelsConverge(server, skus, { timeoutMs = 10_000 } = {}) {
	const t = performance.now();
	let mismatched = [];
	for (;;) {
		const [ledger, shop] = await Promise.all([ledgerView(server.info.appUrl, skus), http(server.info.sandboxUrl, "/sandbox/inventory")]);
		const shown = new Map(shop.items.map((item) => [item.sku, item.available]));
		mismatched = skus.filter((sku) => (ledger.get(sku)?.channels?.[CONNECTION] ?? null) !== (shown.get(sku) ?? 0));
		if (mismatched.length === 0 || performance.now() - t > timeoutMs) break;
		await sleep(100);
	}
	return { skus: skus.length, mismatched: mismatched.length, example: mismatched[0] ?? null, afterMs: Math.round(performance.now() - t) };
}

/** Pushes the shop received from a list of sandbox calls, between two wall-clock times. */
function pushesBetween(calls, fromMs, toMs, skuFilter = () => true) {
	const inWindow = calls.filter((c) => !c.replayed && c.atMs >= fromMs && c.atMs <= toMs && skuFilter(c.sku));
	const seconds = (toMs - fromMs) / 1000;
	return { count: inWindow.length, perSecond: Math.round(inWindow.length / seconds), skus: new Set(inWindow.map((c) => c.sku)).size, replayed: calls.filter((c) => c.replayed).length };
}

async function measureWebhooks(server, groups, sb) {
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

	await sb.next(); // the shop's log from here on is this run's
	const cpu = cpuWindow(groups, { threadsOf: server.info.appPids });
	const tStart = Date.now();
	const main = await runWebhooks(base, pool, { duration: WEBHOOK_SECONDS, recordAcks: true }, "webhooks");
	const ackCpu = cpu.end();
	const tAcked = Date.now();
	const shopCalls = await sb.next();
	const pushes = pushesBetween(shopCalls, tStart, tAcked);
	const cappedByFileLimit = capped && main.exhausted;
	if (cappedByFileLimit) {
		log(`    NOTE: the run stopped after ${n0(poolSize)} orders: workerd's open-file limit (${fds.limit}, 3 files per live object) allows no more; raise \`ulimit -n\` for a full ${WEBHOOK_SECONDS} s run`);
	}
	const inFlight = await account(pool, main);
	const lines = [...main.tally.acked].reduce((a, id) => a + pool[id - pool[0].id].lines.length, 0);
	log(`    ${main.rate.toFixed(0)} webhooks/s acked (${main.applied} applied, ${main.tally.status.duplicate ?? 0} duplicate, ${lines} lines; ${inFlight.unknown} in flight at the end, ${inFlight.applied.length} of them applied), p50 ${main.run.latency.p50.toFixed(2)} ms, p99 ${main.run.latency.p99.toFixed(2)} ms${main.exhausted ? " — POOL EXHAUSTED, rate taken to the last ack" : ""}`);
	log(`    cpu during acks: ${JSON.stringify(ackCpu)}`);
	log(`    pushes received by the sandbox shop during the run: ${n0(pushes.count)} (${n0(pushes.perSecond)}/s, ${n0(pushes.skus)} SKUs)`);

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
	const converged = await channelsConverge(server, CATALOG);
	log(converged.mismatched === 0
		? `    the shop shows every SKU's ${CONNECTION} number ${converged.afterMs} ms later (${n0(converged.skus)} SKUs)`
		: `    WARNING: the shop still differs from the ledgers for ${converged.mismatched} of ${converged.skus} SKUs (e.g. ${converged.example}) after ${converged.afterMs} ms`);
	// Propagation at full load, as (5) measures it at half load: on a sample of the SKUs.
	shopCalls.push(...(await sb.next()));
	const sample = CATALOG.filter((_, i) => i % Math.max(1, Math.floor(SKU_COUNT / WEBHOOK_PROPAGATION_SAMPLE)) === 0);
	const propagation = await propagationReport(server, { skus: sample, calls: shopCalls, fromMs: tStart, toMs: tAcked, ackAt: main.tally.ackAt });
	log(`    propagation at this load, on ${sample.length} of the SKUs:`);
	logPropagation(propagation);


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
		pushes,
		channelsConverged: converged,
		propagation,
	};
}

// ---------------------------------------------------------------- (5) propagation

/**
 * Per SKU: when each change to what the pushing connection is shown happened on the ledger (its
 * audit entries, stamped by the ledger's clock in the transaction), and which push first carried
 * it to the shop (the sandbox's log, stamped by the sandbox's clock on arrival). Both are workerd
 * wall clocks on this machine.
 *
 * A push carries the state of the latest transaction before it was sent, so each push is matched
 * to the latest audit entry at or before its arrival whose shown value equals the pushed quantity;
 * a change is delivered by the first push matched to it or to a later entry. Snapshots in this
 * phase jump each count by ~1,000 units and orders only take a few, so shown values never repeat
 * within a SKU's phase and the matching is unambiguous.
 */
function matchPropagation(detail, calls, fromMs, shownOf) {
	const entries = [...detail.audit].reverse().map((e) => ({ ...e, atMs: Date.parse(e.at), shown: shownOf(e) }));
	const complete = entries.length > 0 && entries[0].atMs < fromMs; // the audit reaches back to before the phase
	const pushes = calls
		.filter((c) => !c.replayed)
		.map((c) => {
			let j = -1;
			for (let i = entries.length - 1; i >= 0; i--) {
				if (entries[i].atMs <= c.atMs && entries[i].shown === c.quantity) {
					j = i;
					break;
				}
			}
			return { ...c, entry: j };
		});
	const changes = [];
	let unknownFirst = !complete;
	for (let i = 0; i < entries.length; i++) {
		const e = entries[i];
		if (e.atMs < fromMs) continue;
		const before = i > 0 ? entries[i - 1].shown : null;
		if (before === null && unknownFirst) {
			unknownFirst = false; // truncated audit: whether its first entry changed anything is unknown
			continue;
		}
		if (e.shown === before) continue; // the channel's number did not move
		const push = pushes.find((c) => c.entry >= i);
		changes.push({ kind: e.kind, cause: e.cause, atMs: e.atMs, pushAtMs: push ? push.atMs : null, latencyMs: push ? push.atMs - e.atMs : null });
	}
	return { complete, changes, pushes: pushes.length, unmatchedPushes: pushes.filter((c) => c.entry < 0).length };
}

/**
 * Matches the shop's log against the ledgers' audits for the given SKUs (see matchPropagation) and
 * summarises: change on the ledger → push at the shop, overall and for reservations and snapshots;
 * order ack (client clock) → shop; snapshot response → shop; and each ledger's own `latencyMs`
 * for its last push (stock change → the push's fetch being started).
 */
async function propagationReport(server, { skus, calls, fromMs, toMs, ackAt, snapshots = new Map() }) {
	const base = server.info.appUrl;
	const pushing = server.info.config.connections.find((c) => c.id === CONNECTION);
	if (!pushing?.pushes || pushing.locations !== "all" || Object.keys(pushing.rules).length) {
		throw new Error(`propagation assumes ${CONNECTION} pushes and is shown on hand − reserved − safety stock (no locations or rules): ${JSON.stringify(pushing)}`);
	}
	const safety = (sku) => server.info.config.safetyStock?.[sku] ?? 0;
	const shownOf = (sku) => (e) => Math.max(0, e.onHandAfter - e.reservedAfter - safety(sku));
	const details = await mapPool(skus, 8, (sku) => http(base, `/ops/skus/${encodeURIComponent(sku)}`, { ops: true }));
	const changes = [];
	let truncated = 0;
	let unmatchedPushes = 0;
	let pushes = 0;
	const ledgerLatency = [];
	for (const [i, sku] of skus.entries()) {
		const m = matchPropagation(details[i], calls.filter((c) => c.sku === sku), fromMs, shownOf(sku));
		if (!m.complete) truncated++;
		unmatchedPushes += m.unmatchedPushes;
		pushes += m.pushes;
		changes.push(...m.changes);
		const own = details[i].pushes?.find((p) => p.connection === CONNECTION)?.latencyMs;
		if (own !== null && own !== undefined) ledgerLatency.push(own);
	}
	const delivered = changes.filter((c) => c.latencyMs !== null);
	const orderChanges = delivered.filter((c) => c.kind === "reserve" && c.cause?.orderKey);
	const ackToShop = orderChanges
		.map((c) => {
			const ack = ackAt?.get(Number(c.cause.orderKey.slice(c.cause.orderKey.indexOf(":") + 1)));
			return ack === undefined ? null : c.pushAtMs - ack;
		})
		.filter((x) => x !== null);
	const snapshotChanges = delivered.filter((c) => c.kind === "snapshot");
	const responseToShop = snapshotChanges.map((c) => (snapshots.get(c.cause?.asOf) ? c.pushAtMs - snapshots.get(c.cause.asOf).respondedAt : null)).filter((x) => x !== null);
	return {
		method: "ledger audit time of each change to the pushed number → arrival at the sandbox shop of the first push carrying it (the shop's log), matched per SKU by value",
		skusMeasured: skus.length,
		changes: changes.length,
		changesDelivered: delivered.length,
		changesNeverPushed: changes.length - delivered.length,
		changesAfterLoad: delivered.filter((c) => c.atMs > toMs).length,
		skusWithTruncatedAudit: truncated,
		pushesReceived: pushes,
		pushesNotMatched: unmatchedPushes,
		changesPerPush: r2(delivered.length / Math.max(1, pushes)),
		changeToShop: distribution(delivered.map((c) => c.latencyMs)),
		byKind: {
			reserve: distribution(orderChanges.map((c) => c.latencyMs)),
			snapshot: distribution(snapshotChanges.map((c) => c.latencyMs)),
		},
		orderAckToShop: distribution(ackToShop),
		snapshotResponseToShop: distribution(responseToShop),
		ledgerReportedLastPushLatency: distribution(ledgerLatency),
		/** By second of the run (ledger time of the change): does a backlog build up? */
		bySecond: [...Map.groupBy(delivered, (c) => Math.floor((c.atMs - fromMs) / 1000)).values()].map((group) => {
			const d = distribution(group.map((c) => c.latencyMs));
			return { second: Math.floor((group[0].atMs - fromMs) / 1000), changes: d.count, p50Ms: d.p50Ms, maxMs: d.maxMs };
		}).sort((a, b) => a.second - b.second),
	};
}

function logPropagation(p) {
	const d = p.changeToShop;
	log(`    ${n0(p.changes)} changes to ${CONNECTION}'s numbers on ${p.skusMeasured} SKUs, carried by ${n0(p.pushesReceived)} pushes (${p.changesPerPush} changes per push)`);
	log(`    change on the ledger → push at the shop: p50 ${d.p50Ms} ms, p90 ${d.p90Ms} ms, p99 ${d.p99Ms} ms, max ${d.maxMs} ms over ${n0(d.count)} changes (reservations p99 ${p.byKind.reserve.p99Ms} ms${p.byKind.snapshot.count ? `, snapshots p99 ${p.byKind.snapshot.p99Ms} ms` : ""})`);
	log(`    order ack → shop p50 ${p.orderAckToShop.p50Ms} ms, p99 ${p.orderAckToShop.p99Ms} ms${p.snapshotResponseToShop.count ? `; snapshot response → shop p50 ${p.snapshotResponseToShop.p50Ms} ms, p99 ${p.snapshotResponseToShop.p99Ms} ms` : ""}; the ledgers' own latencyMs of their last push: p50 ${p.ledgerReportedLastPushLatency.p50Ms}, max ${p.ledgerReportedLastPushLatency.maxMs} ms`);
	if (p.changesNeverPushed || p.skusWithTruncatedAudit || p.pushesNotMatched) {
		log(`    WARNING: ${p.changesNeverPushed} changes never pushed, ${p.skusWithTruncatedAudit} SKUs with a truncated audit, ${p.pushesNotMatched} pushes not matched to a ledger state`);
	}
}

function distribution(values) {
	const sorted = Float64Array.from(values).sort();
	return { count: sorted.length, p50Ms: r1(percentile(sorted, 50)), p90Ms: r1(percentile(sorted, 90)), p99Ms: r1(percentile(sorted, 99)), maxMs: r1(sorted.length ? sorted[sorted.length - 1] : null) };
}

/** Runs `task` over `items` with at most `c` in flight; results in order. */
async function mapPool(items, c, task) {
	const out = new Array(items.length);
	let next = 0;
	await Promise.all(Array.from({ length: Math.min(c, items.length) }, async () => {
		while (next < items.length) {
			const i = next++;
			out[i] = await task(items[i]);
		}
	}));
	return out;
}

/**
 * (5) Propagation: stock change → the push carrying it reaching the shop, under load. For
 * PROPAGATION_SECONDS, 1–3-line orders over PROPAGATION_SKUS fresh SKUs arrive at about half the
 * rate (2) sustained (autocannon's overall rate, 16 connections), while a snapshot recounts 5 of
 * those SKUs every 250 ms. Each SKU then changes a few times a second, so both the leading-edge
 * push and the 250 ms coalescing are exercised.
 */
async function measurePropagation(server, groups, sb, rateHint) {
	const base = server.info.appUrl;
	const skus = Array.from({ length: PROPAGATION_SKUS }, (_, i) => propSkuName(i));
	const rate = Math.max(50, Math.round(rateHint * PROPAGATION_LOAD));
	log(`(5) propagation: stocking ${PROPAGATION_SKUS} fresh SKUs, then ${PROPAGATION_SECONDS} s of 1–3-line orders at ~${rate}/s (${PROPAGATION_CONNECTIONS} connections) plus a 5-SKU snapshot every ${PROPAGATION_SNAPSHOT_MS} ms`);
	await http(base, "/v1/inventory/snapshots", {
		method: "POST",
		ops: true,
		body: { source: "bench-prop", asOf: new Date().toISOString(), items: skus.map((sku) => ({ sku, location: stockLocation, onHand: 1_000_000 })) },
	});
	const stocked = await channelsConverge(server, skus);
	if (stocked.mismatched) throw new Error(`(5) the shop never showed the stocked ${PROPAGATION_SKUS} SKUs: ${JSON.stringify(stocked)}`);
	const pool = await signedOrders(Math.ceil(rate * PROPAGATION_SECONDS * 1.3) + 200, 60_000_000, () => {
		const n = 1 + Math.floor(Math.random() * 3);
		const picked = new Set();
		while (picked.size < n) picked.add(skus[Math.floor(Math.random() * skus.length)]);
		return [...picked].map((sku) => ({ sku, quantity: 1 + Math.floor(Math.random() * 2), price: "9.90" }));
	});
	const drained = await quiesce(server.info.appPids, { maxMs: 10_000 });
	await sb.next();

	const snapshots = new Map(); // asOf → { sentAt, respondedAt, skus }
	let stop = false;
	const recount = (async () => {
		for (let round = 1; !stop; round++) {
			await sleep(PROPAGATION_SNAPSHOT_MS);
			if (stop) break;
			const picked = Array.from({ length: 5 }, (_, j) => skus[(round * 5 + j) % skus.length]);
			const asOf = new Date().toISOString();
			const sentAt = wallNow();
			const out = await http(base, "/v1/inventory/snapshots", {
				method: "POST",
				ops: true,
				body: { source: "bench-recount", asOf, items: picked.map((sku) => ({ sku, location: stockLocation, onHand: 2_000_000 + round * 1_000 })) },
			});
			snapshots.set(asOf, { sentAt, respondedAt: wallNow(), skus: picked, applied: out.applied });
		}
	})();
	const fromMs = wallNow();
	const cpu = cpuWindow(groups, { threadsOf: server.info.appPids });
	const out = await runWebhooks(base, pool, { connections: PROPAGATION_CONNECTIONS, duration: PROPAGATION_SECONDS, overallRate: rate, recordAcks: true }, "propagation");
	stop = true;
	await recount;
	const usage = cpu.end();
	const toMs = wallNow();

	// Let every reservation land and every push go out: the shop must end up showing the ledgers' numbers.
	const byId = new Map(pool.map((p) => [p.id, p]));
	const inFlight = await appliedInFlight(base, out.sent, out.tally.acked);
	const expected = new Map();
	for (const p of [...[...out.tally.acked].map((id) => byId.get(id)), ...inFlight.applied]) for (const l of p.lines) expected.set(l.sku, (expected.get(l.sku) ?? 0) + l.quantity);
	const deadline = performance.now() + SETTLE_TIMEOUT_MS;
	while (performance.now() < deadline) {
		const view = await ledgerView(base, skus);
		if (skus.every((sku) => view.get(sku).reserved === (expected.get(sku) ?? 0))) break;
		await sleep(100);
	}
	const converged = await channelsConverge(server, skus);
	const calls = await sb.next();
	const report = await propagationReport(server, { skus, calls, fromMs, toMs, ackAt: out.tally.ackAt, snapshots });
	const result = {
		skus: PROPAGATION_SKUS,
		seconds: r2((toMs - fromMs) / 1000),
		connections: PROPAGATION_CONNECTIONS,
		offeredOrdersPerSecond: rate,
		ordersAcked: out.applied,
		ordersPerSecond: Math.round(out.applied / ((toMs - fromMs) / 1000)),
		ackP50Ms: r2(out.run.latency.p50),
		ackP99Ms: r2(out.run.latency.p99),
		snapshots: snapshots.size,
		...report,
		channelsConverged: converged,
		drainBeforeMs: drained,
		cpu: usage,
	};
	log(`    ${n0(out.applied)} orders (${result.ordersPerSecond}/s, ack p99 ${result.ackP99Ms} ms) and ${snapshots.size} snapshots`);
	logPropagation(result);
	if (converged.mismatched) log(`    WARNING: the shop differs from the ledger on ${converged.mismatched} SKUs`);
	log(`    cpu ${JSON.stringify(usage)}`);
	return result;
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

async function measureHotSku(server, groups, oneLineRateHint, sb) {
	const base = server.info.appUrl;
	// Several seconds of orders at the expected rate; stock below the order count.
	const fds = objectBudget(server.info.appPids[0]);
	const orders = Math.min(20_000, fds.budget, Math.max(3000, Math.round((oneLineRateHint * 8) / 500) * 500));
	const stock = Math.floor(orders * 0.75);
	log(`(3) hot SKU: stocking ${HOT_SKU} with ${n0(stock)} units, generating ${n0(orders)} one-line orders (1 unit each)`);
	await http(base, "/v1/inventory/snapshots", {
		method: "POST",
		ops: true,
		body: { source: "bench", asOf: new Date().toISOString(), items: [{ sku: HOT_SKU, location: stockLocation, onHand: stock }] },
	});
	// `amount` caps what is sent; the margin keeps connections that pre-build a request off the end of the pool.
	const pool = await signedOrders(orders + CONNECTIONS * 4, 50_000_000, () => [{ sku: HOT_SKU, quantity: 1, price: "30.00" }]);
	const drained = await quiesce(server.info.appPids, { maxMs: 20_000 });
	log(`    firing ${n0(orders)} webhooks at ${CONNECTIONS} connections (after ${drained} ms drain)`);

	await sb.next();
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
		pushesToShop: pushesBetween(await sb.next(), tFirst, tLast, (sku) => sku === HOT_SKU),
		checks,
		cpu: usage,
	};
	log(`    ${n0(rows)} reservation rows (${n0(holding)} holding a unit, ${n0(rows - holding)} backordered); reserved ${detail.reserved}/${stock}, onHand ${detail.onHand}, Σ open ${sumOpen}`);
	log(`    first request → last reservation ${windowMs} ms → ${result.reservationsPerSecond} reservations/s; oversell ${oversell}; ${result.pushesToShop.count} pushes of ${HOT_SKU} reached the shop meanwhile; cpu ${JSON.stringify(usage)}`);
	return result;
}

/**
 * (3b) One hot SkuLedger called directly over RPC, the way OrderFlow's saga calls it, without the
 * order intake in front. Runs in the probe worker's own workerd process: one request there makes
 * N one-unit reserves, each a distinct order line, from C concurrent callers in the isolate, to a
 * freshly stocked SKU with S < N units. The Workers clock only moves on I/O, so the client times
 * that request. Then the ledger's detail must show exactly S reserved and N − S backordered.
 */
async function measureLedger(server, groups, sb) {
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
	await sb.next();

	const cpu = cpuWindow(groups, { threadsOf: server.info.probePids });
	const tFrom = Date.now();
	const t = performance.now();
	const batch = await post(`/__probe/ledger/reserve?sku=${LEDGER_SKU}&n=${n}&c=${c}&prefix=order`);
	const wallMs = performance.now() - t;
	const usage = cpu.end();
	const tTo = Date.now();
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
		pushesToShop: pushesBetween(await sb.next(), tFrom, tTo + 1000, (sku) => sku === LEDGER_SKU),
		pushes: detail.pushes,
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

/**
 * (3c) A hot SKU sold alone and inside a bundle, ledgers called directly over RPC as OrderFlow's
 * saga calls them: in the probe worker, BUNDLE_LINES order lines from LEDGER_CONCURRENCY callers,
 * alternating between one unit of the bundle's first component alone and one bundle (all its
 * components reserved at once, each on its own ledger). Both components are stocked short, the
 * second more so, so some bundles end up holding one component and waiting for the other. Then
 * each component's ledger is checked as in (3b).
 */
async function measureBundles(server, groups, sb) {
	const base = server.info.probeUrl;
	const bundle = BUNDLE_SKU;
	const parts = server.info.config.bundles?.[bundle];
	if (!parts || parts.length < 2) throw new Error(`(3c) needs a bundle ${bundle} of two or more components in ${"wrangler.toml"} [vars.INVENTORY]; found ${JSON.stringify(parts)}`);
	const single = parts[0].sku;
	const n = BUNDLE_LINES;
	const c = LEDGER_CONCURRENCY;
	const singles = Math.ceil(n / 2);
	const bundles = n - singles;
	const demand = Object.fromEntries(parts.map((p) => [p.sku, bundles * p.quantity + (p.sku === single ? singles : 0)]));
	const stock = Object.fromEntries(parts.map((p, i) => [p.sku, Math.floor(demand[p.sku] * (i === 0 ? 0.75 : 0.5))]));
	log(`(3c) hot SKU with bundles over RPC: ${n0(n)} lines, ${c} in flight, alternating 1 × ${single} and 1 × ${bundle} (${parts.map((p) => `${p.quantity} × ${p.sku}`).join(" + ")}); stock ${parts.map((p) => `${p.sku} ${n0(stock[p.sku])} of ${n0(demand[p.sku])} wanted`).join(", ")}`);
	const post = (path) => http(base, path, { method: "POST" });
	// Warm-up on the other bundle's ledgers, so the measured run starts with compiled code paths.
	const warm = Object.entries(server.info.config.bundles).find(([name]) => name !== bundle);
	if (warm) {
		for (const part of warm[1]) await post(`/__probe/ledger/stock?sku=${encodeURIComponent(part.sku)}&units=1500`);
		await post(`/__probe/ledger/bundle?bundle=${encodeURIComponent(warm[0])}&single=${encodeURIComponent(warm[1][0].sku)}&n=1000&c=${c}&prefix=warm`);
	}
	for (const p of parts) {
		const out = await post(`/__probe/ledger/stock?sku=${encodeURIComponent(p.sku)}&units=${stock[p.sku]}`);
		if (out.outcomes?.[0]?.status !== "applied" || out.outcomes[0].onHand !== stock[p.sku]) throw new Error(`(3c) stocking ${p.sku} failed: ${JSON.stringify(out)}`);
	}
	const drained = await quiesce([...server.info.probePids, ...server.info.appPids], { maxMs: 10_000 });
	await sb.next();

	const cpu = cpuWindow(groups, { threadsOf: server.info.probePids });
	const tFrom = Date.now();
	const t = performance.now();
	const batch = await post(`/__probe/ledger/bundle?bundle=${encodeURIComponent(bundle)}&single=${encodeURIComponent(single)}&n=${n}&c=${c}&prefix=order`);
	const wallMs = performance.now() - t;
	const usage = cpu.end();
	const tTo = Date.now();

	const components = {};
	const checks = { everyLineAnswered: batch.lines === n && batch.errors === 0 && batch.notOpen === 0 && batch.overRequest === 0 };
	let oversell = 0;
	for (const p of parts) {
		const sku = p.sku;
		const detail = await http(base, `/__probe/ledger/detail?sku=${encodeURIComponent(sku)}`);
		const rows = detail.reservations;
		const sumOpen = rows.filter((r) => r.status === "open").reduce((a, r) => a + r.quantity, 0);
		const overRequested = rows.filter((r) => r.quantity > r.requested).length;
		const waiting = detail.backorders.reduce((a, b) => a + b.waiting, 0);
		const firstShort = rows.findIndex((r) => r.quantity < r.requested);
		const lastHolder = rows.findLastIndex((r) => r.quantity > 0);
		const callers = batch.perSku[sku] ?? { calls: 0, reserved: 0, backordered: 0 };
		const expectedRows = bundles + (sku === single ? singles : 0);
		const k = (name) => `${sku}: ${name}`;
		Object.assign(checks, {
			[k("oneRowPerLine")]: rows.length === expectedRows && callers.calls === expectedRows,
			[k("reservedEqualsStock")]: detail.reserved === stock[sku],
			[k("availableIsZero")]: detail.available === 0 && detail.onHand - detail.reserved === 0,
			[k("onHandUnchanged")]: detail.onHand === stock[sku],
			[k("sumOfOpenReservationsEqualsReserved")]: sumOpen === detail.reserved,
			[k("noReservationAboveItsRequest")]: overRequested === 0,
			[k("backorderedUnitsEqualDemandMinusStock")]: waiting === demand[sku] - stock[sku],
			[k("callersToldTheSame")]: callers.reserved === stock[sku] && callers.backordered === demand[sku] - stock[sku],
			[k("firstComeFirstServed")]: firstShort === -1 || lastHolder <= firstShort,
			[k("auditAgrees")]: detail.audit?.[0]?.reservedAfter === stock[sku] && detail.audit[0].onHandAfter === stock[sku],
		});
		const over = Math.max(0, detail.reserved - detail.onHand, sumOpen - detail.onHand, callers.reserved - stock[sku]);
		oversell = Math.max(oversell, over);
		components[sku] = { stock: stock[sku], demand: demand[sku], rows: rows.length, reserved: detail.reserved, onHand: detail.onHand, available: detail.available, sumOpenReservations: sumOpen, unitsWaiting: waiting, oversell: over, pushes: detail.pushes };
	}
	const shopCalls = await sb.next();
	const result = {
		bundle,
		single,
		parts,
		lines: n,
		singleLines: singles,
		bundleLines: bundles,
		concurrency: c,
		ledgerCalls: batch.calls,
		wallMs: r1(wallMs),
		isolateMs: batch.isolateMs,
		linesPerSecond: Math.round(n / (wallMs / 1000)),
		ledgerCallsPerSecond: Math.round(batch.calls / (wallMs / 1000)),
		bundlesWhole: batch.bundlesWhole,
		bundlesPartial: batch.bundlesPartial,
		bundlesNone: batch.bundlesNone,
		components,
		pushesToShop: pushesBetween(shopCalls, tFrom, tTo + 1000, (sku) => sku in components),
		callErrors: batch.errors,
		firstCallError: batch.firstError,
		oversell,
		checks,
		drainBeforeMs: drained,
		cpu: usage,
		workerdCpuUsPerLedgerCall: usage.probeWorkerd === undefined ? null : r1((usage.probeWorkerd * usage.seconds * 1e6) / batch.calls),
	};
	log(`    ${n0(n)} lines (${n0(batch.calls)} ledger calls) in ${wallMs.toFixed(0)} ms → ${n0(result.linesPerSecond)} lines/s, ${n0(result.ledgerCallsPerSecond)} ledger reserves/s; ${result.workerdCpuUsPerLedgerCall} µs of workerd CPU per call`);
	log(`    ${parts.map((p) => `${p.sku} reserved ${components[p.sku].reserved}/${stock[p.sku]}, Σ open ${components[p.sku].sumOpenReservations}, waiting ${components[p.sku].unitsWaiting}`).join("; ")}; bundles whole ${n0(batch.bundlesWhole)}, partly held ${n0(batch.bundlesPartial)}, none ${n0(batch.bundlesNone)}; oversell ${oversell}; pushes to the shop ${result.pushesToShop.count}`);
	const failed = Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => name);
	if (failed.length) log(`    FAILED checks: ${failed.join(", ")}${batch.firstError ? `; first call error: ${batch.firstError}` : ""}`);
	return result;
}

// ---------------------------------------------------------------- (6) fulfilment loop

/**
 * Sends `items` at a steady `rate` (one every 1000/rate ms, not waiting for answers), each with
 * `sendOne(item)`, which resolves to what it recorded. Returns those results and the rate at which
 * requests actually left (first to last send).
 */
async function steady(items, rate, sendOne) {
	const interval = 1000 / rate;
	const t0 = performance.now();
	const pending = [];
	for (let i = 0; i < items.length; i++) {
		const wait = t0 + i * interval - performance.now();
		if (wait > 0.5) await sleep(wait);
		pending.push(sendOne(items[i]));
	}
	const results = await Promise.all(pending);
	const sent = results.map((r) => r.sentAt);
	const spanS = (Math.max(...sent) - Math.min(...sent)) / 1000;
	return { results, sentPerSecond: spanS > 0 ? (items.length - 1) / spanS : null, seconds: spanS };
}

/** POST with the given headers and raw body; `sentAt` is the wall clock (ms) just before the request is handed to fetch. */
async function timedPost(url, headers, body) {
	const sentAt = Date.now();
	const t = performance.now();
	try {
		const response = await fetch(url, { method: "POST", headers, body });
		const text = await response.text();
		return { sentAt, ackMs: performance.now() - t, status: response.status, text };
	} catch (error) {
		return { sentAt, ackMs: performance.now() - t, status: 0, text: String(error) };
	}
}

/** Polls `read()` (every 200 ms, up to `timeoutMs`) until it returns at least `want` items; returns the last read. */
async function waitFor(read, want, timeoutMs) {
	const t = performance.now();
	let items = [];
	for (;;) {
		items = await read();
		if (items.length >= want || performance.now() - t > timeoutMs) break;
		await sleep(200);
	}
	return { items, waitedMs: Math.round(performance.now() - t) };
}

/** Order id of `shopify-demo:<id>/<location>` (a 3PL reference id) or `gid://shopify/Order/<id>`. */
const orderIdOf = (reference) => Number(/(\d+)(?:\/[^/]*)?$/.exec(reference)?.[1]);

/**
 * One pass of the fulfilment loop over `pool` (orders whose 3PL references contain `match`, and no
 * others): registers the orders with the sandbox shop, sends their webhooks at LOOP_RATE, waits
 * for their ShipBob orders, has ShipBob ship them all, drains the signed order.shipped callbacks
 * and sends them to the app at LOOP_RATE, and waits (up to `waitMs` each) for the ShipBob orders
 * and for the fulfilments at the shop. Returns when
 * each step happened, by order id, with the CPU windows of both halves.
 */
async function runLoop(server, groups, pool, match, waitMs = LOOP_WAIT_MS) {
	const base = server.info.appUrl;
	const shop = server.info.sandboxUrl;
	for (let i = 0; i < pool.length; i += 100) {
		const orders = pool.slice(i, i + 100).map((p) => JSON.parse(p.body.toString("utf8")));
		const out = await http(shop, "/sandbox/orders", { method: "POST", body: { orders } });
		if (out.orders?.length !== orders.length || out.orders.some((o) => !o.fulfillmentOrders?.length)) throw new Error(`(6) registering orders with the sandbox shop failed: ${JSON.stringify(out).slice(0, 300)}`);
	}
	const readShipBob = async () => (await http(shop, `/sandbox/shipbob/orders?match=${encodeURIComponent(match)}`)).orders;
	const already = await readShipBob();
	if (already.length) throw new Error(`(6) the ShipBob sandbox already holds ${already.length} orders matching ${match}`);

	// Orders → ShipBob.
	let cpu = cpuWindow(groups, { threadsOf: server.info.appPids });
	const placed = await steady(pool, LOOP_RATE, async (p) => ({ id: p.id, ...(await timedPost(`${base}${WEBHOOK_PATH}`, p.headers, p.body)) }));
	const acked = placed.results.filter((r) => r.status === 200 && r.text.includes('"status":"applied"'));
	const atShipBob = await waitFor(readShipBob, acked.length, waitMs);
	const cpuPlaced = cpu.end();
	const placedAt = new Map(placed.results.map((r) => [r.id, r.sentAt]));
	const shipBobAt = new Map();
	for (const o of atShipBob.items) {
		if (typeof o.createdAt !== "number") throw new Error("(6a) GET /sandbox/shipbob/orders gives no createdAt (ms) per order");
		const id = orderIdOf(o.referenceId);
		if (!shipBobAt.has(id) || o.createdAt < shipBobAt.get(id)) shipBobAt.set(id, o.createdAt);
	}

	// ShipBob ships → its callbacks → the app → fulfilments at the shop.
	await quiesce(server.info.appPids, { maxMs: 5_000 });
	const shipped = await http(shop, "/sandbox/shipbob/ship", { method: "POST", body: { match } });
	const { callbacks } = await http(shop, "/sandbox/callbacks/drain", { method: "POST", body: { match } });
	cpu = cpuWindow(groups, { threadsOf: server.info.appPids });
	const noticed = await steady(callbacks, LOOP_RATE, async (c) => ({ id: orderIdOf(c.key), ...(await timedPost(`${base}${c.path}`, c.headers, c.body)) }));
	const accepted = noticed.results.filter((r) => r.status === 200 && r.text.includes('"status":"accepted"'));
	const noticeAt = new Map();
	for (const r of noticed.results) if (!noticeAt.has(r.id) || r.sentAt < noticeAt.get(r.id)) noticeAt.set(r.id, r.sentAt);
	const readFulfilments = async () => (await http(shop, "/sandbox/fulfillments")).fulfillments.filter((f) => noticeAt.has(orderIdOf(f.orderId)));
	const atShop = await waitFor(readFulfilments, accepted.length, waitMs);
	const cpuNoticed = cpu.end();
	const shopAt = new Map();
	for (const f of atShop.items) {
		if (typeof f.receivedAt !== "number") throw new Error("(6b) GET /sandbox/fulfillments gives no receivedAt (ms) per fulfilment");
		const id = orderIdOf(f.orderId);
		if (!shopAt.has(id) || f.receivedAt < shopAt.get(id)) shopAt.set(id, f.receivedAt);
	}
	// Orders that went missing on the way: what their OrderFlow says (route, deliveries), for the report.
	const missing = [...placedAt.keys()].filter((id) => !shipBobAt.has(id) || !shopAt.has(id));
	const missingDetail = await Promise.all(
		missing.slice(0, 3).map(async (id) => {
			const o = await http(base, `/ops/orders/${encodeURIComponent(`${CONNECTION}:${id}`)}`, { ops: true }).catch((e) => ({ error: e.message }));
			return { id, atShipBob: shipBobAt.has(id), atShop: shopAt.has(id), status: o.status, routing: o.routing, deliveries: (o.deliveries ?? []).map((d) => ({ id: d.id, status: d.status, attempts: d.attempts, nextAttemptAt: d.nextAttemptAt, waiting: d.waiting, lastError: d.lastError, createdAt: d.createdAt })), lines: o.lines, error: o.error };
		}),
	);
	return { placed, acked, atShipBob, placedAt, shipBobAt, cpuPlaced, shipped: shipped.shipped, callbacks, noticed, accepted, atShop, noticeAt, shopAt, cpuNoticed, missing: missing.length, missingDetail };
}

/**
 * (6) The fulfilment loop with healthy destinations (no faults), at a moderate steady rate:
 *   (6a) order webhook sent (bench clock) → its 3PL order received by the ShipBob sandbox
 *        (`createdAt`, stamped by the sandbox on arrival, in GET /sandbox/shipbob/orders);
 *   (6b) ShipBob's signed order.shipped callback sent to the app (bench clock) → the fulfilment
 *        received by the Shopify sandbox (`receivedAt`, stamped on the fulfillmentCreate's
 *        arrival, in GET /sandbox/fulfillments).
 * Both are wall clocks of this machine (ms). Every order of the phase is first registered with the
 * shop (POST /sandbox/orders, the same order JSON as the webhook), so its fulfilment is accepted.
 * A warm-up pass of LOOP_WARMUP orders goes round the whole loop first. Runs before (2), whose
 * saturating load leaves the app a backlog of 3PL orders to send (see settleDeliveries).
 */
async function measureFulfilment(server, groups) {
	const fds = objectBudget(server.info.appPids[0]);
	// Each order makes an OrderFlow and, once shipped, a Parcel.
	const count = Math.min(Math.round(LOOP_RATE * LOOP_SECONDS), Math.floor(fds.budget / 2) - LOOP_WARMUP);
	if (count < 10) throw new Error(`(6) only ${count} new objects fit under workerd's open-file limit (${fds.limit}); raise \`ulimit -n\``);
	log(`(6) fulfilment loop, healthy destinations: warm-up ${LOOP_WARMUP} orders round the loop, then ${n0(count)} orders (2–3 lines, stock at ${stockLocation}) at ${LOOP_RATE}/s → ShipBob sandbox, then their ship notices at ${LOOP_RATE}/s → Shopify sandbox`);
	const warmPool = await signedOrders(LOOP_WARMUP, LOOP_WARMUP_FIRST_ID, randomLines);
	const pool = await signedOrders(count, LOOP_FIRST_ID, randomLines);
	const warm = await runLoop(server, groups, warmPool, LOOP_WARMUP_MATCH, 5_000);
	if (warm.missing) log(`    WARNING (6) warm-up: ${warm.shipBobAt.size}/${LOOP_WARMUP} orders reached ShipBob, ${warm.shopAt.size} fulfilments reached the shop; e.g. ${JSON.stringify(warm.missingDetail).slice(0, 1500)}`);
	const drained = await quiesce(server.info.appPids, { maxMs: 10_000 });

	const r = await runLoop(server, groups, pool, LOOP_MATCH);
	const ack = (results) => distribution(results.map((x) => x.ackMs));
	const lastOf = (m) => (m.size ? Math.max(...m.values()) : null);
	const a = {
		orders: count,
		offeredPerSecond: LOOP_RATE,
		sentPerSecond: r1(r.placed.sentPerSecond),
		sendSeconds: r2(r.placed.seconds),
		acked: r.acked.length,
		notAcked: r.placed.results.length - r.acked.length,
		notAckedExample: r.placed.results.find((x) => !r.acked.includes(x))?.text.slice(0, 200) ?? null,
		ackP50Ms: ack(r.placed.results).p50Ms,
		ackP99Ms: ack(r.placed.results).p99Ms,
		reachedShipBob: r.shipBobAt.size,
		shipBobOrders: r.atShipBob.items.length,
		createdMoreThanOnce: r.atShipBob.items.filter((o) => o.createAttempts > 1).length,
		lastArrivalAfterLastSendMs: r.shipBobAt.size ? lastOf(r.shipBobAt) - lastOf(r.placedAt) : null,
		placedToShipBob: distribution([...r.shipBobAt].filter(([id]) => r.placedAt.has(id)).map(([id, at]) => at - r.placedAt.get(id))),
		cpu: r.cpuPlaced,
	};
	const b = {
		shipped: r.shipped.length,
		callbacks: r.callbacks.length,
		sentPerSecond: r1(r.noticed.sentPerSecond),
		sendSeconds: r2(r.noticed.seconds),
		accepted: r.accepted.length,
		notAccepted: r.noticed.results.length - r.accepted.length,
		notAcceptedExample: r.noticed.results.find((x) => !r.accepted.includes(x))?.text.slice(0, 200) ?? null,
		ackP50Ms: ack(r.noticed.results).p50Ms,
		ackP99Ms: ack(r.noticed.results).p99Ms,
		reachedShop: r.shopAt.size,
		shopFulfilments: r.atShop.items.length,
		lastArrivalAfterLastSendMs: r.shopAt.size ? lastOf(r.shopAt) - lastOf(r.noticeAt) : null,
		noticeToShop: distribution([...r.shopAt].map(([id, at]) => at - r.noticeAt.get(id))),
		cpu: r.cpuNoticed,
	};
	const da = a.placedToShipBob;
	const db = b.noticeToShop;
	log(`    (6a) ${n0(a.acked)}/${n0(count)} orders acked at ${a.sentPerSecond}/s (ack p50 ${a.ackP50Ms} ms, p99 ${a.ackP99Ms} ms); ${n0(a.reachedShipBob)} reached ShipBob, the last ${a.lastArrivalAfterLastSendMs} ms after the last send`);
	log(`    (6a) order webhook sent → 3PL order at ShipBob: p50 ${da.p50Ms} ms, p90 ${da.p90Ms} ms, p99 ${da.p99Ms} ms, max ${da.maxMs} ms; cpu ${JSON.stringify(a.cpu)}`);
	if (a.reachedShipBob < a.acked) log(`    WARNING (6a): ${a.acked - a.reachedShipBob} acked orders never reached ShipBob within ${LOOP_WAIT_MS} ms; e.g. ${JSON.stringify(r.missingDetail).slice(0, 1500)}`);
	log(`    (6b) ${n0(b.accepted)}/${n0(b.callbacks)} order.shipped callbacks accepted at ${b.sentPerSecond}/s (ack p50 ${b.ackP50Ms} ms, p99 ${b.ackP99Ms} ms); ${n0(b.reachedShop)} fulfilments reached the shop, the last ${b.lastArrivalAfterLastSendMs} ms after the last send`);
	log(`    (6b) ship notice sent → fulfilment at Shopify: p50 ${db.p50Ms} ms, p90 ${db.p90Ms} ms, p99 ${db.p99Ms} ms, max ${db.maxMs} ms; cpu ${JSON.stringify(b.cpu)}`);
	if (b.reachedShop < b.accepted) log(`    WARNING (6b): ${b.accepted - b.reachedShop} accepted ship notices never reached the shop as fulfilments within ${LOOP_WAIT_MS} ms`);
	const destinations = (await http(server.info.appUrl, "/ops/destinations", { ops: true })).items;
	const complete = a.acked === count && a.reachedShipBob === count && b.callbacks === count && b.accepted === count && b.reachedShop === count;
	return {
		rate: LOOP_RATE,
		orders: count,
		warmup: { orders: LOOP_WARMUP, reachedShipBob: warm.shipBobAt.size, reachedShop: warm.shopAt.size, missingDetail: warm.missingDetail },
		missingDetail: r.missingDetail,
		drainBeforeMs: drained,
		complete,
		placed: a,
		shipped: b,
		destinations,
	};
}

/**
 * Between phases: waits (bounded) until the app's thread is idle and no outbound delivery holds a
 * slot at its destination's gate. Every fully reserved order is routed and its 3PL order sent
 * from the order's alarm, after the phase that placed it, at most `concurrency["3pl:…"]` at a
 * time; a saturating phase leaves a backlog that the next phase would otherwise share the thread
 * with. Records how long it took, whether it drained, and how many 3PL orders reached ShipBob meanwhile.
 */
async function settleDeliveries(server, label, maxMs = BACKLOG_WAIT_MS) {
	const t = performance.now();
	const shipBobCount = async () => (await http(server.info.sandboxUrl, "/sandbox/shipbob/orders?match=")).orders.length;
	const before = await shipBobCount();
	let drained = false;
	let inFlight = null;
	while (performance.now() - t < maxMs) {
		await quiesce(server.info.appPids, { maxMs: Math.max(300, maxMs - (performance.now() - t)) });
		const { items } = await http(server.info.appUrl, "/ops/destinations", { ops: true });
		inFlight = Object.fromEntries(items.map((d) => [d.destination, d.inFlight]));
		const idle = items.every((d) => d.inFlight === 0);
		const w = cpuWindow({ app: server.info.appPids });
		await sleep(300);
		if (idle && w.end().app < 0.05) {
			drained = true;
			break;
		}
	}
	const waitedMs = Math.round(performance.now() - t);
	const after = await shipBobCount();
	const out = { drained, waitedMs, shipBobOrdersMeanwhile: after - before, shipBobOrdersPerSecond: r1((after - before) / (waitedMs / 1000)), shipBobOrdersTotal: after, inFlight };
	if (!drained) log(`WARNING before ${label}: the app is still busy after ${waitedMs} ms (3PL backlog? ${out.shipBobOrdersMeanwhile} orders reached ShipBob meanwhile, ${out.shipBobOrdersPerSecond}/s; in flight ${JSON.stringify(inFlight)}); ${label} shares the thread with it`);
	return out;
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
	check("(3c)", results.bundles?.cpu);
	check("(5)", results.propagation?.cpu);
	check("(6a)", results.fulfilment?.placed?.cpu);
	check("(6b)", results.fulfilment?.shipped?.cpu);
	for (const [k, v] of Object.entries(results.availability ?? {})) check(`(4) ${k}`, v.cpu);
	return out;
}

/** Phases that started while the app was still working off an earlier phase's outbound deliveries. */
function backlogged(results) {
	return Object.entries(results.deliveryBacklog ?? {})
		.filter(([, b]) => !b.drained)
		.map(([label, b]) => `${label} (after ${(b.waitedMs / 1000).toFixed(0)} s of waiting, 3PL orders were reaching ShipBob at ${b.shipBobOrdersPerSecond}/s)`);
}

function goalsOf(results) {
	const { floor, webhooks, reservations, ledger, bundles, propagation, availability, fulfilment } = results;
	const loopA = fulfilment?.placed;
	const loopB = fulfilment?.shipped;
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
				? `${n0(webhooks.settle.endToEndOrdersPerSecond)} orders/s end to end (ledgers caught up ${(webhooks.settle.drainAfterLastAckMs / 1000).toFixed(1)} s after the last ack); ${n0(webhooks.pushes?.perSecond)} pushes/s reached the shop during the run${webhooks.channelsConverged?.mismatched === 0 ? `, which showed every SKU's number ${webhooks.channelsConverged.afterMs} ms after the ledgers settled` : webhooks?.channelsConverged ? `; the shop differs on ${webhooks.channelsConverged.mismatched} SKUs` : ""}`
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
		{
			figure: `(3c) hot SKU with bundles: ${bundles?.single ?? "component"} alone or in ${bundles?.bundle ?? "a bundle"}, component ledgers called directly over RPC`,
			value: bundles && `${n0(bundles.linesPerSecond)} order lines/s = ${n0(bundles.ledgerCallsPerSecond)} ledger reserves/s (${n0(bundles.lines)} lines, half of them bundles of ${bundles.parts.length}, ${bundles.concurrency} in flight; ${n0(bundles.bundlesPartial)} bundles left partly held); oversell ${bundles.oversell} on ${Object.keys(bundles.components).join(" and ")}${Object.values(bundles.checks).every(Boolean) ? "" : ", checks FAILED"}`,
			goal: `≥ ${n0(GOALS.reservationsPerSecond)} lines/s, oversell = 0`,
			met: bundles ? bundles.linesPerSecond >= GOALS.reservationsPerSecond && bundles.oversell === 0 && Object.values(bundles.checks).every(Boolean) : false,
		},
		{ figure: `(4) availability, 1 SKU, ${CONNECTIONS} conn`, value: avail(`one_c${CONNECTIONS}`), goal: `p99 ≤ ${GOALS.avail1P99} ms`, met: a(`one_c${CONNECTIONS}`) ? a(`one_c${CONNECTIONS}`).p99Ms <= GOALS.avail1P99 : false },
		{ figure: "(4) availability, 1 SKU, 1 conn", value: avail("one_c1"), goal: "", met: null },
		{ figure: `(4) availability, 50 SKUs, ${CONNECTIONS} conn`, value: avail(`fifty_c${CONNECTIONS}`), goal: `p99 ≤ ${GOALS.avail50P99} ms`, met: a(`fifty_c${CONNECTIONS}`) ? a(`fifty_c${CONNECTIONS}`).p99Ms <= GOALS.avail50P99 : false },
		{ figure: "(4) availability, 50 SKUs, 1 conn", value: avail("fifty_c1"), goal: "", met: null },
		{
			figure: `(5) propagation: stock change on the ledger → push at the shop, under ${propagation ? n0(propagation.ordersPerSecond) : "n/a"} orders/s over ${PROPAGATION_SKUS} SKUs + snapshots`,
			value: propagation && `p50 ${propagation.changeToShop.p50Ms} ms, p99 ${propagation.changeToShop.p99Ms} ms, max ${propagation.changeToShop.maxMs} ms (${n0(propagation.changeToShop.count)} changes in ${n0(propagation.pushesReceived)} pushes; reservations p99 ${propagation.byKind.reserve.p99Ms} ms, snapshots p99 ${propagation.byKind.snapshot.p99Ms} ms)${propagation.changesNeverPushed ? `; ${propagation.changesNeverPushed} never pushed` : ""}`,
			goal: `p99 ≤ ${n0(GOALS.propagationP99)} ms`,
			met: propagation ? propagation.changeToShop.p99Ms !== null && propagation.changeToShop.p99Ms <= GOALS.propagationP99 && propagation.changesNeverPushed === 0 && propagation.channelsConverged.mismatched === 0 : false,
		},
		{
			figure: "(5) same orders and snapshots, from the webhook's ack / the snapshot's response",
			value: propagation && `order ack → shop p50 ${propagation.orderAckToShop.p50Ms} ms, p99 ${propagation.orderAckToShop.p99Ms} ms; snapshot response → shop p50 ${propagation.snapshotResponseToShop.p50Ms} ms, p99 ${propagation.snapshotResponseToShop.p99Ms} ms`,
			goal: "",
			met: null,
		},
		{
			figure: `(5) same, at full load: during (2), on ${webhooks?.propagation?.skusMeasured ?? "a sample of"} of its SKUs`,
			value: webhooks?.propagation && `p50 ${webhooks.propagation.changeToShop.p50Ms} ms, p99 ${webhooks.propagation.changeToShop.p99Ms} ms, max ${webhooks.propagation.changeToShop.maxMs} ms (${n0(webhooks.propagation.changeToShop.count)} changes); order ack → shop p99 ${webhooks.propagation.orderAckToShop.p99Ms} ms${webhooks.propagation.changesNeverPushed ? `; ${webhooks.propagation.changesNeverPushed} never pushed` : ""}`,
			goal: "",
			met: null,
		},
		{
			figure: `(6a) fulfilment: order webhook sent → 3PL order received by the ShipBob sandbox, at ${loopA ? loopA.sentPerSecond : LOOP_RATE} orders/s, healthy destinations`,
			value: loopA && `p50 ${loopA.placedToShipBob.p50Ms} ms, p99 ${loopA.placedToShipBob.p99Ms} ms, max ${loopA.placedToShipBob.maxMs} ms (${n0(loopA.placedToShipBob.count)} of ${n0(loopA.orders)} orders${loopA.reachedShipBob < loopA.orders ? `; ${n0(loopA.orders - loopA.reachedShipBob)} never arrived` : ""}; webhook ack p99 ${loopA.ackP99Ms} ms)`,
			goal: `p99 ≤ ${n0(GOALS.placedToThreePlP99)} ms`,
			met: loopA ? loopA.placedToShipBob.p99Ms !== null && loopA.placedToShipBob.p99Ms <= GOALS.placedToThreePlP99 && loopA.reachedShipBob === loopA.orders : false,
		},
		{
			figure: `(6b) fulfilment: ship notice sent to the app → fulfilment received by the Shopify sandbox, at ${loopB ? loopB.sentPerSecond : LOOP_RATE} notices/s`,
			value: loopB && `p50 ${loopB.noticeToShop.p50Ms} ms, p99 ${loopB.noticeToShop.p99Ms} ms, max ${loopB.noticeToShop.maxMs} ms (${n0(loopB.noticeToShop.count)} of ${n0(loopB.callbacks)} shipments${loopB.reachedShop < loopB.callbacks ? `; ${n0(loopB.callbacks - loopB.reachedShop)} never arrived` : ""}; callback ack p99 ${loopB.ackP99Ms} ms)`,
			goal: `p99 ≤ ${n0(GOALS.shipNoticeToChannelP99)} ms`,
			met: loopB ? loopB.noticeToShop.p99Ms !== null && loopB.noticeToShop.p99Ms <= GOALS.shipNoticeToChannelP99 && loopB.reachedShop === loopB.callbacks && loopB.callbacks === fulfilment.orders : false,
		},
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
			(results.ledger ? ` (3b) and (3c) run \`bench/probe-worker.ts\` (the same worker and Durable Object classes plus \`/__probe\` routes) in a third workerd process: one request makes every reserve RPC from ${results.ledger.concurrency} concurrent callers inside that isolate, so callers and ledger share its one thread; the client times the request.` : "") +
			` Bindings are wrangler.toml's (${results.config.app ? results.config.app.connections.map((c) => c.id).join(" and ") : "its connections"}, INVENTORY, FULFILLMENT, THREEPLS, TRACKING, DELIVERY, every secret it names), with pushes and fulfilments going to the sandbox Shopify Admin peer, 3PL orders to its ShipBob peer and trackers to its EasyPost peer (\`sandbox/\`, a workerd process of its own), seeded with a variant for every SKU stocked` +
			(results.config.sandboxLimits === "off" ? "; the shop's cost-based rate limit is lifted for the bench (a real Standard-plan shop sustains 10 `inventorySetQuantities` a second)." : "; the shop keeps its Standard-plan rate limit (100 points/s).") +
			` Stock is at ${results.config.stockLocation ?? "a fulfilment location"}, so every fully reserved order of every phase is also routed and sent to ShipBob.` +
			" (6) times each order from the bench's send of its webhook to the sandbox's arrival stamp on its ShipBob order, then each shipment from the bench's send of ShipBob's signed `order.shipped` callback to the sandbox's arrival stamp on its Shopify fulfilment (both wall clocks of this machine, ms), with no faults injected.",
		w?.cappedByFileLimit ? `\n**Note:** (2) stopped early, at workerd's open-file limit (3 files per live Durable Object); raise \`ulimit -n\`.` : "",
		results.otherCpu?.length ? `\n**Warning:** other processes used CPU during ${results.otherCpu.join(", ")}: those figures are low; rerun on a quiet machine.` : "",
		results.backlogged?.length ? `\n**Warning:** the app's thread was still busy with earlier phases' outbound deliveries (3PL orders of routed orders) when ${results.backlogged.join("; ")} started: those figures include that work.` : "",
		Object.values(results.pushExceptions ?? {}).some((e) => e.count) ? `\n**Warning:** pushes were refused or kept failing: ${JSON.stringify(results.pushExceptions)}` : "",
		results.deliveryExceptions?.deadLetters || results.deliveryExceptions?.unroutable ? `\n**Warning:** deliveries dead-lettered or orders unroutable: ${JSON.stringify(results.deliveryExceptions)}` : "",
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
			bundles: { bundle: BUNDLE_SKU, lines: BUNDLE_LINES, concurrency: LEDGER_CONCURRENCY },
			propagation: { seconds: PROPAGATION_SECONDS, skus: PROPAGATION_SKUS, connections: PROPAGATION_CONNECTIONS, loadShareOfWebhookRate: PROPAGATION_LOAD, snapshotEveryMs: PROPAGATION_SNAPSHOT_MS },
			fulfilment: { ratePerSecond: LOOP_RATE, seconds: LOOP_SECONDS, waitMs: LOOP_WAIT_MS, firstOrderId: LOOP_FIRST_ID },
			goals: GOALS,
		},
	};
	const failures = [];
	// What is built is the tree at the start; others may commit while the bench runs.
	const sourceAtBuild = sourceInfo();
	try {
		buildWorker(log);
		const probeScript = await buildProbe(log);
		const sandboxScript = await buildSandbox(log, { limits: SANDBOX_LIMITS });
		log("starting bench/server.mjs (Miniflare → workerd)");
		server = await startServer({ env: { BENCH_PROBE_SCRIPT: probeScript, BENCH_SANDBOX_SCRIPT: sandboxScript } });
		results.machine = machineInfo(server.info.storage);
		results.config.app = server.info.config;
		results.config.sandboxLimits = SANDBOX_LIMITS;
		results.config.shopPlan = server.info.shopPlan;
		stockLocation = pickStockLocation(server.info.config);
		results.config.stockLocation = stockLocation;
		const groups = {
			appWorkerd: server.info.appPids,
			floorWorkerd: server.info.floorPids,
			probeWorkerd: server.info.probePids,
			sandboxWorkerd: server.info.sandboxPids,
			serverNode: [server.info.pid],
		};
		log(`app ${server.info.appUrl} (workerd pid ${server.info.appPids}), floor ${server.info.floorUrl} (workerd pid ${server.info.floorPids}), probe ${server.info.probeUrl} (workerd pid ${server.info.probePids}), sandbox shop ${server.info.sandboxUrl} (workerd pid ${server.info.sandboxPids}); DO storage: ${server.info.storage} (${server.info.tmpdir})`);
		log(`app config from ${"wrangler.toml"}: connections ${server.info.config.connections.map((c) => `${c.id}${c.pushes ? " (pushes)" : ""}`).join(", ")}; bundles ${Object.keys(server.info.config.bundles).join(", ")}; 3PLs ${server.info.config.threePls.join(", ") || "none"}; tracking ${server.info.config.tracking.join(", ") || "none"}; secrets ${server.info.config.secrets.join(", ")}`);
		log(`stock goes to ${stockLocation} (${stockLocation === "wh-bench" ? "no fulfilment location ships to US and CA: orders stay unrouted" : "a fulfilment location: every fully reserved order is routed to its 3PL"}); sandbox shop plan ${JSON.stringify(server.info.shopPlan.after)}`);
		// Every SKU the bench stocks gets a variant in the sandbox shop, so every push is accepted.
		const bundleParts = Object.values(server.info.config.bundles).flatMap((parts) => parts.map((p) => p.sku));
		const variants = [...CATALOG, HOT_SKU, ...Array.from({ length: PROPAGATION_SKUS }, (_, i) => propSkuName(i)), "LEDGER-WARM", LEDGER_SKU, ...new Set(bundleParts)];
		await seedVariants(server.info.sandboxUrl, variants);
		log(`seeded ${n0(variants.length)} variants in the sandbox shop`);
		const sb = sandboxLog(server.info.sandboxUrl);

		results.floor = await measureFloor(server, groups);
		await stockCatalog(server.info.appUrl);
		// (6) first: the saturating phases leave the app a backlog of 3PL orders to send.
		results.fulfilment = await measureFulfilment(server, groups);
		if (!results.fulfilment.complete) {
			const { placed: a, shipped: b } = results.fulfilment;
			failures.push(`(6) fulfilment loop incomplete with healthy destinations: ${a.acked}/${results.fulfilment.orders} orders acked, ${a.reachedShipBob} reached ShipBob, ${b.accepted}/${b.callbacks} ship notices accepted, ${b.reachedShop} fulfilments reached the shop${a.notAckedExample ? `; e.g. ${a.notAckedExample}` : b.notAcceptedExample ? `; e.g. ${b.notAcceptedExample}` : ""}`);
		}
		results.deliveryBacklog = {};
		results.deliveryBacklog["(2)"] = await settleDeliveries(server, "(2)");
		results.webhooks = await measureWebhooks(server, groups, sb);
		results.deliveryBacklog["(5)"] = await settleDeliveries(server, "(5)");
		results.propagation = await measurePropagation(server, groups, sb, results.webhooks.rps);
		results.deliveryBacklog["(4)"] = await settleDeliveries(server, "(4)");
		results.availability = await measureAvailability(server, groups);
		results.webhooks.oneConnection = await measureWebhooksSingle(server, results.webhooks.rps);
		results.deliveryBacklog["(3)"] = await settleDeliveries(server, "(3)");
		// One-line orders cost less than 2–3-line ones; the 2–3-line rate sizes the run conservatively.
		results.reservations = await measureHotSku(server, groups, results.webhooks.rps * 1.5, sb);
		const failed = Object.entries(results.reservations.checks).filter(([, ok]) => !ok).map(([name]) => name);
		if (results.reservations.oversell !== 0 || failed.length) {
			failures.push(`hot SKU invariants violated: oversell ${results.reservations.oversell}; failed checks: ${failed.join(", ") || "none"}`);
		}
		results.deliveryBacklog["(3b)"] = await settleDeliveries(server, "(3b)");
		results.ledger = await measureLedger(server, groups, sb);
		const failedLedger = Object.entries(results.ledger.checks).filter(([, ok]) => !ok).map(([name]) => name);
		if (results.ledger.oversell !== 0 || failedLedger.length) {
			failures.push(`(3b) SkuLedger invariants violated: oversell ${results.ledger.oversell}; failed checks: ${failedLedger.join(", ") || "none"}`);
		}
		await quiesce([...server.info.probePids, ...server.info.appPids], { maxMs: 10_000 });
		results.bundles = await measureBundles(server, groups, sb);
		const failedBundles = Object.entries(results.bundles.checks).filter(([, ok]) => !ok).map(([name]) => name);
		if (results.bundles.oversell !== 0 || failedBundles.length) {
			failures.push(`(3c) bundle component ledgers' invariants violated: oversell ${results.bundles.oversell}; failed checks: ${failedBundles.join(", ") || "none"}`);
		}
		results.sandboxCalls = sb.cursor;
		// A refused or repeatedly failing push is raised as an exception: there should be none.
		results.pushExceptions = {};
		for (const [name, url] of [["app", server.info.appUrl], ["probe", server.info.probeUrl]]) {
			const { items } = await http(url, "/ops/exceptions?status=all", { ops: true });
			const pushItems = items.filter((e) => e.id.startsWith("push:"));
			results.pushExceptions[name] = { count: pushItems.length, example: pushItems[0]?.reason ?? null };
			if (pushItems.length) log(`WARNING: ${pushItems.length} push exceptions in the ${name} worker, e.g. ${pushItems[0].reason}`);
		}
		// With healthy destinations no delivery (3PL order, fulfilment, tracker) should be dead-lettered, and no order left unroutable.
		{
			const { items } = await http(server.info.appUrl, "/ops/exceptions?status=all", { ops: true });
			const pick = (prefix) => items.filter((e) => e.id.startsWith(prefix));
			const dead = pick("delivery:");
			const unroutable = pick("route:");
			results.deliveryExceptions = { deadLetters: dead.length, deadExample: dead[0]?.reason ?? null, unroutable: unroutable.length, unroutableExample: unroutable[0]?.reason ?? null };
			if (dead.length || unroutable.length) log(`WARNING: ${dead.length} dead-lettered deliveries, ${unroutable.length} unroutable orders in the app, e.g. ${dead[0]?.reason ?? unroutable[0]?.reason}`);
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
	results.backlogged = backlogged(results);
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
