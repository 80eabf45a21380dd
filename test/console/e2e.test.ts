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

/**
 * The interactive console as a process with piped stdio: keys are written to its stdin, and its
 * frames (Ink writes them into the pipe too) are read back without their escape codes.
 */
function openConsole(args: string[]) {
	const env: NodeJS.ProcessEnv = { ...process.env, COLUMNS: "100", LINES: "30" };
	delete env.ORDERSYNC_URL;
	delete env.ORDERSYNC_TOKEN;
	const child = spawn(process.execPath, [BIN, "console", ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
	let output = "";
	let errors = "";
	child.stdout.on("data", (chunk) => (output += chunk));
	child.stderr.on("data", (chunk) => (errors += chunk));
	const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
	const screen = () => stripVTControlCharacters(output);
	/** Where the frames drawn after the last key start. */
	let mark = 0;
	return {
		exited,
		/** Sends one key (or typed text) and looks only at the frames drawn after it. */
		press(key: string) {
			mark = screen().length;
			child.stdin.write(key);
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
const KEY = `${CONNECTION}:${ORDER.id}`;
const DEAD_KEY = `${CONNECTION}:${DEAD.id}`;

let h: Harness;
let deadId: string;
const operator = () => ["--url", h.url, "--token", OPS_TOKEN];

describe("ordersync as a process against the real worker", () => {
	beforeAll(async () => {
		// Bundle the console once before anything runs it in parallel.
		const [harness, help] = await Promise.all([startWorker(), ordersync(["--help"], 60_000)]);
		h = harness;
		expect(help.code).toBe(0);

		await h.sandbox("/sandbox/variants", { body: { skus: [SKU, DEAD_SKU] } });
		await h.stock(SKU, 10);
		await h.stock(DEAD_SKU, 5);
		const order = (o: { id: number; number: number }, sku: string) => shopifyOrder({ id: o.id, number: o.number, lines: [{ sku, quantity: 2, price: "12.50", title: "E2E item" }] });

		// One order goes all the way to the 3PL.
		expect((await h.deliver("orders/create", order(ORDER, SKU))).status).toBe(200);
		const view = (key: string) => h.ops(`/ops/orders/${encodeURIComponent(key)}`).then((r) => r.json() as Promise<OrderState>);
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
			await ui.waitFor(DEAD_KEY);
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
			const order = (await (await h.ops(`/ops/orders/${encodeURIComponent(DEAD_KEY)}`)).json()) as OrderState;
			expect(order.status).toBe("accepted");
			// …and the console dropped it by itself.
			await ui.waitFor(/Exceptions · 0 open/);

			ui.press("q");
			const code = await Promise.race([ui.exited, new Promise((resolve) => setTimeout(() => resolve("still running"), 10_000))]);
			expect(code).toBe(0);
		} finally {
			ui.kill();
		}
	});
});
