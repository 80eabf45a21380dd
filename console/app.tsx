// The interactive console: a header, then the current view. Order, SKU and payout screens open on
// top of the view they came from, which stays mounted (hidden) so Esc returns to it exactly as it was.
//
// Keys (the `?` overlay lists them per view; its tables are in views/help.tsx):
//   everywhere  ? help · q quit · 1 Live · 2 Exceptions · 3 Payouts · o open an order (key or #name) ·
//               s open a SKU · Esc/Backspace back from Order, SKU or Payout
//   Live        ↑/↓ j/k select (pauses) · PgUp/PgDn · Enter open its order (SKU, payout) ·
//               p/space pause/resume · Esc resume · / filter (text channel:x state:y sku:z) · c clear
//   Order       Tab/←/→ or 1-5 sections (digits pick sections here, not views) · ↑/↓ j/k PgUp/PgDn ·
//               Enter (Timeline) show that event's payload · [ ] other payloads · r reload
//   SKU         ↑/↓ j/k PgUp/PgDn scroll · r reload
//   Exceptions  ↑/↓ j/k select · Enter details (Enter again opens its order or payout) ·
//               r replay/retry (y/n) · R replay all matching the filter (y/n, then a progress bar) ·
//               x cancel a dead letter or mark a payout exception reviewed (y/n) ·
//               / filter (text kind:x channel:y) · c clear · Esc leave details / stop a bulk run
//   Payouts     ↑/↓ j/k select · Enter its report · r reload
//   Payout      ↑/↓ j/k PgUp/PgDn scroll · r reload
//   prompts     Enter accepts, Esc dismisses; confirmations take y or n (Esc = n)
import { Box, useApp, useWindowSize } from "ink";
import { useEffect, useRef, useState } from "react";
import type { Ops, Role, Stream, StreamStatus } from "./ports";
import type { FlowEvent } from "./protocol";
import { FlowStore } from "./store";
import { ExceptionsView } from "./views/exceptions";
import { Header } from "./views/header";
import { Help } from "./views/help";
import { useStream } from "./views/hooks";
import { KeyRouter, Layer, useKeys } from "./views/keys";
import { LiveView } from "./views/live";
import { OrderScreen } from "./views/order";
import { PayoutScreen } from "./views/payout";
import { PayoutsView } from "./views/payouts";
import { Prompt } from "./views/prompt";
import { isScreen, type Route } from "./views/route";
import { SkuScreen } from "./views/sku";

/** Stream events are applied at most this often: one render per batch keeps 200 events/s smooth. */
const BATCH_MS = 100;

type AppProps = { ops: Ops; stream: Stream; url: string };

export function App(props: AppProps) {
	return (
		<KeyRouter>
			<Console {...props} />
		</KeyRouter>
	);
}

function Console({ ops, stream, url }: AppProps) {
	const { exit } = useApp();
	const { columns, rows } = useWindowSize();
	const [store] = useState(() => new FlowStore());
	const [, setVersion] = useState(0);
	const [status, setStatus] = useState<StreamStatus>({ state: "connecting", attempt: 1 });
	const [role, setRole] = useState<Role | null>(null);
	const [now, setNow] = useState(() => Date.now());
	const [stack, setStack] = useState<Route[]>([{ view: "live" }]);
	const [help, setHelp] = useState(false);
	const [asking, setAsking] = useState<"order" | "sku" | null>(null);

	const pending = useRef<FlowEvent[]>([]);
	const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
	const apply = () => {
		store.add(pending.current, Date.now());
		pending.current = [];
	};
	const schedule = () => {
		if (timer.current !== undefined) return;
		timer.current = setTimeout(() => {
			timer.current = undefined;
			apply();
			setNow(Date.now());
			setVersion((v) => v + 1);
		}, BATCH_MS);
	};
	useStream(stream, {
		status: (next) => {
			setStatus(next);
			if (next.state === "live") setRole(next.role);
		},
		events: (events) => {
			pending.current.push(...events);
			schedule();
		},
		gap: (after, until) => {
			apply(); // the gap goes after the events that came before it
			store.addGap(after, until, Date.now());
			schedule();
		},
	});
	useEffect(() => {
		// Rates decay and ages grow even when nothing arrives. Re-armed whenever `now` moves, so
		// while events flow (each batch moves it) it never fires: no frame beyond the batches'.
		const tick = setTimeout(() => setNow(Date.now()), 1000);
		return () => clearTimeout(tick);
	}, [now]);
	useEffect(() => () => clearTimeout(timer.current), []);

	const top = stack.at(-1) ?? { view: "live" };
	const navigate = (route: Route) => setStack((s) => [...s, route]);
	useKeys(
		(input, key) => {
			if (input === "q") exit();
			else if (input === "?") setHelp(true);
			else if (input === "1") setStack([{ view: "live" }]);
			else if (input === "2") setStack([{ view: "exceptions" }]);
			else if (input === "3") setStack([{ view: "payouts" }]);
			else if (input === "o") setAsking("order");
			else if (input === "s") setAsking("sku");
			else if ((key.escape || key.backspace) && isScreen(top)) setStack((s) => (s.length > 1 ? s.slice(0, -1) : [{ view: "live" }]));
			else return false;
			return true;
		},
		Layer.global,
		!help && !asking,
	);

	const height = Math.max(3, rows - 1 - (asking ? 1 : 0));
	const view = (route: Route, active: boolean) => {
		const common = { active, width: columns, height };
		switch (route.view) {
			case "live":
				return <LiveView store={store} onOpen={navigate} {...common} />;
			case "exceptions":
				return <ExceptionsView ops={ops} stream={stream} role={role} onOpen={navigate} {...common} />;
			case "order":
				return <OrderScreen ops={ops} stream={stream} orderKey={route.key} {...common} />;
			case "sku":
				return <SkuScreen ops={ops} stream={stream} sku={route.sku} {...common} />;
			case "payouts":
				return <PayoutsView ops={ops} stream={stream} onOpen={navigate} {...common} />;
			case "payout":
				return <PayoutScreen ops={ops} stream={stream} connection={route.connection} payoutId={route.payoutId} {...common} />;
		}
	};

	return (
		<Box flexDirection="column" width={columns} height={rows} overflow="hidden">
			<Header url={url} status={status} role={role} rates={store.rates(now)} width={columns} />
			{help && <Help view={top.view} width={columns} height={rows - 1} onClose={() => setHelp(false)} onQuit={exit} />}
			{stack.map((route, i) => {
				const shown = i === stack.length - 1 && !help;
				return (
					<Box key={`${i}:${routeKey(route)}`} display={shown ? "flex" : "none"} flexDirection="column" height={height}>
						{view(route, shown && !asking)}
					</Box>
				);
			})}
			{asking && (
				<Prompt
					label={asking === "order" ? "order (key or #name):" : "SKU:"}
					width={columns}
					layer={Layer.appModal}
					onSubmit={(text) => {
						const value = text.trim();
						setAsking(null);
						// A bare number is an order name: `1001` means `#1001`.
						if (value && asking === "order") navigate({ view: "order", key: /^\d+$/.test(value) ? `#${value}` : value });
						else if (value) navigate({ view: "sku", sku: value });
					}}
					onCancel={() => setAsking(null)}
				/>
			)}
		</Box>
	);
}

/** Which screen a route is, for React: a different order (SKU, payout) at the same depth is a new one. */
function routeKey(route: Route): string {
	switch (route.view) {
		case "order":
			return `order:${route.key}`;
		case "sku":
			return `sku:${route.sku}`;
		case "payout":
			return `payout:${route.connection}:${route.payoutId}`;
		default:
			return route.view;
	}
}
