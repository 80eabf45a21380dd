// Drives realistic webhook traffic at a running ordersync, mostly Shopify's (about a quarter of the
// orders come from TikTok Shop, Amazon, WooCommerce and an EDI retailer, see channel-orders.mjs): new orders (each one also
// known to the sandbox shop, as Shopify would know it), edits while an order waits for stock,
// cancellations before or just as the warehouse ships, the odd redelivery, an update that
// overtakes its create, now and then a body Shopify signed but ordersync cannot read, and rarely
// an order no warehouse can ship. The sandbox's clock (ship, carry, deliver) and its faults are driven from here too.
import { BUNDLES, CATALOGUE, LOCATIONS, STORE_ONLY } from "./catalogue.mjs";
import { CHANNELS, listEverywhere, placeOn } from "./channel-orders.mjs";
import { shopifyOrder, signedDelivery } from "./shopify-orders.mjs";

const pick = (list) => list[Math.floor(Math.random() * list.length)];
const chance = (p) => Math.random() < p;

/** Orders younger than this are still in the warehouse's queue (the demo ships after ~4 s). */
const CHANGEABLE_MS = 3_000;
/** Orders are forgotten by the traffic after this; ordersync and the sandbox keep them. */
const FORGET_MS = 60_000;

export function createTraffic({ baseUrl, sandboxUrl, connection, secret, opsToken, onError }) {
	const open = new Map(); // order id → { lines, number, createdAt, updatedAt, bornMs }
	const recent = []; // recent deliveries, for redelivery
	let nextId = Date.now() * 10; // distinct across restarts of the demo
	let nextNumber = 1000 + (Math.floor(Date.now() / 1000) % 9000);
	const opsHeaders = { Authorization: `Bearer ${opsToken}`, "Content-Type": "application/json" };
	const stats = { orders: 0, storeOnly: 0, edits: 0, cancels: 0, faults: 0, elsewhere: 0, unsent: 0 };

	async function send(topic, body, eventId) {
		const delivery = await signedDelivery({ secret, topic, body, eventId });
		recent.push({ topic, body: delivery.body, eventId: delivery.headers["X-Shopify-Event-Id"] });
		if (recent.length > 50) recent.shift();
		return post(`/webhooks/shopify/${connection}`, delivery.headers, delivery.body);
	}

	async function post(path, headers, body) {
		const response = await fetch(`${baseUrl}${path}`, { method: "POST", headers, body });
		if (response.status >= 500) onError?.(`${path}: ${response.status} ${await response.text()}`);
		return response;
	}

	/**
	 * The shop learns of the order first, as Shopify creates it before its webhook; fulfilments are
	 * made against it, and its order list (what the reconciliation sweep reads) has it as it is now.
	 */
	async function register(order) {
		const response = await fetch(`${sandboxUrl}/sandbox/shopify/orders`, { method: "POST", body: JSON.stringify(order) }).catch((error) => ({ ok: false, status: error.message }));
		if (!response.ok) onError?.(`sandbox shop did not take order ${order.name}: ${response.status}`);
	}

	const tick = () => new Date(Date.now()).toISOString();

	function newLines() {
		const count = 1 + Math.floor(Math.random() * 3);
		const products = new Set();
		if (chance(0.12)) products.add(pick(BUNDLES));
		while (products.size < count) products.add(pick(CATALOGUE));
		return [...products].map((p) => ({ sku: p.sku, title: p.title, price: p.price, quantity: chance(0.8) ? 1 : 2 }));
	}

	/** A new order: the shop knows it, then the webhook goes out. */
	async function place(lines, { overtaken = false } = {}) {
		const id = nextId++;
		const number = nextNumber++;
		const createdAt = tick();
		const updatedAt = overtaken ? new Date(Date.now() + 1000).toISOString() : createdAt;
		const order = shopifyOrder({ id, number, lines, createdAt, updatedAt });
		open.set(id, { lines, number, createdAt, updatedAt, bornMs: Date.now() });
		stats.orders++;
		await register(order);
		// About 1 in 40 webhooks never comes (Shopify gave up, or it is a day late): the sweep finds the order.
		if (!overtaken && chance(1 / 40)) {
			stats.unsent++;
			return;
		}
		if (!overtaken) return send("orders/create", order);
		// orders/updated (newer) arrives before orders/create (older): the older one must not win.
		await send("orders/updated", order);
		await send("orders/create", shopifyOrder({ id, number, lines: lines.map((l) => ({ ...l, quantity: l.quantity + 1 })), createdAt, updatedAt: createdAt }));
	}

	/** Open orders the customer can still change: young ones, not yet with the warehouse's pickers. */
	function changeable() {
		const now = Date.now();
		for (const [id, o] of open) if (now - o.bornMs > FORGET_MS) open.delete(id);
		return [...open].filter(([, o]) => now - o.bornMs < CHANGEABLE_MS);
	}

	const actions = {
		async create() {
			// About 1 in 40 orders is for the store exclusive alone, which no warehouse holds.
			if (STORE_ONLY.length > 0 && chance(1 / 40)) {
				const p = pick(STORE_ONLY);
				stats.storeOnly++;
				return place([{ sku: p.sku, title: p.title, price: p.price, quantity: 1 }]);
			}
			return place(newLines());
		},
		async edit() {
			// The customer takes one unit off a line while the order waits for stock. Edits after the
			// order went to the warehouse are not sent: ordersync does not pass them on to the 3PL.
			// (Lowering only: the sandbox shop's fulfilment orders keep what the order was registered with.)
			const candidates = [...open].filter(([, o]) => o.lines.some((l) => l.quantity > 1)).sort(() => Math.random() - 0.5).slice(0, 4);
			for (const [id, o] of candidates) {
				const view = await (await fetch(`${baseUrl}/ops/orders/${connection}:${id}`, { headers: opsHeaders })).json().catch(() => null);
				if (!["received", "reserved", "backordered"].includes(view?.status)) continue;
				const line = o.lines.find((l) => l.quantity > 1);
				line.quantity -= 1;
				o.updatedAt = tick();
				stats.edits++;
				const edited = shopifyOrder({ id, number: o.number, lines: o.lines, createdAt: o.createdAt, updatedAt: o.updatedAt });
				await register(edited);
				return send("orders/updated", edited);
			}
			return actions.create();
		},
		async cancel() {
			const [id, o] = pick(changeable()) ?? [];
			if (!o) return actions.create();
			open.delete(id);
			stats.cancels++;
			const cancelled = shopifyOrder({ id, number: o.number, lines: o.lines, createdAt: o.createdAt, updatedAt: tick(), cancelled: true });
			await register(cancelled);
			await send("orders/cancelled", cancelled);
		},
		async redeliver() {
			const earlier = pick(recent);
			if (!earlier) return actions.create();
			await send(earlier.topic, earlier.body, earlier.eventId);
		},
		async overtake() {
			await place(newLines(), { overtaken: true });
		},
		async garbled() {
			await send("orders/create", '{"id": 1, "line_items": [{"sku": "TEE-BLK-M", "price": 24.0');
		},
		async ignored() {
			await send("products/update", { id: 7000000001, title: "Classic Tee", updated_at: tick() });
		},
		async elsewhere() {
			// The same catalogue sells on TikTok Shop, Amazon and WooCommerce; their webhooks come with the sandbox clock.
			stats.orders++;
			stats.elsewhere++;
			const lines = newLines().filter((l) => !BUNDLES.some((b) => b.sku === l.sku));
			await placeOn(sandboxUrl, pick(CHANNELS), lines.length > 0 ? lines : [{ ...pick(CATALOGUE), quantity: 1 }]);
		},
	};

	const weights = [
		["create", 44],
		["elsewhere", 18],
		["edit", 6],
		["cancel", 6],
		["redeliver", 6],
		["overtake", 4],
		["garbled", 2],
		["ignored", 4],
	];
	const total = weights.reduce((sum, [, w]) => sum + w, 0);

	function nextAction() {
		let roll = Math.random() * total;
		for (const [name, weight] of weights) if ((roll -= weight) < 0) return actions[name];
		return actions.create;
	}

	/** The warehouse's absolute count per SKU and location, as a WMS posts it. */
	function snapshot(items) {
		return post("/v1/inventory/snapshots", opsHeaders, JSON.stringify({ source: "demo-wms", asOf: tick(), items }));
	}

	/**
	 * Opening stock for each SKU that has none yet (a fresh start, or a SKU added to the demo since
	 * the persisted state was made). Returns the SKUs it stocked.
	 */
	async function seed() {
		const all = [...CATALOGUE, ...STORE_ONLY];
		const query = all.map((p) => `sku=${encodeURIComponent(p.sku)}`).join("&");
		const { items } = await (await fetch(`${baseUrl}/v1/availability?${query}`, { headers: opsHeaders })).json();
		const fresh = new Set(items.filter((i) => i.updatedAt === null).map((i) => i.sku));
		const entries = [
			...CATALOGUE.filter((p) => fresh.has(p.sku)).flatMap((p) => LOCATIONS.map((location, i) => ({ sku: p.sku, location, onHand: p.stock[i] }))),
			...STORE_ONLY.filter((p) => fresh.has(p.sku)).map((p) => ({ sku: p.sku, location: p.location, onHand: p.stock })),
		];
		// The sandbox forgets its catalogues when it restarts: list them again before any stock moves.
		await listEverywhere(sandboxUrl, [...CATALOGUE, ...STORE_ONLY]);
		if (entries.length > 0) {
			const response = await snapshot(entries);
			if (!response.ok) throw new Error(`seeding stock failed: ${response.status} ${await response.text()}`);
		}
		return [...fresh];
	}

	/** A delivery lands for the SKUs that run lowest: their next count is higher by a carton. */
	async function receiveDelivery() {
		const query = CATALOGUE.map((p) => `sku=${encodeURIComponent(p.sku)}`).join("&");
		const { items } = await (await fetch(`${baseUrl}/v1/availability?${query}`, { headers: opsHeaders })).json();
		const lowest = items.sort((a, b) => a.available - b.available).slice(0, 4);
		const counts = await Promise.all(
			lowest.map(async ({ sku }) => (await (await fetch(`${baseUrl}/ops/skus/${encodeURIComponent(sku)}`, { headers: opsHeaders })).json())),
		);
		const location = pick(LOCATIONS);
		await snapshot(
			counts.map((detail) => ({
				sku: detail.sku,
				location,
				onHand: (detail.locations.find((l) => l.location === location)?.onHand ?? 0) + 12,
			})),
		);
		return { location, skus: lowest.map((i) => i.sku) };
	}

	/**
	 * The sandbox keeps nothing between runs; ordersync keeps everything in .wrangler/state. So the shop
	 * is told again of the orders still open (holding or waiting for stock), and channel fulfilments (with
	 * their tracking news) that were refused for want of their order are sent again. What the sandbox
	 * forgot cannot come back: orders ShipBob had accepted but not shipped stay accepted, and tracking news
	 * for fulfilments made in an earlier run has no fulfilment to go to (those dead-letter).
	 */
	async function reconcile() {
		const get = async (path) => {
			const response = await fetch(`${baseUrl}${path}`, { headers: opsHeaders });
			if (!response.ok) throw new Error(`${path}: ${response.status}`);
			return response.json();
		};
		const keys = new Set();
		for (const { sku } of [...CATALOGUE, ...STORE_ONLY]) {
			const detail = await get(`/ops/skus/${encodeURIComponent(sku)}`);
			for (const r of detail.reservations ?? []) if (r.status === "open" && r.orderKey.startsWith(`${connection}:`)) keys.add(r.orderKey);
		}
		// Exception ids of dead letters are `delivery:<order key>:<delivery id>`.
		const { items } = await get("/ops/exceptions?limit=1000");
		const dead = items.filter((e) => e.kind === "dead-letter" && e.orderKey?.startsWith(`${connection}:`) && e.reason.includes("has no order"));
		const fulfilments = dead.filter((e) => e.id.includes(":channel.fulfillment:"));
		// Tracking news can reach the shop only for a fulfilment created there this run.
		const resent = new Set(fulfilments.map((e) => e.id.slice(e.id.indexOf(":channel.fulfillment:") + 21)));
		const tracking = dead.filter((e) => /:channel\.tracking:([^:]+):/.test(e.id) && resent.has(/:channel\.tracking:([^:]+):/.exec(e.id)[1]));
		const refused = [...fulfilments, ...tracking];
		for (const e of refused) keys.add(e.orderKey);

		// Each order as the shop last described it: its newest applied orders/* webhook.
		const orders = [];
		const queue = [...keys];
		await Promise.all(
			Array.from({ length: 16 }, async () => {
				for (let key = queue.pop(); key !== undefined; key = queue.pop()) {
					const view = await get(`/ops/orders/${encodeURIComponent(key)}`).catch(() => null);
					const last = view?.events?.filter((e) => e.source === "inbound" && e.outcome === "applied" && e.type.startsWith("orders/")).at(-1);
					try {
						if (last) orders.push(JSON.parse(last.body));
					} catch {}
				}
			}),
		);
		for (let i = 0; i < orders.length; i += 200) {
			const response = await fetch(`${sandboxUrl}/sandbox/orders`, { method: "POST", body: JSON.stringify({ orders: orders.slice(i, i + 200) }) });
			if (!response.ok) throw new Error(`sandbox shop did not take the open orders: ${response.status} ${await response.text()}`);
		}
		let retried = 0;
		for (const e of refused) {
			const response = await fetch(`${baseUrl}/ops/exceptions/${encodeURIComponent(e.id)}/replay`, { method: "POST", headers: { Authorization: opsHeaders.Authorization } });
			if (response.ok) retried++;
		}
		return { orders: orders.length, retried };
	}

	/** The sandbox's clock: the warehouse ships what waited long enough, parcels move, callbacks go to ordersync. */
	async function advanceClock({ shipAfterMs, advanceAfterMs }) {
		const response = await fetch(`${sandboxUrl}/sandbox/tick`, { method: "POST", body: JSON.stringify({ shipAfterMs, advanceAfterMs }) });
		if (!response.ok) throw new Error(`sandbox tick: ${response.status} ${await response.text()}`);
		return response.json();
	}

	/** A peer misbehaves for a while (sandbox/faults.ts); the outbox's retries should absorb it. */
	async function injectFault(fault) {
		const response = await fetch(`${sandboxUrl}/sandbox/faults`, { method: "POST", body: JSON.stringify(fault) });
		if (!response.ok) throw new Error(`sandbox faults: ${response.status} ${await response.text()}`);
		stats.faults++;
	}

	return { step: () => nextAction()(), seed, reconcile, receiveDelivery, advanceClock, injectFault, stats };
}
