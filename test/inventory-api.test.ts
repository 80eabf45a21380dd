import { describe, expect, it } from "vitest";
import { call, ops, uniqueSku } from "./helpers";

const snapshot = (body: unknown, token = true) =>
	(token ? ops : call)("/v1/inventory/snapshots", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

describe("POST /v1/inventory/snapshots", () => {
	it("sets on-hand per SKU and location and reports a stale snapshot as such", async () => {
		const [a, b] = [uniqueSku("snap-a"), uniqueSku("snap-b")];
		const first = await snapshot({
			source: "wms-east",
			asOf: "2026-11-27T08:00:00Z",
			items: [
				{ sku: a, location: "east", onHand: 5 },
				{ sku: a, location: "west", onHand: 2 },
				{ sku: b, location: "east", onHand: 9 },
			],
		});
		expect(first.status).toBe(200);
		expect(await first.json()).toMatchObject({ applied: 3, stale: 0 });

		const older = await snapshot({ source: "wms-east", asOf: "2026-11-27T07:00:00Z", items: [{ sku: a, location: "east", onHand: 50 }] });
		expect(await older.json()).toEqual({ applied: 0, stale: 1, results: [{ sku: a, location: "east", status: "stale", onHand: 5 }] });

		const live = (await (await ops(`/v1/availability?sku=${a}&sku=${b}`)).json()) as { items: Array<{ sku: string; onHand: number; available: number }> };
		expect(live.items.map((i) => [i.sku, i.onHand, i.available])).toEqual([[a, 7, 7], [b, 9, 9]]);
	});

	it("needs the ops token", async () => {
		const response = await snapshot({ source: "x", asOf: "2026-11-27T08:00:00Z", items: [{ sku: "a", location: "e", onHand: 1 }] }, false);
		expect(response.status).toBe(401);
		expect(response.headers.get("WWW-Authenticate")).toContain("Bearer");
		const wrong = await call("/v1/inventory/snapshots", { method: "POST", headers: { Authorization: "Bearer wrong-token-wrong-token" }, body: "{}" });
		expect(wrong.status).toBe(401);
	});

	it("rejects bad bodies with a 400 that names the field, changing nothing", async () => {
		const sku = uniqueSku("bad");
		const cases: Array<[unknown, string]> = [
			[{ source: "w", asOf: "yesterday", items: [{ sku, location: "e", onHand: 1 }] }, "asOf"],
			[{ source: "w", asOf: "2026-11-27T08:00:00Z", items: [{ sku, location: "e", onHand: -1 }] }, "items[0].onHand"],
			[{ source: "w", asOf: "2026-11-27T08:00:00Z", items: [{ sku, location: "e", onHand: 1.5 }] }, "items[0].onHand"],
			[{ source: "w", asOf: "2026-11-27T08:00:00Z", items: [] }, "items"],
		];
		for (const [body, field] of cases) {
			const response = await snapshot(body);
			expect(response.status).toBe(400);
			expect(((await response.json()) as { error: { message: string } }).error.message).toContain(field);
		}
		const notJson = await ops("/v1/inventory/snapshots", { method: "POST", body: "{nope" });
		expect(notJson.status).toBe(400);
		const live = (await (await ops(`/v1/availability?sku=${sku}`)).json()) as { items: Array<{ onHand: number }> };
		expect(live.items[0]!.onHand).toBe(0);
	});
});

describe("GET /v1/availability", () => {
	it("answers unknown SKUs with available 0", async () => {
		const sku = uniqueSku("ghost");
		const body = await (await call(`/v1/availability?sku=${sku}`)).json();
		expect(body).toEqual({ items: [{ sku, available: 0, onHand: 0, reserved: 0, updatedAt: null, channels: { "shopify-demo": 0, "shopify-outlet": 0, tiktok: 0, amazon: 0, woocommerce: 0, "edi-retailer": 0 } }] });
	});

	it("takes up to 100 SKUs and refuses more, or none", async () => {
		const hundred = Array.from({ length: 100 }, (_, i) => `sku=many-${i}`).join("&");
		const ok = (await (await call(`/v1/availability?${hundred}`)).json()) as { items: unknown[] };
		expect(ok.items).toHaveLength(100);
		const tooMany = await call(`/v1/availability?${hundred}&sku=one-more`);
		expect(tooMany.status).toBe(400);
		expect(((await tooMany.json()) as { error: { message: string } }).error.message).toContain("at most 100");
		expect((await call("/v1/availability")).status).toBe(400);
	});

	it("allows CORS only for configured storefront origins", async () => {
		const allowed = await call("/v1/availability?sku=x", { headers: { Origin: "http://localhost:5173" } });
		expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:5173");
		expect(allowed.headers.get("Vary")).toBe("Origin");
		const other = await call("/v1/availability?sku=x", { headers: { Origin: "https://evil.example" } });
		expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
		const preflight = await call("/v1/availability", { method: "OPTIONS", headers: { Origin: "http://localhost:5173", "Access-Control-Request-Method": "GET" } });
		expect(preflight.status).toBe(204);
		expect(preflight.headers.get("Access-Control-Allow-Methods")).toContain("GET");
	});
});
