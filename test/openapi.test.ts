import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { requireAdmin, requireOps, requireRead } from "../worker/auth";
import { InventoryDeltas, InventorySnapshot, ReturnReceipts, StockAdjustment } from "../worker/model/inventory";
import { openApiDocument } from "../worker/openapi";
import { router } from "../worker/router";
import { AvailabilityQuery } from "../worker/routes/inventory";
import { BulkReplay, RetryBody } from "../worker/routes/ops";
import { DataRequestBody, RedactionBody } from "../worker/routes/privacy";
import { SyncBody } from "../worker/routes/settlements";
import pkg from "../package.json";
import { CONNECTION, call, deliver, newOrderId, ops, order, uniqueSku } from "./helpers";

type Schema = { [keyword: string]: any };
type Doc = { openapi: string; info: Schema; paths: Record<string, Record<string, Schema>>; components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Schema> } };

const doc = openApiDocument() as unknown as Doc;

// --- A small JSON Schema (2020-12) checker: just the keywords the document uses (asserted below). ---

const CHECKED = new Set([
	"$ref", "type", "enum", "const", "properties", "required", "additionalProperties", "propertyNames", "items",
	"minItems", "maxItems", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "anyOf", "oneOf", "allOf",
]);
/** Keywords that only annotate. */
const ANNOTATIONS = new Set(["description", "default", "format", "title", "examples"]);

function resolve(schema: Schema): Schema {
	if (typeof schema.$ref !== "string") return schema;
	const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
	const target = name === undefined ? undefined : doc.components.schemas[name];
	if (!target) throw new Error(`unresolved $ref ${schema.$ref}`);
	return target;
}

function typeOf(value: unknown): string {
	if (value === null) return "null";
	if (Array.isArray(value)) return "array";
	if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
	return typeof value;
}

/** Where `value` breaks `schema`: an empty list when it conforms. */
function violations(schema: Schema, value: unknown, at = "$"): string[] {
	if (schema.$ref) return violations(resolve(schema), value, at);
	const out: string[] = [];
	const kind = typeOf(value);
	if (schema.type !== undefined) {
		const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
		if (!types.some((t) => t === kind || (t === "number" && kind === "integer"))) return [`${at}: ${kind} is not ${types.join("|")}`];
	}
	if (schema.enum && !schema.enum.includes(value)) out.push(`${at}: ${JSON.stringify(value)} not in enum`);
	if ("const" in schema && schema.const !== value) out.push(`${at}: not ${JSON.stringify(schema.const)}`);
	if (typeof value === "number") {
		if (schema.minimum !== undefined && value < schema.minimum) out.push(`${at}: below minimum`);
		if (schema.maximum !== undefined && value > schema.maximum) out.push(`${at}: above maximum`);
		if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) out.push(`${at}: not above exclusiveMinimum`);
		if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) out.push(`${at}: not below exclusiveMaximum`);
	}
	if (typeof value === "string") {
		const length = [...value].length;
		if (schema.minLength !== undefined && length < schema.minLength) out.push(`${at}: shorter than ${schema.minLength}`);
		if (schema.maxLength !== undefined && length > schema.maxLength) out.push(`${at}: longer than ${schema.maxLength}`);
		if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) out.push(`${at}: does not match ${schema.pattern}`);
	}
	if (Array.isArray(value)) {
		if (schema.minItems !== undefined && value.length < schema.minItems) out.push(`${at}: fewer than ${schema.minItems} items`);
		if (schema.maxItems !== undefined && value.length > schema.maxItems) out.push(`${at}: more than ${schema.maxItems} items`);
		if (schema.items) value.forEach((item, i) => out.push(...violations(schema.items, item, `${at}[${i}]`)));
	}
	if (kind === "object") {
		const object = value as Record<string, unknown>;
		for (const name of schema.required ?? []) if (!(name in object)) out.push(`${at}.${name}: required`);
		for (const [name, field] of Object.entries(object)) {
			const declared = schema.properties?.[name];
			if (declared) out.push(...violations(declared, field, `${at}.${name}`));
			else if (schema.additionalProperties === false) out.push(`${at}.${name}: not allowed`);
			else if (schema.additionalProperties && typeof schema.additionalProperties === "object") out.push(...violations(schema.additionalProperties, field, `${at}.${name}`));
		}
	}
	if (schema.allOf) for (const part of schema.allOf) out.push(...violations(part, value, at));
	if (schema.anyOf && !schema.anyOf.some((part: Schema) => violations(part, value, at).length === 0)) out.push(`${at}: matches none of anyOf`);
	if (schema.oneOf && schema.oneOf.filter((part: Schema) => violations(part, value, at).length === 0).length !== 1) out.push(`${at}: does not match exactly one of oneOf`);
	return out;
}

/** Every schema object in the document (components, parameters, bodies, responses). */
function* schemasIn(node: unknown, key = ""): Generator<Schema> {
	if (node === null || typeof node !== "object") return;
	if (key === "schema" || key === "items" || key === "additionalProperties" || key === "propertyNames") yield node as Schema;
	if (key === "schemas") {
		for (const schema of Object.values(node)) yield* schemasIn(schema, "schema");
		return;
	}
	if (key === "properties") {
		for (const schema of Object.values(node)) yield* schemasIn(schema, "schema");
		return;
	}
	if (key === "anyOf" || key === "oneOf" || key === "allOf") {
		for (const schema of node as unknown[]) yield* schemasIn(schema, "schema");
		return;
	}
	for (const [k, v] of Object.entries(node)) yield* schemasIn(v, k);
}

function operation(method: string, path: string): Schema {
	const op = doc.paths[path]?.[method];
	if (!op) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
	return op;
}

function responseSchema(method: string, path: string, status: number): Schema {
	const schema = operation(method, path).responses[String(status)]?.content?.["application/json"]?.schema;
	if (!schema) throw new Error(`${method.toUpperCase()} ${path} documents no JSON ${status}`);
	return schema;
}

/** Checks a real answer against what the document says that operation answers with that status. */
async function conforms(method: string, path: string, response: Response): Promise<Schema> {
	const body = (await response.json()) as Schema;
	expect(violations(responseSchema(method, path, response.status), body), `${method.toUpperCase()} ${path} ${response.status}: ${JSON.stringify(body).slice(0, 300)}`).toEqual([]);
	return body;
}

/** The router's routes in OpenAPI form, without the catch-all. */
function routes() {
	return router.routes
		.filter(([method, , , path]) => !(method === "ALL" && path === "*"))
		.map(([method, , handlers, path]) => ({ method: method.toLowerCase(), path: (path ?? "").replace(/:(\w+)/g, "{$1}"), handlers: handlers as unknown[] }));
}

describe("GET /openapi.json", () => {
	it("serves an OpenAPI 3.1 document as cacheable public JSON", async () => {
		const response = await call("/openapi.json");
		expect(response.status).toBe(200);
		expect(response.headers.get("Content-Type")).toMatch(/^application\/json\b/);
		expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");
		expect(response.headers.get("Cache-Control")).toMatch(/max-age=\d+/);
		const served = (await response.json()) as Doc;
		expect(served).toEqual(JSON.parse(JSON.stringify(doc)));
		expect(served.openapi).toMatch(/^3\.1\.\d+$/);
		expect(served.info).toMatchObject({ title: "ordersync", version: pkg.version });
		expect(Object.keys(served.paths).length).toBeGreaterThan(20);
		// Built once per isolate: the same object every time.
		expect(openApiDocument()).toBe(openApiDocument());
	});

	it("gives every operation a unique id, a summary and a successful answer; every $ref resolves", () => {
		const ids = new Set<string>();
		for (const [path, item] of Object.entries(doc.paths)) {
			for (const [method, op] of Object.entries(item)) {
				const label = `${method.toUpperCase()} ${path}`;
				expect(op.operationId, label).toMatch(/^\w+$/);
				expect(ids.has(op.operationId), `${label}: duplicate operationId`).toBe(false);
				ids.add(op.operationId);
				expect(op.summary, label).toBeTruthy();
				expect(Object.keys(op.responses).some((status) => /^[12]\d\d$/.test(status)), label).toBe(true);
				for (const [status, response] of Object.entries(op.responses as Record<string, Schema>)) {
					if (Number(status) >= 400) expect(response.content["application/json"].schema, `${label} ${status}`).toEqual({ $ref: "#/components/schemas/Error" });
				}
				for (const param of op.parameters ?? []) {
					if (param.in === "path") expect(path, label).toContain(`{${param.name}}`);
				}
				for (const requirement of op.security ?? []) for (const scheme of Object.keys(requirement)) expect(doc.components.securitySchemes, label).toHaveProperty(scheme);
			}
		}
		const text = JSON.stringify(doc);
		for (const [, name] of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) expect(doc.components.schemas, `$ref ${name}`).toHaveProperty(name!);
		expect(text).not.toContain('"$ref":"#/$defs');
		// The checker below understands every keyword the document's schemas use.
		const unknown = new Set<string>();
		for (const schema of schemasIn(doc)) for (const keyword of Object.keys(schema)) if (!CHECKED.has(keyword) && !ANNOTATIONS.has(keyword)) unknown.add(keyword);
		expect([...unknown]).toEqual([]);
		const formats = [...schemasIn(doc)].map((schema) => schema.format).filter((format) => format !== undefined);
		expect(formats.filter((format) => !["date-time", "date", "email", "uri", "uuid"].includes(format))).toEqual([]);
	});

	it("documents every route the router has, and no operation without a route", () => {
		const routed = routes().map((r) => `${r.method.toUpperCase()} ${r.path}`);
		const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
		expect(routed.filter((r) => !documented.includes(r)), "routes with no operation in worker/openapi.ts").toEqual([]);
		expect(documented.filter((d) => !routed.includes(d)), "operations with no route").toEqual([]);
		expect(routed.length).toBeGreaterThan(20);
	});

	it("asks each route for the ops token scope its guard checks, and webhooks for their own signatures", () => {
		for (const { method, path, handlers } of routes()) {
			const op = operation(method, path);
			const role = handlers.includes(requireAdmin) ? "admin" : handlers.includes(requireOps) ? "operator" : handlers.includes(requireRead) ? "read" : null;
			const label = `${method.toUpperCase()} ${path}`;
			if (role) {
				expect(op.security, label).toEqual([{ opsToken: [role] }]);
				expect(op.responses, label).toHaveProperty("401");
				if (role !== "read") expect(op.responses, label).toHaveProperty("403");
				else expect(op.responses, label).not.toHaveProperty("403");
			} else {
				// No guard: anonymous callers get through (an ops token may be optional, never required).
				const security: Schema[] = op.security ?? [{}];
				expect(security.some((requirement) => Object.keys(requirement).length === 0 || !("opsToken" in requirement)), label).toBe(true);
				expect(op.responses, label).not.toHaveProperty("403");
			}
			if (path.startsWith("/webhooks/")) {
				const headers = (op.parameters ?? []).filter((p: Schema) => p.in === "header").length;
				expect(headers > 0 || (op.security ?? []).length > 0, `${label}: its signature is documented`).toBe(true);
			}
		}
	});
});

describe("request schemas", () => {
	const snapshot = {
		source: "wms-east",
		asOf: "2026-11-27T08:00:00Z",
		items: [
			{ sku: "snap-a", location: "east", onHand: 5 },
			{ sku: "snap-a", location: "west", onHand: 2 },
		],
	};
	const cases: Array<[string, z.ZodType, unknown[]]> = [
		[
			"/v1/inventory/snapshots",
			InventorySnapshot,
			[
				snapshot,
				{ ...snapshot, extra: "ignored" },
				{ ...snapshot, asOf: "yesterday" },
				{ ...snapshot, asOf: "2026-11-27T08:00:00+02:00" },
				{ ...snapshot, items: [{ sku: "a", location: "e", onHand: -1 }] },
				{ ...snapshot, items: [{ sku: "a", location: "e", onHand: 1.5 }] },
				{ ...snapshot, items: [{ sku: "", location: "e", onHand: 1 }] },
				{ ...snapshot, items: [] },
				{ ...snapshot, source: 5 },
				{ asOf: snapshot.asOf, items: snapshot.items },
			],
		],
		[
			"/v1/inventory/deltas",
			InventoryDeltas,
			[
				{ source: "feed", items: [{ sku: "d", location: "east", delta: -2, seq: 1, reason: "pick" }] },
				{ source: "feed", items: [{ sku: "d", location: "east", delta: 3, seq: 0 }] },
				{ source: "feed", items: [{ sku: "d", location: "east", delta: 3, seq: -1 }] },
				{ source: "feed", items: [{ sku: "d", location: "east", delta: "3", seq: 1 }] },
				{ source: "feed", items: [{ sku: "d", location: "east", delta: 3 }] },
			],
		],
		[
			"/v1/inventory/returns",
			ReturnReceipts,
			[
				{ source: "rma", items: [{ receiptId: "r1", sku: "s", location: "east", quantity: 1, orderKey: "shopify-demo:1" }] },
				{ source: "rma", items: [{ receiptId: "r1", sku: "s", location: "east", quantity: 0 }] },
				{ source: "rma", items: [{ sku: "s", location: "east", quantity: 1 }] },
			],
		],
		[
			"/ops/skus/{sku}/adjustments",
			StockAdjustment,
			[
				{ location: "east", delta: -1, operator: "ana", reason: "damaged" },
				{ location: "east", delta: -1, operator: "ana", reason: "" },
				{ location: "east", delta: 1.5, operator: "ana", reason: "found" },
			],
		],
		[
			"/ops/privacy/redactions",
			RedactionBody,
			[
				{ connection: "shopify-demo", customer: { email: "ada@example.com" } },
				{ connection: "shopify-demo", orders: [1001, "1002"], shop: true },
				{ connection: "shopify-demo", customer: { email: "ada@example.com", name: "Ada" } },
				{ connection: "shopify-demo", shop: false },
				{ connection: "", orders: [1] },
				{ orders: [1] },
			],
		],
		[
			"/ops/privacy/data-requests",
			DataRequestBody,
			[{ connection: "shopify-demo", customer: { phone: "+15035550100" } }, { connection: "shopify-demo", orders: [-1] }, { connection: "shopify-demo", orders: [1], shop: true }],
		],
		["/ops/exceptions/replay", BulkReplay, [{ ids: ["a", "b"] }, { kind: "quarantine", text: "#1001" }, { ids: [] }, { ids: [""] }, { kind: 3 }]],
		["/ops/exceptions/{id}/replay", RetryBody, [{}, { payload: { quantity: 2 } }, { payload: 2 }, { payload: {}, other: 1 }]],
		[
			"/ops/settlements/{connection}/sync",
			SyncBody,
			[{ payoutId: "p-1" }, { since: "2026-11-01T00:00:00Z" }, { since: "2026-11-01T00:00:00+01:00" }, { since: "November" }, { payoutId: "" }],
		],
	];

	for (const [path, zod, examples] of cases) {
		it(`POST ${path} takes exactly what its zod schema takes`, () => {
			const schema = operation("post", path).requestBody.content["application/json"].schema;
			let accepted = 0;
			for (const example of examples) {
				const expected = zod.safeParse(example).success;
				expect(violations(schema, example).length === 0, `${JSON.stringify(example)}: ${violations(schema, example).join("; ")}`).toBe(expected);
				if (expected) accepted++;
			}
			// Both kinds of example: the cases prove something either way.
			expect(accepted).toBeGreaterThan(0);
			expect(accepted).toBeLessThan(examples.length);
		});
	}

	it("GET /v1/availability's ?sku= takes 1 to 100 SKUs, as the route does", () => {
		const sku = operation("get", "/v1/availability").parameters.find((p: Schema) => p.name === "sku");
		expect(sku).toMatchObject({ in: "query", required: true, explode: true });
		for (const skus of [[], ["a"], Array.from({ length: 100 }, (_, i) => `s${i}`), Array.from({ length: 101 }, (_, i) => `s${i}`), [""]]) {
			expect(violations(sku.schema, skus).length === 0, `${skus.length} SKUs`).toBe(AvailabilityQuery.safeParse(skus).success);
		}
	});
});

describe("responses as documented", () => {
	it("the checker catches a body that breaks its schema", () => {
		const error = { $ref: "#/components/schemas/Error" };
		expect(violations(error, { error: { code: "x", message: "y" } })).toEqual([]);
		expect(violations(error, { error: { code: 1, message: "y" } })).not.toEqual([]);
		expect(violations(error, { error: { code: "x" } })).not.toEqual([]);
	});

	it("inventory, availability and ledger answers fit their schemas", async () => {
		const sku = uniqueSku("oas");
		const stocked = await ops("/v1/inventory/snapshots", { method: "POST", body: JSON.stringify({ source: "oas-wms", asOf: new Date().toISOString(), items: [{ sku, location: "east", onHand: 4 }] }) });
		expect(stocked.status).toBe(200);
		await conforms("post", "/v1/inventory/snapshots", stocked);
		await conforms("post", "/v1/inventory/deltas", await ops("/v1/inventory/deltas", { method: "POST", body: JSON.stringify({ source: "oas-feed", items: [{ sku, location: "east", delta: -1, seq: 5 }] }) }));
		await conforms("post", "/v1/inventory/returns", await ops("/v1/inventory/returns", { method: "POST", body: JSON.stringify({ source: "oas-rma", items: [{ receiptId: `${sku}-r`, sku, location: "east", quantity: 1 }] }) }));
		const adjusted = await conforms("post", "/ops/skus/{sku}/adjustments", await ops(`/ops/skus/${sku}/adjustments`, { method: "POST", body: JSON.stringify({ location: "east", delta: -1, operator: "oas", reason: "recount" }) }));
		const live = await conforms("get", "/v1/availability", await call(`/v1/availability?sku=${sku}&sku=${uniqueSku("none")}`));
		expect(live.items[0]).toMatchObject({ sku, onHand: adjusted.onHand });
		await conforms("get", "/ops/skus/{sku}", await ops(`/ops/skus/${sku}`));
	});

	it("ops answers fit their schemas", async () => {
		for (const path of ["/ops/whoami", "/ops/flows?limit=20", "/ops/exceptions?status=all", "/ops/destinations", "/ops/settlements", "/ops/metrics", "/ops/sweeps"]) {
			const response = await ops(path);
			expect(response.status, path).toBe(200);
			await conforms("get", path.split("?")[0]!, response);
		}
		await conforms("get", "/health", await call("/health"));
	});

	it("privacy requests fit their schemas", async () => {
		const admin = (path: string, init: RequestInit = {}) => call(path, { ...init, headers: { Authorization: `Bearer ${env.OPS_ADMIN_TOKEN as string}` } });
		const nobody = `oas-none-${newOrderId()}`;
		const exported = await admin("/ops/privacy/data-requests", { method: "POST", body: JSON.stringify({ connection: CONNECTION, orders: [nobody] }) });
		expect(exported.status).toBe(200);
		const request = await conforms("post", "/ops/privacy/data-requests", exported);
		await conforms("get", "/ops/privacy/requests/{id}", await admin(`/ops/privacy/requests/${encodeURIComponent(request.id)}`));
		const redaction = await admin("/ops/privacy/redactions", { method: "POST", body: JSON.stringify({ connection: CONNECTION, orders: [nobody] }) });
		expect(redaction.status).toBe(202);
		await conforms("post", "/ops/privacy/redactions", redaction);
		await conforms("get", "/ops/privacy/requests/{id}", await admin("/ops/privacy/requests/ops-unknown"));
		// The operator token is not enough.
		await conforms("post", "/ops/privacy/redactions", await ops("/ops/privacy/redactions", { method: "POST", body: "{}" }));
	});

	it("an order taken in by webhook, and its view, fit their schemas", async () => {
		const id = newOrderId();
		const accepted = await deliver("orders/create", order({ id, lines: [{ sku: uniqueSku("oas-line"), quantity: 1, price: "12.50" }, { sku: null, quantity: 1, price: "1.00" }] }));
		expect(accepted.status).toBe(200);
		await conforms("post", "/webhooks/shopify/{connection}", accepted);
		const view = await conforms("get", "/ops/orders/{id}", await ops(`/ops/orders/${CONNECTION}:${id}`));
		expect(view.order.channelOrderId).toBe(String(id));
	});

	it("errors carry the common error body under the statuses documented for them", async () => {
		await conforms("post", "/v1/inventory/snapshots", await call("/v1/inventory/snapshots", { method: "POST", body: "{}" }));
		await conforms("post", "/v1/inventory/deltas", await ops("/v1/inventory/deltas", { method: "POST", body: JSON.stringify({ source: "x", items: [] }) }));
		const readOnly = await call("/v1/inventory/deltas", { method: "POST", headers: { Authorization: `Bearer ${env.OPS_READ_TOKEN as string}` }, body: "{}" });
		expect(readOnly.status).toBe(403);
		await conforms("post", "/v1/inventory/deltas", readOnly);
		await conforms("get", "/ops/orders/{id}", await ops(`/ops/orders/${CONNECTION}:missing-${newOrderId()}`));
		await conforms("get", "/ops/orders/{id}", await ops("/ops/orders/no-colon"));
		await conforms("get", "/ops/exceptions/{id}", await ops("/ops/exceptions/nothing-here"));
		await conforms("post", "/webhooks/shopify/{connection}", await call(`/webhooks/shopify/${CONNECTION}`, { method: "POST", headers: { "X-Shopify-Hmac-Sha256": "AAAA" }, body: "{}" }));
		await conforms("get", "/v1/availability", await call("/v1/availability"));
		await conforms("post", "/ops/sweeps/{connection}/run", await ops("/ops/sweeps/no-such-connection/run", { method: "POST" }));
	});
});
