// SKU: one SKU's stock as its ledger sees it: on hand by location, reserved, available overall
// and per channel, recent audit entries, the backorder queue and open reservations. Reloads
// itself when the stream mentions the SKU.
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

/** Audit columns: time, kind, location; the two deltas and on hand/reserved after; then the cause. */
const auditWhat = (time: string, kind: string, location: string) => `  ${time.padEnd(8)} ${column(kind, 8)} ${column(location, 8)} `;
const auditNumbers = (onHand: string, reserved: string, after: string) => `${onHand.padStart(5)} ${reserved.padStart(5)} ${after.padStart(9)}  `;

/**
 * A hot SKU has hundreds of reservations, nearly all of them committed or released long ago: the
 * open ones are listed, the others only counted.
 */
function reservationRows(reservations: SkuDetail["reservations"]): Row[] {
	const open = reservations.filter((r) => r.status === "open");
	const closed = new Map<string, number>();
	for (const r of reservations) if (r.status !== "open") closed.set(r.status, (closed.get(r.status) ?? 0) + 1);
	const rows: Row[] = [[{ text: "Reservations: ", bold: true }, { text: `${open.length} open` }, ...[...closed].map(([status, n]) => ({ text: ` · ${n} ${status}`, tone: "routine" as const }))]];
	for (const r of open) {
		const short = r.requested - r.quantity;
		rows.push([{ text: `  ${r.orderKey} line ${r.lineId} · ${r.quantity} of ${r.requested} held` }, { text: short > 0 ? ` · ${short} short` : "", tone: "waiting" }]);
	}
	return rows;
}

/** In the order the issue asks for: stock by location, reserved, available per channel, recent audit, the backorder queue; then reservations. */
export function skuRows(sku: SkuDetail): Row[] {
	const waiting = sku.backorders.reduce((n, b) => n + b.waiting, 0);
	const rows: Row[] = [
		[
			{ text: "on hand " },
			{ text: String(sku.onHand), bold: true },
			{ text: " · reserved " },
			{ text: String(sku.reserved), bold: true },
			{ text: " · available " },
			{ text: String(sku.available), bold: true, tone: stockTone(sku.available) },
			// The queue is listed below the audit; its size belongs up here.
			{ text: sku.backorders.length > 0 ? ` · ${waiting} backordered` : "", tone: "waiting" },
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

	rows.push([], [{ text: "Recent audit entries", bold: true }]);
	if (sku.audit.length === 0) rows.push([{ text: "  no entries", tone: "routine" }]);
	else rows.push([{ text: `${auditWhat("time", "kind", "location")}${auditNumbers("±hand", "±resv", "hand/resv")}cause`, tone: "routine" }]);
	// Newest first: the latest change is the one being asked about.
	for (const a of [...sku.audit].sort((x, y) => y.seq - x.seq).slice(0, AUDIT_SHOWN)) {
		rows.push([
			{ text: auditWhat(formatTime(a.at), a.kind, a.location ?? "-") },
			{ text: auditNumbers(signed(a.onHandDelta), signed(a.reservedDelta), `${a.onHandAfter}/${a.reservedAfter}`), tone: "moving" },
			{ text: summarizeCause(a.cause), tone: "routine" },
		]);
	}

	rows.push([], [{ text: `Backorder queue (${sku.backorders.length})`, bold: true }]);
	if (sku.backorders.length === 0) rows.push([{ text: "  empty", tone: "routine" }]);
	for (const b of [...sku.backorders].sort((x, y) => x.position - y.position)) {
		rows.push([{ text: `  ${String(b.position).padStart(3)}. ${b.orderKey} line ${b.lineId} · ` }, { text: `waiting ${b.waiting}`, tone: "waiting" }]);
	}

	rows.push([], ...reservationRows(sku.reservations));
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
