// `ordersync payouts`, `payout`, `payouts sync` and `payouts upload` against a stubbed fetch: the
// text and --json, what is sent to the worker, and the exit codes (0 ok, 1 failed, 2 usage,
// 3 not found, 4 forbidden, 5 unreachable). The argument errors go through `main`, as typed.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EXIT, parseInvocation, UsageError, type Command } from "../../console/args";
import { main } from "../../console/cli";
import { runCommand } from "../../console/commands";
import { payoutItem, payoutReport } from "./fakes";

const report = payoutReport();
const matching = payoutReport({ payoutKey: "amazon:11223344556", connection: "amazon", channel: "amazon", payoutId: "11223344556", total: 123456789, status: "matching", summary: null, exceptions: [], lines: [], erp: "reconciled", deliveries: [], paidAt: null });

type Sent = { method: string; path: string; type: string | null; body: string | null; auth: string | null };

/** Runs a subcommand against `answer` (by method and path); returns what was printed, sent, and the exit code. */
async function run(command: Exclude<Command, { name: "console" }>, answer: (method: string, path: string) => [number, unknown], json = false) {
	const sent: Sent[] = [];
	vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
		const path = url.slice("http://ordersync.test".length);
		const headers = new Headers(init.headers);
		const body = init.body === undefined || init.body === null ? null : typeof init.body === "string" ? init.body : new TextDecoder().decode(init.body as Uint8Array);
		sent.push({ method: init.method ?? "GET", path, type: headers.get("Content-Type"), body, auth: headers.get("Authorization") });
		const [status, json] = answer(init.method ?? "GET", path);
		return Response.json(json, { status });
	});
	const out: string[] = [];
	const err: string[] = [];
	const io = { out: (text: string) => void out.push(text), err: (text: string) => void err.push(text) };
	const exit = await runCommand(command, { url: "http://ordersync.test", token: "tok", json }, io);
	return { exit, out: out.join("\n"), err: err.join("\n"), sent };
}

const list = () => run({ name: "payouts", action: "list", limit: 100 }, () => [200, { items: [payoutItem(report), payoutItem(matching)] }]);

afterEach(() => {
	vi.unstubAllGlobals();
	vi.restoreAllMocks();
});

describe("ordersync payouts", () => {
	it("lists the payouts as a table, amounts aligned right, in the currency's units", async () => {
		const { exit, out, err, sent } = await list();
		expect(sent).toEqual([{ method: "GET", path: "/ops/settlements?limit=100", type: null, body: null, auth: "Bearer tok" }]);
		expect(out.split("\n")).toEqual([
			"CHANNEL  CONNECTION    PAYOUT        PAID                 TOTAL         NET  STATUS    MATCHED    EXCEPTIONS",
			"shopify  shopify-demo  105127866449  2026-01-05      129.31 USD  129.31 USD  posting   2/4 (50%)  2",
			"amazon   amazon        11223344556   —           1234567.89 USD           —  matching  —          0",
		]);
		expect(err).toBe("");
		expect(exit).toBe(EXIT.ok);
	});

	it("prints the worker's own list with --json", async () => {
		const { exit, out } = await run({ name: "payouts", action: "list", limit: 5 }, () => [200, { items: [payoutItem(report)] }], true);
		expect(JSON.parse(out)).toEqual({ items: [payoutItem(report)] });
		expect(exit).toBe(EXIT.ok);
	});

	it("says so when there are none", async () => {
		expect(await run({ name: "payouts", action: "list", limit: 100 }, () => [200, { items: [] }])).toMatchObject({ exit: EXIT.ok, out: "no payouts" });
	});
});

describe("ordersync payout", () => {
	const one = (json = false) => run({ name: "payout", connection: "shopify-demo", payoutId: "105127866449" }, (_, path) => (path === "/ops/settlements/shopify-demo/105127866449" ? [200, report] : [404, { error: { code: "unknown_payout", message: "no payout" } }]), json);

	it("prints the report: totals with fees by category, exceptions, lines, the ERP and its deliveries", async () => {
		const { exit, out, err } = await one();
		expect(err).toBe("");
		expect(exit).toBe(EXIT.ok);
		expect(out.split("\n")).toEqual([
			"payout shopify-demo:105127866449  shopify  reconciled · ERP posting",
			"  paid 2026-01-05 · period 2026-01-01 – 2026-01-04 · via api · received 2026-01-05 10:00:00 · reconciled 2026-01-05 10:00:01",
			"totals",
			"  gross sales           165.00 USD",
			"  refunds               -20.00 USD",
			"  fees                   -5.69 USD",
			"    payment processing   -5.69 USD",
			"    reserve             -10.00 USD",
			"  adjustments           -10.00 USD",
			"  net                   129.31 USD",
			"  total paid            129.31 USD",
			"  matched                2/4 (50%)",
			"  variance               10.00 USD",
			"exceptions (2)",
			"  LINE   VARIANCE  REASON",
			"  bt_2  -5.00 USD  order #1002 was paid $50.00 of $55.00",
			"  bt_4  15.00 USD  sale bt_4 names order 6100000099, which ordersync does not know",
			"lines (5)",
			"  LINE   KIND     ORDER       STATUS               AMOUNT        FEES         NET    EXPECTED   VARIANCE",
			"  bt_1   order    #1001       matched          100.00 USD   -3.20 USD   96.80 USD  100.00 USD          —",
			"  bt_2   order    #1002       amount mismatch   50.00 USD   -1.75 USD   48.25 USD   55.00 USD  -5.00 USD",
			"  bt_3   refund   #1001       matched          -20.00 USD    0.00 USD  -20.00 USD           —          —",
			"  bt_4   order    6100000099  unknown order     15.00 USD   -0.74 USD   14.26 USD           —  15.00 USD",
			"  adj_1  reserve  —           other              0.00 USD  -10.00 USD  -10.00 USD           —          —",
			"erp: posting",
			"deliveries",
			"  DELIVERY     DESTINATION   STATUS   TRIES  NEXT                 LAST ERROR",
			"  erp.deposit  erp:netsuite  pending  1      2026-01-05 10:01:00  503 Service Unavailable",
		]);
	});

	it("prints the worker's report with --json", async () => {
		const { exit, out } = await one(true);
		expect(JSON.parse(out)).toEqual(report);
		expect(exit).toBe(EXIT.ok);
	});

	it("exits 3 when there is no such payout", async () => {
		const missing = await run({ name: "payout", connection: "shopify-demo", payoutId: "1" }, () => [404, { error: { code: "unknown_payout", message: "no payout shopify-demo:1" } }]);
		expect(missing).toMatchObject({ exit: EXIT.notFound, out: "", err: "ordersync: no payout shopify-demo:1" });
	});

	it("exits 4 on a refused token and 5 when the worker cannot be reached", async () => {
		const refused = await run({ name: "payout", connection: "shopify-demo", payoutId: "1" }, () => [401, { error: { code: "unauthorized", message: "missing or invalid bearer token" } }]);
		expect(refused).toMatchObject({ exit: EXIT.unauthorized, err: "ordersync: missing or invalid bearer token" });
		vi.stubGlobal("fetch", async () => {
			throw new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
		});
		const err: string[] = [];
		const exit = await runCommand({ name: "payouts", action: "list", limit: 100 }, { url: "http://ordersync.test", token: "tok", json: false }, { out: () => {}, err: (t) => void err.push(t) });
		expect(exit).toBe(EXIT.unreachable);
		expect(err).toEqual(["ordersync: cannot reach http://ordersync.test (ECONNREFUSED)"]);
	});
});

describe("ordersync payouts sync", () => {
	const results = {
		total: 2,
		reconciled: 1,
		results: [
			{ payoutId: "105127866449", ok: true, status: "reconciled", summary: report.summary, exceptions: 2 },
			{ payoutId: "105127866450", ok: false, error: "Shopify answered 404 Not Found" },
		],
	};

	it("posts one payout id and reports each payout's outcome; a failed one makes it exit 1", async () => {
		const { exit, out, sent } = await run({ name: "payouts", action: "sync", connection: "shopify-demo", payoutId: "105127866449", since: null }, () => [200, results]);
		expect(sent).toEqual([{ method: "POST", path: "/ops/settlements/shopify-demo/sync", type: "application/json", body: '{"payoutId":"105127866449"}', auth: "Bearer tok" }]);
		expect(out.split("\n")).toEqual([
			"ok    105127866449  reconciled  matched 2/4 (50%) · 2 exceptions",
			"fail  105127866450  Shopify answered 404 Not Found",
			"reconciled 1 of 2 payouts",
		]);
		expect(exit).toBe(EXIT.failed);
	});

	it("posts --since as an ISO time, prints the worker's answer with --json, and exits 0 when all went through", async () => {
		const ok = { total: 1, reconciled: 1, results: [results.results[0]] };
		const { exit, out, sent } = await run({ name: "payouts", action: "sync", connection: "tiktok", payoutId: null, since: "2026-01-01T00:00:00.000Z" }, () => [200, ok], true);
		expect(sent[0]!.body).toBe('{"since":"2026-01-01T00:00:00.000Z"}');
		expect(JSON.parse(out)).toEqual(ok);
		expect(exit).toBe(EXIT.ok);
		const none = await run({ name: "payouts", action: "sync", connection: "tiktok", payoutId: null, since: "2026-01-01T00:00:00.000Z" }, () => [200, { total: 0, reconciled: 0, results: [] }]);
		expect(none).toMatchObject({ exit: EXIT.ok, out: "no payouts paid since 2026-01-01 00:00:00" });
	});

	it("exits 1 with the worker's word when a connection has no payouts to fetch, 3 for an unknown connection, 4 for a read-only token", async () => {
		const sync = (connection: string, status: number, code: string, message: string) =>
			run({ name: "payouts", action: "sync", connection, payoutId: "1", since: null }, () => [status, { error: { code, message } }]);
		expect(await sync("amazon", 409, "upload_required", "Amazon settlements come as V2 flat files")).toMatchObject({ exit: EXIT.failed, err: "ordersync: Amazon settlements come as V2 flat files" });
		expect(await sync("nope", 404, "unknown_connection", "no connection nope")).toMatchObject({ exit: EXIT.notFound, err: "ordersync: no connection nope" });
		expect(await sync("tiktok", 403, "forbidden", "this token can only read")).toMatchObject({ exit: EXIT.unauthorized });
	});
});

describe("ordersync payouts upload", () => {
	const dir = mkdtempSync(join(tmpdir(), "ordersync-upload-"));
	const file = join(dir, "settlement.tsv");
	const tsv = "settlement-id\tsettlement-start-date\ttotal-amount\n11223344556\t2026-01-01\t1234567.89\n";
	writeFileSync(file, tsv);

	it("sends the file as it is, and prints the reconciled report", async () => {
		const { exit, out, sent } = await run({ name: "payouts", action: "upload", connection: "amazon", file }, () => [201, { status: "reconciled", report: matching }]);
		expect(sent).toEqual([{ method: "POST", path: "/ops/settlements/amazon/amazon-report", type: "text/tab-separated-values; charset=utf-8", body: tsv, auth: "Bearer tok" }]);
		expect(out.split("\n").slice(0, 5)).toEqual([
			"payout amazon:11223344556  amazon  matching · ERP not booked",
			"  paid — · period 2026-01-01 – 2026-01-04 · via api · received 2026-01-05 10:00:00 · reconciled 2026-01-05 10:00:01",
			"totals",
			"  total paid                     1234567.89 USD",
			"  still matching: no totals yet",
		]);
		expect(exit).toBe(EXIT.ok);
	});

	it("says when the same report was already in", async () => {
		const { exit, out } = await run({ name: "payouts", action: "upload", connection: "amazon", file }, () => [200, { status: "duplicate", report: matching }]);
		expect(out.split("\n")[0]).toBe("duplicate: this report was already in, nothing changed");
		expect(exit).toBe(EXIT.ok);
	});

	it("exits 1 with the worker's line and column when the report is invalid", async () => {
		const bad = await run({ name: "payouts", action: "upload", connection: "amazon", file }, () => [400, { error: { code: "invalid_report", message: "line 2, column total-amount: not an amount: 1234567.89x" } }]);
		expect(bad).toMatchObject({ exit: EXIT.failed, out: "", err: "ordersync: line 2, column total-amount: not an amount: 1234567.89x" });
	});

	it("exits 2 without calling the worker when the file cannot be read", async () => {
		const missing = await run({ name: "payouts", action: "upload", connection: "amazon", file: join(dir, "nope.tsv") }, () => [500, {}]);
		expect(missing).toMatchObject({ exit: EXIT.usage, out: "", err: `ordersync: cannot read ${join(dir, "nope.tsv")} (ENOENT)`, sent: [] });
	});
});

describe("the payouts command line", () => {
	const env = { ORDERSYNC_TOKEN: "tok" };
	const parse = (...argv: string[]) => {
		const invocation = parseInvocation(argv, env);
		return invocation.help ? null : invocation.command;
	};
	const usage = (...argv: string[]) => {
		try {
			parseInvocation(argv, env);
		} catch (error) {
			if (error instanceof UsageError) return error.message;
			throw error;
		}
		throw new Error(`${argv.join(" ")} parsed`);
	};

	it("reads each form", () => {
		expect(parse("payouts")).toEqual({ name: "payouts", action: "list", limit: 100 });
		expect(parse("payouts", "--limit", "20", "--json")).toEqual({ name: "payouts", action: "list", limit: 20 });
		expect(parse("payout", "shopify-demo", "105127866449")).toEqual({ name: "payout", connection: "shopify-demo", payoutId: "105127866449" });
		expect(parse("payout", "shopify-demo:105127866449")).toEqual({ name: "payout", connection: "shopify-demo", payoutId: "105127866449" });
		expect(parse("payouts", "sync", "shopify-demo", "--payout", "105127866449")).toEqual({ name: "payouts", action: "sync", connection: "shopify-demo", payoutId: "105127866449", since: null });
		expect(parse("payouts", "sync", "tiktok", "--since", "2026-01-01")).toEqual({ name: "payouts", action: "sync", connection: "tiktok", payoutId: null, since: "2026-01-01T00:00:00.000Z" });
		expect(parse("payouts", "sync", "tiktok", "--since", "2026-01-01T06:30:00+02:00")).toMatchObject({ since: "2026-01-01T04:30:00.000Z" });
		expect(parse("payouts", "upload", "amazon", "settlement.tsv")).toEqual({ name: "payouts", action: "upload", connection: "amazon", file: "settlement.tsv" });
	});

	it("refuses what it cannot read, saying why", () => {
		expect(usage("payout")).toBe("payout takes a connection and a payout id: payout <connection> <payout id>");
		expect(usage("payout", "shopify-demo")).toBe("payout takes a connection and a payout id: payout <connection> <payout id>");
		expect(usage("payout", "a", "b", "c")).toBe("payout takes a connection and a payout id: payout <connection> <payout id>");
		expect(usage("payouts", "sync", "shopify-demo")).toBe("payouts sync takes --payout <id> or --since <date> (one of them)");
		expect(usage("payouts", "sync", "shopify-demo", "--payout", "1", "--since", "2026-01-01")).toBe("payouts sync takes --payout <id> or --since <date> (one of them)");
		expect(usage("payouts", "sync", "--payout", "1")).toBe("payouts sync takes one connection: payouts sync <connection> --payout <id> | --since <date>");
		expect(usage("payouts", "sync", "tiktok", "--since", "yesterday")).toBe("--since must be a date (2026-01-01) or a date-time with its zone (2026-01-01T00:00:00Z), not yesterday");
		expect(usage("payouts", "sync", "tiktok", "--since", "2026-01-01T10:00")).toBe("--since must be a date (2026-01-01) or a date-time with its zone (2026-01-01T00:00:00Z), not 2026-01-01T10:00");
		expect(usage("payouts", "upload", "amazon")).toBe("payouts upload takes a connection and a file: payouts upload <connection> <file.tsv>");
		expect(usage("payouts", "--payout", "1")).toBe("--payout does not apply to payouts (the list)");
		expect(usage("payouts", "upload", "amazon", "f.tsv", "--since", "2026-01-01")).toBe("--since does not apply to payouts upload");
		expect(usage("payouts", "sync", "tiktok", "--since", "2026-01-01", "--limit", "5")).toBe("--limit does not apply to payouts sync");
		expect(usage("payouts", "delete")).toBe("payouts takes sync or upload, or nothing to list them (got delete)");
		expect(usage("payouts", "--limit", "0")).toBe("--limit must be a whole number from 1 to 1000, not 0");
		expect(usage("payout", "x", "y", "--payout", "1")).toBe("--payout does not apply to payout");
	});

	it("exits 2 from the command line on an argument error, before calling anything", async () => {
		const fetch = vi.fn();
		vi.stubGlobal("fetch", fetch);
		const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
		expect(await main(["payouts", "sync", "shopify-demo"], env)).toBe(EXIT.usage);
		expect(await main(["payout", "shopify-demo"], env)).toBe(EXIT.usage);
		expect(stderr.mock.calls.map(([text]) => text)).toEqual([
			"ordersync: payouts sync takes --payout <id> or --since <date> (one of them)\n",
			"ordersync: payout takes a connection and a payout id: payout <connection> <payout id>\n",
		]);
		expect(fetch).not.toHaveBeenCalled();
	});

	it("--help lists the payouts commands", async () => {
		const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
		expect(await main(["--help"], env)).toBe(EXIT.ok);
		const help = String(stdout.mock.calls[0]?.[0]);
		expect(help).toContain("  ordersync payouts                payouts (Shopify, TikTok Shop, Amazon), latest first, as reconciled\n");
		expect(help).toContain("  ordersync payout <conn> <id>     one payout's report: totals, exceptions, lines, ERP postings\n");
		expect(help).toContain("  ordersync payouts sync <conn> --payout <id> | --since <date>\n");
		expect(help).toContain("  ordersync payouts upload <conn> <file.tsv>\n");
	});
});
