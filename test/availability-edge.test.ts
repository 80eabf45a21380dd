import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, ops, stock, uniqueSku } from "./helpers";

type Items = { items: Array<{ sku: string; available: number }> };

/** A shopper's request as it reaches the worker from Cloudflare's edge. */
const storefront = (query: string, headers: Record<string, string> = {}) =>
	call(`/v1/availability?${query}`, { headers: { "CF-Connecting-IP": "198.51.100.20", ...headers } });
const available = async (response: Response) => ((await response.json()) as Items).items.map((item) => item.available);

describe("GET /v1/availability at the edge", () => {
	it("answers storefronts from the edge cache for cacheSeconds, one entry per list of SKUs; the ops token reads live", async () => {
		const [a, b] = [uniqueSku("edge-a"), uniqueSku("edge-b")];
		await stock(a, 5);
		await stock(b, 7);
		const first = await storefront(`sku=${a}&sku=${b}`);
		expect(first.headers.get("Cache-Control")).toBe(`public, max-age=${(env.AVAILABILITY as { cacheSeconds: number }).cacheSeconds}`);
		expect(await available(first)).toEqual([5, 7]);

		await stock(a, 1);
		// The same SKUs again, repeats and other parameters ignored: the cached answer.
		expect(await available(await storefront(`sku=${a}&sku=${b}&sku=${a}&utm_source=mail`))).toEqual([5, 7]);
		const live = await ops(`/v1/availability?sku=${a}&sku=${b}`);
		expect(live.headers.get("Cache-Control")).toBe("no-store");
		expect(await available(live)).toEqual([1, 7]);

		await new Promise((resolve) => setTimeout(resolve, 2_100));
		expect(await available(await storefront(`sku=${a}&sku=${b}`))).toEqual([1, 7]);
	});

	it("never caches a refusal", async () => {
		const sku = uniqueSku("edge-bad");
		expect((await storefront(`sku=${sku}&sku=${"x".repeat(300)}`)).status).toBe(400);
		await stock(sku, 2);
		expect(await available(await storefront(`sku=${sku}`))).toEqual([2]);
	});

	it("limits each client IP, tells it when to come back, and keeps CORS on the refusal", async () => {
		const sku = uniqueSku("edge-limit");
		await stock(sku, 3);
		const from = (ip: string) => call(`/v1/availability?sku=${sku}`, { headers: { "CF-Connecting-IP": ip, Origin: "http://localhost:5173" } });
		const statuses: number[] = [];
		for (let i = 0; i < 600; i++) statuses.push((await from("203.0.113.7")).status);
		expect(statuses.every((status) => status === 200)).toBe(true);

		const refused = await from("203.0.113.7");
		expect(refused.status).toBe(429);
		expect(refused.headers.get("Retry-After")).toBe("60");
		expect(refused.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:5173");
		expect(await refused.json()).toMatchObject({ error: { code: "rate_limited" } });

		// Another shopper, the back office with its token, and callers inside the account are not affected.
		expect((await from("203.0.113.8")).status).toBe(200);
		expect((await ops(`/v1/availability?sku=${sku}`, { headers: { "CF-Connecting-IP": "203.0.113.7" } })).status).toBe(200);
		expect((await call(`/v1/availability?sku=${sku}`)).status).toBe(200);
	});
});
