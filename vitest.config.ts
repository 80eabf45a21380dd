import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { buildSync } from "esbuild";
import { defineConfig, defineProject } from "vitest/config";
import { unstable_readConfig } from "wrangler";
import { APP_SECRETS, SANDBOX_SECRETS } from "./test/secrets";

// The sandbox of peer services runs beside the worker as a real auxiliary worker; every
// outbound fetch from ordersync is routed to it, so the real client code talks to it.
const SANDBOX = ".wrangler/sandbox-build/index.js";
buildSync({ entryPoints: ["sandbox/index.ts"], bundle: true, format: "esm", platform: "neutral", outfile: SANDBOX, logLevel: "warning" });

// Two projects: the worker's tests run inside workerd with the real wrangler.toml (secrets are
// test-only values); the console is a Node program, so its tests run in Node, and its end-to-end
// test starts the real worker on workerd through Miniflare.
// The ERP as wrangler.toml configures it. Most test files run with no connection booked, so their
// orders (of SKUs made up per test) do not need items in the sandbox NetSuite; the ERP tests
// (test/erp/) run with the configuration as it ships.
const { vars } = unstable_readConfig({ config: "./wrangler.toml" });
const ERP = vars.ERP as Record<string, unknown>;

function workerProject(name: string, include: string[], bindings: Record<string, unknown>) {
	return defineProject({
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
							bindings: SANDBOX_SECRETS,
						},
					],
					bindings: {
						...APP_SECRETS,
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
							concurrency: { "3pl:shipbob": 5, "channel:shopify-demo": 16, "erp:netsuite": 5 },
						},
						...bindings,
					},
				},
			}),
		],
		test: {
			name,
			include,
			setupFiles: ["./test/setup.ts"],
			testTimeout: 30_000,
		},
	});
}

const worker = workerProject("worker", ["test/*.test.ts"], { ERP: { ...ERP, connections: {} } });
const erp = workerProject("erp", ["test/erp/*.test.ts"], {});

const console = defineProject({
	test: {
		name: "console",
		include: ["test/console/**/*.test.{ts,tsx}"],
		environment: "node",
		testTimeout: 30_000,
	},
});

// What `npm run deploy` would upload, built offline (Node: it runs wrangler).
const build = defineProject({
	test: {
		name: "build",
		include: ["test/build/*.test.ts"],
		environment: "node",
		testTimeout: 150_000,
	},
});

export default defineConfig({
	test: {
		projects: [worker, erp, console, build],
		reporters: ["default", "./test/summary-reporter.ts"],
		// One file at a time: the sandbox of peers is shared, the fault test turns chaos on for
		// everyone, and the console's end-to-end test runs a worker of its own beside them.
		fileParallelism: false,
		// The worker's structured log lines stay out of the report (test/metrics-logs.test.ts reads
		// them itself); its errors, and anything else printed, still show.
		onConsoleLog: (line) => !/^\{"level":"(info|debug|warn)"/.test(line),
	},
});
