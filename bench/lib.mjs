// Helpers for bench/run.mjs and bench/profile.mjs: server lifecycle, autocannon, CPU accounting.

import { fork, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import autocannon from "autocannon";
import { BUILD_DIR, BUNDLE, OPS_TOKEN, PROBE_BUNDLE, SANDBOX_BUNDLE, SANDBOX_ENTRY, WORKERD_BUNDLE } from "./config.mjs";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- build

/** Bundles the worker as it would be deployed (wrangler handles `cloudflare:workers` and nodejs_compat). */
export function buildWorker(log = () => {}) {
	log(`bundling worker: wrangler deploy --dry-run --outdir ${BUILD_DIR}`);
	const result = spawnSync("npx", ["--no-install", "wrangler", "deploy", "--dry-run", "--outdir", BUILD_DIR], {
		encoding: "utf8",
		env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
	});
	if (result.status !== 0) throw new Error(`wrangler build failed:\n${result.stdout}\n${result.stderr}`);
	if (!existsSync(BUNDLE)) {
		const js = readdirSync(BUILD_DIR).filter((f) => f.endsWith(".js"));
		throw new Error(`expected ${BUNDLE}; wrangler wrote ${js.join(", ") || "no .js file"}`);
	}
	log(`bundle: ${BUNDLE} (${(readFileSync(BUNDLE).byteLength / 1024).toFixed(0)} KiB)`);
}

export { WORKERD_BUNDLE };

/**
 * Bundles bench/probe-worker.ts (the real worker and Durable Objects plus /__probe/* routes) with
 * esbuild, which wrangler ships. It is never deployed.
 */
export async function buildProbe(log = () => {}) {
	const esbuild = await import("esbuild");
	const t = performance.now();
	await esbuild.build({ ...WORKERD_BUNDLE, entryPoints: ["bench/probe-worker.ts"], outfile: PROBE_BUNDLE });
	log(`probe bundle: ${PROBE_BUNDLE} (${(readFileSync(PROBE_BUNDLE).byteLength / 1024).toFixed(0)} KiB, ${(performance.now() - t).toFixed(0)} ms)`);
	return PROBE_BUNDLE;
}

/**
 * Bundles the sandbox peers (sandbox/index.ts: Shopify Admin, ShipBob, EasyPost) the way
 * vitest.config.ts does. The repository's sources are bundled as they are; the shop's rate limit
 * is set at run time through its own control endpoint (see `sandboxPlan`).
 */
export async function buildSandbox(log = () => {}, { limits = process.env.BENCH_SANDBOX_LIMITS ?? "off" } = {}) {
	if (!SANDBOX_LIMITS.includes(limits)) throw new Error(`BENCH_SANDBOX_LIMITS must be ${SANDBOX_LIMITS.join(" or ")}, not ${limits}`);
	const esbuild = await import("esbuild");
	const t = performance.now();
	await esbuild.build({
		entryPoints: [SANDBOX_ENTRY],
		bundle: true,
		format: "esm",
		platform: "neutral",
		target: "es2022",
		outfile: SANDBOX_BUNDLE,
		logLevel: "warning",
	});
	log(`sandbox bundle: ${SANDBOX_BUNDLE} (${(readFileSync(SANDBOX_BUNDLE).byteLength / 1024).toFixed(0)} KiB, ${(performance.now() - t).toFixed(0)} ms; shop rate limits ${limits === "off" ? "lifted at start" : "as Shopify's Standard plan"})`);
	return SANDBOX_BUNDLE;
}

export const SANDBOX_LIMITS = ["off", "shopify"];

/**
 * The sandbox shop's cost bucket. With `limits: "off"` (the bench's default) it is raised through
 * the sandbox's `POST /sandbox/plan`, so every push and fulfilment call is accepted and the bench
 * measures the worker, not Shopify's rate limit; `limits: "shopify"` keeps the sandbox's Standard
 * plan (100 points/s, 2,000 in the bucket, 10 points per mutation). Returns { before, after }.
 */
export async function sandboxPlan(sandboxUrl, limits = process.env.BENCH_SANDBOX_LIMITS ?? "off") {
	if (!SANDBOX_LIMITS.includes(limits)) throw new Error(`BENCH_SANDBOX_LIMITS must be ${SANDBOX_LIMITS.join(" or ")}, not ${limits}`);
	const { plan: before } = await http(sandboxUrl, "/sandbox/plan", { method: "POST", body: {} });
	if (limits === "shopify") return { before, after: before };
	const { plan: after } = await http(sandboxUrl, "/sandbox/plan", { method: "POST", body: { maximumAvailable: 1e12, restoreRate: 1e12 } });
	if (!(after?.maximumAvailable >= 1e12)) throw new Error(`bench: the sandbox shop did not take the lifted plan: ${JSON.stringify(after)}`);
	return { before, after };
}

// ---------------------------------------------------------------- server lifecycle

/**
 * Forks bench/server.mjs (a separate Node process; Miniflare spawns one workerd per worker) and
 * waits for it to report its URLs and workerd PIDs.
 */
export async function startServer({ env = {}, args = [], timeoutMs = 60_000 } = {}) {
	const child = fork(new URL("./server.mjs", import.meta.url), args, {
		stdio: ["ignore", "inherit", "inherit", "ipc"],
		env: { ...process.env, ...env },
	});
	const server = { child, info: null, stopped: false };
	server.info = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`bench/server.mjs not ready after ${timeoutMs} ms`)), timeoutMs);
		child.on("message", (message) => {
			if (message?.type === "ready") {
				clearTimeout(timer);
				resolve(message);
			} else if (message?.type === "error") {
				clearTimeout(timer);
				reject(new Error(`bench/server.mjs failed to start:\n${message.message}`));
			}
		});
		child.on("exit", (code, signal) => {
			clearTimeout(timer);
			reject(new Error(`bench/server.mjs exited before ready (code ${code}, signal ${signal})`));
		});
	}).catch(async (error) => {
		await stopServer(server);
		throw error;
	});
	return server;
}

function isOurWorkerd(pid) {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd");
	} catch {
		return false;
	}
}

/** Asks the server to dispose Miniflare; kills it (and the workerd PIDs it reported) by PID if it does not. */
export async function stopServer(server) {
	if (!server || server.stopped) return;
	server.stopped = true;
	const { child } = server;
	const exited = child.exitCode !== null || child.signalCode !== null
		? Promise.resolve()
		: new Promise((resolve) => child.once("exit", resolve));
	try {
		if (child.connected) child.send({ type: "shutdown" });
		else child.kill("SIGTERM");
	} catch {
		child.kill("SIGTERM");
	}
	const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
	if (!done) {
		child.kill("SIGKILL");
		await Promise.race([exited, sleep(2_000)]);
	}
	for (const pid of [...(server.info?.floorPids ?? []), ...(server.info?.appPids ?? []), ...(server.info?.probePids ?? []), ...(server.info?.sandboxPids ?? [])]) {
		if (isOurWorkerd(pid)) {
			try {
				process.kill(pid, "SIGKILL");
			} catch {}
		}
	}
}

// ---------------------------------------------------------------- HTTP helpers

export async function http(base, path, { method = "GET", body, ops = false, headers = {} } = {}) {
	const response = await fetch(`${base}${path}`, {
		method,
		headers: {
			...(body === undefined ? {} : { "Content-Type": "application/json" }),
			...(ops ? { Authorization: `Bearer ${OPS_TOKEN}` } : {}),
			...headers,
		},
		body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
	});
	const text = await response.text();
	let json = null;
	try {
		json = JSON.parse(text);
	} catch {}
	if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text.slice(0, 300)}`);
	return json ?? text;
}

// ---------------------------------------------------------------- sandbox shop

/** Creates a variant (and inventory item) for each SKU in the sandbox shop: a push for a SKU without one is refused. */
export async function seedVariants(sandboxUrl, skus) {
	for (let i = 0; i < skus.length; i += 500) {
		const out = await http(sandboxUrl, "/sandbox/variants", { method: "POST", body: { skus: skus.slice(i, i + 500) } });
		if (out.variants.some((v) => !v?.inventoryItemId)) throw new Error(`sandbox: seeding variants failed: ${JSON.stringify(out).slice(0, 300)}`);
	}
}

/**
 * Reads the sandbox's log of inventorySetQuantities calls incrementally: `next()` returns the calls
 * received since the last read (each with \`at\` in ms added). The sandbox numbers calls 1, 2, … and
 * trims its log past 50,000 calls; the bench stays far below that, and says so if it does not.
 */
export function sandboxLog(sandboxUrl) {
	let after = 0;
	let total = 0;
	return {
		async next() {
			const { calls } = await http(sandboxUrl, `/sandbox/calls?after=${after}`);
			for (const c of calls) c.atMs = Date.parse(c.at);
			if (calls.length) after = calls[calls.length - 1].seq;
			total += calls.length;
			if (total > 40_000) console.error(`[bench] WARNING: the sandbox has logged ${total} calls; it trims its log past 50,000 and then reuses sequence numbers`);
			return calls;
		},
		get cursor() {
			return after;
		},
	};
}

// ---------------------------------------------------------------- load generation

/** Exact percentile (nearest-rank) of a Float64Array of latencies in ms. */
export function percentile(sorted, p) {
	if (sorted.length === 0) return null;
	const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
	return sorted[rank];
}

/**
 * Runs autocannon in this process and records every response's latency (float ms, from
 * autocannon's own hrtime measurement) so p50/p99 are exact rather than autocannon's 1 ms buckets.
 * `onStart(instance)` can keep the instance to stop it early.
 */
export function cannon(opts, { onStart } = {}) {
	return new Promise((resolve, reject) => {
		const latencies = [];
		const wallStart = performance.now();
		const instance = autocannon({ timeout: 30, ...opts }, (error, result) => {
			if (error) return reject(error);
			const wallMs = performance.now() - wallStart;
			const sorted = Float64Array.from(latencies).sort();
			resolve({
				result,
				wallMs,
				latency: {
					p50: percentile(sorted, 50),
					p90: percentile(sorted, 90),
					p99: percentile(sorted, 99),
					max: sorted.length ? sorted[sorted.length - 1] : null,
					mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null,
					count: sorted.length,
				},
			});
		});
		instance.on("response", (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
		onStart?.(instance);
	});
}

// ---------------------------------------------------------------- CPU accounting (Linux /proc)

let clockTicks = 100;
export function setClockTicks(ticks) {
	if (Number.isFinite(ticks) && ticks > 0) clockTicks = ticks;
}

function procTicks(pid) {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
		const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		return Number(fields[11]) + Number(fields[12]); // utime + stime
	} catch {
		return null;
	}
}

function threadTicks(pid) {
	const out = new Map();
	try {
		for (const tid of readdirSync(`/proc/${pid}/task`)) {
			const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
			const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
			out.set(tid, Number(fields[11]) + Number(fields[12]));
		}
	} catch {}
	return out;
}

function systemTicks() {
	try {
		const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
		const v = line.trim().split(/\s+/).slice(1).map(Number);
		const idle = v[3] + (v[4] ?? 0);
		const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
		return { busy: total - idle, total };
	} catch {
		return null;
	}
}

/**
 * Starts a CPU window over the given named PID groups; `.end()` returns cores used by each group,
 * by the busiest thread of `threadsOf` (is it one saturated thread?), by the machine, and by
 * everything else on the machine (other processes competing for the 2 cores).
 */
export function cpuWindow(groups, { threadsOf = [] } = {}) {
	const t0 = performance.now();
	const start = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, pids.map(procTicks)]));
	const threads0 = new Map(threadsOf.map((pid) => [pid, threadTicks(pid)]));
	const self0 = process.cpuUsage();
	const sys0 = systemTicks();
	return {
		end() {
			const seconds = (performance.now() - t0) / 1000;
			const cores = {};
			let ours = 0;
			for (const [name, pids] of Object.entries(groups)) {
				let ticks = 0;
				pids.forEach((pid, i) => {
					const now = procTicks(pid);
					if (now !== null && start[name][i] !== null) ticks += now - start[name][i];
				});
				cores[name] = ticks / clockTicks / seconds;
				ours += ticks / clockTicks;
			}
			const self = process.cpuUsage(self0);
			cores.loadgen = (self.user + self.system) / 1e6 / seconds;
			ours += (self.user + self.system) / 1e6;
			let busiestThread = null;
			for (const pid of threadsOf) {
				const before = threads0.get(pid) ?? new Map();
				for (const [tid, ticks] of threadTicks(pid)) {
					const used = (ticks - (before.get(tid) ?? 0)) / clockTicks / seconds;
					if (busiestThread === null || used > busiestThread) busiestThread = used;
				}
			}
			const sys1 = systemTicks();
			let machine = null;
			let other = null;
			if (sys0 && sys1) {
				machine = (sys1.busy - sys0.busy) / clockTicks / seconds;
				other = Math.max(0, machine - ours / seconds);
			}
			const round = (x) => (x === null ? null : Math.round(x * 100) / 100);
			return {
				seconds: round(seconds),
				...Object.fromEntries(Object.entries(cores).map(([k, v]) => [k, round(v)])),
				appBusiestThread: round(busiestThread),
				machine: round(machine),
				otherProcesses: round(other),
			};
		},
	};
}

/** Waits until the given PIDs use less than `threshold` cores over 300 ms windows (bounded). */
export async function quiesce(pids, { threshold = 0.05, maxMs = 15_000 } = {}) {
	const t0 = performance.now();
	while (performance.now() - t0 < maxMs) {
		const w = cpuWindow({ app: pids });
		await sleep(300);
		if (w.end().app < threshold) return Math.round(performance.now() - t0);
	}
	return Math.round(performance.now() - t0);
}
