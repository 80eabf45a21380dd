// The layout every view shares below the header: a status line, a body of fixed height, and a
// footer that shows a prompt, a message or the view's main keys.
import { Box } from "ink";
import type { ReactNode } from "react";
import { type Row, RowLine } from "./row";

/** `modal` (a prompt or a confirmation) takes the footer's place while shown. */
type FrameProps = { status: Row; width: number; height: number; footer: Row; modal?: ReactNode; children: ReactNode };

/** Rows the body gets inside a frame of `height` rows. */
export const bodyHeight = (height: number) => Math.max(1, height - 2);

export function Frame({ status, width, height, footer, modal, children }: FrameProps) {
	return (
		<Box flexDirection="column" height={height} width={width} overflow="hidden">
			<RowLine line={status} width={width} />
			<Box flexDirection="column" height={bodyHeight(height)} overflow="hidden">
				{children}
			</Box>
			{modal ?? <RowLine line={footer} width={width} />}
		</Box>
	);
}

/** A footer of key hints: "key what · key what". */
export function hints(pairs: Array<[string, string]>): Row {
	return pairs.flatMap(([key, what], i): Row => [...(i > 0 ? [{ text: " · ", tone: "routine" as const }] : []), { text: key, bold: true }, { text: ` ${what}`, tone: "routine" }]);
}
