// A window onto a long list of rows: which rows fit, and where the window moves when a selection
// or a page key moves. The arithmetic is pure; `ScrollView` only draws the rows that fit.
import { Box } from "ink";
import { type Row, RowLine } from "./row";

/** The first row shown, kept in range. */
export function clampTop(top: number, total: number, height: number): number {
	return Math.max(0, Math.min(top, total - height));
}

/** Moves the window just enough to show `selected`. */
export function follow(top: number, selected: number, total: number, height: number): number {
	if (selected < top) return clampTop(selected, total, height);
	if (selected >= top + height) return clampTop(selected - height + 1, total, height);
	return clampTop(top, total, height);
}

/** What a scroll key does to the first row shown (↑/↓/j/k one row, PgUp/PgDn a page, Home/End); null for other keys. */
export function scrollBy(key: { upArrow: boolean; downArrow: boolean; pageUp: boolean; pageDown: boolean; home: boolean; end: boolean }, input: string, height: number): number | null {
	if (key.upArrow || input === "k") return -1;
	if (key.downArrow || input === "j") return 1;
	if (key.pageUp) return -Math.max(1, height - 1);
	if (key.pageDown) return Math.max(1, height - 1);
	if (key.home) return -Infinity;
	if (key.end) return Infinity;
	return null;
}

export function ScrollView({ rows, top, height, width, selected }: { rows: readonly Row[]; top: number; height: number; width: number; selected?: number }) {
	const start = clampTop(top, rows.length, height);
	return (
		<Box flexDirection="column" height={height} overflow="hidden">
			{rows.slice(start, start + height).map((line, i) => (
				<RowLine key={start + i} line={line} width={width} selected={selected === start + i} />
			))}
		</Box>
	);
}
