// The real ordersync worker and the sandbox of peers (Shopify Admin, ShipBob, EasyPost) on workerd
// through Miniflare, for the console's end-to-end test: wrangler.toml's configuration, the test
// secrets of test/secrets.ts, every outbound fetch routed to the sandbox, state in a temp dir
// that outlives a restart (the console must ride one out).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { type Json, Log, LogLevel, Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_readConfig } from "wrangler";
import { WORKERD_BUNDLE } from "../../bench/config.mjs";
import { signedDelivery } from "../../demo/shopify-orders.mjs";
import { APP_SECRETS, SANDBOX_SECRETS } from "../secrets";

export const OPS_TOKEN = APP_SECRETS.OPS_TOKEN;
export const READ_TOKEN = APP_SECRETS.OPS_READ_TOKEN;
export const CONNECTION = "shopify-demo";
const SHOPIFY_SECRET = APP_SECRETS.SHOPIFY_DEMO_SECRET;

/** Retries on a test's time scale: a delivery the 3PL keeps failing is dead-lettered within a second. */
const DELIVERY = {
	maxAttempts: 3,
	maxAgeMs: 600_000,
	baseBackoffMs: 20,
	maxBackoffMs: 200,
	timeoutMs: 2_000,
	circuitFailures: 50,
	circuitCooldownMs: 300,
	defaultConcurrency: 8,
	concurrency: { "3pl:shipbob": 5 },
};

export type Harness = {
	/** Where the worker listens (Miniflare's entry socket). */
	url: string;
	/** A call to the ops API with the operator token. */
	ops(path: string, init?: { method?: string; body?: unknown }): Promise<Response>;
	/** A call to the sandbox of peers (faults, variants). */
	sandbox<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
	/** Sends one signed Shopify webhook through the worker. */
	deliver(topic: string, body: unknown): Promise<Response>;
	stock(sku: string, onHand: number, location?: string): Promise<void>;
	/** Stops the worker as a crash or a deploy would; its Durable Objects' state stays on disk. */
	stop(): Promise<void>;
	/** Starts it again on the same port with the state it had (the sandbox starts empty). */
	start(): Promise<void>;
	dispose(): Promise<void>;
};

export async function startWorker(): Promise<Harness> {
	const dir = mkdtempSync(join(tmpdir(), "ordersync-console-e2e-"));
	const workerScript = join(dir, "worker.js");
	const sandboxScript = join(dir, "sandbox.js");
	await Promise.all([
		build({ ...WORKERD_BUNDLE, entryPoints: ["worker/index.ts"], outfile: workerScript }),
		build({ ...WORKERD_BUNDLE, entryPoints: ["sandbox/index.ts"], outfile: sandboxScript }),
	]);
	const config = unstable_readConfig({ config: "wrangler.toml" }, { hideWarnings: true });
	const sqlite = new Set((config.migrations ?? []).flatMap((m: { new_sqlite_classes?: string[] }) => m.new_sqlite_classes ?? []));
	const durableObjects = Object.fromEntries((config.durable_objects?.bindings ?? []).map((b: { name: string; class_name: string }) => [b.name, { className: b.class_name, useSQLite: sqlite.has(b.class_name) }]));
	const compatibilityDate = config.compatibility_date!;
	// The console's traffic is Shopify's: the other channels would only add refused pushes (for SKUs
	// their sandboxes don't list) to the exceptions it counts. They have tests of their own.
	const shopifyOnly = ((config.vars as { CONNECTIONS?: Array<{ channel: string }> }).CONNECTIONS ?? []).filter((c) => c.channel === "shopify") as unknown as Json;
	// As the worker's own test files (vitest.config.ts): the ERP configured, no connection booked in
	// it, so the made-up SKUs need no items in the sandbox NetSuite (and the ERP names no connection
	// dropped above, which the worker would refuse as a configuration error).
	const erp = (config.vars as { ERP?: Record<string, Json> }).ERP;

	const miniflare = (port: number) =>
		new Miniflare(
			convertV4MiniflareOptions({
				host: "127.0.0.1",
				port,
				log: new Log(LogLevel.WARN),
				cf: false,
				resourcePersistencePath: join(dir, "state"),
				workers: [
					{
						name: "ordersync",
						modules: true,
						scriptPath: workerScript,
						modulesRoot: dir,
						compatibilityDate,
						compatibilityFlags: config.compatibility_flags ?? [],
						durableObjects,
						bindings: { ...(config.vars as Record<string, Json>), CONNECTIONS: shopifyOnly, ...(erp ? { ERP: { ...erp, connections: {} } } : {}), ...APP_SECRETS, DELIVERY },
						outboundService: "ordersync-sandbox",
					},
					{ name: "ordersync-sandbox", modules: true, scriptPath: sandboxScript, modulesRoot: dir, compatibilityDate, bindings: SANDBOX_SECRETS },
				],
			}),
		);
	let mf: Miniflare | null = miniflare(0);
	const url = (await mf.ready).origin;
	const port = Number(new URL(url).port);
	let sandboxWorker = await mf.getWorker("ordersync-sandbox");

	const ops: Harness["ops"] = (path, init = {}) =>
		fetch(`${url}${path}`, {
			method: init.method ?? (init.body === undefined ? "GET" : "POST"),
			headers: { Authorization: `Bearer ${OPS_TOKEN}`, "Content-Type": "application/json" },
			body: init.body === undefined ? undefined : JSON.stringify(init.body),
		});

	return {
		url,
		ops,
		async sandbox<T>(path: string, init: { method?: string; body?: unknown } = {}) {
			const response = await sandboxWorker.fetch(`http://sandbox${path}`, {
				method: init.method ?? (init.body === undefined ? "GET" : "POST"),
				body: init.body === undefined ? undefined : JSON.stringify(init.body),
			});
			const text = await response.text();
			if (!response.ok) throw new Error(`sandbox ${path}: ${response.status} ${text}`);
			return JSON.parse(text) as T;
		},
		async deliver(topic, body) {
			const delivery = await signedDelivery({ secret: SHOPIFY_SECRET, topic, body });
			return fetch(`${url}/webhooks/shopify/${CONNECTION}`, { method: "POST", headers: delivery.headers, body: delivery.body });
		},
		async stock(sku, onHand, location = "wh-east") {
			const response = await ops("/v1/inventory/snapshots", { body: { source: "console-e2e", asOf: new Date().toISOString(), items: [{ sku, location, onHand }] } });
			if (response.status !== 200) throw new Error(`snapshot failed: ${response.status} ${await response.text()}`);
		},
		async stop() {
			await mf?.dispose();
			mf = null;
		},
		async start() {
			if (mf) throw new Error("the worker is running");
			mf = miniflare(port);
			await mf.ready;
			sandboxWorker = await mf.getWorker("ordersync-sandbox");
		},
		async dispose() {
			await mf?.dispose();
			mf = null;
			rmSync(dir, { recursive: true, force: true });
		},
	};
}
