// The Exceptions view through real keys: replay one with y/n, bulk replay with a progress bar,
// cancel a dead letter, details, the read-only refusal, and items clearing when the stream says so.
import { cleanup } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { App } from "../../console/app";
import { OpsError } from "../../console/ports";
import type { ExceptionDetail, ExceptionItem, ReplayResult } from "../../console/protocol";
import { exceptionItem, FakeOps, FakeStream, flow, type Given } from "./fakes";
import { KEY, renderAt, sleep } from "./ui";

let ops: FakeOps;

afterEach(() => {
	cleanup();
	expect(ops.unexpected).toEqual([]);
});

const quarantine = exceptionItem({ id: "quarantine:shopify-demo:evt-1", reason: "bad JSON: Unexpected token", createdAt: "2026-01-02T10:00:03.000Z", updatedAt: "2026-01-02T10:00:03.000Z" });
const quarantine2 = exceptionItem({ id: "quarantine:shopify-demo:evt-2", reason: "no line_items", createdAt: "2026-01-02T10:00:02.000Z", updatedAt: "2026-01-02T10:00:02.000Z" });
const deadLetter = exceptionItem({
	id: "dead-letter:shopify-demo:1001/3pl.order",
	kind: "dead-letter",
	orderKey: "shopify-demo:1001",
	reason: "3pl.order to 3pl:shipbob failed 5 times: 503",
	createdAt: "2026-01-02T10:00:01.000Z",
	updatedAt: "2026-01-02T10:00:01.000Z",
});

function open(given: Given, stream = new FakeStream()) {
	ops = new FakeOps({ exceptions: [quarantine, quarantine2, deadLetter], ...given });
	const ui = renderAt(<App ops={ops} stream={stream} url="http://127.0.0.1:8787" />);
	return { ui, stream };
}

/** Opens Exceptions with `2` and waits for the list (newest first: quarantine, quarantine2, deadLetter). */
async function exceptions(ui: ReturnType<typeof open>["ui"]) {
	await ui.press("2");
	return ui.waitFor("3 open");
}

describe("Exceptions", () => {
	it("lists open exceptions one line each: kind, age, order or connection, reason", async () => {
		const { ui } = open({});
		const frame = await exceptions(ui);
		const lines = frame.split("\n");
		const q = lines.find((l) => l.includes("Unexpected token")) ?? "";
		expect(q).toMatch(/^quarantine\s+\d+[smhd]\s+shopify-demo orders\/create/);
		const dl = lines.find((l) => l.startsWith("dead-letter")) ?? "";
		expect(dl).toMatch(/^dead-letter\s+\d+[smhd]\s+shopify-demo:1001\s+3pl.order to 3pl:shipbob/);
	});

	it("r then y replays the selected item once; it disappears when the stream says it resolved", async () => {
		const { ui, stream } = open({ replay: { [quarantine2.id]: { status: "replayed", order: "shopify-demo:1002" } } });
		await exceptions(ui);
		await ui.press(KEY.down, "r");
		await ui.waitFor(`Replay ${quarantine2.id}`);
		await ui.press("y");
		const frame = await ui.waitFor("replay: ok (replayed)");
		expect(frame).toMatch(/shopify-demo orders\/create ✓ replayed · no line_items/);
		expect(ops.count(`replay ${quarantine2.id}`)).toBe(1);
		// Still listed until the worker resolves it.
		expect(frame).toContain("no line_items");

		stream.exception({ ...quarantine2, status: "resolved", resolution: "replayed", updatedAt: "2026-01-02T10:05:00.000Z" });
		await ui.waitFor((f) => f.includes("2 open") && !f.includes("no line_items"));
		// The refetch the stream triggers must not bring it back.
		await sleep(400);
		expect(ops.count("exceptions open")).toBeGreaterThanOrEqual(2);
		expect(ui.frame()).not.toContain("no line_items");
		expect(ops.count(`replay ${quarantine2.id}`)).toBe(1);
	});

	it("n (or Esc) at the confirmation does nothing", async () => {
		const { ui } = open({});
		await exceptions(ui);
		await ui.press("r");
		await ui.waitFor("y/n");
		await ui.press("n");
		await ui.waitFor((f) => !f.includes("y/n"));
		await ui.press("r");
		await ui.waitFor("y/n");
		await ui.press(KEY.esc);
		await ui.waitFor((f) => !f.includes("y/n"));
		expect(ops.calls.filter((c) => c.startsWith("replay"))).toEqual([]);
	});

	it("shows the worker's refusal when a replay fails, and keeps the item", async () => {
		const { ui } = open({ replay: { [quarantine.id]: new OpsError(422, "still_invalid", "the stored payload still fails to parse") } });
		await exceptions(ui);
		await ui.press("r", "y");
		const frame = await ui.waitFor("replay failed: the stored payload still fails to parse (422 still_invalid)");
		expect(frame).toMatch(/✗ the stored payload/);
		expect(frame).toContain("3 open");
	});

	it("R replays every item matching the filter after saying how many, with progress and a summary", async () => {
		let release: (() => void) | undefined;
		const slow = () => new Promise<ReplayResult>((resolve) => (release = () => resolve({ status: "replayed" })));
		const { ui } = open({
			replay: { [quarantine.id]: slow, [quarantine2.id]: new OpsError(409, "not_replayable", "already replayed") },
		});
		await exceptions(ui);
		await ui.press("/", "kind:quarantine", KEY.enter);
		await ui.waitFor("2 shown");
		await ui.press("R");
		await ui.waitFor('Replay all 2 exceptions matching "kind:quarantine"? y/n');
		await ui.press("y");
		let frame = await ui.waitFor("0/2");
		expect(frame).toContain("Replaying 2 exceptions");
		release?.();
		frame = await ui.waitFor("Done: 1 succeeded, 1 failed");
		expect(frame).toContain("2/2");
		expect(frame).toContain(`✓ ${quarantine.id}: replayed`);
		expect(frame).toContain(`✗ ${quarantine2.id}: already replayed (409 not_replayable)`);
		expect(ops.count(`replay ${quarantine.id}`)).toBe(1);
		expect(ops.count(`replay ${quarantine2.id}`)).toBe(1);
		expect(ops.calls.filter((c) => c.startsWith(`replay ${deadLetter.id}`))).toEqual([]);
		await ui.press(KEY.esc);
		await ui.waitFor("2 shown");
	});

	it("x cancels a dead letter after y, and refuses anything else", async () => {
		const { ui } = open({ cancel: { [deadLetter.id]: { status: "cancelled" } } });
		await exceptions(ui);
		await ui.press("x");
		await ui.waitFor("only dead letters can be cancelled");
		await ui.press(KEY.down, KEY.down, "x");
		await ui.waitFor(`Cancel dead letter ${deadLetter.id}`);
		await ui.press("y");
		await ui.waitFor("cancel: ok (cancelled)");
		expect(ops.count(`cancel ${deadLetter.id}`)).toBe(1);
	});

	it("x marks a payout exception reviewed after y; r does not replay it", async () => {
		const settlement = exceptionItem({
			id: "settlement:shopify-demo:105127866449:bt_2",
			kind: "settlement",
			orderKey: "shopify-demo:6100000002",
			orderName: "#1002",
			connection: null,
			channel: null,
			topic: null,
			reason: "payout 105127866449: order #1002 was paid $50.00 of $55.00 (variance -500 USD)",
			createdAt: "2026-01-02T10:00:04.000Z",
			updatedAt: "2026-01-02T10:00:04.000Z",
		});
		const { ui, stream } = open({ exceptions: [settlement, quarantine], cancel: { [settlement.id]: { status: "resolved", id: settlement.id } } });
		await ui.press("2");
		let frame = await ui.waitFor("2 open");
		expect(frame).toMatch(/^settlement\s+\d+[smhd]\s+#1002 {22}payout 105127866449: order #1002 w…$/m);
		expect(frame).toContain("x mark reviewed");
		await ui.press("r");
		await ui.waitFor("a payout exception is not replayed: its variance is booked; x marks it reviewed");
		await ui.press("x");
		await ui.waitFor("Mark payout 105127866449 line bt_2 (#1002) reviewed? y/n");
		await ui.press("y");
		frame = await ui.waitFor("mark reviewed: ok (resolved)");
		expect(frame).toMatch(/#1002\s+✓ resolved · payout 105127866449/);
		expect(ops.count(`cancel ${settlement.id}`)).toBe(1);
		expect(ops.calls.filter((c) => c.startsWith("replay"))).toEqual([]);
		// It leaves the list when the worker says it is resolved.
		stream.exception({ ...settlement, status: "resolved", resolution: "reviewed by an operator", updatedAt: "2026-01-02T10:06:00.000Z" });
		await ui.waitFor((f) => f.includes("1 open") && !f.includes("#1002"));
		// The footer (once a key clears the outcome) says cancel for anything else.
		await ui.press(KEY.down);
		await ui.waitFor("x cancel");
	});

	it("a read-only token cannot mark a payout exception reviewed", async () => {
		const settlement = exceptionItem({ id: "settlement:shopify-demo:105127866449:total", kind: "settlement", connection: null, channel: null, topic: null, reason: "payout 105127866449: lines do not add up" });
		const { ui } = open({ exceptions: [settlement] }, new FakeStream({ state: "live", role: "read", cursor: 0 }));
		await ui.press("2");
		await ui.waitFor("1 open");
		await ui.press("x");
		const frame = await ui.waitFor("read-only token: cannot mark reviewed");
		expect(frame).not.toContain("y/n");
		await ui.press("y");
		expect(ops.calls.filter((c) => c.startsWith("cancel"))).toEqual([]);
	});

	it("a read-only token gets a refusal instead of a replay", async () => {
		const { ui } = open({}, new FakeStream({ state: "live", role: "read", cursor: 0 }));
		await exceptions(ui);
		// r on the first item, R, then x on the dead letter (the third).
		for (const [key, refusal] of [["r", "cannot replay"], ["R", "cannot replay"], ["x", "cannot cancel"]] as const) {
			await ui.press(key);
			const frame = await ui.waitFor(`read-only token: ${refusal}`);
			expect(frame).not.toContain("y/n");
			await ui.press(KEY.down); // any key clears the message
			await ui.waitFor((f) => !f.includes("read-only token"));
		}
		await ui.press("y");
		expect(ops.calls.filter((c) => c.startsWith("replay") || c.startsWith("cancel"))).toEqual([]);
	});

	it("Enter shows the details with the raw body; Esc goes back to the list", async () => {
		const { ui } = open({ details: { [quarantine.id]: { ...quarantine, attempts: 2, rawBody: '{"id":61,"line_items":' } } });
		await exceptions(ui);
		await ui.press(KEY.enter);
		const frame = await ui.waitFor("Raw body");
		expect(frame).toContain("2 attempts");
		expect(frame).toContain('{"id":61,"line_items":');
		await ui.press(KEY.esc);
		await ui.waitFor((f) => !f.includes("Raw body") && f.includes("no line_items"));
	});

	it("Enter on a trading partner's own dead letter stays on its details (it belongs to no order)", async () => {
		const partner = exceptionItem({ id: "delivery:partner/edi-retailer:997:ZZ:1", kind: "dead-letter", orderKey: "partner/edi-retailer", reason: "997 to the gateway failed 10 times" });
		const { ui } = open({ exceptions: () => [partner], details: { [partner.id]: { ...partner } } });
		await ui.press("2");
		await ui.waitFor("1 open");
		await ui.press(KEY.enter);
		await ui.waitFor("997 to the gateway failed 10 times");
		await ui.press(KEY.enter);
		await sleep(200);
		expect(ops.calls.filter((c) => c.startsWith("order"))).toEqual([]);
		expect(ui.frame()).toContain("Details of delivery:partner/edi-retailer");
	});

	it("keeps itself current: new exceptions from the stream appear, and flow events trigger a refetch", async () => {
		const { ui, stream } = open({});
		await exceptions(ui);
		const fresh = exceptionItem({ id: "unroutable:shopify-demo:1009", kind: "unroutable", orderKey: "shopify-demo:1009", reason: "no location can ship BOOT-42", createdAt: "2026-01-02T10:09:00.000Z", updatedAt: "2026-01-02T10:09:00.000Z" });
		stream.exception(fresh);
		await ui.waitFor("no location can ship BOOT-42");
		const before = ops.count("exceptions open");
		stream.events(flow({ type: "dead-lettered", orderKey: "shopify-demo:1003", detail: "boom" }));
		await sleep(450);
		expect(ops.count("exceptions open")).toBeGreaterThan(before);
	});

	it("refetches once the stream is live again: exceptions that changed while it was down show", async () => {
		let list: ExceptionItem[] = [quarantine, quarantine2, deadLetter];
		const { ui, stream } = open({ exceptions: () => list });
		await exceptions(ui);
		stream.status({ state: "reconnecting", attempt: 1, reason: "the connection closed (1006)", retryInMs: 250 });
		// Meanwhile the worker resolved one and opened another; the stream could not say so.
		const fresh = exceptionItem({ id: "unroutable:shopify-demo:1013", kind: "unroutable", reason: "no location for 1013", createdAt: "2026-01-02T10:13:00.000Z", updatedAt: "2026-01-02T10:13:00.000Z" });
		list = [fresh, quarantine2, deadLetter];
		stream.status({ state: "connecting", attempt: 2 });
		await sleep(400);
		expect(ui.frame()).toContain("Unexpected token");
		stream.status({ state: "live", role: "operator", cursor: 0 });
		const frame = await ui.waitFor("no location for 1013");
		expect(frame).toContain("3 open");
		expect(frame).not.toContain("Unexpected token");
		// Live staying live is no reason to ask again.
		const asked = ops.count("exceptions open");
		stream.status({ state: "live", role: "operator", cursor: 0 });
		await sleep(400);
		expect(ops.count("exceptions open")).toBe(asked);
	});

	it("the details refetch once the stream is live again", async () => {
		let current: ExceptionDetail = { ...deadLetter, attempts: 5 };
		const { ui, stream } = open({ details: { [deadLetter.id]: () => current } });
		await exceptions(ui);
		await ui.press(KEY.down, KEY.down, KEY.enter);
		await ui.waitFor("dead-letter · open · 5 attempts");
		stream.status({ state: "reconnecting", attempt: 1, reason: "the connection closed (1006)", retryInMs: 250 });
		current = { ...current, attempts: 6 };
		stream.status({ state: "live", role: "operator", cursor: 0 });
		await ui.waitFor("dead-letter · open · 6 attempts");
		expect(ops.count(`exception ${deadLetter.id}`)).toBe(2);
	});

	it("the selection stays on its item when others arrive above it or resolve, and moves to the neighbour when it goes", async () => {
		let list: ExceptionItem[] = [quarantine, quarantine2, deadLetter];
		const { ui, stream } = open({ exceptions: () => list });
		await exceptions(ui);
		const arrive = (id: string, minute: number) => {
			const item = exceptionItem({ id, kind: "unroutable", orderKey: `shopify-demo:${id}`, reason: `no location for ${id}`, createdAt: `2026-01-02T10:${minute}:00.000Z`, updatedAt: `2026-01-02T10:${minute}:00.000Z` });
			list = [item, ...list];
			stream.exception(item);
			return ui.waitFor(`no location for ${id}`);
		};
		const resolve = (item: ExceptionItem) => {
			list = list.filter((i) => i.id !== item.id);
			stream.exception({ ...item, status: "resolved", updatedAt: "2026-01-02T10:30:00.000Z" });
			return ui.waitFor((f) => !f.includes(item.reason));
		};
		const selected = async (message: string) => {
			await ui.press("r");
			await ui.waitFor(message);
			await ui.press("n");
			await ui.waitFor((f) => !f.includes("y/n"));
		};

		await arrive("1010", 10);
		await selected(`Replay ${quarantine.id}`);
		await ui.press(KEY.down);
		await selected(`Replay ${quarantine2.id}`);
		await resolve(quarantine);
		await selected(`Replay ${quarantine2.id}`);
		// The selected item goes: its neighbour below takes the selection and keeps it.
		await resolve(quarantine2);
		await selected(`Retry dead letter ${deadLetter.id}`);
		await arrive("1011", 11);
		await arrive("1012", 12);
		await selected(`Retry dead letter ${deadLetter.id}`);
	});

	it("the details refetch when the stream reports a change to the item or an event of its order", async () => {
		const attempt = (ok: boolean) => ({ at: "2026-01-02T10:00:01.000Z", ms: 80, ok, ...(ok ? {} : { error: "503 Service Unavailable" }) });
		const delivery = { id: "d1", kind: "3pl.order", destination: "3pl:shipbob", nextAttemptAt: null, createdAt: deadLetter.createdAt, updatedAt: deadLetter.updatedAt, payload: {}, result: null };
		let current: ExceptionDetail = { ...deadLetter, attempts: 5, delivery: { ...delivery, status: "dead", attempts: 5, lastError: "503 Service Unavailable", history: [attempt(false)] } };
		const { ui, stream } = open({ details: { [deadLetter.id]: () => current } });
		await exceptions(ui);
		await ui.press(KEY.down, KEY.down, KEY.enter);
		let frame = await ui.waitFor("Delivery 3pl.order → 3pl:shipbob · dead");
		expect(frame).toContain("dead-letter · open · 5 attempts");

		// The retry succeeds; the worker resolves the dead letter and says so twice in a burst.
		current = { ...current, status: "resolved", resolution: "delivered on retry", attempts: 6, delivery: { ...current.delivery!, status: "delivered", attempts: 6, lastError: null, history: [attempt(false), attempt(true)] } };
		const resolved = { ...deadLetter, status: "resolved" as const, resolution: "delivered on retry", updatedAt: "2026-01-02T10:06:00.000Z" };
		stream.exception(resolved);
		stream.exception(resolved);
		frame = await ui.waitFor("Delivery 3pl.order → 3pl:shipbob · delivered");
		expect(frame).toContain("dead-letter · resolved · 6 attempts");
		expect(frame).toContain("Resolution: delivered on retry");
		expect(frame).toContain("✓ attempt 2");
		expect(frame).toContain(`Details of ${deadLetter.id} · resolved`);
		await sleep(350);
		expect(ops.count(`exception ${deadLetter.id}`)).toBe(2);

		// Its order's events refetch it too; other orders' do not.
		stream.events(flow({ type: "received", orderKey: "shopify-demo:other" }));
		await sleep(350);
		expect(ops.count(`exception ${deadLetter.id}`)).toBe(2);
		stream.events(flow({ type: "accepted", orderKey: deadLetter.orderKey! }));
		await sleep(350);
		expect(ops.count(`exception ${deadLetter.id}`)).toBe(3);
	});
});
