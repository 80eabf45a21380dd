// A readable live log of what happens to each order and SKU, read from the ops flow stream:
// one line per step that matters to a person, coloured by outcome (green done, cyan on its way,
// yellow waiting or changed, red needs an operator, dim routine). Routine events (each successful
// outbound call, tracking relayed to the shop, stock committed per shipment, a status or parcel
// event that repeats the line before it) are left out; `curl …/ops/orders/<key>` has them all.
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code) => (text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
const green = paint(32);
const yellow = paint(33);
const red = paint(31);
const cyan = paint(36);
const dim = paint(2);
const bold = paint(1);
const plain = (text) => text;
const boldGreen = (text) => bold(green(text));

const LABEL = 16;

const STYLE = {
	received: cyan,
	reserved: green,
	fulfilled: green,
	partially_fulfilled: cyan,
	delivered: boldGreen,
	backordered: yellow,
	cancelled: yellow,
	duplicate: dim,
	stale: dim,
	ignored: dim,
	quarantined: red,
	failed: red,
	replayed: cyan,
	released: yellow,
	committed: green,
	allocated: green,
	routed: cyan,
	accepted: cyan,
	unroutable: red,
	"dead-lettered": red,
	"cancelled.at-3pl": yellow,
	"cancel.too-late": red,
	"stock.arrived": cyan,
	"delivery.cancelled": yellow,
	"fulfilled.on-channel": green,
};

/** What a person calls each event, where the type itself does not read well. */
const LABELS = {
	partially_fulfilled: "part shipped",
	"fulfilled.on-channel": "on channel",
	"cancelled.at-3pl": "cancelled at 3PL",
	"cancel.too-late": "cancel too late",
	"stock.arrived": "stock arrived",
	"delivery.cancelled": "call cancelled",
};

const WHAT = {
	received: "webhook stored",
	duplicate: "redelivery, already had it — nothing changed",
	stale: "older version arrived late — kept the newer one",
	ignored: "topic not handled — acknowledged",
	quarantined: "signed but unreadable — quarantined for ops",
};

/** Carrier statuses (EasyPost's names): what they read as, and how they look. */
const TRACKING = {
	pre_transit: ["label created", dim],
	in_transit: ["in transit", cyan],
	out_for_delivery: ["out for delivery", cyan],
	available_for_pickup: ["at pickup point", yellow],
	return_to_sender: ["returning", red],
	failure: ["parcel lost", red],
	error: ["carrier error", red],
	cancelled: ["label voided", yellow],
	unknown: ["no scan yet", dim],
};

const DESTINATIONS = { "3pl:shipbob": "ShipBob", "channel:shopify-demo": "Shopify", "tracking:easypost": "EasyPost" };
const destinationName = (destination) => DESTINATIONS[destination] ?? destination;

/** Status events repeat their counts ("3 lines", "1 of 3 lines short"); the order's own events say more. */
const statusDetail = (detail) => /^\d+ (of \d+ )?lines?( short)?$/.test(detail ?? "");

/** Order names by key, for events raised on the exceptions desk, which carry only the key. */
const names = new Map();

function time(iso) {
	return iso.slice(11, 19);
}

function orderLine(event, label, style, detail) {
	const name = event.orderName ?? names.get(event.orderKey) ?? "";
	const key = event.orderKey ? dim(`  ${event.orderKey}`) : "";
	return `${dim(time(event.at))}  ${bold(name.padEnd(7))} ${style(label.padEnd(LABEL))} ${detail ?? ""}${key}`;
}

/** One readable line for a flow event, or null for the routine ones this log leaves out. */
export function formatFlow(event) {
	if (event.orderKey && event.orderName) {
		names.set(event.orderKey, event.orderName);
		if (names.size > 5000) names.delete(names.keys().next().value);
	}
	const type = event.type;
	const detail = event.detail ?? "";

	if (type === "pushed") {
		return `${dim(time(event.at))}  ${dim("shop".padEnd(7))} ${dim("pushed".padEnd(LABEL))} ${dim(`${event.sku.padEnd(11)} ${detail}`)}`;
	}
	// The reconciliation sweep's run per connection: worth a colour when it recovered something.
	if (type === "swept") {
		const style = /, 0 recovered/.test(detail) && !/stopped|rate limited/.test(detail) ? dim : yellow;
		return `${dim(time(event.at))}  ${dim("sweep".padEnd(7))} ${style("swept".padEnd(LABEL))} ${detail}`;
	}
	// Allocations come on their own when stock arrives, so they carry their order on the line.
	if (type === "line.allocated") return orderLine(event, "allocated", green, `${event.sku} ${detail}`);
	if (type === "line.committed") {
		// Each shipment commits its units; only a count that did not have them is worth a line.
		return detail.includes("not on hand") ? orderLine(event, "committed short", yellow, `${event.sku} ${detail}`) : null;
	}
	if (type.startsWith("line.")) {
		const outcome = type.slice(5);
		const style = STYLE[outcome] ?? plain;
		return `${" ".repeat(19)}${dim("└")} ${(event.sku ?? "").padEnd(11)} ${style(outcome.padEnd(11))} ${detail}`;
	}

	// Outbound calls: a success is routine unless it took retries; what it achieved has its own event.
	if (type === "retrying") return null; // the line after a success says it took retries
	if (type === "sent") {
		const retried = / \(attempt (\d+)\)$/.exec(detail);
		if (!retried) return null;
		const [kind, destination] = detail.replace(retried[0], "").split(" → ");
		return orderLine(event, "retried ok", yellow, `${kind} → ${destinationName(destination)} went through on attempt ${retried[1]}`);
	}
	if (type === "tracking.on-channel") return null; // the carrier's news, relayed to the shop as it came
	// Each payout's own line (from the demo) sums up the orders it settled and what reached NetSuite.
	if (type === "settled" || type.startsWith("payout.") || type.startsWith("erp.")) return null;
	if (type.startsWith("tracking.")) {
		const status = type.slice(9);
		if (status === "delivered") return null; // the order's "delivered" follows once every parcel is
		const [label, style] = TRACKING[status] ?? [status.replaceAll("_", " "), plain];
		return orderLine(event, label, style, detail);
	}
	if (type.startsWith("shipment.")) {
		const status = type.slice(9);
		// "<shipment id>: 2 units via USPS 9400…"
		const m = /^(\S+): (.*)$/.exec(detail);
		const text = m ? `${m[2]} · parcel ${m[1]}` : detail;
		return orderLine(event, status === "shipped" ? "shipped" : `shipment ${status}`, status === "shipped" ? cyan : yellow, text);
	}
	const style = STYLE[type] ?? plain;
	const label = LABELS[type] ?? type;
	switch (type) {
		case "routed":
			return statusDetail(detail) ? null : orderLine(event, label, style, `→ ${detail}`);
		case "accepted": {
			if (statusDetail(detail)) return null;
			// "3pl:shipbob order 300000012 for wh-east"
			const m = /^(\S+) order (\S+) for (\S+)$/.exec(detail);
			return orderLine(event, label, style, m ? `by ${destinationName(m[1])} at ${m[3]} (order ${m[2]})` : detail);
		}
		case "fulfilled":
			// Follows the last parcel's "shipped" line; the channel's own fulfilled (without a 3PL) says more.
			return statusDetail(detail) ? null : orderLine(event, label, style, detail);
		case "partially_fulfilled":
			return orderLine(event, label, style, "some units shipped, the rest to follow");
		case "delivered":
			return orderLine(event, label, style, "✓ every parcel delivered");
		case "fulfilled.on-channel": {
			const id = /Fulfillment\/(\d+)/.exec(detail)?.[1];
			return orderLine(event, label, style, id ? `fulfilment ${id} created, customer notified` : detail);
		}
		case "cancelled.at-3pl":
			return orderLine(event, label, style, `${detail} will not ship it`);
		case "cancel.too-late":
			return orderLine(event, label, style, `${detail} had already shipped it`);
		case "stock.arrived":
			return orderLine(event, label, style, `${event.sku ?? ""} ${detail}`);
	}
	const explain = WHAT[type];
	if (statusDetail(detail)) return orderLine(event, label, style, detail);
	let text = event.topic ? `${event.topic}${explain ? ` · ${explain}` : ""}` : (explain ?? detail);
	if (type === "quarantined") text = `${text} (${detail})`;
	return orderLine(event, label, style, text);
}

export function formatStock(items) {
	return items
		.map((i) => {
			const outlet = i.channels?.["shopify-outlet"];
			const text = `${i.sku} ${i.available}${outlet ? dim(`/${outlet}`) : ""}`;
			return i.available === 0 ? red(text) : i.available <= 3 ? yellow(text) : text;
		})
		.join(dim(" · "));
}

export { bold, cyan, dim, green, red, yellow };
