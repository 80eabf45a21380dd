// Shared by bench/run.mjs (load generator) and bench/server.mjs (workerd via Miniflare).
// Bench-only values: nothing here is a real secret.

export const HOST = "127.0.0.1";
/** Fixed loopback ports; override with BENCH_PORT_BASE if they are taken. */
const base = Number(process.env.BENCH_PORT_BASE ?? 18780);
/** Miniflare's entry sockets (its entry worker in front of ours): reference only. */
export const FLOOR_PORT = base + 1;
export const APP_PORT = base + 2;
export const PROBE_PORT = base + 3;
export const SANDBOX_PORT = base + 4;
/** workerd sockets bound straight to each worker: what the bench measures. */
export const FLOOR_DIRECT_PORT = base + 11;
export const APP_DIRECT_PORT = base + 12;
export const PROBE_DIRECT_PORT = base + 13;
/** The sandbox peers (sandbox/index.ts: Shopify Admin, ShipBob, EasyPost): where pushes and deliveries land. */
export const SANDBOX_DIRECT_PORT = base + 14;

export const CONNECTION = "shopify-demo";
export const SHOPIFY_SECRET = "bench-shopify-demo-secret";
export const OPS_TOKEN = "bench-ops-token-0123456789abcdef";
/**
 * Secret values for the other secrets wrangler.toml names: a connection's webhook `secret` gets
 * `bench-<connection id>-secret` (SHOPIFY_SECRET for CONNECTION), and every `admin.tokenSecret`
 * gets ADMIN_TOKEN, which is also the sandbox shop's SANDBOX_SHOPIFY_TOKEN.
 */
export const ADMIN_TOKEN = "shpat_bench_sandbox_admin_token";
/**
 * The 3PL (every THREEPLS account's `tokenSecret` / `webhookSecret`) and carrier-tracking (every
 * TRACKING account's `apiKeySecret` / `webhookSecret`) secrets, shared with the sandbox's
 * SANDBOX_SHIPBOB_* and SANDBOX_EASYPOST_* bindings. ShipBob's is a Standard Webhooks key:
 * `whsec_` + base64.
 */
export const SHIPBOB_TOKEN = "shipbob_pat_bench_sandbox";
export const SHIPBOB_WEBHOOK_SECRET = `whsec_${Buffer.from("ordersync bench shipbob signing key").toString("base64")}`;
export const EASYPOST_API_KEY = "EZTK_bench_sandbox";
export const EASYPOST_WEBHOOK_SECRET = "easypost_bench_webhook_secret";

/** The bundle `wrangler deploy --dry-run --outdir bench/.build` writes (wrangler.toml `main` is worker/index.ts). */
export const BUILD_DIR = "bench/.build";
export const BUNDLE = `${BUILD_DIR}/index.js`;
/** bench/probe-worker.ts (the real worker and Durable Objects plus /__probe/* routes), bundled with esbuild. */
export const PROBE_BUNDLE = `${BUILD_DIR}/probe.js`;
/** sandbox/index.ts (the Shopify Admin peer), bundled with esbuild (format esm, platform neutral). */
export const SANDBOX_ENTRY = "sandbox/index.ts";
export const SANDBOX_BUNDLE = `${BUILD_DIR}/sandbox.js`;

/** server.mjs reads vars (CONNECTIONS, INVENTORY, …), Durable Object bindings and compatibility settings from here. */
export const WRANGLER_TOML = "wrangler.toml";

/** esbuild options for a bundle workerd runs as a modules worker (also the console's e2e harness). */
export const WORKERD_BUNDLE = {
	bundle: true,
	format: "esm",
	platform: "neutral",
	target: "es2022",
	mainFields: ["module", "main"],
	conditions: ["workerd", "worker", "browser"],
	external: ["cloudflare:*", "node:*"],
	logLevel: "warning",
};
