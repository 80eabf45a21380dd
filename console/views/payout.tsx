// Payout: one payout's reconciliation report (Enter in Payouts). Its totals first (gross sales,
// refunds, fees by category, adjustments, net against what the channel paid, how many lines
// matched, the variance), then its exceptions, each line and how it matched its order, and where
// its ERP postings stand with their deliveries. Reloads itself when the stream reports a change.
import { useState } from "react";
import { column, erpStatusText, feeBreakdown, feeTotal, formatDate, formatMoney, lineStatusText, matchedText, payoutStatusTone } from "../format";
import type { Ops, Stream } from "../ports";
import type { PayoutReport } from "../protocol";
import { bodyHeight, Frame, hints } from "./frame";
import { useDebounced, useLiveAgain, useStream } from "./hooks";
import { Layer, useKeys } from "./keys";
import { deliveriesRows } from "./order";
import { right } from "./payouts";
import { errorText, isNotFound, useResource } from "./resource";
import { type Row, RowLine } from "./row";
import { clampTop, ScrollView, scrollBy } from "./scroll";

type Line = PayoutReport["lines"][number];

/** What a line is about: its order (by name when known), a refund of one, or its kind. */
function lineSubject(line: Line): string {
	const order = line.orderName ?? line.channelOrderId;
	if (line.kind === "order") return order ?? "no order";
	if (line.kind === "refund") return `refund ${order ?? "?"}`;
	return line.kind;
}

/** The totals: amounts on the left, fees by category on the right. */
function totalRows(report: PayoutReport, money: (n: number) => string): Row[] {
	const s = report.summary;
	const amount = (label: string, n: number, tone?: Row[number]["tone"], bold = false): Row => [{ text: `${label.padEnd(13)}${right(money(n), 14)}`, tone, bold }];
	if (!s) return [[{ text: "still matching: no totals yet", tone: "waiting" }], amount("Total paid", report.total, undefined, true)];
	const left: Row[] = [
		amount("Gross sales", s.grossSales),
		amount("Refunds", s.refunds),
		amount("Fees", feeTotal(s.fees)),
		amount("Adjustments", s.adjustments),
		amount("Net", s.net, undefined, true),
		// What the channel paid must be what the lines add up to; a gap is an exception of its own.
		amount("Total paid", report.total, s.net === report.total ? undefined : "operator", true),
	];
	const breakdown = feeBreakdown(s.fees);
	const rightRows: Row[] = breakdown.length === 0 ? [[{ text: "no fees", tone: "routine" }]] : [[{ text: "By category", tone: "routine" }]];
	for (const fee of breakdown) rightRows.push([{ text: `  ${column(fee.label, 18)} ` }, { text: right(money(fee.amount), 13), tone: fee.category === "unmapped" ? "operator" : undefined }]);
	const rows: Row[] = [];
	for (let i = 0; i < Math.max(left.length, rightRows.length); i++) {
		rows.push([...(left[i] ?? [{ text: " ".repeat(27) }]), { text: "   " }, ...(rightRows[i] ?? [])]);
	}
	rows.push([
		{ text: "Matched " },
		{ text: matchedText(s.matched), bold: true, tone: s.matched.lines === s.matched.of ? "done" : "waiting" },
		{ text: " · variance " },
		{ text: money(s.variance), bold: true, tone: s.variance === 0 ? "done" : "operator" },
	]);
	return rows;
}

export const LINE_TITLES = `  ${column("LINE", 10)} ${column("ORDER", 14)} ${column("STATUS", 15)} ${right("AMOUNT", 11)} ${right("NET", 11)} ${right("VARIANCE", 11)}`;

export function payoutLineRow(line: Line, money: (n: number) => string): Row {
	const [label, tone] = lineStatusText(line.status);
	return [
		{ text: `  ${column(line.id, 10)} ${column(lineSubject(line), 14)} ` },
		{ text: `${column(label, 15)} `, tone },
		{ text: `${right(money(line.amount), 11)} ${right(money(line.net), 11)} ` },
		{ text: right(line.variance === 0 ? "" : money(line.variance), 11), tone: "operator" },
	];
}

/** The report as screen lines: totals, exceptions, lines, then the ERP and its deliveries. */
export function payoutRows(report: PayoutReport): Row[] {
	const money = (amount: number) => formatMoney({ amount, currency: report.currency });
	const period = report.periodStart || report.periodEnd ? ` · period ${formatDate(report.periodStart)} → ${formatDate(report.periodEnd)}` : "";
	const rows: Row[] = [
		[{ text: `${report.connection} · paid ${formatDate(report.paidAt)}${period} · via ${report.via}`, tone: "routine" }],
		[],
		...totalRows(report, money),
		[],
	];
	if (report.exceptions.length === 0) rows.push([{ text: "Exceptions: none", bold: true, tone: "done" }]);
	else {
		rows.push([{ text: `Exceptions (${report.exceptions.length})`, bold: true, tone: "operator" }]);
		for (const e of report.exceptions) rows.push([{ text: `  ${column(e.id, 10)} ` }, { text: `${right(money(e.variance), 11)}  `, tone: "operator" }, { text: e.reason }]);
	}
	rows.push([], [{ text: `Lines (${report.lines.length})`, bold: true }]);
	if (report.lines.length === 0) rows.push([{ text: "  none yet", tone: "routine" }]);
	else rows.push([{ text: LINE_TITLES, tone: "routine" }], ...report.lines.map((line) => payoutLineRow(line, money)));
	const [erp, erpTone] = erpStatusText(report.erp);
	rows.push([], [{ text: "ERP ", bold: true }, { text: erp, bold: true, tone: erpTone }, { text: ` · ${report.deliveries.length} deliver${report.deliveries.length === 1 ? "y" : "ies"}`, tone: "routine" }]);
	if (report.deliveries.length > 0) rows.push(...deliveriesRows(report.deliveries).map((row): Row => [{ text: "  " }, ...row]));
	return rows;
}

type PayoutProps = { ops: Ops; stream: Stream; connection: string; payoutId: string; active: boolean; width: number; height: number };

export function PayoutScreen({ ops, stream, connection, payoutId, active, width, height }: PayoutProps) {
	const report = useResource(() => ops.payout(connection, payoutId));
	const [top, setTop] = useState(0);
	const refresh = useDebounced(report.reload, 300);
	const key = `${connection}:${payoutId}`;
	useStream(stream, {
		payout: (change) => {
			if (change.payoutKey === key) refresh();
		},
		// "payout <id>: …" on the payout's connection, for a worker that sends no `payout` messages.
		events: (events) => {
			if (events.some((e) => e.type.startsWith("payout.") && e.connection === connection && (e.detail ?? "").startsWith(`payout ${payoutId}:`))) refresh();
		},
	});
	useLiveAgain(stream, refresh);
	const rows = bodyHeight(height);
	const content = report.data ? payoutRows(report.data) : [];
	useKeys(
		(input, key) => {
			const by = scrollBy(key, input, rows);
			if (by !== null) setTop(clampTop(top + by, content.length, rows));
			else if (input === "r") report.reload();
			else return false;
			return true;
		},
		Layer.view,
		active,
	);

	const data = report.data;
	const status: Row = [{ text: "Payout ", bold: true }, { text: `${data?.channel ?? connection} ${payoutId}`, bold: true }];
	if (data) {
		const [erp, erpTone] = erpStatusText(data.erp);
		status.push({ text: " · " }, { text: data.status, tone: payoutStatusTone(data.status) }, { text: " · ERP " }, { text: erp, tone: erpTone }, { text: ` · ${formatMoney({ amount: data.total, currency: data.currency })}` });
	}
	if (report.loading) status.push({ text: data ? "  ↻" : "  loading…", tone: "routine" });
	if (report.error && data) status.push({ text: `  refresh failed: ${errorText(report.error)}`, tone: "operator" });
	const footer = hints([
		["↑↓ PgUp/Dn", "scroll"],
		["r", "reload"],
		["Esc", "back"],
		["?", "help"],
		["q", "quit"],
	]);
	return (
		<Frame status={status} width={width} height={height} footer={footer}>
			{data ? (
				<ScrollView rows={content} top={top} height={rows} width={width} />
			) : (
				<RowLine
					line={[
						report.error
							? { text: isNotFound(report.error) ? `no payout "${key}"` : `could not load payout "${key}": ${errorText(report.error)}`, tone: "operator" }
							: { text: `loading payout ${key}…`, tone: "routine" },
					]}
					width={width}
				/>
			)}
		</Frame>
	);
}
