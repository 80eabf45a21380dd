import { z } from "zod";

/**
 * Outbound control numbers for one trading partner, as pure functions over a small state; the
 * lead's Durable Object per partner holds the state and persists each new state before the
 * document using it is sent (edi.md §1.5: "increment each counter monotonically and persist it
 * before sending").
 *
 * - ISA13: nine digits, one per interchange; GS06: one per functional group; ST02: one per
 *   transaction set, at least four digits. All three count up per partner and wrap from
 *   999999999 to 1, so a number comes back only after a billion documents (receivers de-duplicate
 *   on ISA06/ISA08/ISA13 within a retention window far shorter than that).
 * - ST02 counts across groups, so it is unique within each group (AK502 23) and beyond.
 * - A request may carry a `key` naming the document (e.g. `856:<order>:<shipment>`): asking again
 *   with the same key returns the same numbers and issue time, unchanged state. A retry after a
 *   lost response then re-sends the identical interchange, which the partner de-duplicates on
 *   ISA13 instead of receiving the shipment twice. The last `remember` keys are kept.
 */

const MAX = 999_999_999;

const Issued = z.object({
	isa: z.string(),
	gs: z.array(z.string()),
	st: z.array(z.array(z.string())),
	/** When the numbers were issued (ISO 8601 UTC): the document's envelope and BSN/BIA times. */
	issuedAt: z.string(),
});
export type ControlNumbers = z.infer<typeof Issued>;

export const ControlState = z.object({
	/** The last number issued of each kind (0 = none yet). */
	isa: z.number().int().min(0).max(MAX),
	gs: z.number().int().min(0).max(MAX),
	st: z.number().int().min(0).max(MAX),
	/** Keyed documents, oldest first. */
	issued: z.array(z.object({ key: z.string(), numbers: Issued })),
});
export type ControlState = z.infer<typeof ControlState>;

export type ControlRequest = {
	/** Transaction sets in each functional group of the interchange (default one group of one set). */
	sets?: number[];
	/** Names the document; the same key gets the same numbers again. */
	key?: string;
	/** Issue time, ms since the epoch (default now). */
	now?: number;
	/** How many keys to remember (default 1000). */
	remember?: number;
};

export type NextControlNumbers = ControlNumbers & { state: ControlState; reused: boolean };

/** A fresh partner's state; `start` continues the numbering of a previous system. */
export function initialControlState(start: { isa?: number; gs?: number; st?: number } = {}): ControlState {
	return { isa: start.isa ?? 0, gs: start.gs ?? 0, st: start.st ?? 0, issued: [] };
}

const bump = (n: number) => (n >= MAX ? 1 : n + 1);

/** The numbers for the next interchange, and the state to persist before it is sent. */
export function nextControlNumbers(state: ControlState | null | undefined, request: ControlRequest = {}): NextControlNumbers {
	const current = state ?? initialControlState();
	const shape = request.sets ?? [1];
	if (shape.length === 0 || shape.some((n) => !Number.isInteger(n) || n < 1)) {
		throw new RangeError(`sets ${JSON.stringify(shape)}: each functional group needs a whole number (≥ 1) of transaction sets`);
	}
	if (request.key !== undefined) {
		const known = current.issued.find((entry) => entry.key === request.key);
		if (known) {
			const same = known.numbers.st.length === shape.length && known.numbers.st.every((sets, i) => sets.length === shape[i]);
			if (!same) throw new RangeError(`document ${request.key} was issued numbers for ${JSON.stringify(known.numbers.st.map((s) => s.length))} sets, not ${JSON.stringify(shape)}`);
			return { ...known.numbers, state: current, reused: true };
		}
	}
	let { isa, gs, st } = current;
	isa = bump(isa);
	const groups: string[] = [];
	const sets: string[][] = [];
	for (const count of shape) {
		gs = bump(gs);
		groups.push(String(gs));
		const numbers: string[] = [];
		for (let i = 0; i < count; i++) {
			st = bump(st);
			numbers.push(String(st).padStart(4, "0"));
		}
		sets.push(numbers);
	}
	const numbers: ControlNumbers = { isa: String(isa).padStart(9, "0"), gs: groups, st: sets, issuedAt: new Date(request.now ?? Date.now()).toISOString() };
	let issued = current.issued;
	if (request.key !== undefined) {
		const remember = request.remember ?? 1000;
		issued = remember <= 0 ? [] : [...issued, { key: request.key, numbers }].slice(-remember);
	}
	return { ...numbers, state: { isa, gs, st, issued }, reused: false };
}

/**
 * Where a partner's state lives, and how the connector asks for numbers: the lead's Durable
 * Object runs `nextControlNumbers` and persists the state in one step (e.g. an RPC method
 * `allocate(request)` around a `transactionSync`).
 */
export type ControlAllocator = (request: ControlRequest) => Promise<ControlNumbers>;

/** An allocator over state kept in memory (tests, the sandbox): not durable. */
export function memoryAllocator(initial?: ControlState): ControlAllocator & { state(): ControlState } {
	let state = initial ?? initialControlState();
	const allocate = async (request: ControlRequest) => {
		const next = nextControlNumbers(state, request);
		state = next.state;
		const { state: _, reused: __, ...numbers } = next;
		return numbers;
	};
	return Object.assign(allocate, { state: () => state });
}
