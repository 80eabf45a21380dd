// One screen line made of styled segments. Lines are built as data by pure functions and cut to
// the terminal's width here, so nothing ever wraps into the line below.
import { Text } from "ink";
import { type Tone, toneStyle } from "../format";

type Seg = { text: string; tone?: Tone; bold?: boolean; inverse?: boolean };
export type Row = Seg[];

export const rowText = (line: Row): string => line.map((seg) => seg.text).join("");

/** Tabs as spaces, and no control characters: a raw payload must not move the cursor or change colours. */
const printable = (text: string) => text.replaceAll("\t", "  ").replace(/[\u0000-\u001f\u007f-\u009f]/g, "");

/** Cuts a row to `width` columns, marking the cut with "…"; pads it to `width` when `fill` is set. */
export function clip(line: Row, width: number, fill = false): Row {
	line = line.map((seg) => ({ ...seg, text: printable(seg.text) }));
	const out: Row = [];
	let used = 0;
	const total = rowText(line).length;
	for (const seg of line) {
		if (used >= width) break;
		const room = width - used;
		const text = total > width && used + seg.text.length >= width ? `${seg.text.slice(0, Math.max(0, room - 1))}…` : seg.text;
		out.push({ ...seg, text: text.slice(0, room) });
		used += Math.min(seg.text.length, room);
	}
	if (fill && used < width) out.push({ text: " ".repeat(width - used), inverse: line.at(-1)?.inverse });
	return out;
}

export function RowLine({ line, width, selected = false }: { line: Row; width: number; selected?: boolean }) {
	const cut = clip(selected ? line.map((seg) => ({ ...seg, inverse: true })) : line, width, selected);
	return (
		<Text wrap="truncate-end">
			{rowText(cut) === "" ? " " : cut.map((seg, i) => {
						const style = seg.tone ? toneStyle[seg.tone] : {};
						return <Text key={i} color={style.color} dimColor={style.dimColor} bold={seg.bold ?? style.bold} inverse={seg.inverse}>{seg.text}</Text>;
					})}
		</Text>
	);
}
