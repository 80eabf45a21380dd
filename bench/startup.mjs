// Start-up cost of the deploy bundle: `wrangler deploy --dry-run` builds exactly what `npm run
// deploy` uploads; each run then loads it in a fresh Node process (V8, like workerd) with
// `cloudflare:workers` stubbed, and times parsing, compiling and running its global scope — the
// work Cloudflare counts against a Worker's start-up limit. Usage: npm run bench:startup
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const RUNS = 9;
const outdir = mkdtempSync(join(tmpdir(), "ordersync-startup-"));
try {
	execFileSync(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--outdir", outdir], {
		env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
		stdio: "ignore",
	});
	const bundle = readFileSync(join(outdir, "index.js"), "utf8");
	const stub = `data:text/javascript,${encodeURIComponent("export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } } export class WorkerEntrypoint {} export const env = {};")}`;
	const script = join(outdir, "node-index.mjs");
	writeFileSync(script, bundle.replaceAll('"cloudflare:workers"', JSON.stringify(stub)));
	const probe = `const t = performance.now(); await import(${JSON.stringify(script)}); process.stdout.write(String(performance.now() - t));`;
	const times = Array.from({ length: RUNS }, () => Number(execFileSync(process.execPath, ["--input-type=module", "-e", probe], { encoding: "utf8" }))).sort((a, b) => a - b);
	const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
	console.log(`deploy bundle: ${kib(Buffer.byteLength(bundle))}, ${kib(gzipSync(bundle).byteLength)} gzipped`);
	console.log(`global scope (parse, compile, evaluate), ${RUNS} fresh processes: median ${times[RUNS >> 1].toFixed(1)} ms, max ${times.at(-1).toFixed(1)} ms`);
} finally {
	rmSync(outdir, { recursive: true, force: true });
}
