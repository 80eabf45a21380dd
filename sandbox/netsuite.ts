/**
 * A local NetSuite account (a sandbox, "1234567_SB1"), for the tests and the demo. It speaks the
 * part of SuiteTalk REST web services ordersync uses (the contract is /tmp/issue7/netsuite-contract.md;
 * vendor sources are listed in /tmp/issue7/netsuite-findings.md):
 *
 * - Token-Based Authentication, checked here independently of ordersync's signer: OAuth 1.0a with
 *   HMAC-SHA256 (HMAC-SHA1 is refused, as NetSuite does since 2023.1), realm = the account id
 *   exactly ("1234567_SB1": a lowercase realm is refused), the signature over the URL this peer
 *   received, a timestamp within five minutes and a nonce (6–64 alphanumerics) used once in that
 *   window. Anything else: 401 INVALID_LOGIN with NetSuite's "Invalid login attempt." detail.
 * - The record API v1: upsert `PUT …/{type}/eid:{externalId}`, create `POST …/{type}` (an external
 *   id is unique per type), `GET` by internal or external id, `PATCH` (fields merged, item lines
 *   merged by `line`), and `POST …/{type}/{id}/!transform/{toType}` for salesOrder → itemFulfillment
 *   or invoice and cashSale → cashRefund. Writes answer 204 with a Location header.
 * - SuiteQL `POST /services/rest/query/v1/suiteql` (Prefer: transient), for the one query shape
 *   ordersync sends: `SELECT id, itemid FROM item WHERE itemid IN ('…', …)` or `= '…'`.
 * - Concurrency governance: more requests in flight than the account's limit get 429
 *   CONCURRENCY_LIMIT_EXCEEDED. `latencyMs` holds every request open so tests can provoke it.
 *
 * Money comes in as JSON numbers in major units, as NetSuite takes it; the sandbox refuses more
 * than two decimals and keeps every amount in integer cents, so a deposit equals its parts exactly.
 * References are checked the way NetSuite does: an unknown item, customer or transaction is 400
 * INVALID_VALUE with the `o:errorPath` of the field. Where NetSuite's own wording for a refusal
 * could not be found (deposits, over-fulfilment, unsupported transforms), the text is the
 * sandbox's own and says so in the findings file.
 */
import { z } from "zod";
import { type FaultKind, type Faults, failAfter, failBefore, sleep } from "./faults";

type Json = Record<string, unknown>;
type Detail = { detail: string; "o:errorCode": string; "o:errorPath"?: string; "o:errorHeader"?: string };

const TRANSACTION_TYPES = ["salesOrder", "cashSale", "itemFulfillment", "invoice", "creditMemo", "cashRefund", "customerDeposit", "customerRefund", "deposit"] as const;
type TransactionType = (typeof TRANSACTION_TYPES)[number];
const isTransactionType = (type: string): type is TransactionType => (TRANSACTION_TYPES as readonly string[]).includes(type);

/** A transaction as stored: `fields` as last written (item lines numbered), totals in cents. */
type Stored = {
	type: TransactionType;
	id: string;
	externalId: string | null;
	fields: Json;
	totalCents: number | null;
	createdFrom: string | null;
	created: string;
	modified: string;
};
type Item = { id: string; itemid: string; type: "inventoryItem" | "nonInventorySaleItem" };
type Customer = { id: string; companyName: string };
type Call = { seq: number; method: string; path: string; status: number; fault?: FaultKind };

// ---- NetSuite's answers ------------------------------------------------------------------------

/** Problem-details `type` and `title` per status, as NetSuite 2023+ writes them (RFC 9110 links). */
const PROBLEM: Record<number, [string, string]> = {
	400: ["https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1", "Bad Request"],
	401: ["https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2", "Unauthorized"],
	403: ["https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.4", "Forbidden"],
	404: ["https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5", "Not Found"],
	405: ["https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6", "Method Not Allowed"],
	// RFC 9110 has no 429; it is RFC 6585's.
	429: ["https://www.rfc-editor.org/rfc/rfc6585.html#section-4", "Too Many Requests"],
	500: ["https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1", "Internal Server Error"],
};

const INVALID_LOGIN =
	"Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.";
const CONCURRENCY =
	"Concurrent request limit exceeded. Request blocked. Verify your concurrency limits at Setup > Integration > Integration Management > Integration Governance.";

function detail(code: string, text: string, path?: string): Detail {
	return path === undefined ? { detail: text, "o:errorCode": code } : { detail: text, "o:errorCode": code, "o:errorPath": path };
}

function nsError(status: number, details: Detail[]): Response {
	const [type, title] = PROBLEM[status] ?? PROBLEM[500]!;
	return new Response(JSON.stringify({ type, title, status, "o:errorDetails": details }), {
		status,
		headers: { "Content-Type": "application/vnd.oracle.resource+json; type=error; charset=UTF-8" },
	});
}

const invalidValue = (field: string, path: string) => detail("INVALID_VALUE", `Invalid value for the resource or sub-resource field '${field}'. Provide a valid value.`, path);
const missingValue = (field: string, path: string) => detail("USER_ERROR", `Please enter value(s) for: ${field}.`, path);
const nonexistent = () => nsError(404, [detail("NONEXISTENT_ID", "The record instance does not exist. Provide a valid record instance ID.")]);
const unauthorized = () => nsError(401, [detail("INVALID_LOGIN", INVALID_LOGIN)]);
const tooMany = () => nsError(429, [detail("CONCURRENCY_LIMIT_EXCEEDED", CONCURRENCY)]);

/** A refusal found deep in validation, turned into NetSuite's error body at the edge of #api. */
class Refusal extends Error {
	constructor(
		readonly status: number,
		readonly details: Detail[],
	) {
		super(details[0]?.detail ?? "refused");
	}
}
function refuse(...details: Detail[]): never {
	throw new Refusal(400, details);
}

// ---- Money --------------------------------------------------------------------------------------

/** True when `value` is written with at most two decimals (JSON numbers print as they were sent). */
function hasCents(value: number): boolean {
	return Number.isFinite(value) && /^-?\d+(\.\d{1,2})?$/.test(String(value));
}
const toCents = (value: number) => Math.round(value * 100);
const fromCents = (cents: number) => cents / 100;

// ---- Request bodies ---------------------------------------------------------------------------
// Loose objects: NetSuite takes many more fields than the sandbox checks, and they are stored as sent.

const internalId = z.union([z.string().regex(/^\d+$/), z.number().int().positive().transform(String)]);
const ref = z.looseObject({ id: internalId });
const money = z.number().refine(hasCents);
const positiveMoney = money.refine((n) => n > 0);
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
/** A sublist NetSuite wants at least one line in, with its own wording for an empty one. */
const lines = <T extends z.ZodType>(line: T) =>
	z.looseObject({
		items: z.array(line).refine((a) => a.length > 0, { params: { code: "USER_ERROR", text: "You must enter at least one line item for this transaction." } }),
	});

const itemLine = z.looseObject({
	line: z.number().int().positive().optional(),
	item: ref,
	quantity: z.number().positive().optional(),
	rate: money.optional(),
	amount: money.optional(),
	description: z.string().optional(),
	isClosed: z.boolean().optional(),
});
const header = { externalId: z.string().min(1).optional(), tranDate: isoDate.optional(), memo: z.string().optional() };

const SalesLike = z.looseObject({ ...header, entity: ref, createdFrom: ref.optional(), account: ref.optional(), undepFunds: z.boolean().optional(), item: lines(itemLine) });
const CustomerDeposit = z.looseObject({ ...header, customer: ref, salesOrder: ref.optional(), payment: positiveMoney, undepFunds: z.boolean().optional(), account: ref.optional() });
const CustomerRefund = z.looseObject({
	...header,
	customer: ref,
	account: ref.optional(),
	total: positiveMoney,
	apply: z.looseObject({ items: z.array(z.looseObject({ doc: ref, apply: z.boolean().optional(), amount: money.optional() })) }).optional(),
});
const glLine = z.looseObject({ account: ref, amount: money, memo: z.string().optional() });
const Deposit = z.looseObject({
	...header,
	account: ref,
	payment: lines(z.looseObject({ id: internalId, deposit: z.boolean().optional(), paymentAmount: positiveMoney })),
	other: z.looseObject({ items: z.array(glLine) }).optional(),
	cashBack: z.looseObject({ items: z.array(glLine) }).optional(),
});
const Fulfillment = z.looseObject({ ...header, item: lines(z.looseObject({ orderLine: z.number().int().positive().optional(), quantity: z.number().positive() })) });
const Transform = z.looseObject({ ...header, item: lines(z.looseObject({ orderLine: z.number().int().positive(), quantity: z.number().positive() })) });

/** `["item", "items", 0, "item"]` → `item.items[0].item`, the way NetSuite writes `o:errorPath`. */
function errorPath(path: ReadonlyArray<PropertyKey>): string {
	return path.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), "");
}

/** Parses `body` with `schema`, or refuses with one detail per problem, each with its path. */
function parse<T>(schema: z.ZodType<T>, body: unknown): T {
	const result = schema.safeParse(body, { reportInput: true });
	if (result.success) return result.data;
	const details = result.error.issues.map((issue) => {
		const path = errorPath(issue.path);
		const field = [...issue.path].reverse().find((key) => typeof key === "string") ?? "body";
		const params = issue.code === "custom" ? (issue.params as { code?: string; text?: string } | undefined) : undefined;
		if (params?.code && params.text) return detail(params.code, params.text, path);
		if (issue.code === "invalid_type" && issue.input === undefined) return missingValue(String(field), path);
		return invalidValue(String(field), path);
	});
	return refuse(...details);
}

// ---- Token-Based Authentication (the vendor's side of it) ----------------------------------------

const encoder = new TextEncoder();
const AUTH_WINDOW_S = 300;

/** RFC 5849 §3.6: UTF-8 bytes, all but ALPHA DIGIT - . _ ~ as %XX (uppercase). */
function oauthEncode(value: string): string {
	return Array.from(encoder.encode(value), (byte) => {
		const char = String.fromCharCode(byte);
		return /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
	}).join("");
}

/** `OAuth realm="…", oauth_x="…"` → its parameters, values percent-decoded; null when malformed. */
function parseOAuthHeader(header: string | null): Map<string, string> | null {
	const match = /^OAuth\s+(.+)$/i.exec(header?.trim() ?? "");
	if (!match) return null;
	const params = new Map<string, string>();
	for (const part of match[1]!.split(",")) {
		const pair = /^\s*([A-Za-z0-9_]+)\s*=\s*"([^"]*)"\s*$/.exec(part);
		if (!pair) return null;
		try {
			params.set(pair[1]!, decodeURIComponent(pair[2]!));
		} catch {
			return null;
		}
	}
	return params;
}

/** RFC 5849 §3.4.1 over the URL as received: header parameters but realm and signature, plus the query. */
function signatureBase(method: string, url: URL, header: Map<string, string>): string {
	const pairs = [...url.searchParams.entries(), ...[...header.entries()].filter(([name]) => name !== "realm" && name !== "oauth_signature")]
		.map(([name, value]) => [oauthEncode(name), oauthEncode(value)] as const)
		// By name, then value, in byte order (encoded text is ASCII). Not as "name=value" strings:
		// "=" sorts after digits, which would put "a0" before "a".
		.sort(([an, av], [bn, bv]) => (an === bn ? (av < bv ? -1 : av > bv ? 1 : 0) : an < bn ? -1 : 1));
	const normalized = pairs.map(([name, value]) => `${name}=${value}`).join("&");
	return [method.toUpperCase(), oauthEncode(`${url.protocol}//${url.host}${url.pathname}`), oauthEncode(normalized)].join("&");
}

function fromBase64(value: string): Uint8Array | null {
	if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return null;
	return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
}

// ---- SuiteQL -------------------------------------------------------------------------------------

const QUOTED = String.raw`'(?:[^']|'')*'`;
const ITEM_QUERY = new RegExp(String.raw`^\s*SELECT\s+id\s*,\s*itemid\s+FROM\s+item\s+WHERE\s+itemid\s+(?:IN\s*\(\s*(${QUOTED}(?:\s*,\s*${QUOTED})*)\s*\)|=\s*(${QUOTED}))\s*;?\s*$`, "i");

/** The item names a supported query asks for, or null for any other query. */
function itemQueryNames(q: string): string[] | null {
	const match = ITEM_QUERY.exec(q);
	if (!match) return null;
	const list = match[1] ?? match[2]!;
	return [...list.matchAll(new RegExp(QUOTED, "g"))].map((m) => m[0].slice(1, -1).replaceAll("''", "'"));
}

// ---- Seed ---------------------------------------------------------------------------------------

const SEED_CUSTOMERS: Array<[string, string]> = [
	["501", "Shopify Web Customer"],
	["502", "TikTok Shop Customer"],
	["503", "Amazon Customer"],
	["504", "WooCommerce Customer"],
	["505", "Retailer EDI Customer"],
	["506", "Shopify Outlet Customer"],
];
const DEMO_SKUS = ["TEE-BLK-S", "TEE-BLK-M", "TEE-BLK-L", "TEE-WHT-M", "HOOD-GRY-M", "HOOD-GRY-L", "CAP-NVY", "SOCK-3PK", "TOTE-NAT", "BEANIE-RED", "GIFT-SET", "SOCK-6PK", "PRINT-SOHO"];
const NON_INVENTORY: Array<[string, string]> = [
	["900", "SHIPPING"],
	["901", "DISCOUNT"],
	["902", "SALES TAX"],
];

const Config = z.object({ concurrencyLimit: z.number().int().positive().optional(), latencyMs: z.number().int().nonnegative().optional() });
const NewItem = z.object({ itemid: z.string().min(1), id: z.string().regex(/^\d+$/).optional() });

const RECORD_PATH = /^\/services\/rest\/record\/v1\/([A-Za-z]+)(?:\/(eid:[^/]+|\d+))?(?:\/!transform\/([A-Za-z]+))?$/;

export class NetSuiteSandbox {
	#accountId: string;
	#consumerKey: string;
	#consumerSecret: string;
	#tokenId: string;
	#tokenSecret: string;
	#faults: Faults;
	#key: Promise<CryptoKey> | null = null;
	/** Nonce → the epoch second it may be used again; insertion order is expiry order. */
	#nonces = new Map<string, number>();

	#limit: number;
	#latencyMs: number;
	#inFlight = 0;
	#stats = { maxInFlight: 0, rejected429: 0, requests: 0 };

	#customers = new Map<string, Customer>();
	#items = new Map<string, Item>();
	#records = new Map<string, Stored>();
	/** type → external id → internal id. */
	#byExternalId = new Map<TransactionType, Map<string, string>>();
	/** Transactions share one sequence of internal ids, as in NetSuite. */
	#nextId = 7001;
	#calls: Call[] = [];
	#callSeq = 0;

	constructor(options: {
		accountId: string;
		consumerKey: string;
		consumerSecret: string;
		tokenId: string;
		tokenSecret: string;
		faults: Faults;
		/** Concurrent requests the account takes (5 on a standard service tier without SuiteCloud Plus). */
		concurrencyLimit?: number;
		/** Time every API request spends in flight, to provoke the concurrency limit. */
		latencyMs?: number;
	}) {
		this.#accountId = options.accountId;
		this.#consumerKey = options.consumerKey;
		this.#consumerSecret = options.consumerSecret;
		this.#tokenId = options.tokenId;
		this.#tokenSecret = options.tokenSecret;
		this.#faults = options.faults;
		this.#limit = options.concurrencyLimit ?? 5;
		this.#latencyMs = options.latencyMs ?? 0;
		for (const [id, companyName] of SEED_CUSTOMERS) this.#customers.set(id, { id, companyName });
		DEMO_SKUS.forEach((itemid, i) => this.#addItem({ id: String(101 + i), itemid, type: "inventoryItem" }));
		for (const [id, itemid] of NON_INVENTORY) this.#addItem({ id, itemid, type: "nonInventorySaleItem" });
	}

	async fetch(request: Request, url: URL): Promise<Response> {
		if (url.pathname.startsWith("/sandbox/netsuite/")) return this.#control(request, url);
		// Read first: an answer given early must not leave the body unread.
		const raw = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
		const path = url.pathname.replace(/^\/netsuite/, "");
		const call: Call = { seq: ++this.#callSeq, method: request.method, path: `${path}${url.search}`, status: 0 };
		this.#calls.push(call);
		if (this.#calls.length > 5000) this.#calls.splice(0, 1000);

		// Concurrency governance counts every request the account receives while it is being served.
		this.#stats.requests++;
		this.#inFlight++;
		this.#stats.maxInFlight = Math.max(this.#stats.maxInFlight, this.#inFlight);
		try {
			if (this.#inFlight > this.#limit) {
				this.#stats.rejected429++;
				call.status = 429;
				return tooMany();
			}
			if (this.#latencyMs > 0) await sleep(this.#latencyMs);
			const response = await this.#serve(request, url, path, raw, call);
			call.status = response.status;
			return response;
		} finally {
			this.#inFlight--;
		}
	}

	/** Faults first (as the other peers), then authentication, then the API; a lost response is held back. */
	async #serve(request: Request, url: URL, path: string, raw: string, call: Call): Promise<Response> {
		const write = request.method !== "GET" && !path.startsWith("/services/rest/query/");
		const fault = this.#pickFault(write);
		if (fault) call.fault = fault.kind;
		const early = await failBefore(fault?.kind === "throttle" ? { ...fault, kind: "429" } : fault, {
			error5xx: (status) =>
				status === 500
					? nsError(500, [detail("UNEXPECTED_ERROR", `An unexpected error occurred. Error ID: ${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`)])
					: new Response(`<html><head><title>${status}</title></head><body><h1>Service Unavailable</h1></body></html>`, { status, headers: { "Content-Type": "text/html" } }),
			// Concurrency governance is NetSuite's only 429, and it sends no Retry-After.
			tooMany: () => tooMany(),
			// The integration's role lacks a permission: an administrator must grant it.
			refused: () =>
				nsError(403, [
					detail("INSUFFICIENT_PERMISSION", "Permission Violation: You need a higher level of the 'Transactions -> Sales Order' permission to access this page. Please contact your account administrator."),
				]),
		});
		if (early) return early;
		if (!(await this.#authenticate(request, url))) return unauthorized();
		const response = await this.#api(request, url, path, raw);
		await failAfter(fault);
		return response;
	}

	/** A lost response matters only where work was done: a queued one waits for the next write. */
	#pickFault(write: boolean) {
		const next = this.#faults.list().find((f) => f.target === "netsuite" || f.target === "*");
		if (!write && next && next.rate === undefined && next.kind === "lost-response") return null;
		return this.#faults.pick("netsuite");
	}

	// ---- Authentication --------------------------------------------------------------------------

	/** Token-based authentication as NetSuite checks it; the nonce is spent only by a valid request. */
	async #authenticate(request: Request, url: URL): Promise<boolean> {
		const params = parseOAuthHeader(request.headers.get("Authorization"));
		if (!params) return false;
		const get = (name: string) => params.get(name) ?? "";
		// Case matters: "1234567_sb1" is not this account's realm.
		if (get("realm") !== this.#accountId || get("oauth_consumer_key") !== this.#consumerKey || get("oauth_token") !== this.#tokenId) return false;
		if (get("oauth_signature_method") !== "HMAC-SHA256" || (params.has("oauth_version") && get("oauth_version") !== "1.0")) return false;
		const now = Math.floor(Date.now() / 1000);
		const timestamp = get("oauth_timestamp");
		if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now - Number(timestamp)) > AUTH_WINDOW_S) return false;
		const nonce = get("oauth_nonce");
		if (!/^[A-Za-z0-9]{6,64}$/.test(nonce)) return false;
		const signature = fromBase64(get("oauth_signature"));
		if (!signature) return false;
		const base = signatureBase(request.method, url, params);
		if (!(await crypto.subtle.verify("HMAC", await this.#signingKey(), signature, encoder.encode(base)))) return false;
		return this.#spendNonce(nonce, now);
	}

	#signingKey(): Promise<CryptoKey> {
		this.#key ??= crypto.subtle.importKey("raw", encoder.encode(`${oauthEncode(this.#consumerSecret)}&${oauthEncode(this.#tokenSecret)}`), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
		return this.#key;
	}

	/** False when the nonce was already used within the window (a replay). */
	#spendNonce(nonce: string, now: number): boolean {
		for (const [seen, until] of this.#nonces) {
			if (until > now) break;
			this.#nonces.delete(seen);
		}
		if (this.#nonces.has(nonce)) return false;
		this.#nonces.set(nonce, now + AUTH_WINDOW_S);
		return true;
	}

	// ---- API -------------------------------------------------------------------------------------

	async #api(request: Request, url: URL, path: string, raw: string): Promise<Response> {
		let body: unknown = {};
		if (raw !== "") {
			try {
				body = JSON.parse(raw);
			} catch {
				return nsError(400, [detail("INVALID_CONTENT", "Invalid content in the request body: the body is not valid JSON.")]);
			}
		}
		try {
			if (path === "/services/rest/query/v1/suiteql") {
				if (request.method !== "POST") return nsError(405, [detail("INVALID_REQUEST", "SuiteQL queries are sent with POST.")]);
				return this.#suiteql(request, url, body);
			}
			const match = RECORD_PATH.exec(path);
			if (!match) return nsError(404, [detail("NONEXISTENT_ID", `The requested URL ${path} was not found.`)]);
			const [, type = "", key, toType] = match;
			return this.#record(request.method, url, type, key === undefined ? undefined : decodeKey(key), toType, body);
		} catch (error) {
			if (error instanceof Refusal) return nsError(error.status, error.details);
			throw error;
		}
	}

	#record(method: string, url: URL, type: string, key: string | undefined, toType: string | undefined, body: unknown): Response {
		if (type === "customer" || type === "inventoryItem" || type === "nonInventorySaleItem") {
			if (method !== "GET" || !key || toType) return nsError(405, [detail("INVALID_REQUEST", `The sandbox keeps ${type} records read-only.`)]);
			return this.#readListRecord(url, type, key);
		}
		if (!isTransactionType(type)) return nsError(404, [detail("NONEXISTENT_ID", `Record type '${type}' does not exist.`)]);
		const object = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Json) : refuse(detail("INVALID_CONTENT", "Invalid content in the request body: a JSON object is expected."));
		if (toType) {
			if (method !== "POST" || !key || key.startsWith("eid:")) return nsError(405, [detail("INVALID_REQUEST", "A transform is POSTed to the source record's internal id.")]);
			return this.#transform(url, type, key, toType, object);
		}
		if (!key) {
			if (method === "POST") return this.#created(url, this.#create(type, object, null));
			return nsError(405, [detail("INVALID_REQUEST", "The sandbox does not list records: read them by id or external id.")]);
		}
		const existing = this.#find(type, key);
		switch (method) {
			case "GET":
				return existing ? this.#json(this.#view(existing, url)) : nonexistent();
			case "PUT": {
				if (!key.startsWith("eid:")) return nsError(405, [detail("INVALID_REQUEST", "PUT upserts by external id: …/{type}/eid:{externalId}.")]);
				const externalId = key.slice(4);
				return this.#created(url, existing ? this.#replace(existing, object) : this.#create(type, { ...object, externalId }, externalId));
			}
			case "PATCH":
				return existing ? this.#created(url, this.#patch(existing, object)) : nonexistent();
			default:
				return nsError(405, [detail("INVALID_REQUEST", `${method} is not supported on a record.`)]);
		}
	}

	#find(type: TransactionType, key: string): Stored | undefined {
		const id = key.startsWith("eid:") ? this.#byExternalId.get(type)?.get(key.slice(4)) : key;
		const record = id === undefined ? undefined : this.#records.get(id);
		return record?.type === type ? record : undefined;
	}

	#readListRecord(url: URL, type: string, id: string): Response {
		if (type === "customer") {
			const customer = this.#customers.get(id);
			return customer ? this.#json({ links: [this.#self(url, type, id)], ...customer, isPerson: false }) : nonexistent();
		}
		const item = this.#items.get(id);
		return item?.type === type ? this.#json({ links: [this.#self(url, type, id)], id: item.id, itemId: item.itemid }) : nonexistent();
	}

	// ---- Writes ----------------------------------------------------------------------------------

	/** POST create (and upsert of a new external id): the external id must be new for the type. */
	#create(type: TransactionType, body: Json, externalId: string | null): Stored {
		if (type === "itemFulfillment") refuse(detail("USER_ERROR", "An item fulfillment is created from its sales order: POST salesOrder/{id}/!transform/itemFulfillment.")); // sandbox wording
		if (body.externalId !== undefined && (typeof body.externalId !== "string" || body.externalId === "")) refuse(invalidValue("externalId", "externalId"));
		const eid = externalId ?? (body.externalId as string | undefined) ?? null;
		this.#checkNewExternalId(type, eid);
		const prepared = this.#prepare(type, body, null);
		return this.#store(type, eid, prepared);
	}

	/** Upsert of a known external id: the body's fields replace the record's (sublists as sent). */
	#replace(record: Stored, body: Json): Stored {
		const merged = { ...record.fields, ...body, externalId: record.externalId ?? undefined };
		return this.#update(record, this.#prepare(record.type, keepLineTracking(record.fields, merged), record));
	}

	/** PATCH: fields merged, item lines merged by `line` (new lines appended). */
	#patch(record: Stored, body: Json): Stored {
		const merged: Json = { ...record.fields, ...body };
		const patchLines = (body.item as { items?: unknown } | undefined)?.items;
		if (Array.isArray(patchLines)) {
			const current = ((record.fields.item as { items?: Json[] } | undefined)?.items ?? []).map((line) => ({ ...line }));
			patchLines.forEach((patch: Json, i) => {
				if (patch.line === undefined) {
					current.push({ ...patch });
					return;
				}
				const target = current.find((line) => line.line === patch.line);
				if (!target) refuse(invalidValue("line", `item.items[${i}].line`));
				Object.assign(target, patch);
			});
			merged.item = { ...(record.fields.item as Json), items: current };
		}
		return this.#update(record, this.#prepare(record.type, merged, record));
	}

	#update(record: Stored, prepared: Prepared): Stored {
		Object.assign(record, { fields: prepared.fields, totalCents: prepared.totalCents, modified: new Date().toISOString() });
		if (prepared.createdFrom !== undefined) record.createdFrom = prepared.createdFrom;
		return record;
	}

	#checkNewExternalId(type: TransactionType, externalId: string | null): void {
		// NetSuite's answer to a create that reuses an external id (USER_ERROR, no path).
		if (externalId !== null && this.#byExternalId.get(type)?.has(externalId)) refuse(detail("USER_ERROR", "Error while accessing a resource. This record already exists."));
	}

	#store(type: TransactionType, externalId: string | null, prepared: Prepared): Stored {
		const now = new Date().toISOString();
		const record: Stored = { type, id: String(this.#nextId++), externalId, fields: prepared.fields, totalCents: prepared.totalCents, createdFrom: prepared.createdFrom ?? null, created: now, modified: now };
		this.#records.set(record.id, record);
		if (externalId !== null) {
			if (!this.#byExternalId.has(type)) this.#byExternalId.set(type, new Map());
			this.#byExternalId.get(type)!.set(externalId, record.id);
		}
		return record;
	}

	// ---- Validation and totals -------------------------------------------------------------------

	/** Checks a record's body against its type and the account's data; computes its total in cents. */
	#prepare(type: TransactionType, body: Json, self: Stored | null): Prepared {
		const { externalId: _ignored, id: _id, total: _total, ...rest } = body;
		const fields = type === "customerRefund" ? { ...rest, total: body.total } : rest;
		switch (type) {
			case "salesOrder":
			case "cashSale":
			case "invoice":
			case "creditMemo":
			case "cashRefund":
				return this.#prepareSale(type, parse(SalesLike, fields));
			case "customerDeposit":
				return this.#prepareCustomerDeposit(parse(CustomerDeposit, fields));
			case "customerRefund":
				return this.#prepareCustomerRefund(parse(CustomerRefund, fields));
			case "deposit":
				return this.#prepareDeposit(parse(Deposit, fields), self);
			case "itemFulfillment":
				return { fields: parse(Fulfillment, fields), totalCents: null };
		}
	}

	/** Sales-like transactions: a known customer, known items, lines priced and summed in cents. */
	#prepareSale(type: TransactionType, body: z.infer<typeof SalesLike>): Prepared {
		this.#checkCustomer(body.entity.id, "entity");
		let createdFrom: string | undefined;
		if (body.createdFrom) {
			const allowed: TransactionType[] = type === "cashRefund" ? ["cashSale"] : type === "creditMemo" ? ["salesOrder", "invoice"] : ["salesOrder"];
			const source = this.#records.get(body.createdFrom.id);
			if (!source || !allowed.includes(source.type)) refuse(invalidValue("createdFrom", "createdFrom"));
			createdFrom = source.id;
		}
		const { createdFrom: _from, ...rest } = body;
		let next = Math.max(0, ...body.item.items.map((line) => line.line ?? 0)) + 1;
		let totalCents = 0;
		const items = body.item.items.map((line, i) => {
			const item = this.#items.get(line.item.id);
			if (!item) refuse(invalidValue("item", `item.items[${i}].item`));
			const quantity = line.quantity ?? 1;
			const cents = line.amount !== undefined ? toCents(line.amount) : line.rate !== undefined ? Math.round(toCents(line.rate) * quantity) : refuse(missingValue("amount", `item.items[${i}].amount`));
			totalCents += cents;
			return { ...line, line: line.line ?? next++, item: { id: item.id, refName: item.itemid }, quantity, amount: fromCents(cents), isClosed: line.isClosed ?? false };
		});
		const fields: Json = { ...rest, item: { items } };
		if (type === "cashSale") fields.undepFunds = body.undepFunds ?? true;
		return { fields, totalCents, createdFrom };
	}

	#prepareCustomerDeposit(body: z.infer<typeof CustomerDeposit>): Prepared {
		this.#checkCustomer(body.customer.id, "customer");
		if (body.salesOrder && this.#records.get(body.salesOrder.id)?.type !== "salesOrder") refuse(invalidValue("salesOrder", "salesOrder"));
		return { fields: { ...body, undepFunds: body.undepFunds ?? true }, totalCents: toCents(body.payment) };
	}

	#prepareCustomerRefund(body: z.infer<typeof CustomerRefund>): Prepared {
		this.#checkCustomer(body.customer.id, "customer");
		body.apply?.items.forEach((line, i) => {
			if (this.#records.get(line.doc.id)?.type !== "creditMemo") refuse(invalidValue("doc", `apply.items[${i}].doc`));
		});
		return { fields: body, totalCents: toCents(body.total) };
	}

	/**
	 * A bank deposit of payments held in undeposited funds. Each payment must exist (a customer
	 * deposit or a cash sale), sit in undeposited funds, be in no other deposit, and be deposited
	 * whole: paymentAmount equals its amount. Total = payments + other − cash back, in cents.
	 */
	#prepareDeposit(body: z.infer<typeof Deposit>, self: Stored | null): Prepared {
		const taken = this.#depositedPayments(self?.id ?? null);
		const seen = new Set<string>();
		let totalCents = 0;
		body.payment.items.forEach((line, i) => {
			if (line.deposit === false) return;
			const path = `payment.items[${i}]`;
			const payment = this.#records.get(line.id);
			if (!payment || (payment.type !== "customerDeposit" && payment.type !== "cashSale")) refuse(invalidValue("id", `${path}.id`));
			if (payment.fields.undepFunds !== true) refuse(detail("USER_ERROR", `Payment ${line.id} was not recorded to Undeposited Funds and cannot be deposited.`, `${path}.id`)); // sandbox wording
			const other = taken.get(line.id);
			if (other !== undefined || seen.has(line.id)) {
				refuse(detail("USER_ERROR", `Payment ${line.id} has already been deposited${other ? ` (deposit ${other})` : ""}.`, `${path}.id`)); // sandbox wording
			}
			seen.add(line.id);
			if (toCents(line.paymentAmount) !== payment.totalCents) {
				refuse(detail("INVALID_VALUE", `The payment amount ${line.paymentAmount} does not equal the amount of payment ${line.id} (${fromCents(payment.totalCents ?? 0)}).`, `${path}.paymentAmount`)); // sandbox wording
			}
			totalCents += toCents(line.paymentAmount);
		});
		for (const line of body.other?.items ?? []) totalCents += toCents(line.amount);
		for (const line of body.cashBack?.items ?? []) totalCents -= toCents(line.amount);
		const payment = { items: body.payment.items.map((line) => ({ ...line, deposit: line.deposit ?? true })) };
		return { fields: { ...body, payment }, totalCents };
	}

	/** Payment id → the deposit that holds it, leaving out `except` (the deposit being rewritten). */
	#depositedPayments(except: string | null): Map<string, string> {
		const taken = new Map<string, string>();
		for (const record of this.#records.values()) {
			if (record.type !== "deposit" || record.id === except) continue;
			for (const line of (record.fields.payment as { items: Array<{ id: string; deposit: boolean }> }).items) if (line.deposit) taken.set(line.id, record.id);
		}
		return taken;
	}

	#checkCustomer(id: string, path: string): void {
		if (!this.#customers.has(id)) refuse(invalidValue(path, path));
	}

	// ---- Transforms ------------------------------------------------------------------------------

	/**
	 * salesOrder → itemFulfillment / invoice, cashSale → cashRefund: the new record copies the
	 * listed source lines (`orderLine`, 1-based) with the quantities given. A fulfilment or bill
	 * cannot exceed what is left on a line, nor touch a closed line.
	 */
	#transform(url: URL, fromType: TransactionType, id: string, toType: string, body: Json): Response {
		const counter = TRANSFORMS[`${fromType}>${toType}`];
		if (!counter || !isTransactionType(toType)) {
			return nsError(400, [detail("USER_ERROR", `Transformation of ${fromType} into ${toType} is not supported.`)]); // sandbox wording
		}
		const source = this.#find(fromType, id);
		if (!source) return nonexistent();
		const request = parse(Transform, body);
		const externalId = request.externalId ?? null;
		this.#checkNewExternalId(toType, externalId);
		const sourceLines = (source.fields.item as { items: Json[] }).items;
		const picked = request.item.items.map((want, i) => {
			const line = sourceLines.find((l) => l.line === want.orderLine);
			if (!line) refuse(invalidValue("orderLine", `item.items[${i}].orderLine`));
			const left = Number(line.quantity) - Number(line[counter] ?? 0);
			if (line.isClosed === true) refuse(detail("USER_ERROR", `Line ${want.orderLine} of the ${fromType} is closed.`, `item.items[${i}].orderLine`)); // sandbox wording
			if (want.quantity > left) refuse(detail("USER_ERROR", `Only ${left} of line ${want.orderLine} remain to be processed.`, `item.items[${i}].quantity`)); // sandbox wording
			return { source: line, quantity: want.quantity };
		});
		const { item: _item, externalId: _eid, ...given } = request;
		const entity = source.fields.entity;
		let totalCents: number | null = toType === "itemFulfillment" ? null : 0;
		const items = picked.map(({ source: line, quantity }, i) => {
			const copy: Json = { line: i + 1, orderLine: line.line, item: line.item, quantity, description: line.description };
			if (totalCents !== null) {
				const cents = lineAmountFor(line, quantity);
				copy.rate = line.rate;
				copy.amount = fromCents(cents);
				totalCents += cents;
			}
			return copy;
		});
		for (const { source: line, quantity } of picked) line[counter] = Number(line[counter] ?? 0) + quantity;
		const fields: Json = { ...given, entity, tranDate: request.tranDate ?? new Date().toISOString().slice(0, 10), item: { items } };
		if (toType === "cashRefund" && source.fields.account) fields.account ??= source.fields.account;
		return this.#created(url, this.#store(toType, externalId, { fields, totalCents, createdFrom: source.id }));
	}

	// ---- SuiteQL ---------------------------------------------------------------------------------

	#suiteql(request: Request, url: URL, body: unknown): Response {
		// NetSuite runs SuiteQL over REST only with this header.
		if (request.headers.get("Prefer")?.toLowerCase() !== "transient") {
			return nsError(400, [{ ...detail("INVALID_HEADER", "The request header 'Prefer' must be 'transient' for a SuiteQL query."), "o:errorHeader": "Prefer" }]); // sandbox wording
		}
		const { q } = parse(z.object({ q: z.string() }), body);
		const names = itemQueryNames(q);
		if (!names) {
			return nsError(400, [detail("USER_ERROR", "Invalid search query. Detailed unprocessed description follows. The sandbox answers only SELECT id, itemid FROM item WHERE itemid IN (...) or = '...'.", "q")]);
		}
		const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get("limit") ?? 1000) || 1000));
		const offset = Math.max(0, Number(url.searchParams.get("offset") ?? 0) || 0);
		const rows = [...this.#items.values()]
			.filter((item) => names.includes(item.itemid))
			.sort((a, b) => Number(a.id) - Number(b.id))
			.map((item) => ({ links: [], id: item.id, itemid: item.itemid }));
		const page = rows.slice(offset, offset + limit);
		return this.#json({ links: [], count: page.length, hasMore: offset + page.length < rows.length, offset, totalResults: rows.length, items: page }, "collection");
	}

	// ---- Views -----------------------------------------------------------------------------------

	#base(url: URL): string {
		return `${url.origin}/netsuite/services/rest/record/v1`;
	}

	#self(url: URL, type: string, id: string) {
		return { rel: "self", href: `${this.#base(url)}/${type}/${id}` };
	}

	#created(url: URL, record: Stored): Response {
		return new Response(null, { status: 204, headers: { Location: `${this.#base(url)}/${record.type}/${record.id}` } });
	}

	#json(body: unknown, kind = "singular-resource"): Response {
		return new Response(JSON.stringify(body), { headers: { "Content-Type": `application/vnd.oracle.resource+json; type=${kind}; charset=UTF-8` } });
	}

	#view(record: Stored, url: URL): Json {
		return {
			links: [this.#self(url, record.type, record.id)],
			id: record.id,
			...(record.externalId !== null ? { externalId: record.externalId } : {}),
			...record.fields,
			...(record.totalCents !== null && record.type !== "customerDeposit" ? { total: fromCents(record.totalCents) } : {}),
			...(record.createdFrom !== null ? { createdFrom: { id: record.createdFrom, refName: this.#records.get(record.createdFrom)?.type } } : {}),
			createdDate: record.created,
			lastModifiedDate: record.modified,
		};
	}

	// ---- Controls ----------------------------------------------------------------------------------

	#addItem(item: Item): Item {
		this.#items.set(item.id, item);
		return item;
	}

	/** Test and demo controls, no auth: read what NetSuite holds, add items, tune the account's limits. */
	async #control(request: Request, url: URL): Promise<Response> {
		const path = url.pathname.slice("/sandbox/netsuite".length);
		const input: unknown = request.method === "GET" || request.method === "DELETE" ? {} : await request.json().catch(() => ({}));
		const recordMatch = /^\/records\/([A-Za-z]+)\/(\d+)$/.exec(path);
		if (recordMatch && request.method === "GET") {
			const record = this.#records.get(recordMatch[2]!);
			if (!record || record.type !== recordMatch[1]) return Response.json({ error: "no such record" }, { status: 404 });
			return Response.json({ record: this.#view(record, url) });
		}
		switch (`${request.method} ${path}`) {
			case "GET /records": {
				const type = url.searchParams.get("type");
				const externalId = url.searchParams.get("externalId");
				const records = [...this.#records.values()].filter((r) => (!type || r.type === type) && (!externalId || r.externalId === externalId));
				return Response.json({ records: records.map((r) => this.#view(r, url)) });
			}
			case "GET /items":
				return Response.json({ items: [...this.#items.values()] });
			case "POST /items":
				return this.#controlAddItem(input);
			case "GET /stats":
				return Response.json(this.#statsView());
			case "DELETE /stats":
				this.#stats = { maxInFlight: 0, rejected429: 0, requests: 0 };
				return Response.json(this.#statsView());
			case "POST /config": {
				const parsed = Config.safeParse(input);
				if (!parsed.success) return Response.json({ error: z.prettifyError(parsed.error) }, { status: 400 });
				this.#limit = parsed.data.concurrencyLimit ?? this.#limit;
				this.#latencyMs = parsed.data.latencyMs ?? this.#latencyMs;
				return Response.json(this.#statsView());
			}
			case "GET /calls": {
				const match = url.searchParams.get("match") ?? "";
				return Response.json({ calls: this.#calls.filter((c) => c.path.includes(match)) });
			}
			default:
				return Response.json({ error: "Not Found" }, { status: 404 });
		}
	}

	#controlAddItem(input: unknown): Response {
		const parsed = NewItem.safeParse(input);
		if (!parsed.success) return Response.json({ error: z.prettifyError(parsed.error) }, { status: 400 });
		const { itemid, id } = parsed.data;
		const existing = [...this.#items.values()].find((item) => item.itemid === itemid);
		if (existing) return id === undefined || id === existing.id ? Response.json({ item: existing }) : Response.json({ error: `${itemid} is item ${existing.id}` }, { status: 409 });
		if (id !== undefined && this.#items.has(id)) return Response.json({ error: `item ${id} exists` }, { status: 409 });
		let next = 113;
		while (this.#items.has(String(next))) next++;
		return Response.json({ item: this.#addItem({ id: id ?? String(next), itemid, type: "inventoryItem" }) }, { status: 201 });
	}

	#statsView() {
		return { ...this.#stats, limit: this.#limit, latencyMs: this.#latencyMs, inFlight: this.#inFlight };
	}
}

type Prepared = { fields: Json; totalCents: number | null; createdFrom?: string };

/** `eid:shopify-demo%3A1001` → `eid:shopify-demo:1001`; a malformed escape is kept as sent. */
function decodeKey(key: string): string {
	try {
		return decodeURIComponent(key);
	} catch {
		return key;
	}
}

/** Which source-line counter each transform consumes (NetSuite's own field names where it has them). */
const TRANSFORMS: Record<string, string> = {
	"salesOrder>itemFulfillment": "quantityFulfilled",
	"salesOrder>invoice": "quantityBilled",
	"cashSale>cashRefund": "quantityRefunded",
};

/** A copied line's amount: rate × quantity, or for a line without a rate (shipping, discount, tax) its amount pro rata. */
function lineAmountFor(line: Json, quantity: number): number {
	if (typeof line.rate === "number") return Math.round(toCents(line.rate) * quantity);
	return Math.round((toCents(Number(line.amount)) * quantity) / Number(line.quantity));
}

/** A rewritten record keeps what was already fulfilled, billed or refunded on each line number. */
function keepLineTracking(previous: Json, next: Json): Json {
	const before = (previous.item as { items?: Json[] } | undefined)?.items ?? [];
	const items = (next.item as { items?: unknown } | undefined)?.items;
	if (!Array.isArray(items) || next.item === previous.item) return next;
	const counters = Object.values(TRANSFORMS);
	const tracked = items.map((line: Json, i) => {
		const old = before.find((l) => l.line === (line.line ?? i + 1));
		const kept = Object.fromEntries(counters.filter((c) => old?.[c] !== undefined).map((c) => [c, old![c]]));
		return { ...kept, line: line.line ?? i + 1, ...line };
	});
	return { ...next, item: { ...(next.item as Json), items: tracked } };
}
