import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { buildSync } from "esbuild";
import { defineConfig, defineProject } from "vitest/config";

// The sandbox of peer services runs beside the worker as a real auxiliary worker; every
// outbound fetch from ordersync is routed to it, so the real client code talks to it.
const SANDBOX = ".wrangler/sandbox-build/index.js";
buildSync({ entryPoints: ["sandbox/index.ts"], bundle: true, format: "esm", platform: "neutral", outfile: SANDBOX, logLevel: "warning" });

// Two projects: the worker's tests run inside workerd with the real wrangler.toml (secrets are
// test-only values); the console is a Node program, so its tests run in Node, and its end-to-end
// test starts the real worker on workerd through Miniflare.
const worker = defineProject({
	plugins: [
		cloudflareTest({
			wrangler: { configPath: "./wrangler.toml" },
			miniflare: {
				outboundService: "ordersync-sandbox",
				workers: [
					{
						name: "ordersync-sandbox",
						modules: true,
						scriptPath: SANDBOX,
						compatibilityDate: "2026-11-01",
						bindings: {
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
						},
					},
				],
				bindings: {
					SHOPIFY_DEMO_SECRET: "test-shopify-secret",
					SHOPIFY_OUTLET_SECRET: "test-outlet-secret",
					SHOPIFY_DEMO_ADMIN_TOKEN: "shpat_sandbox_test_token",
					OPS_TOKEN: "test-ops-token-0123456789",
					OPS_READ_TOKEN: "test-read-token-0123456789",
					// Retries on a test's time scale: same rules as wrangler.toml, milliseconds instead of seconds.
					DELIVERY: {
						// Shopify deliveries make two calls each (read, then write): at 30% faults an attempt fails
						// half the time, so the fault test needs room before a delivery is given up (0.51^25 ≈ 5e-8).
						maxAttempts: 25,
						maxAgeMs: 600_000,
						baseBackoffMs: 20,
						maxBackoffMs: 400,
						timeoutMs: 400,
						circuitFailures: 5,
						circuitCooldownMs: 300,
						defaultConcurrency: 8,
						concurrency: { "3pl:shipbob": 5, "channel:shopify-demo": 16 },
					},
					SHIPBOB_TOKEN: "shipbob_pat_test",
					SHIPBOB_WEBHOOK_SECRET: "whsec_b3JkZXJzeW5jIHRlc3Qgc2hpcGJvYiBrZXkgMDAwMDE=",
					EASYPOST_API_KEY: "EZTK_test",
					EASYPOST_WEBHOOK_SECRET: "easypost_test_webhook_secret",
					TIKTOK_APP_SECRET: "tiktok_test_app_secret_0123456789",
					TIKTOK_ACCESS_TOKEN: "ROW_tiktok_test_access_token",
					AMAZON_LWA_CLIENT_SECRET: "amzn1.oa2-cs.v1.test_client_secret",
					AMAZON_REFRESH_TOKEN: "Atzr|test_refresh_token",
					AMAZON_NOTIFICATION_KEY: "amazon_test_api_destination_key",
					WOO_CONSUMER_SECRET: "cs_test_0123456789abcdef",
					WOO_WEBHOOK_SECRET: "woo_test_webhook_secret",
					EDI_GATEWAY_TOKEN: "edi_test_gateway_token",
				},
			},
		}),
	],
	test: {
		name: "worker",
		include: ["test/*.test.ts"],
		setupFiles: ["./test/setup.ts"],
		testTimeout: 30_000,
	},
});

const console = defineProject({
	test: {
		name: "console",
		include: ["test/console/**/*.test.{ts,tsx}"],
		environment: "node",
		testTimeout: 30_000,
	},
});

export default defineConfig({
	test: {
		projects: [worker, console],
		reporters: ["default", "./test/summary-reporter.ts"],
		// One file at a time: the sandbox of peers is shared, the fault test turns chaos on for
		// everyone, and the console's end-to-end test runs a worker of its own beside them.
		fileParallelism: false,
	},
});
