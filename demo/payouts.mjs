// The channels pay the brand for the demo's orders: Shopify Payments pays charges as they are made,
// TikTok Shop and Amazon once an order has shipped. Each run makes at most one payout per channel
// from the orders booked in the sandbox NetSuite since the last run, stores it at the sandbox's peer
// (a Shopify Payments payout, a TikTok Shop statement) or writes it as Amazon writes it (a V2
// settlement flat file), and has ordersync reconcile it: each line matched to its order, fees to
// their accounts, and a bank deposit in NetSuite equal to the payout to the cent. Now and then a
// Shopify payout also pays an order ordersync never saw, so the variance shows as an exception.
// Money is in minor units (integers) throughout; decimal strings only at the edges.

/** Flow events this old are not yet paid: a Shopify order may still be cancelled in its first seconds. */
const SETTLE_AFTER_MS = 5_000;
/** Orders waiting to ship (TikTok Shop, Amazon) are given up on after this. */
const WAIT_AT_MOST_MS = 15 * 60_000;
/** How long a run waits for ordersync to post the deposits to NetSuite. */
const POSTING_MS = 30_000;
/** Which Shopify payout also pays an unknown order (the 2nd, the 7th, the 12th, …). */
const UNKNOWN_EVERY = 5;
const UNKNOWN_FIRST = 2;

const CHANNELS = {
	"shopify-demo": { name: "Shopify Payments", shipped: false },
	tiktok: { name: "TikTok Shop", shipped: true },
	amazon: { name: "Amazon", shipped: true },
};
/** TikTok Shop and Amazon settle an order once it has shipped. */
const SHIPPED = new Set(["fulfilled", "partially_fulfilled", "delivered"]);
/** The demo's shops sell in dollars; an order in another currency is not paid here. */
const CURRENCY = "USD";

const sum = (list, of) => list.reduce((n, x) => n + of(x), 0);
/** Minor units as a decimal string: 1234 → "12.34", -5 → "-0.05". */
const decimal = (minor) => `${minor < 0 ? "-" : ""}${Math.floor(Math.abs(minor) / 100)}.${String(Math.abs(minor) % 100).padStart(2, "0")}`;
/** A share of an amount in per-mille, rounded half up, in integers: 2.9% of 1999 → 58. */
const perMille = (minor, rate) => Math.floor((minor * rate + 500) / 1000);
const money = (minor, currency) => (currency === "USD" ? `${minor < 0 ? "-" : ""}$${decimal(Math.abs(minor))}` : `${decimal(minor)} ${currency}`);
const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;
/** Amazon's dates: "2026-11-26 00:00:00 UTC". */
const amazonTime = (ms) => `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;

export function createPayouts({ baseUrl, sandboxUrl, opsToken, onError, now = Date.now }) {
	const auth = { Authorization: `Bearer ${opsToken}` };
	const startedAt = now();
	let cursor = 0;
	let lastRunAt = startedAt;
	let seq = 0;
	let shopifyPayouts = 0;
	/** Booked orders not paid yet: order key → { connection, bookedAt }. */
	const waiting = new Map();
	/** Orders paid (or given up on): never paid twice. */
	const done = new Set();
	/** Payouts still posting when their run ended: said again once NetSuite has the deposit. */
	const posting = new Map();

	async function ops(path, init = {}) {
		const response = await fetch(`${baseUrl}${path}`, { ...init, headers: { ...auth, ...init.headers } });
		if (!response.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${(await response.text()).slice(0, 300)}`);
		return response.json();
	}

	async function sandbox(path, body) {
		const response = await fetch(`${sandboxUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
		if (!response.ok) throw new Error(`sandbox ${path}: ${response.status} ${(await response.text()).slice(0, 300)}`);
		return response.json();
	}

	/** A payout id unique across runs of the demo (ordersync keeps every payout in .wrangler/state). */
	const payoutId = (prefix) => `${prefix}${now()}${String(seq++ % 100).padStart(2, "0")}`;

	/** Orders ordersync booked in NetSuite since the last look (this run's only, on the first). */
	async function collect() {
		for (;;) {
			const page = await ops(`/ops/flows?after=${cursor}&limit=1000`);
			for (const event of page.events) {
				if (event.type !== "erp.booked" || !event.orderKey || !Object.hasOwn(CHANNELS, event.connection ?? "")) continue;
				const at = Date.parse(event.at);
				if (at < startedAt || done.has(event.orderKey) || waiting.has(event.orderKey)) continue;
				waiting.set(event.orderKey, { connection: event.connection, bookedAt: at });
			}
			if (page.events.length === 0 || page.cursor === cursor) return;
			cursor = page.cursor;
		}
	}

	/** Each waiting order that its channel pays now, with its canonical contents, by connection. */
	async function due() {
		const keys = [...waiting].filter(([, w]) => now() - w.bookedAt >= SETTLE_AFTER_MS).map(([key]) => key);
		const byConnection = new Map(Object.keys(CHANNELS).map((c) => [c, []]));
		const queue = [...keys];
		await Promise.all(
			Array.from({ length: 8 }, async () => {
				for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
					const { connection, bookedAt } = waiting.get(key);
					const view = await fetch(`${baseUrl}/ops/orders/${encodeURIComponent(key)}`, { headers: auth })
						.then((response) => (response.ok ? response.json() : null))
						.catch(() => null);
					const order = view?.order;
					// Cancelled, paid by an earlier payout (a resumed demo), or not in the payout's currency: never paid here.
					if (order && (order.cancelledAt || Object.keys(view.settlements ?? {}).length > 0 || order.currency !== CURRENCY)) {
						forget(key);
						continue;
					}
					// Not readable just now, or not shipped yet: the next run looks again.
					if (!order || (CHANNELS[connection].shipped && !SHIPPED.has(view.status))) {
						if (now() - bookedAt > WAIT_AT_MOST_MS) forget(key);
						continue;
					}
					byConnection.get(connection).push({ key, order });
				}
			}),
		);
		return byConnection;
	}

	function forget(key) {
		waiting.delete(key);
		done.add(key);
	}

	const taxOf = (line) => sum(line.taxes ?? [], (t) => t.amount.amount);
	const discountOf = (line) => sum(line.discounts ?? [], (d) => d.amount.amount);
	/** What the buyer paid for shipping (after shipping discounts), and its tax. */
	const shippingOf = (order) => sum(order.shippingLines, (s) => s.price.amount - discountOf(s));
	const shippingTaxOf = (order) => sum(order.shippingLines, taxOf);

	// ————— Shopify Payments —————

	async function shopify(connection, orders) {
		shopifyPayouts++;
		const id = payoutId("8");
		const at = new Date(now()).toISOString();
		const charge = (amount, orderId) => ({
			type: "CHARGE",
			amount: { amount: decimal(amount), currencyCode: CURRENCY },
			// Shopify Payments' online rate: 2.9% + 30¢.
			fee: { amount: decimal(perMille(amount, 29) + 30), currencyCode: CURRENCY },
			associatedOrder: { id: `gid://shopify/Order/${orderId}` },
			transactionDate: at,
		});
		const balanceTransactions = orders.map(({ order }) => charge(order.total.amount, order.channelOrderId));
		if (shopifyPayouts % UNKNOWN_EVERY === UNKNOWN_FIRST % UNKNOWN_EVERY) {
			// A charge for an order the shop took while ordersync was not listening.
			balanceTransactions.push(charge(1999, 990_000_000_000 + (now() % 1_000_000_000)));
		}
		await sandbox("/sandbox/shopify/payouts", { payout: { legacyResourceId: id, issuedAt: at, status: "PAID" }, balanceTransactions });
		return sync(connection, id);
	}

	// ————— TikTok Shop —————

	async function tiktok(connection, orders) {
		const id = payoutId("7");
		const transactions = orders.map(({ order }) => {
			const shipping = shippingOf(order);
			// US sales tax: TikTok collects it and remits it itself; it is not part of what it settles.
			const tax = sum(order.lines, taxOf) + shippingTaxOf(order);
			const revenue = order.total.amount - shipping - tax;
			const commission = perMille(revenue, 60);
			const transactionFee = perMille(revenue, 29);
			return {
				type: "ORDER",
				order_id: order.channelOrderId,
				revenue_amount: decimal(revenue),
				shipping_cost_amount: decimal(shipping),
				// settlement = revenue + shipping + fee_tax + adjustment, as TikTok documents it: the fees alone.
				fee_tax_amount: decimal(-(commission + transactionFee)),
				adjustment_amount: "0",
				reserve_amount: "0",
				settlement_amount: decimal(revenue + shipping - commission - transactionFee),
				revenue_breakdown: { subtotal_before_discount_amount: decimal(revenue) },
				shipping_cost_breakdown: { customer_paid_shipping_fee_amount: decimal(shipping) },
				fee_tax_breakdown: { fee: { platform_commission_amount: decimal(-commission), transaction_fee_amount: decimal(-transactionFee) }, tax: {} },
				supplementary_component: { sales_tax_amount: decimal(tax) },
			};
		});
		await sandbox("/sandbox/tiktok/statements", { statement: { id, currency: CURRENCY, payment_status: "PAID" }, transactions });
		return sync(connection, id);
	}

	// ————— Amazon —————

	const AMAZON_COLUMNS = [
		"settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency", "transaction-type", "order-id",
		"merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name", "amount-type", "amount-description", "amount", "fulfillment-id",
		"posted-date", "posted-date-time", "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
	];

	/** A V2 settlement flat file paying `orders` (one shipment each), as Amazon writes it. */
	function amazonFile(id, orders) {
		const postedAt = now();
		const rows = [];
		orders.forEach(({ order }, n) => {
			const shipment = `D${id.slice(-6)}${n}`;
			order.lines.forEach((line, i) => {
				const row = (type, description, amount) => ({
					amount,
					fields: [
						id, "", "", "", "", CURRENCY, "Order", order.channelOrderId, "", "", shipment, "Amazon.com", type, description, decimal(amount), "MFN",
						amazonTime(postedAt).slice(0, 10), amazonTime(postedAt), line.channelLineId, "", "", line.sku ?? "", String(line.quantity),
					],
				});
				const principal = line.unitPrice.amount * line.quantity;
				rows.push(row("ItemPrice", "Principal", principal));
				if (taxOf(line) !== 0) rows.push(row("ItemPrice", "Tax", taxOf(line)));
				if (discountOf(line) !== 0) rows.push(row("Promotion", "Principal", -discountOf(line)));
				if (i === 0 && shippingOf(order) !== 0) rows.push(row("ItemPrice", "Shipping", shippingOf(order)));
				if (i === 0 && shippingTaxOf(order) !== 0) rows.push(row("ItemPrice", "ShippingTax", shippingTaxOf(order)));
				// Amazon's referral fee: 15% of the item price.
				rows.push(row("ItemFees", "Commission", -perMille(principal, 150)));
			});
		});
		const total = sum(rows, (r) => r.amount);
		const summary = [id, amazonTime(lastRunAt), amazonTime(postedAt), amazonTime(postedAt + 2 * 86_400_000), decimal(total), CURRENCY, ...Array(17).fill("")];
		return [AMAZON_COLUMNS, summary, ...rows.map((r) => r.fields)].map((r) => r.join("\t")).join("\n");
	}

	async function amazon(connection, orders) {
		const id = payoutId("2");
		const text = amazonFile(id, orders);
		const answer = await ops(`/ops/settlements/${connection}/amazon-report`, { method: "POST", body: text, headers: { "Content-Type": "text/tab-separated-values" } });
		return { payoutId: id, summary: answer.report.summary, exceptions: answer.report.exceptions.length };
	}

	/** Has ordersync fetch the payout from the channel's finance API and reconcile it. */
	async function sync(connection, id) {
		const answer = await ops(`/ops/settlements/${connection}/sync`, { method: "POST", body: JSON.stringify({ payoutId: id }), headers: { "Content-Type": "application/json" } });
		const result = answer.results?.find((r) => r.payoutId === id);
		if (!result?.ok) throw new Error(`ordersync could not reconcile ${connection} payout ${id}: ${result?.error ?? "no result"}`);
		return { payoutId: id, summary: result.summary, exceptions: result.exceptions };
	}

	// ————— NetSuite —————

	/** The payout's report once its deposit is in NetSuite (or failed), or the last seen when time runs out. */
	async function posted(connection, id, deadline) {
		for (;;) {
			const report = await ops(`/ops/settlements/${connection}/${encodeURIComponent(id)}`);
			if (report.erp === "posted" || report.erp === "failed" || now() >= deadline) return report;
			await new Promise((resolve) => setTimeout(resolve, 1000));
		}
	}

	/** The bank deposit NetSuite holds for a payout, in minor units, or null. */
	async function deposit(payoutKey) {
		const query = new URLSearchParams({ type: "deposit", externalId: `dep:${payoutKey}` });
		const response = await fetch(`${sandboxUrl}/sandbox/netsuite/records?${query}`);
		if (!response.ok) return null;
		const record = (await response.json()).records?.[0];
		return record ? Math.round(Number(record.total) * 100) : null;
	}

	/** "→ deposit $123.45 in NetSuite", or where it stands. */
	async function inBooks(report) {
		if (report.erp === "failed") return "→ NetSuite refused a posting (see the exceptions desk)";
		if (report.erp !== "posted") return report.erp === "reconciled" ? "(not booked: no ERP for this connection)" : "→ still posting to NetSuite";
		const total = await deposit(report.payoutKey);
		if (total === null) return "→ posted, but NetSuite has no deposit for it";
		return total === report.total ? `→ deposit ${money(total, report.currency)} in NetSuite` : `→ deposit ${money(total, report.currency)} in NetSuite, but the payout is ${money(report.total, report.currency)}`;
	}

	function describe(connection, paid, orders, reconciled) {
		const { summary, exceptions } = reconciled;
		const variance = summary.variance !== 0 ? ` (variance ${money(summary.variance, CURRENCY)})` : "";
		const issues = exceptions > 0 ? `, ${plural(exceptions, "exception")}${variance}` : "";
		return `payout ${connection} ${paid}: ${plural(orders, "order")}, ${summary.matched.percent}% matched${issues}, net ${money(summary.net, CURRENCY)}`;
	}

	/**
	 * One payout per channel from the orders booked since the last run and now payable, each
	 * reconciled and posted to NetSuite. Returns a line per payout; a channel that fails is told to
	 * `onError`, and its orders are paid by a later run.
	 */
	async function run() {
		const lines = [];
		// Payouts an earlier run left posting.
		for (const [id, { connection, text }] of posting) {
			const report = await ops(`/ops/settlements/${connection}/${encodeURIComponent(id)}`).catch(() => null);
			if (report && report.erp !== "posting") {
				posting.delete(id);
				lines.push(`${text} ${await inBooks(report)}`);
			}
		}
		await collect();
		const byConnection = await due();
		const made = [];
		for (const [connection, orders] of byConnection) {
			if (orders.length === 0) continue;
			const pay = { "shopify-demo": shopify, tiktok, amazon }[connection];
			try {
				const reconciled = await pay(connection, orders);
				for (const { key } of orders) forget(key);
				made.push({ connection, orders: orders.length, reconciled });
			} catch (error) {
				// The orders stay waiting: a later run pays them in a payout of its own.
				onError?.(`${CHANNELS[connection].name} payout: ${error.message}`);
			}
		}
		lastRunAt = now();
		const deadline = now() + POSTING_MS;
		const reports = await Promise.all(made.map(({ connection, reconciled }) => posted(connection, reconciled.payoutId, deadline).catch(() => null)));
		for (const [i, { connection, orders, reconciled }] of made.entries()) {
			const text = describe(connection, reconciled.payoutId, orders, reconciled);
			const report = reports[i];
			if (report?.erp === "posting" || report === null) posting.set(reconciled.payoutId, { connection, text });
			lines.push(`${text} ${report ? await inBooks(report) : "→ posting to NetSuite"}`);
		}
		return lines;
	}

	return { run, waiting: () => waiting.size };
}
