// Order: everything about one order, in sections: its timeline (the order's own events merged
// with every outbound call attempt), lines and reservations, deliveries, raw payloads, and the
// canonical order. It reloads itself when the stream mentions the order.
import { type ReactNode, useState } from "react";
import { column, formatMoney, formatSeconds, formatTime, prettyBody, prettyJson, type Tone } from "../format";
import { type Line, orderedOf } from "../order-lines";
import type { Ops, Stream } from "../ports";
import type { Delivery, OrderView } from "../protocol";
import { bodyHeight, Frame, hints } from "./frame";
import { useDebounced, useStream } from "./hooks";
import { Layer, useKeys } from "./keys";
import { errorText, isNotFound, useResource } from "./resource";
import { type Row, RowLine } from "./row";
import { clampTop, follow, ScrollView, scrollBy } from "./scroll";

export const SECTIONS = ["Timeline", "Lines", "Deliveries", "Payload", "Order"] as const;
export type Section = (typeof SECTIONS)[number];

type OrderEvent = OrderView["events"][number];
type Attempt = Delivery["history"][number];

/** One timeline entry: an event of the order's log, or one attempt of an outbound call. */
type Entry = { at: string; row: Row; event?: OrderEvent };

const outcomeTone = (outcome: string | null): Tone =>
	outcome === "applied" ? "done" : outcome === "stale" || outcome === "duplicate" ? "routine" : outcome ? "waiting" : "plain";

/** How one attempt of an outbound call went. */
function attemptResult(attempt: Attempt, n: number): Row {
	const took = `${Math.round(attempt.ms)} ms`;
	if (attempt.ok) return [{ text: `✓ attempt ${n} · ${took}`, tone: "done" }];
	const retry = attempt.retryAfterMs !== undefined ? `, retry after ${formatSeconds(attempt.retryAfterMs)}` : "";
	return [{ text: `✗ attempt ${n}: ${attempt.error ?? "failed"} (${took}${retry})`, tone: attempt.retryable === false ? "operator" : "waiting" }];
}

export function timeline(view: OrderView): Entry[] {
	const entries: Entry[] = view.events.map((event) => ({
		at: event.at,
		event,
		row: [
			{ text: `${formatTime(event.at)} `, tone: "routine" },
			{ text: `${column(event.source, 9)} `, tone: "moving" },
			{ text: `${column(event.type, 24)} ` },
			{ text: event.outcome ?? "", tone: outcomeTone(event.outcome) },
			{ text: event.eventId ? `  ${event.eventId}` : "", tone: "routine" },
		],
	}));
	for (const delivery of view.deliveries) {
		delivery.history.forEach((attempt, i) => {
			entries.push({
				at: attempt.at,
				row: [
					{ text: `${formatTime(attempt.at)} `, tone: "routine" },
					{ text: `${column("outbound", 9)} `, tone: "moving" },
					{ text: `${delivery.kind} → ${delivery.destination}  ` },
					...attemptResult(attempt, i + 1),
				],
			});
		});
	}
	// Oldest first; Array.sort is stable, so equal times keep the log's own order.
	return entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

const num = (n: number, width: number) => String(n).padStart(width);

function lineState(line: Line, ordered: number): [string, Tone] {
	if (line.lastError) return [`error: ${line.lastError}`, "operator"];
	if (line.pending) return ["pending", "waiting"];
	if (line.shipped > 0 && line.shipped >= ordered) return ["shipped", "done"];
	if (line.committed > 0 && line.committed >= ordered) return ["committed", "done"];
	if (line.backordered > 0) return ["backordered", "waiting"];
	if (line.shipped > 0) return ["part shipped", "moving"];
	if (line.target === 0) return ["released", "routine"];
	return ["", "plain"];
}

export function lineRows(view: OrderView): Row[] {
	if (view.lines.length === 0) return [[{ text: "no lines planned yet", tone: "routine" }]];
	const rows: Row[] = [[{ text: `${column("SKU", 16)} ordered reserved backord committed shipped  state`, tone: "routine" }]];
	for (const line of view.lines) {
		const { ordered, channel, bundle } = orderedOf(line, view.order?.lines ?? []);
		const [state, tone] = lineState(line, ordered);
		rows.push([
			{ text: `${column(line.sku, 16)} ${num(ordered, 7)} ${num(line.reserved, 8)} ${num(line.backordered, 7)} ${num(line.committed, 9)} ${num(line.shipped, 7)}  ` },
			{ text: state, tone },
		]);
		if (channel) rows.push([{ text: `  ${channel.title} · ${channel.quantity} × ${formatMoney(channel.unitPrice)} · line ${line.lineId}`, tone: "routine" }]);
		else if (bundle) rows.push([{ text: `  part of ${bundle.quantity} × ${bundle.title} (${bundle.sku ?? "bundle"}) · line ${line.lineId}`, tone: "routine" }]);
		else if (view.order) rows.push([{ text: `  line ${line.lineId} (no longer on the order)`, tone: "routine" }]);
	}
	if (view.routes.length > 0) {
		rows.push([], [{ text: "Routes", bold: true }]);
		for (const r of view.routes) rows.push([{ text: `  ${r.referenceId} → ${r.location} via ${r.threePl}  ${r.status}${r.externalId ? `  (${r.externalId})` : ""}` }]);
	}
	if (view.shipments.length > 0) {
		rows.push([], [{ text: "Shipments", bold: true }]);
		for (const s of view.shipments) {
			rows.push([{ text: `  ${s.shipmentId} from ${s.location ?? "?"} · ${s.carrier ?? "no carrier"} ${s.trackingNumber ?? ""} · ${s.trackingStatus ?? "no scan"} · shipped ${formatTime(s.shippedAt)}` }]);
		}
	}
	return rows;
}

const deliveryTone = (status: string): Tone => (status === "delivered" ? "done" : status === "dead" ? "operator" : status === "pending" ? "waiting" : "routine");

export function deliveryRows(view: OrderView): Row[] {
	return deliveriesRows(view.deliveries);
}

/** Each outbound call with its attempts and last error: an order's, or a payout's ERP postings. */
export function deliveriesRows(deliveries: readonly Delivery[]): Row[] {
	if (deliveries.length === 0) return [[{ text: "no deliveries", tone: "routine" }]];
	const rows: Row[] = [];
	for (const d of deliveries) {
		if (rows.length > 0) rows.push([]);
		rows.push([
			{ text: `${d.kind} → ${d.destination}  `, bold: true },
			{ text: d.status, tone: deliveryTone(d.status) },
			{ text: `  ${d.attempts} attempt${d.attempts === 1 ? "" : "s"}`, tone: "routine" },
			{ text: d.nextAttemptAt ? `  next ${formatTime(d.nextAttemptAt)}` : "", tone: "waiting" },
		]);
		if (d.lastError) rows.push([{ text: `  last error: ${d.lastError}`, tone: "operator" }]);
		d.history.forEach((attempt, i) => rows.push([{ text: `  ${formatTime(attempt.at)} `, tone: "routine" }, ...attemptResult(attempt, i + 1)]));
	}
	return rows;
}

/** The events that carry a body, and which one to show first: the first inbound webhook. */
export function payloads(view: OrderView): { events: OrderEvent[]; first: number } {
	const events = view.events.filter((event) => event.body !== "");
	return { events, first: Math.max(0, events.findIndex((event) => event.source === "inbound")) };
}

function payloadRows(view: OrderView, index: number): Row[] {
	const { events } = payloads(view);
	const event = events[index];
	if (!event) return [[{ text: "no stored payloads", tone: "routine" }]];
	return [
		[
			{ text: `[${index + 1}/${events.length}] `, bold: true },
			{ text: `${event.source} ${event.type}`, tone: "moving" },
			{ text: ` · ${event.eventId ?? "no event id"} · ${formatTime(event.at)}`, tone: "routine" },
			{ text: events.length > 1 ? "   [ ] other payloads" : "", tone: "routine" },
		],
		...prettyBody(event.body).map((text): Row => [{ text }]),
	];
}

function orderRows(view: OrderView): Row[] {
	const order = view.order;
	if (!order) return [[{ text: "no canonical order yet (only updates arrived so far)", tone: "routine" }]];
	return [
		[
			{ text: `${order.channelOrderName} `, bold: true },
			{ text: `· ${order.channel} (${order.connection}) · ${order.lines.length} line${order.lines.length === 1 ? "" : "s"} · total ` },
			{ text: formatMoney(order.total), bold: true },
		],
		...prettyJson(order).map((text): Row => [{ text }]),
	];
}

function sectionRows(view: OrderView, section: Section, entries: Entry[], payloadIndex: number): Row[] {
	switch (section) {
		case "Timeline":
			return entries.map((entry) => entry.row);
		case "Lines":
			return lineRows(view);
		case "Deliveries":
			return deliveryRows(view);
		case "Payload":
			return payloadRows(view, payloadIndex);
		case "Order":
			return orderRows(view);
	}
}

function sectionBar(current: Section): Row {
	return SECTIONS.flatMap((name, i): Row => [{ text: ` ${i + 1} ${name} `, inverse: name === current, bold: name === current }, { text: " " }]);
}

type OrderProps = { ops: Ops; stream: Stream; orderKey: string; active: boolean; width: number; height: number };

export function OrderScreen({ ops, stream, orderKey, active, width, height }: OrderProps) {
	const order = useResource(() => ops.order(orderKey));
	const [section, setSection] = useState<Section>("Timeline");
	const [tops, setTops] = useState<Record<Section, number>>({ Timeline: 0, Lines: 0, Deliveries: 0, Payload: 0, Order: 0 });
	const [selected, setSelected] = useState(0);
	const [payload, setPayload] = useState<number | null>(null);
	const refresh = useDebounced(order.reload, 300);
	const view = order.data;
	useStream(stream, {
		events: (events) => {
			if (events.some((e) => e.orderKey !== undefined && (e.orderKey === view?.key || e.orderKey === orderKey))) refresh();
		},
	});

	const rows = bodyHeight(height) - 1; // the section bar takes one
	const entries = view ? timeline(view) : [];
	const bodies = view ? payloads(view) : { events: [], first: 0 };
	const payloadIndex = Math.min(payload ?? bodies.first, Math.max(0, bodies.events.length - 1));
	const content = view ? sectionRows(view, section, entries, payloadIndex) : [];
	// The timeline reads as a story from its first webhook, so its selection starts at the top.
	const sel = section === "Timeline" && entries.length > 0 ? Math.min(selected, entries.length - 1) : undefined;
	const top = sel !== undefined ? follow(tops.Timeline, sel, entries.length, rows) : clampTop(tops[section], content.length, rows);

	useKeys(
		(input, key) => {
			const i = SECTIONS.indexOf(section);
			const by = scrollBy(key, input, rows);
			if (key.tab || key.rightArrow) setSection(SECTIONS[(i + (key.shift ? SECTIONS.length - 1 : 1)) % SECTIONS.length] ?? "Timeline");
			else if (key.leftArrow) setSection(SECTIONS[(i + SECTIONS.length - 1) % SECTIONS.length] ?? "Timeline");
			else if (/^[1-5]$/.test(input)) setSection(SECTIONS[Number(input) - 1] ?? "Timeline");
			else if (input === "r") order.reload();
			else if (by !== null && sel !== undefined) {
				const next = Math.max(0, Math.min(entries.length - 1, sel + by));
				setSelected(next);
				setTops((t) => ({ ...t, Timeline: follow(top, next, entries.length, rows) }));
			} else if (by !== null) setTops((t) => ({ ...t, [section]: clampTop(top + by, content.length, rows) }));
			else if (key.return && sel !== undefined) {
				const event = entries[sel]?.event;
				const index = event ? bodies.events.indexOf(event) : -1;
				if (index >= 0) {
					setPayload(index);
					setTops((t) => ({ ...t, Payload: 0 }));
					setSection("Payload");
				}
			} else if ((input === "[" || input === "]") && section === "Payload" && bodies.events.length > 0) {
				const n = bodies.events.length;
				setPayload((payloadIndex + (input === "]" ? 1 : n - 1)) % n);
				setTops((t) => ({ ...t, Payload: 0 }));
			} else return false;
			return true;
		},
		Layer.view,
		active,
	);

	const name = view?.order?.channelOrderName;
	const status: Row = [{ text: "Order ", bold: true }, { text: name ? `${name} · ` : "", bold: true }, { text: view?.key ?? orderKey }];
	if (view) status.push({ text: " · " }, { text: view.status ?? "no status", tone: view.status === "cancelled" ? "waiting" : view.status === "delivered" ? "finished" : "moving" });
	if (order.loading) status.push({ text: view ? "  ↻" : "  loading…", tone: "routine" });
	if (order.error && view) status.push({ text: `  refresh failed: ${errorText(order.error)}`, tone: "operator" });

	const footer = hints([
		["Tab ←→ 1-5", "section"],
		["↑↓ PgUp/Dn", section === "Timeline" ? "select" : "scroll"],
		...(section === "Timeline" ? [["⏎", "payload"] as [string, string]] : []),
		["Esc", "back"],
		["?", "help"],
	]);

	let body: ReactNode;
	if (!view && order.error) {
		body = <RowLine line={[{ text: isNotFound(order.error) ? `no order "${orderKey}"` : `could not load order "${orderKey}": ${errorText(order.error)}`, tone: "operator" }]} width={width} />;
	} else if (!view) body = <RowLine line={[{ text: `loading order ${orderKey}…`, tone: "routine" }]} width={width} />;
	else {
		body = (
			<>
				<RowLine line={sectionBar(section)} width={width} />
				<ScrollView rows={content} top={top} height={rows} width={width} selected={sel} />
			</>
		);
	}
	return (
		<Frame status={status} width={width} height={height} footer={footer}>
			{body}
		</Frame>
	);
}
