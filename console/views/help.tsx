// The `?` overlay: every key of the current view and the keys that work everywhere. These tables
// are the one list of keys; app.tsx repeats them in its opening comment for readers of the code.
import { useState } from "react";
import { Layer, useKeys } from "./keys";
import type { Row } from "./row";
import { clampTop, ScrollView, scrollBy } from "./scroll";
import type { ViewName } from "./route";

type Keys = Array<[key: string, what: string]>;

export const GLOBAL_KEYS: Keys = [
	["?", "help (Esc or ? closes)"],
	["q", "quit (Esc first when typing)"],
	["1", "Live feed"],
	["2", "Exceptions"],
	["3", "Payouts"],
	["o", "open an order: key or #name"],
	["s", "open a SKU"],
	["Esc ⌫", "back from Order/SKU/Payout"],
];

export const VIEW_KEYS: Record<ViewName, Keys> = {
	live: [
		["↑↓ j k", "select an event (pauses)"],
		["PgUp PgDn", "select a page up/down"],
		["Enter", "open its order, SKU or payout"],
		["p space", "pause / resume"],
		["Esc", "resume: back to live"],
		["/", "filter (Enter applies, Esc)"],
		["", "text channel:x state:y sku:z"],
		["c", "clear the filter"],
	],
	order: [
		["Tab ←→", "next / previous section"],
		["1-5", "go to a section (not views)"],
		["↑↓ j k", "Timeline: select; else scroll"],
		["PgUp PgDn", "page up/down"],
		["Enter", "Timeline: event's payload"],
		["[ ]", "Payload: previous / next one"],
		["r", "reload now"],
	],
	sku: [
		["↑↓ j k", "scroll"],
		["PgUp PgDn", "page up/down"],
		["r", "reload now"],
	],
	exceptions: [
		["↑↓ j k", "select"],
		["Enter", "details; again: order/payout"],
		["r", "replay / retry selected (y/n)"],
		["R", "replay all matching (y/n)"],
		["x", "cancel a dead letter (y/n)"],
		["", "payout: mark reviewed (y/n)"],
		["/", "filter: text kind:x channel:y"],
		["c", "clear the filter"],
		["Esc", "leave details / stop bulk"],
	],
	payouts: [
		["↑↓ j k", "select"],
		["PgUp PgDn", "select a page up/down"],
		["Enter", "open its report"],
		["r", "reload now"],
	],
	payout: [
		["↑↓ j k", "scroll"],
		["PgUp PgDn", "page up/down"],
		["r", "reload now"],
	],
};

const TITLES: Record<ViewName, string> = { live: "Live", order: "Order", sku: "SKU", exceptions: "Exceptions", payouts: "Payouts", payout: "Payout" };

const LEGEND: Partial<Record<ViewName, string[]>> = {
	live: [
		"Header: wh/s = webhooks/s over the last 10 s (received, duplicate,",
		"stale, ignored, quarantined) · orders/min = new orders seen in the",
		"last 60 s · fail/min = retrying, dead-lettered, failed, quarantined",
		"and unroutable events in the last 60 s.",
		"Colours: green done · cyan on its way · yellow waiting or changed ·",
		"red needs an operator · dim routine.",
	],
	exceptions: [
		"Replay re-runs a quarantined webhook from its stored body; for a dead",
		"letter it sends the delivery again. An item leaves the list when the",
		"worker reports it resolved. A read-only token can only look.",
		"A payout exception's variance is already booked to the variance",
		"account: x marks it reviewed.",
	],
	payouts: [
		"STATUS: matching → reconciled, then with an ERP posting → posted",
		"(failed: a posting was dead-lettered, see Exceptions). NET is what",
		"the lines add up to; MATCH the order and refund lines matched to",
		"their order without a variance; EXC the exceptions (a variance each).",
	],
	payout: [
		"Fees and refunds are negative. Total paid is what reached the bank;",
		"a gap between it and Net is an exception of its own (\"total\").",
		"Line status: green matched · dim partial or not an order's ·",
		"yellow already settled · red unknown order or refund, mismatch.",
	],
};

/** The overlay's lines: two columns (view keys, global keys) when wide enough, else one after the other. */
export function helpRows(view: ViewName, width: number): Row[] {
	// In the Order view the digits pick sections, so 1, 2 and 3 do not switch views there.
	const global = view === "order" ? GLOBAL_KEYS.filter(([key]) => !["1", "2", "3"].includes(key)) : GLOBAL_KEYS;
	const entry = ([key, what]: [string, string], w: number) => `${key.padEnd(10)} ${what}`.slice(0, w).padEnd(w);
	const rows: Row[] = [[{ text: `Keys: ${TITLES[view]}`, bold: true }, { text: "   Esc or ? closes", tone: "routine" }], []];
	if (width >= 76) {
		// The global column is the narrower one; the view's keys get the rest.
		const right = Math.max(...global.map(([key, what]) => 11 + what.length));
		const left = width - right - 1;
		rows.push([{ text: TITLES[view].padEnd(left + 1), tone: "moving" }, { text: "Everywhere", tone: "moving" }]);
		for (let i = 0; i < Math.max(VIEW_KEYS[view].length, global.length); i++) {
			const l = VIEW_KEYS[view][i];
			const r = global[i];
			rows.push([{ text: l ? entry(l, left) : " ".repeat(left) }, { text: " " }, { text: r ? entry(r, right) : "" }]);
		}
	} else {
		rows.push([{ text: TITLES[view], tone: "moving" }], ...VIEW_KEYS[view].map((k) => [{ text: entry(k, width) }]));
		rows.push([{ text: "Everywhere", tone: "moving" }], ...global.map((k) => [{ text: entry(k, width) }]));
	}
	const legend = LEGEND[view];
	if (legend) rows.push([], ...legend.map((line): Row => [{ text: line, tone: "routine" }]));
	return rows;
}

type HelpProps = { view: ViewName; width: number; height: number; onClose(): void; onQuit(): void };

export function Help({ view, width, height, onClose, onQuit }: HelpProps) {
	const [top, setTop] = useState(0);
	const rows = helpRows(view, width);
	useKeys((input, key) => {
		const by = scrollBy(key, input, height);
		if (key.escape || input === "?") onClose();
		else if (input === "q") onQuit();
		// A short terminal cannot show it all at once.
		else if (by !== null) setTop(clampTop(top + by, rows.length, height));
		return true;
	}, Layer.appModal);
	return <ScrollView rows={rows} top={top} height={height} width={width} />;
}
