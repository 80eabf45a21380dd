// `npm start`: ordersync on this machine with persisted state (.wrangler/state), a seeded demo
// catalogue, a steady stream of signed Shopify webhooks, and the sandbox's peers (shop, ShipBob,
// EasyPost) on a demo clock, so each order goes all the way to delivered, and the channels' payouts
// (demo/payouts.mjs), reconciled into the sandbox NetSuite. In a terminal it opens
// the operator console on it (quit with q); otherwise (CI, a pipe, or `npm start -- --log`) it
// prints a plain live log until Ctrl-C.
import { spawn } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { BUNDLES, CATALOGUE, STORE_ONLY } from "./catalogue.mjs";
import { bold, dim, formatFlow, formatStock, green, red, yellow } from "./live-log.mjs";
import { createPayouts } from "./payouts.mjs";
import { createTraffic } from "./traffic.mjs";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
	console.error(`ordersync needs Node 22.12 or newer (this is ${process.version}).`);
	process.exit(1);
}

const PORT = Number(process.env.PORT ?? 8787);
/** The console needs a terminal to draw in and read keys from. */
const CONSOLE = Boolean(process.stdout.isTTY && process.stdin.isTTY) && !process.argv.includes("--log");
const BASE = `http://127.0.0.1:${PORT}`;
const RATE = Number(process.env.DEMO_ORDERS_PER_SECOND ?? 2);
// wrangler.toml's shopify-demo connection pushes to the sandbox shop on this port.
const SANDBOX_PORT = 8789;
const SANDBOX = `http://127.0.0.1:${SANDBOX_PORT}`;
// The demo clock: the sandbox warehouse ships orders this old, and each parcel moves one carrier
// step (pre-transit → in transit → out for delivery → delivered) after this long.
const SHIP_AFTER_MS = 4_000;
const ADVANCE_AFTER_MS = 2_500;
/** About once a minute ShipBob fails a couple of calls, so the outbox's retries show. */
const FAULT = { target: "shipbob", kind: "503", remaining: 2 };
const FAULT_EVERY_S = 60;
const FIRST_FAULT_S = 20;
/** Every two minutes ShipBob refuses one call outright (a setup problem on its side): a dead letter for operators to retry. */
const REFUSAL = { target: "shipbob", kind: "refuse", remaining: 1 };
const REFUSAL_EVERY_S = 120;
const FIRST_REFUSAL_S = 30;
/** The channels pay out what was booked since their last payout: Shopify, TikTok Shop and Amazon each once a run. */
const PAYOUT_EVERY_S = 45;
/**
 * `wrangler dev` does not fire cron triggers by itself: with --test-scheduled it exposes
 * /__scheduled, which the demo calls this often (production: wrangler.toml's every 10 minutes), so
 * the reconciliation sweep recovers the orders whose webhooks the traffic left out.
 */
const SWEEP_EVERY_S = 60;
const FIRST_SWEEP_S = 30;
const FIRST_PAYOUT_S = 40;

/** KEY="value" lines of a .dev.vars file. */
const readVars = (file) =>
	Object.fromEntries(
		readFileSync(file, "utf8")
			.split("\n")
			.map((line) => /^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line))
			.filter(Boolean)
			.map((m) => [m[1], m[2]]),
	);

if (!existsSync(".dev.vars")) {
	copyFileSync(".dev.vars.example", ".dev.vars");
	console.log(dim("created .dev.vars from .dev.vars.example"));
} else {
	// Secrets added since this .dev.vars was made come from the example, so an old checkout still starts.
	const have = readVars(".dev.vars");
	const missing = Object.entries(readVars(".dev.vars.example")).filter(([key]) => !(key in have));
	if (missing.length > 0) {
		appendFileSync(".dev.vars", `\n${missing.map(([key, value]) => `${key}="${value}"`).join("\n")}\n`);
		console.log(dim(`added ${missing.map(([key]) => key).join(", ")} to .dev.vars from .dev.vars.example`));
	}
}
const vars = readVars(".dev.vars");

mkdirSync(".wrangler", { recursive: true });
const logFile = ".wrangler/dev.log";
const log = openSync(logFile, "a");
/** While the console has the terminal, the demo's own news goes to .wrangler/demo.log. */
const demoLog = CONSOLE ? openSync(".wrangler/demo.log", "a") : null;
const say = (line) => (demoLog === null ? console.log(line) : appendFileSync(demoLog, `${new Date().toISOString()} ${line.replace(/\x1b\[[0-9;]*m/g, "")}\n`));
const complain = (line) => (demoLog === null ? console.error(line) : say(line));
let stopping = false;
/** The console's process, when it has the terminal. */
let consoleProcess = null;
/** What this run sent, said when it stops. */
let summary = () => "";

/** One `wrangler dev` per worker, its output in the log file; if one dies, the demo stops. */
function startWorker(name, args) {
	const child = spawn(
		process.execPath,
		["node_modules/wrangler/bin/wrangler.js", "dev", "--ip", "127.0.0.1", "--show-interactive-dev-session=false", "--log-level", "warn", ...args],
		{
			stdio: ["ignore", log, log],
			// No Request.cf download: nothing here reads it, and offline it only fills the log with warnings.
			env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false" },
		},
	);
	child.on("exit", (code) => {
		if (!stopping) {
			console.error(red(`${name} stopped (exit ${code}); see ${logFile}`));
			stop(1);
		}
	});
	return child;
}

// The sandbox plays the peers' APIs (Shopify Admin, ShipBob, EasyPost) and posts their webhooks back to the worker.
const sandbox = startWorker("the sandbox", [
	"-c", "sandbox/wrangler.toml", "--port", String(SANDBOX_PORT), "--inspector-port", String(PORT + 1443),
	"--var", `SANDBOX_CALLBACK_URL:${BASE}`,
]);
const worker = startWorker("the sync worker", ["--port", String(PORT), "--inspector-port", String(PORT + 1442), "--test-scheduled"]);

async function stop(code = 0) {
	if (stopping) return;
	stopping = true;
	console.log(dim(`\nstopping…${summary()}`));
	if (consoleProcess && consoleProcess.exitCode === null) {
		consoleProcess.kill("SIGTERM");
		await new Promise((resolve) => consoleProcess.once("exit", resolve));
	}
	for (const child of [worker, sandbox]) child.kill("SIGTERM");
	await Promise.race([Promise.all([worker, sandbox].map((child) => new Promise((resolve) => child.once("exit", resolve)))), sleep(5000)]);
	process.exit(code);
}
process.on("SIGINT", () => stop());
process.on("SIGTERM", () => stop());

async function waitUntilUp() {
	for (let i = 0; i < 240; i++) {
		let response;
		try {
			response = await fetch(`${BASE}/health`);
		} catch {}
		if (response?.ok) return;
		if (response?.status === 500) {
			const body = await response.json().catch(() => ({}));
			throw new Error(body.error?.message ?? `the worker answered /health with 500; see ${logFile}`);
		}
		await sleep(250);
	}
	throw new Error(`the worker did not answer on ${BASE} within 60 s; see ${logFile}`);
}

const opsHeaders = { Authorization: `Bearer ${vars.OPS_TOKEN}` };

async function latestCursor() {
	let cursor = 0;
	for (;;) {
		const page = await (await fetch(`${BASE}/ops/flows?after=${cursor}&limit=1000`, { headers: opsHeaders })).json();
		if (page.events.length === 0) return cursor;
		cursor = page.cursor;
	}
}

/**
 * The sandbox shop sells the catalogue, so availability pushes for it land. It is on Shopify Plus
 * (1,000 cost points a second): at an order a second, availability pushes, fulfilments and tracking
 * events need more than the Standard plan's 100, and would queue behind its throttle.
 */
async function waitForSandbox() {
	const skus = [...CATALOGUE, ...BUNDLES, ...STORE_ONLY].map((p) => p.sku);
	for (let i = 0; i < 240; i++) {
		try {
			const response = await fetch(`${SANDBOX}/sandbox/variants`, { method: "POST", body: JSON.stringify({ skus }) });
			if (response.ok) {
				const plan = await fetch(`${SANDBOX}/sandbox/plan`, { method: "POST", body: JSON.stringify({ maximumAvailable: 20_000, restoreRate: 1_000 }) });
				if (!plan.ok) throw new Error(`the sandbox shop refused the Plus plan: ${plan.status}`);
				return;
			}
		} catch (error) {
			if (error.message.startsWith("the sandbox shop")) throw error;
		}
		await sleep(250);
	}
	throw new Error(`the sandbox did not answer on ${SANDBOX} within 60 s; see ${logFile}`);
}

async function main() {
	console.log(bold("ordersync") + dim(` — starting the sync worker on ${BASE} (state in .wrangler/state) and the sandbox peers (shop, ShipBob, EasyPost) on ${SANDBOX}`));
	await waitUntilUp();
	await waitForSandbox();
	const traffic = createTraffic({
		baseUrl: BASE,
		sandboxUrl: SANDBOX,
		connection: "shopify-demo",
		secret: vars.SHOPIFY_DEMO_SECRET,
		opsToken: vars.OPS_TOKEN,
		onError: (message) => complain(red(message)),
	});
	summary = () => {
		const { orders, storeOnly, edits, cancels, faults, elsewhere, unsent } = traffic.stats;
		const n = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;
		return ` this run sent ${n(orders, "order")} (${elsewhere} on TikTok Shop, Amazon and WooCommerce; ${storeOnly} for the store exclusive; ${unsent} without a webhook, for the sweep), ${n(edits, "edit")} and ${n(cancels, "cancellation")}, and injected ${n(faults, "ShipBob fault")}`;
	};
	const payouts = createPayouts({ baseUrl: BASE, sandboxUrl: SANDBOX, opsToken: vars.OPS_TOKEN, onError: (message) => complain(red(message)) });
	const seeded = await traffic.seed();
	const skus = CATALOGUE.map((p) => p.sku);
	const all = [...CATALOGUE, ...STORE_ONLY].length;
	console.log(
		seeded.length === all
			? `seeded ${skus.length} SKUs in 2 warehouses (wh-east, wh-west) and ${STORE_ONLY.map((p) => `${p.sku} at ${p.location}`).join(", ")}`
			: `resuming with the orders and stock persisted in .wrangler/state (delete it for a fresh start)${seeded.length > 0 ? `; stocked ${seeded.join(", ")}` : ""}`,
	);
	// Not needed for a fresh start; a resumed one without it only has more exceptions to show.
	const reconciled = await traffic.reconcile().catch((error) => {
		console.error(red(`could not tell the sandbox shop of the orders still open: ${error.message}`));
		return { orders: 0, retried: 0 };
	});
	if (reconciled.orders > 0) {
		console.log(
			dim(`told the sandbox shop (which starts empty) of ${reconciled.orders} orders still open in .wrangler/state`) +
				dim(reconciled.retried > 0 ? `; re-sent ${reconciled.retried} fulfilments and tracking updates it had refused` : ""),
		);
	}
	// Each step waits for the next tick, and the webhook it causes goes out with the tick after.
	const loopSeconds = Math.round((SHIP_AFTER_MS + 1_000 + 3 * (ADVANCE_AFTER_MS + 1_000)) / 1000);
	console.log(
		`sending ~${RATE} Shopify webhooks/s; the sandbox warehouse ships each order after ~${SHIP_AFTER_MS / 1000} s and the carrier moves it a step every ~${ADVANCE_AFTER_MS / 1000} s: delivered ~${loopSeconds} s after it came in. Ctrl-C to stop.`,
	);
	if (CONSOLE) {
		console.log(`opening the operator console on ${BASE} (? for its keys, q to quit; npm start -- --log for the plain log instead)`);
		console.log(dim(`the same from another terminal: npx ordersync console --url ${BASE} --token ${vars.OPS_TOKEN}   (read-only: --token ${vars.OPS_READ_TOKEN})`));
	} else {
		const auth = `-H 'Authorization: Bearer ${vars.OPS_TOKEN}'`;
		console.log(dim(`  availability: curl '${BASE}/v1/availability?sku=${skus[0]}&sku=${skus[1]}'`));
		console.log(dim(`  an order:     curl ${auth} ${BASE}/ops/orders/<key>   (the key ends each line below)`));
		console.log(dim(`  exceptions:   curl ${auth} ${BASE}/ops/exceptions`));
		console.log(dim(`  outbound:     curl ${auth} ${BASE}/ops/destinations`));
		console.log(dim(`  payouts:      curl ${auth} ${BASE}/ops/settlements   (deposits: curl '${SANDBOX}/sandbox/netsuite/records?type=deposit')`));
		console.log(dim(`  3PL:          curl ${SANDBOX}/sandbox/shipbob/orders   (orders ShipBob was sent, and their parcels)`));
		console.log(dim(`  shop:         curl ${SANDBOX}/sandbox/fulfillments   (fulfilments and tracking on the Shopify sandbox)`));
		console.log(dim(`                curl ${SANDBOX}/sandbox/inventory      (availability the shop was told)`));
	}
	console.log();

	void runClock(traffic);
	void runPayouts(payouts);
	void runSweeps();
	if (CONSOLE) openConsole();
	else await showFlows();
	let ticks = 0;
	while (!stopping) {
		const started = Date.now();
		try {
			await traffic.step();
			ticks++;
			if (ticks % Math.max(1, RATE * 10) === 0 && !CONSOLE) await showStock();
			if (ticks % Math.max(1, RATE * 20) === 0) {
				const delivery = await traffic.receiveDelivery();
				say(dim(`warehouse snapshot: a delivery of ${delivery.skus.join(", ")} was counted in at ${delivery.location}`));
			}
		} catch (error) {
			if (!stopping) complain(red(`demo traffic: ${error.message}`));
		}
		await sleep(Math.max(0, 1000 / RATE - (Date.now() - started)));
	}
}

async function showStock() {
	const skus = [...CATALOGUE, ...BUNDLES].map((p) => p.sku);
	const { items } = await (await fetch(`${BASE}/v1/availability?${skus.map((s) => `sku=${s}`).join("&")}`, { headers: opsHeaders })).json();
	console.log(dim("available → ") + formatStock(items));
}

/** The plain log: the flow stream, one readable line per step, polled twice a second. */
async function showFlows() {
	let cursor = await latestCursor();
	await showStock();
	void (async () => {
		while (!stopping) {
			try {
				const page = await (await fetch(`${BASE}/ops/flows?after=${cursor}&limit=500`, { headers: opsHeaders })).json();
				for (const event of page.events) {
					const line = formatFlow(event);
					if (line !== null) console.log(line);
				}
				cursor = page.cursor;
			} catch (error) {
				if (!stopping) console.error(red(`flow log: ${error.message}`));
			}
			await sleep(500);
		}
	})();
}

/** The operator console on this worker, in this terminal; quitting it (q) stops the demo. */
function openConsole() {
	say(`console opened on ${BASE}; the demo's own news is in .wrangler/demo.log`);
	const child = spawn(process.execPath, ["console/bin.mjs", "console", "--url", BASE, "--token", vars.OPS_TOKEN], { stdio: "inherit" });
	child.on("exit", (code) => stop(code ?? 0));
	// Ctrl-C reaches the console as a key (it owns the terminal in raw mode); a signal to us closes it too.
	consoleProcess = child;
}

/** The sandbox's clock, once a second: ship, move parcels, post their webhooks to the worker; now and then a fault. */
async function runClock(traffic) {
	let seconds = 0;
	while (!stopping) {
		const started = Date.now();
		try {
			await traffic.advanceClock({ shipAfterMs: SHIP_AFTER_MS, advanceAfterMs: ADVANCE_AFTER_MS });
			seconds++;
			const at = new Date().toISOString().slice(11, 19);
			if (seconds % FAULT_EVERY_S === FIRST_FAULT_S % FAULT_EVERY_S) {
				await traffic.injectFault(FAULT);
				say(`${dim(at)}  ${dim("sandbox".padEnd(7))} ${yellow("fault injected".padEnd(16))} ShipBob answers ${FAULT.kind} to its next ${FAULT.remaining} calls; watch for "retried ok"`);
			}
			if (seconds % REFUSAL_EVERY_S === FIRST_REFUSAL_S % REFUSAL_EVERY_S) {
				await traffic.injectFault(REFUSAL);
				say(`${dim(at)}  ${dim("sandbox".padEnd(7))} ${yellow("fault injected".padEnd(16))} ShipBob refuses its next call (400): a dead letter to retry from the exceptions desk`);
			}
		} catch (error) {
			if (!stopping) complain(red(`sandbox clock: ${error.message}`));
		}
		await sleep(Math.max(0, 1000 - (Date.now() - started)));
	}
}

/** The channels' payouts, every PAYOUT_EVERY_S: one line each, as ordersync reconciled it and NetSuite took its deposit. */
async function runPayouts(payouts) {
	await sleep(FIRST_PAYOUT_S * 1000);
	while (!stopping) {
		const started = Date.now();
		try {
			for (const line of await payouts.run()) {
				if (stopping) break;
				const at = new Date().toISOString().slice(11, 19);
				const style = / exception|refused|still posting|, but /.test(line) ? yellow : green;
				say(`${dim(at)}  ${dim("books".padEnd(7))} ${style("payout".padEnd(16))} ${line.replace(/^payout /, "")}`);
			}
		} catch (error) {
			if (!stopping) complain(red(`payouts: ${error.message}`));
		}
		await sleep(Math.max(0, PAYOUT_EVERY_S * 1000 - (Date.now() - started)));
	}
}

/** The cron trigger, every SWEEP_EVERY_S: each connection's reconciliation sweep (its runs show as "swept" in the flows). */
async function runSweeps() {
	await sleep(FIRST_SWEEP_S * 1000);
	while (!stopping) {
		const started = Date.now();
		try {
			const response = await fetch(`${BASE}/__scheduled?cron=${encodeURIComponent("*/10 * * * *")}`);
			if (!response.ok) complain(red(`sweep trigger: ${response.status} ${await response.text()}`));
		} catch (error) {
			if (!stopping) complain(red(`sweep trigger: ${error.message}`));
		}
		await sleep(Math.max(0, SWEEP_EVERY_S * 1000 - (Date.now() - started)));
	}
}

main().catch((error) => {
	console.error(red(error.message));
	stop(1);
});
