// Runs the bundled ordersync worker and a trivial "floor" worker on workerd via Miniflare, each on
// its own fixed loopback port and its own workerd process. Started by bench/run.mjs with an IPC
// channel (child_process.fork); it reports { type: "ready", ... } and shuts down on "shutdown",
// SIGINT/SIGTERM, or when its parent goes away (IPC disconnect). State is Miniflare's ephemeral
// temp directory, deleted on dispose().
//
// Usage (standalone, for experiments): node bench/server.mjs [--direct]
//   --direct  also expose the app worker on APP_PORT+10 through an unsafeDirectSocket
//             (bypasses Miniflare's entry worker) — used by bench/profile.mjs.

import { readFileSync } from "node:fs";
import { readdirSync } from "node:fs";
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from "miniflare";
import { APP_PORT, BUNDLE, FLOOR_PORT, HOST, OPS_TOKEN, SHOPIFY_SECRET, WRANGLER_TOML } from "./config.mjs";

const direct = process.argv.includes("--direct") || process.env.BENCH_DIRECT === "1";
const scriptPath = process.env.BENCH_SCRIPT ?? BUNDLE;

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
			modules: true,
			script: 'export default { fetch() { return new Response("ok"); } };',
			...compat,
		}),
	);
	instances.push(floor);
	await floor.ready;
	const afterFloor = childPids();
	const floorPids = [...afterFloor].filter((p) => !before.has(p));

	const app = new Miniflare(
		convertV4MiniflareOptions({
			name: "ordersync",
			host: HOST,
			port: APP_PORT,
			logRequests: false,
			log,
			modules: true,
			scriptPath,
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
			...(direct ? { unsafeDirectSockets: [{ host: HOST, port: APP_PORT + 10 }] } : {}),
		}),
	);
	instances.push(app);
	await app.ready;
	const appPids = [...childPids()].filter((p) => !afterFloor.has(p));

	return { floorPids, appPids, compat };
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
		floorUrl: `http://${HOST}:${FLOOR_PORT}`,
		appUrl: `http://${HOST}:${APP_PORT}`,
		directUrl: direct ? `http://${HOST}:${APP_PORT + 10}` : null,
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
