// `ordersync sweeps` and `ordersync sweep <connection>`: the reconciliation sweep of each
// connection (GET /ops/sweeps, POST /ops/sweeps/:connection/run), as text or the worker's JSON.
import { parseArgs } from "node:util";
import { z } from "zod";
import { DEFAULT_URL, EXIT, UsageError } from "./args";
import { exitFor, type Output, stdio, table } from "./commands";
import { OpsError } from "./ports";
import { ApiError } from "./protocol";

export const SWEEP_HELP = `Reconciliation sweeps (orders whose webhooks never came, stock that drifted):
  ordersync sweeps                 each connection's sweep: cursor, last run, what it recovered
  ordersync sweeps --runs <n>      … and its last n runs (1–50)
  ordersync sweep <connection>     sweep one connection now and print the run (operator)`;

export type SweepCommand = { name: "sweeps"; runs: number } | { name: "sweep"; connection: string };
export type SweepInvocation = { help: true } | { help: false; command: SweepCommand; url: string; token: string; json: boolean };

/** A run takes as long as its pages and orders: longer than a look-up. */
const RUN_TIMEOUT_MS = 300_000;
const READ_TIMEOUT_MS = 10_000;

const Drift = z.looseObject({ checked: z.number(), drifted: z.array(z.looseObject({ sku: z.string() })), repushed: z.number(), error: z.string().nullish() });
export const SweepRun = z.looseObject({
	id: z.number(),
	trigger: z.string(),
	status: z.string(),
	startedAt: z.string(),
	finishedAt: z.string().nullable(),
	window: z.looseObject({ from: z.string(), until: z.string() }).nullable(),
	pages: z.number(),
	ordersSeen: z.number(),
	recovered: z.number(),
	duplicates: z.number(),
	stale: z.number(),
	failed: z.number(),
	recoveredOrders: z.array(z.string()),
	drift: Drift.nullable(),
	error: z.string().nullable(),
	nextCursor: z.string().nullable(),
	retryAt: z.string().nullable(),
});
export type SweepRun = z.infer<typeof SweepRun>;
const SweepItem = z.looseObject({
	connection: z.string(),
	channel: z.string(),
	skipped: z.string().optional(),
	cursor: z.string().nullish(),
	retryAt: z.string().nullish(),
	running: z.boolean().optional(),
	lastRun: SweepRun.nullish(),
	runs: z.array(SweepRun).optional(),
});
export const SweepList = z.looseObject({ settings: z.looseObject({}).optional(), items: z.array(SweepItem) });
export type SweepList = z.infer<typeof SweepList>;

/** The invocation when the command line is a sweep command, else null (for args.ts to read). */
export function parseSweepInvocation(argv: string[], env: Record<string, string | undefined>): SweepInvocation | null {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			options: { help: { type: "boolean", short: "h" }, json: { type: "boolean" }, url: { type: "string" }, token: { type: "string" }, runs: { type: "string" } },
			allowPositionals: true,
			strict: false,
		});
	} catch {
		return null;
	}
	const [name, ...rest] = parsed.positionals;
	if (name !== "sweeps" && name !== "sweep") return null;
	const values = parsed.values as { help?: boolean; json?: boolean; url?: string | boolean; token?: string | boolean; runs?: string | boolean };
	if (values.help) return { help: true };
	for (const flag of Object.keys(values)) {
		if (!["help", "json", "url", "token", "runs"].includes(flag)) throw new UsageError(`--${flag} does not apply to ${name} (try --help)`);
	}
	for (const flag of ["url", "token", "runs"] as const) {
		if (values[flag] === true) throw new UsageError(`--${flag} takes a value`);
	}
	let command: SweepCommand;
	if (name === "sweeps") {
		if (rest.length > 0) throw new UsageError(`sweeps takes no arguments (got ${rest.join(" ")}); to run one: sweep <connection>`);
		const runs = values.runs === undefined ? 1 : Number(values.runs);
		if (!/^\d+$/.test(String(values.runs ?? "1")) || runs < 1 || runs > 50) throw new UsageError(`--runs must be a whole number from 1 to 50, not ${String(values.runs)}`);
		command = { name, runs };
	} else {
		if (values.runs !== undefined) throw new UsageError("--runs does not apply to sweep");
		if (rest.length !== 1 || !rest[0]) throw new UsageError("sweep takes one connection: sweep <connection>");
		command = { name, connection: rest[0] };
	}
	const url = (values.url as string | undefined) ?? env.ORDERSYNC_URL ?? DEFAULT_URL;
	if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url must be an http:// or https:// address, not ${url}`);
	const token = (values.token as string | undefined) ?? env.ORDERSYNC_TOKEN;
	if (!token) throw new UsageError("no token: pass --token or set ORDERSYNC_TOKEN");
	return { help: false, command, url, token, json: values.json ?? false };
}

/** Runs `sweeps` or `sweep`; returns the exit code (a run that failed, or was refused, exits 1). */
export async function runSweepCommand(command: SweepCommand, options: { url: string; token: string; json: boolean }, io: Output = stdio): Promise<number> {
	const print = (data: unknown, text: () => string) => io.out(options.json ? JSON.stringify(data, null, 2) : text());
	try {
		if (command.name === "sweeps") {
			const list = await call(options, "GET", `/ops/sweeps?runs=${command.runs}`, SweepList, READ_TIMEOUT_MS);
			print(list, () => sweepsText(list, command.runs));
			return EXIT.ok;
		}
		const run = await call(options, "POST", `/ops/sweeps/${encodeURIComponent(command.connection)}/run`, SweepRun, RUN_TIMEOUT_MS);
		print(run, () => runText(command.connection, run));
		return run.status === "failed" ? EXIT.failed : EXIT.ok;
	} catch (error) {
		if (!(error instanceof OpsError)) throw error;
		io.err(`ordersync: ${error.message}`);
		return exitFor(error.status);
	}
}

async function call<S extends z.ZodType>(options: { url: string; token: string }, method: "GET" | "POST", path: string, schema: S, timeoutMs: number): Promise<z.infer<S>> {
	const base = options.url.replace(/\/+$/, "");
	let response: Response;
	let text: string;
	try {
		response = await fetch(`${base}${path}`, { method, headers: { Authorization: `Bearer ${options.token}` }, signal: AbortSignal.timeout(timeoutMs) });
		text = await response.text();
	} catch (error) {
		if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) throw new OpsError(0, "unreachable", `${base} did not answer within ${timeoutMs / 1000} s`);
		const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
		const code = (cause as { code?: unknown } | null)?.code;
		throw new OpsError(0, "unreachable", `cannot reach ${base} (${typeof code === "string" ? code : cause instanceof Error ? cause.message : String(cause)})`);
	}
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		body = undefined;
	}
	if (!response.ok) {
		const api = ApiError.safeParse(body);
		if (api.success) throw new OpsError(response.status, api.data.error.code, api.data.error.message);
		throw new OpsError(response.status, `http_${response.status}`, `${method} ${path} answered ${response.status} ${response.statusText}`.trim());
	}
	const parsed = schema.safeParse(body);
	if (!parsed.success) throw new OpsError(response.status, "invalid_answer", `${method} ${path}: the worker's answer is not what this console expects (${z.prettifyError(parsed.error).split("\n")[0]})`);
	return parsed.data;
}

// ---------------------------------------------------------------- text

function time(iso: string | null | undefined): string {
	return iso ? iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "—";
}

function driftText(drift: SweepRun["drift"]): string {
	if (!drift) return "not checked";
	const base = `${drift.drifted.length} of ${drift.checked} drifted, ${drift.repushed} pushed again`;
	return drift.error ? `${base} (${drift.error})` : base;
}

function outcome(run: SweepRun): string {
	if (run.status === "rate_limited") return `rate limited, goes on at ${time(run.retryAt)}`;
	if (run.status === "failed") return `failed: ${run.error ?? "?"}`;
	if (run.status === "partial") return "partial: page cap reached, the next run goes on";
	return run.status;
}

/** One row per connection, then (with --runs above 1) each connection's recent runs. */
export function sweepsText(list: SweepList, runs: number): string {
	const rows = [["CONNECTION", "CHANNEL", "CURSOR", "LAST RUN", "READ", "RECOVERED", "DRIFTED", "STATUS"]];
	for (const item of list.items) {
		if (item.skipped) {
			rows.push([item.connection, item.channel, "—", "—", "", "", "", `not swept: ${item.skipped}`]);
			continue;
		}
		const last = item.lastRun;
		const status = item.running ? "running" : last ? outcome(last) : "never run";
		rows.push([
			item.connection,
			item.channel,
			time(item.cursor),
			last ? `${time(last.startedAt)} (${last.trigger})` : "—",
			last ? String(last.ordersSeen) : "",
			last ? String(last.recovered) : "",
			last?.drift ? String(last.drift.drifted.length) : "",
			status,
		]);
	}
	const lines = [table(rows, [4, 5, 6])];
	if (runs > 1) {
		for (const item of list.items) {
			if (!item.runs?.length) continue;
			lines.push("", `${item.connection}`);
			const history = [["RUN", "STARTED", "TRIGGER", "PAGES", "READ", "RECOVERED", "DUPLICATES", "STATUS"]];
			for (const run of item.runs) history.push([String(run.id), time(run.startedAt), run.trigger, String(run.pages), String(run.ordersSeen), String(run.recovered), String(run.duplicates), outcome(run)]);
			lines.push(table(history, [0, 3, 4, 5, 6]).replace(/^/gm, "  "));
		}
	}
	return lines.join("\n");
}

/** One run: its window, what it read and recovered, the stock check, and where the cursor is. */
export function runText(connection: string, run: SweepRun): string {
	const lines = [
		`sweep ${connection}  run ${run.id} (${run.trigger})  ${outcome(run)}`,
		`  window     ${run.window ? `${time(run.window.from)} – ${time(run.window.until)}` : "—"}`,
		`  read       ${run.ordersSeen} order${run.ordersSeen === 1 ? "" : "s"} on ${run.pages} page${run.pages === 1 ? "" : "s"}`,
		`  recovered  ${run.recovered}${run.recoveredOrders.length > 0 ? `: ${run.recoveredOrders.join(", ")}${run.recovered > run.recoveredOrders.length ? ", …" : ""}` : ""}`,
		`  known      ${run.duplicates} already in, ${run.stale} older than held${run.failed > 0 ? `, ${run.failed} unreadable (set aside)` : ""}`,
		`  stock      ${driftText(run.drift)}`,
		`  cursor     ${time(run.nextCursor)}`,
	];
	return lines.join("\n");
}
