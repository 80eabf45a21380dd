import { describe, expect, it } from "vitest";
import { channelAvailable } from "../durable-objects/allocation";
import { loadConfig } from "../worker/config";
import type { Env } from "../worker/env";
import { call, deliver, ops, eventually, newOrderId, order, orderView, settled, stock, uniqueSku } from "./helpers";

const rules = (r: Partial<{ bufferUnits: number; percent: number; max: number; floor: number }> = {}) => ({ bufferUnits: 0, percent: 100, floor: 0, ...r });
const stockAt = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe("channel availability rules", () => {
	it("sees only its own locations, and never more than is unreserved overall", () => {
		const east = { id: "east-only", locations: ["east"], rules: rules() };
		expect(channelAvailable(stockAt({ east: 5, west: 10 }), 0, 0, east)).toBe(5);
		expect(channelAvailable(stockAt({ east: 5, west: 10 }), 12, 0, east)).toBe(3);
		expect(channelAvailable(stockAt({ east: 5, west: 10 }), 20, 0, east)).toBe(0);
	});

	it("applies safety stock, buffer, percentage, maximum and floor in that order", () => {
		const all = (r: Parameters<typeof rules>[0]) => ({ id: "c", rules: rules(r) });
		const s = stockAt({ east: 40 });
		expect(channelAvailable(s, 0, 4, all({}))).toBe(36);
		expect(channelAvailable(s, 0, 4, all({ bufferUnits: 6 }))).toBe(30);
		expect(channelAvailable(s, 0, 4, all({ bufferUnits: 6, percent: 50 }))).toBe(15);
		expect(channelAvailable(s, 0, 4, all({ bufferUnits: 6, percent: 50, max: 10 }))).toBe(10);
		expect(channelAvailable(s, 0, 4, all({ percent: 10, floor: 5 }))).toBe(0); // 3.6 → 3, under the floor of 5
		expect(channelAvailable(s, 0, 50, all({}))).toBe(0);
	});

	it("rejects a bundle made of bundles, and bad rules, naming the field", () => {
		const base = {
			CONNECTIONS: [{ id: "s", channel: "shopify", secret: "S", rules: { percent: 150 } }],
			OPS_TOKEN: "a-long-enough-ops-token",
			S: "x",
		};
		expect(() => loadConfig(base as unknown as Env)).toThrow(/CONNECTIONS\[0\]\.rules\.percent/);
		const nested = { ...base, CONNECTIONS: [{ id: "s", channel: "shopify", secret: "S" }], INVENTORY: { bundles: { A: [{ sku: "B", quantity: 1 }], B: [{ sku: "C", quantity: 1 }] } } };
		expect(() => loadConfig(nested as unknown as Env)).toThrow(/components must be stocked SKUs/);
	});
});

type Item = { sku: string; available: number; onHand: number; channels: Record<string, number>; components?: unknown };
const live = async (...skus: string[]) => ((await (await ops(`/v1/availability?${skus.map((s) => `sku=${s}`).join("&")}`)).json()) as { items: Item[] }).items;

describe("GET /v1/availability per channel", () => {
	it("shows each connection its own number (outlet: west only, 50 %, floor 2)", async () => {
		const sku = uniqueSku("channels");
		await stock(sku, 6, "wh-east");
		await stock(sku, 7, "wh-west");
		const [item] = await live(sku);
		expect(item).toMatchObject({ available: 13, channels: { "shopify-demo": 13, "shopify-outlet": 3 } });
		await stock(sku, 3, "wh-west", new Date(Date.now() + 1000).toISOString());
		// TikTok Shop, Amazon, WooCommerce and the EDI retailer sell every location, without rules, as shopify-demo does.
		expect((await live(sku))[0]!.channels).toEqual({ "shopify-demo": 9, "shopify-outlet": 0, tiktok: 9, amazon: 9, woocommerce: 9, "edi-retailer": 9 });
	});

	it("holds back the configured safety stock (BEANIE-RED: 1) from every channel", async () => {
		await stock("BEANIE-RED", 3, "wh-east", new Date(Date.now() + 5_000).toISOString());
		const [item] = await live("BEANIE-RED");
		expect(item).toMatchObject({ available: 3, channels: { "shopify-demo": 2 } });
	});
});

describe("bundles", () => {
	it("are as available as their scarcest component allows, per channel too", async () => {
		const asOf = new Date(Date.now() + 10_000).toISOString();
		await stock("TEE-BLK-M", 5, "wh-east", asOf);
		await stock("CAP-NVY", 2, "wh-east", asOf);
		await stock("SOCK-3PK", 9, "wh-west", asOf);
		const [gift, socks] = await live("GIFT-SET", "SOCK-6PK");
		expect(gift).toMatchObject({ available: 2, channels: { "shopify-demo": 2, "shopify-outlet": 0 }, components: [{ sku: "TEE-BLK-M", quantity: 1 }, { sku: "CAP-NVY", quantity: 1 }] });
		expect(socks).toMatchObject({ available: 4, channels: { "shopify-demo": 4, "shopify-outlet": 2 } });
	});

	it("selling a bundle reserves its components, so bundles and components never oversell each other", async () => {
		const asOf = new Date(Date.now() + 20_000).toISOString();
		await stock("TEE-BLK-M", 3, "wh-east", asOf);
		await stock("CAP-NVY", 3, "wh-east", asOf);
		const bundleOrder = newOrderId();
		await deliver("orders/create", order({ id: bundleOrder, lines: [{ sku: "GIFT-SET", quantity: 2, price: "45.00" }] }));
		const view = await eventually(() => orderView(bundleOrder), settled);
		expect(view!.lines.map((l) => [l.sku, l.target, l.reserved])).toEqual([["TEE-BLK-M", 2, 2], ["CAP-NVY", 2, 2]]);
		const [tee, gift] = await live("TEE-BLK-M", "GIFT-SET");
		expect(tee).toMatchObject({ available: 1 });
		expect(gift).toMatchObject({ available: 1 });

		// A component sold on its own leaves no bundle to promise, and a second bundle is backordered.
		const single = newOrderId();
		await deliver("orders/create", order({ id: single, lines: [{ sku: "TEE-BLK-M", quantity: 1, price: "24.00" }] }));
		await eventually(() => orderView(single), settled);
		expect((await live("GIFT-SET"))[0]).toMatchObject({ available: 0 });
		const late = newOrderId();
		await deliver("orders/create", order({ id: late, lines: [{ sku: "GIFT-SET", quantity: 1, price: "45.00" }] }));
		expect(await eventually(() => orderView(late), settled)).toMatchObject({ status: "backordered" });
	});
});
