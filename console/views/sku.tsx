// SKU: one SKU's stock as its ledger sees it: on hand by location, reserved, available overall
// and per channel, the backorder queue, reservations and recent audit entries. Reloads itself
// when the stream mentions the SKU.
import { useState } from "react";
import { column, formatTime, signed, summarizeCause, type Tone } from "../format";
import type { Ops, Stream } from "../ports";
import type { SkuDetail } from "../protocol";
import { bodyHeight, Frame, hints } from "./frame";
import { useDebounced, useStream } from "./hooks";
import { Layer, useKeys } from "./keys";
import { errorText, isNotFound, useResource } from "./resource";
import { type Row, RowLine } from "./row";
import { clampTop, ScrollView, scrollBy } from "./scroll";

const AUDIT_SHOWN = 50;

const stockTone = (n: number): Tone => (n <= 0 ? "operator" : n <= 3 ? "waiting" : "plain");

export function skuRows(sku: SkuDetail): Row[] {
	const rows: Row[] = [
		[
			{ text: "on hand " },
			{ text: String(sku.onHand), bold: true },
			{ text: " · reserved " },
			{ text: String(sku.reserved), bold: true },
			{ text: " · available " },
			{ text: String(sku.available), bold: true, tone: stockTone(sku.available) },
			{ text: sku.updatedAt ? ` · updated ${formatTime(sku.updatedAt)}` : "", tone: "routine" },
		],
		[],
		[{ text: "On hand by location", bold: true }],
	];
	if (sku.locations.length === 0) rows.push([{ text: "  no stock reported", tone: "routine" }]);
	for (const l of sku.locations) rows.push([{ text: `  ${column(l.location, 16)} ${String(l.onHand).padStart(6)}` }, { text: `  as of ${formatTime(l.asOf)} (${l.source})`, tone: "routine" }]);

	rows.push([], [{ text: "Available per channel", bold: true }]);
	const channels = Object.entries(sku.channels);
	if (channels.length === 0) rows.push([{ text: "  no channels", tone: "routine" }]);
	for (const [connection, available] of channels) rows.push([{ text: `  ${column(connection, 24)} ` }, { text: String(available).padStart(6), tone: stockTone(available) }]);

	rows.push([], [{ text: `Backorder queue (${sku.backorders.length})`, bold: true }]);
	if (sku.backorders.length === 0) rows.push([{ text: "  empty", tone: "routine" }]);
	for (const b of [...sku.backorders].sort((x, y) => x.position - y.position)) {
		rows.push([{ text: `  ${String(b.position).padStart(3)}. ${b.orderKey} line ${b.lineId} · ` }, { text: `waiting ${b.waiting}`, tone: "waiting" }]);
	}

	rows.push([], [{ text: `Reservations (${sku.reservations.length})`, bold: true }]);
	if (sku.reservations.length === 0) rows.push([{ text: "  none", tone: "routine" }]);
	for (const r of sku.reservations) {
		rows.push([{ text: `  ${r.orderKey} line ${r.lineId} · ${r.quantity} of ${r.requested} · ` }, { text: r.status, tone: r.quantity < r.requested ? "waiting" : "done" }]);
	}

	rows.push([], [{ text: "Recent audit", bold: true }]);
	if (sku.audit.length === 0) rows.push([{ text: "  no entries", tone: "routine" }]);
	// Newest first: the latest change is the one being asked about.
	for (const a of [...sku.audit].sort((x, y) => y.seq - x.seq).slice(0, AUDIT_SHOWN)) {
		rows.push([
			{ text: `  ${formatTime(a.at)} `, tone: "routine" },
			{ text: `${column(a.kind, 12)} ` },
			{ text: `${column(a.location ?? "-", 10)} ` },
			{ text: `on hand ${signed(a.onHandDelta)} reserved ${signed(a.reservedDelta)} → ${a.onHandAfter}/${a.reservedAfter} `, tone: "moving" },
			{ text: summarizeCause(a.cause), tone: "routine" },
		]);
	}
	return rows;
}

type SkuProps = { ops: Ops; stream: Stream; sku: string; active: boolean; width: number; height: number };

export function SkuScreen({ ops, stream, sku, active, width, height }: SkuProps) {
	const detail = useResource(() => ops.sku(sku));
	const [top, setTop] = useState(0);
	const refresh = useDebounced(detail.reload, 300);
	useStream(stream, {
		events: (events) => {
			if (events.some((e) => e.sku !== undefined && e.sku.toLowerCase() === sku.toLowerCase())) refresh();
		},
	});
	const rows = bodyHeight(height);
	const content = detail.data ? skuRows(detail.data) : [];
	useKeys(
		(input, key) => {
			const by = scrollBy(key, input, rows);
			if (by !== null) setTop(clampTop(top + by, content.length, rows));
			else if (input === "r") detail.reload();
			else return false;
			return true;
		},
		Layer.view,
		active,
	);

	const status: Row = [{ text: "SKU ", bold: true }, { text: detail.data?.sku ?? sku, bold: true }];
	if (detail.loading) status.push({ text: detail.data ? "  ↻" : "  loading…", tone: "routine" });
	if (detail.error && detail.data) status.push({ text: `  refresh failed: ${errorText(detail.error)}`, tone: "operator" });
	const footer = hints([
		["↑↓ PgUp/Dn", "scroll"],
		["r", "reload"],
		["Esc", "back"],
		["?", "help"],
		["q", "quit"],
	]);
	return (
		<Frame status={status} width={width} height={height} footer={footer}>
			{detail.data ? (
				<ScrollView rows={content} top={top} height={rows} width={width} />
			) : (
				<RowLine
					line={[
						detail.error
							? { text: isNotFound(detail.error) ? `no SKU "${sku}"` : `could not load SKU "${sku}": ${errorText(detail.error)}`, tone: "operator" }
							: { text: `loading SKU ${sku}…`, tone: "routine" },
					]}
					width={width}
				/>
			)}
		</Frame>
	);
}
