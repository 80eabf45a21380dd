import { env } from "cloudflare:workers";
import { createHmac } from "node:crypto";
import OAuth from "oauth-1.0a";
import { afterEach, describe, expect, it } from "vitest";
import { tbaAuthorization } from "../worker/connectors/netsuite/tba";

// The sandbox NetSuite account, called the way ordersync's client calls it: every outbound fetch
// from the test worker reaches the sandbox worker (vitest.config.ts), signed with our TBA signer.
const SANDBOX = "http://127.0.0.1:8789";
const REST = `${SANDBOX}/netsuite/services/rest`;
const credentials = {
	realm: "1234567_SB1",
	consumerKey: env.NETSUITE_CONSUMER_KEY as string,
	consumerSecret: env.NETSUITE_CONSUMER_SECRET as string,
	tokenId: env.NETSUITE_TOKEN_ID as string,
	tokenSecret: env.NETSUITE_TOKEN_SECRET as string,
};
type Signing = Partial<Parameters<typeof tbaAuthorization>[0]> & { signedUrl?: string };

/** One signed REST call; `signing` overrides what is signed (to forge, replay or go stale). */
async function ns(method: string, path: string, body?: unknown, signing: Signing = {}, headers: Record<string, string> = {}): Promise<Response> {
	const url = `${REST}${path}`;
	const { signedUrl, ...overrides } = signing;
	const authorization = await tbaAuthorization({ method, url: signedUrl ?? url, ...credentials, ...overrides });
	return fetch(url, { method, headers: { Authorization: authorization, "Content-Type": "application/json", ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
}

const control = (path: string, init?: RequestInit) => fetch(`${SANDBOX}/sandbox/netsuite${path}`, init);
const post = (path: string, body: unknown) => control(path, { method: "POST", body: JSON.stringify(body) });

async function records(type: string, externalId: string): Promise<Array<Record<string, unknown>>> {
	const response = await control(`/records?type=${type}&externalId=${encodeURIComponent(externalId)}`);
	return ((await response.json()) as { records: Array<Record<string, unknown>> }).records;
}

/** The internal id a 204 points at. */
function locationId(response: Response, type: string): string {
	expect(response.status, `expected 204 for ${type}`).toBe(204);
	const match = new RegExp(`/netsuite/services/rest/record/v1/${type}/(\\d+)$`).exec(response.headers.get("Location") ?? "");
	expect(match, response.headers.get("Location") ?? "no Location").not.toBeNull();
	return match![1]!;
}

type ErrorBody = { type: string; title: string; status: number; "o:errorDetails": Array<{ detail: string; "o:errorCode": string; "o:errorPath"?: string }> };
async function errorOf(response: Response): Promise<ErrorBody> {
	expect(response.headers.get("Content-Type")).toContain("application/vnd.oracle.resource+json; type=error");
	return (await response.json()) as ErrorBody;
}

const INVALID_LOGIN: ErrorBody = {
	type: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
	title: "Unauthorized",
	status: 401,
	"o:errorDetails": [
		{
			detail: "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.",
			"o:errorCode": "INVALID_LOGIN",
		},
	],
};

const unique = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}`;

/** An order of two shirts at 19.99, shipping 5.00 and a 3.00 discount: total 41.98. */
function order(externalId: string, extra: Record<string, unknown> = {}) {
	return {
		externalId,
		entity: { id: "501" },
		tranDate: "2026-11-20",
		otherRefNum: "#1001",
		currency: { refName: "USD" },
		item: {
			items: [
				{ item: { id: "101" }, quantity: 2, rate: 19.99, amount: 39.98, description: "TEE-BLK-S" },
				{ item: { id: "900" }, quantity: 1, amount: 5, description: "Shipping" },
				{ item: { id: "901" }, quantity: 1, amount: -3, description: "Discount" },
			],
		},
		...extra,
	};
}

afterEach(async () => {
	await fetch(`${SANDBOX}/sandbox/faults`, { method: "DELETE" });
});

describe("records by external id", () => {
	it("upserts: the same external id twice is one record, updated, at the same internal id", async () => {
		const eid = unique("shopify-demo:1001");
		const first = locationId(await ns("PUT", `/record/v1/salesOrder/eid:${encodeURIComponent(eid)}`, order(eid)), "salesOrder");
		const second = locationId(await ns("PUT", `/record/v1/salesOrder/eid:${encodeURIComponent(eid)}`, order(eid, { memo: "updated" })), "salesOrder");
		expect(second).toBe(first);
		expect(await records("salesOrder", eid)).toHaveLength(1);

		const byEid = await ns("GET", `/record/v1/salesOrder/eid:${encodeURIComponent(eid)}`);
		expect(byEid.status).toBe(200);
		const record = (await byEid.json()) as Record<string, unknown> & { item: { items: Array<Record<string, unknown>> } };
		expect(record).toMatchObject({ id: first, externalId: eid, memo: "updated", total: 41.98, entity: { id: "501" } });
		expect(record.item.items.map((l) => [l.line, (l.item as { id: string }).id, l.amount])).toEqual([
			[1, "101", 39.98],
			[2, "900", 5],
			[3, "901", -3],
		]);
		const byId = (await (await ns("GET", `/record/v1/salesOrder/${first}`)).json()) as Record<string, unknown>;
		expect(byId.externalId).toBe(eid);
	});

	it("refuses a create that reuses an external id of the same type, and stores nothing", async () => {
		const eid = unique("woo-4401");
		locationId(await ns("POST", "/record/v1/salesOrder", order(eid)), "salesOrder");
		const duplicate = await ns("POST", "/record/v1/salesOrder", order(eid, { memo: "second" }));
		expect(duplicate.status).toBe(400);
		expect((await errorOf(duplicate))["o:errorDetails"]).toEqual([{ detail: "Error while accessing a resource. This record already exists.", "o:errorCode": "USER_ERROR" }]);
		expect(await records("salesOrder", eid)).toHaveLength(1);
		// Unique per type: a cash sale may carry the same external id.
		locationId(await ns("POST", "/record/v1/cashSale", order(eid)), "cashSale");
	});

	it("answers an unknown id with 404 NONEXISTENT_ID", async () => {
		const missing = await ns("GET", "/record/v1/salesOrder/eid:no-such-order");
		expect(missing.status).toBe(404);
		expect(await errorOf(missing)).toEqual({
			type: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5",
			title: "Not Found",
			status: 404,
			"o:errorDetails": [{ detail: "The record instance does not exist. Provide a valid record instance ID.", "o:errorCode": "NONEXISTENT_ID" }],
		});
	});
});

describe("token-based authentication", () => {
	it("refuses a forged or misdirected signature with INVALID_LOGIN and stores nothing", async () => {
		const eid = unique("forged");
		const path = `/record/v1/salesOrder/eid:${eid}`;
		const attempts: Signing[] = [
			{ tokenSecret: "not-the-token-secret" },
			{ consumerSecret: "not-the-consumer-secret" },
			{ tokenId: "another-token" },
			{ realm: "7654321" },
			// Signed for another record than the one written.
			{ signedUrl: `${REST}/record/v1/salesOrder/eid:${eid}-other` },
			// Five minutes and a bit in the past, and in the future.
			{ timestamp: Math.floor(Date.now() / 1000) - 310 },
			{ timestamp: Math.floor(Date.now() / 1000) + 310 },
		];
		for (const signing of attempts) {
			const response = await ns("PUT", path, order(eid), signing);
			expect(response.status, JSON.stringify(signing)).toBe(401);
			expect(await errorOf(response)).toEqual(INVALID_LOGIN);
		}
		expect(await records("salesOrder", eid)).toHaveLength(0);
		// The same request, signed properly, goes through.
		locationId(await ns("PUT", path, order(eid)), "salesOrder");
	});

	it("accepts a header from an independent OAuth 1.0a implementation, its parameters in any order", async () => {
		const url = `${REST}/record/v1/customer/503?expandSubResources=true`;
		const oauth = new OAuth({
			consumer: { key: credentials.consumerKey, secret: credentials.consumerSecret },
			signature_method: "HMAC-SHA256",
			realm: credentials.realm,
			hash_function: (base, key) => createHmac("sha256", key).update(base).digest("base64"),
		});
		const independent = oauth.toHeader(oauth.authorize({ url, method: "GET" }, { key: credentials.tokenId, secret: credentials.tokenSecret })).Authorization;
		const response = await fetch(url, { headers: { Authorization: independent } });
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ id: "503", companyName: "Amazon Customer" });

		// The contract's order (realm, key, token, method, timestamp, nonce, version, signature).
		const ours = await tbaAuthorization({ method: "GET", url, ...credentials });
		const parts = ours.slice("OAuth ".length).split(", ");
		const order = ["realm", "oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp", "oauth_nonce", "oauth_version", "oauth_signature"];
		const reordered = `OAuth ${order.map((name) => parts.find((p) => p.startsWith(`${name}=`))).join(",")}`;
		expect((await fetch(url, { headers: { Authorization: reordered } })).status).toBe(200);
	});

	it("refuses a realm in the wrong case, a missing header and HMAC-SHA1", async () => {
		const url = `${REST}/record/v1/salesOrder/eid:x`;
		const good = await tbaAuthorization({ method: "GET", url, ...credentials });
		const lowercase = good.replace('realm="1234567_SB1"', 'realm="1234567_sb1"');
		const sha1 = good.replace("HMAC-SHA256", "HMAC-SHA1");
		for (const authorization of [lowercase, sha1, ""]) {
			const response = await fetch(url, { headers: authorization ? { Authorization: authorization } : {} });
			expect(response.status).toBe(401);
			expect(await errorOf(response)).toEqual(INVALID_LOGIN);
		}
	});

	it("refuses a nonce used again within the window (a replayed request), and stores nothing", async () => {
		const nonce = unique("n").replaceAll("-", "");
		const first = unique("replay-a");
		const second = unique("replay-b");
		locationId(await ns("POST", "/record/v1/salesOrder", order(first), { nonce }), "salesOrder");
		const replay = await ns("POST", "/record/v1/salesOrder", order(second), { nonce });
		expect(replay.status).toBe(401);
		expect(await errorOf(replay)).toEqual(INVALID_LOGIN);
		expect(await records("salesOrder", second)).toHaveLength(0);
	});

	it("checks the signature over the query string too", async () => {
		const q = `SELECT id, itemid FROM item WHERE itemid = 'CAP-NVY'`;
		const headers = { Prefer: "transient" };
		const ok = await ns("POST", "/query/v1/suiteql?limit=5&offset=0", { q }, {}, headers);
		expect(ok.status).toBe(200);
		const tampered = await ns("POST", "/query/v1/suiteql?limit=5&offset=0", { q }, { signedUrl: `${REST}/query/v1/suiteql?limit=50&offset=0` }, headers);
		expect(tampered.status).toBe(401);
	});
});

describe("validation", () => {
	it("refuses an unknown item with INVALID_VALUE at its path, and stores nothing", async () => {
		const eid = unique("bad-item");
		const body = order(eid);
		body.item.items[1] = { item: { id: "99999" }, quantity: 1, amount: 5, description: "No such item" };
		const response = await ns("PUT", `/record/v1/salesOrder/eid:${eid}`, body);
		expect(response.status).toBe(400);
		expect(await errorOf(response)).toEqual({
			type: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
			title: "Bad Request",
			status: 400,
			"o:errorDetails": [{ detail: "Invalid value for the resource or sub-resource field 'item'. Provide a valid value.", "o:errorCode": "INVALID_VALUE", "o:errorPath": "item.items[1].item" }],
		});
		expect(await records("salesOrder", eid)).toHaveLength(0);
	});

	it("refuses an unknown customer, an amount with three decimals and a missing customer, each at its path", async () => {
		const cases: Array<[Record<string, unknown>, string, string]> = [
			[order(unique("c"), { entity: { id: "999" } }), "INVALID_VALUE", "entity"],
			[{ ...order(unique("c")), item: { items: [{ item: { id: "101" }, quantity: 1, amount: 19.999 }] } }, "INVALID_VALUE", "item.items[0].amount"],
			[{ ...order(unique("c")), entity: undefined }, "USER_ERROR", "entity"],
			[{ ...order(unique("c")), item: { items: [] } }, "USER_ERROR", "item.items"],
		];
		for (const [body, code, path] of cases) {
			const response = await ns("POST", "/record/v1/salesOrder", body);
			expect(response.status, path).toBe(400);
			expect((await errorOf(response))["o:errorDetails"][0]).toMatchObject({ "o:errorCode": code, "o:errorPath": path });
			expect(await records("salesOrder", String(body.externalId))).toHaveLength(0);
		}
	});
});

describe("transforms", () => {
	async function salesOrder(): Promise<string> {
		const eid = unique("so");
		return locationId(await ns("PUT", `/record/v1/salesOrder/eid:${eid}`, order(eid)), "salesOrder");
	}

	it("fulfils and bills the lines asked for, copied from the sales order, createdFrom set", async () => {
		const so = await salesOrder();
		const fulfilment = locationId(
			await ns("POST", `/record/v1/salesOrder/${so}/!transform/itemFulfillment`, { externalId: unique("if"), item: { items: [{ orderLine: 1, quantity: 1 }] } }),
			"itemFulfillment",
		);
		const shipped = (await (await ns("GET", `/record/v1/itemFulfillment/${fulfilment}`)).json()) as Record<string, unknown>;
		expect(shipped).toMatchObject({ createdFrom: { id: so }, entity: { id: "501" }, item: { items: [{ line: 1, orderLine: 1, item: { id: "101" }, quantity: 1, description: "TEE-BLK-S" }] } });
		expect(shipped.total).toBeUndefined();

		// The invoice bills one shirt (rate × quantity) and the whole shipping line.
		const invoice = locationId(
			await ns("POST", `/record/v1/salesOrder/${so}/!transform/invoice`, { externalId: unique("inv"), item: { items: [{ orderLine: 1, quantity: 1 }, { orderLine: 2, quantity: 1 }] } }),
			"invoice",
		);
		const billed = (await (await ns("GET", `/record/v1/invoice/${invoice}`)).json()) as Record<string, unknown>;
		expect(billed).toMatchObject({
			createdFrom: { id: so },
			total: 24.99,
			item: { items: [{ orderLine: 1, item: { id: "101" }, quantity: 1, rate: 19.99, amount: 19.99 }, { orderLine: 2, item: { id: "900" }, quantity: 1, amount: 5 }] },
		});
		const source = (await (await ns("GET", `/record/v1/salesOrder/${so}`)).json()) as { item: { items: Array<Record<string, unknown>> } };
		expect(source.item.items[0]).toMatchObject({ quantityFulfilled: 1, quantityBilled: 1 });
	});

	it("refuses to fulfil more than is left, an unknown line, a closed line, and a duplicate external id", async () => {
		const so = await salesOrder();
		const transform = (body: unknown) => ns("POST", `/record/v1/salesOrder/${so}/!transform/itemFulfillment`, body);
		const eid = unique("if");
		locationId(await transform({ externalId: eid, item: { items: [{ orderLine: 1, quantity: 2 }] } }), "itemFulfillment");

		const again = await transform({ externalId: unique("if"), item: { items: [{ orderLine: 1, quantity: 1 }] } });
		expect((await errorOf(again))["o:errorDetails"][0]).toMatchObject({ "o:errorCode": "USER_ERROR", "o:errorPath": "item.items[0].quantity" });
		const unknown = await transform({ externalId: unique("if"), item: { items: [{ orderLine: 7, quantity: 1 }] } });
		expect((await errorOf(unknown))["o:errorDetails"][0]).toMatchObject({ "o:errorCode": "INVALID_VALUE", "o:errorPath": "item.items[0].orderLine" });
		const duplicate = await transform({ externalId: eid, item: { items: [{ orderLine: 2, quantity: 1 }] } });
		expect((await errorOf(duplicate))["o:errorDetails"][0]?.detail).toBe("Error while accessing a resource. This record already exists.");

		// Closing a line (PATCH merges it by `line`) takes it out of reach.
		expect((await ns("PATCH", `/record/v1/salesOrder/${so}`, { item: { items: [{ line: 2, isClosed: true }] } })).status).toBe(204);
		const closed = await transform({ externalId: unique("if"), item: { items: [{ orderLine: 2, quantity: 1 }] } });
		expect((await errorOf(closed))["o:errorDetails"][0]).toMatchObject({ "o:errorCode": "USER_ERROR", "o:errorPath": "item.items[0].orderLine" });
		const patched = (await (await ns("GET", `/record/v1/salesOrder/${so}`)).json()) as { total: number; item: { items: Array<Record<string, unknown>> } };
		expect(patched.item.items.map((l) => l.isClosed)).toEqual([false, true, false]);
		expect(patched.total).toBe(41.98);
	});

	it("refunds cash sale lines into a cash refund", async () => {
		const eid = unique("tiktok");
		const sale = locationId(await ns("PUT", `/record/v1/cashSale/eid:${eid}`, order(eid, { entity: { id: "502" } })), "cashSale");
		const refund = locationId(
			await ns("POST", `/record/v1/cashSale/${sale}/!transform/cashRefund`, { externalId: unique("rf"), account: { id: "1090" }, item: { items: [{ orderLine: 1, quantity: 2 }] } }),
			"cashRefund",
		);
		const body = (await (await ns("GET", `/record/v1/cashRefund/${refund}`)).json()) as Record<string, unknown>;
		expect(body).toMatchObject({ createdFrom: { id: sale }, entity: { id: "502" }, account: { id: "1090" }, total: 39.98 });
	});
});

describe("deposits", () => {
	it("totals a deposit to the cent and refuses to deposit a payment twice", async () => {
		const saleEid = unique("cs");
		const sale = locationId(await ns("PUT", `/record/v1/cashSale/eid:${saleEid}`, order(saleEid, { entity: { id: "502" } })), "cashSale");
		const depEid = unique("cd");
		const so = locationId(await ns("PUT", `/record/v1/salesOrder/eid:${unique("so")}`, order(unique("so"))), "salesOrder");
		const customerDeposit = locationId(
			await ns("PUT", `/record/v1/customerDeposit/eid:${depEid}`, { customer: { id: "501" }, salesOrder: { id: so }, payment: 20.01, undepFunds: true, tranDate: "2026-11-21" }),
			"customerDeposit",
		);

		// 41.98 + 20.01 + 0.20 − 0.10 is 62.089999999999996 in floating point; the deposit says 62.09.
		expect(41.98 + 20.01 + 0.2 - 0.1).not.toBe(62.09);
		const depositEid = unique("payout");
		const deposit = {
			account: { id: "1010" },
			tranDate: "2026-11-22",
			memo: "payout",
			payment: { items: [{ id: sale, deposit: true, paymentAmount: 41.98 }, { id: customerDeposit, deposit: true, paymentAmount: 20.01 }] },
			other: { items: [{ account: { id: "6180" }, amount: 0.2, memo: "adjustment" }] },
			cashBack: { items: [{ account: { id: "6120" }, amount: 0.1, memo: "fees" }] },
		};
		const id = locationId(await ns("PUT", `/record/v1/deposit/eid:${depositEid}`, deposit), "deposit");
		const stored = (await (await ns("GET", `/record/v1/deposit/${id}`)).json()) as { total: number };
		expect(stored.total).toBe(62.09);
		// Upserting the same deposit again is not depositing its payments twice.
		expect(locationId(await ns("PUT", `/record/v1/deposit/eid:${depositEid}`, deposit), "deposit")).toBe(id);

		const twice = await ns("PUT", `/record/v1/deposit/eid:${unique("payout")}`, { account: { id: "1010" }, payment: { items: [{ id: customerDeposit, deposit: true, paymentAmount: 20.01 }] } });
		expect(twice.status).toBe(400);
		expect((await errorOf(twice))["o:errorDetails"][0]).toMatchObject({ "o:errorCode": "USER_ERROR", "o:errorPath": "payment.items[0].id" });
	});

	it("refuses a payment deposited for another amount, one not in undeposited funds, and an unknown one", async () => {
		const saleEid = unique("cs");
		const banked = locationId(await ns("PUT", `/record/v1/cashSale/eid:${saleEid}`, order(saleEid, { undepFunds: false, account: { id: "1010" } })), "cashSale");
		const otherEid = unique("cs");
		const sale = locationId(await ns("PUT", `/record/v1/cashSale/eid:${otherEid}`, order(otherEid)), "cashSale");
		const cases: Array<[unknown, string, string]> = [
			[{ id: sale, deposit: true, paymentAmount: 41.97 }, "INVALID_VALUE", "payment.items[0].paymentAmount"],
			[{ id: banked, deposit: true, paymentAmount: 41.98 }, "USER_ERROR", "payment.items[0].id"],
			[{ id: "999999", deposit: true, paymentAmount: 1 }, "INVALID_VALUE", "payment.items[0].id"],
		];
		for (const [line, code, path] of cases) {
			const eid = unique("payout");
			const response = await ns("PUT", `/record/v1/deposit/eid:${eid}`, { account: { id: "1010" }, payment: { items: [line] } });
			expect(response.status, path).toBe(400);
			expect((await errorOf(response))["o:errorDetails"][0]).toMatchObject({ "o:errorCode": code, "o:errorPath": path });
			expect(await records("deposit", eid)).toHaveLength(0);
		}
	});
});

describe("SuiteQL", () => {
	const query = (q: string, headers: Record<string, string> = { Prefer: "transient" }) => ns("POST", "/query/v1/suiteql", { q }, {}, headers);

	it("finds item internal ids by name, with IN and with =", async () => {
		const response = await query("SELECT id, itemid FROM item WHERE itemid IN ('CAP-NVY', 'TEE-BLK-S', 'NO-SUCH-SKU')");
		expect(response.status).toBe(200);
		expect(await response.json()).toEqual({
			links: [],
			count: 2,
			hasMore: false,
			offset: 0,
			totalResults: 2,
			items: [
				{ links: [], id: "101", itemid: "TEE-BLK-S" },
				{ links: [], id: "107", itemid: "CAP-NVY" },
			],
		});
		const one = (await (await query("select id, itemid from item where itemid = 'SALES TAX'")).json()) as { items: unknown[] };
		expect(one.items).toEqual([{ links: [], id: "902", itemid: "SALES TAX" }]);
	});

	it("answers an item added through the controls, and refuses other queries and a missing Prefer header", async () => {
		const sku = unique("NEW-SKU");
		const added = (await (await post("/items", { itemid: sku })).json()) as { item: { id: string } };
		const found = (await (await query(`SELECT id, itemid FROM item WHERE itemid = '${sku}'`)).json()) as { items: unknown[] };
		expect(found.items).toEqual([{ links: [], id: added.item.id, itemid: sku }]);

		const other = await query("SELECT id FROM customer");
		expect(other.status).toBe(400);
		expect((await errorOf(other))["o:errorDetails"][0]?.["o:errorCode"]).toBe("USER_ERROR");
		expect((await query("SELECT id, itemid FROM item WHERE itemid = 'CAP-NVY'", {})).status).toBe(400);
	});
});

describe("concurrency governance and faults", () => {
	it("answers 429 CONCURRENCY_LIMIT_EXCEEDED to requests above the limit while others are in flight", async () => {
		await post("/config", { concurrencyLimit: 2, latencyMs: 400 });
		await control("/stats", { method: "DELETE" });
		try {
			const responses = await Promise.all(Array.from({ length: 6 }, () => ns("GET", "/record/v1/customer/501")));
			const statuses = responses.map((r) => r.status).sort();
			expect(statuses).toEqual([200, 200, 429, 429, 429, 429]);
			const rejected = responses.find((r) => r.status === 429)!;
			expect(await errorOf(rejected)).toEqual({
				type: "https://www.rfc-editor.org/rfc/rfc6585.html#section-4",
				title: "Too Many Requests",
				status: 429,
				"o:errorDetails": [
					{
						detail: "Concurrent request limit exceeded. Request blocked. Verify your concurrency limits at Setup > Integration > Integration Management > Integration Governance.",
						"o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED",
					},
				],
			});
			// A refused request leaves at once: the peak is the two served plus the one being turned away.
			expect(await (await control("/stats")).json()).toMatchObject({ maxInFlight: 3, rejected429: 4, requests: 6, limit: 2, latencyMs: 400 });

			// One at a time, the same six all go through.
			await control("/stats", { method: "DELETE" });
			for (let i = 0; i < 6; i++) expect((await ns("GET", "/record/v1/customer/501")).status).toBe(200);
			expect(await (await control("/stats")).json()).toMatchObject({ maxInFlight: 1, rejected429: 0, requests: 6 });
		} finally {
			await post("/config", { concurrencyLimit: 5, latencyMs: 0 });
		}
	});

	it("commits the shared faults aimed at netsuite, before anything is stored", async () => {
		await fetch(`${SANDBOX}/sandbox/faults`, { method: "POST", body: JSON.stringify({ target: "netsuite", kind: "500" }) });
		const eid = unique("fault");
		const failed = await ns("PUT", `/record/v1/salesOrder/eid:${eid}`, order(eid));
		expect(failed.status).toBe(500);
		expect((await errorOf(failed))["o:errorDetails"][0]?.["o:errorCode"]).toBe("UNEXPECTED_ERROR");
		expect(await records("salesOrder", eid)).toHaveLength(0);

		await fetch(`${SANDBOX}/sandbox/faults`, { method: "POST", body: JSON.stringify({ target: "netsuite", kind: "429" }) });
		const throttled = await ns("PUT", `/record/v1/salesOrder/eid:${eid}`, order(eid));
		expect(throttled.status).toBe(429);
		expect((await errorOf(throttled))["o:errorDetails"][0]?.["o:errorCode"]).toBe("CONCURRENCY_LIMIT_EXCEEDED");

		locationId(await ns("PUT", `/record/v1/salesOrder/eid:${eid}`, order(eid)), "salesOrder");
	});
});
