#!/usr/bin/env node
// `npm run bench:console`: the interactive console (console/app.tsx) under a steady flow of events,
// measured the way an operator would feel it. No worker: the console is bundled with esbuild, as
// console/bin.mjs does, and rendered with Ink into a fake terminal (80×24, counts what is written),
// fed by the real FlowStream over a fake WebSocket, so every event goes through JSON.parse and the
// protocol's zod schema as it does in production. Segments, one after another (about a minute):
//   steady  200 events/s for 30 s, Live view following;
//   keys    200 events/s while 20 keys are pressed (p pause, p resume, ? help, ? close), each timed
//           from its write into stdin to the first frame showing its effect;
//   filter  200 events/s for 6 s with `/channel:tiktok` applied (typed before, cleared with `c` after);
//   burst   1,000 events/s for 10 s.
// Events arrive every 10 ms in messages of 1–4 events, as the FlowMonitor fans out one message per
// recorded change. Per segment: frames written per second (Ink writes one per render that changed
// the screen; judged where only events arrive, since each key press adds one), event-loop delay
// (perf_hooks.monitorEventLoopDelay: keys are handled on that loop), CPU of this process per
// second, and heap used after a forced GC at every segment boundary (so the run re-executes
// itself with --expose-gc). The store's window is read off the Live view's status line
// ("· 2000/2000 events"). React's production build unless NODE_ENV says otherwise, as in `ordersync`. Writes
// bench/console-results.json and bench/console-results.md; exits 1 when a goal is missed.
//
// Knobs (env): BENCH_CONSOLE_SECONDS (30, the steady segment), BENCH_CONSOLE_RATE (200),
// BENCH_CONSOLE_BURST_RATE (1,000), BENCH_CONSOLE_BURST_SECONDS (10), BENCH_CONSOLE_KEYS (20).
import { execFileSync, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { PassThrough, Writable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { stripVTControlCharacters } from "node:util";

// As console/bin.mjs does, before React is first loaded.
process.env.NODE_ENV ??= "production";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

const RATE = Number(process.env.BENCH_CONSOLE_RATE ?? 200);
const STEADY_SECONDS = Number(process.env.BENCH_CONSOLE_SECONDS ?? 30);
const BURST_RATE = Number(process.env.BENCH_CONSOLE_BURST_RATE ?? 1000);
const BURST_SECONDS = Number(process.env.BENCH_CONSOLE_BURST_SECONDS ?? 10);
const KEY_PRESSES = Number(process.env.BENCH_CONSOLE_KEYS ?? 20);
const FILTER_SECONDS = 6;
const FILTER = "channel:tiktok";
const TICK_MS = 10;
const COLUMNS = 80;
const ROWS = 24;
/** monitorEventLoopDelay's timer period; a sample is the period plus the delay, so it is subtracted. */
const LOOP_RESOLUTION_MS = 5;
const KEY_TIMEOUT_MS = 2000;
const MB = 1024 * 1024;

const GOALS = { framesPerSecond: 10, loopDelayP99Ms: 50, keyLatencyP99Ms: 200, heapGrowthMb: 5, window: 2000 };

async function main() {
	const loadAtStart = os.loadavg().map((l) => round(l, 2));
	const { App, FlowStream } = await bundle();
	const { render } = await import("ink");
	const { createElement } = await import("react");

	const screen = new FakeTerminal();
	const keys = fakeStdin();
	const server = new FakeServer();
	const stream = new FlowStream("http://console-bench.invalid", "bench-token", { WebSocket: server.Socket });
	const renderTimes = [];
	const instance = render(createElement(App, { ops: new BenchOps(), stream, url: "http://console-bench.invalid" }), {
		stdout: screen,
		stdin: keys,
		exitOnCtrlC: true,
		interactive: true,
		alternateScreen: true,
		onRender: ({ renderTime }) => renderTimes.push(renderTime),
	});

	const results = { segments: {}, heap: [], keys: null, window: null };
	const progress = (line) => process.stderr.write(`console bench: ${line}\n`);
	try {
		await screen.until((text) => text.includes("● live") && text.includes("waiting for flow events"), 5000, "the console to connect");
		await settle();
		results.heap.push(heap("start", server.sent));

		const segment = async (name, rate, seconds, during) => {
			progress(`${name}: ${rate} events/s${seconds ? ` for ${seconds} s` : ""}…`);
			const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
			const start = { at: performance.now(), cpu: process.cpuUsage(), frames: screen.frames, writes: screen.writes, bytes: screen.bytes, renders: renderTimes.length, events: server.sent };
			loop.enable();
			const feed = server.feed(rate);
			const extra = during ? await during() : undefined;
			const left = seconds * 1000 - (performance.now() - start.at);
			if (left > 0) await sleep(left);
			feed.stop();
			loop.disable();
			const wall = (performance.now() - start.at) / 1000;
			const cpu = process.cpuUsage(start.cpu);
			const renders = renderTimes.slice(start.renders).sort((a, b) => a - b);
			const delay = (p) => round(Math.max(0, loop.percentile(p) / 1e6 - LOOP_RESOLUTION_MS), 1);
			const result = {
				seconds: round(wall, 1),
				events: server.sent - start.events,
				eventsPerSecond: round((server.sent - start.events) / wall, 0),
				framesPerSecond: round((screen.frames - start.frames) / wall, 1),
				writesPerSecond: round((screen.writes - start.writes) / wall, 1),
				kbPerSecond: round((screen.bytes - start.bytes) / 1024 / wall, 1),
				rendersPerSecond: round(renders.length / wall, 1),
				renderMs: { p50: round(percentile(renders, 50), 2), p99: round(percentile(renders, 99), 2), max: round(renders.at(-1) ?? 0, 2) },
				loopDelayMs: { p50: delay(50), p99: delay(99), max: round(Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS), 1) },
				cpuMsPerSecond: round((cpu.user + cpu.system) / 1000 / wall, 0),
				cpuMsPer1000Events: round((cpu.user + cpu.system) / 1000 / ((server.sent - start.events) / 1000), 1),
				...extra,
			};
			results.segments[name] = result;
			await settle();
			const shown = screen.windowShown();
			result.shownAfter = shown;
			results.heap.push(heap(`after ${name}`, server.sent));
			progress(
				`${name}: ${result.framesPerSecond} frames/s, loop delay p99 ${result.loopDelayMs.p99} ms (max ${result.loopDelayMs.max}), ` +
					`CPU ${result.cpuMsPerSecond} ms/s, heap ${results.heap.at(-1).usedMb} MB, window ${shown?.window ?? "?"}`,
			);
			return result;
		};

		await segment("steady", RATE, STEADY_SECONDS);
		await segment("keys", RATE, 0, async () => {
			const presses = await pressKeys(screen, keys, KEY_PRESSES);
			const times = presses.filter((p) => p.ms !== null).map((p) => p.ms).sort((a, b) => a - b);
			results.keys = {
				presses: presses.length,
				answered: times.length,
				p50: round(percentile(times, 50), 1),
				p99: round(percentile(times, 99), 1),
				max: round(times.at(-1) ?? null, 1),
				// Ink draws at most one frame per 34 ms (maxFps 30): a key pressed sooner than that after
				// a batch's frame waits for the rest of it.
				pressedWithin34MsOfAFrame: presses.filter((p) => p.sinceFrame < 34).length,
				byKey: Object.fromEntries(["pause", "resume", "help", "close help"].map((what) => [what, presses.filter((p) => p.what === what).map((p) => (p.ms === null ? null : round(p.ms, 1)))])),
			};
			return { keyPresses: presses.length };
		});
		// The filter is typed between segments, so its keys' frames do not count as the feed's.
		keys.write("/");
		await screen.until((text) => text.includes("filter:"), KEY_TIMEOUT_MS, "the filter prompt");
		keys.write(`${FILTER}\r`);
		await screen.until((text) => text.includes(`filter: ${FILTER}`), KEY_TIMEOUT_MS, "the filter to apply");
		await settle();
		await segment("filter", RATE, FILTER_SECONDS, async () => ({ filter: FILTER }));
		keys.write("c");
		await screen.until((text) => text.includes("following") && !text.includes("filter: "), KEY_TIMEOUT_MS, "the filter to clear");
		await segment("burst", BURST_RATE, BURST_SECONDS);
		results.window = screen.windowShown();
	} finally {
		instance.unmount();
		await instance.waitUntilExit().catch(() => {});
		stream.close();
		keys.end();
	}

	const report = summarize(results, server.sent, loadAtStart);
	writeFileSync(join(here, "console-results.json"), `${JSON.stringify(report, null, "\t")}\n`);
	writeFileSync(join(here, "console-results.md"), markdown(report));
	process.stdout.write(`\n${table(report)}\n\nwrote bench/console-results.json and bench/console-results.md\n`);
	// Nothing of the console may outlive it: a timer, a socket or a stream left here would be a leak.
	await sleep(50);
	const left = process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap" && r !== "PipeWrap");
	if (left.length > 0) process.stderr.write(`console bench: still active after unmount: ${left.join(", ")}\n`);
	process.exitCode = report.met ? 0 : 1;
}

/** Bundles the console as console/bin.mjs does (its App and FlowStream only) and imports it. */
async function bundle() {
	const { bundleConsole } = await import("../console/build.mjs");
	const out = join(root, "node_modules", ".cache", "ordersync", "console-bench.mjs");
	await bundleConsole(
		{ stdin: { contents: 'export { App } from "./app";\nexport { FlowStream } from "./stream";\n', resolveDir: join(root, "console"), sourcefile: "console-bench.ts", loader: "ts" } },
		out,
	);
	return import(`${pathToFileURL(out).href}?${Date.now()}`);
}

/** A terminal as Ink sees one: a TTY of 80×24. Keeps counts and the last frame, never the history. */
class FakeTerminal extends Writable {
	isTTY = true;
	columns = COLUMNS;
	rows = ROWS;
	writes = 0;
	bytes = 0;
	/** Writes that draw something (not only escapes: synchronized-output markers, cursor hiding). */
	frames = 0;
	last = "";
	lastAt = 0;
	#watchers = new Set();

	constructor() {
		super({ decodeStrings: false });
	}

	_write(chunk, _encoding, callback) {
		const raw = typeof chunk === "string" ? chunk : chunk.toString("utf8");
		this.writes++;
		this.bytes += Buffer.byteLength(raw);
		const text = stripVTControlCharacters(raw);
		if (text.trim() !== "") {
			this.frames++;
			this.last = text;
			this.lastAt = performance.now();
			for (const watch of this.#watchers) watch(text);
		}
		callback();
	}

	getColorDepth() {
		return 8;
	}
	hasColors() {
		return true;
	}

	/** Resolves with the time of the first frame (this one included) for which `test` holds. */
	until(test, timeoutMs, what) {
		return new Promise((resolve, reject) => {
			if (this.last && test(this.last)) return resolve(performance.now());
			const timer = setTimeout(() => {
				this.#watchers.delete(watch);
				reject(new Error(`no frame showed ${what} within ${timeoutMs} ms; the last one was:\n${this.last}`));
			}, timeoutMs);
			const watch = (text) => {
				if (!test(text)) return;
				clearTimeout(timer);
				this.#watchers.delete(watch);
				resolve(performance.now());
			};
			this.#watchers.add(watch);
		});
	}

	/** The Live view's status line: "· shown/kept events", kept being the store's window. */
	windowShown() {
		const m = /· (\d+)\/(\d+) events/.exec(this.last);
		return m ? { shown: Number(m[1]), window: Number(m[2]) } : null;
	}
}

/** Keys written into a stream that says it is a TTY in raw mode, as console/cli.tsx's keysFrom. */
function fakeStdin() {
	const keys = new PassThrough();
	return Object.assign(keys, { isTTY: true, setRawMode: () => keys, ref: () => keys, unref: () => keys });
}

/**
 * Presses p (pause), p (resume), ? (help), ? (close) in turn, 400–600 ms apart, each timed from its
 * write into stdin to the first frame showing its effect.
 */
async function pressKeys(screen, keys, count) {
	const cycle = [
		{ key: "p", what: "pause", shows: (t) => t.includes("paused ·") },
		{ key: "p", what: "resume", shows: (t) => t.includes("· following") },
		{ key: "?", what: "help", shows: (t) => t.includes("Keys: Live") },
		{ key: "?", what: "close help", shows: (t) => t.includes("· following") && !t.includes("Keys: Live") },
	];
	const presses = [];
	for (let i = 0; i < count; i++) {
		await sleep(400 + Math.random() * 200);
		const { key, what, shows } = cycle[i % cycle.length];
		const sent = performance.now();
		const sinceFrame = sent - screen.lastAt;
		const shown = screen.until(shows, KEY_TIMEOUT_MS, `the effect of "${key}" (${what})`);
		keys.write(key);
		try {
			presses.push({ what, ms: (await shown) - sent, sinceFrame });
		} catch {
			presses.push({ what, ms: null });
		}
	}
	// End as it started: following, no overlay.
	if (count % cycle.length !== 0) {
		for (let i = count % cycle.length; i < cycle.length; i++) {
			keys.write(cycle[i].key);
			await sleep(100);
		}
	}
	return presses;
}

/**
 * The worker's side of `/ops/stream`: a WebSocket class for FlowStream that says hello, then sends
 * the events `feed` generates as JSON text frames.
 */
class FakeServer {
	sent = 0;
	#cursor = 0;
	#sockets = new Set();
	#flow = new FlowGenerator();

	get Socket() {
		const server = this;
		return class BenchSocket {
			onopen = null;
			onmessage = null;
			onclose = null;
			onerror = null;
			constructor() {
				server.#sockets.add(this);
				setImmediate(() => {
					this.onopen?.({});
					this.onmessage?.({ data: JSON.stringify({ type: "hello", role: "operator", cursor: server.#cursor, oldest: 0, from: server.#cursor }) });
				});
			}
			send(data) {
				if (data === "ping") setImmediate(() => this.onmessage?.({ data: "pong" }));
			}
			close() {
				server.#sockets.delete(this);
			}
		};
	}

	/** Sends `rate` events a second, every TICK_MS, in messages of 1–4 events; catches up after a stall. */
	feed(rate) {
		const start = performance.now();
		let due = 0;
		const timer = setInterval(() => {
			const target = Math.floor(((performance.now() - start) * rate) / 1000);
			while (due < target) {
				const n = Math.min(target - due, 1 + Math.floor(Math.random() * 4));
				const at = new Date().toISOString();
				const events = [];
				for (let i = 0; i < n; i++) events.push({ cursor: ++this.#cursor, at, ...this.#flow.next() });
				const data = JSON.stringify({ type: "events", events });
				for (const socket of this.#sockets) socket.onmessage?.({ data });
				due += n;
				this.sent += n;
			}
		}, TICK_MS);
		return { stop: () => clearInterval(timer) };
	}
}

const CONNECTIONS = [
	{ connection: "shopify-demo", channel: "shopify", name: (n) => `#${1000 + n}` },
	{ connection: "shopify-outlet", channel: "shopify", name: (n) => `#O${5000 + n}` },
	{ connection: "tiktok-shop", channel: "tiktok", name: (n) => `TT${577000 + n}` },
	{ connection: "amazon-us", channel: "amazon", name: (n) => `113-${String(4400000 + n * 37).padStart(7, "0")}` },
	{ connection: "woo-eu", channel: "woocommerce", name: (n) => `W${2000 + n}` },
];
const SKUS = ["TEE-BLK-S", "TEE-BLK-M", "TEE-BLK-L", "TEE-WHT-M", "CAP-NVY", "CAP-RED", "SOCK-3PK", "SOCK-6PK", "HOODIE-GRY-M", "HOODIE-GRY-L", "BOOT-42", "BOOT-43", "MUG-12OZ", "BAG-TOTE", "GIFT-SET", "JACKET-OLV-M"];
const LOCATIONS = ["wh-east", "wh-west", "store-nyc"];
const pick = (list) => list[Math.floor(Math.random() * list.length)];

/**
 * Plausible flow events: ~40 orders in flight at once, each going through its life (received,
 * line reservations, status, pushes, routing, the 3PL call, shipment, fulfilment on the channel,
 * tracking, delivery), interleaved, with redeliveries, retries and the odd quarantine or dead letter.
 */
class FlowGenerator {
	#orders = [];
	#n = 0;

	next() {
		if (Math.random() < 0.03) return this.#stray();
		while (this.#orders.length < 40) this.#orders.push(this.#order());
		const i = Math.floor(Math.random() * this.#orders.length);
		const order = this.#orders[i];
		const event = order.steps.shift();
		if (order.steps.length === 0) this.#orders.splice(i, 1);
		return event;
	}

	#order() {
		const n = ++this.#n;
		const c = CONNECTIONS[n % CONNECTIONS.length];
		const id = String(6_100_000_000 + n * 7);
		const base = { connection: c.connection, channel: c.channel, orderKey: `${c.connection}:${id}` };
		const name = c.name(n);
		const lines = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => ({ sku: pick(SKUS), qty: 1 + Math.floor(Math.random() * 3) }));
		const location = pick(LOCATIONS);
		const tracking = `9400${String(Math.floor(Math.random() * 1e15)).padStart(15, "0")}`;
		const short = Math.random() < 0.05;
		const steps = [{ type: "received", ...base, orderName: name, topic: "orders/create", eventId: `evt_${id}`, status: "received" }];
		if (Math.random() < 0.1) steps.push({ type: "duplicate", ...base, topic: "orders/create", eventId: `evt_${id}` });
		for (const [j, line] of lines.entries()) {
			const backordered = short && j === 0;
			steps.push({ type: backordered ? "line.backordered" : "line.reserved", ...base, sku: line.sku, detail: backordered ? `×${line.qty}, 0 held` : `×${line.qty}` });
		}
		steps.push({ type: short ? "backordered" : "reserved", ...base, orderName: name, status: short ? "backordered" : "reserved", detail: short ? `1 of ${lines.length} lines short` : `${lines.length} lines` });
		for (const line of lines) steps.push({ type: "pushed", sku: line.sku, connection: c.connection, detail: `${c.connection} shows ${Math.floor(Math.random() * 400)}` });
		if (short) return { steps };
		steps.push({ type: "routed", ...base, orderName: name, status: "routed", detail: `${location} via 3pl:shipbob` });
		if (Math.random() < 0.05) {
			steps.push({ type: "retrying", ...base, detail: "3pl.order → 3pl:shipbob: 503 Service Unavailable (attempt 1; again in 2 s)" });
			steps.push({ type: "sent", ...base, detail: "3pl.order → 3pl:shipbob (attempt 2)" });
		} else steps.push({ type: "sent", ...base, detail: "3pl.order → 3pl:shipbob" });
		steps.push({ type: "accepted", ...base, orderName: name, status: "accepted", detail: `3pl:shipbob order ${88_000 + this.#n} for ${location}` });
		const units = lines.reduce((sum, line) => sum + line.qty, 0);
		steps.push({ type: "shipment.shipped", ...base, detail: `shp_${id}: ${units} units via USPS ${tracking}` });
		for (const line of lines) steps.push({ type: "line.committed", ...base, sku: line.sku, detail: `×${line.qty} shipped from ${location}` });
		steps.push({ type: "fulfilled", ...base, orderName: name, status: "fulfilled", detail: `${lines.length} lines` });
		steps.push({ type: "sent", ...base, detail: `channel.fulfillment → ${c.connection}` });
		steps.push({ type: "fulfilled.on-channel", ...base, detail: `fulfilment ${5_550_000 + this.#n}` });
		steps.push({ type: "tracking.in_transit", ...base, detail: `USPS ${tracking}` });
		steps.push({ type: "tracking.out_for_delivery", ...base, detail: `USPS ${tracking}` });
		steps.push({ type: "delivered", ...base, orderName: name, status: "delivered", detail: `${lines.length} lines` });
		return { steps };
	}

	#stray() {
		const c = pick(CONNECTIONS);
		const r = Math.random();
		if (r < 0.4) return { type: "stale", connection: c.connection, channel: c.channel, topic: "orders/updated", eventId: `evt_s${this.#n}` };
		if (r < 0.6) return { type: "ignored", connection: c.connection, channel: c.channel, topic: "customers/update", detail: "topic customers/update is not handled" };
		if (r < 0.8) return { type: "stock.arrived", sku: pick(SKUS), detail: "routing again" };
		if (r < 0.93) return { type: "quarantined", connection: c.connection, channel: c.channel, topic: "orders/create", eventId: `evt_q${this.#n}`, detail: "line_items[0].quantity: expected a number" };
		return { type: "dead-lettered", connection: c.connection, channel: c.channel, orderKey: `${c.connection}:${6_100_000_000 + this.#n * 7}`, detail: "3pl.order → 3pl:shipbob: 422 Unprocessable Entity (address invalid)" };
	}
}

/** The ops API with small fixed answers; the Live view never calls it, other views might. */
class BenchOps {
	async order(key) {
		throw Object.assign(new Error(`no order ${key} in the bench`), { status: 404, code: "not_found" });
	}
	async sku(sku) {
		return { sku, available: 10, onHand: 12, reserved: 2, updatedAt: null, channels: { "shopify-demo": 10 }, locations: [], reservations: [], backorders: [], audit: [] };
	}
	async exceptions() {
		const at = new Date().toISOString();
		return [{ id: "q1", kind: "quarantine", status: "open", reason: "body failed to parse", connection: "shopify-demo", channel: "shopify", topic: "orders/create", eventId: null, orderKey: null, attempts: 0, createdAt: at, updatedAt: at, resolution: null }];
	}
	async exception(id) {
		const [item] = await this.exceptions();
		return { ...item, id, rawBody: "{}" };
	}
	async replay() {
		return { status: "replayed" };
	}
	async cancel() {
		return { status: "cancelled" };
	}
}

/** Heap after a full GC; taken between segments, so the collection does not count as loop delay. */
function heap(label, events) {
	globalThis.gc();
	const m = process.memoryUsage();
	return { label, events, usedMb: round(m.heapUsed / MB, 2), totalMb: round(m.heapTotal / MB, 2), rssMb: round(m.rss / MB, 1) };
}

/** Lets a pending batch render and Ink's throttled frame go out before a measurement. */
const settle = () => sleep(250);

/** Segments whose frames come from the feed alone; in `keys` every press adds a frame, as it should. */
const FEED_ONLY = ["steady", "filter", "burst"];

function summarize(results, events, loadAtStart) {
	const segments = results.segments;
	const middle = results.heap.find((h) => h.label === "after steady");
	const end = results.heap.at(-1);
	const growth = round(end.usedMb - middle.usedMb, 2);
	const worstFrames = Math.max(...FEED_ONLY.map((name) => segments[name].framesPerSecond));
	const worstLoopP99 = Math.max(...Object.values(segments).map((s) => s.loopDelayMs.p99));
	const keysAnswered = results.keys.answered === results.keys.presses;
	const checks = {
		framesPerSecond: { value: worstFrames, goal: `≤ ${GOALS.framesPerSecond} while only events arrive (steady, filter, burst)`, met: worstFrames <= GOALS.framesPerSecond },
		loopDelayP99Ms: { value: worstLoopP99, goal: `≤ ${GOALS.loopDelayP99Ms} ms in every segment`, met: worstLoopP99 <= GOALS.loopDelayP99Ms },
		keyLatencyP99Ms: { value: results.keys.p99, goal: `≤ ${GOALS.keyLatencyP99Ms} ms, every key answered`, met: keysAnswered && results.keys.p99 !== null && results.keys.p99 <= GOALS.keyLatencyP99Ms },
		heapGrowthMb: { value: growth, goal: `end − after steady ≤ ${GOALS.heapGrowthMb} MB`, met: growth <= GOALS.heapGrowthMb },
		window: { value: results.window?.window ?? null, goal: `≤ ${GOALS.window}`, met: results.window !== null && results.window.window <= GOALS.window },
	};
	return {
		date: new Date().toISOString(),
		...source(),
		node: process.version,
		// React picks its build from NODE_ENV when first loaded, as in `ordersync` itself.
		react: process.env.NODE_ENV === "production" ? "production" : "development",
		machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model?.trim() ?? null, loadAverageAtStart: loadAtStart, loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)) },
		terminal: `${COLUMNS}×${ROWS}, TTY, alternate screen`,
		eventsSent: events,
		segments,
		keyLatencyMs: results.keys,
		heap: results.heap,
		window: results.window,
		checks,
		met: Object.values(checks).every((c) => c.met),
	};
}

function source() {
	const git = (...args) => {
		try {
			return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
		} catch {
			return null;
		}
	};
	const dirty = git("status", "--porcelain", "--", "console");
	return { commit: git("rev-parse", "--short", "HEAD"), uncommittedConsoleChanges: dirty === null ? null : dirty.length > 0 };
}

const mark = (met) => (met ? "✅" : "❌");

function rows(report) {
	const s = report.segments;
	const k = report.keyLatencyMs;
	const h = report.heap;
	const c = report.checks;
	const seg = (name, what) => {
		const x = s[name];
		const judged = FEED_ONLY.includes(name);
		return [
			`${name}: ${what}`,
			`${x.framesPerSecond} frames/s (${x.kbPerSecond} KB/s; render p99 ${x.renderMs.p99} ms) · loop delay p50 ${x.loopDelayMs.p50} / p99 ${x.loopDelayMs.p99} / max ${x.loopDelayMs.max} ms · CPU ${x.cpuMsPerSecond} ms/s`,
			judged ? `frames ≤ ${GOALS.framesPerSecond}/s, loop p99 ≤ ${GOALS.loopDelayP99Ms} ms` : `loop p99 ≤ ${GOALS.loopDelayP99Ms} ms (each key adds a frame)`,
			mark((!judged || x.framesPerSecond <= GOALS.framesPerSecond) && x.loopDelayMs.p99 <= GOALS.loopDelayP99Ms),
		];
	};
	return [
		seg("steady", `${s.steady.eventsPerSecond} events/s for ${s.steady.seconds} s, Live following`),
		seg("keys", `${s.keys.eventsPerSecond} events/s for ${s.keys.seconds} s while ${k.presses} keys are pressed`),
		seg("filter", `${s.filter.eventsPerSecond} events/s for ${s.filter.seconds} s, filter \`${s.filter.filter}\` (${s.filter.shownAfter?.shown ?? "?"} of ${s.filter.shownAfter?.window ?? "?"} shown)`),
		seg("burst", `${s.burst.eventsPerSecond} events/s for ${s.burst.seconds} s, Live following`),
		[
			"key → first frame showing its effect, at 200 events/s",
			`p50 ${k.p50} ms, p99 ${k.p99} ms, max ${k.max} ms (${k.answered} of ${k.presses} answered; p pause, p resume, ? help, ? close; ${k.pressedWithin34MsOfAFrame} pressed within 34 ms of a frame wait for Ink's 30 fps limit)`,
			`p99 ≤ ${GOALS.keyLatencyP99Ms} ms`,
			mark(c.keyLatencyP99Ms.met),
		],
		[
			"heap used after a forced GC",
			`${h.map((x) => `${x.label} ${x.usedMb} MB (${x.events.toLocaleString("en-US")} events)`).join(" → ")}; end − after steady = ${c.heapGrowthMb.value} MB`,
			`end − after steady ≤ ${GOALS.heapGrowthMb} MB`,
			mark(c.heapGrowthMb.met),
		],
		["store window at the end", `${report.window?.window ?? "?"} events kept of ${report.eventsSent.toLocaleString("en-US")} received`, `≤ ${GOALS.window.toLocaleString("en-US")}`, mark(c.window.met)],
	];
}

function markdown(report) {
	const lines = [
		`**${report.date.slice(0, 10)}** · commit ${report.commit ?? "?"}${report.uncommittedConsoleChanges ? " (with uncommitted console changes)" : ""} · Node ${report.node} · React ${report.react} build · ${report.machine.cpus} cores (${report.machine.model ?? "?"}; load average ${report.machine.loadAverageAtStart[0]} at the start, ${report.machine.loadAverageAtEnd[0]} at the end) · terminal ${report.terminal}`,
		"",
		"| Figure | Result | Goal | Met |",
		"|---|---|---|---|",
		...rows(report).map((r) => `| ${r.join(" | ")} |`),
		"",
		"The console (console/app.tsx, bundled with esbuild) rendered by Ink into a fake 80×24 TTY, fed by the real FlowStream over a fake WebSocket (JSON text frames of 1–4 events every 10 ms). Frames are writes that draw something; loop delay is perf_hooks.monitorEventLoopDelay (5 ms resolution, subtracted); CPU is this one process (Ink, React, the stream's parsing, and the event generator, which is a small share). Heap is measured after a forced GC between segments. Key latency runs from the key's write into stdin to the first frame showing its effect.",
		"",
	];
	return lines.join("\n");
}

function table(report) {
	const lines = rows(report).map(([figure, result, goal, met]) => `${met} ${figure}\n     ${result}\n     goal: ${goal}`);
	return `${lines.join("\n")}\n\n${report.met ? "every goal met" : "a goal was missed"}`;
}

function percentile(sorted, p) {
	if (sorted.length === 0) return null;
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function round(value, digits) {
	if (value === null || value === undefined || Number.isNaN(value)) return null;
	const f = 10 ** digits;
	return Math.round(value * f) / f;
}

function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

// Heap figures need a forced GC: run again with --expose-gc, in a child that is this process's
// only child, and pass its exit code (and Ctrl-C) through.
if (typeof globalThis.gc !== "function") {
	const child = spawn(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
	for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
	child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
	await main();
}
