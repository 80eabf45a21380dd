import { Router, type IRequest } from "itty-router";
import { ConfigError, loadConfig } from "./config";
import type { Env } from "./env";
import { failure, hasBearer } from "./http";
import { getAvailability, postAdjustment, postDeltas, postReturns, postSnapshot } from "./routes/inventory";
import { receiveEasyPostWebhook, receiveShipBobWebhook } from "./routes/fulfillment-webhooks";
import { cancelException, getException, getOrder, getSku, listDestinations, listExceptions, listFlows, replayException, replayMany } from "./routes/ops";
import { receiveShopifyWebhook } from "./routes/webhooks";

type Args = [Env, ExecutionContext];

/** Ops and inventory feeds need the operator token. */
async function requireOps(request: IRequest, env: Env): Promise<Response | undefined> {
	if (!(await hasBearer(request, loadConfig(env).opsToken))) {
		return failure(401, "unauthorized", "a valid Authorization: Bearer <OPS_TOKEN> is required", {
			"WWW-Authenticate": 'Bearer realm="ordersync-ops"',
		});
	}
}

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
	console.error(JSON.stringify({ level: "error", message: error instanceof Error ? error.message : String(error) }));
	return failure(500, "internal_error", "the request could not be processed; it was not acknowledged");
}

export const router = Router<IRequest, Args>({ catch: toErrorResponse });

router
	.post("/webhooks/shopify/:connection", receiveShopifyWebhook)
	.post("/webhooks/shipbob/:threePl", receiveShipBobWebhook)
	.post("/webhooks/easypost/:account", receiveEasyPostWebhook)
	.post("/v1/inventory/snapshots", requireOps, postSnapshot)
	.post("/v1/inventory/deltas", requireOps, postDeltas)
	.post("/v1/inventory/returns", requireOps, postReturns)
	.get("/v1/availability", async (request, env) => withCors(await getAvailability(request, env), request, env))
	.options("/v1/availability", preflight)
	.get("/ops/orders/:id", requireOps, getOrder)
	.get("/ops/skus/:sku", requireOps, getSku)
	.post("/ops/skus/:sku/adjustments", requireOps, postAdjustment)
	.get("/ops/exceptions", requireOps, listExceptions)
	.post("/ops/exceptions/replay", requireOps, replayMany)
	.get("/ops/exceptions/:id", requireOps, getException)
	.post("/ops/exceptions/:id/replay", requireOps, replayException)
	.post("/ops/exceptions/:id/cancel", requireOps, cancelException)
	.get("/ops/destinations", requireOps, listDestinations)
	.get("/ops/flows", requireOps, listFlows)
	.get("/health", (_, env) => {
		const config = loadConfig(env); // a bad config answers 500 naming the field
		return Response.json({ ok: true, connections: [...config.connections.keys()] });
	})
	.all("*", () => failure(404, "not_found", "no such route"));
