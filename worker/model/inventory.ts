import { z } from "zod";

export const Sku = z.string().trim().min(1).max(200);
export const Location = z.string().trim().min(1).max(200);
const IsoTime = z.iso.datetime({ offset: true });

export const InventorySnapshot = z.object({
	/** The system that counted the stock, e.g. "wms-east". */
	source: z.string().min(1).max(200),
	/** When the count was true; an older snapshot never overwrites a newer one. */
	asOf: IsoTime,
	items: z
		.array(z.object({ sku: Sku, location: Location, onHand: z.number().int().nonnegative() }))
		.min(1)
		.max(1000),
});
export type InventorySnapshot = z.infer<typeof InventorySnapshot>;

export const SnapshotOutcome = z.object({
	sku: z.string(),
	location: z.string(),
	status: z.enum(["applied", "stale"]),
	onHand: z.number().int(),
});
export type SnapshotOutcome = z.infer<typeof SnapshotOutcome>;

export const Availability = z.object({
	sku: z.string(),
	available: z.number().int().nonnegative(),
	onHand: z.number().int(),
	reserved: z.number().int().nonnegative(),
	/** ISO 8601 UTC time of the last change to this SKU; null when it has never been stocked. */
	updatedAt: z.string().nullable(),
});
export type Availability = z.infer<typeof Availability>;
