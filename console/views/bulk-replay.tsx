// The progress of a bulk replay (`R` in Exceptions): a bar, the counts, and the latest outcomes.
import { type Row, RowLine } from "./row";

export type Bulk = { total: number; done: number; ok: number; failed: number; log: Row[]; running: boolean; stopped: boolean };

export function BulkPanel({ bulk, filterText, width, height }: { bulk: Bulk; filterText: string; width: number; height: number }) {
	const barWidth = Math.max(10, Math.min(50, width - 20));
	const filled = bulk.total === 0 ? barWidth : Math.round((bulk.done / bulk.total) * barWidth);
	const head: Row[] = [
		[{ text: `Replaying ${bulk.total} exception${bulk.total === 1 ? "" : "s"}${filterText ? ` matching "${filterText}"` : ""}`, bold: true }],
		[{ text: "█".repeat(filled), tone: "moving" }, { text: "░".repeat(barWidth - filled), tone: "routine" }, { text: ` ${bulk.done}/${bulk.total}` }],
		[{ text: `${bulk.ok} succeeded`, tone: "done" }, { text: " · " }, { text: `${bulk.failed} failed`, tone: bulk.failed > 0 ? "operator" : "routine" }],
		bulk.running
			? [{ text: "working…", tone: "routine" }]
			: [{ text: `${bulk.stopped ? `Stopped after ${bulk.done} of ${bulk.total}` : "Done"}: ${bulk.ok} succeeded, ${bulk.failed} failed`, bold: true, tone: bulk.failed > 0 ? "waiting" : "done" }],
		[],
	];
	// The latest outcomes, as many as fit under the bar.
	const room = Math.max(0, height - head.length);
	const lines = [...head, ...bulk.log.slice(Math.max(0, bulk.log.length - room))];
	return (
		<>
			{lines.map((line, i) => (
				<RowLine key={i} line={line} width={width} />
			))}
		</>
	);
}
