import { Router, type IRequest } from "itty-router";
import { ConfigError, loadConfig, type OpsRole } from "./config";
import type { Env } from "./env";
import { failure, hasBearer } from "./http";
import { log } from "./log";
import { PREVIOUS_SUFFIX } from "./secrets";
import { getAvailability, postAdjustment, postDeltas, postReturns, postSnapshot } from "./routes/inventory";
import { receiveAmazonWebhook, receiveEdiWebhook, receiveTikTokWebhook, receiveWooCommerceWebhook } from "./routes/channel-webhooks";
import { receiveEasyPostWebhook, receiveShipBobWebhook } from "./routes/fulfillment-webhooks";
import { getPayout, listPayouts, syncPayouts, uploadAmazonReport } from "./routes/settlements";
import { cancelException, findOrders, getException, getOrder, getPartner, getSku, listDestinations, listExceptions, listFlows, openStream, replayException, replayMany } from "./routes/ops";
import { receiveShopifyWebhook } from "./routes/webhooks";

type Args = [Env, ExecutionContext];

type OpsRequest = IRequest & { role?: OpsRole };

const RANK: Record<OpsRole, number> = { read: 0, operator: 1, admin: 2 };

/**
 * The role of the ops token the request carries, or null. Every accepted token (previous values
 * of rotating ones too) is compared in constant time, all of them every time, so the answer's
 * timing tells nothing about which one was close.
 */
async function opsRole(request: Request, env: Env): Promise<OpsRole | null> {
	const tokens = loadConfig(env).opsTokens;
	const matches = await Promise.all(tokens.map((token) => hasBearer(request, token.value)));
	const match = tokens.find((_, i) => matches[i]);
	if (!match) return null;
	if (match.name.endsWith(PREVIOUS_SUFFIX)) log("warn", "secret.previous_accepted", { secret: match.name, path: new URL(request.url).pathname });
	return match.role;
}

function unauthorized(): Response {
	return failure(401, "unauthorized", "a valid Authorization: Bearer <ops token> is required", { "WWW-Authenticate": 'Bearer realm="ordersync-ops"' });
}

const NEEDS: Record<OpsRole, string> = {
	read: "",
	operator: "replays, retries and stock changes need the operator or admin token",
	admin: "personal-data requests (redaction, data export) need the admin token",
};

/** A guard that lets through tokens of `role` or higher, and remembers the caller's role. */
function requireRole(role: OpsRole) {
	return async (request: OpsRequest, env: Env): Promise<Response | undefined> => {
		const held = await opsRole(request, env);
		if (!held) return unauthorized();
		if (RANK[held] < RANK[role]) return failure(403, "forbidden", `this is the ${held} token: ${NEEDS[role]}`);
		request.role = held;
	};
}

/** Reading ops state (and the live stream) takes any ops token. */
const requireRead = requireRole("read");
/** Changing anything (replays, retries, stock feeds) takes the operator token or the admin one. */
const requireOps = requireRole("operator");
/** Personal-data requests take the admin token. */
export const requireAdmin = requireRole("admin");

/** Storefronts on configured origins may read availability from the browser. */
function storefrontCors(request: IRequest, env: Env): Record<string, string> {
	const origin = request.headers.get("Origin");
	if (!origin || !loadConfig(env).storefrontOrigins.has(origin)) return {};
	return { "Access-Control-Allow-Origin": origin, Vary: "Origin" };
}

function withCors(response: Response, request: IRequest, env: Env): Response {
	const headers = storefrontCors(request, env);
	for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
	return response;
}

function preflight(request: IRequest, env: Env): Response {
	return new Response(null, {
		status: 204,
		headers: { ...storefrontCors(request, env), "Access-Control-Allow-Methods": "GET, OPTIONS", "Access-Control-Max-Age": "600" },
	});
}

function toErrorResponse(error: unknown): Response {
	if (error instanceof ConfigError) return failure(500, "invalid_config", error.message);
	log("error", "request.failed", { error: error instanceof Error ? error.message : String(error) });
	return failure(500, "internal_error", "the request could not be processed; it was not acknowledged");
}

export const router = Router<IRequest, Args>({ catch: toErrorResponse });

router
	.post("/webhooks/shopify/:connection", receiveShopifyWebhook)
	.post("/webhooks/shipbob/:threePl", receiveShipBobWebhook)
	.post("/webhooks/easypost/:account", receiveEasyPostWebhook)
	.post("/webhooks/tiktok/:connection", receiveTikTokWebhook)
	.post("/webhooks/amazon/:connection", receiveAmazonWebhook)
	.post("/webhooks/woocommerce/:connection", receiveWooCommerceWebhook)
	.post("/webhooks/edi/:connection", receiveEdiWebhook)
	.post("/v1/inventory/snapshots", requireOps, postSnapshot)
	.post("/v1/inventory/deltas", requireOps, postDeltas)
	.post("/v1/inventory/returns", requireOps, postReturns)
	.get("/v1/availability", async (request, env) => withCors(await getAvailability(request, env), request, env))
	.options("/v1/availability", preflight)
	.get("/ops/whoami", requireRead, (request: OpsRequest) => Response.json({ role: request.role }))
	.get("/ops/stream", requireRead, (request: OpsRequest, env: Env) => openStream(request, env, request.role!))
	.get("/ops/flows", requireRead, listFlows)
	.get("/ops/orders", requireRead, findOrders)
	.get("/ops/orders/:id", requireRead, getOrder)
	.get("/ops/skus/:sku", requireRead, getSku)
	.get("/ops/partners/:connection", requireRead, getPartner)
	.post("/ops/skus/:sku/adjustments", requireOps, postAdjustment)
	.get("/ops/exceptions", requireRead, listExceptions)
	.post("/ops/exceptions/replay", requireOps, replayMany)
	.get("/ops/exceptions/:id", requireRead, getException)
	.post("/ops/exceptions/:id/replay", requireOps, replayException)
	.post("/ops/exceptions/:id/cancel", requireOps, cancelException)
	.get("/ops/destinations", requireRead, listDestinations)
	.get("/ops/settlements", requireRead, listPayouts)
	.get("/ops/settlements/:connection/:payoutId", requireRead, getPayout)
	.post("/ops/settlements/:connection/amazon-report", requireOps, uploadAmazonReport)
	.post("/ops/settlements/:connection/sync", requireOps, syncPayouts)
	.get("/health", (_, env) => {
		const config = loadConfig(env); // a bad config answers 500 naming the field
		return Response.json({ ok: true, connections: [...config.connections.keys()] });
	})
	.all("*", () => failure(404, "not_found", "no such route"));
