// `npm start`: ordersync on this machine with persisted state (.wrangler/state), a seeded demo
// catalogue, and a steady stream of signed Shopify webhooks, with a live log until Ctrl-C.
import { spawn } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { BUNDLES, CATALOGUE } from "./catalogue.mjs";
import { bold, dim, formatFlow, formatStock, red } from "./live-log.mjs";
import { createTraffic } from "./traffic.mjs";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
	console.error(`ordersync needs Node 22.12 or newer (this is ${process.version}).`);
	process.exit(1);
}

const PORT = Number(process.env.PORT ?? 8787);
const BASE = `http://127.0.0.1:${PORT}`;
const RATE = Number(process.env.DEMO_ORDERS_PER_SECOND ?? 2);
// wrangler.toml's shopify-demo connection pushes to the sandbox shop on this port.
const SANDBOX_PORT = 8789;
const SANDBOX = `http://127.0.0.1:${SANDBOX_PORT}`;

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
let stopping = false;

/** One `wrangler dev` per worker, its output in the log file; if one dies, the demo stops. */
function startWorker(name, args) {
	const child = spawn(
		process.execPath,
		["node_modules/wrangler/bin/wrangler.js", "dev", "--ip", "127.0.0.1", "--show-interactive-dev-session=false", "--log-level", "warn", ...args],
		{ stdio: ["ignore", log, log], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
	);
	child.on("exit", (code) => {
		if (!stopping) {
			console.error(red(`${name} stopped (exit ${code}); see ${logFile}`));
			stop(1);
		}
	});
	return child;
}

// The sandbox plays the channels' APIs (the Shopify Admin API, for availability pushes).
const sandbox = startWorker("the sandbox", ["-c", "sandbox/wrangler.toml", "--port", String(SANDBOX_PORT), "--inspector-port", String(PORT + 1443)]);
const worker = startWorker("the sync worker", ["--port", String(PORT), "--inspector-port", String(PORT + 1442)]);

async function stop(code = 0) {
	if (stopping) return;
	stopping = true;
	console.log(dim("\nstopping…"));
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

/** The sandbox shop sells the catalogue, so availability pushes for it land. */
async function waitForSandbox() {
	const skus = [...CATALOGUE, ...BUNDLES].map((p) => p.sku);
	for (let i = 0; i < 240; i++) {
		try {
			const response = await fetch(`${SANDBOX}/sandbox/variants`, { method: "POST", body: JSON.stringify({ skus }) });
			if (response.ok) return;
		} catch {}
		await sleep(250);
	}
	throw new Error(`the sandbox did not answer on ${SANDBOX} within 60 s; see ${logFile}`);
}

async function main() {
	console.log(bold("ordersync") + dim(` — starting the sync worker on ${BASE} (state in .wrangler/state) and the sandbox shop on ${SANDBOX}`));
	await waitUntilUp();
	await waitForSandbox();
	const traffic = createTraffic({
		baseUrl: BASE,
		connection: "shopify-demo",
		secret: vars.SHOPIFY_DEMO_SECRET,
		opsToken: vars.OPS_TOKEN,
		onError: (message) => console.error(red(message)),
	});
	const seeded = await traffic.seed();
	const skus = CATALOGUE.map((p) => p.sku);
	console.log(
		seeded
			? `seeded ${skus.length} SKUs in 2 warehouses`
			: `resuming with the orders and stock persisted in .wrangler/state (delete it for a fresh start)`,
	);
	console.log(`sending ~${RATE} Shopify webhooks/s. Ctrl-C to stop.`);
	console.log(dim(`  availability: curl '${BASE}/v1/availability?sku=${skus[0]}&sku=${skus[1]}'`));
	console.log(dim(`  ops:          curl -H 'Authorization: Bearer ${vars.OPS_TOKEN}' ${BASE}/ops/exceptions`));
	console.log(dim(`  shop:         curl ${SANDBOX}/sandbox/inventory   (what the Shopify sandbox was told)`));
	console.log();

	let cursor = await latestCursor();
	const showStock = async () => {
		const query = [...skus, ...BUNDLES.map((b) => b.sku)].map((s) => `sku=${s}`).join("&");
		const { items } = await (await fetch(`${BASE}/v1/availability?${query}`)).json();
		console.log(dim("available → ") + formatStock(items));
	};
	await showStock();

	let ticks = 0;
	while (!stopping) {
		const started = Date.now();
		try {
			await traffic.step();
			const page = await (await fetch(`${BASE}/ops/flows?after=${cursor}&limit=500`, { headers: opsHeaders })).json();
			for (const event of page.events) console.log(formatFlow(event));
			cursor = page.cursor;
			ticks++;
			if (ticks % Math.max(1, RATE * 10) === 0) await showStock();
			if (ticks % Math.max(1, RATE * 20) === 0) {
				const delivered = await traffic.receiveDelivery();
				console.log(dim(`warehouse snapshot: a delivery of ${delivered.join(", ")} was counted in`));
			}
		} catch (error) {
			if (!stopping) console.error(red(`demo traffic: ${error.message}`));
		}
		await sleep(Math.max(0, 1000 / RATE - (Date.now() - started)));
	}
}

main().catch((error) => {
	console.error(red(error.message));
	stop(1);
});
