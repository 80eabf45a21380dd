// `ordersync sweeps` and `ordersync sweep <connection>` against a stubbed fetch: the text and
// --json, what is sent to the worker, and the exit codes (0 ok, 1 failed or refused, 2 usage,
// 3 not found, 4 forbidden, 5 unreachable). Argument errors go through `main`, as typed.
import { afterEach, describe, expect, it, vi } from "vitest";
import { EXIT, parseInvocation, type Command } from "../../console/args";
import { main } from "../../console/cli";
import { runCommand } from "../../console/commands";
import type { SweepRun } from "../../console/protocol";

const env = { ORDERSYNC_URL: "http://ordersync.test", ORDERSYNC_TOKEN: "tok" };

function sweepRun(overrides: Partial<SweepRun> = {}): SweepRun {
	return {
		id: 7,
		trigger: "cron",
		status: "complete",
		startedAt: "2026-01-05T10:00:00.000Z",
		finishedAt: "2026-01-05T10:00:02.000Z",
		window: { from: "2026-01-05T09:45:00.000Z", until: "2026-01-05T10:00:00.000Z" },
		pages: 1,
		ordersSeen: 120,
		recovered: 2,
		updated: 3,
		duplicates: 114,
		stale: 1,
		failed: 0,
		recoveredOrders: ["shopify-demo:6100000001", "shopify-demo:6100000002"],
		drift: { checked: 40, drifted: [{ sku: "TEE-BLK-M" }], repushed: 1 },
		error: null,
		nextCursor: "2026-01-05T10:00:00.000Z",
		retryAt: null,
		...overrides,
	};
}

const list = {
	settings: { lookbackHours: 24, overlapMinutes: 5, maxPagesPerRun: 20 },
	items: [
		{ connection: "shopify-demo", channel: "shopify", cursor: "2026-01-05T10:00:00.000Z", resume: null, retryAt: null, running: false, lastRun: sweepRun(), runs: [sweepRun(), sweepRun({ id: 6, trigger: "manual", recovered: 0, recoveredOrders: [], startedAt: "2026-01-05T09:50:00.000Z" })] },
		{
			connection: "amazon",
			channel: "amazon",
			cursor: null,
			resume: { from: "2026-01-04T10:00:00.000Z", until: "2026-01-05T09:57:55.000Z", page: "tok" },
			retryAt: "2026-01-05T10:01:00.000Z",
			running: false,
			lastRun: sweepRun({ id: 3, status: "rate_limited", ordersSeen: 100, recovered: 4, drift: null, retryAt: "2026-01-05T10:01:00.000Z" }),
			runs: [],
		},
		{ connection: "edi-retailer", channel: "edi", skipped: "EDI has no pull API: the partner's gateway pushes each interchange and retries until it is acknowledged" },
	],
};

type Sent = { method: string; path: string; auth: string | null };

async function run(command: Extract<Command, { name: "sweeps" | "sweep" }>, answer: (method: string, path: string) => [number, unknown], json = false) {
	const sent: Sent[] = [];
	vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
		sent.push({ method: init.method ?? "GET", path: url.slice("http://ordersync.test".length), auth: new Headers(init.headers).get("Authorization") });
		const [status, body] = answer(init.method ?? "GET", url);
		return Response.json(body, { status });
	});
	const out: string[] = [];
	const err: string[] = [];
	const exit = await runCommand(command, { url: "http://ordersync.test", token: "tok", json }, { out: (t) => void out.push(t), err: (t) => void err.push(t) });
	return { exit, out: out.join("\n"), err: err.join("\n"), sent };
}

afterEach(() => {
	vi.unstubAllGlobals();
	vi.restoreAllMocks();
});

describe("ordersync sweeps", () => {
	it("lists each connection's sweep: cursor, last run, what it read and recovered; unswept ones say why", async () => {
		const { exit, out, err, sent } = await run({ name: "sweeps", runs: 1 }, () => [200, list]);
		expect(sent).toEqual([{ method: "GET", path: "/ops/sweeps?runs=1", auth: "Bearer tok" }]);
		expect(out.split("\n")).toEqual([
			"CONNECTION    CHANNEL  CURSOR               LAST RUN                    READ  RECOVERED  UPDATED  DRIFTED  STATUS",
			"shopify-demo  shopify  2026-01-05 10:00:00  2026-01-05 10:00:00 (cron)   120          2        3        1  complete",
			"amazon        amazon   —                    2026-01-05 10:00:00 (cron)   100          4        3           rate limited, goes on at 2026-01-05 10:01:00",
			"edi-retailer  edi      —                    —                                                              not swept: EDI has no pull API: the partner's gateway pushes each interchange and retries until it is acknowledged",
		]);
		expect(err).toBe("");
		expect(exit).toBe(EXIT.ok);
	});

	it("adds each connection's recent runs with --runs, and prints the worker's list with --json", async () => {
		const { out, sent } = await run({ name: "sweeps", runs: 5 }, () => [200, list]);
		expect(sent[0]!.path).toBe("/ops/sweeps?runs=5");
		expect(out.split("\n").slice(5)).toEqual([
			"shopify-demo",
			"  RUN  STARTED              TRIGGER  PAGES  READ  RECOVERED  DUPLICATES  STATUS",
			"    7  2026-01-05 10:00:00  cron         1   120          2         114  complete",
			"    6  2026-01-05 09:50:00  manual       1   120          0         114  complete",
		]);
		const json = await run({ name: "sweeps", runs: 1 }, () => [200, list], true);
		expect(JSON.parse(json.out)).toEqual(list);
	});
});

describe("ordersync sweep <connection>", () => {
	it("runs one now and prints the run: window, orders read and recovered, stock, cursor", async () => {
		const { exit, out, sent } = await run({ name: "sweep", connection: "shopify-demo" }, () => [200, sweepRun({ trigger: "manual" })]);
		expect(sent).toEqual([{ method: "POST", path: "/ops/sweeps/shopify-demo/run", auth: "Bearer tok" }]);
		expect(out.split("\n")).toEqual([
			"sweep shopify-demo  run 7 (manual)  complete",
			"  window     2026-01-05 09:45:00 – 2026-01-05 10:00:00",
			"  read       120 orders on 1 page",
			"  recovered  2: shopify-demo:6100000001, shopify-demo:6100000002",
			"  updated    3 known orders brought up to a version whose webhook never came",
			"  known      114 already in, 1 older than held",
			"  stock      1 of 40 drifted, 1 pushed again",
			"  cursor     2026-01-05 10:00:00",
		]);
		expect(exit).toBe(EXIT.ok);
	});

	it("exits 1 when the run failed or was refused (already running, rate limited), with the worker's word", async () => {
		const failed = await run({ name: "sweep", connection: "tiktok" }, () => [200, sweepRun({ status: "failed", error: "TikTok POST /order/202309/orders/search: 401: code 105002", drift: null })]);
		expect(failed.exit).toBe(EXIT.failed);
		expect(failed.out.split("\n")[0]).toBe("sweep tiktok  run 7 (cron)  failed: TikTok POST /order/202309/orders/search: 401: code 105002");
		const busy = await run({ name: "sweep", connection: "shopify-demo" }, () => [409, { error: { code: "already_running", message: "a sweep of shopify-demo is running (run 8, started 2026-01-05T10:10:00.000Z): nothing new was started" } }]);
		expect(busy).toMatchObject({ exit: EXIT.failed, out: "", err: "ordersync: a sweep of shopify-demo is running (run 8, started 2026-01-05T10:10:00.000Z): nothing new was started" });
		const waiting = await run({ name: "sweep", connection: "amazon" }, () => [429, { error: { code: "rate_limited", message: "amazon asked amazon's sweep to wait until 2026-01-05T10:01:00.000Z; it goes on then by itself" } }]);
		expect(waiting.exit).toBe(EXIT.failed);
	});

	it("exits 3 for an unknown connection, 4 for the read-only token, 5 when the worker cannot be reached", async () => {
		expect(await run({ name: "sweep", connection: "nope" }, () => [404, { error: { code: "unknown_connection", message: "no connection nope" } }])).toMatchObject({ exit: EXIT.notFound, err: "ordersync: no connection nope" });
		expect((await run({ name: "sweep", connection: "tiktok" }, () => [403, { error: { code: "forbidden", message: "this is the read-only token" } }])).exit).toBe(EXIT.unauthorized);
		vi.stubGlobal("fetch", async () => {
			throw new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
		});
		const err: string[] = [];
		const exit = await runCommand({ name: "sweeps", runs: 1 }, { url: "http://ordersync.test", token: "tok", json: false }, { out: () => {}, err: (t) => void err.push(t) });
		expect(exit).toBe(EXIT.unreachable);
		expect(err).toEqual(["ordersync: cannot reach http://ordersync.test (ECONNREFUSED)"]);
	});
});

describe("the command line", () => {
	it("parses sweeps and sweep, and leaves every other command as it was", () => {
		expect(parseInvocation(["sweeps"], env)).toEqual({ help: false, command: { name: "sweeps", runs: 1 }, url: "http://ordersync.test", token: "tok", json: false });
		expect(parseInvocation(["sweeps", "--runs", "5", "--json"], env)).toMatchObject({ command: { name: "sweeps", runs: 5 }, json: true });
		expect(parseInvocation(["sweep", "amazon", "--token", "other"], env)).toMatchObject({ command: { name: "sweep", connection: "amazon" }, token: "other" });
		expect(parseInvocation(["flows", "--limit", "5"], env)).toMatchObject({ command: { name: "flows", limit: 5 } });
		expect(parseInvocation([], env)).toMatchObject({ command: { name: "console" } });
	});

	it("exits 2 on usage errors without calling the worker", async () => {
		const fetch = vi.fn();
		vi.stubGlobal("fetch", fetch);
		const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
		expect(await main(["sweep"], env)).toBe(EXIT.usage);
		expect(await main(["sweeps", "shopify-demo"], env)).toBe(EXIT.usage);
		expect(await main(["sweeps", "--runs", "0"], env)).toBe(EXIT.usage);
		expect(await main(["sweep", "amazon", "--runs", "2"], env)).toBe(EXIT.usage);
		expect(await main(["sweeps", "--limit", "2"], env)).toBe(EXIT.usage);
		expect(await main(["sweeps"], { ORDERSYNC_URL: "http://ordersync.test" })).toBe(EXIT.usage);
		expect(stderr.mock.calls.map(([text]) => text)).toEqual([
			"ordersync: sweep takes one connection: sweep <connection>\n",
			"ordersync: sweeps takes no arguments (got shopify-demo); to run one: sweep <connection>\n",
			"ordersync: --runs must be a whole number from 1 to 50, not 0\n",
			"ordersync: --runs does not apply to sweep\n",
			"ordersync: --limit does not apply to sweeps\n",
			"ordersync: no token: pass --token or set ORDERSYNC_TOKEN\n",
		]);
		expect(fetch).not.toHaveBeenCalled();
	});

	it("--help lists the sweep commands", async () => {
		const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
		expect(await main(["--help"], env)).toBe(EXIT.ok);
		expect(await main(["sweeps", "--help"], env)).toBe(EXIT.ok);
		for (const [text] of stdout.mock.calls) {
			expect(String(text)).toContain("  ordersync sweeps                 each connection's sweep: cursor, last run, what it recovered\n");
			expect(String(text)).toContain("  ordersync sweep <connection>     sweep one connection now and print the run (operator)");
		}
		expect(stdout).toHaveBeenCalledTimes(2);
	});
});
