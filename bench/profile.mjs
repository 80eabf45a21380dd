// Diagnostic experiments behind the figures in bench/results.md (not part of `npm run bench`).
// Each experiment starts its own bench/server.mjs and stops it afterwards.
//
//   node bench/profile.mjs storage     webhooks/s with DO SQLite on disk vs on /dev/shm (tmpfs)
//   node bench/profile.mjs paths       the webhook path taken apart: /health, bad signature (HMAC
//                                      only), ignored topic (HMAC + 1 FlowMonitor RPC), redelivery
//                                      (HMAC + zod + warm OrderFlow), fresh order (everything)
//   node bench/profile.mjs pushes      fresh webhooks with availability pushes off vs on (BENCH_PUSHES)
//   node bench/profile.mjs lines       fresh orders with 0–4 tracked lines: CPU per order and per line
//   node bench/profile.mjs variants    what-if builds: OrderFlow without FlowMonitor calls, without
//                                      the per-change backstop alarm, without both
//   node bench/profile.mjs probe       in-isolate costs via bench/probe-worker.ts: HMAC verify, parse,
//                                      raw SkuLedger.reserve throughput, FlowMonitor.record throughput
//   node bench/profile.mjs cpuprofile  V8 CPU profile of the app isolate during fresh webhooks
//                                      (writes bench/.build/webhooks.cpuprofile, prints top functions)
//
// Set BENCH_DO_STORAGE (shm|disk) to choose storage for paths/probe/cpuprofile.

import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { shopifyOrder, signedDelivery } from "../demo/shopify-orders.mjs";
import { CONNECTION, OPS_TOKEN, SHOPIFY_SECRET } from "./config.mjs";
import { WORKERD_BUNDLE, buildProbe, buildWorker, cannon, cpuWindow, http, quiesce, seedVariants, setClockTicks, sleep, startServer, stopServer } from "./lib.mjs";

try {
	setClockTicks(Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()));
} catch {}

const CONNECTIONS = 32;
const SKUS = 1000;
const skuName = (i) => `SKU-${String(i).padStart(4, "0")}`;
const fmt = (x, d = 2) => (x === null || x === undefined ? "—" : Number(x).toFixed(d));

function randomLines() {
	const n = 2 + Math.floor(Math.random() * 2);
	const skus = new Set();
	while (skus.size < n) skus.add(skuName(Math.floor(Math.random() * SKUS)));
	return [...skus].map((sku) => ({ sku, quantity: 1 + Math.floor(Math.random() * 3), price: "12.50" }));
}

async function deliveries(count, firstId, { topic = "orders/create", lines = randomLines } = {}) {
	const out = [];
	for (let i = 0; i < count; i++) {
		const d = await signedDelivery({ secret: SHOPIFY_SECRET, topic, body: shopifyOrder({ id: firstId + i, lines: lines(i) }) });
		out.push({ headers: d.headers, body: Buffer.from(d.body) });
	}
	return out;
}

/** Sends pooled deliveries once each (or cycling, when `cycle`), for `seconds` or until the pool is used. */
async function fire(url, pool, { seconds = 5, cycle = false, method = "POST", path = `/webhooks/shopify/${CONNECTION}`, connections = CONNECTIONS, tweak } = {}) {
	let next = 0;
	let instance = null;
	let exhausted = false;
	let served = 0;
	let lastAt = 0;
	const statuses = {};
	const requests = [
		{
			method,
			path,
			setupRequest(req) {
				if (!cycle && next >= pool.length) {
					if (!exhausted) setImmediate(() => instance?.stop());
					exhausted = true;
					return { ...req, method: "GET", path: "/health", headers: {}, body: undefined };
				}
				const item = pool[next++ % pool.length];
				const headers = tweak ? tweak(item.headers) : item.headers;
				return { ...req, headers, body: item.body, method: item.body === undefined ? "GET" : req.method };
			},
			onResponse(status, body) {
				if (exhausted && body.startsWith('{"ok"')) return; // /health filler once the pool ran dry
				served++;
				lastAt = performance.now();
				let key = String(status);
				if (status === 200) {
					try {
						const parsed = JSON.parse(body);
						if (parsed.status) key += ` ${parsed.status}`;
					} catch {}
				}
				statuses[key] = (statuses[key] ?? 0) + 1;
			},
		},
	];
	const startedAt = performance.now();
	const { result, latency } = await cannon({ url, connections, duration: seconds, requests }, { onStart: (i) => (instance = i) });
	// When the pool ran dry, the rate is taken up to the last real response.
	const rps = exhausted ? served / ((lastAt - startedAt) / 1000) : served / result.duration;
	return { rps, latency, statuses, result, exhausted };
}

async function stock(base, skus = SKUS, onHand = 1_000_000) {
	const items = Array.from({ length: skus }, (_, i) => ({ sku: skuName(i), location: "wh", onHand }));
	const t = performance.now();
	await http(base, "/v1/inventory/snapshots", { method: "POST", ops: true, body: { source: "profile", asOf: new Date().toISOString(), items } });
	return performance.now() - t;
}

/**
 * workerd keeps 3 files open per live SQLite-backed object and evicts idle objects after ~10 s; wait
 * for that between experiments so earlier ones do not push later ones into the process's fd limit
 * (SQLITE_CANTOPEN).
 */
async function awaitEviction(server, { keep = SKUS + 100, maxMs = 30_000 } = {}) {
	const pid = server.info.appPids[0];
	const t = performance.now();
	while (performance.now() - t < maxMs) {
		let open = 0;
		try {
			open = readdirSync(`/proc/${pid}/fd`).length;
		} catch {
			return;
		}
		if (open < keep * 3 + 100) return;
		await sleep(1000);
	}
}

function groupsOf(server) {
	return { appWorkerd: server.info.appPids, floorWorkerd: server.info.floorPids, sandboxWorkerd: server.info.sandboxPids, serverNode: [server.info.pid] };
}

async function withServer(env, fn, args = []) {
	const server = await startServer({ env, args });
	try {
		// The app pushes availability to the sandbox shop; a SKU without a variant there is refused (and raised).
		await seedVariants(server.info.sandboxUrl, [...Array.from({ length: SKUS }, (_, i) => skuName(i)), ...[1, 32, 256].flatMap((c) => [`PROBE-HOT-${c}`, `PROBE-WARM-${c}`])]);
		return await fn(server);
	} finally {
		await stopServer(server);
	}
}

function line(label, r, cpu, group = "appWorkerd") {
	const s = Object.entries(r.statuses ?? {}).map(([k, v]) => `${k}×${v}`).join(", ");
	console.log(
		`${label.padEnd(48)} ${fmt(r.rps, 0).padStart(6)} req/s  p50 ${fmt(r.latency.p50).padStart(7)} ms  p99 ${fmt(r.latency.p99).padStart(7)} ms` +
			(cpu ? `  workerd ${fmt(cpu[group])} cores, loadgen ${fmt(cpu.loadgen)}, other ${fmt(cpu.otherProcesses)}` : "") +
			(s ? `  [${s}]` : "") +
			(r.exhausted ? "  (pool used up: rate to the last response, CPU figures diluted)" : ""),
	);
}

// ---------------------------------------------------------------- experiments

async function storage() {
	console.log("Fresh orders/create webhooks (2–3 lines) at 32 connections, 8 s, by DO storage backend:");
	for (const mode of ["disk", "shm"]) {
		await withServer({ BENCH_DO_STORAGE: mode }, async (server) => {
			const base = server.info.appUrl;
			const stockMs = await stock(base);
			const warm = await deliveries(800, 1_000_000);
			await fire(base, warm, { seconds: 30 });
			const pool = await deliveries(4000, 2_000_000);
			await quiesce(server.info.appPids);
			const cpu = cpuWindow(groupsOf(server), { threadsOf: server.info.appPids });
			const r = await fire(base, pool, { seconds: 8 });
			const usage = cpu.end();
			line(`  ${mode.padEnd(6)} (stocking 1,000 SKU DOs took ${fmt(stockMs / 1000, 1)} s)`, r, usage);
		});
	}
}

/** What availability pushes cost the app: the same fresh orders with and without an `admin` block. */
async function pushes() {
	console.log("Fresh orders/create webhooks (2–3 lines over 1,000 SKUs) at 32 connections, 8 s, with and without pushes to the sandbox shop:");
	for (const mode of ["off", "on"]) {
		await withServer({ BENCH_PUSHES: mode }, async (server) => {
			const base = server.info.appUrl;
			await stock(base);
			const warm = await deliveries(1000, 1_000_000);
			await fire(base, warm, { seconds: 30 });
			const pool = await deliveries(4000, 2_000_000);
			await quiesce(server.info.appPids);
			const t0 = Date.now();
			const cpu = cpuWindow(groupsOf(server), { threadsOf: server.info.appPids });
			const r = await fire(base, pool, { seconds: 8 });
			const usage = cpu.end();
			const { calls } = await http(server.info.sandboxUrl, "/sandbox/calls");
			const sent = calls.filter((c) => Date.parse(c.at) >= t0).length;
			line(`  pushes ${mode.padEnd(3)}`, r, usage);
			console.log(`    ${fmt((usage.appWorkerd * 1000) / r.rps)} ms of workerd CPU per order; ${sent} pushes reached the shop (${fmt(sent / 8, 0)}/s)`);
		});
	}
}

async function paths() {
	const mode = process.env.BENCH_DO_STORAGE ?? "shm";
	console.log(`Webhook path decomposition, 32 connections, 5 s each (after a 1 s warm-up), DO storage: ${mode}`);
	await withServer({ BENCH_DO_STORAGE: mode }, async (server) => {
		const base = server.info.appUrl;
		const groups = groupsOf(server);
		await stock(base);
		let nextId = 10_000_000;
		/** `make(count)` gives fresh deliveries; `cycle` pools are reused (reads, redeliveries). */
		const measure = async (label, url, { pool, make, ...opts }) => {
			await awaitEviction(server);
			const warm = pool ?? (await make(400));
			await fire(url, warm, { ...opts, seconds: 1 });
			const main = pool ?? (await make(opts.size ?? 3000));
			await quiesce(server.info.appPids);
			if (make) await sleep(2500); // the warm-up's backstop alarms
			const cpu = cpuWindow(groups, { threadsOf: server.info.appPids });
			const r = await fire(url, main, { seconds: 5, ...opts });
			line(label, r, cpu.end(), url === server.info.floorUrl || url === server.info.floorEntryUrl ? "floorWorkerd" : "appWorkerd");
			return r;
		};
		const fresh = (lines, topic) => async (count) => {
			const out = await deliveries(count, nextId, { lines, topic });
			nextId += count;
			return out;
		};
		const get = [{ headers: {}, body: undefined }];
		await measure("floor worker GET / (direct socket)", server.info.floorUrl, { pool: get, cycle: true, path: "/", method: "GET" });
		await measure("floor worker GET / (Miniflare entry socket)", server.info.floorEntryUrl, { pool: get, cycle: true, path: "/", method: "GET" });
		await measure("app GET /health", base, { pool: get, cycle: true, path: "/health", method: "GET" });
		// read + HMAC verify, then 401
		const sample = await deliveries(200, 3_000_000);
		await measure("POST webhook, bad signature (read + HMAC)", base, {
			pool: sample,
			cycle: true,
			tweak: (h) => ({ ...h, "X-Shopify-Hmac-Sha256": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" }),
		});
		// HMAC + one awaited FlowMonitor.record RPC (the "global" singleton)
		const ignored = await deliveries(200, 4_000_000, { topic: "products/update" });
		await measure("POST webhook, ignored topic (HMAC + FlowMonitor)", base, { pool: ignored, cycle: true });
		// HMAC + zod parse + ingest on a warm OrderFlow that knows the event id + one emit
		const known = await deliveries(2000, 5_000_000);
		await fire(base, known, { seconds: 60 });
		await quiesce(server.info.appPids);
		await measure("POST webhook, redelivery (dedupe, warm DO)", base, { pool: known, cycle: true });
		// everything: new OrderFlow DO, ingest, alarm, saga with 2–3 reserve RPCs, 2 emits
		await measure("POST webhook, fresh 2–3-line order (full path)", base, { make: fresh(randomLines) });
		await measure("POST webhook, fresh 1-line order", base, {
			make: fresh(() => [{ sku: skuName(Math.floor(Math.random() * SKUS)), quantity: 1, price: "1.00" }]),
		});
		// no inventory-tracked lines (sku null): new DO + ingest, but no saga, no alarm, no reserve RPCs
		await measure("POST webhook, fresh order without tracked lines", base, {
			make: fresh(() => [{ sku: null, quantity: 1, price: "1.00" }, { sku: null, quantity: 2, price: "1.00" }]),
			size: 8000,
			seconds: 2,
		});
		// the same fresh 2–3-line orders, but each OrderFlow object created beforehand (GET /ops/orders/:id)
		{
			await awaitEviction(server);
			const warm = await fresh(randomLines)(400);
			await fire(base, warm, { seconds: 1 });
			const first = nextId;
			const main = await fresh(randomLines)(4000);
			const precreate = Array.from({ length: 4000 }, (_, i) => `/ops/orders/${CONNECTION}%3A${first + i}`);
			let k = 0;
			const t = performance.now();
			await cannon({
				url: base,
				connections: CONNECTIONS,
				amount: precreate.length,
				headers: { Authorization: `Bearer ${OPS_TOKEN}` },
				requests: [{ method: "GET", setupRequest: (req) => ({ ...req, path: precreate[k++ % precreate.length] }) }],
			});
			const precreateMs = performance.now() - t;
			await quiesce(server.info.appPids);
			await sleep(3000); // the warm-up's backstop alarms
			const cpu = cpuWindow(groups, { threadsOf: server.info.appPids });
			const r = await fire(base, main, { seconds: 3 });
			line("POST webhook, fresh order, OrderFlow pre-created", r, cpu.end());
			console.log(`${"".padEnd(48)} (pre-creating 4,000 OrderFlow objects: ${fmt(4000 / (precreateMs / 1000), 0)} objects/s)`);
		}
	});
}

async function lines() {
	const mode = process.env.BENCH_DO_STORAGE ?? "shm";
	console.log(`Fresh orders by number of tracked lines (quantity 1 each, random SKUs of 1,000), 32 connections, 5 s, DO storage: ${mode}`);
	await withServer({ BENCH_DO_STORAGE: mode }, async (server) => {
		const base = server.info.appUrl;
		await stock(base);
		let nextId = 20_000_000;
		for (const k of [0, 1, 2, 3, 4, 1]) {
			const make = (count) => {
				const pool = deliveries(count, nextId, {
					lines: () => (k === 0
						? [{ sku: null, quantity: 1, price: "1.00" }]
						: Array.from({ length: k }, (_, j) => ({ sku: skuName((Math.floor(Math.random() * 200) * 5 + j) % SKUS), quantity: 1, price: "1.00" }))),
				});
				nextId += count;
				return pool;
			};
			await awaitEviction(server);
			await fire(base, await make(400), { seconds: 1 });
			const pool = await make(k === 0 ? 5000 : 3000);
			await quiesce(server.info.appPids);
			const cpu = cpuWindow(groupsOf(server), { threadsOf: server.info.appPids });
			const r = await fire(base, pool, { seconds: 5 });
			const usage = cpu.end();
			line(`  ${k} tracked line(s)${k === 0 ? " (1 untracked)" : ""}`, r, usage);
			console.log(`${"".padEnd(48)} → ${fmt((usage.appWorkerd * 1000) / r.rps, 2)} ms workerd CPU per order`);
		}
	});
}

/**
 * What-if builds of the same worker with one mechanism of OrderFlow switched off, bundled with
 * esbuild from the current sources (source text patched in memory; the repository is not touched).
 */
const VARIANTS = {
	"as is": [],
	"no flow events (OrderFlow #emit does not call FlowMonitor)": [
		["this.ctx.waitUntil(this.#monitor().record(stamped).catch(() => {}));", "void stamped;"],
	],
	"no 2 s backstop alarm per change": [["void this.ctx.storage.setAlarm(Date.now() + BACKSTOP_MS);", ""]],
	"backstop alarm deleted once the saga has settled": [
		[
			"			} while (this.#again);\n",
			"			} while (this.#again);\n			if (this.#pendingCount() === 0) await this.ctx.storage.deleteAlarm();\n",
		],
	],
	"neither flow events nor backstop alarm": [
		["this.ctx.waitUntil(this.#monitor().record(stamped).catch(() => {}));", "void stamped;"],
		["void this.ctx.storage.setAlarm(Date.now() + BACKSTOP_MS);", ""],
	],
};

async function buildVariant(name, patches) {
	const esbuild = await import("esbuild");
	const out = `bench/.build/variant-${Object.keys(VARIANTS).indexOf(name)}.js`;
	await esbuild.build({
		...WORKERD_BUNDLE,
		entryPoints: ["worker/index.ts"],
		outfile: out,
		plugins: [
			{
				name: "patch-order-flow",
				setup(build) {
					build.onLoad({ filter: /durable-objects[\\/]order-flow\.ts$/ }, (args) => {
						let text = readFileSync(args.path, "utf8");
						for (const [from, to] of patches) {
							if (!text.includes(from)) throw new Error(`variant "${name}": source no longer contains ${JSON.stringify(from)}`);
							text = text.replace(from, to);
						}
						return { contents: text, loader: "ts" };
					});
				},
			},
		],
	});
	return out;
}

async function variants() {
	const mode = process.env.BENCH_DO_STORAGE ?? "shm";
	console.log(`Fresh 2–3-line orders, 32 connections, 5 s, each on a fresh server; DO storage: ${mode}`);
	let nextId = 30_000_000;
	for (const [name, patches] of Object.entries(VARIANTS)) {
		const script = await buildVariant(name, patches);
		await withServer({ BENCH_DO_STORAGE: mode, BENCH_SCRIPT: script }, async (server) => {
			const base = server.info.appUrl;
			await stock(base);
			await fire(base, await deliveries(600, nextId), { seconds: 2 });
			nextId += 600;
			const pool = await deliveries(3500, nextId);
			nextId += 3500;
			await quiesce(server.info.appPids);
			await sleep(2500); // the warm-up's backstop alarms
			const cpu = cpuWindow(groupsOf(server), { threadsOf: server.info.appPids });
			const r = await fire(base, pool, { seconds: 5 });
			const usage = cpu.end();
			line(`  ${name}`, r, usage);
			console.log(`${"".padEnd(48)} → ${fmt((usage.appWorkerd * 1000) / r.rps, 2)} ms workerd CPU per order`);
		});
	}
}

async function probe() {
	const mode = process.env.BENCH_DO_STORAGE ?? "shm";
	const script = await buildProbe();
	console.log(`In-isolate costs (bench/probe-worker.ts), DO storage: ${mode}; each figure is wall time / iterations inside one request`);
	await withServer({ BENCH_DO_STORAGE: mode, BENCH_SCRIPT: script }, async (server) => {
		const base = server.info.appUrl;
		await stock(base, 50);
		const d = await signedDelivery({ secret: SHOPIFY_SECRET, topic: "orders/create", body: shopifyOrder({ id: 42, lines: randomLines() }) });
		const call = async (path, body) => {
			const t = performance.now();
			const out = await http(base, path, { method: "POST", body });
			return { ...out, clientMs: performance.now() - t };
		};
		for (const [label, path, n] of [
			["HMAC verify (6 KB body)", "/__probe/hmac", 2000],
			["JSON.parse + parseShopifyChange (zod)", "/__probe/parse", 1000],
			["JSON.parse only", "/__probe/jsonparse", 1000],
		]) {
			await call(`${path}?n=${n / 10}`, d.body);
			const r = await call(`${path}?n=${n}`, d.body);
			console.log(`  ${label.padEnd(44)} ${fmt((r.clientMs * 1000) / n, 1).padStart(8)} µs each (${n} in ${fmt(r.clientMs, 0)} ms)`);
		}
		for (const concurrency of [1, 32, 256]) {
			const n = 4000;
			await call(`/__probe/reserve?n=400&c=${concurrency}&sku=PROBE-WARM-${concurrency}`);
			const r = await call(`/__probe/reserve?n=${n}&c=${concurrency}&sku=PROBE-HOT-${concurrency}`);
			console.log(`  SkuLedger.reserve on one SKU, ${String(concurrency).padStart(3)} in flight      ${fmt(n / (r.clientMs / 1000), 0).padStart(8)} /s (${n} in ${fmt(r.clientMs, 0)} ms; reserved ${r.reserved})`);
		}
		for (const concurrency of [1, 32]) {
			const n = 4000;
			await call(`/__probe/monitor?n=400&c=${concurrency}`);
			const r = await call(`/__probe/monitor?n=${n}&c=${concurrency}`);
			console.log(`  FlowMonitor.record (1 event), ${String(concurrency).padStart(3)} in flight       ${fmt(n / (r.clientMs / 1000), 0).padStart(8)} /s`);
		}
		for (const concurrency of [1, 32]) {
			const n = 1000;
			const r = await call(`/__probe/newdo?n=${n}&c=${concurrency}&prefix=P${concurrency}`);
			console.log(`  new OrderFlow DO + view() (${String(concurrency).padStart(2)} in flight)           ${fmt(n / (r.clientMs / 1000), 0).padStart(8)} /s`);
		}
		for (const concurrency of [1, 32]) {
			const n = 1000;
			const r = await call(`/__probe/newledger?n=${n}&c=${concurrency}&prefix=L${concurrency}`);
			console.log(`  new SkuLedger DO + availability() (${String(concurrency).padStart(2)} in flight)  ${fmt(n / (r.clientMs / 1000), 0).padStart(8)} /s`);
		}
	});
}

async function cpuprofile() {
	const mode = process.env.BENCH_DO_STORAGE ?? "shm";
	const port = 18799;
	await withServer({ BENCH_DO_STORAGE: mode, BENCH_INSPECTOR_PORT: String(port) }, async (server) => {
		const base = server.info.appUrl;
		await stock(base);
		// PROFILE_LINES=k: k tracked lines per order (0 = one untracked line); default: 2–3 random lines
		const k = process.env.PROFILE_LINES === undefined ? null : Number(process.env.PROFILE_LINES);
		const lines = k === null ? randomLines : () => (k === 0 ? [{ sku: null, quantity: 1, price: "1.00" }] : Array.from({ length: k }, (_, j) => ({ sku: skuName((Math.floor(Math.random() * 200) * 5 + j) % SKUS), quantity: 1, price: "1.00" })));
		// PROFILE_WARM_ORDERS: orders ingested before profiling (their OrderFlow objects stay in the isolate)
		const warm = await deliveries(Number(process.env.PROFILE_WARM_ORDERS ?? 1000), 1_000_000, { lines });
		if (warm.length) await fire(base, warm, { seconds: 60 });
		const pool = await deliveries(k === 0 ? 15000 : 5000, 2_000_000, { lines });
		await quiesce(server.info.appPids);
		const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
		const target = targets.find((t) => t.title?.includes("ordersync")) ?? targets[0];
		console.log("inspector targets:", targets.map((t) => t.title).join(" | "), "→ profiling", target.title);
		const ws = new WebSocket(target.webSocketDebuggerUrl);
		await new Promise((resolve, reject) => {
			ws.onopen = resolve;
			ws.onerror = reject;
		});
		let id = 0;
		const pending = new Map();
		ws.onmessage = (event) => {
			const msg = JSON.parse(event.data);
			if (msg.id && pending.has(msg.id)) {
				pending.get(msg.id)(msg);
				pending.delete(msg.id);
			}
		};
		const send = (method, params = {}) =>
			new Promise((resolve) => {
				const mid = ++id;
				pending.set(mid, resolve);
				ws.send(JSON.stringify({ id: mid, method, params }));
			});
		await send("Profiler.enable");
		await send("Profiler.setSamplingInterval", { interval: 200 });
		// PROFILE_SCENARIO=availability profiles GET /v1/availability?sku=<1 of 1,000> at 32 connections instead
		const scenario = process.env.PROFILE_SCENARIO ?? "webhooks";
		await send("Profiler.start");
		let r;
		if (scenario === "availability") {
			const paths = Array.from({ length: 4096 }, () => `/v1/availability?sku=${skuName(Math.floor(Math.random() * SKUS))}`);
			let i = 0;
			const out = await cannon({ url: base, connections: CONNECTIONS, duration: 6, requests: [{ method: "GET", setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] }) }] });
			r = { rps: out.result.requests.total / out.result.duration, latency: out.latency };
		} else {
			r = await fire(base, pool, { seconds: 6 });
			await sleep(1500); // let the sagas started by those orders run inside the profile too
		}
		const { result } = await send("Profiler.stop");
		const heap = (await send("Runtime.getHeapUsage")).result;
		if (heap) console.log(`isolate heap: ${(heap.usedSize / 2 ** 20).toFixed(0)} MiB used of ${(heap.totalSize / 2 ** 20).toFixed(0)} MiB`);
		ws.close();
		line(`${scenario} while profiling`, r);
		writeFileSync(`bench/.build/${scenario}.cpuprofile`, JSON.stringify(result.profile));
		summarize(result.profile);
	});
}

function summarize(profile) {
	const byId = new Map(profile.nodes.map((n) => [n.id, n]));
	const self = new Map();
	const counts = new Map();
	for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
	const total = profile.samples.length;
	const key = (n) => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").pop()}:${n.callFrame.lineNumber + 1}`;
	for (const [nid, c] of counts) {
		const n = byId.get(nid);
		self.set(key(n), (self.get(key(n)) ?? 0) + c);
	}
	// inclusive time per function: walk parents
	const parent = new Map();
	for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
	const inclusive = new Map();
	for (const [nid, c] of counts) {
		const seen = new Set();
		for (let cur = nid; cur !== undefined; cur = parent.get(cur)) {
			const k = key(byId.get(cur));
			if (seen.has(k)) continue;
			seen.add(k);
			inclusive.set(k, (inclusive.get(k) ?? 0) + c);
		}
	}
	const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
	// Entry points: the frame right under (root) — the worker's fetch, each DO RPC method, alarm(),
	// and async continuations (which resume as their own stacks).
	const entry = new Map();
	for (const [nid, c] of counts) {
		let cur = nid;
		while (parent.get(cur) !== undefined && parent.get(parent.get(cur)) !== undefined) cur = parent.get(cur);
		const k = key(byId.get(cur));
		entry.set(k, (entry.get(k) ?? 0) + c);
	}
	// Pauses: runs of consecutive GC samples, and gaps between samples (thread off-CPU or in native code V8 does not sample)
	const gcIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(garbage collector)").map((n) => n.id));
	const runs = [];
	let run = 0;
	profile.samples.forEach((sid, i) => {
		const dt = (profile.timeDeltas[i] ?? 0) / 1000;
		if (gcIds.has(sid)) run += dt;
		else if (run > 0) {
			runs.push(run);
			run = 0;
		}
	});
	const gaps = profile.timeDeltas.map((d) => d / 1000).filter((d) => d > 5).sort((a, b) => b - a);
	runs.sort((a, b) => b - a);
	const spanS = profile.timeDeltas.reduce((a, b) => a + b, 0) / 1e6;
	console.log(`GC runs > 5 ms: ${runs.filter((x) => x > 5).length} (longest ${runs.slice(0, 5).map((x) => x.toFixed(1)).join(", ")} ms) over ${spanS.toFixed(1)} s; sampling gaps > 5 ms: ${gaps.length} (longest ${gaps.slice(0, 5).map((x) => x.toFixed(1)).join(", ")} ms)`);
	console.log("by entry point (stack root):");
	for (const [k, v] of top(entry, 25)) console.log(`  ${fmt((100 * v) / total, 1).padStart(5)} %  ${k}`);
	console.log(`\nsamples: ${total}; idle ${fmt((100 * (self.get("(idle) :0") ?? 0)) / total, 1)} %, program ${fmt((100 * (self.get("(program) :0") ?? 0)) / total, 1)} %, GC ${fmt((100 * (self.get("(garbage collector) :0") ?? 0)) / total, 1)} %`);
	console.log("top self time:");
	for (const [k, v] of top(self, 25)) console.log(`  ${fmt((100 * v) / total, 1).padStart(5)} %  ${k}`);
	console.log("top inclusive time:");
	for (const [k, v] of top(inclusive, 40)) console.log(`  ${fmt((100 * v) / total, 1).padStart(5)} %  ${k}`);
}

const experiments = { storage, pushes, paths, lines, variants, probe, cpuprofile };
const which = process.argv.slice(2);
if (which.length === 0 || which.some((w) => !experiments[w])) {
	console.error(`usage: node bench/profile.mjs <${Object.keys(experiments).join("|")}>...`);
	process.exit(2);
}
buildWorker((...a) => console.error(...a));
for (const w of which) await experiments[w]();
