/**
 * Faults the sandbox peers can be told to commit, the way real vendors fail: 5xx, 429 with
 * Retry-After, slow answers, timeouts, and the worst one, a request that was carried out but
 * whose answer never arrived in time ("lost-response"), which is what idempotency keys are for.
 *
 * "refuse" is a 4xx the vendor gives when it will not take a request as it stands (a setup problem
 * on the merchant's side): never retried, so the delivery is dead-lettered for an operator.
 *
 * A fault either fires for the next `remaining` calls to its target, or (with `rate`) at random
 * on that share of calls until it is cleared.
 */
export type FaultKind = "500" | "503" | "429" | "throttle" | "slow" | "timeout" | "lost-response" | "refuse";
export type Target = "shopify" | "shipbob" | "easypost" | "tiktok" | "amazon" | "woocommerce" | "edi" | "netsuite";
export type Fault = {
	target: Target | "*";
	kind: FaultKind;
	/** Fires on this many calls, then is gone (default 1); ignored when `rate` is set. */
	remaining?: number;
	/** Fires on this share of calls (0..1) until cleared; `kinds` picks one per firing. */
	rate?: number;
	kinds?: FaultKind[];
	/** Delay for slow, timeout and lost-response (default 2 s, 15 s, 15 s). */
	ms?: number;
	/** What a 429 asks for in Retry-After, in seconds (default 1). */
	retryAfterSeconds?: number;
};

/** One firing of a fault. */
export type Firing = { kind: FaultKind; ms?: number; retryAfterSeconds?: number };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Faults {
	#faults: Fault[] = [];
	/** How many times each kind fired, per target: the fault test reports it. */
	fired: Record<string, number> = {};

	add(fault: Fault): void {
		this.#faults.push({ ...fault, target: fault.target ?? "shopify", remaining: fault.rate === undefined ? (fault.remaining ?? 1) : undefined });
	}

	/** Clears the faults and their tally. */
	clear(): void {
		this.#faults = [];
		this.fired = {};
	}

	list(): Fault[] {
		return this.#faults;
	}

	/** The fault to commit on this call to `target`, if any. */
	pick(target: Target): Firing | null {
		for (const fault of this.#faults) {
			if (fault.target !== "*" && fault.target !== target) continue;
			if (fault.rate !== undefined) {
				if (Math.random() >= fault.rate) continue;
				const kinds = fault.kinds?.length ? fault.kinds : [fault.kind];
				return this.#fire(target, { kind: kinds[Math.floor(Math.random() * kinds.length)]!, ms: fault.ms, retryAfterSeconds: fault.retryAfterSeconds });
			}
			fault.remaining = (fault.remaining ?? 1) - 1;
			if (fault.remaining <= 0) this.#faults.splice(this.#faults.indexOf(fault), 1);
			return this.#fire(target, { kind: fault.kind, ms: fault.ms, retryAfterSeconds: fault.retryAfterSeconds });
		}
		return null;
	}

	#fire(target: Target, fault: Firing) {
		const key = `${target}:${fault.kind}`;
		this.fired[key] = (this.fired[key] ?? 0) + 1;
		return fault;
	}
}

/**
 * Commits a fault that answers before the request is carried out: returns the response to send,
 * or null when the request should go ahead (slow answers have already waited).
 */
export async function failBefore(
	fault: Firing | null,
	shapes: { error5xx: (status: number) => Response; tooMany: (retryAfterSeconds: number) => Response; refused?: () => Response },
): Promise<Response | null> {
	if (!fault) return null;
	switch (fault.kind) {
		case "500":
			return shapes.error5xx(500);
		case "503":
			return shapes.error5xx(503);
		case "429":
			return shapes.tooMany(fault.retryAfterSeconds ?? 1);
		case "slow":
			await sleep(fault.ms ?? 2_000);
			return null;
		case "timeout":
			await sleep(fault.ms ?? 15_000);
			return shapes.error5xx(504);
		case "refuse":
			return shapes.refused?.() ?? null;
		default:
			return null; // throttle is vendor-specific; lost-response happens after the work
	}
}

/** After the work: a lost response is held back until the caller has given up. */
export async function failAfter(fault: Firing | null): Promise<void> {
	if (fault?.kind === "lost-response") await sleep(fault.ms ?? 15_000);
}
