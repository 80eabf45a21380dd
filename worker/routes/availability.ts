import type { IRequest } from "itty-router";
import { opsRole } from "../auth";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { failure } from "../http";
import { log } from "../log";
import { getAvailability } from "./inventory";

/** The rate limit binding's period (wrangler.toml [[ratelimits]]): a refused client waits at most this. */
const RATE_LIMIT_PERIOD_SECONDS = 60;

/**
 * GET /v1/availability, as the public sees it. Storefront traffic (no ops token) is limited per
 * client IP and answered from the edge cache for AVAILABILITY.cacheSeconds, so a sale's traffic
 * spike reads each SKU's ledger about once per cache period per location instead of once per
 * shopper. Callers holding an ops token (back office, operators) read live, unlimited.
 */
export async function serveAvailability(request: IRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
	const trusted = request.headers.has("Authorization") && (await opsRole(request, env)) !== null;
	if (trusted) return withCors(noStore(await getAvailability(request, env)), request, env);

	// Cloudflare sets CF-Connecting-IP on every request from the internet; callers inside the
	// account (service bindings, local tools) carry none and are not limited.
	const client = request.headers.get("CF-Connecting-IP");
	const limiter = env.AVAILABILITY_LIMITER;
	if (client && limiter && !(await limiter.limit({ key: client })).success) {
		log("warn", "availability.rate_limited", { client: await clientTag(client) });
		return withCors(
			failure(429, "rate_limited", `too many availability requests from this client; try again within ${RATE_LIMIT_PERIOD_SECONDS} s`, {
				"Retry-After": String(RATE_LIMIT_PERIOD_SECONDS),
			}),
			request,
			env,
		);
	}

	const { cacheSeconds } = loadConfig(env).availability;
	if (cacheSeconds === 0) return withCors(noStore(await getAvailability(request, env)), request, env);
	const key = cacheKey(request.url);
	const cache = caches.default;
	const hit = key ? await cache.match(key) : undefined;
	if (hit) return withCors(new Response(hit.body, hit), request, env);

	const response = await getAvailability(request, env);
	if (!key || response.status !== 200) return withCors(noStore(response), request, env);
	response.headers.set("Cache-Control", `public, max-age=${cacheSeconds}`);
	ctx.waitUntil(cache.put(key, response.clone()));
	return withCors(response, request, env);
}

/**
 * One cache entry per list of SKUs (the answer keeps the order asked for; repeats do not count),
 * and nothing else from the query, so junk parameters cannot fill the cache. Null for no SKU.
 */
function cacheKey(url: string): string | null {
	const parsed = new URL(url);
	const skus = [...new Set(parsed.searchParams.getAll("sku"))];
	if (skus.length === 0) return null;
	return `${parsed.origin}/v1/availability?${skus.map((sku) => `sku=${encodeURIComponent(sku)}`).join("&")}`;
}

function noStore(response: Response): Response {
	response.headers.set("Cache-Control", "no-store");
	return response;
}

/** A client's IP is personal data: logs carry a short hash that still groups one client's lines. */
async function clientTag(ip: string): Promise<string> {
	const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(ip)));
	return Array.from(digest.slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Storefronts on configured origins may read availability from the browser. */
function storefrontCors(request: IRequest, env: Env): Record<string, string> {
	const origin = request.headers.get("Origin");
	if (!origin || !loadConfig(env).storefrontOrigins.has(origin)) return {};
	return { "Access-Control-Allow-Origin": origin, Vary: "Origin" };
}

function withCors(response: Response, request: IRequest, env: Env): Response {
	for (const [name, value] of Object.entries(storefrontCors(request, env))) response.headers.set(name, value);
	return response;
}

/** OPTIONS /v1/availability — the browser's preflight; only configured origins are allowed. */
export function availabilityPreflight(request: IRequest, env: Env): Response {
	return new Response(null, {
		status: 204,
		headers: { ...storefrontCors(request, env), "Access-Control-Allow-Methods": "GET, OPTIONS", "Access-Control-Max-Age": "600" },
	});
}
