// The real ordersync worker and the sandbox of peers (Shopify Admin, ShipBob, EasyPost) on workerd
// through Miniflare, for the console's end-to-end test: wrangler.toml's configuration, the test
// secrets of vitest.config.ts, every outbound fetch routed to the sandbox, state in a temp dir
// that outlives a restart (the console must ride one out).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, type BuildOptions } from "esbuild";
import { type Json, Log, LogLevel, Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_readConfig } from "wrangler";
import { signedDelivery } from "../../demo/shopify-orders.mjs";

export const OPS_TOKEN = "test-ops-token-0123456789";
export const READ_TOKEN = "test-read-token-0123456789";
export const CONNECTION = "shopify-demo";
const SHOPIFY_SECRET = "test-shopify-secret";

const SANDBOX_SECRETS = {
	SANDBOX_SHOPIFY_TOKEN: "shpat_sandbox_test_token",
	SANDBOX_SHIPBOB_TOKEN: "shipbob_pat_test",
	SANDBOX_SHIPBOB_WEBHOOK_SECRET: "whsec_b3JkZXJzeW5jIHRlc3Qgc2hpcGJvYiBrZXkgMDAwMDE=",
	SANDBOX_EASYPOST_API_KEY: "EZTK_test",
	SANDBOX_EASYPOST_WEBHOOK_SECRET: "easypost_test_webhook_secret",
	SANDBOX_TIKTOK_APP_KEY: "38abcd12efgh3",
	SANDBOX_TIKTOK_APP_SECRET: "tiktok_test_app_secret_0123456789",
	SANDBOX_TIKTOK_ACCESS_TOKEN: "ROW_tiktok_test_access_token",
	SANDBOX_AMAZON_CLIENT_ID: "amzn1.application-oa2-client.test",
	SANDBOX_AMAZON_CLIENT_SECRET: "amzn1.oa2-cs.v1.test_client_secret",
	SANDBOX_AMAZON_REFRESH_TOKEN: "Atzr|test_refresh_token",
	SANDBOX_AMAZON_NOTIFICATION_KEY: "amazon_test_api_destination_key",
	SANDBOX_WOO_CONSUMER_KEY: "ck_test_0123456789abcdef",
	SANDBOX_WOO_CONSUMER_SECRET: "cs_test_0123456789abcdef",
	SANDBOX_WOO_WEBHOOK_SECRET: "woo_test_webhook_secret",
	SANDBOX_EDI_TOKEN: "edi_test_gateway_token",
};

const SECRETS = {
	SHOPIFY_DEMO_SECRET: SHOPIFY_SECRET,
	SHOPIFY_OUTLET_SECRET: "test-outlet-secret",
	SHOPIFY_DEMO_ADMIN_TOKEN: SANDBOX_SECRETS.SANDBOX_SHOPIFY_TOKEN,
	OPS_TOKEN,
	OPS_READ_TOKEN: READ_TOKEN,
	SHIPBOB_TOKEN: SANDBOX_SECRETS.SANDBOX_SHIPBOB_TOKEN,
	SHIPBOB_WEBHOOK_SECRET: SANDBOX_SECRETS.SANDBOX_SHIPBOB_WEBHOOK_SECRET,
	EASYPOST_API_KEY: SANDBOX_SECRETS.SANDBOX_EASYPOST_API_KEY,
	EASYPOST_WEBHOOK_SECRET: SANDBOX_SECRETS.SANDBOX_EASYPOST_WEBHOOK_SECRET,
	TIKTOK_APP_SECRET: SANDBOX_SECRETS.SANDBOX_TIKTOK_APP_SECRET,
	TIKTOK_ACCESS_TOKEN: SANDBOX_SECRETS.SANDBOX_TIKTOK_ACCESS_TOKEN,
	AMAZON_LWA_CLIENT_SECRET: SANDBOX_SECRETS.SANDBOX_AMAZON_CLIENT_SECRET,
	AMAZON_REFRESH_TOKEN: SANDBOX_SECRETS.SANDBOX_AMAZON_REFRESH_TOKEN,
	AMAZON_NOTIFICATION_KEY: SANDBOX_SECRETS.SANDBOX_AMAZON_NOTIFICATION_KEY,
	WOO_CONSUMER_SECRET: SANDBOX_SECRETS.SANDBOX_WOO_CONSUMER_SECRET,
	WOO_WEBHOOK_SECRET: SANDBOX_SECRETS.SANDBOX_WOO_WEBHOOK_SECRET,
	EDI_GATEWAY_TOKEN: SANDBOX_SECRETS.SANDBOX_EDI_TOKEN,
};

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

/** esbuild options for a bundle workerd runs as a modules worker (as bench/lib.mjs builds them). */
const WORKERD_BUNDLE: BuildOptions = {
	bundle: true,
	format: "esm",
	platform: "neutral",
	target: "es2022",
	mainFields: ["module", "main"],
	conditions: ["workerd", "worker", "browser"],
	external: ["cloudflare:*", "node:*"],
	logLevel: "warning",
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
						bindings: { ...(config.vars as Record<string, Json>), CONNECTIONS: shopifyOnly, ...SECRETS, DELIVERY },
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
