// The non-interactive subcommands: compact text for people, the worker's own data with --json,
// and an exit code that says what happened (see EXIT in args.ts).
import { readFile } from "node:fs/promises";
import { OpsClient, type ReplayOutcome } from "./api";
import { EXIT, type Command } from "./args";
import { erpStatusText, feeBreakdown, feeTotal, formatAmount, formatDate, lineStatusText, matchedText } from "./format";
import { orderedOf } from "./order-lines";
import { OpsError } from "./ports";
import type { Delivery, FlowEvent, OrderView, PayoutItem, PayoutReport, PayoutSync, SkuDetail, SweepList, SweepRun } from "./protocol";
import { FlowStream } from "./stream";

export type Output = { out(text: string): void; err(text: string): void };

export const stdio: Output = {
	out: (text) => void process.stdout.write(`${text}\n`),
	err: (text) => void process.stderr.write(`${text}\n`),
};

/** Runs one subcommand; returns its exit code. */
export async function runCommand(command: Exclude<Command, { name: "console" }>, options: { url: string; token: string; json: boolean }, io: Output = stdio): Promise<number> {
	const ops = new OpsClient(options.url, options.token);
	const print = (data: unknown, text: () => string) => io.out(options.json ? JSON.stringify(data, null, 2) : text());
	try {
		switch (command.name) {
			case "flows": {
				const page = command.after === null ? await latest(ops, command.limit) : await ops.flows(command.after, command.limit);
				if (!command.follow) {
					print(page, () => page.events.map(flowLine).join("\n") || "no flow events");
					return EXIT.ok;
				}
				for (const event of page.events) io.out(options.json ? JSON.stringify(event) : flowLine(event));
				return await follow(options, page.cursor, io);
			}
			case "order": {
				const view = await ops.order(command.id);
				print(view, () => orderText(view));
				return EXIT.ok;
			}
			case "sku": {
				const detail = await ops.sku(command.sku);
				print(detail, () => skuText(detail));
				return EXIT.ok;
			}
			case "exceptions": {
				const items = (await ops.exceptions(command.status)).filter((e) => command.kind === null || e.kind === command.kind);
				print({ items }, () =>
					items.length === 0
						? `no ${command.status === "all" ? "" : `${command.status} `}exceptions`
						: table([["ID", "KIND", "ORDER", "STATUS", "TRIES", "UPDATED", "REASON"], ...items.map((e) => [e.id, e.kind, e.orderName ?? "—", e.status, String(e.attempts), time(e.updatedAt), e.reason])]),
				);
				return EXIT.ok;
			}
			case "replay":
				return await replay(ops, command, options.json, io);
			case "payouts":
				return await payouts(ops, command, options.json, io);
			case "payout": {
				const report = await ops.payout(command.connection, command.payoutId);
				print(report, () => payoutText(report));
				return EXIT.ok;
			}
			case "sweeps": {
				const list = await ops.sweeps(command.runs);
				print(list, () => sweepsText(list, command.runs));
				return EXIT.ok;
			}
			case "sweep": {
				// A run that failed exits 1 like a refused one (already running, rate limited).
				const run = await ops.runSweep(command.connection);
				print(run, () => runText(command.connection, run));
				return run.status === "failed" ? EXIT.failed : EXIT.ok;
			}
		}
	} catch (error) {
		if (!(error instanceof OpsError)) throw error;
		io.err(`ordersync: ${error.message}`);
		return exitFor(error.status);
	}
}

export function exitFor(status: number): number {
	if (status === 0) return EXIT.unreachable;
	if (status === 401 || status === 403) return EXIT.unauthorized;
	if (status === 404) return EXIT.notFound;
	return EXIT.failed;
}

/** The newest `limit` kept events: the log is read from its start, at most 1,000 a page. */
async function latest(ops: OpsClient, limit: number) {
	let page = await ops.flows(0, 1000);
	let events = page.events;
	while (page.events.length > 0) {
		page = await ops.flows(page.cursor, 1000);
		events = [...events, ...page.events].slice(-limit);
	}
	return { events: events.slice(-limit), cursor: page.cursor };
}

/** `flows --follow`: prints events as they come (NDJSON with --json) until interrupted. */
function follow(options: { url: string; token: string; json: boolean }, after: number, io: Output): Promise<number> {
	return new Promise((resolve) => {
		const stream = new FlowStream(options.url, options.token, { after });
		const stop = (code: number) => {
			stream.close();
			resolve(code);
		};
		stream.subscribe({
			events: (events) => {
				for (const event of events) io.out(options.json ? JSON.stringify(event) : flowLine(event));
			},
			gap: (from, until) => io.err(`ordersync: events ${from + 1}–${until} were pruned before they could be shown`),
			status: (status) => {
				if (status.state === "reconnecting") io.err(`ordersync: ${status.reason}; reconnecting in ${(status.retryInMs / 1000).toFixed(1)} s`);
				if (status.state === "refused") {
					io.err(`ordersync: ${status.reason}`);
					stop(EXIT.unauthorized);
				}
			},
		});
		process.once("SIGINT", () => stop(EXIT.ok));
		process.once("SIGTERM", () => stop(EXIT.ok));
	});
}

/** Replays each id in turn (or every open exception matching --kind/--text), reporting each. */
async function replay(ops: OpsClient, command: Extract<Command, { name: "replay" }>, json: boolean, io: Output): Promise<number> {
	const ids = command.all
		? (await ops.exceptions("open"))
				.filter((e) => e.kind === command.kind && (!command.text || e.reason.includes(command.text) || (e.orderKey ?? "").includes(command.text)))
				.map((e) => e.id)
		: command.ids;
	const results: ReplayOutcome[] = [];
	for (const id of ids) {
		const result = await ops.replayOutcome(id);
		results.push(result);
		if (!json) io.out(result.ok ? `ok    ${id}  ${result.status}${result.order ? ` (${result.order})` : ""}` : `fail  ${id}  ${result.httpStatus || "unreachable"} ${result.code}: ${result.message}`);
	}
	if (json) io.out(JSON.stringify(results, null, 2));
	else if (ids.length === 0) io.out("nothing to replay");
	const failures = results.filter((r) => !r.ok);
	if (failures.length === 0) return EXIT.ok;
	for (const failure of failures) if (json) io.err(`ordersync: ${failure.id}: ${failure.message}`);
	// One id, or every failure for the same reason the whole run would fail (token, network): say which.
	const codes = new Set(failures.map((f) => exitFor(f.httpStatus)));
	const [only] = codes;
	if (results.length === 1 || (codes.size === 1 && failures.length === results.length && (only === EXIT.unauthorized || only === EXIT.unreachable))) return only!;
	return EXIT.failed;
}

/** The payouts list, or a sync from the channel, or an Amazon settlement report sent in. */
async function payouts(ops: OpsClient, command: Extract<Command, { name: "payouts" }>, json: boolean, io: Output): Promise<number> {
	const print = (data: unknown, text: () => string) => io.out(json ? JSON.stringify(data, null, 2) : text());
	switch (command.action) {
		case "list": {
			const items = await ops.payouts(command.limit);
			print({ items }, () => (items.length === 0 ? "no payouts" : payoutsTable(items)));
			return EXIT.ok;
		}
		case "sync": {
			const result = await ops.syncPayouts(command.connection, command.payoutId !== null ? { payoutId: command.payoutId } : { since: command.since! });
			print(result, () => syncText(result, command.since));
			return result.results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
		}
		case "upload": {
			let report: Uint8Array;
			try {
				report = await readFile(command.file);
			} catch (error) {
				const code = (error as NodeJS.ErrnoException).code;
				io.err(`ordersync: cannot read ${command.file}${code ? ` (${code})` : ""}`);
				return EXIT.usage;
			}
			// Sent as the bytes it is: the worker says whether it is UTF-8 and where a line is wrong.
			const result = await ops.uploadAmazonReport(command.connection, report);
			print(result, () => `${result.status === "duplicate" ? "duplicate: this report was already in, nothing changed\n" : ""}${payoutText(result.report)}`);
			return EXIT.ok;
		}
	}
}

// ---------------------------------------------------------------- text

function time(iso: string | null | undefined): string {
	return iso ? iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "—";
}

export function flowLine(e: FlowEvent): string {
	const subject = [e.orderName ?? e.orderKey, e.sku].filter(Boolean).join(" ");
	return [time(e.at), String(e.cursor).padStart(6), e.type.padEnd(16), subject, e.status ? `[${e.status}]` : "", e.detail ?? ""].filter(Boolean).join("  ");
}

const money = formatAmount;

/** Columns padded to their widest cell (`right`: these columns aligned right, for amounts); the last one is left as long as it is. */
export function table(rows: string[][], right: readonly number[] = []): string {
	const widths: number[] = [];
	for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
	const pad = (cell: string, i: number, last: boolean) => (right.includes(i) ? cell.padStart(widths[i]!) : last ? cell : cell.padEnd(widths[i]!));
	return rows.map((row) => row.map((cell, i) => pad(cell, i, i === row.length - 1)).join("  ").trimEnd()).join("\n");
}

function section(title: string, rows: string[][], right: readonly number[] = []): string[] {
	return rows.length <= 1 ? [] : [title, indent(table(rows, right))];
}

const indent = (text: string) => text.replace(/^/gm, "  ");

function orderText(v: OrderView): string {
	const o = v.order;
	const head = [`order ${v.key}`, o?.channelOrderName, v.status ?? "no status", v.idle ? "" : "(working)"].filter(Boolean).join("  ");
	return [
		head,
		...(o ? [`  ${o.channel} · ${o.lines.length} line${o.lines.length === 1 ? "" : "s"} · total ${money(o.total)}`] : []),
		...section("lines", [
			["LINE", "SKU", "ORDERED", "RESERVED", "BACKORDERED", "COMMITTED", "SHIPPED", "ERROR"],
			...v.lines.map((l) => [l.lineId, l.sku, String(orderedOf(l, o?.lines ?? []).ordered), String(l.reserved), String(l.backordered), String(l.committed), String(l.shipped), l.lastError ?? (l.pending ? "pending" : "")]),
		]),
		...section("routes", [["REFERENCE", "LOCATION", "3PL", "STATUS", "EXTERNAL ID"], ...v.routes.map((r) => [r.referenceId, r.location, r.threePl, r.status, r.externalId ?? "—"])]),
		...section("shipments", [
			["SHIPMENT", "LOCATION", "CARRIER", "TRACKING", "STATUS", "SHIPPED"],
			...v.shipments.map((s) => [s.shipmentId, s.location ?? "—", s.carrier ?? "—", s.trackingNumber ?? "—", s.trackingStatus ?? "—", time(s.shippedAt)]),
		]),
		...section("deliveries", [
			["DELIVERY", "DESTINATION", "STATUS", "TRIES", "NEXT", "LAST ERROR"],
			...deliveryCells(v.deliveries),
		]),
		...section("events", [["SEQ", "AT", "SOURCE", "TYPE", "OUTCOME"], ...v.events.map((e) => [String(e.seq), time(e.at), e.source, e.type, e.outcome ?? ""])]),
	].join("\n");
}

function skuText(s: SkuDetail): string {
	const channels = Object.entries(s.channels).map(([c, n]) => `${c} ${n}`).join(" · ");
	const signed = (n: number) => (n > 0 ? `+${n}` : String(n));
	const open = s.reservations.filter((r) => r.status === "open");
	return [
		`sku ${s.sku}  available ${s.available} · on hand ${s.onHand} · reserved ${s.reserved}`,
		...(channels ? [`  per channel: ${channels}`] : []),
		...section("locations", [["LOCATION", "ON HAND", "AS OF", "SOURCE"], ...s.locations.map((l) => [l.location, String(l.onHand), time(l.asOf), l.source])]),
		// A busy SKU has hundreds of settled reservations: the open ones matter (--json has them all).
		...section(`reservations (${open.length} open of ${s.reservations.length})`, [["ORDER", "LINE", "REQUESTED", "HELD"], ...open.map((r) => [r.orderKey, r.lineId, String(r.requested), String(r.quantity)])]),
		...section("backorders", [["#", "ORDER", "LINE", "WAITING"], ...s.backorders.map((b) => [String(b.position), b.orderKey, b.lineId, String(b.waiting)])]),
		...section("audit (latest 10)", [
			["SEQ", "AT", "KIND", "LOCATION", "ON HAND", "RESERVED"],
			...s.audit.slice(0, 10).map((a) => [String(a.seq), time(a.at), a.kind, a.location ?? "—", `${a.onHandAfter} (${signed(a.onHandDelta)})`, `${a.reservedAfter} (${signed(a.reservedDelta)})`]),
		]),
	].join("\n");
}

const deliveryCells = (deliveries: readonly Delivery[]) => deliveries.map((d) => [d.id, d.destination, d.status, String(d.attempts), time(d.nextAttemptAt), d.lastError ?? ""]);

function payoutsTable(items: PayoutItem[]): string {
	return table(
		[
			["CHANNEL", "CONNECTION", "PAYOUT", "PAID", "TOTAL", "NET", "STATUS", "MATCHED", "EXCEPTIONS"],
			...items.map((p) => {
				const m = (amount: number) => money({ amount, currency: p.currency });
				return [p.channel, p.connection, p.payoutId, formatDate(p.paidAt), m(p.total), p.summary ? m(p.summary.net) : "—", p.status, p.summary ? matchedText(p.summary.matched) : "—", String(p.exceptions)];
			}),
		],
		[4, 5],
	);
}

/** What the line is about: its order (by name when known), a refund of one, or its kind. */
const lineOrder = (l: PayoutReport["lines"][number]) => l.orderName ?? l.channelOrderId ?? "—";

export function payoutText(r: PayoutReport): string {
	const m = (amount: number) => money({ amount, currency: r.currency });
	const s = r.summary;
	const period = r.periodStart || r.periodEnd ? ` · period ${formatDate(r.periodStart)} – ${formatDate(r.periodEnd)}` : "";
	const totals: string[][] = s
		? [
				["gross sales", m(s.grossSales)],
				["refunds", m(s.refunds)],
				["fees", m(feeTotal(s.fees))],
				...feeBreakdown(s.fees).map((f) => [`  ${f.label}`, m(f.amount)]),
				["adjustments", m(s.adjustments)],
				["net", m(s.net)],
				["total paid", m(r.total)],
				["matched", matchedText(s.matched)],
				["variance", m(s.variance)],
			]
		: [
				["total paid", m(r.total)],
				["still matching: no totals yet", ""],
			];
	return [
		`payout ${r.payoutKey}  ${r.channel}  ${r.status} · ERP ${erpStatusText(r.erp)[0]}`,
		`  paid ${formatDate(r.paidAt)}${period} · via ${r.via} · received ${time(r.receivedAt)}${r.reconciledAt ? ` · reconciled ${time(r.reconciledAt)}` : ""}`,
		"totals",
		indent(table(totals, [1])),
		...(r.exceptions.length === 0 ? ["exceptions: none"] : section(`exceptions (${r.exceptions.length})`, [["LINE", "VARIANCE", "REASON"], ...r.exceptions.map((e) => [e.id, m(e.variance), e.reason])], [1])),
		...section(
			`lines (${r.lines.length})`,
			[
				["LINE", "KIND", "ORDER", "STATUS", "AMOUNT", "FEES", "NET", "EXPECTED", "VARIANCE"],
				...r.lines.map((l) => [l.id, l.kind, lineOrder(l), lineStatusText(l.status)[0], m(l.amount), m(l.fees), m(l.net), l.expected === undefined ? "—" : m(l.expected), l.variance === 0 ? "—" : m(l.variance)]),
			],
			[4, 5, 6, 7, 8],
		),
		`erp: ${erpStatusText(r.erp)[0]}`,
		...section("deliveries", [["DELIVERY", "DESTINATION", "STATUS", "TRIES", "NEXT", "LAST ERROR"], ...deliveryCells(r.deliveries)]),
	].join("\n");
}

function syncText(result: PayoutSync, since: string | null): string {
	if (result.total === 0) return since ? `no payouts paid since ${time(since)}` : "no payouts";
	const lines = result.results.map((r) => {
		if (!r.ok) return `fail  ${r.payoutId}  ${r.error ?? "failed"}`;
		const exceptions = r.exceptions === undefined ? "" : ` · ${r.exceptions} exception${r.exceptions === 1 ? "" : "s"}`;
		return `ok    ${r.payoutId}  ${r.status ?? "reconciled"}${r.summary ? `  matched ${matchedText(r.summary.matched)}` : ""}${exceptions}`;
	});
	return [...lines, `reconciled ${result.reconciled} of ${result.total} payout${result.total === 1 ? "" : "s"}`].join("\n");
}

function driftText(drift: SweepRun["drift"]): string {
	if (!drift) return "not checked";
	const base = `${drift.drifted.length} of ${drift.checked} drifted, ${drift.repushed} pushed again`;
	return drift.error ? `${base} (${drift.error})` : base;
}

function sweepOutcome(run: SweepRun): string {
	if (run.status === "rate_limited") return `rate limited, goes on at ${time(run.retryAt)}`;
	if (run.status === "failed") return `failed: ${run.error ?? "?"}`;
	if (run.status === "partial") return "partial: page cap reached, the next run goes on";
	return run.status;
}

/** One row per connection, then (with --runs above 1) each connection's recent runs. */
function sweepsText(list: SweepList, runs: number): string {
	const rows = [["CONNECTION", "CHANNEL", "CURSOR", "LAST RUN", "READ", "RECOVERED", "UPDATED", "DRIFTED", "STATUS"]];
	for (const item of list.items) {
		if (item.skipped) {
			rows.push([item.connection, item.channel, "—", "—", "", "", "", "", `not swept: ${item.skipped}`]);
			continue;
		}
		const last = item.lastRun;
		const status = item.running ? "running" : last ? sweepOutcome(last) : "never run";
		rows.push([
			item.connection,
			item.channel,
			time(item.cursor),
			last ? `${time(last.startedAt)} (${last.trigger})` : "—",
			last ? String(last.ordersSeen) : "",
			last ? String(last.recovered) : "",
			last ? String(last.updated) : "",
			last?.drift ? String(last.drift.drifted.length) : "",
			status,
		]);
	}
	const lines = [table(rows, [4, 5, 6, 7])];
	if (runs > 1) {
		for (const item of list.items) {
			if (!item.runs?.length) continue;
			const history = [["RUN", "STARTED", "TRIGGER", "PAGES", "READ", "RECOVERED", "DUPLICATES", "STATUS"]];
			for (const run of item.runs) history.push([String(run.id), time(run.startedAt), run.trigger, String(run.pages), String(run.ordersSeen), String(run.recovered), String(run.duplicates), sweepOutcome(run)]);
			lines.push("", item.connection, indent(table(history, [0, 3, 4, 5, 6])));
		}
	}
	return lines.join("\n");
}

/** One run: its window, what it read and recovered, the stock check, and where the cursor is. */
function runText(connection: string, run: SweepRun): string {
	const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
	const recovered = run.recoveredOrders.length > 0 ? `: ${run.recoveredOrders.join(", ")}${run.recovered > run.recoveredOrders.length ? ", …" : ""}` : "";
	return [
		`sweep ${connection}  run ${run.id} (${run.trigger})  ${sweepOutcome(run)}`,
		`  window     ${run.window ? `${time(run.window.from)} – ${time(run.window.until)}` : "—"}`,
		`  read       ${plural(run.ordersSeen, "order")} on ${plural(run.pages, "page")}`,
		`  recovered  ${run.recovered}${recovered}`,
		`  updated    ${run.updated} known order${run.updated === 1 ? "" : "s"} brought up to a version whose webhook never came`,
		`  known      ${run.duplicates} already in, ${run.stale} older than held${run.failed > 0 ? `, ${run.failed} unreadable (set aside)` : ""}`,
		`  stock      ${driftText(run.drift)}`,
		`  cursor     ${time(run.nextCursor)}`,
	].join("\n");
}
