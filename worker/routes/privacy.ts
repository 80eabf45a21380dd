import type { IRequest } from "itty-router";
import { z } from "zod";
import { flowMonitor, noteFlows } from "../../durable-objects/flow-monitor";
import type { PrivacyScope } from "../../durable-objects/privacy-desk";
import { type Connection, formatIssues, loadConfig } from "../config";
import { parseShopifyJson } from "../connectors/shopify/payloads";
import type { Env } from "../env";
import { failure, json, readJson } from "../http";
import { subjectHashes } from "../model/personal-data";

/**
 * Personal-data requests: Shopify's mandatory compliance webhooks and the same through the ops API
 * (admin token). A request is stored (by the FlowMonitor, which indexes every order) before it is
 * answered, and its scope holds order ids and SHA-256 digests of the email, phone and customer id,
 * never the values. Redactions are carried out right after and retried until done; exports are
 * assembled when read, so no copy of anyone's data is kept.
 */

/** https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance */
export const SHOPIFY_PRIVACY_TOPICS: ReadonlySet<string> = new Set(["customers/data_request", "customers/redact", "shop/redact"]);

const Id = z.union([z.number().int().nonnegative(), z.string().min(1)]);

/** The compliance payloads: shop/redact names only the shop; the customer topics add the customer and orders. */
const ShopifyPrivacyBody = z.object({
	shop_id: Id.nullish(),
	shop_domain: z.string().min(1),
	customer: z.object({ id: Id.nullish(), email: z.string().nullish(), phone: z.string().nullish() }).nullish(),
	orders_to_redact: z.array(Id).nullish(),
	orders_requested: z.array(Id).nullish(),
	data_request: z.object({ id: Id.nullish() }).nullish(),
});

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * The privacy topics of POST /webhooks/shopify/:connection, after the signature was checked. The
 * body is read, never stored: the request keeps its order ids and digests. Answered 200 once the
 * request is durable (Shopify wants a 2xx); one that cannot be used becomes an exception for
 * operators, and one for another shop than the connection's is not acted on.
 */
export async function receiveShopifyPrivacy(env: Env, ctx: ExecutionContext, connection: Connection, topic: string, eventId: string, body: Uint8Array): Promise<Response> {
	const monitor = flowMonitor(env);
	let parsed: ReturnType<typeof ShopifyPrivacyBody.safeParse> | null = null;
	try {
		parsed = ShopifyPrivacyBody.safeParse(parseShopifyJson(utf8.decode(body)));
	} catch {
		parsed = null;
	}
	// Raised before the 200, like a quarantine: once acknowledged, Shopify will not send it again.
	const unusable = async (reason: string) => {
		await monitor.raise({ id: `privacy:${connection.id}:${eventId}`, kind: "failure", reason: `${topic} ${eventId}: ${reason}; ask the merchant to handle it by hand` });
		noteFlows(ctx, env, [{ type: "privacy.unusable", connection: connection.id, channel: "shopify", topic, eventId, detail: reason }]);
		return json({ status: "unusable", eventId });
	};
	if (!parsed) return unusable("the body is not JSON");
	if (!parsed.success) return unusable(`the body does not match the documented payload: ${formatIssues(parsed.error)}`);
	const payload = parsed.data;
	if (connection.admin?.shop && payload.shop_domain !== connection.admin.shop) {
		return unusable(`it names shop ${payload.shop_domain}, but this connection is ${connection.admin.shop}`);
	}

	const customer = payload.customer ?? {};
	const orders = (topic === "customers/redact" ? payload.orders_to_redact : topic === "customers/data_request" ? payload.orders_requested : null) ?? [];
	const scope: PrivacyScope = {
		connection: connection.id,
		orders: orders.map(String),
		subjects: topic === "shop/redact" ? [] : subjectHashes({ emails: [customer.email], phones: [customer.phone], customerIds: [customer.id] }),
		shop: topic === "shop/redact",
	};
	const kind = topic === "customers/data_request" ? "export" : "redact";
	const recorded = await monitor.privacyRequest({ id: `shopify:${connection.id}:${eventId}`, kind, source: `shopify ${topic}`, scope });
	if (recorded.created) {
		noteFlows(ctx, env, [{ type: "privacy.requested", connection: connection.id, channel: "shopify", topic, eventId, detail: describe(kind, scope) }]);
	}
	return json({ status: recorded.created ? "accepted" : "duplicate", eventId, request: recorded.id });
}

const Customer = z
	.object({ email: z.string().trim().min(3).includes("@").optional(), phone: z.string().trim().min(6).optional(), id: Id.optional() })
	.strict()
	.refine((c) => c.email !== undefined || c.phone !== undefined || c.id !== undefined, "name the customer by email, phone or id");

const Subject = z
	.object({
		connection: z.string().min(1),
		customer: Customer.optional(),
		orders: z.array(Id).max(1000).optional(),
	})
	.strict();

export const RedactionBody = Subject.extend({ shop: z.literal(true).optional() })
	.strict()
	.refine((b) => b.customer !== undefined || (b.orders?.length ?? 0) > 0 || b.shop === true, "name a customer, orders, or shop: true (everything of the connection)");

export const DataRequestBody = Subject.refine((b) => b.customer !== undefined || (b.orders?.length ?? 0) > 0, "name a customer or orders");

async function scopeOf(body: z.infer<typeof Subject> & { shop?: true }): Promise<PrivacyScope> {
	const customer = body.customer ?? {};
	return {
		connection: body.connection,
		orders: (body.orders ?? []).map(String),
		subjects: subjectHashes({ emails: [customer.email], phones: [customer.phone], customerIds: [customer.id] }),
		shop: body.shop === true,
	};
}

/** POST /ops/privacy/redactions — 202 with the request's id; GET /ops/privacy/requests/:id says how it went. */
export async function postRedaction(request: IRequest, env: Env, ctx?: ExecutionContext): Promise<Response> {
	const read = await readJson(request, RedactionBody);
	if ("response" in read) return read.response;
	if (!loadConfig(env).connections.has(read.data.connection)) return failure(404, "unknown_connection", `no connection ${read.data.connection}`);
	const scope = await scopeOf(read.data);
	const id = `ops-${crypto.randomUUID()}`;
	const recorded = await flowMonitor(env).privacyRequest({ id, kind: "redact", source: "ops", scope });
	if (ctx) noteFlows(ctx, env, [{ type: "privacy.requested", connection: scope.connection, detail: describe("redact", scope) }]);
	const href = `/ops/privacy/requests/${encodeURIComponent(id)}`;
	return json({ id, status: recorded.status, href }, 202, { Location: href });
}

/** POST /ops/privacy/data-requests — the data held about a customer or orders, as JSON (recorded; GET reads it again). */
export async function postDataRequest(request: IRequest, env: Env, ctx?: ExecutionContext): Promise<Response> {
	const read = await readJson(request, DataRequestBody);
	if ("response" in read) return read.response;
	if (!loadConfig(env).connections.has(read.data.connection)) return failure(404, "unknown_connection", `no connection ${read.data.connection}`);
	const scope = await scopeOf(read.data);
	const id = `ops-${crypto.randomUUID()}`;
	const monitor = flowMonitor(env);
	await monitor.privacyRequest({ id, kind: "export", source: "ops", scope });
	if (ctx) noteFlows(ctx, env, [{ type: "privacy.requested", connection: scope.connection, detail: describe("export", scope) }]);
	return json(await monitor.privacyRequestView(id));
}

/** GET /ops/privacy/requests/:id — status and result; an export carries the data as held now. */
export async function getPrivacyRequest(request: IRequest, env: Env): Promise<Response> {
	const id = decodeURIComponent(request.params.id ?? "");
	const view = await flowMonitor(env).privacyRequestView(id);
	return view ? json(view) : failure(404, "unknown_request", `no privacy request ${id}`);
}

/** For the flow stream and logs: what was asked, never whom it is about. */
function describe(kind: "redact" | "export", scope: PrivacyScope): string {
	const what = scope.shop
		? "everything of the connection"
		: [scope.orders.length > 0 ? `${scope.orders.length} order${scope.orders.length === 1 ? "" : "s"}` : "", scope.subjects.length > 0 ? "a customer" : ""].filter(Boolean).join(" and ");
	return `${kind === "redact" ? "redaction" : "data export"} of ${what}`;
}
