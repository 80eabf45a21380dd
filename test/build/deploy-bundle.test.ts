import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";

// `wrangler deploy --dry-run` builds exactly what `npm run deploy` would upload, without an
// account or network: proof in CI that the bundle builds, and how far it is from Workers' limits
// (after compression: 3 MB on the Free plan, 10 MB on Paid).

const FREE_PLAN_GZIP_BYTES = 3 * 1024 * 1024;
const outdir = mkdtempSync(join(tmpdir(), "ordersync-dist-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("the deploy bundle", () => {
	it("builds with wrangler deploy --dry-run and fits the Free plan's size limit", async () => {
		const { stdout } = await promisify(execFile)(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--outdir", outdir], {
			env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
			timeout: 120_000,
		});
		expect(stdout).toContain("--dry-run: exiting now.");
		// Every Durable Object class the worker declares is bound, so a deploy migrates each of them.
		for (const binding of ["ORDER_FLOW", "SKU_LEDGER", "FLOW_MONITOR", "DELIVERY_GATE", "PARCEL", "TRADING_PARTNER", "SETTLEMENT"]) expect(stdout).toContain(`env.${binding}`);
		const bundle = readFileSync(join(outdir, "index.js"));
		const gzipped = gzipSync(bundle).byteLength;
		console.log(`deploy bundle: ${(bundle.byteLength / 1024).toFixed(0)} KiB, ${(gzipped / 1024).toFixed(0)} KiB gzipped (Free plan limit ${FREE_PLAN_GZIP_BYTES / 1024} KiB)`);
		expect(gzipped).toBeLessThan(FREE_PLAN_GZIP_BYTES);
	}, 150_000);
});
