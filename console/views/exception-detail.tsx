// One exception in full (Enter in Exceptions): why it is open, its delivery and attempts or its
// raw body; r, x and Enter act on it from here. It refetches itself when the stream reports a
// change to it or an event of its order, so a retry's outcome shows without leaving, and after a
// reconnect.
import { useState } from "react";
import { formatTime, prettyBody, wrapText } from "../format";
import type { Ops, Stream } from "../ports";
import type { ExceptionDetail, ExceptionItem } from "../protocol";
import { useDebounced, useLiveAgain, useStream } from "./hooks";
import { Layer, useKeys } from "./keys";
import { errorText, useResource } from "./resource";
import { type Navigate, payoutRoute, type Route } from "./route";
import { type Row, RowLine } from "./row";
import { clampTop, ScrollView, scrollBy } from "./scroll";

/** A payout exception's id is `settlement:<connection>:<payout id>:<line id>`. */
const SETTLEMENT = /^settlement:([^:]+):([^:]+):/;

/**
 * The payout an exception belongs to: a payout exception's, or a dead-lettered ERP posting's
 * (whose owner is `payout/<connection>:<payout id>`).
 */
export function payoutOf(item: ExceptionItem): Route | null {
	if (item.orderKey?.startsWith("payout/")) return payoutRoute(item.orderKey.slice("payout/".length));
	const m = item.kind === "settlement" ? SETTLEMENT.exec(item.id) : null;
	return m ? { view: "payout", connection: m[1]!, payoutId: m[2]! } : null;
}

/**
 * What Enter opens from an exception's details: its order (keys are `<connection>:<order id>`), else
 * its payout. An EDI partner's own deliveries belong to `partner/<connection>`, which is neither.
 */
export function openable(item: ExceptionItem): Route | null {
	const key = item.orderKey;
	if (key && key.includes(":") && !key.startsWith("payout/") && !key.startsWith("partner/")) return { view: "order", key };
	return payoutOf(item);
}

export function detailRows(d: ExceptionDetail, width: number): Row[] {
	const rows: Row[] = [
		[
			{ text: `${d.kind} `, tone: "operator", bold: true },
			{ text: `· ${d.status} · ${d.attempts} attempt${d.attempts === 1 ? "" : "s"} · created ${formatTime(d.createdAt)} · updated ${formatTime(d.updatedAt)}` },
		],
		[{ text: `id ${d.id}`, tone: "routine" }],
		[{ text: [d.orderKey && `order ${d.orderKey}`, d.connection, d.channel, d.topic, d.eventId && `event ${d.eventId}`].filter(Boolean).join(" · ") }],
		[{ text: "Reason", bold: true }],
		...wrapText(d.reason, width - 2).map((text): Row => [{ text: `  ${text}` }]),
	];
	if (d.resolution) rows.push([{ text: `Resolution: ${d.resolution}`, tone: "done" }]);
	const delivery = d.delivery;
	if (delivery) {
		rows.push([], [
			{ text: `Delivery ${delivery.kind} → ${delivery.destination} · `, bold: true },
			{ text: delivery.status, tone: delivery.status === "dead" ? "operator" : "waiting" },
			{ text: ` · ${delivery.attempts} attempts${delivery.nextAttemptAt ? ` · next ${formatTime(delivery.nextAttemptAt)}` : ""}` },
		]);
		if (delivery.lastError) rows.push(...wrapText(`last error: ${delivery.lastError}`, width - 2).map((text): Row => [{ text: `  ${text}`, tone: "operator" }]));
		delivery.history.forEach((a, i) =>
			rows.push([{ text: `  ${formatTime(a.at)} `, tone: "routine" }, { text: a.ok ? `✓ attempt ${i + 1} · ${Math.round(a.ms)} ms` : `✗ attempt ${i + 1}: ${a.error ?? "failed"} (${Math.round(a.ms)} ms)`, tone: a.ok ? "done" : "waiting" }]),
		);
	}
	if (d.rawBody) rows.push([], [{ text: "Raw body", bold: true }], ...prettyBody(d.rawBody).map((text): Row => [{ text: `  ${text}` }]));
	return rows;
}

type DetailProps = {
	ops: Ops;
	stream: Stream;
	id: string;
	resolved: boolean;
	active: boolean;
	width: number;
	height: number;
	onClose(): void;
	onReplay(item: ExceptionItem): void;
	onCancel(item: ExceptionItem): void;
	onOpen: Navigate;
};

export function DetailPanel({ ops, stream, id, resolved, active, width, height, onClose, onReplay, onCancel, onOpen }: DetailProps) {
	const detail = useResource(() => ops.exception(id));
	const refresh = useDebounced(detail.reload, 300);
	useStream(stream, {
		exception: (item) => {
			if (item.id === id) refresh();
		},
		events: (events) => {
			const orderKey = detail.data?.orderKey;
			if (orderKey && events.some((e) => e.orderKey === orderKey)) refresh();
		},
	});
	useLiveAgain(stream, refresh);
	const [top, setTop] = useState(0);
	const rows = Math.max(1, height - 1);
	const content = detail.data ? detailRows(detail.data, width) : [];
	useKeys(
		(input, key) => {
			const by = scrollBy(key, input, rows);
			if (key.escape || key.backspace) onClose();
			else if (by !== null) setTop(clampTop(top + by, content.length, rows));
			else if (detail.data && input === "r") onReplay(detail.data);
			else if (detail.data && input === "x") onCancel(detail.data);
			else if (key.return && detail.data && openable(detail.data)) onOpen(openable(detail.data)!);
			else return false;
			return true;
		},
		Layer.view,
		active,
	);
	const title: Row = [{ text: `Details of ${id}`, bold: true }, { text: resolved || detail.data?.status === "resolved" ? " · resolved" : "", tone: "done" }];
	return (
		<>
			<RowLine line={title} width={width} />
			{detail.data ? (
				<ScrollView rows={content} top={top} height={rows} width={width} />
			) : (
				<RowLine line={[detail.error ? { text: `could not load ${id}: ${errorText(detail.error)}`, tone: "operator" } : { text: `loading ${id}…`, tone: "routine" }]} width={width} />
			)}
		</>
	);
}
