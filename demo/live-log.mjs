// A readable live log of what happens to each order and SKU, read from the ops flow stream.
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code) => (text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
const green = paint(32);
const yellow = paint(33);
const red = paint(31);
const cyan = paint(36);
const dim = paint(2);
const bold = paint(1);

const STYLE = {
	received: cyan,
	reserved: green,
	fulfilled: green,
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
};

const WHAT = {
	received: "webhook stored",
	duplicate: "redelivery, already had it — nothing changed",
	stale: "older version arrived late — kept the newer one",
	ignored: "topic not handled — acknowledged",
	quarantined: "signed but unreadable — quarantined for ops",
};

function time(iso) {
	return iso.slice(11, 19);
}

export function formatFlow(event) {
	if (event.type === "pushed") {
		return `${dim(time(event.at))}  ${dim("shop".padEnd(7))} ${cyan("pushed".padEnd(12))} ${event.sku.padEnd(11)} ${dim(event.detail ?? "")}`;
	}
	// Allocations come on their own when stock arrives, so they carry their order on the line.
	if (event.type === "line.allocated") {
		const who = (event.orderName ?? "").padEnd(7);
		return `${dim(time(event.at))}  ${bold(who)} ${green("allocated".padEnd(12))} ${event.sku} ${event.detail ?? ""}`;
	}
	if (event.type.startsWith("line.")) {
		const outcome = event.type.slice(5);
		const style = STYLE[outcome] ?? ((t) => t);
		return `${" ".repeat(19)}${dim("└")} ${event.sku.padEnd(11)} ${style(outcome.padEnd(11))} ${event.detail ?? ""}`;
	}
	const style = STYLE[event.type] ?? ((t) => t);
	const who = (event.orderName ?? event.orderKey?.split(":")[1] ?? "").padEnd(7);
	const explain = WHAT[event.type];
	let detail = event.topic ? `${event.topic}${explain ? ` · ${explain}` : ""}` : (explain ?? event.detail ?? "");
	if (event.type === "quarantined" || event.type === "failed") detail = `${detail} (${event.detail})`;
	return `${dim(time(event.at))}  ${bold(who)} ${style(event.type.padEnd(12))} ${detail}`;
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

export { bold, dim, green, red, yellow };
