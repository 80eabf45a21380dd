// The top line of every view: connection state, role, rates, then the worker's URL (the part
// that gets cut first when the terminal is narrow).
import { formatSeconds } from "../format";
import type { Role, StreamStatus } from "../ports";
import type { Rates } from "../store";
import { type Row, RowLine } from "./row";

const REASON = 40;
const short = (text: string) => (text.length > REASON ? `${text.slice(0, REASON - 1)}…` : text);

export function connectionRow(status: StreamStatus): Row {
	switch (status.state) {
		case "live":
			return [{ text: "● live", tone: "done" }];
		case "connecting":
			return [{ text: `connecting (attempt ${status.attempt})`, tone: "waiting" }];
		case "reconnecting":
			return [{ text: `reconnecting (attempt ${status.attempt}, in ${formatSeconds(status.retryInMs)}): ${short(status.reason)}`, tone: "waiting" }];
		case "refused":
			return [{ text: `refused: ${short(status.reason)}`, tone: "operator", bold: true }];
	}
}

export function headerRow(url: string, status: StreamStatus, role: Role | null, rates: Rates): Row {
	const sep = { text: " │ ", tone: "routine" } as const;
	const roleSegs: Row = role === "read" ? [{ text: " READ-ONLY ", tone: "waiting", bold: true, inverse: true }] : role ? [{ text: role, tone: "routine" }] : [];
	return [
		...connectionRow(status),
		...(roleSegs.length ? [{ text: "  " }, ...roleSegs] : []),
		sep,
		{ text: `${rates.webhooksPerSecond.toFixed(1)} wh/s  ${rates.ordersPerMinute} orders/min  ` },
		{ text: `${rates.failuresPerMinute} fail/min`, tone: rates.failuresPerMinute > 0 ? "operator" : undefined },
		sep,
		{ text: url, tone: "routine" },
	];
}

type HeaderProps = { url: string; status: StreamStatus; role: Role | null; rates: Rates; width: number };

export function Header({ url, status, role, rates, width }: HeaderProps) {
	return <RowLine line={headerRow(url, status, role, rates)} width={width} />;
}
