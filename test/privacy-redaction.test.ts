/// <reference types="vite/client" />
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signedDelivery } from "../demo/shopify-orders.mjs";
import { REDACTED, scrubJson, scrubX12 } from "../worker/model/personal-data";
import amazonOrder from "./fixtures/amazon/get-order-documented.json?raw";
import edi850 from "./fixtures/edi/850-drop-ship.edi?raw";
import shopifyCreate from "./fixtures/shopify/order-create.json?raw";
import tiktokDetail from "./fixtures/tiktok/order-detail-documented.json?raw";
import order727 from "./fixtures/woocommerce/order-727.json";
import order727Body from "./fixtures/woocommerce/order-727.webhook-body.txt?raw";
import { CONNECTION, SECRET, call, deliver, deliverCallbacks, eventually, newOrderId, order, ops, sandbox, stock, uniqueSku } from "./helpers";

// Personal-data requests end to end: orders from Shopify, WooCommerce and EDI carry distinctive
// personal data through every object they touch (the order, its 3PL delivery and ship notice, the
// parcel, the ledgers, the gates, the monitor's quarantine and index, the EDI partner); then
// Shopify's compliance webhooks and the ops API remove it. Every table and the KV storage of every
// object touched is searched for the removed values afterwards, and a bystander's values are found
// by the same search, so the search itself is shown to work.

const ADMIN = env.OPS_ADMIN_TOKEN as string;
const SHOP_DOMAIN = "ordersync-demo.myshopify.com";

type Callback = { path: string; headers: Record<string, string>; body: string };
type Delivery = { id: string; kind: string; status: string; destination: string; payload: Record<string, unknown>; history: unknown[] };
type View = {
	key: string;
	status: string;
	idle: boolean;
	order: Record<string, unknown> & { customer?: Record<string, string>; shipTo?: Record<string, string> };
	lines: unknown[];
	shipments: Array<{ trackingNumber: string | null; lines: unknown[] }>;
	deliveries: Delivery[];
	events: Array<{ eventId: string | null; source: string; type: string; body: string }>;
};
type PrivacyView = {
	id: string;
	status: string;
	result: { orders: Array<{ orderKey: string; changed: number; held: string[] }>; unknown: string[]; partners: Array<{ connection: string; changed: number }>; quarantined: number } | null;
	data?: { orders: Array<{ orderKey: string; customer: Record<string, string> | null; found: Array<{ path: string; value: string }> }>; quarantined: unknown[] };
};

const admin = (path: string, init: RequestInit = {}) =>
	call(path, { ...init, headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": "application/json", ...init.headers } });
const view = async (key: string) => {
	const response = await ops(`/ops/orders/${encodeURIComponent(key)}`);
	return response.status === 404 ? null : ((await response.json()) as View);
};
const requestView = async (id: string) => (await (await admin(`/ops/privacy/requests/${encodeURIComponent(id)}`)).json()) as PrivacyView;
const finished = (id: string) => eventually(() => requestView(id), (r) => r.status === "done", 15_000);
const settledAll = (v: View | null) => v !== null && v.deliveries.length > 0 && v.deliveries.every((d) => d.status === "delivered");

/** One person's distinctive data, as a channel would carry it. */
function person(tag: string) {
	const u = crypto.randomUUID().slice(0, 6);
	return {
		first: `Quirinus${u}`,
		last: `Vandermölen${tag}`,
		email: `q.${u}.${tag}@privacy-test.example`,
		phone: `+1 613-555-${String(1000 + Math.floor(Math.random() * 8999))}`,
		street: `${u} Zinnober Lane`,
		unit: `Suite Q${u}`,
		billingStreet: `${u} Quillfeather Court`,
		city: `Wexcombe${u}`,
		zip: `K9Z ${u.slice(0, 3).toUpperCase()}`,
		company: `Zinnober Works ${u}`,
		note: `Leave it with the neighbour, ${u}`,
		ip: `198.51.100.${10 + Math.floor(Math.random() * 200)}`,
		latitude: 43.6 + Math.floor(Math.random() * 1e6) / 1e8,
	};
}
type Person = ReturnType<typeof person>;

/** Every form a value may be stored in: as is, JSON-escaped, \u-escaped (PHP), with escaped slashes. */
function forms(value: string): string[] {
	const json = JSON.stringify(value).slice(1, -1);
	const ascii = json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
	return [...new Set([value, json, ascii, ascii.replace(/\//g, "\\/")].map((s) => s.toLowerCase()))];
}
/** The values as the channels send them: each one is found in storage while it is held. */
function needles(p: Person): string[] {
	return [p.first, p.last, `${p.first} ${p.last}`, p.email, p.phone, p.street, p.unit, p.billingStreet, p.city, p.zip, p.company, p.note, p.ip, String(p.latitude)];
}
/** Searched for after removal: the values and other shapes they could have been stored in (the phone's digits alone). */
const gone = (p: Person) => [...needles(p), p.phone.replace(/\D/g, "")];
/** The values found anywhere in a storage dump (case-insensitive, any escaped form). */
function leaks(dump: string, values: string[]): string[] {
	const text = dump.toLowerCase();
	return values.filter((v) => forms(v).some((f) => text.includes(f)));
}

/** Everything an object stores: every row of every SQLite table, and its KV storage. */
async function storageText(stub: DurableObjectStub): Promise<string> {
	return runInDurableObject(stub, async (_object: unknown, state: DurableObjectState) => {
		const parts: string[] = [];
		const sql = state.storage.sql;
		const tables = sql
			.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
			.toArray()
			.map((r) => r.name)
			.filter((name) => !name.startsWith("_cf_"));
		for (const table of tables) {
			for (const row of sql.exec(`SELECT * FROM "${table}"`)) {
				const cells = Object.values(row).map((v) => (v instanceof ArrayBuffer ? new TextDecoder().decode(v) : String(v)));
				parts.push(`${table}: ${cells.join(" | ")}`);
			}
		}
		for (const [key, value] of await state.storage.list()) parts.push(`kv ${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
		return parts.join("\n");
	});
}

/** The storage of every object these orders touched: their own, the monitor, their parcels, SKU ledgers and delivery gates. */
async function touchedStorage(keys: string[], extra: DurableObjectStub[] = []): Promise<string> {
	const stubs: DurableObjectStub[] = [env.FLOW_MONITOR.getByName("global"), ...extra];
	for (const key of keys) {
		const v = (await view(key))!;
		stubs.push(env.ORDER_FLOW.getByName(key));
		for (const s of v.shipments) if (s.trackingNumber) stubs.push(env.PARCEL.getByName(s.trackingNumber));
		for (const line of v.lines as Array<{ sku: string }>) stubs.push(env.SKU_LEDGER.getByName(line.sku));
		for (const gate of new Set(v.deliveries.map((d) => d.destination).filter((d) => !d.startsWith("internal:")))) stubs.push(env.DELIVERY_GATE.getByName(gate));
	}
	return (await Promise.all(stubs.map(storageText))).join("\n");
}

/** What redaction must leave exactly as it was: money, lines, SKUs, taxes, saga lines, shipments. */
function financial(v: View) {
	const o = v.order;
	return {
		currency: o.currency,
		subtotal: o.subtotal,
		total: o.total,
		taxes: o.taxes,
		discounts: o.discounts,
		shippingLines: o.shippingLines,
		lines: o.lines,
		refunds: o.refunds,
		financialStatus: o.financialStatus,
		createdAt: o.createdAt,
		countryCode: o.shipTo?.countryCode,
		provinceCode: o.shipTo?.provinceCode,
		saga: v.lines,
		shipments: v.shipments.map((s) => s.lines),
		products: v.deliveries.filter((d) => d.kind === "3pl.order").map((d) => d.payload.products),
	};
}
async function ledgers(skus: string[]) {
	return Promise.all(
		skus.map(async (sku) => {
			const d = (await (await ops(`/ops/skus/${encodeURIComponent(sku)}`)).json()) as { locations: unknown; reservations: unknown; assignments: unknown };
			return { locations: d.locations, reservations: d.reservations, assignments: d.assignments };
		}),
	);
}

/** A Shopify order carrying one person's data in every place Shopify puts it. */
function shopifyOrder(id: number, sku: string, p: Person, customerId: number) {
	const base = order({ id, lines: [{ sku, quantity: 2, price: "10.00" }] }) as Record<string, unknown>;
	const address = {
		first_name: p.first,
		last_name: p.last,
		name: `${p.first} ${p.last}`,
		company: p.company,
		address1: p.street,
		address2: p.unit,
		city: p.city,
		province: "Ontario",
		province_code: "ON",
		country: "Canada",
		country_code: "CA",
		zip: p.zip,
		phone: p.phone,
		latitude: p.latitude,
		longitude: -79.38,
	};
	return {
		...base,
		email: p.email,
		contact_email: p.email,
		phone: p.phone,
		browser_ip: p.ip,
		note: p.note,
		client_details: { browser_ip: p.ip, user_agent: "Mozilla/5.0 (privacy test)" },
		shipping_address: address,
		billing_address: { ...address, address1: p.billingStreet },
		customer: {
			id: customerId,
			admin_graphql_api_id: `gid://shopify/Customer/${customerId}`,
			email: p.email,
			first_name: p.first,
			last_name: p.last,
			phone: p.phone,
			state: "enabled",
			currency: "USD",
			default_address: address,
		},
	};
}

async function deliverTo(connection: string, secret: string, topic: string, body: unknown, eventId?: string) {
	const delivery = await signedDelivery({ secret, topic, body, eventId, shopDomain: SHOP_DOMAIN });
	return call(`/webhooks/shopify/${connection}`, { method: "POST", headers: delivery.headers, body: delivery.body });
}

/** Every leaf of a JSON value with its path. */
function leaves(value: unknown, path = "", out: Array<[string, unknown]> = []): Array<[string, unknown]> {
	if (Array.isArray(value)) value.forEach((v, i) => leaves(v, `${path}[${i}]`, out));
	else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) leaves(v, `${path}.${k}`, out);
	else out.push([path, value]);
	return out;
}

describe("scrubbing each channel's documented payload", () => {
	const cases = [
		["Shopify orders/create", shopifyCreate, ["avery.quill@example.com", "Avery Quill", "410 W Chestnut St", "+15025550143", "40202"]],
		["TikTok Shop Get Order Detail", tiktokDetail, ["v2b2V5@chat.seller.tiktok.com", "TikTok 5800 bristol Pkwy", "Unit one building 8", "(+1)213-***-1234", "95110"]],
		["Amazon getOrder", amazonOrder, ["user@example.com", "John Doe", "1 Cross St.", "Canton", "48817", "A Company Name"]],
		["WooCommerce order 727 as PHP sends it", order727Body, ["john.doe@example.com", "969 Market", "(555) 555-5555", "San Francisco", "94103"]],
	] as const;
	it.each(cases)("%s: personal values replaced, every other byte and every number kept", (_name, text, personal) => {
		for (const value of personal) expect(text).toContain(value);
		const result = scrubJson(text);
		for (const value of personal) expect(result.text).not.toContain(value);
		const [before, after] = [leaves(JSON.parse(text)), leaves(JSON.parse(result.text))];
		expect(after.map(([path]) => path)).toEqual(before.map(([path]) => path));
		const changed = after.filter(([, v], i) => v !== before[i]![1]);
		// Only strings became the marker (and coordinates null); amounts, ids, quantities, country and state stay.
		expect(changed.every(([path, v]) => v === REDACTED || (v === null && /(latitude|longitude)$/.test(path)))).toBe(true);
		expect(changed).toHaveLength(result.changed);
		const kept = (path: string, v: unknown) => (typeof v === "number" && !/(latitude|longitude)$/.test(path)) || /(country_?code|CountryCode|province_code|StateOrRegion|region_code|\.state)$/.test(path);
		for (const [path, v] of before) if (kept(path, v)) expect(after.find(([p]) => p === path)![1]).toEqual(v);
		// Not re-serialized: the text between the values (spacing, key order) is as it was, and unchanged strings keep their escapes.
		const skeleton = (t: string) => t.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/-?\d[\d.eE+-]*|null/g, "0");
		expect(skeleton(result.text)).toBe(skeleton(text));
		if (text.includes("\\/")) expect(result.text).toContain("https:\\/\\/example.com");
		expect(scrubJson(result.text).changed).toBe(0);
	});

	it("X12 850: N1/N3/N4/PER of the drop-ship customer go, segment by segment; lines, state and country stay", () => {
		const result = scrubX12(edi850);
		for (const value of ["ADA LOVELACE", "100 N RACINE AVE", "APT 4B", "CHICAGO", "60607", "3125550100", "ada@example.com"]) {
			expect(edi850).toContain(value);
			expect(result.text).not.toContain(value);
		}
		expect(result.text).toContain("N4|REDACTED|IL|REDACTED|US~");
		expect(result.text).toContain("PER|IC|REDACTED|TE|REDACTED|EM|REDACTED~");
		expect(result.text).toContain("N1|BT|REDACTED|92|0001~");
		const segments = (t: string) => t.split("~");
		expect(segments(result.text)).toHaveLength(segments(edi850).length);
		expect(segments(result.text).filter((seg) => !/^\s*(N1|N2|N3|N4|PER)\|/.test(seg))).toEqual(segments(edi850).filter((seg) => !/^\s*(N1|N2|N3|N4|PER)\|/.test(seg)));
		expect(scrubX12(result.text).changed).toBe(0);
	});
});

describe("what a redaction must not touch", () => {
	it("leaves SKUs, ids and keys alone when a postcode or phone has the same digits", () => {
		const text = JSON.stringify({ id: 3000, sku: "3000", order_key: "shop:3000", lineId: "3000", title: "Box of 3000", shipping_address: { zip: "3000", city: "Melbourne" } });
		const result = JSON.parse(scrubJson(text, ["3000", "Melbourne"]).text) as Record<string, unknown>;
		expect(result).toEqual({ id: 3000, sku: "3000", order_key: "shop:3000", lineId: "3000", title: "Box of 3000", shipping_address: { zip: REDACTED, city: REDACTED } });
	});
});

describe("personal-data requests", () => {
	it("customers/redact removes a customer's data from every object that held it; money, lines and ledgers stay exactly as they were", async () => {
		const [sku, other] = [uniqueSku("pii-a"), uniqueSku("pii-c")];
		await stock(sku, 10, "wh-east");
		await stock(other, 10, "wh-east");
		const alice = person("a");
		const bystander = person("c");
		const customerId = 7_100_000_000 + Math.floor(Math.random() * 1e8);

		// The customer's order, shipped: 3PL order, ship notice, fulfilment, parcel and a carrier event.
		const id = newOrderId();
		const body = shopifyOrder(id, sku, alice, customerId);
		await sandbox("/sandbox/orders", { json: body });
		expect((await deliver("orders/create", body)).status).toBe(200);
		const key = `${CONNECTION}:${id}`;
		await eventually(() => view(key), (v) => v?.status === "accepted", 15_000);
		await sandbox("/sandbox/shipbob/ship", { json: { match: key } });
		expect(await deliverCallbacks(key)).toEqual([200]);
		const shipped = await eventually(() => view(key), (v) => v?.status === "fulfilled" && settledAll(v), 15_000);
		const tracking = shipped!.shipments[0]!.trackingNumber!;
		await sandbox("/sandbox/easypost/advance", { json: { match: tracking, status: "in_transit" } });
		expect(await deliverCallbacks(tracking)).toEqual([200]);
		// The ship notice ShipBob sent back names the recipient too.
		expect(shipped!.events.find((e) => e.source === "3pl")!.body).toContain(alice.street);

		// A bystander of the same shop, whose data must survive; and a signed body nobody could parse that names the customer.
		const bystanderId = newOrderId();
		expect((await deliver("orders/create", shopifyOrder(bystanderId, other, bystander, customerId + 1))).status).toBe(200);
		const bystanderKey = `${CONNECTION}:${bystanderId}`;
		const broken = await deliver("orders/create", `{"id": ${newOrderId()}, "email": "${alice.email}", "customer": {"first_name": "${alice.first}", "phone": "${alice.phone}"`);
		expect(await broken.json()).toMatchObject({ status: "quarantined" });
		await eventually(() => view(bystanderKey), (v) => v?.status === "accepted" && v.idle, 15_000);
		await eventually(() => view(key), (v) => v !== null && v.idle && v.events.some((e) => e.type.startsWith("tracker.")), 15_000);

		// customers/data_request: recorded, and the export names what is held, including the billing street only the raw payload has.
		const dataRequest = await deliverTo(CONNECTION, SECRET, "customers/data_request", {
			shop_id: 954889, shop_domain: SHOP_DOMAIN, orders_requested: [id], customer: { id: customerId, email: alice.email, phone: alice.phone }, data_request: { id: 9999 },
		});
		expect(dataRequest.status).toBe(200);
		const exported = await requestView(((await dataRequest.json()) as { request: string }).request);
		expect(exported.data!.orders.map((o) => o.orderKey)).toEqual([key]);
		expect(exported.data!.orders[0]!.customer).toMatchObject({ email: alice.email, phone: alice.phone });
		expect(exported.data!.orders[0]!.found.map((f) => f.value)).toEqual(expect.arrayContaining([alice.billingStreet, alice.ip, alice.note]));
		expect(exported.data!.quarantined).toHaveLength(1);

		const before = { order: financial((await view(key))!), bystander: financial((await view(bystanderKey))!), ledgers: await ledgers([sku, other]) };
		const dumpBefore = await touchedStorage([key, bystanderKey]);
		expect(leaks(dumpBefore, needles(alice))).toEqual(needles(alice)); // the search finds every value while it is there

		// A compliance webhook with a bad signature: 401, nothing recorded, nothing removed.
		const redactBody = { shop_id: 954889, shop_domain: SHOP_DOMAIN, customer: { id: customerId, email: alice.email, phone: alice.phone }, orders_to_redact: [id] };
		const forged = await deliverTo(CONNECTION, "not-the-secret", "customers/redact", redactBody, "forged-event");
		expect(forged.status).toBe(401);
		expect((await admin(`/ops/privacy/requests/${encodeURIComponent(`shopify:${CONNECTION}:forged-event`)}`)).status).toBe(404);
		expect((await view(key))!.order.customer!.email).toBe(alice.email);

		// The real one: acknowledged once recorded, carried out right after; a redelivery is the same request.
		const eventId = `redact-${crypto.randomUUID()}`;
		const redact = await deliverTo(CONNECTION, SECRET, "customers/redact", redactBody, eventId);
		expect(redact.status).toBe(200);
		const { request } = (await redact.json()) as { request: string };
		expect(await (await deliverTo(CONNECTION, SECRET, "customers/redact", redactBody, eventId)).json()).toMatchObject({ status: "duplicate", request });
		const done = await finished(request);
		expect(done.result).toMatchObject({ orders: [{ orderKey: key, held: [] }], unknown: [], quarantined: 1 });

		// Nothing of the customer is left anywhere; the bystander's data is all still there.
		const dump = await touchedStorage([key, bystanderKey]);
		expect(leaks(dump, gone(alice))).toEqual([]);
		expect(leaks(dump, needles(bystander))).toEqual(needles(bystander));
		const after = (await view(key))!;
		expect({ order: financial(after), bystander: financial((await view(bystanderKey))!), ledgers: await ledgers([sku, other]) }).toEqual(before);
		expect(after.order.customer).toMatchObject({ email: "[redacted]", name: "[redacted]", channelCustomerId: String(customerId) });
		expect(after.order.shipTo).toMatchObject({ countryCode: "CA", provinceCode: "ON", city: "[redacted]", zip: "[redacted]" });
		// The history says it happened, without the data.
		expect(after.events.filter((e) => e.type === "privacy.redacted").map((e) => JSON.parse(e.body) as { request: string })).toEqual([expect.objectContaining({ request })]);

		// Twice is the same as once.
		const stub = env.ORDER_FLOW.getByName(key);
		const dumpOnce = await storageText(stub);
		expect(await stub.redact({ requestId: request })).toMatchObject({ ok: true, changed: 0, held: [] });
		expect(await storageText(stub)).toBe(dumpOnce);

		// A later version of the order that still carries the data (Shopify may redeliver up to a day late) is scrubbed as it is stored.
		const late = await deliver("orders/updated", { ...body, updated_at: new Date(Date.now() + 1_000).toISOString() });
		expect(await late.json()).toMatchObject({ status: "applied" });
		expect(leaks(await storageText(stub), gone(alice))).toEqual([]);

		// A data request now finds the order, and nothing personal in it.
		const later = await admin("/ops/privacy/data-requests", { method: "POST", body: JSON.stringify({ connection: CONNECTION, orders: [String(id)], customer: { email: alice.email } }) });
		expect(later.status).toBe(200);
		const laterText = await later.text();
		expect((JSON.parse(laterText) as PrivacyView).data!.orders.map((o) => o.orderKey)).toEqual([key]);
		expect(leaks(laterText, gone(alice))).toEqual([]);
	});

	it("the ops API redacts by email for a WooCommerce customer (admin token only), and runs again to the same result", async () => {
		const sku = uniqueSku("pii-woo");
		await stock(sku, 5, "wh-east");
		const p = person("w");
		const billing = { first_name: p.first, last_name: p.last, company: p.company, address_1: p.billingStreet, address_2: p.unit, city: p.city, state: "ON", postcode: p.zip, country: "CA", email: p.email, phone: p.phone };
		const line = { ...order727.line_items[0]!, sku, quantity: 1, subtotal: "10.00", total: "10.00", subtotal_tax: "0.00", total_tax: "0.00", taxes: [] };
		const { order: placed } = await sandbox<{ order: { id: number } }>("/sandbox/woocommerce/orders", {
			json: { order: { ...order727, line_items: [line], billing, shipping: { ...billing, address_1: p.street, email: undefined }, customer_note: p.note, customer_ip_address: p.ip, customer_user_agent: "Mozilla/5.0 (privacy test)" } },
		});
		const { delivery } = await sandbox<{ delivery: Callback }>(`/sandbox/woocommerce/orders/${placed.id}/webhook`, { json: { topic: "order.created", enqueue: false } });
		expect(delivery.body).toContain("\\u00f6"); // PHP escapes the ö: the search must find that form too
		expect((await call(delivery.path, { method: "POST", headers: delivery.headers, body: delivery.body })).status).toBe(200);
		const key = `woocommerce:${placed.id}`;
		await eventually(() => view(key), (v) => v?.status === "accepted" && settledAll(v), 15_000);
		const values = needles(p).filter((v) => v !== String(p.latitude));
		expect(leaks(await touchedStorage([key]), values)).toEqual(values);
		const before = { order: financial((await view(key))!), ledgers: await ledgers([sku]) };

		const body = JSON.stringify({ connection: "woocommerce", customer: { email: p.email.toUpperCase() } });
		expect((await ops("/ops/privacy/redactions", { method: "POST", body })).status).toBe(403); // the operator token is not enough
		expect((await admin("/ops/privacy/redactions", { method: "POST", body: JSON.stringify({ connection: "woocommerce" }) })).status).toBe(400);
		const accepted = await admin("/ops/privacy/redactions", { method: "POST", body });
		expect(accepted.status).toBe(202);
		const { id } = (await accepted.json()) as { id: string };
		expect((await finished(id)).result).toMatchObject({ orders: [{ orderKey: key, held: [] }] });

		const dump = await touchedStorage([key]);
		expect(leaks(dump, [...values, p.phone.replace(/\D/g, "")])).toEqual([]);
		expect({ order: financial((await view(key))!), ledgers: await ledgers([sku]) }).toEqual(before);

		// The same request by order id again: found, nothing left to change.
		const again = await admin("/ops/privacy/redactions", { method: "POST", body: JSON.stringify({ connection: "woocommerce", orders: [placed.id] }) });
		const second = await finished(((await again.json()) as { id: string }).id);
		expect(second.result).toMatchObject({ orders: [{ orderKey: key, changed: 0 }] });
		expect(leaks(await touchedStorage([key]), values)).toEqual([]);
	});

	it("shop/redact removes every order of that connection and no other", async () => {
		const sku = uniqueSku("pii-shop");
		await stock(sku, 10, "wh-east");
		const [first, second, outsider] = [person("o1"), person("o2"), person("x")];
		const outlet = ["o1", "o2"].map(() => newOrderId());
		for (const [n, p] of [first, second].entries()) {
			const response = await deliverTo("shopify-outlet", env.SHOPIFY_OUTLET_SECRET as string, "orders/create", shopifyOrder(outlet[n]!, sku, p, 7_200_000_000 + outlet[n]!));
			expect(response.status).toBe(200);
		}
		const outsiderId = newOrderId();
		expect((await deliver("orders/create", shopifyOrder(outsiderId, sku, outsider, 7_300_000_000 + outsiderId))).status).toBe(200);
		const keys = outlet.map((id) => `shopify-outlet:${id}`);
		const outsiderKey = `${CONNECTION}:${outsiderId}`;
		for (const key of [...keys, outsiderKey]) await eventually(() => view(key), (v) => v !== null && v.status !== "received" && v.idle, 15_000);
		const before = await Promise.all(keys.map(async (key) => financial((await view(key))!)));

		const response = await deliverTo("shopify-outlet", env.SHOPIFY_OUTLET_SECRET as string, "shop/redact", { shop_id: 954889, shop_domain: "ordersync-outlet.myshopify.com" });
		expect(response.status).toBe(200);
		const done = await finished(((await response.json()) as { request: string }).request);
		expect(done.result!.orders.map((o) => o.orderKey).sort()).toEqual([...keys].sort());

		const dump = await touchedStorage([...keys, outsiderKey]);
		expect(leaks(dump, [...gone(first), ...gone(second)])).toEqual([]);
		expect(leaks(dump, needles(outsider))).toEqual(needles(outsider));
		expect(await Promise.all(keys.map(async (key) => financial((await view(key))!)))).toEqual(before);
	});

	it("finds by email an order the privacy index never heard of (its flow event was lost), and redacts it", async () => {
		const sku = uniqueSku("pii-unindexed");
		const p = person("u");
		const id = newOrderId();
		expect((await deliver("orders/create", shopifyOrder(id, sku, p, 7_500_000_000 + id))).status).toBe(200);
		const key = `${CONNECTION}:${id}`;
		await eventually(() => view(key), (v) => v?.order !== undefined && v.order !== null);
		// As if the "received" flow event carrying its digests had been lost: the index has no trace of it.
		const monitor = env.FLOW_MONITOR.getByName("global");
		await eventually(
			() => runInDurableObject(monitor, (_object: unknown, state: DurableObjectState) => state.storage.sql.exec("SELECT 1 FROM orders WHERE order_key = ?", key).toArray().length),
			(n) => n > 0,
		);
		await runInDurableObject(monitor, (_object: unknown, state: DurableObjectState) => {
			state.storage.sql.exec("DELETE FROM privacy_subjects WHERE order_key = ?", key);
			state.storage.sql.exec("DELETE FROM privacy_orders WHERE order_key = ?", key);
		});

		const accepted = await admin("/ops/privacy/redactions", { method: "POST", body: JSON.stringify({ connection: CONNECTION, customer: { email: p.email } }) });
		expect(accepted.status).toBe(202);
		const done = await finished(((await accepted.json()) as { id: string }).id);
		expect(done.result).toMatchObject({ orders: [expect.objectContaining({ orderKey: key })] });
		expect(leaks(await touchedStorage([key]), gone(p))).toEqual([]);
	});

	it("a 3PL order still waiting to go keeps its address and the request stays partial; once it has gone, the alarm finishes the redaction", async () => {
		const sku = uniqueSku("pii-held");
		await stock(sku, 5, "wh-east");
		const p = person("h");
		// ShipBob is failing: the 3PL order waits to be retried, pending, with the address it needs.
		await sandbox("/sandbox/faults", { json: { target: "shipbob", kind: "503", remaining: 1000 } });
		try {
			const id = newOrderId();
			expect((await deliver("orders/create", shopifyOrder(id, sku, p, 7_400_000_000 + id))).status).toBe(200);
			const key = `${CONNECTION}:${id}`;
			const waiting = (v: View | null) => v?.deliveries.find((d) => d.kind === "3pl.order" && d.status === "pending" && d.history.length > 0);
			await eventually(() => view(key), (v) => waiting(v) !== undefined, 15_000);

			// Named by email only: the recheck must still find the order once the index has forgotten it.
			const accepted = await admin("/ops/privacy/redactions", { method: "POST", body: JSON.stringify({ connection: CONNECTION, customer: { email: p.email } }) });
			const requestId = ((await accepted.json()) as { id: string }).id;
			const partial = await eventually(() => requestView(requestId), (r) => r.status === "partial", 15_000);
			expect(partial.result).toMatchObject({ orders: [{ orderKey: key, held: ["3pl.order:wh-east"] }] });
			const held = (await view(key))!;
			expect(held.order.shipTo).toMatchObject({ address1: "[redacted]", city: "[redacted]" });
			expect(waiting(held)!.payload.recipient).toMatchObject({ address1: p.street, city: p.city, email: p.email });

			// ShipBob is back and the operator sends it now; it goes. At the request's next look (here brought forward) the alarm finishes the job.
			await sandbox("/sandbox/faults", { method: "DELETE" });
			expect(await env.ORDER_FLOW.getByName(key).retryDelivery("3pl.order:wh-east")).toEqual({ ok: true });
			await eventually(() => view(key), (v) => v?.deliveries.find((d) => d.kind === "3pl.order")?.status === "delivered", 15_000);
			const monitor = env.FLOW_MONITOR.getByName("global");
			await runInDurableObject(monitor, (_object: unknown, state: DurableObjectState) => {
				state.storage.sql.exec("UPDATE privacy_requests SET next_at_ms = 0 WHERE id = ?", requestId);
			});
			expect(await runDurableObjectAlarm(monitor)).toBe(true);
			expect((await requestView(requestId)).status).toBe("done");
			expect(leaks(await touchedStorage([key]), gone(p))).toEqual([]);
		} finally {
			await sandbox("/sandbox/faults", { method: "DELETE" });
		}
	});

	it("EDI: the 850's ship-to is removed from the partner's interchange, its hand-off and the order; the other PO in the interchange keeps its own", async () => {
		const sku = uniqueSku("PII-EDI");
		await stock(sku, 10, "wh-east");
		const [dropShip, store] = [person("e1"), person("e2")];
		const po = (p: Person) => ({
			poNumber: `PO-${crypto.randomUUID().slice(0, 8).toUpperCase()}`,
			lines: [{ quantity: 2, price: "7.50", ids: [["VN", sku]] }],
			shipTo: { name: `${p.first} ${p.last}`, address1: p.street, city: p.city, state: "ON", zip: p.zip, country: "CA" },
		});
		const [target, kept] = [po(dropShip), po(store)];
		const placed = await sandbox<{ key: string }>("/sandbox/edi/purchase-order", { json: { connection: "edi-retailer", orders: [target, kept] } });
		const { callbacks } = await sandbox<{ callbacks: Callback[] }>("/sandbox/callbacks/drain", { json: { match: placed.key } });
		expect((await call(callbacks[0]!.path, { method: "POST", headers: callbacks[0]!.headers, body: callbacks[0]!.body })).status).toBe(200);
		const [key, keptKey] = [`edi-retailer:${target.poNumber}`, `edi-retailer:${kept.poNumber}`];
		for (const k of [key, keptKey]) await eventually(() => view(k), (v) => v !== null && v.status !== "received" && v.idle, 15_000);
		const partner = env.TRADING_PARTNER.getByName("edi-retailer");
		const handOffs = async () => ((await (await ops("/ops/partners/edi-retailer?limit=500")).json()) as { deliveries: Delivery[] }).deliveries.filter((d) => d.kind === "order.ingest");
		await eventually(handOffs, (list) => [key, keptKey].every((k) => list.some((d) => d.status === "delivered" && `edi-retailer:${(d.payload as { change: { order: { channelOrderId: string } } }).change.order.channelOrderId}` === k)), 15_000);
		const ediValues = (p: Person) => [`${p.first} ${p.last}`, p.street, p.city, p.zip];
		expect(leaks(await touchedStorage([key], [partner]), ediValues(dropShip))).toEqual(ediValues(dropShip));
		const before = financial((await view(key))!);

		const accepted = await admin("/ops/privacy/redactions", { method: "POST", body: JSON.stringify({ connection: "edi-retailer", orders: [target.poNumber] }) });
		const done = await finished(((await accepted.json()) as { id: string }).id);
		expect(done.result).toMatchObject({ orders: [{ orderKey: key }], partners: [{ connection: "edi-retailer" }] });
		expect(done.result!.partners[0]!.changed).toBeGreaterThan(0);

		const dump = await touchedStorage([key, keptKey], [partner]);
		expect(leaks(dump, ediValues(dropShip))).toEqual([]);
		expect(leaks(dump, ediValues(store))).toEqual(ediValues(store));
		expect(financial((await view(key))!)).toEqual(before);
		// The interchange is still whole X12: its PO numbers, lines and state/country elements are there.
		const text = await storageText(partner);
		expect(text).toContain(target.poNumber);
		expect(text).toMatch(/N4\*REDACTED\*ON\*REDACTED\*CA/);
	});
});
