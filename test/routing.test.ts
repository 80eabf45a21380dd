import { describe, expect, it } from "vitest";
import { planRoute, type RouteInput } from "../durable-objects/routing";
import type { FulfillmentLocation } from "../worker/config";

const location = (id: string, rank: number, extra: Partial<FulfillmentLocation> = {}): FulfillmentLocation => ({
	id,
	rank,
	regions: [],
	threePl: "shipbob",
	fulfillmentCenterId: rank * 10,
	...extra,
});
const EAST = location("wh-east", 1, { countries: ["US", "CA"], regions: ["NY", "ON"] });
const WEST = location("wh-west", 2, { countries: ["US", "CA", "MX"], regions: ["CA", "OR"] });
const EU = location("wh-eu", 3, { countries: ["DE", "FR"] });

const input = (over: Partial<RouteInput>): RouteInput => ({
	lines: [{ lineId: "1", sku: "A", quantity: 2 }, { lineId: "2", sku: "B", quantity: 1 }],
	free: { A: { "wh-east": 5, "wh-west": 5, "wh-eu": 5 }, B: { "wh-east": 5, "wh-west": 5, "wh-eu": 5 } },
	locations: [EAST, WEST, EU],
	shipTo: { countryCode: "US", provinceCode: "TX" },
	allowSplit: true,
	...over,
});

describe("routing an order to the locations that ship it", () => {
	it("prefers the lowest rank when no location is regional for the ship-to", () => {
		expect(planRoute(input({}))).toEqual({ ok: true, parts: [{ location: "wh-east", lines: input({}).lines }] });
	});

	it("prefers a location whose regions include the ship-to's province over a better rank", () => {
		const plan = planRoute(input({ shipTo: { countryCode: "US", provinceCode: "OR" } }));
		expect(plan.ok && plan.parts.map((p) => p.location)).toEqual(["wh-west"]);
	});

	it("only uses locations that ship to the country", () => {
		const plan = planRoute(input({ shipTo: { countryCode: "MX" } }));
		expect(plan.ok && plan.parts.map((p) => p.location)).toEqual(["wh-west"]);
		expect(planRoute(input({ shipTo: { countryCode: "JP" } }))).toEqual({ ok: false, reason: "no fulfilment location ships to JP" });
	});

	it("keeps an order whole at a location that holds all of it rather than splitting at a preferred one", () => {
		const plan = planRoute(input({ free: { A: { "wh-east": 2, "wh-west": 2 }, B: { "wh-west": 1 } } }));
		expect(plan.ok && plan.parts.map((p) => p.location)).toEqual(["wh-west"]);
	});

	it("splits only when no single location can ship it, keeping each line whole where possible", () => {
		const plan = planRoute(input({ free: { A: { "wh-east": 2 }, B: { "wh-west": 1 } } }));
		expect(plan).toEqual({
			ok: true,
			parts: [
				{ location: "wh-east", lines: [{ lineId: "1", sku: "A", quantity: 2 }] },
				{ location: "wh-west", lines: [{ lineId: "2", sku: "B", quantity: 1 }] },
			],
		});
		// A line no single location holds is divided across them.
		const divided = planRoute(input({ lines: [{ lineId: "1", sku: "A", quantity: 3 }], free: { A: { "wh-east": 2, "wh-west": 1 } } }));
		expect(divided.ok && divided.parts.map((p) => [p.location, p.lines[0]!.quantity])).toEqual([["wh-east", 2], ["wh-west", 1]]);
	});

	it("does not split when splitting is off, and says why", () => {
		const plan = planRoute(input({ allowSplit: false, free: { A: { "wh-east": 2 }, B: { "wh-west": 1 } } }));
		expect(plan).toEqual({ ok: false, reason: "no single location holds all 2 lines, and splitting is off" });
	});

	it("is unroutable when the eligible locations hold too little, naming the SKU", () => {
		const plan = planRoute(input({ free: { A: { "wh-east": 1, "wh-eu": 9 }, B: { "wh-east": 1 } } }));
		expect(plan).toEqual({ ok: false, reason: "A: 1 free at locations shipping to US, 2 needed" });
	});
});
