// Runs the bundled ordersync worker and a trivial "floor" worker on workerd via Miniflare, each in
// its own workerd process. Started by bench/run.mjs with an IPC channel (child_process.fork); it
// reports { type: "ready", ... } and shuts down on "shutdown", SIGINT/SIGTERM, or when its parent
// goes away (IPC disconnect). State is Miniflare's temp directory, deleted on dispose().
//
// Each worker listens on two fixed loopback ports:
//   direct (FLOOR_DIRECT_PORT / APP_DIRECT_PORT): a workerd socket bound straight to the worker
//     (Miniflare's unsafeDirectSockets) — what the bench measures;
//   entry  (FLOOR_PORT / APP_PORT): Miniflare's usual socket, which first runs its own "entry"
//     worker and forwards to ours through a service binding. That extra JS hop caps a trivial
//     worker at roughly a third of the direct rate and adds a ~35 ms p99 tail at 32 connections
//     (see bench/README.md), so it is only measured for reference.
//
// With BENCH_PROBE_SCRIPT set (the bundle of bench/probe-worker.ts), a third instance runs it in a
// workerd process of its own, with the same bindings and Durable Object classes as the app, on
// PROBE_DIRECT_PORT / PROBE_PORT. run.mjs uses it to call one SkuLedger directly over RPC.
//
// Standalone: node bench/server.mjs  (prints the ready message as JSON; Ctrl-C to stop)

import { existsSync, readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from "miniflare";
import { APP_DIRECT_PORT, APP_PORT, BUNDLE, FLOOR_DIRECT_PORT, FLOOR_PORT, HOST, OPS_TOKEN, PROBE_DIRECT_PORT, PROBE_PORT, SHOPIFY_SECRET, WRANGLER_TOML } from "./config.mjs";

/**
 * Where the Durable Objects' SQLite databases live. Miniflare keeps them in a temp dir under
 * $TMPDIR, one file per object, and workerd syncs every commit to it:
 *   "shm"  (default where /dev/shm exists) — the temp dir on tmpfs, so commits cost no disk flush;
 *   "disk" — the temp dir under the real $TMPDIR, commits flushed to the VM's disk.
 * (Miniflare's in-memory DO storage is not SQLite-backed, so these SQLite classes cannot use it.)
 */
const storage = process.env.BENCH_DO_STORAGE ?? (existsSync("/dev/shm") ? "shm" : "disk");
if (!["disk", "shm"].includes(storage)) throw new Error(`BENCH_DO_STORAGE must be shm or disk, not ${storage}`);
if (storage === "shm") process.env.TMPDIR = "/dev/shm"; // os.tmpdir() is read when Miniflare starts
const inspectorPort = process.env.BENCH_INSPECTOR_PORT ? Number(process.env.BENCH_INSPECTOR_PORT) : undefined;
const scriptPath = process.env.BENCH_SCRIPT ?? BUNDLE;
const probeScriptPath = process.env.BENCH_PROBE_SCRIPT || null;

function wranglerCompat() {
	const toml = readFileSync(WRANGLER_TOML, "utf8");
	const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
	const flagsRaw = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? "";
	const flags = [...flagsRaw.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
	if (!date) throw new Error(`no compatibility_date in ${WRANGLER_TOML}`);
	return { compatibilityDate: date, compatibilityFlags: flags };
}

/** PIDs of this process's direct children (the workerd processes Miniflare spawned). */
function childPids() {
	const pids = new Set();
	try {
		for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
			const text = readFileSync(`/proc/${process.pid}/task/${tid}/children`, "utf8").trim();
			for (const pid of text.split(/\s+/).filter(Boolean)) pids.add(Number(pid));
		}
	} catch {
		// not Linux: CPU accounting is simply unavailable
	}
	return pids;
}

const log = new Log(LogLevel.WARN);
const instances = [];
let closing = null;

async function start() {
	const compat = wranglerCompat();

	const before = childPids();
	const floor = new Miniflare(
		convertV4MiniflareOptions({
			name: "floor",
			host: HOST,
			port: FLOOR_PORT,
			logRequests: false,
			log,
			cf: false, // no network: use Miniflare's placeholder request.cf
			modules: true,
			script: 'export default { fetch() { return new Response("ok"); } };',
			...compat,
			unsafeDirectSockets: [{ host: HOST, port: FLOOR_DIRECT_PORT }],
		}),
	);
	instances.push(floor);
	await floor.ready;
	const afterFloor = childPids();
	const floorPids = [...afterFloor].filter((p) => !before.has(p));

	/** The app's Durable Object classes and bindings, as in wrangler.toml. */
	const appOptions = (name, script, port, directPort) => ({
		name,
		host: HOST,
		port,
		logRequests: false,
		log,
		cf: false, // no network: use Miniflare's placeholder request.cf
		modules: true,
		scriptPath: script,
		...compat,
		durableObjects: {
			ORDER_FLOW: { className: "OrderFlow", useSQLite: true },
			SKU_LEDGER: { className: "SkuLedger", useSQLite: true },
			FLOW_MONITOR: { className: "FlowMonitor", useSQLite: true },
		},
		bindings: {
			CONNECTIONS: [{ id: "shopify-demo", channel: "shopify", secret: "SHOPIFY_DEMO_SECRET" }],
			STOREFRONT_ORIGINS: [],
			SHOPIFY_DEMO_SECRET: SHOPIFY_SECRET,
			OPS_TOKEN,
		},
		unsafeDirectSockets: [{ host: HOST, port: directPort }],
	});

	const app = new Miniflare(
		convertV4MiniflareOptions({
			...appOptions("ordersync", scriptPath, APP_PORT, APP_DIRECT_PORT),
			...(inspectorPort ? { inspectorPort } : {}),
		}),
	);
	instances.push(app);
	await app.ready;
	const afterApp = childPids();
	const appPids = [...afterApp].filter((p) => !afterFloor.has(p));

	let probePids = [];
	if (probeScriptPath) {
		const probe = new Miniflare(convertV4MiniflareOptions(appOptions("ordersync-probe", probeScriptPath, PROBE_PORT, PROBE_DIRECT_PORT)));
		instances.push(probe);
		await probe.ready;
		probePids = [...childPids()].filter((p) => !afterApp.has(p));
	}

	return { floorPids, appPids, probePids, compat };
}

async function shutdown(code = 0) {
	closing ??= (async () => {
		await Promise.allSettled(instances.map((mf) => mf.dispose()));
		process.exit(code);
	})();
	return closing;
}

process.on("SIGINT", () => void shutdown(130));
process.on("SIGTERM", () => void shutdown(143));
process.on("disconnect", () => void shutdown(0));
process.on("message", (message) => {
	if (message?.type === "shutdown") void shutdown(0);
});

try {
	const info = await start();
	const ready = {
		type: "ready",
		pid: process.pid,
		floorUrl: `http://${HOST}:${FLOOR_DIRECT_PORT}`,
		appUrl: `http://${HOST}:${APP_DIRECT_PORT}`,
		floorEntryUrl: `http://${HOST}:${FLOOR_PORT}`,
		appEntryUrl: `http://${HOST}:${APP_PORT}`,
		probeUrl: probeScriptPath ? `http://${HOST}:${PROBE_DIRECT_PORT}` : null,
		storage,
		tmpdir: os.tmpdir(),
		...info,
	};
	if (process.send) process.send(ready);
	else console.log(JSON.stringify(ready));
} catch (error) {
	const message = error instanceof Error ? error.stack ?? error.message : String(error);
	if (process.send) process.send({ type: "error", message });
	else console.error(message);
	await shutdown(1);
}
