import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with the real wrangler.toml; secrets are test-only values.
export default defineConfig({
	plugins: [
		cloudflareTest({
			wrangler: { configPath: "./wrangler.toml" },
			miniflare: {
				bindings: {
					SHOPIFY_DEMO_SECRET: "test-shopify-secret",
					SHOPIFY_OUTLET_SECRET: "test-outlet-secret",
					OPS_TOKEN: "test-ops-token-0123456789",
				},
			},
		}),
	],
	test: {
		include: ["test/**/*.test.ts"],
		reporters: ["default", "./test/summary-reporter.ts"],
		testTimeout: 30_000,
	},
});
