import { cleanup } from "ink-testing-library";
import { it } from "vitest";
import { App } from "../../console/app";
import { FakeOps, FakeStream, payoutItem, payoutReport } from "./fakes";
import { KEY, renderAt } from "./ui";

it("scratch", async () => {
	const r = payoutReport();
	const tiktok = payoutReport({ payoutKey: "tiktok:7253456789012345678", connection: "tiktok", channel: "tiktok", payoutId: "7253456789012345678", status: "matching", summary: null, exceptions: [], currency: "GBP", total: 123456789, paidAt: null });
	const ops = new FakeOps({ payouts: [payoutItem(r), payoutItem(tiktok)], reports: { [r.payoutKey]: r } });
	const ui = renderAt(<App ops={ops} stream={new FakeStream()} url="http://127.0.0.1:8787" />);
	await ui.press("3");
	console.log(await ui.waitFor("105127866449"));
	await ui.press(KEY.enter);
	console.log(await ui.waitFor("Gross sales"));
	await ui.press("\u001B[F");
	await new Promise((r) => setTimeout(r, 100));
	console.log(ui.frame());
	await ui.press("?");
	await new Promise((r) => setTimeout(r, 100));
	console.log(ui.frame());
	cleanup();
});
