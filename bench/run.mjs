// `npm run bench`: builds the worker, runs it on workerd (Miniflare, bench/server.mjs — a separate
// process) and measures from this process with autocannon:
//   1. the floor: a trivial worker's requests/s;
//   2. signed Shopify orders/create webhooks/s (2–3 lines, distinct orders, 1,000 SKUs) + ack latency;
//   3. reservations/s on one hot SkuLedger, then checks that nothing was oversold;
//   4. GET /v1/availability latency for 1 and 50 SKUs.
// Writes bench/results.json and bench/results.md. Loopback only; every loop is bounded; the servers
// it starts are stopped in `finally` (and on SIGINT/SIGTERM).

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { shopifyOrder, signedDelivery } from "../demo/shopify-orders.mjs";
import { BUILD_DIR, BUNDLE, CONNECTION, SHOPIFY_SECRET } from "./config.mjs";
import { cannon, cpuWindow, http, quiesce, setClockTicks, sleep, startServer, stopServer } from "./lib.mjs";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const FLOOR_SECONDS = Number(process.env.BENCH_FLOOR_SECONDS ?? 10);
const WEBHOOK_SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 10);
const AVAIL_SECONDS = Number(process.env.BENCH_AVAIL_SECONDS ?? 5);
const SKU_COUNT = 1000;
const HOT_SKU = "HOT-0001";
const SETTLE_TIMEOUT_MS = 45_000;

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

const skuName = (i) => `SKU-${String(i).padStart(4, "0")}`;

// ---------------------------------------------------------------- build

function build() {
	log(`bundling worker: wrangler deploy --dry-run --outdir ${BUILD_DIR}`);
	const result = spawnSync("npx", ["--no-install", "wrangler", "deploy", "--dry-run", "--outdir", BUILD_DIR], {
		encoding: "utf8",
		env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
	});
	if (result.status !== 0) throw new Error(`wrangler build failed:\n${result.stdout}\n${result.stderr}`);
	const js = readdirSync(BUILD_DIR).filter((f) => f.endsWith(".js"));
	if (!existsSync(BUNDLE)) throw new Error(`expected ${BUNDLE}; wrangler wrote ${js.join(", ") || "no .js file"}`);
	log(`bundle: ${BUNDLE} (${(readFileSync(BUNDLE).byteLength / 1024).toFixed(0)} KiB)`);
}

// ---------------------------------------------------------------- request pools

/** Pre-signed webhook deliveries (raw body + headers), each a new order with a new event id. */
async function signedOrders(count, firstId, linesFor) {
	const out = new Array(count);
	for (let i = 0; i < count; i++) {
		const id = firstId + i;
		const lines = linesFor(i);
		const delivery = await signedDelivery({
			secret: SHOPIFY_SECRET,
			topic: "orders/create",
			body: shopifyOrder({ id, lines }),
		});
		out[i] = { id, lines, body: Buffer.from(delivery.body), headers: delivery.headers };
	}
	return out;
}

function randomLines() {
	const n = 2 + Math.floor(Math.random() * 2); // 2–3 lines
	const skus = new Set();
	while (skus.size < n) skus.add(skuName(Math.floor(Math.random() * SKU_COUNT)));
	return [...skus].map((sku) => ({ sku, quantity: 1 + Math.floor(Math.random() * 3), price: "12.50" }));
}

/**
 * autocannon options that send each pooled delivery exactly once (a shared cursor across all
 * connections). If the pool runs dry the run is stopped and `exhausted` is set: a wrapped cursor
 * would resend deliveries and measure dedupe instead of ingestion.
 */
function webhookLoad(pool, tally) {
	const state = { next: 0, exhausted: false, instance: null };
	const path = `/webhooks/shopify/${CONNECTION}`;
	const requests = [
		{
			method: "POST",
			path,
			setupRequest(req) {
				const item = pool[state.next++];
				if (!item) {
					if (!state.exhausted) {
						state.exhausted = true;
						setImmediate(() => state.instance?.stop());
					}
					return { ...req, method: "GET", path: "/health", headers: {}, body: undefined };
				}
				return { ...req, headers: item.headers, body: item.body };
			},
			onResponse(status, body) {
				if (status !== 200) {
					tally.http[status] = (tally.http[status] ?? 0) + 1;
					if (tally.samples.length < 5) tally.samples.push(`${status} ${body.slice(0, 200)}`);
					return;
				}
				if (body.startsWith('{"ok"')) return; // /health after exhaustion
				let parsed;
				try {
					parsed = JSON.parse(body);
				} catch {
					tally.other++;
					return;
				}
				tally.status[parsed.status] = (tally.status[parsed.status] ?? 0) + 1;
				if (parsed.status === "applied") tally.applied.push(Number(parsed.order.slice(parsed.order.indexOf(":") + 1)));
			},
		},
	];
	return { state, requests };
}

const newTally = () => ({ status: {}, http: {}, applied: [], other: 0, samples: [] });

async function runWebhooks(base, pool, opts, phase) {
	const tally = newTally();
	const { state, requests } = webhookLoad(pool, tally);
	const run = await cannon(
		{ url: base, connections: CONNECTIONS, requests, ...opts },
		{ onStart: (instance) => (state.instance = instance) },
	);
	const errs = run.result.errors + run.result.timeouts;
	if (Object.keys(tally.http).length || tally.other || errs) {
		log(`WARNING ${phase}: non-200 ${JSON.stringify(tally.http)}, unparsed ${tally.other}, errors ${run.result.errors}, timeouts ${run.result.timeouts}`, tally.samples);
	}
	return { run, tally, exhausted: state.exhausted, sent: Math.min(state.next, pool.length) };
}

// ---------------------------------------------------------------- phases

async function measureFloor(server, groups) {
	const base = server.info.floorUrl;
	log(`(1) floor: trivial worker, warm-up 2 s, then ${FLOOR_SECONDS} s at ${CONNECTIONS} connections`);
	await cannon({ url: base, connections: CONNECTIONS, duration: 2 });
	const cpu = cpuWindow(groups, { threadsOf: server.info.floorPids });
	const { result, latency } = await cannon({ url: base, connections: CONNECTIONS, duration: FLOOR_SECONDS });
	const usage = cpu.end();
	const rps = result["2xx"] / result.duration;
	log(`    ${rps.toFixed(0)} req/s, p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms, non-2xx ${result.non2xx}, errors ${result.errors}; cpu ${JSON.stringify(usage)}`);
	return { rps: Math.round(rps), p50Ms: r2(latency.p50), p99Ms: r2(latency.p99), requests: result["2xx"], non2xx: result.non2xx, errors: result.errors, seconds: result.duration, cpu: usage };
}

async function stockCatalog(base) {
	const asOf = new Date().toISOString();
	const items = Array.from({ length: SKU_COUNT }, (_, i) => ({ sku: skuName(i), location: "wh-bench", onHand: 1_000_000 }));
	const t = performance.now();
	const out = await http(base, "/v1/inventory/snapshots", { method: "POST", ops: true, body: { source: "bench", asOf, items } });
	if (out.applied !== SKU_COUNT) throw new Error(`snapshot applied ${out.applied} of ${SKU_COUNT}`);
	log(`stocked ${SKU_COUNT} SKUs × 1,000,000 units in ${(performance.now() - t).toFixed(0)} ms`);
}

/** Reads reserved for all 1,000 SKUs (10 requests × 100 SKUs). */
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

	log("(2) webhooks: generating 3,000 signed warm-up orders");
	const warmPool = await signedOrders(3000, nextId, randomLines);
	nextId += warmPool.length;
	const warm = await runWebhooks(base, warmPool, { amount: warmPool.length - CONNECTIONS * 4 }, "warm-up");
	const probeRate = (warm.tally.status.applied ?? 0) / (warm.run.wallMs / 1000);
	const poolSize = Math.max(6000, Math.ceil(probeRate * WEBHOOK_SECONDS * 1.8) + 2000);
	log(`    warm-up: ${probeRate.toFixed(0)} acks/s over ${warmPool.length} orders; generating ${poolSize.toLocaleString("en-US")} signed orders for the measured run`);
	const tGen = performance.now();
	const pool = await signedOrders(poolSize, nextId, randomLines);
	nextId += pool.length;
	log(`    generated in ${((performance.now() - tGen) / 1000).toFixed(1)} s (avg body ${(pool.reduce((a, p) => a + p.body.byteLength, 0) / pool.length).toFixed(0)} B); waiting for the warm-up's sagas to drain`);
	const drained = await quiesce(server.info.appPids, { maxMs: 20_000 });

	log(`    measuring ${WEBHOOK_SECONDS} s at ${CONNECTIONS} connections (after ${drained} ms drain)`);
	const expected = new Map();
	const cpu = cpuWindow(groups, { threadsOf: server.info.appPids });
	const tStart = Date.now();
	const { run, tally, exhausted, sent } = await runWebhooks(base, pool, { duration: WEBHOOK_SECONDS }, "webhooks");
	const ackCpu = cpu.end();
	const tAcked = Date.now();
	const applied = tally.status.applied ?? 0;
	const duplicates = tally.status.duplicate ?? 0;
	const rps = applied / run.result.duration;
	const byId = new Map(pool.map((p) => [p.id, p]));
	let lines = 0;
	for (const id of tally.applied) {
		for (const line of byId.get(id).lines) {
			expected.set(line.sku, (expected.get(line.sku) ?? 0) + line.quantity);
			lines++;
		}
	}
	// Warm-up orders also reserved; count them into the expectation.
	const warmById = new Map(warmPool.map((p) => [p.id, p]));
	for (const id of warm.tally.applied) {
		for (const line of warmById.get(id).lines) expected.set(line.sku, (expected.get(line.sku) ?? 0) + line.quantity);
	}
	log(`    ${rps.toFixed(0)} webhooks/s acked (${applied} applied, ${duplicates} duplicate, ${lines} lines), p50 ${run.latency.p50.toFixed(2)} ms, p99 ${run.latency.p99.toFixed(2)} ms${exhausted ? " — POOL EXHAUSTED, run stopped early" : ""}`);
	log(`    cpu during acks: ${JSON.stringify(ackCpu)}`);

	// Every acked order's lines must show up as reservations (the saga runs after the ack).
	log("    waiting for every acked order's reservations to land on the ledgers…");
	const settleCpu = cpuWindow(groups, { threadsOf: server.info.appPids });
	let settledAt = null;
	let mismatched = null;
	const deadline = performance.now() + SETTLE_TIMEOUT_MS;
	while (performance.now() < deadline) {
		const reserved = await reservedBySku(base);
		mismatched = 0;
		for (let i = 0; i < SKU_COUNT; i++) {
			const sku = skuName(i);
			if ((reserved.get(sku) ?? 0) !== (expected.get(sku) ?? 0)) mismatched++;
		}
		if (mismatched === 0) {
			settledAt = Date.now();
			break;
		}
		await sleep(250);
	}
	const drainCpu = settleCpu.end();
	const settle = settledAt
		? {
				settled: true,
				drainAfterLastAckMs: settledAt - tAcked,
				endToEndOrdersPerSecond: Math.round(applied / ((settledAt - tStart) / 1000)),
				cpu: drainCpu,
			}
		: { settled: false, skusStillMismatched: mismatched, cpu: drainCpu };
	log(settledAt
		? `    all reservations landed ${settle.drainAfterLastAckMs} ms after the last ack → ${settle.endToEndOrdersPerSecond} orders/s end to end; cpu ${JSON.stringify(drainCpu)}`
		: `    WARNING: ${mismatched} SKUs still did not match after ${SETTLE_TIMEOUT_MS} ms`);

	return {
		rps: Math.round(rps),
		p50Ms: r2(run.latency.p50),
		p90Ms: r2(run.latency.p90),
		p99Ms: r2(run.latency.p99),
		maxMs: r2(run.latency.max),
		seconds: run.result.duration,
		applied,
		duplicates,
		lines,
		non200: tally.http,
		errors: run.result.errors,
		timeouts: run.result.timeouts,
		poolExhausted: exhausted,
		deliveriesBuilt: sent,
		avgBodyBytes: Math.round(pool.reduce((a, p) => a + p.body.byteLength, 0) / pool.length),
		warmupAcksPerSecond: Math.round(probeRate),
		cpu: ackCpu,
		settle,
	};
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
			log(`(4) availability ${name === "one" ? "1 SKU" : "50 SKUs"} @ ${connections} conn: ${out[key].rps} req/s, p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms; app workerd ${usage.appWorkerd} cores`);
			if (result.non2xx || result.errors) log(`    WARNING: non-2xx ${result.non2xx}, errors ${result.errors}`);
		}
	}
	return out;
}

async function measureHotSku(server, groups, webhookRate) {
	const base = server.info.appUrl;
	// Enough orders for several seconds at the measured ingestion rate; stock below the order count.
	const orders = Math.min(20_000, Math.max(3000, Math.round((webhookRate * 6) / 500) * 500));
	const stock = Math.floor(orders * 0.75);
	log(`(3) hot SKU: stocking ${HOT_SKU} with ${stock} units, generating ${orders} one-line orders (1 unit each)`);
	await http(base, "/v1/inventory/snapshots", {
		method: "POST",
		ops: true,
		body: { source: "bench", asOf: new Date().toISOString(), items: [{ sku: HOT_SKU, location: "wh-bench", onHand: stock }] },
	});
	// A margin beyond `amount` so connections that build a request they never send cannot wrap the cursor.
	const pool = await signedOrders(orders + CONNECTIONS * 4, 50_000_000, () => [{ sku: HOT_SKU, quantity: 1, price: "30.00" }]);
	const drained = await quiesce(server.info.appPids, { maxMs: 20_000 });
	log(`    firing ${orders} webhooks at ${CONNECTIONS} connections (after ${drained} ms drain)`);

	const cpu = cpuWindow(groups, { threadsOf: server.info.appPids });
	const tFirst = Date.now();
	const { run, tally } = await runWebhooks(base, pool, { amount: orders }, "hot SKU");
	const tAcked = Date.now();
	const acked = (tally.status.applied ?? 0);
	const sentOrders = Object.values(tally.status).reduce((a, b) => a + b, 0);
	log(`    acked ${acked} orders in ${((tAcked - tFirst) / 1000).toFixed(2)} s (${(acked / ((tAcked - tFirst) / 1000)).toFixed(0)}/s), ack p99 ${run.latency.p99.toFixed(1)} ms; polling the ledger`);

	// Cheap poll until every unit is held, then poll the full detail until every order has a row.
	let detail = null;
	let tSeen = null;
	const deadline = performance.now() + SETTLE_TIMEOUT_MS;
	while (performance.now() < deadline) {
		const { items } = await http(base, `/v1/availability?sku=${HOT_SKU}`);
		if (items[0].reserved >= Math.min(stock, acked)) break;
		await sleep(100);
	}
	while (performance.now() < deadline) {
		detail = await http(base, `/ops/skus/${HOT_SKU}`, { ops: true });
		if (detail.reservations.length >= acked) {
			tSeen = Date.now();
			break;
		}
		await sleep(200);
	}
	const usage = cpu.end();
	if (!detail) throw new Error("hot SKU: could not read the ledger");

	const rows = detail.reservations.length;
	const open = detail.reservations.filter((r) => r.status === "open");
	const sumOpen = open.reduce((a, r) => a + r.quantity, 0);
	const holding = detail.reservations.filter((r) => r.quantity > 0).length;
	const overRequested = detail.reservations.filter((r) => r.quantity > r.requested).length;
	const expectedReserved = Math.min(stock, acked);
	const tLast = Date.parse(detail.updatedAt);
	const windowMs = tLast - tFirst;
	const checks = {
		everyOrderHasARow: rows === acked,
		reservedEqualsMinStockOrders: detail.reserved === expectedReserved,
		onHandMinusReservedNonNegative: detail.onHand - detail.reserved >= 0,
		availableNonNegative: detail.available >= 0,
		sumOpenEqualsReserved: sumOpen === detail.reserved,
		noRowAboveRequested: overRequested === 0,
		noDuplicates: (tally.status.duplicate ?? 0) === 0 && sentOrders === acked,
	};
	const oversell = Math.max(0, detail.reserved - detail.onHand, sumOpen - detail.onHand);
	const result = {
		orders: acked,
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
		ackRate: Math.round(acked / ((tAcked - tFirst) / 1000)),
		ackP50Ms: r2(run.latency.p50),
		ackP99Ms: r2(run.latency.p99),
		firstRequestToLastReservationMs: windowMs,
		lastReservationAfterLastAckMs: tLast - tAcked,
		pollSawAllRowsAfterMs: tSeen ? tSeen - tFirst : null,
		reservationsPerSecond: rows === acked && windowMs > 0 ? Math.round(rows / (windowMs / 1000)) : null,
		checks,
		cpu: usage,
	};
	log(`    ${rows} reservation rows (${holding} holding a unit, ${rows - holding} backordered); reserved ${detail.reserved}/${stock}, onHand ${detail.onHand}, Σopen ${sumOpen}`);
	log(`    first request → last reservation ${windowMs} ms → ${result.reservationsPerSecond} reservations/s; oversell ${oversell}; cpu ${JSON.stringify(usage)}`);
	return result;
}

// ---------------------------------------------------------------- report

function machineInfo() {
	const cpus = os.cpus();
	let workerd = null;
	try {
		workerd = JSON.parse(readFileSync("node_modules/workerd/package.json", "utf8")).version;
	} catch {}
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
		workerd,
		miniflare: version("miniflare"),
		wrangler: version("wrangler"),
		autocannon: version("autocannon"),
		date: new Date().toISOString(),
		loadAverageAtStart: os.loadavg().map(r2),
	};
}

function goalsOf(results) {
	const { floor, webhooks, reservations, availability } = results;
	const ratio = webhooks && floor ? webhooks.rps / floor.rps : null;
	return [
		{ figure: "(1) floor: trivial worker", value: floor && `${floor.rps.toLocaleString("en-US")} req/s (p99 ${floor.p99Ms} ms)`, goal: "—", met: null },
		{
			figure: "(2) signed orders/create webhooks",
			value: webhooks && `${webhooks.rps.toLocaleString("en-US")} /s = ${(ratio * 100).toFixed(1)} % of (1); ack p50 ${webhooks.p50Ms} ms, p99 ${webhooks.p99Ms} ms`,
			goal: `≥ ${GOALS.webhookRatio * 100} % of (1), p99 ≤ ${GOALS.webhookP99} ms`,
			met: webhooks ? ratio >= GOALS.webhookRatio && webhooks.p99Ms <= GOALS.webhookP99 : false,
		},
		{
			figure: "(2b) same orders, acked → all reservations landed",
			value: webhooks?.settle?.settled ? `${webhooks.settle.endToEndOrdersPerSecond.toLocaleString("en-US")} orders/s end to end (ledgers caught up ${(webhooks.settle.drainAfterLastAckMs / 1000).toFixed(1)} s after the last ack)` : "did not settle",
			goal: "—",
			met: null,
		},
		{
			figure: "(3) reservations on one hot SKU",
			value: reservations && `${reservations.reservationsPerSecond?.toLocaleString("en-US") ?? "n/a"} /s (${reservations.orders.toLocaleString("en-US")} orders, ${reservations.stock.toLocaleString("en-US")} units), oversell ${reservations.oversell}`,
			goal: `≥ ${GOALS.reservationsPerSecond.toLocaleString("en-US")} /s, oversell = 0`,
			met: reservations ? (reservations.reservationsPerSecond ?? 0) >= GOALS.reservationsPerSecond && reservations.oversell === 0 && Object.values(reservations.checks).every(Boolean) : false,
		},
		{
			figure: `(4) availability, 1 SKU, ${CONNECTIONS} conn`,
			value: availability && `p50 ${availability[`one_c${CONNECTIONS}`].p50Ms} ms, p99 ${availability[`one_c${CONNECTIONS}`].p99Ms} ms (${availability[`one_c${CONNECTIONS}`].rps.toLocaleString("en-US")} req/s)`,
			goal: `p99 ≤ ${GOALS.avail1P99} ms`,
			met: availability ? availability[`one_c${CONNECTIONS}`].p99Ms <= GOALS.avail1P99 : false,
		},
		{
			figure: "(4) availability, 1 SKU, 1 conn (unloaded)",
			value: availability && `p50 ${availability.one_c1.p50Ms} ms, p99 ${availability.one_c1.p99Ms} ms (${availability.one_c1.rps.toLocaleString("en-US")} req/s)`,
			goal: `p99 ≤ ${GOALS.avail1P99} ms`,
			met: availability ? availability.one_c1.p99Ms <= GOALS.avail1P99 : false,
		},
		{
			figure: `(4) availability, 50 SKUs, ${CONNECTIONS} conn`,
			value: availability && `p50 ${availability[`fifty_c${CONNECTIONS}`].p50Ms} ms, p99 ${availability[`fifty_c${CONNECTIONS}`].p99Ms} ms (${availability[`fifty_c${CONNECTIONS}`].rps.toLocaleString("en-US")} req/s)`,
			goal: `p99 ≤ ${GOALS.avail50P99} ms`,
			met: availability ? availability[`fifty_c${CONNECTIONS}`].p99Ms <= GOALS.avail50P99 : false,
		},
		{
			figure: "(4) availability, 50 SKUs, 1 conn (unloaded)",
			value: availability && `p50 ${availability.fifty_c1.p50Ms} ms, p99 ${availability.fifty_c1.p99Ms} ms (${availability.fifty_c1.rps.toLocaleString("en-US")} req/s)`,
			goal: `p99 ≤ ${GOALS.avail50P99} ms`,
			met: availability ? availability.fifty_c1.p99Ms <= GOALS.avail50P99 : false,
		},
	];
}

function markdown(results) {
	const m = results.machine;
	const rows = results.goals.map((g) => `| ${g.figure} | ${g.value ?? "not measured"} | ${g.goal} | ${g.met === null ? "" : g.met ? "✅" : "❌"} |`);
	const cpu = results.webhooks?.cpu;
	return [
		`### ordersync benchmark (${m.date.slice(0, 10)})`,
		"",
		`workerd ${m.workerd} via Miniflare ${m.miniflare} (no \`wrangler dev\` proxy), Node ${m.node}, ${m.cpuModel}, **${m.cores} cores shared by the server (workerd) and the load generator (autocannon ${m.autocannon}, ${CONNECTIONS} connections, same machine, loopback)** — absolute figures are therefore conservative; compare ratios. Durable Objects use SQLite in a temp dir.`,
		"",
		"| Figure | Result | Goal | Met |",
		"|---|---|---|---|",
		...rows,
		"",
		cpu
			? `During (2) the app's workerd used ${cpu.appWorkerd} cores (busiest thread ${cpu.appBusiestThread}), autocannon ${cpu.loadgen}, other processes ${cpu.otherProcesses}.`
			: "",
		results.error ? `\n**Run failed:** ${results.error}` : "",
		"",
	].join("\n");
}

// ---------------------------------------------------------------- main

let server = null;
let stopping = false;
async function cleanupAndExit(code) {
	if (stopping) return;
	stopping = true;
	await stopServer(server).catch(() => {});
	process.exit(code);
}
process.on("SIGINT", () => void cleanupAndExit(130));
process.on("SIGTERM", () => void cleanupAndExit(143));

async function main() {
	try {
		setClockTicks(Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()));
	} catch {}
	const results = { machine: machineInfo(), config: { connections: CONNECTIONS, floorSeconds: FLOOR_SECONDS, webhookSeconds: WEBHOOK_SECONDS, availabilitySeconds: AVAIL_SECONDS, skus: SKU_COUNT } };
	let failure = null;
	try {
		build();
		log("starting bench/server.mjs (Miniflare → workerd)");
		server = await startServer();
		const groups = { appWorkerd: server.info.appPids, floorWorkerd: server.info.floorPids, serverNode: [server.info.pid] };
		log(`app ${server.info.appUrl} (workerd pid ${server.info.appPids}), floor ${server.info.floorUrl} (workerd pid ${server.info.floorPids})`);

		results.floor = await measureFloor(server, groups);
		await stockCatalog(server.info.appUrl);
		results.webhooks = await measureWebhooks(server, groups);
		await quiesce(server.info.appPids, { maxMs: 15_000 });
		results.availability = await measureAvailability(server, groups);
		results.reservations = await measureHotSku(server, groups, results.webhooks.rps);
		const failed = Object.entries(results.reservations.checks).filter(([, ok]) => !ok).map(([name]) => name);
		if (results.reservations.oversell !== 0 || failed.length) {
			failure = `hot SKU invariants violated: oversell ${results.reservations.oversell}; failed checks: ${failed.join(", ") || "none"}`;
		}
	} catch (error) {
		failure = error instanceof Error ? error.stack ?? error.message : String(error);
	} finally {
		log("stopping servers");
		await stopServer(server);
	}
	results.error = failure;
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
