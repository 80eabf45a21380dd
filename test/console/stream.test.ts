// FlowStream against a scripted WebSocket and a hand-driven clock; the real socket server (the
// worker's FlowMonitor) is exercised by e2e.test.ts.
import { describe, expect, it } from "vitest";
import type { StreamStatus } from "../../console/ports";
import type { FlowEvent } from "../../console/protocol";
import { FlowStream, type SocketLike, type Timers } from "../../console/stream";

class FakeSocket implements SocketLike {
	onopen: SocketLike["onopen"] = null;
	onmessage: SocketLike["onmessage"] = null;
	onclose: SocketLike["onclose"] = null;
	onerror: SocketLike["onerror"] = null;
	sent: string[] = [];
	closed: { code?: number; reason?: string } | null = null;
	constructor(
		readonly url: string,
		readonly init: { headers: Record<string, string> },
	) {}
	send(data: string) {
		this.sent.push(data);
	}
	close(code?: number, reason?: string) {
		this.closed = { code, reason };
	}
	// The server's side of the script.
	open() {
		this.onopen?.({});
	}
	message(body: unknown) {
		this.onmessage?.({ data: typeof body === "string" ? body : JSON.stringify(body) });
	}
	/** `from`: where this connection's catch-up starts (absent: an older worker that does not say). */
	hello(cursor: number, { from, role = "operator" }: { from?: number; role?: "read" | "operator" } = {}) {
		this.message({ type: "hello", role, cursor, oldest: 1, ...(from === undefined ? {} : { from }) });
	}
	events(...cursors: number[]) {
		this.message({ type: "events", events: cursors.map(event) });
	}
	drop(code = 1006) {
		this.onclose?.({ code, reason: "" });
	}
	/** A refused or failed handshake, as undici reports it: error, then close. */
	refuse() {
		this.onerror?.({});
		this.onclose?.({ code: 1006, reason: "" });
	}
}

function event(cursor: number): FlowEvent {
	return { cursor, at: new Date(cursor * 1000).toISOString(), type: "received", orderKey: `shopify-demo:${cursor}` };
}

/** Timers that fire only when the test moves the clock. */
function manualClock() {
	let now = 0;
	let next = 0;
	const pending = new Map<number, { at: number; callback: () => void }>();
	const timers: Timers = {
		setTimeout(callback, ms) {
			pending.set(++next, { at: now + ms, callback });
			return next;
		},
		clearTimeout(handle) {
			pending.delete(handle as number);
		},
	};
	function advance(ms: number) {
		const end = now + ms;
		for (;;) {
			const due = [...pending].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
			if (!due) break;
			pending.delete(due[0]);
			now = due[1].at;
			due[1].callback();
		}
		now = end;
	}
	return { timers, advance };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup({ whoami = 200, random = () => 1, listen = true }: { whoami?: number | "down"; random?: () => number; listen?: boolean } = {}) {
	const sockets: FakeSocket[] = [];
	const clock = manualClock();
	const probes: Array<{ url: string; auth: string | null }> = [];
	const fakeFetch = (async (url: string, init?: RequestInit) => {
		probes.push({ url, auth: new Headers(init?.headers).get("Authorization") });
		if (whoami === "down") throw new TypeError("fetch failed");
		return new Response(JSON.stringify({ role: "operator" }), { status: whoami });
	}) as typeof fetch;
	const stream = new FlowStream("https://ordersync.example/", "tok-123", {
		WebSocket: class extends FakeSocket {
			constructor(url: string, init: { headers: Record<string, string> }) {
				super(url, init);
				sockets.push(this);
			}
		},
		timers: clock.timers,
		fetch: fakeFetch,
		random,
	});
	const statuses: StreamStatus[] = [];
	const received: number[] = [];
	const gaps: Array<[number, number]> = [];
	const subscribe = () =>
		stream.subscribe({
			status: (s) => statuses.push(s),
			events: (events) => received.push(...events.map((e) => e.cursor)),
			gap: (after, until) => gaps.push([after, until]),
		});
	if (listen) subscribe();
	const last = () => sockets.at(-1)!;
	return { stream, sockets, last, clock, statuses, received, gaps, probes, subscribe };
}

describe("FlowStream", () => {
	it("connects over wss with the token and reports itself live on hello", () => {
		const { last, statuses } = setup();
		expect(last().url).toBe("wss://ordersync.example/ops/stream");
		expect(last().init.headers.Authorization).toBe("Bearer tok-123");
		last().open();
		last().hello(42, { from: 0, role: "read" });
		expect(statuses).toEqual([
			{ state: "connecting", attempt: 1 },
			{ state: "live", role: "read", cursor: 42 },
		]);
	});

	it("resumes after the last cursor seen and never hands an event over twice", () => {
		const { sockets, last, clock, received } = setup();
		last().open();
		last().hello(3, { from: 0 });
		last().events(1, 2, 3);
		last().drop();
		clock.advance(250);
		expect(sockets).toHaveLength(2);
		expect(new URL(last().url).searchParams.get("after")).toBe("3");
		last().open();
		last().hello(6, { from: 3 });
		// The worker may send again what the console already has, or repeat itself within a batch.
		last().events(2, 3, 4, 5);
		last().events(5, 6, 6);
		expect(received).toEqual([1, 2, 3, 4, 5, 6]);
	});

	it("reconnects with full-jitter backoff that doubles up to 5 s, and starts over once live", async () => {
		const { last, clock, statuses } = setup({ whoami: 503 });
		const waits: number[] = [];
		for (let i = 0; i < 7; i++) {
			last().refuse();
			await settle(); // the whoami probe
			const status = statuses.at(-1)!;
			expect(status).toMatchObject({ state: "reconnecting", attempt: i + 1, reason: "the worker answered 503" });
			waits.push((status as { retryInMs: number }).retryInMs);
			clock.advance(5_000);
		}
		expect(waits).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000]);
		expect(statuses.at(-1)).toEqual({ state: "connecting", attempt: 8 });
		last().open();
		last().hello(0, { from: 0 });
		last().drop();
		expect(statuses.at(-1)).toMatchObject({ state: "reconnecting", attempt: 1, retryInMs: 250, reason: "the connection closed (1006)" });
	});

	it("reports the whole status sequence across a drop", () => {
		const { last, clock, statuses } = setup({ random: () => 0.5 });
		last().open();
		last().hello(10, { from: 0 });
		last().drop(1011);
		clock.advance(125);
		last().open();
		last().hello(12, { from: 0 });
		expect(statuses).toEqual([
			{ state: "connecting", attempt: 1 },
			{ state: "live", role: "operator", cursor: 10 },
			{ state: "reconnecting", attempt: 1, reason: "the connection closed (1011)", retryInMs: 125 },
			{ state: "connecting", attempt: 2 },
			{ state: "live", role: "operator", cursor: 12 },
		]);
	});

	it("stops for good when the worker refuses the token (401)", async () => {
		const { sockets, last, clock, statuses, probes } = setup({ whoami: 401 });
		last().refuse();
		await settle();
		expect(probes).toEqual([{ url: "https://ordersync.example/ops/whoami", auth: "Bearer tok-123" }]);
		expect(statuses.at(-1)).toEqual({ state: "refused", reason: "the worker refused the token (401)" });
		clock.advance(60_000);
		expect(sockets).toHaveLength(1);
	});

	it("keeps retrying a worker that is down, or that takes the token but not the stream", async () => {
		const down = setup({ whoami: "down" });
		down.last().refuse();
		await settle();
		expect(down.statuses.at(-1)).toMatchObject({ state: "reconnecting", reason: "cannot reach https://ordersync.example" });
		const odd = setup();
		odd.last().refuse();
		await settle();
		expect(odd.statuses.at(-1)).toMatchObject({ state: "reconnecting", reason: "the worker refused the stream" });
	});

	it("pings every 20 s and drops a connection that has said nothing for 45 s", () => {
		const { sockets, last, clock, statuses } = setup();
		const first = last();
		first.open();
		first.hello(0, { from: 0 });
		clock.advance(20_000);
		expect(first.sent).toEqual(["ping"]);
		first.message("pong"); // any message keeps it alive
		clock.advance(40_000);
		expect(first.sent).toEqual(["ping", "ping", "ping"]);
		expect(first.closed).toBeNull();
		clock.advance(5_000);
		expect(first.closed).toEqual({ code: 4000, reason: "idle" });
		expect(statuses.at(-1)).toMatchObject({ state: "reconnecting", reason: "no message for 45 s" });
		// The dropped socket's late close changes nothing.
		first.drop();
		expect(statuses.filter((s) => s.state === "reconnecting")).toHaveLength(1);
		clock.advance(250);
		expect(sockets).toHaveLength(2);
	});

	it("ignores messages it cannot read", () => {
		const { last, received, statuses } = setup();
		last().open();
		last().message("not json");
		last().message({ type: "events", events: [{ cursor: "one" }] });
		last().message({ type: "mystery" });
		last().message({ type: "error", message: "the stream takes no messages" });
		last().events(7);
		expect(received).toEqual([7]);
		expect(statuses.at(-1)).toEqual({ state: "connecting", attempt: 1 });
	});

	it("passes payout changes on to listeners that want them", () => {
		const { stream, last } = setup();
		const changes: unknown[] = [];
		stream.subscribe({ payout: (change) => changes.push(change) });
		last().open();
		last().hello(0, { from: 0 });
		last().message({ type: "payout", payoutKey: "shopify-demo:105127866449", status: "posted" });
		last().message({ type: "payout", payoutKey: "shopify-demo:1" }); // no status: not one it can read
		expect(changes).toEqual([{ payoutKey: "shopify-demo:105127866449", status: "posted" }]);
	});

	it("passes gaps on and resumes after them", () => {
		const { sockets, last, clock, received, gaps } = setup();
		last().open();
		last().hello(2, { from: 0 });
		last().events(1, 2);
		last().drop();
		clock.advance(250);
		// Away long enough for the worker to prune 3–300: its catch-up starts after the oldest it kept.
		expect(new URL(last().url).searchParams.get("after")).toBe("2");
		last().open();
		last().hello(302, { from: 300 });
		last().message({ type: "gap", after: 2, until: 300 });
		last().events(301, 302);
		expect(gaps).toEqual([[2, 300]]);
		last().drop();
		clock.advance(250);
		expect(new URL(sockets[2]!.url).searchParams.get("after")).toBe("302");
		expect(received).toEqual([1, 2, 301, 302]);
	});

	it("resumes after the cursor the worker started from, even when it sent no event", () => {
		const { last, clock, received } = setup();
		last().open();
		last().hello(0, { from: 0 }); // an empty log
		last().drop();
		clock.advance(250);
		// Not the latest 200: every event since this console connected.
		expect(new URL(last().url).searchParams.get("after")).toBe("0");
		last().open();
		last().hello(250, { from: 0 });
		last().events(...Array.from({ length: 250 }, (_, i) => i + 1));
		expect(received).toHaveLength(250);
	});

	it("follows a worker whose log started over", () => {
		const { last, clock, received } = setup();
		last().open();
		last().hello(90, { from: 0 });
		last().events(89, 90);
		last().drop();
		clock.advance(250);
		expect(new URL(last().url).searchParams.get("after")).toBe("90");
		// Fresh state: asked for after 90, the worker has only 1–4 and sends its latest from the start.
		last().open();
		last().hello(4, { from: 0 });
		last().events(1, 2, 3, 4);
		expect(received).toEqual([89, 90, 1, 2, 3, 4]);
		last().drop();
		clock.advance(250);
		expect(new URL(last().url).searchParams.get("after")).toBe("4");
	});

	it("keeps its own cursor when an older worker's hello does not say where it starts", () => {
		const { last, clock, received } = setup();
		last().open();
		last().hello(5);
		last().events(4, 5);
		last().drop();
		clock.advance(250);
		expect(new URL(last().url).searchParams.get("after")).toBe("5");
		last().open();
		last().hello(6);
		last().events(5, 6);
		expect(received).toEqual([4, 5, 6]);
	});

	it("connects only once something listens, so no event is handed to nobody", () => {
		const { stream, sockets, last, clock, received, statuses, subscribe } = setup({ listen: false });
		clock.advance(60_000);
		expect(sockets).toHaveLength(0);
		subscribe();
		expect(sockets).toHaveLength(1);
		last().open();
		last().hello(2, { from: 0 });
		last().events(1, 2);
		expect(received).toEqual([1, 2]);
		expect(statuses).toEqual([
			{ state: "connecting", attempt: 1 },
			{ state: "live", role: "operator", cursor: 2 },
		]);
		// A second listener gets the status at once and does not open a second socket.
		const later: StreamStatus[] = [];
		stream.subscribe({ status: (s) => later.push(s) });
		expect(later).toEqual([{ state: "live", role: "operator", cursor: 2 }]);
		expect(sockets).toHaveLength(1);
	});

	it("closes its socket and never reconnects once closed", () => {
		const { stream, sockets, last, clock } = setup();
		last().open();
		last().hello(1, { from: 0 });
		stream.close();
		expect(sockets[0]!.closed).toEqual({ code: 1000, reason: "console closed" });
		clock.advance(60_000);
		expect(sockets).toHaveLength(1);
	});
});
