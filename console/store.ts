// The console's in-memory model of the live feed: a bounded window of flow events (older ones
// are dropped, so memory stays flat at any rate), the header's rates, the active filter, and pause.
// Plain classes with `now` passed in, so every rule is testable without Ink or a clock.
import { type Filter, isEmptyFilter, matchesFlow, parseFilter } from "./filter";
import type { FlowEvent } from "./protocol";

/** Inbound webhooks, whatever became of them. */
const WEBHOOK_TYPES = new Set(["received", "duplicate", "stale", "ignored", "quarantined"]);
/** Something failed: a call to retry, a dead letter, a stuck step, a bad payload, an order with nowhere to go. */
const FAILURE_TYPES = new Set(["retrying", "dead-lettered", "failed", "quarantined", "unroutable"]);

const WEBHOOK_WINDOW_MS = 10_000;
const MINUTE_MS = 60_000;

export type Rates = {
	/** Webhooks per second over the last 10 s. */
	webhooksPerSecond: number;
	/** Distinct orders whose first `received` event (in this session) was in the last 60 s. */
	ordersPerMinute: number;
	/** Failure events in the last 60 s. */
	failuresPerMinute: number;
};

/** Counts by the events' own times, so the backlog sent on connect counts when it happened, not when it arrived. */
export class RateCounter {
	#webhooks: number[] = [];
	#failures: number[] = [];
	#newOrders: number[] = [];
	/** Orders received in this session (bounded), so an order's later webhooks are not new orders. */
	#seen = new Set<string>();

	add(event: FlowEvent, now: number): void {
		const parsed = Date.parse(event.at);
		// A worker clock slightly ahead must not make an event count for longer than its window.
		const at = Number.isNaN(parsed) ? now : Math.min(parsed, now);
		if (WEBHOOK_TYPES.has(event.type)) this.#webhooks.push(at);
		if (FAILURE_TYPES.has(event.type)) this.#failures.push(at);
		if (event.type === "received" && event.orderKey && !this.#seen.has(event.orderKey)) {
			this.#seen.add(event.orderKey);
			if (this.#seen.size > 50_000) this.#seen.delete(this.#seen.values().next().value as string);
			this.#newOrders.push(at);
		}
	}

	rates(now: number): Rates {
		this.#webhooks = since(this.#webhooks, now - WEBHOOK_WINDOW_MS);
		this.#failures = since(this.#failures, now - MINUTE_MS);
		this.#newOrders = since(this.#newOrders, now - MINUTE_MS);
		return {
			webhooksPerSecond: this.#webhooks.length / (WEBHOOK_WINDOW_MS / 1000),
			ordersPerMinute: this.#newOrders.length,
			failuresPerMinute: this.#failures.length,
		};
	}
}

function since(times: number[], cutoff: number): number[] {
	return times.some((t) => t <= cutoff) ? times.filter((t) => t > cutoff) : times;
}

export type FlowStoreOptions = { limit?: number };

/** While paused: what the view froze on, and how many matching events came in since. */
type Paused = { snapshot: FlowEvent[]; since: number; newCount: number };

export class FlowStore {
	readonly limit: number;
	#events: FlowEvent[] = [];
	/** Events ever added; `#added - #events.length` is the arrival number of `#events[0]`. */
	#added = 0;
	#filterText = "";
	#filter: Filter = { text: [] };
	#paused: Paused | null = null;
	#selected: FlowEvent | null = null;
	#rates = new RateCounter();
	/** Order names by key, for events that carry only the key (bounded). */
	#names = new Map<string, string>();

	constructor(options: FlowStoreOptions = {}) {
		this.limit = options.limit ?? 2000;
	}

	add(events: readonly FlowEvent[], now: number): void {
		for (const event of events) {
			this.#rates.add(event, now);
			if (event.orderKey && event.orderName && !this.#names.has(event.orderKey)) {
				this.#names.set(event.orderKey, event.orderName);
				if (this.#names.size > 10_000) this.#names.delete(this.#names.keys().next().value as string);
			}
			if (this.#paused && this.#matches(event)) this.#paused.newCount++;
		}
		this.#events.push(...events);
		this.#added += events.length;
		if (this.#events.length > this.limit) this.#events.splice(0, this.#events.length - this.limit);
	}

	/** Marks events the console never saw (pruned by the worker while it was away). */
	addGap(after: number, until: number, now: number): void {
		const missed = until - after;
		this.add([{ cursor: until, at: new Date(now).toISOString(), type: "console.missed", detail: `${missed} event${missed === 1 ? "" : "s"} pruned before this console saw them` }], now);
	}

	/** Every kept event, oldest first. */
	get events(): readonly FlowEvent[] {
		return this.#events;
	}

	nameOf = (orderKey: string): string | undefined => this.#names.get(orderKey);

	rates(now: number): Rates {
		return this.#rates.rates(now);
	}

	get filterText(): string {
		return this.#filterText;
	}

	get filter(): Filter {
		return this.#filter;
	}

	/** Sets the filter from what the operator typed; blank clears it. */
	setFilter(text: string): void {
		this.#filterText = text.trim();
		this.#filter = parseFilter(this.#filterText);
		if (this.#paused) {
			const since = this.#paused.since;
			const first = this.#added - this.#events.length;
			const kept = this.#events.filter((event) => this.#matches(event));
			const before = this.#events.filter((event, i) => first + i < since && this.#matches(event));
			this.#paused = { snapshot: before, since, newCount: kept.length - before.length };
		}
		if (this.#selected && !this.visible().includes(this.#selected)) this.#selected = null;
	}

	/** The events the view shows, oldest first: the filtered window, or what it froze on while paused. */
	visible(): readonly FlowEvent[] {
		if (this.#paused) return this.#paused.snapshot;
		return isEmptyFilter(this.#filter) ? this.#events : this.#events.filter((event) => this.#matches(event));
	}

	get paused(): boolean {
		return this.#paused !== null;
	}

	/** Matching events that arrived since the pause. */
	get newCount(): number {
		return this.#paused?.newCount ?? 0;
	}

	pause(): void {
		if (this.#paused) return;
		this.#paused = { snapshot: [...this.visible()], since: this.#added, newCount: 0 };
	}

	/** Back to live: the newest events, no selection. */
	resume(): void {
		this.#paused = null;
		this.#selected = null;
	}

	get selected(): FlowEvent | null {
		return this.#selected;
	}

	/** Selecting an event pauses the feed, so the selection stays put. */
	select(event: FlowEvent | null): void {
		if (event) this.pause();
		this.#selected = event;
	}

	#matches(event: FlowEvent): boolean {
		return isEmptyFilter(this.#filter) || matchesFlow(this.#filter, event, event.orderKey ? this.#names.get(event.orderKey) : undefined);
	}
}
