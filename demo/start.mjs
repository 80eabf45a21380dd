// `npm start`: ordersync on this machine with persisted state (.wrangler/state), a seeded demo
// catalogue, and a steady stream of signed Shopify webhooks, with a live log until Ctrl-C.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
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

if (!existsSync(".dev.vars")) {
	copyFileSync(".dev.vars.example", ".dev.vars");
	console.log(dim("created .dev.vars from .dev.vars.example"));
}
const vars = Object.fromEntries(
	readFileSync(".dev.vars", "utf8")
		.split("\n")
		.map((line) => /^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line))
		.filter(Boolean)
		.map((m) => [m[1], m[2]]),
);

mkdirSync(".wrangler", { recursive: true });
const logFile = ".wrangler/dev.log";
const log = openSync(logFile, "a");
const worker = spawn(
	process.execPath,
	["node_modules/wrangler/bin/wrangler.js", "dev", "--ip", "127.0.0.1", "--port", String(PORT), "--show-interactive-dev-session=false", "--log-level", "warn"],
	{ stdio: ["ignore", log, log], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);
let stopping = false;
worker.on("exit", (code) => {
	if (!stopping) {
		console.error(red(`the local worker stopped (exit ${code}); see ${logFile}`));
		process.exit(1);
	}
});

async function stop(code = 0) {
	if (stopping) return;
	stopping = true;
	console.log(dim("\nstopping…"));
	worker.kill("SIGTERM");
	await Promise.race([new Promise((resolve) => worker.once("exit", resolve)), sleep(5000)]);
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

async function main() {
	console.log(bold("ordersync") + dim(` — starting the sync worker on ${BASE} (state in .wrangler/state)`));
	await waitUntilUp();
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
