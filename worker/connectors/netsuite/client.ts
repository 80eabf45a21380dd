import { z } from "zod";
import { type CallFailure, type CallResult, send } from "../call";
import { type NetSuite, netsuiteBase } from "./account";
import { tbaAuthorization } from "./tba";

/**
 * SuiteTalk REST (record API v1 and SuiteQL), as ordersync uses it: every write is an upsert by
 * external id (`PUT /record/v1/<type>/eid:<externalId>`) or a transform whose result carries an
 * external id that is read back first, so a retry after a lost answer never books a second
 * transaction.
 *
 * Every request is signed with Token-Based Authentication (OAuth 1.0a, HMAC-SHA256, realm = the
 * account id). Errors come as `{type, title, status, "o:errorDetails": [{detail, o:errorCode,
 * o:errorPath}]}`; 429 (the account's concurrency limit) and 5xx are retryable, the rest are not.
 */

type Options = { timeoutMs: number };
export type { CallResult };

const RECORD = "/services/rest/record/v1";

const ErrorBody = z.looseObject({
	title: z.string().optional(),
	status: z.number().optional(),
	"o:errorDetails": z.array(z.looseObject({ detail: z.string().optional(), "o:errorCode": z.string().optional(), "o:errorPath": z.string().optional() })).optional(),
});

type Reply = { ok: true; status: number; body: unknown; location: string | null };

/** One signed call; 404 comes back as a reply, so lookups can say "not there". */
async function call(account: NetSuite, method: "GET" | "POST" | "PUT" | "PATCH", path: string, options: Options, body?: unknown, headers: Record<string, string> = {}): Promise<Reply | CallFailure> {
	const url = `${netsuiteBase(account)}${path}`;
	const { consumerKey, consumerSecret, tokenId, tokenSecret } = account.credentials;
	const authorization = await tbaAuthorization({ method, url, realm: account.accountId, consumerKey, consumerSecret, tokenId, tokenSecret });
	const label = `NetSuite ${method} ${path.split("?")[0]}`;
	const result = await send(
		url,
		{
			method,
			headers: { Authorization: authorization, Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
			body: body === undefined ? undefined : JSON.stringify(body),
		},
		{ timeoutMs: options.timeoutMs, readable: (status) => status === 404 },
	);
	if (!result.ok) {
		// The concurrency limit is retryable whatever status carries it (some proxies answer it as 400).
		const retryable = result.retryable || result.error.includes("CONCURRENCY_LIMIT_EXCEEDED");
		return { ...result, retryable, error: `${label}: ${describe(result.error)}` };
	}
	const text = await result.response.text();
	let parsed: unknown = null;
	if (text) {
		try {
			parsed = JSON.parse(text);
		} catch {
			return { ok: false, retryable: false, error: `${label}: answer is not JSON` };
		}
	}
	return { ok: true, status: result.response.status, body: parsed, location: result.response.headers.get("Location") };
}

/** "404: {json}" → "404 NONEXISTENT_ID item.items[0].item: detail" — the part an operator can act on. */
function describe(error: string): string {
	const match = /^(\d{3}): (.*)$/s.exec(error);
	if (!match) return error;
	try {
		const body = ErrorBody.parse(JSON.parse(match[2]!));
		const first = body["o:errorDetails"]?.[0];
		if (first) return [match[1], first["o:errorCode"], first["o:errorPath"], first.detail && `— ${first.detail}`].filter(Boolean).join(" ");
	} catch {
		// Not NetSuite's shape (a proxy's page): keep the text.
	}
	return error;
}

/** The internal id at the end of a `Location` header (…/record/v1/salesOrder/123). */
function idFrom(location: string | null): string | null {
	const match = location ? /\/(\d+)\/?$/.exec(location) : null;
	return match ? match[1]! : null;
}

export type RecordRef = { type: string; id: string };

/** Creates or updates the record with this external id; answers its internal id. */
export async function upsert(account: NetSuite, type: string, externalId: string, body: Record<string, unknown>, options: Options): Promise<CallResult<RecordRef>> {
	const reply = await call(account, "PUT", `${RECORD}/${type}/eid:${encodeURIComponent(externalId)}`, options, { ...body, externalId });
	if (!reply.ok) return reply;
	if (reply.status === 404) return { ok: false, retryable: false, error: `NetSuite PUT ${type}: 404` };
	const id = idFrom(reply.location) ?? (await findByExternalId(account, type, externalId, options).then((r) => (r.ok ? r.value?.id : null)));
	return id ? { ok: true, value: { type, id } } : { ok: false, retryable: true, error: `NetSuite PUT ${type}/eid:${externalId}: no record id in the answer` };
}

/** The record with this external id, or null when there is none. */
export async function findByExternalId(account: NetSuite, type: string, externalId: string, options: Options): Promise<CallResult<(Record<string, unknown> & { id: string }) | null>> {
	const reply = await call(account, "GET", `${RECORD}/${type}/eid:${encodeURIComponent(externalId)}?expandSubResources=true`, options);
	if (!reply.ok) return reply;
	if (reply.status === 404) return { ok: true, value: null };
	const record = reply.body as Record<string, unknown> & { id?: unknown };
	return typeof record?.id === "string" ? { ok: true, value: record as Record<string, unknown> & { id: string } } : { ok: false, retryable: false, error: `NetSuite GET ${type}: record without an id` };
}

/**
 * Turns one record into another (sales order → item fulfilment or invoice, cash sale → cash
 * refund). A transform is a create, so the result's external id is looked up first: a retry finds
 * what the lost attempt made.
 */
export async function transform(account: NetSuite, from: RecordRef, toType: string, externalId: string, body: Record<string, unknown>, options: Options): Promise<CallResult<RecordRef>> {
	const existing = await findByExternalId(account, toType, externalId, options);
	if (!existing.ok) return existing;
	if (existing.value) return { ok: true, value: { type: toType, id: existing.value.id } };
	const reply = await call(account, "POST", `${RECORD}/${from.type}/${from.id}/!transform/${toType}`, options, { ...body, externalId });
	if (!reply.ok) return reply;
	if (reply.status === 404) return { ok: false, retryable: false, error: `NetSuite: ${from.type} ${from.id} is not there to transform` };
	const id = idFrom(reply.location);
	return id ? { ok: true, value: { type: toType, id } } : { ok: false, retryable: true, error: `NetSuite transform to ${toType}: no record id in the answer` };
}

export async function patch(account: NetSuite, ref: RecordRef, body: Record<string, unknown>, options: Options): Promise<CallResult<RecordRef>> {
	const reply = await call(account, "PATCH", `${RECORD}/${ref.type}/${ref.id}`, options, body);
	if (!reply.ok) return reply;
	return reply.status === 404 ? { ok: false, retryable: false, error: `NetSuite PATCH ${ref.type}/${ref.id}: 404` } : { ok: true, value: ref };
}

const SuiteQlItems = z.object({ items: z.array(z.looseObject({ id: z.string(), itemid: z.string() })) });

/** Per isolate: item ids change rarely, and a wrong one fails loudly at NetSuite. */
const itemCache = new Map<string, string>();

/**
 * Item internal ids for these SKUs: the configured mapping first, then the cache, then one SuiteQL
 * query for the rest. A SKU NetSuite does not know is a permanent failure naming it.
 */
export async function itemIds(account: NetSuite, skus: string[], options: Options): Promise<CallResult<Map<string, string>>> {
	const found = new Map<string, string>();
	const missing: string[] = [];
	for (const sku of new Set(skus)) {
		const id = account.items[sku] ?? itemCache.get(`${account.accountId}:${sku}`);
		if (id) found.set(sku, id);
		else missing.push(sku);
	}
	if (missing.length === 0) return { ok: true, value: found };
	const list = missing.map((sku) => `'${sku.replace(/'/g, "''")}'`).join(", ");
	const reply = await call(account, "POST", "/services/rest/query/v1/suiteql", options, { q: `SELECT id, itemid FROM item WHERE itemid IN (${list})` }, { Prefer: "transient" });
	if (!reply.ok) return reply;
	const parsed = SuiteQlItems.safeParse(reply.body);
	if (!parsed.success) return { ok: false, retryable: false, error: "NetSuite SuiteQL: unexpected answer" };
	for (const row of parsed.data.items) {
		itemCache.set(`${account.accountId}:${row.itemid}`, row.id);
		if (missing.includes(row.itemid)) found.set(row.itemid, row.id);
	}
	const unknown = missing.filter((sku) => !found.has(sku));
	if (unknown.length > 0) return { ok: false, retryable: false, error: `NetSuite has no item named ${unknown.join(", ")} (add it, or map it in ERP.items)` };
	return { ok: true, value: found };
}
