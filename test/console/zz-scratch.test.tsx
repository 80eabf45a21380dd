import { cleanup } from "ink-testing-library";
import { it } from "vitest";
import { App } from "../../console/app";
import { exceptionItem, FakeOps, FakeStream, flow, payoutItem, payoutReport } from "./fakes";
import { KEY, renderAt, sleep } from "./ui";

it("scratch", async () => {
	const r = payoutReport({ total: 123456789, lines: [...payoutReport().lines, { id: "amzn-row-0001-very-long", kind: "order", channelOrderId: "111-2345678-2000002", status: "partial", amount: 123456789, fees: -1, net: 123456788, variance: 0 }] });
	const settlement = exceptionItem({ id: "settlement:shopify-demo:105127866449:total", kind: "settlement", connection: null, channel: null, topic: null, reason: "payout 105127866449: lines do not add up" });
	const ops = new FakeOps({ payouts: [payoutItem(r)], reports: { [r.payoutKey]: r }, exceptions: [settlement] });
	const stream = new FakeStream();
	const ui = renderAt(<App ops={ops} stream={stream} url="http://127.0.0.1:8787" />);
	stream.events(
		flow({ type: "payout.received", connection: "shopify-demo", detail: "payout 105127866449: 5 lines, 12931 USD (api)" }),
		flow({ type: "payout.reconciled", connection: "shopify-demo", detail: "payout 105127866449: 2/4 matched, 2 exceptions" }),
		flow({ type: "settled", orderKey: "shopify-demo:6100000001", orderName: "#1001", connection: "shopify-demo", detail: "10000 in payout shopify-demo:105127866449" }),
		flow({ type: "erp.booked", orderKey: "shopify-demo:6100000001", orderName: "#1001", connection: "shopify-demo", detail: "salesOrder 77 in netsuite" }),
		flow({ type: "payout.posted", connection: "shopify-demo", detail: "payout 105127866449: deposit 88 in netsuite" }),
	);
	await sleep(200);
	console.log(ui.frame());
	await ui.press("3");
	await ui.waitFor("105127866449");
	await ui.press(KEY.enter);
	console.log(await ui.waitFor("Gross sales"));
	await ui.press("2");
	await sleep(150);
	console.log(ui.frame());
	await ui.press("?");
	await sleep(150);
	console.log(ui.frame());
	cleanup();
});
