import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CONNECTION, call, deliver, eventually, newOrderId, ops, order, orderView, sandbox, settled, stock, uniqueSku } from "./helpers";

const READ_TOKEN = env.OPS_READ_TOKEN as string;

type Message = { type: string; [field: string]: unknown };
type Flow = { cursor: number; type: string; orderKey?: string; orderName?: string; channel?: string; status?: string; detail?: string };

/** A console's stream, opened through the worker as a console would. */
async function connect(query = "", token = env.OPS_TOKEN as string, headers: Record<string, string> = {}) {
	const response = await call(`/ops/stream${query}`, { headers: { ...headers, Upgrade: "websocket", Authorization: `Bearer ${token}` } });
	expect(response.status).toBe(101);
	const ws = response.webSocket!;
	const messages: Message[] = [];
	let closed: { code: number; reason: string } | null = null;
	ws.addEventListener("message", (event) => {
		messages.push(JSON.parse(event.data as string) as Message);
	});
	ws.addEventListener("close", (event) => {
		closed = { code: event.code, reason: event.reason };
	});
	ws.accept();
	const events = () => messages.filter((m) => m.type === "events").flatMap((m) => m.events as Flow[]);
	return { ws, messages, events, closed: () => closed };
}

async function newOrder(label: string) {
	const sku = uniqueSku(label);
	await stock(sku, 5);
	const id = newOrderId();
	await deliver("orders/create", order({ id, number: id, lines: [{ sku, quantity: 1, price: "3.00" }] }));
	await eventually(() => orderView(id), settled);
	return { id, key: `${CONNECTION}:${id}`, name: `#${id}`, sku };
}

describe("the live stream for consoles", () => {
	it("needs an ops token; is a WebSocket; tells the console its role", async () => {
		expect((await call("/ops/stream", { headers: { Upgrade: "websocket" } })).status).toBe(401);
		expect((await call("/ops/stream", { headers: { Upgrade: "websocket", Authorization: "Bearer wrong-token-wrong-token" } })).status).toBe(401);
		const plain = await ops("/ops/stream");
		expect(plain.status).toBe(426);
		expect(await plain.json()).toMatchObject({ error: { code: "upgrade_required" } });

		const operator = await connect();
		const reader = await connect("", READ_TOKEN);
		await eventually(async () => [operator.messages[0], reader.messages[0]], (hellos) => hellos.every(Boolean));
		expect(operator.messages[0]).toMatchObject({ type: "hello", role: "operator" });
		expect(reader.messages[0]).toMatchObject({ type: "hello", role: "read" });
		// The role comes from the token alone; a header that claims more is overwritten.
		const forger = await connect("", READ_TOKEN, { "X-Ordersync-Role": "operator" });
		await eventually(async () => forger.messages[0], (hello) => hello !== undefined);
		expect(forger.messages[0]).toMatchObject({ type: "hello", role: "read" });
		for (const console of [operator, reader, forger]) console.ws.close(1000, "done");
	});

	it("sends every new flow event live, with its order's name, channel and status", async () => {
		const console = await connect();
		const made = await newOrder("live");
		const mine = await eventually(
			async () => console.events().filter((e) => e.orderKey === made.key),
			(events) => events.some((e) => e.type === "accepted"),
		);
		expect(mine[0]).toMatchObject({ type: "received", orderName: made.name, channel: "shopify", status: "received" });
		expect(mine.find((e) => e.type === "accepted")).toMatchObject({ status: "accepted" });
		// A step and the status it leads to are one event ("routed → wh-east", status routed), not two.
		expect(mine.find((e) => e.type === "routed")).toMatchObject({ status: "routed", detail: expect.stringContaining("wh-") });
		const types = mine.map((e) => e.type);
		expect(types.filter((type, i) => type === types[i - 1])).toEqual([]);
		// Cursors only go up, and nothing arrives twice.
		const cursors = console.events().map((e) => e.cursor);
		expect(cursors).toEqual([...new Set(cursors)].sort((a, b) => a - b));
		console.ws.close(1000, "done");
	});

	it("resumes after a drop with exactly the events it missed", async () => {
		const first = await connect();
		await newOrder("before-drop");
		const seen = await eventually(async () => first.events(), (events) => events.length > 0);
		const last = seen.at(-1)!.cursor;
		first.ws.close(1000, "network dropped");

		const missed = await newOrder("while-away");
		const again = await connect(`?after=${last}`);
		const resumed = await eventually(
			async () => again.events(),
			(events) => events.some((e) => e.orderKey === missed.key && e.type === "accepted"),
		);
		// The same events the history holds after that cursor, in order, none twice, none missing.
		const page = (await (await ops(`/ops/flows?after=${last}&limit=1000`)).json()) as { events: Flow[] };
		const upTo = resumed.at(-1)!.cursor;
		expect(resumed.map((e) => e.cursor)).toEqual(page.events.filter((e) => e.cursor <= upTo).map((e) => e.cursor));
		expect(resumed[0]!.cursor).toBe(last + 1);
		again.ws.close(1000, "done");
	});

	it("keeps consoles connected when the monitor is evicted, and still knows their role", async () => {
		const reader = await connect("", READ_TOKEN);
		await eventually(async () => reader.messages[0], (hello) => hello !== undefined);
		await evictDurableObject(env.FLOW_MONITOR.getByName("global") as unknown as DurableObjectStub);
		const made = await newOrder("after-eviction");
		await eventually(async () => reader.events(), (events) => events.some((e) => e.orderKey === made.key && e.type === "accepted"));
		expect(reader.closed()).toBeNull();
		const sockets = await runInDurableObject(env.FLOW_MONITOR.getByName("global"), (_, state) =>
			state.getWebSockets().map((ws) => (ws.deserializeAttachment() as { role: string }).role),
		);
		expect(sockets).toContain("read");
		reader.ws.close(1000, "done");
	});

	it("tells a console where its catch-up starts, and starts afresh for a cursor from an older log", async () => {
		await newOrder("catch-up");
		const latest = (await (await ops("/ops/flows?after=0&limit=1")).json()) as { cursor: number };
		const page = async (after: number) => (await (await ops(`/ops/flows?after=${after}&limit=1000`)).json()) as { events: Flow[] };
		let newest = latest.cursor;
		for (let next = await page(newest); next.events.length > 0; next = await page(newest)) newest = next.events.at(-1)!.cursor;

		const resumed = await connect(`?after=${newest - 3}`);
		await eventually(async () => resumed.messages[0], (hello) => hello !== undefined);
		expect(resumed.messages[0]).toMatchObject({ type: "hello", from: newest - 3 });

		// A cursor past the newest comes from before the worker's state was reset: the latest 200 follow.
		const stale = await connect(`?after=${newest + 5_000}`);
		const hello = (await eventually(async () => stale.messages[0], (m) => m !== undefined)) as unknown as { cursor: number; from: number };
		expect(hello.from).toBe(Math.max(0, hello.cursor - 200));
		const events = await eventually(async () => stale.events(), (list) => list.length > 0);
		expect(events[0]!.cursor).toBe(hello.from + 1);
		expect(stale.messages.some((m) => m.type === "gap")).toBe(false);
		for (const console of [resumed, stale]) console.ws.close(1000, "done");
	});

	it("answers the console's close frame", async () => {
		const console = await connect();
		console.ws.close(4000, "operator quit");
		const closed = await eventually(async () => console.closed(), (value) => value !== null);
		expect(closed).toMatchObject({ code: 4000 });
	});

	it("tells consoles when an exception opens, without a poll", async () => {
		const console = await connect();
		await deliver("orders/create", "{not json", { eventId: "stream-quarantine-1" });
		const opened = await eventually(
			async () => console.messages.find((m) => m.type === "exception" && (m.exception as { eventId?: string }).eventId === "stream-quarantine-1"),
			(m) => m !== undefined,
		);
		expect(opened!.exception).toMatchObject({ kind: "quarantine", status: "open", connection: CONNECTION });
		expect(console.events().some((e) => e.type === "quarantined")).toBe(true);
		console.ws.close(1000, "done");
	});

	it("names the order an exception belongs to", async () => {
		// ShipBob refuses the next call outright: the 3PL order is dead-lettered at once.
		await sandbox("/sandbox/faults", { json: { target: "shipbob", kind: "refuse", remaining: 1 } });
		const sku = uniqueSku("named");
		await stock(sku, 5);
		const id = newOrderId();
		await deliver("orders/create", order({ id, number: id, lines: [{ sku, quantity: 1, price: "3.00" }] }));
		const exceptionId = `delivery:${CONNECTION}:${id}:3pl.order:wh-east`;
		const item = await eventually(
			async () => (await (await ops(`/ops/exceptions/${encodeURIComponent(exceptionId)}`)).json()) as { status?: string; orderName?: string },
			(e) => e.status === "open",
		);
		expect(item.orderName).toBe(`#${id}`);
		const list = (await (await ops("/ops/exceptions")).json()) as { items: Array<{ id: string; orderName: string | null }> };
		expect(list.items.find((e) => e.id === exceptionId)?.orderName).toBe(`#${id}`);
	});

	it("finds orders by the name people use", async () => {
		const made = await newOrder("by-name");
		const found = (await (await ops(`/ops/orders?name=${encodeURIComponent(made.name)}`)).json()) as { items: Array<{ key: string; status: string }> };
		expect(found.items).toEqual([expect.objectContaining({ key: made.key, status: "accepted" })]);
		expect((await ops("/ops/orders?name=%23nope-never")).status).toBe(200);
		expect((await ops("/ops/orders")).status).toBe(400);
	});

	it("says so when a console asks for events older than the history it keeps", async () => {
		// Fill the history past its bound (10,000 events), as a busy day would.
		const monitor = env.FLOW_MONITOR.getByName("global");
		for (let i = 0; i < 21; i++) await monitor.record(Array.from({ length: 500 }, (_, n) => ({ type: "pushed", sku: `filler-${i}-${n}` })));
		const console = await connect("?after=1");
		const gap = await eventually(async () => console.messages.find((m) => m.type === "gap"), (m) => m !== undefined);
		const hello = console.messages[0] as unknown as { oldest: number };
		expect(gap).toMatchObject({ after: 1, until: hello.oldest - 1 });
		expect(console.messages[0]).toMatchObject({ from: hello.oldest - 1 });
		const events = await eventually(async () => console.events(), (list) => list.length >= 9_000);
		expect(events[0]!.cursor).toBe(hello.oldest);
		console.ws.close(1000, "done");
	});
});

describe("read-only and operator tokens", () => {
	it("lets the read-only token look but not change anything", async () => {
		const read = { Authorization: `Bearer ${READ_TOKEN}` };
		expect(await (await call("/ops/whoami", { headers: read })).json()).toEqual({ role: "read" });
		expect(await (await ops("/ops/whoami")).json()).toEqual({ role: "operator" });
		for (const path of ["/ops/flows", "/ops/exceptions", `/ops/skus/${uniqueSku("ro")}`, "/ops/destinations"]) {
			expect((await call(path, { headers: read })).status).toBe(200);
		}
		const refused = [
			["/ops/exceptions/x/replay", "{}"],
			["/ops/exceptions/replay", JSON.stringify({ kind: "quarantine" })],
			["/ops/exceptions/x/cancel", "{}"],
			[`/ops/skus/${uniqueSku("ro")}/adjustments`, "{}"],
			["/v1/inventory/snapshots", "{}"],
		] as const;
		for (const [path, body] of refused) {
			const response = await call(path, { method: "POST", headers: { ...read, "Content-Type": "application/json" }, body });
			expect(response.status, path).toBe(403);
			expect(await response.json()).toMatchObject({ error: { code: "forbidden" } });
		}
	});
});
