// The command line: which subcommand, its arguments and flags, and the worker to talk to.
import { parseArgs } from "node:util";

export const DEFAULT_URL = "http://127.0.0.1:8787";

export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, unauthorized: 4, unreachable: 5 } as const;

export const HELP = `ordersync — the operator console for an ordersync worker

Usage:
  ordersync [console]              the interactive console (live flows, orders, SKUs, exceptions)
  ordersync flows                  recent flow events, oldest first
  ordersync order <key|name>       one order: shopify-demo:6100000001, or its name (#1001 or 1001)
  ordersync sku <sku>              stock, reservations and backorders of one SKU
  ordersync exceptions             open quarantines, dead letters and unroutable orders
  ordersync replay <id…>           replay quarantined webhooks / retry dead letters by exception id
  ordersync replay --all --kind K  … every open exception of kind K (and with --text T in it)
  ordersync payouts                payouts (Shopify, TikTok Shop, Amazon), latest first, as reconciled
  ordersync payout <conn> <id>     one payout's report: totals, exceptions, lines, ERP postings
                                   (also: payout <connection>:<payout id>)
  ordersync payouts sync <conn> --payout <id> | --since <date>
                                   fetch payouts from the channel and reconcile them (operator)
  ordersync payouts upload <conn> <file.tsv>
                                   reconcile an Amazon V2 settlement report (operator)
  ordersync sweeps                 each connection's sweep: cursor, last run, what it recovered
                                   (sweeps find orders whose webhooks never came, stock that drifted)
  ordersync sweeps --runs <n>      … and its last n runs (1–50)
  ordersync sweep <connection>     sweep one connection now and print the run (operator)

Options:
  --url <url>        the worker (default: $ORDERSYNC_URL, else ${DEFAULT_URL})
  --token <token>    ops token (default: $ORDERSYNC_TOKEN); a read-only token can look, not replay
  --json             print the worker's data as JSON instead of text
  -h, --help         this help
  flows:       --limit <n> (default 50)  --after <cursor> (from there; else the latest)
               --follow (then keep printing new ones; with --json one event per line)
  exceptions:  --status open|resolved|all (default open)  --kind <kind>
  replay:      --all  --kind <kind>  --text <text>
  payouts:     --limit <n> (default 100)
               sync: --payout <id> (that payout), or --since <date> (every payout paid
               since then: 2026-01-01 or 2026-01-01T00:00:00Z)
  sweeps:      --runs <n> (default 1)

Exit codes:
  0 ok · 1 the operation failed (e.g. a replay or a sweep was refused, a sweep run failed, a
  settlement report was invalid, or some of several failed) · 2 usage error (or a file that
  cannot be read) · 3 not found · 4 unauthorized or forbidden (401/403) · 5 worker unreachable

In the console press ? for its keys, q to quit.`;

export type ExceptionStatus = "open" | "resolved" | "all";

export type Command =
	| { name: "console" }
	| { name: "flows"; after: number | null; limit: number; follow: boolean }
	| { name: "order"; id: string }
	| { name: "sku"; sku: string }
	| { name: "exceptions"; status: ExceptionStatus; kind: string | null }
	| { name: "replay"; ids: string[]; all: boolean; kind: string | null; text: string | null }
	| { name: "payouts"; action: "list"; limit: number }
	/** One payout (`payoutId`), or every payout paid since `since` (an ISO 8601 UTC time). */
	| { name: "payouts"; action: "sync"; connection: string; payoutId: string | null; since: string | null }
	| { name: "payouts"; action: "upload"; connection: string; file: string }
	| { name: "payout"; connection: string; payoutId: string }
	/** Each connection's reconciliation sweep, with its last `runs` runs. */
	| { name: "sweeps"; runs: number }
	| { name: "sweep"; connection: string };

export type Invocation = { help: true } | { help: false; command: Command; url: string; token: string; json: boolean };

export class UsageError extends Error {}

const OPTIONS = {
	help: { type: "boolean", short: "h" },
	json: { type: "boolean" },
	url: { type: "string" },
	token: { type: "string" },
	after: { type: "string" },
	limit: { type: "string" },
	follow: { type: "boolean" },
	status: { type: "string" },
	kind: { type: "string" },
	text: { type: "string" },
	all: { type: "boolean" },
	payout: { type: "string" },
	since: { type: "string" },
	runs: { type: "string" },
} as const;

/** Which subcommands take which of the subcommand-specific flags. */
const FLAGS_OF: Record<Command["name"], string[]> = {
	console: [],
	flows: ["after", "limit", "follow"],
	order: [],
	sku: [],
	exceptions: ["status", "kind"],
	replay: ["all", "kind", "text"],
	payouts: ["limit", "payout", "since"],
	payout: [],
	sweeps: ["runs"],
	/** Refused by `sweep` itself, with its own word, as payouts sync and upload refuse --limit. */
	sweep: ["runs"],
};
const COMMON = new Set(["help", "json", "url", "token"]);

export function parseInvocation(argv: string[], env: Record<string, string | undefined>): Invocation {
	let parsed;
	try {
		parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
	} catch (error) {
		// node:util's messages go on to explain `--`; the first sentence is the news.
		throw new UsageError(`${(error instanceof Error ? error.message : String(error)).split(/\.\s|\n/)[0]} (try --help)`);
	}
	const { values, positionals } = parsed;
	if (values.help) return { help: true };
	const [name = "console", ...rest] = positionals;
	if (!(name in FLAGS_OF)) throw new UsageError(`unknown command ${name} (try --help)`);
	const commandName = name as Command["name"];
	for (const flag of Object.keys(values)) {
		if (!COMMON.has(flag) && !FLAGS_OF[commandName].includes(flag)) throw new UsageError(`--${flag} does not apply to ${commandName}`);
	}
	const command = buildCommand(commandName, rest, values);
	const url = values.url ?? env.ORDERSYNC_URL ?? DEFAULT_URL;
	if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url must be an http:// or https:// address, not ${url}`);
	const token = values.token ?? env.ORDERSYNC_TOKEN;
	if (!token) throw new UsageError("no token: pass --token or set ORDERSYNC_TOKEN");
	if (command.name === "console" && values.json) throw new UsageError("--json is for the subcommands, not the console");
	return { help: false, command, url, token, json: values.json ?? false };
}

type Values = { after?: string; limit?: string; follow?: boolean; status?: string; kind?: string; text?: string; all?: boolean; payout?: string; since?: string; runs?: string };

function buildCommand(name: Command["name"], args: string[], values: Values): Command {
	const one = (what: string): string => {
		if (args.length !== 1 || !args[0]) throw new UsageError(`${name} takes one ${what}`);
		return args[0];
	};
	switch (name) {
		case "console":
			none(name, args);
			return { name };
		case "flows":
			none(name, args);
			return { name, after: values.after === undefined ? null : count("after", values.after, 0), limit: values.limit === undefined ? 50 : count("limit", values.limit, 1, 1000), follow: values.follow ?? false };
		case "order":
			return { name, id: one("order key or name") };
		case "sku":
			return { name, sku: one("SKU") };
		case "exceptions": {
			const status = values.status ?? "open";
			if (status !== "open" && status !== "resolved" && status !== "all") throw new UsageError(`--status must be open, resolved or all, not ${status}`);
			return { name, status, kind: values.kind ?? null };
		}
		case "replay": {
			const all = values.all ?? false;
			if (all && args.length > 0) throw new UsageError("replay takes exception ids or --all, not both");
			if (!all && args.length === 0) throw new UsageError("replay takes one or more exception ids, or --all --kind <kind>");
			if (all && !values.kind) throw new UsageError("replay --all needs --kind <kind> (quarantine, dead-letter, …)");
			if (!all && (values.kind !== undefined || values.text !== undefined)) throw new UsageError("--kind and --text go with replay --all");
			return { name, ids: args, all, kind: values.kind ?? null, text: values.text ?? null };
		}
		case "payouts":
			return payoutsCommand(args, values);
		case "payout": {
			// `payout shopify-demo 105127866449`, or the payout key the list and the stream use.
			const [first = "", second] = args;
			const colon = first.indexOf(":");
			if (args.length === 1 && colon > 0 && colon < first.length - 1) return { name, connection: first.slice(0, colon), payoutId: first.slice(colon + 1) };
			if (args.length !== 2 || !first || !second) throw new UsageError("payout takes a connection and a payout id: payout <connection> <payout id>");
			return { name, connection: first, payoutId: second };
		}
		case "sweeps":
			if (args.length > 0) throw new UsageError(`sweeps takes no arguments (got ${args.join(" ")}); to run one: sweep <connection>`);
			return { name, runs: values.runs === undefined ? 1 : count("runs", values.runs, 1, 50) };
		case "sweep":
			if (values.runs !== undefined) throw new UsageError("--runs does not apply to sweep");
			if (args.length !== 1 || !args[0]) throw new UsageError("sweep takes one connection: sweep <connection>");
			return { name, connection: args[0] };
	}
}

/** `payouts` lists; `payouts sync <connection> --payout <id> | --since <date>`; `payouts upload <connection> <file>`. */
function payoutsCommand(args: string[], values: Values): Command {
	const [action, ...rest] = args;
	const only = (allowed: Array<"limit" | "payout" | "since">, what: string) => {
		for (const flag of ["limit", "payout", "since"] as const) {
			if (values[flag] !== undefined && !allowed.includes(flag)) throw new UsageError(`--${flag} does not apply to ${what}`);
		}
	};
	switch (action) {
		case undefined:
			only(["limit"], "payouts (the list)");
			return { name: "payouts", action: "list", limit: values.limit === undefined ? 100 : count("limit", values.limit, 1, 1000) };
		case "sync": {
			only(["payout", "since"], "payouts sync");
			if (rest.length !== 1 || !rest[0]) throw new UsageError("payouts sync takes one connection: payouts sync <connection> --payout <id> | --since <date>");
			if ((values.payout === undefined) === (values.since === undefined)) throw new UsageError("payouts sync takes --payout <id> or --since <date> (one of them)");
			if (values.payout === "") throw new UsageError("--payout takes a payout id");
			return { name: "payouts", action: "sync", connection: rest[0], payoutId: values.payout ?? null, since: values.since === undefined ? null : isoTime("since", values.since) };
		}
		case "upload":
			only([], "payouts upload");
			if (rest.length !== 2 || !rest[0] || !rest[1]) throw new UsageError("payouts upload takes a connection and a file: payouts upload <connection> <file.tsv>");
			return { name: "payouts", action: "upload", connection: rest[0], file: rest[1] };
		default:
			throw new UsageError(`payouts takes sync or upload, or nothing to list them (got ${args.join(" ")})`);
	}
}

/** A date (midnight UTC) or a date-time with its zone, as the worker's ISO 8601 UTC string. */
function isoTime(flag: string, text: string): string {
	const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text) ? Date.parse(text) : Number.NaN;
	if (Number.isNaN(ms)) throw new UsageError(`--${flag} must be a date (2026-01-01) or a date-time with its zone (2026-01-01T00:00:00Z), not ${text}`);
	return new Date(ms).toISOString();
}

function none(name: string, args: string[]): void {
	if (args.length > 0) throw new UsageError(`${name} takes no arguments (got ${args.join(" ")})`);
}

function count(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
	const n = Number(text);
	if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`--${flag} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? "" : ` to ${max}`}, not ${text}`);
	return n;
}
