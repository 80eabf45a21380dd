// Drives realistic Shopify webhook traffic at a running ordersync: new orders, edits,
// cancellations, fulfilments, the odd redelivery, an update that overtakes its create,
// and now and then a body Shopify signed but ordersync cannot read.
import { BUNDLES, CATALOGUE, LOCATIONS } from "./catalogue.mjs";
import { shopifyOrder, signedDelivery } from "./shopify-orders.mjs";

const pick = (list) => list[Math.floor(Math.random() * list.length)];
const chance = (p) => Math.random() < p;

export function createTraffic({ baseUrl, connection, secret, opsToken, onError }) {
	const open = new Map(); // order id → { lines, number, updatedAt }
	const recent = []; // recent deliveries, for redelivery
	let nextId = Date.now() * 10; // distinct across restarts of the demo
	let nextNumber = 1000 + (Math.floor(Date.now() / 1000) % 9000);
	const opsHeaders = { Authorization: `Bearer ${opsToken}`, "Content-Type": "application/json" };

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

	const tick = () => new Date(Date.now()).toISOString();

	function newLines() {
		const count = 1 + Math.floor(Math.random() * 3);
		const products = new Set();
		if (chance(0.12)) products.add(pick(BUNDLES));
		while (products.size < count) products.add(pick(CATALOGUE));
		return [...products].map((p) => ({ sku: p.sku, title: p.title, price: p.price, quantity: chance(0.8) ? 1 : 2 }));
	}

	const actions = {
		async create() {
			const id = nextId++;
			const number = nextNumber++;
			const lines = newLines();
			const updatedAt = tick();
			open.set(id, { lines, number, updatedAt, createdAt: updatedAt });
			await send("orders/create", shopifyOrder({ id, number, lines, createdAt: updatedAt, updatedAt }));
		},
		async edit() {
			const [id, o] = pick([...open]) ?? [];
			if (!o) return actions.create();
			const line = pick(o.lines);
			line.quantity = line.quantity > 1 ? line.quantity - 1 : line.quantity + 1;
			o.updatedAt = tick();
			await send("orders/updated", shopifyOrder({ id, number: o.number, lines: o.lines, createdAt: o.createdAt, updatedAt: o.updatedAt }));
		},
		async cancel() {
			const [id, o] = pick([...open]) ?? [];
			if (!o) return actions.create();
			open.delete(id);
			await send("orders/cancelled", shopifyOrder({ id, number: o.number, lines: o.lines, createdAt: o.createdAt, updatedAt: tick(), cancelled: true }));
		},
		async fulfil() {
			// The warehouse ships what ordersync held for it: only fully reserved orders go out.
			for (const [id, o] of [...open].sort(() => Math.random() - 0.5).slice(0, 5)) {
				const view = await (await fetch(`${baseUrl}/ops/orders/${connection}:${id}`, { headers: opsHeaders })).json();
				if (view.status !== "reserved") continue;
				open.delete(id);
				return send("orders/fulfilled", shopifyOrder({ id, number: o.number, lines: o.lines, createdAt: o.createdAt, updatedAt: tick(), fulfilled: true }));
			}
			return actions.create();
		},
		async redeliver() {
			const earlier = pick(recent);
			if (!earlier) return actions.create();
			await send(earlier.topic, earlier.body, earlier.eventId);
		},
		async overtake() {
			// orders/updated (newer) arrives before orders/create (older): the older one must not win.
			const id = nextId++;
			const number = nextNumber++;
			const lines = newLines();
			const createdAt = tick();
			const updatedAt = new Date(Date.now() + 1000).toISOString();
			open.set(id, { lines, number, updatedAt, createdAt });
			await send("orders/updated", shopifyOrder({ id, number, lines, createdAt, updatedAt }));
			await send("orders/create", shopifyOrder({ id, number, lines: lines.map((l) => ({ ...l, quantity: l.quantity + 1 })), createdAt, updatedAt: createdAt }));
		},
		async garbled() {
			await send("orders/create", '{"id": 1, "line_items": [{"sku": "TEE-BLK-M", "price": 24.0');
		},
		async ignored() {
			await send("products/update", { id: 7000000001, title: "Classic Tee", updated_at: tick() });
		},
	};

	const weights = [
		["create", 50],
		["edit", 10],
		["cancel", 8],
		["fulfil", 16],
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

	/** Opening stock for the whole catalogue, unless persisted state from an earlier run already has it. */
	async function seed() {
		const query = CATALOGUE.map((p) => `sku=${encodeURIComponent(p.sku)}`).join("&");
		const { items } = await (await fetch(`${baseUrl}/v1/availability?${query}`)).json();
		if (items.some((i) => i.updatedAt !== null)) return false;
		await snapshot(CATALOGUE.flatMap((p) => LOCATIONS.map((location, i) => ({ sku: p.sku, location, onHand: p.stock[i] }))));
		return true;
	}

	/** A delivery lands for the SKUs that run lowest: their next count is higher by a carton. */
	async function receiveDelivery() {
		const query = CATALOGUE.map((p) => `sku=${encodeURIComponent(p.sku)}`).join("&");
		const { items } = await (await fetch(`${baseUrl}/v1/availability?${query}`)).json();
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
		return lowest.map((i) => i.sku);
	}

	return { step: () => nextAction()(), seed, receiveDelivery };
}
