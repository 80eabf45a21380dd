// Shared by bench/run.mjs (load generator) and bench/server.mjs (workerd via Miniflare).
// Bench-only values: nothing here is a real secret.

export const HOST = "127.0.0.1";
/** Fixed loopback ports; override with BENCH_PORT_BASE if they are taken. */
const base = Number(process.env.BENCH_PORT_BASE ?? 18780);
/** Miniflare's entry sockets (its entry worker in front of ours): reference only. */
export const FLOOR_PORT = base + 1;
export const APP_PORT = base + 2;
export const PROBE_PORT = base + 3;
/** workerd sockets bound straight to each worker: what the bench measures. */
export const FLOOR_DIRECT_PORT = base + 11;
export const APP_DIRECT_PORT = base + 12;
export const PROBE_DIRECT_PORT = base + 13;

export const CONNECTION = "shopify-demo";
export const SHOPIFY_SECRET = "bench-shopify-demo-secret";
export const OPS_TOKEN = "bench-ops-token-0123456789abcdef";

/** The bundle `wrangler deploy --dry-run --outdir bench/.build` writes (wrangler.toml `main` is worker/index.ts). */
export const BUILD_DIR = "bench/.build";
export const BUNDLE = `${BUILD_DIR}/index.js`;
/** bench/probe-worker.ts (the real worker and Durable Objects plus /__probe/* routes), bundled with esbuild. */
export const PROBE_BUNDLE = `${BUILD_DIR}/probe.js`;

/** server.mjs reads compatibility_date and compatibility_flags from here. */
export const WRANGLER_TOML = "wrangler.toml";
