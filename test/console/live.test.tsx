// The Live view through real keys: streamed events, the header's rates and connection state,
// filters, pause and resume, help, quitting, and an 80×24 frame that never overflows.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup } from "ink-testing-library";
import { App } from "../../console/app";
import { exceptionItem, FakeOps, FakeStream, flow, orderView, payoutItem, payoutReport } from "./fakes";
import { KEY, renderAt, sleep } from "./ui";

const URL = "http://127.0.0.1:8787";
let ops: FakeOps;

afterEach(() => {
	cleanup();
	expect(ops.unexpected).toEqual([]);
});

function open(stream = new FakeStream(), given = {}) {
	ops = new FakeOps(given);
	const ui = renderAt(<App ops={ops} stream={stream} url={URL} />);
	return { ui, stream };
}

const received = (name: string, fields = {}) => flow({ type: "received", orderKey: `shopify-demo:${name}`, orderName: `#${name}`, channel: "shopify", connection: "shopify-demo", topic: "orders/create", status: "received", ...fields });

describe("Live", () => {
	it("shows streamed events, newest at the bottom, and the rates in the header", async () => {
		const { ui, stream } = open();
		await ui.waitFor("● live");
		stream.events(received("1001"), received("1002"), flow({ type: "quarantined", connection: "shopify-demo", topic: "orders/create", detail: "bad json" }));
		const frame = await ui.waitFor("#1002");
		const lines = frame.split("\n");
		expect(lines.findIndex((l) => l.includes("#1001"))).toBeLessThan(lines.findIndex((l) => l.includes("#1002")));
		expect(frame).toContain("webhook stored");
		expect(frame).toContain("quarantined");
		// 3 webhooks over the last 10 s, 2 new orders, 1 failure (the quarantine).
		expect(lines[0]).toContain("0.3 wh/s");
		expect(lines[0]).toContain("2 orders/min");
		expect(lines[0]).toContain("1 fail/min");
		expect(lines[0]).toContain(URL);
		expect(lines[0]).toContain("operator");
	});

	it("says so in the header while reconnecting, and when the token is refused", async () => {
		const { ui, stream } = open(new FakeStream({ state: "connecting", attempt: 1 }));
		await ui.waitFor("connecting (attempt 1)");
		stream.status({ state: "reconnecting", attempt: 3, reason: "ECONNREFUSED", retryInMs: 2100 });
		await ui.waitFor("reconnecting (attempt 3, in 2.1 s): ECONNREFUSED");
		stream.status({ state: "refused", reason: "401 unauthorized" });
		await ui.waitFor("refused: 401 unauthorized");
		stream.status({ state: "live", role: "read", cursor: 4 });
		await ui.waitFor((f) => f.includes("● live") && f.includes("READ-ONLY"));
	});

	it("filters by free text and by sku:, and c clears the filter", async () => {
		const { ui, stream } = open();
		stream.events(
			received("1001"),
			flow({ type: "line.backordered", orderKey: "shopify-demo:1001", sku: "BOOT-42", detail: "2 short" }),
			received("1002"),
			flow({ type: "pushed", sku: "HAT-1", connection: "shopify-demo", detail: "available 5" }),
		);
		await ui.waitFor("HAT-1");
		await ui.press("/");
		await ui.waitFor("filter:");
		await ui.press("#1002", KEY.enter);
		let frame = await ui.waitFor("filter: #1002");
		expect(frame).not.toContain("#1001");
		expect(frame).not.toContain("HAT-1");

		await ui.press("/");
		// The prompt starts with the current filter: clear it, then type a token.
		await ui.press(...Array<string>(5).fill(KEY.backspace), "sku:boot-42", KEY.enter);
		frame = await ui.waitFor("filter: sku:boot-42");
		expect(frame).toContain("BOOT-42");
		expect(frame).not.toContain("HAT-1");
		expect(frame).not.toContain("#1002");

		await ui.press("c");
		frame = await ui.waitFor((f) => !f.includes("filter:") && f.includes("HAT-1"));
		expect(frame).toContain("#1002");
	});

	it("shows an event's order key only when it fits whole, leaving the detail the room", async () => {
		const sent = flow({ type: "sent", orderKey: "shopify-demo:6100000001", orderName: "#1001", detail: "3pl.order → 3pl:shipbob (attempt 2)" });
		const short = flow({ type: "routed", orderKey: "shopify-demo:6100000002", orderName: "#1002", detail: "→ wh-east" });
		const narrow = open();
		narrow.stream.events(sent, short);
		let frame = await narrow.ui.waitFor("#1002");
		const line = (text: string) => frame.split("\n").find((l) => l.includes(text)) ?? "";
		expect(line("#1001")).toMatch(/retried ok\s+3pl\.order → 3pl:shipbob \(attempt 2\)$/);
		expect(line("#1002")).toMatch(/→ wh-east  shopify-demo:6100000002$/);
		expect(frame).not.toContain("…");
		cleanup();

		const wide = renderAt(<App ops={ops} stream={narrow.stream} url={URL} />, 120);
		narrow.stream.events(sent);
		frame = await wide.waitFor("#1001");
		expect(line("#1001")).toMatch(/\(attempt 2\)  shopify-demo:6100000001$/);
	});

	it("Esc leaves the filter prompt without applying it, and q typed there is text, not quit", async () => {
		const { ui, stream } = open();
		stream.events(received("1001"));
		await ui.waitFor("#1001");
		await ui.press("/", "q");
		await ui.waitFor("filter: q");
		await ui.press(KEY.esc);
		const frame = await ui.waitFor((f) => !f.includes("filter:"));
		expect(frame).toContain("#1001");
		expect(stream.listeners.size).toBeGreaterThan(0);
	});

	it("pauses with p, counts what arrives, and catches up on resume", async () => {
		const { ui, stream } = open();
		stream.events(received("1001"));
		await ui.waitFor("#1001");
		await ui.press("p");
		await ui.waitFor("paused · 0 new");
		stream.events(received("1002"), received("1003"));
		let frame = await ui.waitFor("paused · 2 new");
		expect(frame).not.toContain("#1002");
		await ui.press(" ");
		frame = await ui.waitFor("#1003");
		expect(frame).toContain("following");
		expect(frame).toContain("#1002");
	});

	it("selecting with ↑ pauses, the selection moves with ↑/↓/k/j, and Esc resumes", async () => {
		const { ui, stream } = open(undefined, { orders: { "shopify-demo:1002": orderView({ key: "shopify-demo:1002" }) } });
		stream.events(received("1001"), received("1002"), received("1003"));
		await ui.waitFor("#1003");
		await ui.press(KEY.up);
		await ui.waitFor("paused · 0 new");
		stream.events(received("1004"));
		const frame = await ui.waitFor("paused · 1 new");
		expect(frame).not.toContain("#1004");
		// ↑ selected #1003; ↑ #1002, k #1001, j back to #1002: Enter opens that one.
		await ui.press(KEY.up, "k", "j", KEY.enter);
		await ui.waitFor("Order #1001 · shopify-demo:1002");
		expect(ops.calls).toEqual(["order shopify-demo:1002"]);
		await ui.press(KEY.esc);
		await ui.waitFor("paused · 1 new");
		await ui.press(KEY.esc);
		await ui.waitFor((f) => f.includes("following") && f.includes("#1004"));
	});

	it("applies a burst of stream messages in one render per batch", async () => {
		const { ui, stream } = open();
		await ui.waitFor("● live");
		await sleep(50);
		const before = ui.frames.length;
		for (let i = 0; i < 200; i++) stream.events(received(String(2000 + i)));
		await ui.waitFor("#2199");
		await sleep(150);
		// One batch, maybe split across a timer boundary, plus at most a clock tick.
		expect(ui.frames.length - before).toBeLessThanOrEqual(3);
		expect(ui.frame()).toContain("20.0 wh/s");
	});

	it("marks events the worker pruned before the console saw them", async () => {
		const { ui, stream } = open();
		stream.events(received("1001"));
		stream.gap(1, 41);
		stream.events(received("1042"));
		const frame = await ui.waitFor("#1042");
		expect(frame).toMatch(/missed\s+40 events pruned before this console/);
	});

	it("? opens the help overlay for the view and Esc closes it", async () => {
		const { ui } = open(undefined, { exceptions: [] });
		await ui.waitFor("● live");
		await ui.press("?");
		let frame = await ui.waitFor("Keys: Live");
		expect(frame).toContain("pause / resume");
		expect(frame).toContain("Everywhere");
		await ui.press(KEY.esc);
		frame = await ui.waitFor((f) => !f.includes("Keys: Live"));
		expect(frame).toContain("following");
		await ui.press("2", "?");
		await ui.waitFor("Keys: Exceptions");
		await ui.press("?");
		await ui.waitFor((f) => !f.includes("Keys: Exceptions"));
	});

	it("q quits: the app unmounts and lets go of the stream", async () => {
		const { ui, stream } = open(undefined, { exceptions: [] });
		await ui.waitFor("● live");
		expect(stream.listeners.size).toBeGreaterThan(0);
		await ui.press("q");
		await sleep(50);
		expect(stream.listeners.size).toBe(0);
	});

	it("keeps every line of an 80×24 frame within 80 columns and 24 rows, in every view", async () => {
		const long = "x".repeat(200);
		const report = payoutReport();
		const huge = payoutReport({
			payoutKey: `${long}:${long}`,
			connection: long,
			payoutId: long,
			total: 999_999_999_999,
			summary: { ...report.summary!, fees: { ...report.summary!.fees, [long]: -1 } },
			exceptions: [{ id: long, reason: long, variance: -999_999_999_999 }],
			lines: report.lines.map((line) => ({ ...line, id: long, orderName: long, amount: 999_999_999_999 })),
			deliveries: report.deliveries.map((d) => ({ ...d, destination: long, lastError: long })),
		});
		const { ui, stream } = open(new FakeStream({ state: "reconnecting", attempt: 12, reason: `connect ECONNREFUSED 127.0.0.1:8787 ${long}`, retryInMs: 30_000 }), {
			orders: { "shopify-demo:1000": orderView({ key: "shopify-demo:1000", lines: [{ lineId: "L1", sku: long, target: 2, reserved: 1, backordered: 1, committed: 0, shipped: 0, pending: true, lastError: long }] }) },
			exceptions: Array.from({ length: 40 }, (_, i) => exceptionItem({ id: `quarantine:${long}:${i}`, reason: long, topic: long })),
			payouts: [payoutItem(huge, { status: long, summary: { ...huge.summary!, net: -999_999_999_999 } })],
			reports: { [huge.payoutKey]: huge },
		});
		stream.events(
			...Array.from({ length: 60 }, (_, i) => received(String(1000 + i), { detail: long, topic: `orders/${long}` })),
			flow({ type: "quarantined", connection: "shopify-demo", detail: `bad\tjson\u001B[31m ${long}` }),
		);
		await ui.waitFor("#1059");
		const check = (frame: string) => {
			const lines = frame.split("\n");
			expect(lines.length).toBeLessThanOrEqual(24);
			for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
		};
		check(ui.frame());
		await ui.press("?");
		check(await ui.waitFor("Keys: Live"));
		await ui.press(KEY.esc, "/", long);
		check(await ui.waitFor("filter:"));
		await ui.press(KEY.esc, "o", "shopify-demo:1000", KEY.enter);
		check(await ui.waitFor("Timeline"));
		// Each section, once it shows (Lines, Deliveries, Payload, Order).
		for (const [section, shows] of [["2", "ordered reserved"], ["3", "pending  1 attempt"], ["4", "inbound orders/create"], ["5", "total $123.45"]] as const) {
			await ui.press(section);
			check(await ui.waitFor(shows));
		}
		await ui.press(KEY.esc, "2");
		check(await ui.waitFor("40 open"));
		await ui.press("R");
		check(await ui.waitFor("y/n"));
		await ui.press("n", "3");
		check(await ui.waitFor("1 with exceptions"));
		await ui.press(KEY.enter);
		check(await ui.waitFor("Gross sales"));
		await ui.press(KEY.end);
		check(await ui.waitFor("ERP posting"));
	});
});
