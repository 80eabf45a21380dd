// Where the operator is. Order, SKU and payout screens open on top of the view they came from.
export type Route =
	| { view: "live" }
	| { view: "exceptions" }
	| { view: "payouts" }
	| { view: "order"; key: string }
	| { view: "sku"; sku: string }
	| { view: "payout"; connection: string; payoutId: string };

export type ViewName = Route["view"];

/** What a view may ask the app to do. */
export type Navigate = (route: Route) => void;

/** Screens opened on top of another view: Esc or Backspace goes back from them. */
export const isScreen = (route: Route) => route.view === "order" || route.view === "sku" || route.view === "payout";

/** A payout key is `<connection>:<payout id>`; a connection name has no colon. */
export function payoutRoute(payoutKey: string): Route | null {
	const colon = payoutKey.indexOf(":");
	if (colon <= 0 || colon === payoutKey.length - 1) return null;
	return { view: "payout", connection: payoutKey.slice(0, colon), payoutId: payoutKey.slice(colon + 1) };
}
