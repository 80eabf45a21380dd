// The Payouts view (3) and a payout's report through real keys, at 80×24: the list, the report's
// totals, exceptions, lines and ERP deliveries, reloading on the stream's `payout` messages, and
// getting there from an exception or a live event.
import { cleanup } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { App } from "../../console/app";
import { OpsError } from "../../console/ports";
import type { PayoutItem, PayoutReport } from "../../console/protocol";
import { payoutLineRow } from "../../console/views/payout";
import { exceptionItem, FakeOps, FakeStream, flow, type Given, payoutItem, payoutReport } from "./fakes";
import { KEY, renderAt, sleep } from "./ui";

let ops: FakeOps;

afterEach(() => {
	cleanup();
	expect(ops.unexpected).toEqual([]);
});

const shopify = payoutReport();
const tiktok = payoutReport({
	payoutKey: "tiktok:7253456789012345678",
	connection: "tiktok",
	channel: "tiktok",
	payoutId: "7253456789012345678",
	currency: "GBP",
	total: 123456789,
	paidAt: null,
	status: "matching",
	reconciledAt: null,
	summary: null,
	exceptions: [],
	lines: [],
	erp: "reconciled",
	deliveries: [],
});

function open(given: Given = {}, stream = new FakeStream(), size: [number, number] = [80, 24]) {
	ops = new FakeOps({ payouts: [payoutItem(shopify), payoutItem(tiktok)], reports: { [shopify.payoutKey]: shopify }, ...given });
	const ui = renderAt(<App ops={ops} stream={stream} url="http://127.0.0.1:8787" />, ...size);
	return { ui, stream };
}

/** Every line of a frame fits the terminal, and the frame is exactly its height. */
function fits(frame: string, columns = 80, rows = 24) {
	const lines = frame.split("\n");
	expect(lines).toHaveLength(rows);
	for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(columns);
}

const line = (frame: string, has: string) => frame.split("\n").find((l) => l.includes(has))?.trimEnd();

describe("Payouts", () => {
	it("3 lists the payouts at 80 columns: channel, payout id, paid date, total, net, status, matched %, exceptions", async () => {
		const { ui } = open();
		await ui.press("3");
		const frame = await ui.waitFor("105127866449");
		fits(frame);
		expect(line(frame, "Payouts")).toBe("Payouts · 2 payouts · 1 with exceptions");
		expect(line(frame, "CHANNEL")).toBe("CHANNEL PAYOUT       PAID               TOTAL           NET STATUS     MATCH EXC");
		expect(line(frame, "shopify")).toBe("shopify 105127866449 2026-01-05       $129.31       $129.31 posting      50%   2");
		// Still matching: no net or match yet. A long id is cut, the amount (13 wide) is kept whole.
		expect(line(frame, "tiktok")).toBe("tiktok  72534567890… —          £1,234,567.89             — matching       —   0");
		expect(line(frame, "⏎ report")).toBe("↑↓ select · ⏎ report · r reload · ? help · q quit");
		expect(ops.count("payouts")).toBe(1);
	});

	it("Enter opens the report: totals, fees by category, matched and variance, then its exceptions", async () => {
		const { ui } = open();
		await ui.press("3");
		await ui.waitFor("105127866449");
		await ui.press(KEY.enter);
		const frame = await ui.waitFor("Gross sales");
		fits(frame);
		const lines = frame.split("\n").map((l) => l.trimEnd());
		expect(lines.slice(1, 17)).toEqual([
			"Payout shopify 105127866449 · reconciled · ERP posting · $129.31",
			"shopify-demo · paid 2026-01-05 · period 2026-01-01 → 2026-01-04 · via api",
			"",
			"Gross sales         $165.00   By category",
			"Refunds             -$20.00     payment processing        -$5.69",
			"Fees                 -$5.69     reserve                  -$10.00",
			"Adjustments         -$10.00",
			"Net                 $129.31",
			"Total paid          $129.31",
			"Matched 2/4 (50%) · variance $10.00",
			"",
			"Exceptions (2)",
			"  bt_2            -$5.00  order #1002 was paid $50.00 of $55.00",
			// Cut at the edge, not wrapped onto the next line.
			"  bt_4            $15.00  sale bt_4 names order 6100000099, which ordersync doe…",
			"",
			"Lines (5)",
		]);
		expect(lines).toContain("  bt_2       #1002          amount mismatch      $50.00      $48.25      -$5.00");
		expect(lines).toContain("  bt_3       refund #1001   matched             -$20.00     -$20.00");
		expect(ops.count(`payout ${shopify.payoutKey}`)).toBe(1);
	});

	it("scrolls to the lines and the ERP postings with their deliveries; Esc goes back to the list", async () => {
		const { ui } = open();
		await ui.press("3");
		await ui.waitFor("105127866449");
		await ui.press(KEY.enter);
		await ui.waitFor("Gross sales");
		await ui.press(KEY.pageDown);
		const frame = await ui.waitFor("ERP posting · 1 delivery");
		fits(frame);
		const lines = frame.split("\n").map((l) => l.trimEnd());
		expect(lines).toContain("  LINE       ORDER          STATUS               AMOUNT         NET    VARIANCE");
		expect(lines).toContain("  bt_4       6100000099     unknown order        $15.00      $14.26      $15.00");
		expect(lines).toContain("  adj_1      reserve        other                 $0.00     -$10.00");
		expect(lines).toContain("  erp.deposit → erp:netsuite  pending  1 attempt  next 10:01:00");
		expect(lines).toContain("    last error: 503 Service Unavailable");
		await ui.press(KEY.esc);
		await ui.waitFor((f) => f.includes("Payouts · 2 payouts") && !f.includes("Gross sales"));
		// Back to the list as it was: the selection is still on the payout just opened.
		await ui.press(KEY.enter);
		await ui.waitFor("Gross sales");
		expect(ops.count(`payout ${shopify.payoutKey}`)).toBe(2);
	});

	it("colours each line by how it matched: green matched, dim partial or other, red a mismatch, yellow already settled", () => {
		const status = (status: string) => {
			const seg = payoutLineRow({ ...shopify.lines[0]!, status }, String)[1]!;
			return [seg.text.trim(), seg.tone];
		};
		expect(status("matched")).toEqual(["matched", "done"]);
		expect(status("partial")).toEqual(["partial", "routine"]);
		expect(status("other")).toEqual(["other", "routine"]);
		expect(status("amount_mismatch")).toEqual(["amount mismatch", "operator"]);
		expect(status("unknown_order")).toEqual(["unknown order", "operator"]);
		expect(status("unknown_refund")).toEqual(["unknown refund", "operator"]);
		expect(status("currency_mismatch")).toEqual(["wrong currency", "operator"]);
		expect(status("already_settled")).toEqual(["already settled", "waiting"]);
	});

	it("reloads the list when the stream says a payout changed, keeping the selection on its payout", async () => {
		let list: PayoutItem[] = [payoutItem(shopify), payoutItem(tiktok)];
		const reconciled: PayoutReport = { ...tiktok, status: "reconciled", reconciledAt: "2026-01-06T09:00:00.000Z", summary: { ...shopify.summary!, net: 123456789, matched: { lines: 7, of: 7, percent: 100 }, variance: 0 } };
		const { ui, stream } = open({ payouts: () => list, reports: { [tiktok.payoutKey]: reconciled } });
		await ui.press("3");
		await ui.waitFor("matching");
		await ui.press(KEY.down);
		// The TikTok statement reconciles, and moves to the top of the list (latest change first).
		list = [payoutItem(reconciled, { exceptions: 0 }), payoutItem(shopify)];
		stream.payout(tiktok.payoutKey, "reconciled");
		const frame = await ui.waitFor((f) => !f.includes("matching"));
		expect(line(frame, "tiktok")).toBe("tiktok  72534567890… —          £1,234,567.89 £1,234,567.89 reconciled  100%   0");
		await ui.press(KEY.enter);
		await ui.waitFor("Payout tiktok 7253456789012345678 · reconciled · ERP not booked");
	});

	it("the report reloads on its own payout's message, not another's", async () => {
		let report = shopify;
		const { ui, stream } = open({ reports: { [shopify.payoutKey]: () => report } });
		await ui.press("3");
		await ui.waitFor("105127866449");
		await ui.press(KEY.enter);
		await ui.waitFor("ERP posting");
		stream.payout(tiktok.payoutKey, "reconciled");
		await sleep(400);
		expect(ops.count(`payout ${shopify.payoutKey}`)).toBe(1);
		report = { ...shopify, erp: "posted", deliveries: [{ ...shopify.deliveries[0]!, status: "delivered", attempts: 2, nextAttemptAt: null, lastError: null }] };
		stream.payout(shopify.payoutKey, "posted");
		await ui.waitFor("Payout shopify 105127866449 · reconciled · ERP posted · $129.31");
		expect(ops.count(`payout ${shopify.payoutKey}`)).toBe(2);
	});

	it("says so when a payout is not there any more, or the list cannot be loaded", async () => {
		const { ui } = open({ reports: { [shopify.payoutKey]: new OpsError(404, "unknown_payout", "no payout shopify-demo:105127866449") } });
		await ui.press("3");
		await ui.waitFor("105127866449");
		await ui.press(KEY.enter);
		await ui.waitFor('no payout "shopify-demo:105127866449"');
		cleanup();
		const down = open({ payouts: new OpsError(0, "unreachable", "cannot reach http://127.0.0.1:8787 (ECONNREFUSED)") });
		await down.ui.press("3");
		const frame = await down.ui.waitFor("could not load payouts: cannot reach http://127.0.0.1:8787 (ECONNREFUSED)");
		expect(line(frame, "Payouts")).toMatch(/^Payouts · 0 payouts  could not load: cannot reach/);
	});

	it("with no payouts, says how to bring them in", async () => {
		const { ui } = open({ payouts: [] });
		await ui.press("3");
		await ui.waitFor("no payouts yet (ordersync payouts sync, or payouts upload for Amazon)");
	});

	it("is wider than 80 columns: the connection gets a column of its own", async () => {
		const { ui } = open({}, new FakeStream(), [100, 24]);
		await ui.press("3");
		const frame = await ui.waitFor("105127866449");
		fits(frame, 100);
		expect(line(frame, "shopify")).toBe("shopify shopify-demo     105127866449    2026-01-05       $129.31       $129.31 posting      50%   2");
	});

	it("? lists the Payouts keys, and the everywhere keys include 3", async () => {
		const { ui } = open();
		await ui.press("3");
		await ui.waitFor("105127866449");
		await ui.press("?");
		const frame = await ui.waitFor("Keys: Payouts");
		expect(frame).toMatch(/Enter\s+open its report/);
		expect(frame).toMatch(/3\s+Payouts/);
		fits(frame);
	});

	it("Enter on a payout's live event opens its report", async () => {
		const { ui, stream } = open();
		await ui.waitFor("● live");
		stream.events(flow({ type: "payout.reconciled", connection: "shopify-demo", detail: "payout 105127866449: 2/4 matched, 2 exceptions" }));
		const frame = await ui.waitFor("payout 105127866449: 2/4 matched");
		expect(line(frame, "payout 105127866449")).toMatch(/^\d\d:\d\d:\d\d shopify-… reconciled {7}payout 105127866449: 2\/4 matched, 2 excepti…$/);
		await ui.press(KEY.up, KEY.enter);
		await ui.waitFor("Gross sales");
		await ui.press(KEY.esc);
		await ui.waitFor("Live");
		expect(ops.calls).toEqual([`payout ${shopify.payoutKey}`]);
	});

	it("Enter on a payout exception's details opens its payout when it names no order", async () => {
		const item = exceptionItem({ id: "settlement:shopify-demo:105127866449:total", kind: "settlement", connection: null, channel: null, topic: null, reason: "payout 105127866449: the payout's lines add up to 12931, but it pays 13000 (variance 69 USD)" });
		const { ui } = open({ exceptions: [item], details: { [item.id]: { ...item } } });
		await ui.press("2");
		const list = await ui.waitFor("1 open");
		// Listed by its payout, not by its long id.
		expect(list).toMatch(/^settlement\s+\d+[smhd]  payout 105127866449        the payout's lines add up to 12931…$/m);
		await ui.press(KEY.enter);
		await ui.waitFor(`Details of ${item.id}`);
		await ui.press(KEY.enter);
		await ui.waitFor("Payout shopify 105127866449");
	});

	it("Enter on a dead-lettered ERP posting's details opens its payout, not an order", async () => {
		const item = exceptionItem({ id: "delivery:payout/shopify-demo:105127866449:erp.deposit", kind: "dead-letter", orderKey: "payout/shopify-demo:105127866449", reason: "erp.deposit to erp:netsuite failed 5 times: 503" });
		const { ui } = open({ exceptions: [item], details: { [item.id]: { ...item } } });
		await ui.press("2");
		await ui.waitFor("1 open");
		await ui.press(KEY.enter);
		await ui.waitFor("⏎ open payout");
		await ui.press(KEY.enter);
		await ui.waitFor("Payout shopify 105127866449");
		expect(ops.calls.filter((c) => c.startsWith("order"))).toEqual([]);
	});
});
