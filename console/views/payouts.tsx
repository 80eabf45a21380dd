// Payouts: every payout ordersync has (Shopify Payments payouts, TikTok Shop statements, Amazon
// settlements), most recently changed first, with how it reconciled at a glance. Enter opens one
// payout's report. Kept current from the stream's `payout` messages, and fetched again after a
// reconnect (messages sent while the stream was down are not sent again).
import { type ReactNode, useEffect, useRef, useState } from "react";
import { column, formatDate, formatMoney, payoutStatusTone } from "../format";
import type { Ops, Stream } from "../ports";
import type { PayoutItem } from "../protocol";
import { bodyHeight, Frame, hints } from "./frame";
import { useDebounced, useLiveAgain, useStream } from "./hooks";
import { Layer, useKeys } from "./keys";
import { errorText } from "./resource";
import type { Navigate } from "./route";
import { type Row, RowLine } from "./row";
import { follow, ScrollView, scrollBy } from "./scroll";

/** Right-aligned in `width`; a longer text is kept whole (the row is cut at the screen's edge). */
export const right = (text: string, width: number) => text.padStart(width);

/** At least this wide, the list has room for the connection as well as the channel. */
const WIDE = 96;

/** Column widths: the amounts as wide as the widest (a big Amazon settlement runs to $1,234,567.89), the payout id gets what is left. */
export type PayoutColumns = { connection: number; id: number; money: number };

export function payoutColumns(items: readonly PayoutItem[], width: number): PayoutColumns {
	const amounts = items.flatMap((item) => [item.total, ...(item.summary ? [item.summary.net] : [])].map((amount) => formatMoney({ amount, currency: item.currency }).length));
	const money = Math.max(12, ...amounts);
	const connection = width >= WIDE ? 16 : 0;
	// channel 7, paid 10, two amounts, status 10, match 5, exceptions 3, and the spaces between them.
	const fixed = 8 + (connection ? connection + 1 : 0) + 11 + 2 * (money + 1) + 11 + 6 + 3;
	return { connection, id: Math.max(8, Math.min(24, width - fixed - 1)), money };
}

export function payoutHeaderRow(cols: PayoutColumns): Row {
	const connection = cols.connection ? `${column("CONNECTION", cols.connection)} ` : "";
	return [{ text: `${column("CHANNEL", 7)} ${connection}${column("PAYOUT", cols.id)} ${column("PAID", 10)} ${right("TOTAL", cols.money)} ${right("NET", cols.money)} ${column("STATUS", 10)} ${right("MATCH", 5)} ${right("EXC", 3)}`, tone: "routine" }];
}

/** channel, payout id, paid date, total, net, status, matched %, exceptions: 80 columns. */
export function payoutRow(item: PayoutItem, cols: PayoutColumns): Row {
	const money = (amount: number) => formatMoney({ amount, currency: item.currency });
	const summary = item.summary;
	const percent = summary ? `${summary.matched.percent}%` : "—";
	return [
		{ text: `${column(item.channel, 7)} `, tone: "moving" },
		...(cols.connection ? [{ text: `${column(item.connection, cols.connection)} `, tone: "routine" as const }] : []),
		{ text: `${column(item.payoutId, cols.id)} `, bold: true },
		{ text: `${column(formatDate(item.paidAt), 10)} `, tone: "routine" },
		{ text: `${right(money(item.total), cols.money)} ` },
		{ text: `${right(summary ? money(summary.net) : "—", cols.money)} ` },
		{ text: `${column(item.status, 10)} `, tone: payoutStatusTone(item.status) },
		{ text: `${right(percent, 5)} `, tone: !summary ? "routine" : summary.matched.percent >= 100 ? "done" : "waiting" },
		{ text: right(String(item.exceptions), 3), tone: item.exceptions > 0 ? "operator" : "routine" },
	];
}

type PayoutsProps = { ops: Ops; stream: Stream; active: boolean; width: number; height: number; onOpen: Navigate };

export function PayoutsView({ ops, stream, active, width, height, onOpen }: PayoutsProps) {
	const [items, setItems] = useState<PayoutItem[]>([]);
	const [loaded, setLoaded] = useState(false);
	const [loading, setLoading] = useState(true);
	const [loadError, setLoadError] = useState<unknown>(null);
	const [cursor, setCursor] = useState({ key: null as string | null, index: 0 });
	const [top, setTop] = useState(0);
	const request = useRef(0);

	const load = () => {
		const mine = ++request.current;
		setLoading(true);
		ops.payouts().then(
			(list) => {
				if (mine !== request.current) return;
				setItems(list);
				setLoaded(true);
				setLoading(false);
				setLoadError(null);
			},
			(error: unknown) => {
				if (mine !== request.current) return;
				setLoadError(error);
				setLoading(false);
			},
		);
	};
	const refresh = useDebounced(load, 300);
	useEffect(() => {
		load();
		return () => void request.current++;
	}, []);
	useStream(stream, {
		payout: () => refresh(),
		// A worker that sends no `payout` messages still logs what happens to its payouts.
		events: (events) => {
			if (events.some((e) => e.type.startsWith("payout."))) refresh();
		},
	});
	useLiveAgain(stream, refresh);

	const found = cursor.key === null ? -1 : items.findIndex((item) => item.payoutKey === cursor.key);
	// The list is ordered by last change: the selection follows its payout when that moves to the top.
	const selected = items.length === 0 ? -1 : found >= 0 ? found : Math.min(cursor.index, items.length - 1);
	const current = items[selected];
	useEffect(() => {
		// Only over the cursor this render saw: a key pressed before this effect ran has moved it since.
		if (current && (current.payoutKey !== cursor.key || selected !== cursor.index)) setCursor((c) => (c === cursor ? { key: current.payoutKey, index: selected } : c));
	});
	const rows = bodyHeight(height) - 1; // the column titles take one
	const start = selected >= 0 ? follow(top, selected, items.length, rows) : 0;

	useKeys(
		(input, key) => {
			const by = scrollBy(key, input, rows);
			if (by !== null) {
				if (items.length === 0) return true;
				const next = Math.max(0, Math.min(items.length - 1, (selected < 0 ? 0 : selected) + by));
				setCursor({ key: items[next]?.payoutKey ?? null, index: next });
				setTop(follow(start, next, items.length, rows));
			} else if (key.return) {
				if (current) onOpen({ view: "payout", connection: current.connection, payoutId: current.payoutId });
			} else if (input === "r") load();
			else return false;
			return true;
		},
		Layer.view,
		active,
	);

	const withExceptions = items.filter((item) => item.exceptions > 0).length;
	const status: Row = [
		{ text: "Payouts", bold: true },
		{ text: ` · ${items.length} payout${items.length === 1 ? "" : "s"}` },
		...(withExceptions > 0 ? [{ text: ` · ${withExceptions} with exceptions`, tone: "operator" as const }] : []),
	];
	if (loading && loaded) status.push({ text: "  ↻", tone: "routine" });
	if (loadError) status.push({ text: `  could not load: ${errorText(loadError)}`, tone: "operator" });

	const footer = hints([
		["↑↓", "select"],
		["⏎", "report"],
		["r", "reload"],
		["?", "help"],
		["q", "quit"],
	]);

	let body: ReactNode;
	if (items.length === 0) {
		const empty: Row = !loaded
			? [loadError ? { text: `could not load payouts: ${errorText(loadError)}`, tone: "operator" } : { text: "loading payouts…", tone: "routine" }]
			: [{ text: "no payouts yet (ordersync payouts sync, or payouts upload for Amazon)", tone: "routine" }];
		body = <RowLine line={empty} width={width} />;
	} else {
		const cols = payoutColumns(items, width);
		body = (
			<>
				<RowLine line={payoutHeaderRow(cols)} width={width} />
				<ScrollView rows={items.map((item) => payoutRow(item, cols))} top={start} height={rows} width={width} selected={selected} />
			</>
		);
	}
	return (
		<Frame status={status} width={width} height={height} footer={footer}>
			{body}
		</Frame>
	);
}
