// Drives realistic Shopify webhook traffic at a running ordersync: new orders, edits,
// cancellations, fulfilments, the odd redelivery, an update that overtakes its create,
// and now and then a body Shopify signed but ordersync cannot read.
import { CATALOGUE, LOCATIONS } from "./catalogue.mjs";
import { shopifyOrder, signedDelivery } from "./shopify-orders.mjs";

const pick = (list) => list[Math.floor(Math.random() * list.length)];
const chance = (p) => Math.random() < p;

export function createTraffic({ baseUrl, connection, secret, opsToken, onError }) {
	const open = new Map(); // order id → { lines, number, updatedAt }
	const recent = []; // recent deliveries, for redelivery
	let nextId = Date.now() * 10; // distinct across restarts of the demo
	let nextNumber = 1000 + (Math.floor(Date.now() / 1000) % 9000);

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
			const [id, o] = pick([...open]) ?? [];
			if (!o) return actions.create();
			open.delete(id);
			await send("orders/fulfilled", shopifyOrder({ id, number: o.number, lines: o.lines, createdAt: o.createdAt, updatedAt: tick(), fulfilled: true }));
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

	/** Absolute stock counts from the "warehouse", as a WMS would post them. */
	async function restock(full) {
		const items = CATALOGUE.flatMap((p) =>
			LOCATIONS.map((location, i) => ({ sku: p.sku, location, onHand: full ? p.stock[i] : p.stock[i] + Math.floor(Math.random() * 4) })),
		);
		return post("/v1/inventory/snapshots", { Authorization: `Bearer ${opsToken}`, "Content-Type": "application/json" }, JSON.stringify({ source: "demo-wms", asOf: tick(), items }));
	}

	return { step: () => nextAction()(), restock };
}
