import type { FulfillmentLocation } from "../worker/config";
import type { Address } from "../worker/model/order";

export interface RouteLine {
	lineId: string;
	sku: string;
	quantity: number;
}
export interface RoutePart {
	location: string;
	lines: RouteLine[];
}
export type RoutePlan = { ok: true; parts: RoutePart[] } | { ok: false; reason: string };

export interface RouteInput {
	lines: RouteLine[];
	/** Units each location can still ship, per SKU (SkuLedger.locate). */
	free: Record<string, Record<string, number>>;
	locations: FulfillmentLocation[];
	shipTo?: Pick<Address, "countryCode" | "provinceCode">;
	allowSplit: boolean;
}

/**
 * Chooses where an order ships from. Only locations serving the ship-to country count; among
 * them, those whose regions include the ship-to's province come first, then lower ranks. One
 * location that holds everything wins; otherwise, when splitting is allowed, each line goes to
 * the first location (preferring ones already in the plan) that holds all of it, and only a line
 * no single location holds is divided. Anything short is unroutable, with the reason.
 */
export function planRoute(input: RouteInput): RoutePlan {
	const country = input.shipTo?.countryCode?.toUpperCase();
	const province = input.shipTo?.provinceCode?.toUpperCase();
	const eligible = input.locations
		.map((location, index) => ({ location, index }))
		.filter(({ location }) => !location.countries || !country || location.countries.includes(country))
		.sort((a, b) => {
			const regional = Number(inRegion(b.location, province)) - Number(inRegion(a.location, province));
			return regional || a.location.rank - b.location.rank || a.index - b.index;
		})
		.map(({ location }) => location.id);
	if (eligible.length === 0) return { ok: false, reason: `no fulfilment location ships to ${country ?? "this address"}` };
	if (input.lines.length === 0) return { ok: false, reason: "nothing to ship" };

	const free = (sku: string, location: string) => input.free[sku]?.[location] ?? 0;
	const needed = new Map<string, number>();
	for (const line of input.lines) needed.set(line.sku, (needed.get(line.sku) ?? 0) + line.quantity);

	const whole = eligible.find((location) => [...needed].every(([sku, units]) => free(sku, location) >= units));
	if (whole) return { ok: true, parts: [{ location: whole, lines: input.lines }] };
	if (!input.allowSplit) return { ok: false, reason: `no single location holds all ${input.lines.length} lines, and splitting is off` };

	const left = new Map<string, number>();
	const take = (sku: string, location: string, units: number) => left.set(`${sku}@${location}`, remaining(sku, location) - units);
	const remaining = (sku: string, location: string) => left.get(`${sku}@${location}`) ?? free(sku, location);
	const parts = new Map<string, RouteLine[]>();
	const add = (location: string, line: RouteLine) => {
		parts.set(location, [...(parts.get(location) ?? []), line]);
		take(line.sku, location, line.quantity);
	};
	for (const line of input.lines) {
		const used = eligible.filter((location) => parts.has(location));
		const home = [...used, ...eligible].find((location) => remaining(line.sku, location) >= line.quantity);
		if (home) {
			add(home, line);
			continue;
		}
		let short = line.quantity;
		for (const location of eligible) {
			const units = Math.min(short, remaining(line.sku, location));
			if (units <= 0) continue;
			add(location, { ...line, quantity: units });
			short -= units;
			if (short === 0) break;
		}
		if (short > 0) {
			const total = eligible.reduce((sum, location) => sum + free(line.sku, location), 0);
			return { ok: false, reason: `${line.sku}: ${total} free at locations shipping to ${country ?? "the address"}, ${needed.get(line.sku)} needed` };
		}
	}
	return { ok: true, parts: eligible.filter((location) => parts.has(location)).map((location) => ({ location, lines: parts.get(location)! })) };
}

function inRegion(location: FulfillmentLocation, province: string | undefined): boolean {
	return province !== undefined && location.regions.some((region) => region.toUpperCase() === province);
}
