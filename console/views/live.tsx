// Live: the feed of flow events, newest at the bottom like `tail -f`. Selecting an event pauses
// the feed so the selection stays put; the store keeps counting what arrives meanwhile.
import { useReducer, useRef, useState } from "react";
import { column, describeFlow, flowSubject, formatTime } from "../format";
import type { FlowEvent } from "../protocol";
import type { FlowStore } from "../store";
import { bodyHeight, Frame, hints } from "./frame";
import { Layer, useKeys } from "./keys";
import { Prompt } from "./prompt";
import type { Navigate, Route } from "./route";
import { type Row, RowLine, rowText } from "./row";
import { clampTop, follow, scrollBy } from "./scroll";

export function flowRow(event: FlowEvent, width: number, nameOf?: (orderKey: string) => string | undefined): Row {
	const { label, tone, text } = describeFlow(event);
	const subject = flowSubject(event, nameOf);
	const row: Row = [
		{ text: `${formatTime(event.at)} `, tone: "routine" },
		{ text: `${column(subject, 9)} `, bold: true },
		{ text: `${column(label, 16)} `, tone },
		{ text },
	];
	// The key last, and only whole: it identifies the order, but the name already says which one
	// it is, and a cut key identifies nothing while taking the detail's room.
	const key = event.orderKey && subject !== event.orderKey ? `  ${event.orderKey}` : "";
	if (key && rowText(row).length + key.length <= width) row.push({ text: key, tone: "routine" });
	return row;
}

/** A payout's events (payout.received, .reconciled, .posted) carry its connection, and its id in the detail: "payout <id>: …". */
export function payoutOfEvent(event: FlowEvent): Route | null {
	const m = event.type.startsWith("payout.") && event.connection ? /^payout (\S+?):/.exec(event.detail ?? "") : null;
	return m && event.connection ? { view: "payout", connection: event.connection, payoutId: m[1]! } : null;
}

type LiveProps = {
	store: FlowStore;
	active: boolean;
	width: number;
	height: number;
	onOpen: Navigate;
};

export function LiveView({ store, active, width, height, onOpen }: LiveProps) {
	const [, redraw] = useReducer((n: number) => n + 1, 0);
	const [filtering, setFiltering] = useState(false);
	const [flash, setFlash] = useState<string | null>(null);
	const top = useRef(0);
	const rows = bodyHeight(height);
	const events = store.visible();
	const selected = store.selected ? events.indexOf(store.selected) : -1;
	const start = !store.paused
		? Math.max(0, events.length - rows)
		: selected >= 0
			? follow(top.current, selected, events.length, rows)
			: clampTop(top.current, events.length, rows);
	top.current = start;

	const move = (by: number) => {
		if (!store.paused) {
			store.pause();
			top.current = Math.max(0, store.visible().length - rows);
		}
		const list = store.visible();
		if (list.length === 0) return;
		const from = selected >= 0 ? selected : list.length - (by < 0 ? 0 : 1);
		store.select(list[Math.max(0, Math.min(list.length - 1, from + by))] ?? null);
	};

	useKeys(
		(input, key) => {
			// Only when one is shown: each state update is a render of its own (Ink's legacy root
			// does not batch them), and Ink holds a second frame within 33 ms back until then.
			if (flash !== null) setFlash(null);
			const by = scrollBy(key, input, rows);
			if (by !== null) move(by);
			else if (key.return) {
				const event = store.selected;
				if (!event) setFlash("select an event with ↑/↓ first");
				else if (event.orderKey) onOpen({ view: "order", key: event.orderKey });
				else if (event.sku) onOpen({ view: "sku", sku: event.sku });
				else if (payoutOfEvent(event)) onOpen(payoutOfEvent(event)!);
				else setFlash("this event has no order, SKU or payout to open");
			} else if (input === "p" || input === " ") {
				if (store.paused) store.resume();
				else {
					store.pause();
					top.current = Math.max(0, store.visible().length - rows);
				}
			} else if (key.escape && store.paused) store.resume();
			else if (input === "/") setFiltering(true);
			else if (input === "c") store.setFilter("");
			else return false;
			redraw();
			return true;
		},
		Layer.view,
		active && !filtering,
	);

	const status: Row = [{ text: "Live", bold: true }, { text: " · ", tone: "routine" }];
	if (store.paused) status.push({ text: `paused · ${store.newCount} new`, tone: "waiting", bold: true }, { text: "  (p resumes)", tone: "routine" });
	else status.push({ text: "following", tone: "done" });
	if (store.filterText) status.push({ text: " · ", tone: "routine" }, { text: `filter: ${store.filterText}`, tone: "moving" });
	status.push({ text: ` · ${events.length}/${store.events.length} events`, tone: "routine" });

	const footer: Row = flash
		? [{ text: flash, tone: "waiting" }]
		: hints([
				["↑↓", "select"],
				["⏎", "open"],
				["p", store.paused ? "resume" : "pause"],
				["/", "filter"],
				["c", "clear"],
				["?", "help"],
				["q", "quit"],
			]);

	const modal = filtering ? (
		<Prompt
			label="filter:"
			initial={store.filterText}
			width={width}
			onSubmit={(text) => {
				store.setFilter(text);
				setFiltering(false);
			}}
			onCancel={() => setFiltering(false)}
		/>
	) : undefined;

	return (
		<Frame status={status} width={width} height={height} footer={footer} modal={modal}>
			{events.length === 0 ? (
				<RowLine line={[{ text: store.filterText ? "no events match the filter (c clears it)" : "waiting for flow events…", tone: "routine" }]} width={width} />
			) : (
				events.slice(start, start + rows).map((event, i) => <RowLine key={start + i} line={flowRow(event, width, store.nameOf)} width={width} selected={start + i === selected} />)
			)}
		</Frame>
	);
}
