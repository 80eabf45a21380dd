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

export const InventoryDeltas = z.object({
	/** The feed; its `seq` numbers run per source and SKU, each one higher than the last. */
	source: z.string().min(1).max(200),
	items: z
		.array(
			z.object({
				sku: Sku,
				location: Location,
				delta: z.number().int().refine((n) => n !== 0, "a delta of 0 changes nothing"),
				seq: z.number().int().nonnegative(),
				reason: z.string().max(200).optional(),
			}),
		)
		.min(1)
		.max(1000),
});
export type InventoryDeltas = z.infer<typeof InventoryDeltas>;

export const DeltaOutcome = z.object({
	sku: z.string(),
	source: z.string(),
	seq: z.number().int(),
	status: z.enum(["applied", "duplicate", "gap"]),
	/** For a gap: the sequence number the ledger is waiting for. */
	expected: z.number().int().optional(),
});
export type DeltaOutcome = z.infer<typeof DeltaOutcome>;

export const ReturnReceipts = z.object({
	source: z.string().min(1).max(200),
	items: z
		.array(
			z.object({
				receiptId: z.string().min(1).max(200),
				sku: Sku,
				location: Location,
				quantity: z.number().int().positive(),
				orderKey: z.string().max(400).optional(),
				lineId: z.string().max(200).optional(),
			}),
		)
		.min(1)
		.max(1000),
});

export const StockAdjustment = z.object({
	location: Location,
	delta: z.number().int().refine((n) => n !== 0, "a delta of 0 changes nothing"),
	operator: z.string().min(1).max(200),
	reason: z.string().min(1).max(500),
});

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
	/** What each connection (sales channel) is shown, after its locations and rules. */
	channels: z.record(z.string(), z.number().int().nonnegative()),
	/** For a bundle: what it is made of. */
	components: z.array(z.object({ sku: z.string(), quantity: z.number().int().positive() })).optional(),
});
export type Availability = z.infer<typeof Availability>;
