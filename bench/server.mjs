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
// The sandbox peers (sandbox/index.ts: Shopify Admin, ShipBob, EasyPost; bundled by lib.mjs's
// buildSandbox, or the bundle in BENCH_SANDBOX_SCRIPT) run in a workerd process of their own too,
// on SANDBOX_DIRECT_PORT: they are other parties, so their work is not charged to the app's
// thread. Every connection with an `admin` block (in wrangler.toml: shopify-demo) has its
// `admin.endpoint` pointed at it, and every THREEPLS / TRACKING account its `endpoint` (at
// /shipbob and /easypost), so the app's real pushes and deliveries (and the probe's) cross
// loopback to it. Variants are seeded by the caller; callbacks are drained by the caller.
//
// The app's bindings mirror wrangler.toml, read with wrangler's own config reader: every [vars]
// entry (CONNECTIONS, INVENTORY, FULFILLMENT, THREEPLS, TRACKING, DELIVERY, STOREFRONT_ORIGINS),
// the Durable Object bindings (SQLite-backed per [[migrations]]), the compatibility settings, and
// a bench value for every secret it names (each connection's `secret` and `admin.tokenSecret`,
// each 3PL's and tracking account's token/key and webhook secret, and OPS_TOKEN; see config.mjs).
//
// Standalone: node bench/server.mjs  (prints the ready message as JSON; Ctrl-C to stop)

import { existsSync, readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from "miniflare";
import {
	ADMIN_TOKEN, APP_DIRECT_PORT, APP_PORT, BUNDLE, CONNECTION, EASYPOST_API_KEY, EASYPOST_WEBHOOK_SECRET, FLOOR_DIRECT_PORT, FLOOR_PORT, HOST, OPS_TOKEN,
	PROBE_DIRECT_PORT, PROBE_PORT, SANDBOX_DIRECT_PORT, SANDBOX_PORT, SHIPBOB_TOKEN, SHIPBOB_WEBHOOK_SECRET, SHOPIFY_SECRET, WRANGLER_TOML,
} from "./config.mjs";
import { buildSandbox, sandboxPlan } from "./lib.mjs";

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

const sandboxUrl = `http://${HOST}:${SANDBOX_DIRECT_PORT}`;
/** BENCH_PUSHES=off drops every connection's `admin` block, so no availability is pushed (profile.mjs `pushes`). */
const pushes = process.env.BENCH_PUSHES ?? "on";
if (!["on", "off"].includes(pushes)) throw new Error(`BENCH_PUSHES must be on or off, not ${pushes}`);

/**
 * The app's configuration as wrangler.toml declares it, read by wrangler's own reader (so TOML
 * tables such as [vars.INVENTORY] come out exactly as `wrangler dev` and deploy see them), with the
 * bench's secrets added and every admin, 3PL and tracking endpoint pointed at the bench's sandbox.
 */
async function wranglerApp() {
	const { unstable_readConfig } = await import("wrangler");
	if (typeof unstable_readConfig !== "function") throw new Error("this wrangler has no unstable_readConfig; bench/server.mjs needs it to read wrangler.toml");
	const config = unstable_readConfig({ config: WRANGLER_TOML }, { hideWarnings: true });
	if (!config.compatibility_date) throw new Error(`no compatibility_date in ${WRANGLER_TOML}`);
	const vars = structuredClone(config.vars ?? {});
	const connections = Array.isArray(vars.CONNECTIONS) ? vars.CONNECTIONS : [];
	if (!connections.some((c) => c.id === CONNECTION)) throw new Error(`${WRANGLER_TOML} has no connection ${CONNECTION}, which the bench signs webhooks for`);
	const secrets = { OPS_TOKEN };
	// The bench drives Shopify; the other channels' connections would only add their pushes to its load.
	vars.CONNECTIONS = connections.filter((c) => c.channel === "shopify");
	// The ERP is left out: its throughput is NetSuite's concurrency limit (5 requests at a time per
	// account), not the worker's, and the bench's 1,000 made-up SKUs are not items there.
	delete vars.ERP;
	// Availability is measured from the ledgers, not from the edge cache storefronts are answered from
	// in production (which Miniflare's local cache would only imitate). No rate limit is bound here.
	vars.AVAILABILITY = { cacheSeconds: 0 };
	// BENCH_LOG_LEVEL=warn measures without the per-event info lines (production's default is info).
	if (process.env.BENCH_LOG_LEVEL) vars.LOG_LEVEL = process.env.BENCH_LOG_LEVEL;
	for (const connection of vars.CONNECTIONS) {
		secrets[connection.secret] = connection.id === CONNECTION ? SHOPIFY_SECRET : `bench-${connection.id}-secret`;
		if (connection.admin && pushes === "off") delete connection.admin;
		if (connection.admin) {
			secrets[connection.admin.tokenSecret] = ADMIN_TOKEN;
			connection.admin.endpoint = sandboxUrl;
		}
	}
	// The 3PL and carrier-tracking accounts talk to the sandbox's ShipBob and EasyPost peers, with
	// the secrets those peers are started with.
	const threePls = Array.isArray(vars.THREEPLS) ? vars.THREEPLS : [];
	for (const account of threePls) {
		if (account.kind !== "shipbob") throw new Error(`${WRANGLER_TOML}: THREEPLS ${account.id} is ${account.kind}; the bench's sandbox plays ShipBob only`);
		secrets[account.tokenSecret] = SHIPBOB_TOKEN;
		secrets[account.webhookSecret] = SHIPBOB_WEBHOOK_SECRET;
		account.endpoint = `${sandboxUrl}/shipbob`;
	}
	const tracking = Array.isArray(vars.TRACKING) ? vars.TRACKING : [];
	for (const account of tracking) {
		if (account.kind !== "easypost") throw new Error(`${WRANGLER_TOML}: TRACKING ${account.id} is ${account.kind}; the bench's sandbox plays EasyPost only`);
		secrets[account.apiKeySecret] = EASYPOST_API_KEY;
		secrets[account.webhookSecret] = EASYPOST_WEBHOOK_SECRET;
		account.endpoint = `${sandboxUrl}/easypost`;
	}
	const sqlite = new Set((config.migrations ?? []).flatMap((m) => [...(m.new_sqlite_classes ?? [])]));
	const durableObjects = Object.fromEntries(
		(config.durable_objects?.bindings ?? []).map((b) => [b.name, { className: b.class_name, useSQLite: sqlite.has(b.class_name) }]),
	);
	return {
		compat: { compatibilityDate: config.compatibility_date, compatibilityFlags: config.compatibility_flags ?? [] },
		vars,
		secrets,
		durableObjects,
		summary: {
			connections: vars.CONNECTIONS.map((c) => ({ id: c.id, pushes: Boolean(c.admin), locations: c.locations ?? "all", rules: c.rules ?? {} })),
			bundles: vars.INVENTORY?.bundles ?? {},
			safetyStock: vars.INVENTORY?.safetyStock ?? {},
			fulfillmentLocations: (vars.FULFILLMENT?.locations ?? []).map((l) => ({ id: l.id, rank: l.rank ?? 100, countries: l.countries ?? null, threePl: l.threePl })),
			threePls: threePls.map((a) => a.id),
			tracking: tracking.map((a) => a.id),
			delivery: vars.DELIVERY ?? {},
			secrets: Object.keys(secrets),
			durableObjects: Object.keys(durableObjects),
		},
	};
}

/** PIDs of this process's direct children that are workerd (Miniflare spawns one per instance; esbuild's service is not counted). */
function childPids() {
	const pids = new Set();
	try {
		for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
			const text = readFileSync(`/proc/${process.pid}/task/${tid}/children`, "utf8").trim();
			for (const pid of text.split(/\s+/).filter(Boolean)) {
				if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd")) pids.add(Number(pid));
			}
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
	const wrangler = await wranglerApp();
	const { compat } = wrangler;

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

	// The sandbox shop, in its own workerd process (started before the app, which pushes to it).
	const sandboxScript = process.env.BENCH_SANDBOX_SCRIPT || (await buildSandbox());
	const sandbox = new Miniflare(
		convertV4MiniflareOptions({
			name: "ordersync-sandbox",
			host: HOST,
			port: SANDBOX_PORT,
			logRequests: false,
			log,
			cf: false,
			modules: true,
			scriptPath: sandboxScript,
			compatibilityDate: compat.compatibilityDate,
			// No SANDBOX_CALLBACK_URL: the bench drains the peers' callbacks and posts them itself.
			bindings: {
				SANDBOX_SHOPIFY_TOKEN: ADMIN_TOKEN,
				SANDBOX_SHIPBOB_TOKEN: SHIPBOB_TOKEN,
				SANDBOX_SHIPBOB_WEBHOOK_SECRET: SHIPBOB_WEBHOOK_SECRET,
				SANDBOX_EASYPOST_API_KEY: EASYPOST_API_KEY,
				SANDBOX_EASYPOST_WEBHOOK_SECRET: EASYPOST_WEBHOOK_SECRET,
			},
			unsafeDirectSockets: [{ host: HOST, port: SANDBOX_DIRECT_PORT }],
		}),
	);
	instances.push(sandbox);
	await sandbox.ready;
	const afterSandbox = childPids();
	const sandboxPids = [...afterSandbox].filter((p) => !afterFloor.has(p));
	// BENCH_SANDBOX_LIMITS=off (default): the shop's cost bucket is lifted (see lib.mjs sandboxPlan).
	const shopPlan = await sandboxPlan(sandboxUrl);

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
		durableObjects: wrangler.durableObjects,
		bindings: { ...wrangler.vars, ...wrangler.secrets },
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
	const appPids = [...afterApp].filter((p) => !afterSandbox.has(p));

	let probePids = [];
	if (probeScriptPath) {
		const probe = new Miniflare(convertV4MiniflareOptions(appOptions("ordersync-probe", probeScriptPath, PROBE_PORT, PROBE_DIRECT_PORT)));
		instances.push(probe);
		await probe.ready;
		probePids = [...childPids()].filter((p) => !afterApp.has(p));
	}

	return { floorPids, appPids, probePids, sandboxPids, compat, shopPlan, config: wrangler.summary };
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
		sandboxUrl,
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
