import { defineConfig } from "vitest/config";

// The console is a Node program: its tests run in Node, not workerd.
export default defineConfig({
	test: {
		include: ["test/console/**/*.test.{ts,tsx}"],
		environment: "node",
		testTimeout: 30_000,
	},
});
