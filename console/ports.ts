// The two things the interactive console needs from the outside world, as interfaces, so the
// views can be tested with ink-testing-library against in-memory versions and run against the
// real worker through `api.ts` and `stream.ts`.
import type { ExceptionDetail, ExceptionItem, FlowEvent, OrderView, PayoutItem, PayoutReport, ReplayResult, SkuDetail } from "./protocol";

export type Role = "read" | "operator" | "admin";

/** An ops API answer other than 2xx (or no answer at all: status 0). */
export class OpsError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
	) {
		super(message);
	}
}

/** The ops HTTP API. Every method throws OpsError on a non-2xx answer or a network failure. */
export interface Ops {
	/** An order by key (`<connection>:<channel order id>`) or by name (`#1001`). */
	order(keyOrName: string): Promise<OrderView>;
	sku(sku: string): Promise<SkuDetail>;
	exceptions(status?: "open" | "resolved" | "all"): Promise<ExceptionItem[]>;
	exception(id: string): Promise<ExceptionDetail>;
	/** Replays a quarantined webhook or retries a dead-lettered delivery (operator token only). */
	replay(id: string): Promise<ReplayResult>;
	/** Gives up on a dead-lettered delivery, or marks a payout exception reviewed (operator token only). */
	cancel(id: string): Promise<ReplayResult>;
	/** Payouts, most recently changed first. */
	payouts(limit?: number): Promise<PayoutItem[]>;
	/** One payout's reconciliation report. */
	payout(connection: string, payoutId: string): Promise<PayoutReport>;
}

/** The stream's news of a payout: it was received, reconciled or posted. */
export type PayoutChange = { payoutKey: string; status: string };

export type StreamStatus =
	| { state: "connecting"; attempt: number }
	| { state: "live"; role: Role; cursor: number }
	| { state: "reconnecting"; attempt: number; reason: string; retryInMs: number }
	/** The worker refused the token (401/403): retrying will not help. */
	| { state: "refused"; reason: string };

export interface StreamListener {
	status?(status: StreamStatus): void;
	/** Events in cursor order, never twice, resumed after the last cursor seen across reconnects. */
	events?(events: FlowEvent[]): void;
	/** Events after `after` up to `until` were pruned before this console could see them. */
	gap?(after: number, until: number): void;
	exception?(item: ExceptionItem): void;
	payout?(change: PayoutChange): void;
}

export interface Stream {
	/** Adds a listener; returns the function that removes it. The current status is sent at once. */
	subscribe(listener: StreamListener): () => void;
	close(): void;
}
