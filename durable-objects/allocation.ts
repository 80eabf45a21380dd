import type { ChannelRules } from "../worker/config";
import type { Availability } from "../worker/model/inventory";

export interface ChannelView {
	id: string;
	/** Locations the channel may sell from; all when undefined. */
	locations?: string[];
	rules: ChannelRules;
}

/**
 * What one channel is shown for a SKU. Reservations are not tied to a location until routing
 * ships them, so a channel sees at most the stock in its own locations and at most what is
 * unreserved overall; then safety stock and the channel's rules apply, in that order.
 */
export function channelAvailable(
	stock: ReadonlyMap<string, number>,
	reserved: number,
	safetyStock: number,
	channel: ChannelView,
): number {
	let total = 0;
	let inReach = 0;
	for (const [location, onHand] of stock) {
		total += onHand;
		if (!channel.locations || channel.locations.includes(location)) inReach += onHand;
	}
	const rules = channel.rules;
	let shown = Math.min(inReach, total - reserved) - safetyStock - rules.bufferUnits;
	shown = Math.floor((Math.max(0, shown) * rules.percent) / 100);
	if (rules.max !== undefined) shown = Math.min(shown, rules.max);
	return shown < rules.floor ? 0 : shown;
}

/**
 * A bundle has no stock of its own: it is as available as its scarcest component allows,
 * per channel too. Reserving a bundle reserves its components, so the two never oversell each other.
 */
export function bundleAvailability(sku: string, parts: Array<{ quantity: number; availability: Availability }>): Availability {
	const fit = (pick: (a: Availability) => number) => Math.min(...parts.map((p) => Math.floor(pick(p.availability) / p.quantity)));
	const channels: Record<string, number> = {};
	for (const id of Object.keys(parts[0]?.availability.channels ?? {})) {
		channels[id] = fit((a) => a.channels[id] ?? 0);
	}
	const times = parts.map((p) => p.availability.updatedAt).filter((t): t is string => t !== null).sort();
	return {
		sku,
		available: Math.max(0, fit((a) => a.available)),
		onHand: Math.max(0, fit((a) => a.onHand)),
		reserved: 0,
		updatedAt: times.at(-1) ?? null,
		channels,
		components: parts.map((p) => ({ sku: p.availability.sku, quantity: p.quantity })),
	};
}
