import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { loadConfig } from "../../worker/config";
import type { Env } from "../../worker/env";

// What `npm run deploy -- --env staging|production` would upload, and whether each environment's
// configuration would load once its secrets are put: a deploy that builds but answers every
// request with invalid_config is caught here, not by a brand's first webhook.

const ENVIRONMENTS = ["staging", "production"] as const;
const top = unstable_readConfig({ config: "./wrangler.toml" });
const outdir = mkdtempSync(join(tmpdir(), "ordersync-env-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** The environment's vars, with OPS_TOKEN and every secret they name (`secret`, `…Secret`) set, each to its own value. */
function withSecrets(vars: Record<string, unknown>): Env {
	const names = new Set(["OPS_TOKEN"]);
	const walk = (value: unknown): void => {
		if (Array.isArray(value)) value.forEach(walk);
		else if (value && typeof value === "object") {
			for (const [key, inner] of Object.entries(value)) {
				if ((key === "secret" || key.endsWith("Secret")) && typeof inner === "string") names.add(inner);
				else walk(inner);
			}
		}
	};
	walk(vars);
	return { ...vars, ...Object.fromEntries([...names].map((name) => [name, `secret-for-${name}-0123456789`])) } as Env;
}

describe.each(ENVIRONMENTS)("the %s environment", (name) => {
	const config = unstable_readConfig({ config: "./wrangler.toml", env: name });

	it("binds every Durable Object class and the rate limiter the top level binds, and shares its migrations", () => {
		const classes = (c: typeof config) => c.durable_objects.bindings.map((b: { name: string; class_name: string }) => `${b.name}=${b.class_name}`).sort();
		expect(classes(config)).toEqual(classes(top));
		const limiters = (c: typeof config) => (c.ratelimits ?? []).map((r: { name: string }) => r.name);
		expect(limiters(config)).toEqual(limiters(top));
		expect(config.migrations).toEqual(top.migrations);
		expect(config.triggers.crons).toEqual(top.triggers.crons);
	});

	it("loads as ordersync's configuration once its secrets are put, and talks to no local sandbox", () => {
		const loaded = loadConfig(withSecrets(config.vars as Record<string, unknown>));
		expect(loaded.connections.size).toBeGreaterThan(0);
		expect(JSON.stringify(config.vars)).not.toMatch(/127\.0\.0\.1|localhost/);
	});

	it("builds with wrangler deploy --dry-run", async () => {
		const { stdout } = await promisify(execFile)(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--env", name, "--outdir", join(outdir, name)], {
			env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
			timeout: 120_000,
		});
		expect(stdout).toContain("--dry-run: exiting now.");
		expect(stdout).toContain("env.CHANNEL_SWEEP");
	}, 150_000);
});
