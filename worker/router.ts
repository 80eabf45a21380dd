import { Router, type IRequest } from "itty-router";
import { requireAdmin, requireOps, requireRead, type OpsRequest } from "./auth";
import { ConfigError, loadConfig } from "./config";
import type { Env } from "./env";
import { failure } from "./http";
import { serveOpenApi } from "./openapi";
import { log } from "./log";
import { availabilityPreflight, serveAvailability } from "./routes/availability";
import { postAdjustment, postDeltas, postReturns, postSnapshot } from "./routes/inventory";
import { receiveAmazonWebhook, receiveEdiWebhook, receiveTikTokWebhook, receiveWooCommerceWebhook } from "./routes/channel-webhooks";
import { receiveEasyPostWebhook, receiveShipBobWebhook } from "./routes/fulfillment-webhooks";
import { getMetrics } from "./routes/metrics";
import { getPayout, listPayouts, syncPayouts, uploadAmazonReport } from "./routes/settlements";
import { cancelException, findOrders, getException, getOrder, getPartner, getSku, listDestinations, listExceptions, listFlows, openStream, replayException, replayMany } from "./routes/ops";
import { listSweeps, runSweep } from "./routes/sweeps";
import { getPrivacyRequest, postDataRequest, postRedaction } from "./routes/privacy";
import { receiveShopifyWebhook } from "./routes/webhooks";

type Args = [Env, ExecutionContext];

function toErrorResponse(error: unknown): Response {
	if (error instanceof ConfigError) return failure(500, "invalid_config", error.message);
	log("error", "request.failed", { error: error instanceof Error ? error.message : String(error) });
	return failure(500, "internal_error", "the request could not be processed; it was not acknowledged");
}

/** Path parameters are percent-decoded by the routes: a path that cannot be decoded is the client's error. */
function decodablePath(request: IRequest): Response | undefined {
	try {
		decodeURIComponent(new URL(request.url).pathname);
	} catch {
		return failure(400, "invalid_path", "the path is not valid percent-encoded UTF-8");
	}
}

export const router = Router<IRequest, Args>({ before: [decodablePath], catch: toErrorResponse });

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
	.get("/v1/availability", serveAvailability)
	.options("/v1/availability", availabilityPreflight)
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
	.get("/ops/metrics", requireRead, getMetrics)
	.get("/openapi.json", serveOpenApi)
	.get("/ops/sweeps", requireRead, listSweeps)
	.post("/ops/sweeps/:connection/run", requireOps, runSweep)
	.post("/ops/privacy/redactions", requireAdmin, postRedaction)
	.post("/ops/privacy/data-requests", requireAdmin, postDataRequest)
	.get("/ops/privacy/requests/:id", requireAdmin, getPrivacyRequest)
	.get("/health", (_, env) => {
		const config = loadConfig(env); // a bad config answers 500 naming the field
		return Response.json({ ok: true, connections: [...config.connections.keys()] });
	})
	.all("*", () => failure(404, "not_found", "no such route"));
