// Exceptions: what needs an operator (quarantined webhooks, dead letters, unroutable orders,
// payout lines that did not reconcile, …), kept current from the stream. Replay one (`r`) or every
// match of the filter (`R`, with a progress bar), cancel a dead letter or mark a payout exception
// reviewed (`x`); every action asks y/n first. Items disappear when
// the worker reports them resolved, not when a replay merely answered. Exceptions reported while
// the stream was down are not sent again, so the list is fetched again after a reconnect.
import { type ReactNode, useEffect, useRef, useState } from "react";
import { isEmptyFilter, matchesException, parseFilter } from "../filter";
import { column, formatAge } from "../format";
import type { Ops, Role, Stream } from "../ports";
import type { ExceptionItem } from "../protocol";
import { type Bulk, BulkPanel } from "./bulk-replay";
import { DetailPanel, openable, payoutOf } from "./exception-detail";
import { bodyHeight, Frame, hints } from "./frame";
import { useDebounced, useLiveAgain, useStream } from "./hooks";
import { Layer, useKeys } from "./keys";
import { Confirm, Prompt } from "./prompt";
import { errorText } from "./resource";
import type { Navigate } from "./route";
import { type Row, RowLine } from "./row";
import { follow, ScrollView, scrollBy } from "./scroll";

/** Flow events after which the open exceptions may have changed. */
const CHANGES = new Set(["quarantined", "dead-lettered", "unroutable", "failed", "gap", "replayed", "sent", "delivery.cancelled"]);

type Outcome = { ok: boolean; text: string };
/** `cancel` gives up on a dead letter; `review` closes a payout exception (its variance is already booked). */
type Action = "replay" | "cancel" | "review";
type Modal = { kind: "filter" } | { kind: "confirm"; action: Action; item: ExceptionItem } | { kind: "confirm-all"; items: ExceptionItem[] };

/** How each action reads: while under way, in its outcome, and in a read-only refusal. */
const ACTION: Record<Action, { doing: string; done: string; refused: string }> = {
	replay: { doing: "replaying", done: "replay", refused: "replay" },
	cancel: { doing: "cancelling", done: "cancel", refused: "cancel" },
	review: { doing: "marking reviewed", done: "mark reviewed", refused: "mark reviewed" },
};

/** What people call the thing that failed: the order's name, else its key, else the payout or the webhook. */
export const subjectOf = (item: ExceptionItem) => {
	if (item.orderName) return item.orderName;
	const payout = !item.orderKey || item.orderKey.startsWith("payout/") ? payoutOf(item) : null;
	if (payout?.view === "payout") return `payout ${payout.payoutId}`;
	return item.orderKey ?? ([item.connection, item.topic].filter(Boolean).join(" ") || item.id);
};

export function exceptionRow(item: ExceptionItem, now: number, outcome?: Outcome): Row {
	const subject = subjectOf(item);
	// "payout 1051…: lines do not add up" beside "payout 1051…" says it twice.
	const reason = subject.startsWith("payout ") && item.reason.startsWith(`${subject}: `) ? item.reason.slice(subject.length + 2) : item.reason;
	return [
		{ text: `${column(item.kind, 11)} `, tone: "operator" },
		{ text: `${formatAge(item.createdAt, now).padStart(4)}  `, tone: "routine" },
		{ text: `${column(subject, 26)} ` },
		...(outcome ? [{ text: `${outcome.ok ? "✓" : "✗"} ${outcome.text} · `, tone: outcome.ok ? ("done" as const) : ("operator" as const) }] : []),
		{ text: reason },
	];
}

/**
 * A fetched list, minus what the stream has since reported resolved: an answer that left the
 * worker before the resolution must not bring a cleared item back.
 */
export function mergeFetched(fetched: readonly ExceptionItem[], known: ReadonlyMap<string, ExceptionItem>): ExceptionItem[] {
	return fetched.filter((item) => {
		const latest = known.get(item.id);
		return item.status === "open" && !(latest && latest.status === "resolved" && latest.updatedAt >= item.updatedAt);
	});
}

const newestFirst = (a: ExceptionItem, b: ExceptionItem) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0);

type ExceptionsProps = { ops: Ops; stream: Stream; role: Role | null; active: boolean; width: number; height: number; onOpen: Navigate };

export function ExceptionsView({ ops, stream, role, active, width, height, onOpen }: ExceptionsProps) {
	const [items, setItems] = useState<ExceptionItem[]>([]);
	const [loaded, setLoaded] = useState(false);
	const [loadError, setLoadError] = useState<unknown>(null);
	const [filterText, setFilterText] = useState("");
	const [cursor, setCursor] = useState({ id: null as string | null, index: 0 });
	const [top, setTop] = useState(0);
	const [modal, setModal] = useState<Modal | null>(null);
	const [detail, setDetail] = useState<string | null>(null);
	const [bulk, setBulk] = useState<Bulk | null>(null);
	const [flash, setFlash] = useState<Outcome | null>(null);
	const [outcomes, setOutcomes] = useState<ReadonlyMap<string, Outcome>>(new Map());
	const known = useRef(new Map<string, ExceptionItem>());
	const request = useRef(0);
	const stopBulk = useRef(false);
	const now = Date.now();

	const load = () => {
		const mine = ++request.current;
		ops.exceptions("open").then(
			(list) => {
				if (mine !== request.current) return;
				setItems(mergeFetched(list, known.current).sort(newestFirst));
				setLoaded(true);
				setLoadError(null);
			},
			(error: unknown) => mine === request.current && setLoadError(error),
		);
	};
	const refresh = useDebounced(load, 300);
	// Once, on mount; leaving the view drops answers under way and stops a bulk run.
	useEffect(() => {
		load();
		return () => {
			request.current++;
			stopBulk.current = true;
		};
	}, []);
	useStream(stream, {
		exception: (item) => {
			known.current.set(item.id, item);
			setItems((list) => {
				const rest = list.filter((i) => i.id !== item.id);
				return item.status === "resolved" ? rest : [...rest, item].sort(newestFirst);
			});
			refresh();
		},
		events: (events) => {
			if (events.some((e) => CHANGES.has(e.type))) refresh();
		},
	});
	useLiveAgain(stream, refresh);

	const filter = parseFilter(filterText);
	const shown = isEmptyFilter(filter) ? items : items.filter((item) => matchesException(filter, item));
	const found = cursor.id === null ? -1 : shown.findIndex((item) => item.id === cursor.id);
	// A selected item that went away leaves the selection where it was, on its neighbour.
	const selected = shown.length === 0 ? -1 : found >= 0 ? found : Math.min(cursor.index, shown.length - 1);
	const current = shown[selected];
	// The selection follows its item, not its row: items arriving above it or resolving elsewhere
	// must not move it. Whatever is shown selected (the first item at the start, or a resolved
	// item's neighbour) becomes the item followed.
	useEffect(() => {
		// Only over the cursor this render saw: a key pressed before this effect ran has moved it since.
		if (current && (current.id !== cursor.id || selected !== cursor.index)) setCursor((c) => (c === cursor ? { id: current.id, index: selected } : c));
	});
	const rows = bodyHeight(height);
	const start = selected >= 0 ? follow(top, selected, shown.length, rows) : 0;

	const act = (action: Action, item: ExceptionItem) => {
		const words = ACTION[action];
		setFlash({ ok: true, text: `${words.doing} ${item.id}…` });
		// The outcome shows on the item's line as well, in case the operator has moved on.
		const done = (result: Outcome) => {
			setOutcomes((m) => new Map(m).set(item.id, result));
			setFlash({ ok: result.ok, text: result.ok ? `${words.done}: ok (${result.text})` : `${words.done} failed: ${result.text}` });
			refresh();
		};
		(action === "replay" ? ops.replay(item.id) : ops.cancel(item.id)).then(
			(result) => done({ ok: true, text: result.status }),
			(error: unknown) => done({ ok: false, text: errorText(error) }),
		);
	};
	const runBulk = async (targets: ExceptionItem[]) => {
		stopBulk.current = false;
		let state: Bulk = { total: targets.length, done: 0, ok: 0, failed: 0, log: [], running: true, stopped: false };
		setBulk(state);
		for (const item of targets) {
			if (stopBulk.current) break;
			let line: Row;
			try {
				const result = await ops.replay(item.id);
				state = { ...state, ok: state.ok + 1 };
				line = [{ text: `✓ ${item.id}: ${result.status}`, tone: "done" }];
			} catch (error) {
				state = { ...state, failed: state.failed + 1 };
				line = [{ text: `✗ ${item.id}: ${errorText(error)}`, tone: "operator" }];
			}
			state = { ...state, done: state.done + 1, log: [...state.log, line] };
			setBulk(state);
		}
		setBulk({ ...state, running: false, stopped: state.done < state.total });
		refresh();
	};
	/** The write keys, refused up front with a read-only token (the worker would answer 403). */
	const ask = (next: Modal) =>
		role === "read" ? setFlash({ ok: false, text: `read-only token: cannot ${next.kind === "confirm" ? ACTION[next.action].refused : "replay"}` }) : setModal(next);
	const askCancel = (item: ExceptionItem) => {
		if (item.kind === "dead-letter") ask({ kind: "confirm", action: "cancel", item });
		else if (item.kind === "settlement") ask({ kind: "confirm", action: "review", item });
		else setFlash({ ok: false, text: `only dead letters can be cancelled; this is a ${item.kind}` });
	};
	// A payout exception has nothing to re-run: its variance is booked, and the payout is re-sent from its channel.
	const askReplay = (item: ExceptionItem) =>
		item.kind === "settlement" ? setFlash({ ok: false, text: "a payout exception is not replayed: its variance is booked; x marks it reviewed" }) : ask({ kind: "confirm", action: "replay", item });

	useKeys(
		(input, key) => {
			if (flash !== null) setFlash(null); // an update is a render of its own (see live.tsx)
			const by = scrollBy(key, input, rows);
			if (by !== null) {
				if (shown.length === 0) return true;
				const next = Math.max(0, Math.min(shown.length - 1, (selected < 0 ? 0 : selected) + by));
				setCursor({ id: shown[next]?.id ?? null, index: next });
				setTop(follow(start, next, shown.length, rows));
			} else if (key.return) {
				if (current) setDetail(current.id);
			} else if (input === "r") {
				if (current) askReplay(current);
			} else if (input === "R") {
				if (shown.length === 0) setFlash({ ok: false, text: "nothing to replay" });
				else ask({ kind: "confirm-all", items: [...shown] });
			} else if (input === "x") {
				if (current) askCancel(current);
			} else if (input === "/") setModal({ kind: "filter" });
			else if (input === "c") setFilterText("");
			else return false;
			return true;
		},
		Layer.view,
		active && !modal && !detail && !bulk,
	);
	useKeys(
		(input, key) => {
			if (key.escape || (key.return && bulk && !bulk.running)) {
				if (bulk?.running) stopBulk.current = true;
				else setBulk(null);
				return true;
			}
			// While a bulk run is on screen, the list's keys would act on a list nobody can see.
			return input !== "q" && input !== "?";
		},
		Layer.view,
		active && !modal && bulk !== null,
	);

	const status: Row = [{ text: "Exceptions", bold: true }, { text: ` · ${items.length} open`, tone: items.length > 0 ? "operator" : "done" }];
	if (filterText) status.push({ text: ` · ${shown.length} shown · ` }, { text: `filter: ${filterText}`, tone: "moving" });
	if (role === "read") status.push({ text: "  read-only", tone: "waiting" });
	if (loadError) status.push({ text: `  could not load: ${errorText(loadError)}`, tone: "operator" });

	let modalView: ReactNode;
	if (modal?.kind === "filter") {
		modalView = (
			<Prompt
				label="filter:"
				initial={filterText}
				width={width}
				onSubmit={(text) => {
					setFilterText(text.trim());
					setModal(null);
				}}
				onCancel={() => setModal(null)}
			/>
		);
	} else if (modal?.kind === "confirm") {
		const { action, item } = modal;
		const verb = action === "cancel" ? "Cancel dead letter" : item.kind === "dead-letter" ? "Retry dead letter" : "Replay";
		const subject = `${item.id} (${subjectOf(item)})`;
		modalView = (
			<Confirm
				message={action === "review" ? reviewQuestion(item) : `${verb} ${subject}?`}
				onYes={() => {
					setModal(null);
					act(action, item);
				}}
				onNo={() => setModal(null)}
			/>
		);
	} else if (modal?.kind === "confirm-all") {
		const targets = modal.items;
		modalView = (
			<Confirm
				message={`Replay all ${targets.length} exception${targets.length === 1 ? "" : "s"}${filterText ? ` matching "${filterText}"` : ""}?`}
				onYes={() => {
					setModal(null);
					void runBulk(targets);
				}}
				onNo={() => setModal(null)}
			/>
		);
	}

	const detailItem = detail ? (items.find((i) => i.id === detail) ?? known.current.get(detail)) : undefined;
	const footer: Row = flash
		? [{ text: flash.text, tone: flash.ok ? "done" : "operator" }]
		: bulk
			? hints([[bulk.running ? "Esc" : "Esc/⏎", bulk.running ? "stop after this one" : "back to the list"]])
			: detail
				? hints([
						["↑↓", "scroll"],
						...(detailItem?.kind === "settlement" ? [] : [["r", "replay"] as [string, string]]),
						["x", xHint(detailItem)],
						["⏎", detailItem && openable(detailItem)?.view === "payout" ? "open payout" : "open order"],
						["Esc", "back"],
						["?", "help"],
					])
				: hints([
					["↑↓", "select"],
					["⏎", "details"],
					["r", "replay"],
					["R", "replay all"],
					["x", xHint(current)],
					["/", "filter"],
					["?", "help"],
				]);

	let body: ReactNode;
	if (bulk) body = <BulkPanel bulk={bulk} filterText={filterText} width={width} height={rows} />;
	else if (detail) {
		const item = detailItem;
		body = (
			<DetailPanel
				ops={ops}
				stream={stream}
				id={detail}
				resolved={item?.status === "resolved" || (loaded && !item)}
				active={active && !modal}
				width={width}
				height={rows}
				onClose={() => {
					setDetail(null);
					setFlash(null);
				}}
				onReplay={askReplay}
				onCancel={askCancel}
				onOpen={onOpen}
			/>
		);
	} else if (shown.length === 0) {
		const empty = !loaded ? "loading exceptions…" : items.length === 0 ? "no open exceptions" : "no exceptions match the filter (c clears it)";
		body = <RowLine line={[{ text: empty, tone: loaded && items.length === 0 ? "done" : "routine" }]} width={width} />;
	} else {
		body = <ScrollView rows={shown.map((item) => exceptionRow(item, now, outcomes.get(item.id)))} top={start} height={rows} width={width} selected={selected} />;
	}
	return (
		<Frame status={status} width={width} height={height} footer={footer} modal={modalView}>
			{body}
		</Frame>
	);
}

/** "Mark payout 105127866449 line bt_2 (#1002) reviewed?": short enough that its y/n stays on an 80-column screen. */
function reviewQuestion(item: ExceptionItem): string {
	const m = /^settlement:[^:]+:([^:]+):(.+)$/.exec(item.id);
	const what = m ? `payout ${m[1]} ${m[2] === "total" ? "total" : `line ${m[2]}`}` : item.id;
	const order = item.orderName ?? item.orderKey;
	return `Mark ${what}${order ? ` (${order})` : ""} reviewed?`;
}

const xHint = (item: ExceptionItem | undefined) => (item?.kind === "settlement" ? "mark reviewed" : "cancel");
