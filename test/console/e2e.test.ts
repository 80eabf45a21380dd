// End to end: the real worker and sandbox on workerd (Miniflare), real signed webhooks, and the
// `ordersync` command run as a process, both its subcommands and the interactive console.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shopifyOrder } from "../../demo/shopify-orders.mjs";
import { CONNECTION, OPS_TOKEN, READ_TOKEN, startWorker, type Harness } from "./worker";

const BIN = "console/bin.mjs";

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs `ordersync <args>` to the end (no ORDERSYNC_* from the environment leak in). */
function ordersync(args: string[], timeoutMs = 30_000): Promise<Run> {
	return new Promise((resolve, reject) => {
		const env = { ...process.env };
		delete env.ORDERSYNC_URL;
		delete env.ORDERSYNC_TOKEN;
		const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (chunk) => (stdout += chunk));
		child.stderr.on("data", (chunk) => (stderr += chunk));
		const timer = setTimeout(() => {
			child.kill("SIGKILL");
			reject(new Error(`ordersync ${args.join(" ")} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
		}, timeoutMs);
		child.on("error", reject);
		child.on("close", (code) => {
			clearTimeout(timer);
			resolve({ code, stdout, stderr });
		});
	});
}

async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await read();
		if (check(value)) return value;
		if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value).slice(0, 2000)}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

const ROWS = 30;

/**
 * The interactive console as a process with piped stdio: keys are written to its stdin, and its
 * frames (Ink writes them into the pipe too) are read back without their escape codes.
 */
function openConsole(args: string[]) {
	const env: NodeJS.ProcessEnv = { ...process.env, COLUMNS: "100", LINES: String(ROWS) };
	delete env.ORDERSYNC_URL;
	delete env.ORDERSYNC_TOKEN;
	const child = spawn(process.execPath, [BIN, "console", ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
	let output = "";
	let errors = "";
	child.stdout.on("data", (chunk) => (output += chunk));
	child.stderr.on("data", (chunk) => (errors += chunk));
	const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
	const screen = () => stripVTControlCharacters(output);
	/** Where the frames drawn since the last mark (or key) start. */
	let mark = 0;
	return {
		exited,
		/** From now on, looks only at the frames drawn after this. */
		mark() {
			mark = screen().length;
		},
		/** Sends one key (or typed text) and looks only at the frames drawn after it. */
		press(key: string) {
			this.mark();
			child.stdin.write(key);
		},
		/**
		 * The screen as it is now: the last whole frame. Ink erases the previous frame (ending with
		 * cursor-to-column-1) before it draws the next, and a whole frame is ROWS lines, each ended.
		 */
		lastFrame(): string {
			const frames = output.split("\u001B[G").map((frame) => stripVTControlCharacters(frame));
			return frames.findLast((frame) => frame.split("\n").length === ROWS + 1) ?? "";
		},
		async waitFor(pattern: string | RegExp, timeoutMs = 15_000) {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const fresh = screen().slice(mark);
				if (typeof pattern === "string" ? fresh.includes(pattern) : pattern.test(fresh)) return;
				if (Date.now() > deadline) throw new Error(`the console did not show ${pattern} within ${timeoutMs} ms; it showed:\n${screen().slice(-4000)}\nstderr: ${errors}`);
				await new Promise((resolve) => setTimeout(resolve, 25));
			}
		},
		/** Presses q; resolves with the exit code, or "still running". */
		quit(timeoutMs = 10_000): Promise<number | null | "still running"> {
			this.press("q");
			return Promise.race([exited, new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), timeoutMs))]);
		},
		kill: () => child.kill("SIGKILL"),
	};
}

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as { port: number };
	await new Promise((resolve) => server.close(resolve));
	return port;
}

type OrderState = { status: string | null; idle: boolean; deliveries: Array<{ kind: string; status: string; attempts: number; history: unknown[] }> };
type Exception = { id: string; kind: string; status: string; orderKey: string | null };

const tag = Math.random().toString(36).slice(2, 8).toUpperCase();
const SKU = `E2E-TEE-${tag}`;
const DEAD_SKU = `E2E-MUG-${tag}`;
const base = 100_000_000 + Math.floor(Math.random() * 1e8);
const ORDER = { id: base * 10 + 1, number: 7000 + Math.floor(Math.random() * 1000) };
const DEAD = { id: base * 10 + 2, number: ORDER.number + 1000 };
const LATE = { id: base * 10 + 3, number: ORDER.number + 2000 };
const KEY = `${CONNECTION}:${ORDER.id}`;
const DEAD_KEY = `${CONNECTION}:${DEAD.id}`;
const LATE_KEY = `${CONNECTION}:${LATE.id}`;

let h: Harness;
let deadId: string;
const operator = () => ["--url", h.url, "--token", OPS_TOKEN];
const order = (o: { id: number; number: number }, sku: string) => shopifyOrder({ id: o.id, number: o.number, lines: [{ sku, quantity: 2, price: "12.50", title: "E2E item" }] });
const view = (key: string) => h.ops(`/ops/orders/${encodeURIComponent(key)}`).then((r) => r.json() as Promise<OrderState>);

describe("ordersync as a process against the real worker", () => {
	beforeAll(async () => {
		// Bundle the console once before anything runs it in parallel.
		const [harness, help] = await Promise.all([startWorker(), ordersync(["--help"], 60_000)]);
		h = harness;
		expect(help.code).toBe(0);

		await h.sandbox("/sandbox/variants", { body: { skus: [SKU, DEAD_SKU] } });
		await h.stock(SKU, 10);
		await h.stock(DEAD_SKU, 5);

		// One order goes all the way to the 3PL.
		expect((await h.deliver("orders/create", order(ORDER, SKU))).status).toBe(200);
		await eventually(() => view(KEY), (v) => v.status === "accepted" && v.idle);

		// ShipBob fails every call while the second one is placed: its order creation is dead-lettered.
		await h.sandbox("/sandbox/faults", { body: { target: "shipbob", kind: "500", rate: 1 } });
		expect((await h.deliver("orders/create", order(DEAD, DEAD_SKU))).status).toBe(200);
		const exceptions = () => h.ops("/ops/exceptions?status=open").then((r) => r.json() as Promise<{ items: Exception[] }>);
		const open = await eventually(exceptions, (e) => e.items.some((x) => x.kind === "dead-letter" && x.orderKey === DEAD_KEY));
		deadId = open.items.find((x) => x.kind === "dead-letter" && x.orderKey === DEAD_KEY)!.id;
		await h.sandbox("/sandbox/faults", { method: "DELETE" });
	}, 90_000);

	afterAll(async () => {
		await h?.dispose();
	});

	it("lists the flows, as JSON and as text", async () => {
		const [json, text] = await Promise.all([ordersync(["flows", "--json", "--limit", "1000", ...operator()]), ordersync(["flows", ...operator()])]);
		expect(json.stderr).toBe("");
		expect(json.code).toBe(0);
		const page = JSON.parse(json.stdout) as { events: Array<{ type: string; orderKey?: string; cursor: number }>; cursor: number };
		expect(page.events.filter((e) => e.orderKey === KEY).map((e) => e.type)).toEqual(expect.arrayContaining(["received", "accepted"]));
		expect(page.events.some((e) => e.orderKey === DEAD_KEY && e.type === "dead-lettered")).toBe(true);
		expect(page.cursor).toBe(page.events.at(-1)!.cursor);
		expect(text.code).toBe(0);
		expect(text.stdout).toContain(`#${ORDER.number}`);
	});

	it("shows an order by name, by number and by key, a SKU, and the open exceptions", async () => {
		const [byName, byNumber, byKey, sku, exceptions, text] = await Promise.all([
			ordersync(["order", `#${ORDER.number}`, "--json", ...operator()]),
			ordersync(["order", String(ORDER.number), "--json", "--token", READ_TOKEN, "--url", h.url]),
			ordersync(["order", DEAD_KEY, "--json", ...operator()]),
			ordersync(["sku", SKU, "--json", ...operator()]),
			ordersync(["exceptions", "--json", "--kind", "dead-letter", ...operator()]),
			ordersync(["order", `#${ORDER.number}`, ...operator()]),
		]);
		for (const run of [byName, byNumber, byKey, sku, exceptions, text]) expect(run).toMatchObject({ code: 0, stderr: "" });
		expect(JSON.parse(byName.stdout)).toMatchObject({ key: KEY, status: "accepted", order: { channelOrderName: `#${ORDER.number}` } });
		expect(JSON.parse(byNumber.stdout)).toMatchObject({ key: KEY });
		expect(JSON.parse(byKey.stdout).deliveries).toContainEqual(expect.objectContaining({ kind: "3pl.order", status: "dead" }));
		expect(JSON.parse(sku.stdout)).toMatchObject({ sku: SKU, onHand: 10, reserved: 2, reservations: [expect.objectContaining({ orderKey: KEY, quantity: 2 })] });
		expect(JSON.parse(exceptions.stdout).items).toContainEqual(expect.objectContaining({ id: deadId, kind: "dead-letter", status: "open", orderKey: DEAD_KEY }));
		expect(text.stdout).toContain(`order ${KEY}  #${ORDER.number}  accepted`);
		expect(text.stdout).toMatch(/deliveries\n.*DELIVERY.*\n.*3pl\.order/);
	});

	it("exits with a code that says what went wrong", async () => {
		const dead = `http://127.0.0.1:${await deadPort()}`;
		const [readOnlyReplay, unknownOrder, unknownName, unreachable, badFlag, missingArg, noToken, badToken] = await Promise.all([
			ordersync(["replay", deadId, "--url", h.url, "--token", READ_TOKEN]),
			ordersync(["order", `${CONNECTION}:1`, ...operator()]),
			ordersync(["order", "#no-such-order", ...operator()]),
			ordersync(["flows", "--url", dead, "--token", OPS_TOKEN]),
			ordersync(["flows", "--bogus", ...operator()]),
			ordersync(["order", ...operator()]),
			ordersync(["exceptions", "--url", h.url]),
			ordersync(["exceptions", "--url", h.url, "--token", "not-the-token"]),
		]);
		expect(readOnlyReplay).toMatchObject({ code: 4, stdout: expect.stringContaining(`fail  ${deadId}  403 forbidden`) });
		expect(unknownOrder).toMatchObject({ code: 3, stdout: "", stderr: expect.stringMatching(/^ordersync: .+\n$/) });
		expect(unknownName).toMatchObject({ code: 3, stderr: "ordersync: no order named #no-such-order\n" });
		expect(unreachable).toMatchObject({ code: 5, stderr: expect.stringMatching(/^ordersync: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\n$/) });
		expect(badFlag).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ordersync: .*--bogus/) });
		expect(missingArg).toMatchObject({ code: 2, stderr: "ordersync: order takes one order key or name\n" });
		expect(noToken).toMatchObject({ code: 2, stderr: expect.stringContaining("--token") });
		expect(badToken).toMatchObject({ code: 4, stderr: expect.stringMatching(/^ordersync: .+\n$/) });
		// The refused replays changed nothing.
		const still = (await (await h.ops(`/ops/exceptions/${encodeURIComponent(deadId)}`)).json()) as Exception;
		expect(still.status).toBe("open");
	});

	it("shows the traffic in the interactive console, retries the dead letter from it, and quits on q", async () => {
		const ui = openConsole(["--url", h.url, "--token", OPS_TOKEN]);
		try {
			// Live: the order's flow arrives over the stream.
			await ui.waitFor(`#${ORDER.number}`);
			// Exceptions (2), narrowed to the dead letter (/ text Enter), retried (r) and confirmed (y).
			ui.press("2");
			await ui.waitFor(`#${DEAD.number}`); // exceptions are listed by their order's name
			ui.press("/");
			await ui.waitFor("filter:");
			ui.press(DEAD_KEY);
			await ui.waitFor(`filter: ${DEAD_KEY}`);
			ui.press("\r");
			await ui.waitFor(`1 shown · filter: ${DEAD_KEY}`);
			ui.press("r");
			await ui.waitFor(`Retry dead letter ${deadId}`);
			ui.press("y");
			await ui.waitFor("replay: ok (retrying)");

			// The worker sent the order to ShipBob again (the fault is gone), and the exception cleared.
			type DeadLetter = Exception & { delivery: { status: string; history: Array<{ ok: boolean }> } };
			const read = () => h.ops(`/ops/exceptions/${encodeURIComponent(deadId)}`).then((r) => r.json() as Promise<DeadLetter>);
			const resolved = await eventually(read, (e) => e.status === "resolved");
			expect(resolved.delivery.status).toBe("delivered");
			expect(resolved.delivery.history.at(-1)).toMatchObject({ ok: true });
			const flows = (await (await h.ops("/ops/flows?after=0&limit=1000")).json()) as { events: Array<{ type: string; orderKey?: string }> };
			expect(flows.events.filter((e) => e.orderKey === DEAD_KEY).map((e) => e.type)).toEqual(expect.arrayContaining(["dead-lettered", "sent"]));
			expect(await view(DEAD_KEY)).toMatchObject({ status: "accepted" });
			// …and the console dropped it by itself.
			await ui.waitFor(/Exceptions · 0 open/);

			expect(await ui.quit()).toBe(0);
		} finally {
			ui.kill();
		}
	});

	it("reconciles a Shopify payout synced from the channel, and shows it as text, as JSON and in the console", async () => {
		const payoutId = String(700_000_000 + Math.floor(Math.random() * 99_000_000));
		const usd = (amount: string) => ({ amount, currencyCode: "USD" });
		const at = new Date().toISOString();
		await h.sandbox("/sandbox/shopify/payouts", {
			body: {
				payout: { legacyResourceId: payoutId, issuedAt: at, status: "PAID" },
				balanceTransactions: [
					{ type: "CHARGE", amount: usd("25.00"), fee: usd("1.03"), sourceId: "9120001", sourceType: "CHARGE", associatedOrder: { id: `gid://shopify/Order/${ORDER.id}`, name: `#${ORDER.number}` }, transactionDate: at },
					// An order ordersync never saw: an exception, its variance booked.
					{ type: "CHARGE", amount: usd("10.00"), fee: usd("0.59"), sourceId: "9120002", sourceType: "CHARGE", associatedOrder: { id: "gid://shopify/Order/1", name: "#1" }, transactionDate: at },
				],
			},
		});
		const payoutKey = `${CONNECTION}:${payoutId}`;
		const readOnly = await ordersync(["payouts", "sync", CONNECTION, "--payout", payoutId, "--url", h.url, "--token", READ_TOKEN]);
		expect(readOnly).toMatchObject({ code: 4, stdout: "" });
		const sync = await ordersync(["payouts", "sync", CONNECTION, "--payout", payoutId, ...operator()]);
		expect(sync).toMatchObject({ code: 0, stderr: "" });
		expect(sync.stdout).toMatch(new RegExp(`^ok {4}${payoutId} {2}reconciled {2}matched \\d/2 \\(\\d+%\\) · \\d+ exceptions?\nreconciled 1 of 1 payout\n$`));

		// The payouts list is kept by the FlowMonitor, a moment after the payout's own object.
		type Listed = { items: Array<{ payoutKey: string; channel: string; total: number; summary: { matched: { of: number } } | null }> };
		const listed = await eventually(
			async () => JSON.parse((await ordersync(["payouts", "--json", ...operator()])).stdout) as Listed,
			(l) => l.items.some((p) => p.payoutKey === payoutKey && p.summary !== null),
		);
		expect(listed.items.find((p) => p.payoutKey === payoutKey)).toMatchObject({ channel: "shopify", total: 3338, summary: { matched: { of: 2 } } });
		const [text, json, list, missing, exceptions] = await Promise.all([
			ordersync(["payout", CONNECTION, payoutId, ...operator()]),
			ordersync(["payout", payoutKey, "--json", "--url", h.url, "--token", READ_TOKEN]),
			ordersync(["payouts", ...operator()]),
			ordersync(["payout", CONNECTION, "1", ...operator()]),
			ordersync(["exceptions", "--kind", "settlement", "--json", ...operator()]),
		]);
		for (const run of [text, json, list, exceptions]) expect(run).toMatchObject({ code: 0, stderr: "" });
		expect(text.stdout).toContain(`payout ${payoutKey}  shopify  reconciled · ERP not booked`);
		expect(text.stdout).toMatch(/ {2}total paid +33\.38 USD\n/);
		expect(text.stdout).toMatch(/unknown order/);
		expect(JSON.parse(json.stdout)).toMatchObject({ payoutKey, via: "api", lines: [expect.objectContaining({ orderName: `#${ORDER.number}` }), expect.objectContaining({ status: "unknown_order" })] });
		expect(list.stdout).toMatch(new RegExp(`shopify +${CONNECTION} +${payoutId} `));
		expect(missing).toMatchObject({ code: 3, stdout: "", stderr: `ordersync: no payout ${CONNECTION}:1\n` });
		expect(JSON.parse(exceptions.stdout).items).toContainEqual(expect.objectContaining({ kind: "settlement", id: expect.stringMatching(new RegExp(`^settlement:${payoutKey}:`)) }));

		// The console: 3, then Enter on it (the latest changed payout is the first), then Esc.
		const ui = openConsole(operator());
		try {
			await ui.waitFor("● live");
			ui.press("3");
			await ui.waitFor(payoutId);
			ui.press("\r");
			await ui.waitFor(`Payout shopify ${payoutId} · reconciled · ERP not booked · $33.38`);
			await ui.waitFor("Gross sales");
			expect(await ui.quit()).toBe(0);
		} finally {
			ui.kill();
		}
	});

	// Last: it stops the worker under everything else.
	it("rides out a worker restart: says it is reconnecting, then resumes where it left off, showing each event once", async () => {
		const ui = openConsole(operator());
		try {
			await ui.waitFor(`#${ORDER.number}`);
			// Only the orders' arrivals, so that all of them fit on the screen.
			ui.press("/");
			await ui.waitFor("filter:");
			ui.press("kind:received");
			await ui.waitFor("filter: kind:received");
			ui.press("\r");
			const screen = async () => ui.lastFrame();
			const counts = /filter: kind:received · (\d+)\/\d+ events/;
			const before = Number(counts.exec(await eventually(screen, (frame) => counts.test(frame)))![1]);

			ui.mark();
			await h.stop();
			await ui.waitFor(/reconnecting \(attempt \d+, in [\d.]+ s\): /);
			ui.mark();
			await h.start();
			await ui.waitFor("● live");

			// The state survived the restart; the sandbox of peers did not, so it learns the SKU again.
			expect(await view(KEY)).toMatchObject({ status: "accepted" });
			await h.sandbox("/sandbox/variants", { body: { skus: [SKU] } });
			expect((await h.deliver("orders/create", order(LATE, SKU))).status).toBe(200);
			await eventually(() => view(LATE_KEY), (v) => v.status === "accepted" && v.idle);
			// Every event the worker kept, each once: nothing lost across the restart, nothing sent twice.
			// (Read together: a late event may still be on its way to both.)
			const kept = async () => ((await (await h.ops("/ops/flows?after=0&limit=1000")).json()) as { events: unknown[] }).events.length;
			const { frame, total } = await eventually(
				async () => ({ frame: ui.lastFrame(), total: await kept() }),
				({ frame, total }) => frame.includes(`filter: kind:received · ${before + 1}/${total} events`),
			);
			// The console started with the latest 200 events: below that it has seen them all.
			expect(total).toBeLessThan(200);
			expect(frame.split("\n")[0]).toMatch(/^● live/);
			const received = (o: { number: number }) => frame.split("\n").filter((line) => line.includes(`#${o.number} `) && line.includes("received"));
			for (const o of [ORDER, DEAD, LATE]) expect(received(o), frame).toHaveLength(1);

			expect(await ui.quit()).toBe(0);
		} finally {
			ui.kill();
		}
	}, 60_000);
});
