// The ops HTTP API over fetch: every answer is checked against protocol.ts, every failure becomes
// an OpsError (status 0 when the worker could not be reached or did not answer in time).
import { z } from "zod";
import { OpsError, type Ops, type Role } from "./ports";
import { ApiError, ExceptionDetail, ExceptionItem, FlowEvent, OrderView, PayoutItem, PayoutReport, PayoutSync, PayoutUpload, ReplayResult, SkuDetail, SweepList, SweepRun } from "./protocol";

export const REQUEST_TIMEOUT_MS = 10_000;
/**
 * A payout sync fetches each payout from the channel in turn (up to 15 s each, on the worker), an
 * upload parses and matches a file of thousands of lines, and a sweep run reads the channel's pages
 * and orders: they get longer than a look-up.
 */
export const WRITE_TIMEOUT_MS = 300_000;

const FlowsPage = z.looseObject({ events: z.array(FlowEvent), cursor: z.number().int() });
export type FlowsPage = z.infer<typeof FlowsPage>;

const OrderMatch = z.looseObject({ key: z.string(), name: z.string(), connection: z.string(), status: z.string().nullable(), updatedAt: z.string() });
export type OrderMatch = z.infer<typeof OrderMatch>;

/**
 * One replay's outcome, success or not: what `ordersync replay --json` prints per id, in the names
 * of the worker's bulk replay (`status` is what happened, `httpStatus` the answer's; 0: no answer).
 */
export type ReplayOutcome =
	| ({ id: string; ok: true; httpStatus: number } & ReplayResult)
	| { id: string; ok: false; httpStatus: number; code: string; message: string };

export type OpsClientOptions = { timeoutMs?: number; writeTimeoutMs?: number; fetch?: typeof fetch };

type CallInit = { body?: { json: unknown } | { text: string | Uint8Array; type: string }; timeoutMs?: number };

export class OpsClient implements Ops {
	readonly #base: string;
	readonly #token: string;
	readonly #timeoutMs: number;
	readonly #writeTimeoutMs: number;
	readonly #fetch: typeof fetch;

	constructor(url: string, token: string, options: OpsClientOptions = {}) {
		this.#base = url.replace(/\/+$/, "");
		this.#token = token;
		this.#timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
		this.#writeTimeoutMs = options.writeTimeoutMs ?? WRITE_TIMEOUT_MS;
		this.#fetch = options.fetch ?? fetch;
	}

	/** By key when it has a `:` (`shopify-demo:6100000001`), else by name; the latest updated wins a tie. */
	async order(keyOrName: string): Promise<OrderView> {
		if (keyOrName.includes(":")) return (await this.#call("GET", `/ops/orders/${encodeURIComponent(keyOrName)}`, OrderView)).data;
		const matches = await this.ordersByName(keyOrName);
		const latest = matches.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
		if (!latest) throw new OpsError(404, "unknown_order", `no order named ${keyOrName}`);
		return this.order(latest.key);
	}

	/** Orders with this name; `1001` also finds `#1001`, since a shell takes an unquoted `#` for a comment. */
	async ordersByName(name: string): Promise<OrderMatch[]> {
		const lookup = async (n: string) => (await this.#call("GET", `/ops/orders?name=${encodeURIComponent(n)}`, z.looseObject({ items: z.array(OrderMatch) }))).data.items;
		const items = await lookup(name);
		return items.length === 0 && /^\d+$/.test(name) ? lookup(`#${name}`) : items;
	}

	async sku(sku: string): Promise<SkuDetail> {
		return (await this.#call("GET", `/ops/skus/${encodeURIComponent(sku)}`, SkuDetail)).data;
	}

	async exceptions(status: "open" | "resolved" | "all" = "open"): Promise<ExceptionItem[]> {
		return (await this.#call("GET", `/ops/exceptions?status=${status}`, z.looseObject({ items: z.array(ExceptionItem) }))).data.items;
	}

	async exception(id: string): Promise<ExceptionDetail> {
		return (await this.#call("GET", `/ops/exceptions/${encodeURIComponent(id)}`, ExceptionDetail)).data;
	}

	async replay(id: string): Promise<ReplayResult> {
		return (await this.#call("POST", `/ops/exceptions/${encodeURIComponent(id)}/replay`, ReplayResult)).data;
	}

	/** Like `replay`, but reports a refusal instead of throwing it, with the HTTP status either way. */
	async replayOutcome(id: string): Promise<ReplayOutcome> {
		try {
			const { status, data } = await this.#call("POST", `/ops/exceptions/${encodeURIComponent(id)}/replay`, ReplayResult);
			return { id, ok: true, httpStatus: status, ...data };
		} catch (error) {
			if (!(error instanceof OpsError)) throw error;
			return { id, ok: false, httpStatus: error.status, code: error.code, message: error.message };
		}
	}

	async cancel(id: string): Promise<ReplayResult> {
		return (await this.#call("POST", `/ops/exceptions/${encodeURIComponent(id)}/cancel`, ReplayResult)).data;
	}

	/** Payouts, most recently changed first. */
	async payouts(limit = 100): Promise<PayoutItem[]> {
		return (await this.#call("GET", `/ops/settlements?limit=${limit}`, z.looseObject({ items: z.array(PayoutItem) }))).data.items;
	}

	async payout(connection: string, payoutId: string): Promise<PayoutReport> {
		return (await this.#call("GET", `/ops/settlements/${encodeURIComponent(connection)}/${encodeURIComponent(payoutId)}`, PayoutReport)).data;
	}

	/** Fetches one payout (or every payout paid since `since`) from the channel and reconciles each (operator token only). */
	async syncPayouts(connection: string, which: { payoutId: string } | { since: string }): Promise<PayoutSync> {
		return (await this.#call("POST", `/ops/settlements/${encodeURIComponent(connection)}/sync`, PayoutSync, { body: { json: which }, timeoutMs: this.#writeTimeoutMs })).data;
	}

	/** Sends an Amazon V2 settlement report (the tab-separated flat file, as downloaded) to be reconciled (operator token only). */
	async uploadAmazonReport(connection: string, report: string | Uint8Array): Promise<PayoutUpload> {
		const path = `/ops/settlements/${encodeURIComponent(connection)}/amazon-report`;
		return (await this.#call("POST", path, PayoutUpload, { body: { text: report, type: "text/tab-separated-values; charset=utf-8" }, timeoutMs: this.#writeTimeoutMs })).data;
	}

	/** Each connection's reconciliation sweep, with its last `runs` runs. */
	async sweeps(runs: number): Promise<SweepList> {
		return (await this.#call("GET", `/ops/sweeps?runs=${runs}`, SweepList)).data;
	}

	/** Sweeps one connection now and answers with the run when it is done (operator token only). */
	async runSweep(connection: string): Promise<SweepRun> {
		return (await this.#call("POST", `/ops/sweeps/${encodeURIComponent(connection)}/run`, SweepRun, { timeoutMs: this.#writeTimeoutMs })).data;
	}

	/** Kept flow events after `after`, oldest first; `cursor` is where to ask from next. */
	async flows(after = 0, limit = 200): Promise<FlowsPage> {
		return (await this.#call("GET", `/ops/flows?after=${after}&limit=${limit}`, FlowsPage)).data;
	}

	async whoami(): Promise<Role> {
		return (await this.#call("GET", "/ops/whoami", z.looseObject({ role: z.enum(["read", "operator", "admin"]) }))).data.role;
	}

	async #call<S extends z.ZodType>(method: "GET" | "POST", path: string, schema: S, init: CallInit = {}): Promise<{ status: number; data: z.infer<S> }> {
		const { body: sent, timeoutMs = this.#timeoutMs } = init;
		let response: Response;
		let text: string;
		const headers: Record<string, string> = { Authorization: `Bearer ${this.#token}` };
		if (sent) headers["Content-Type"] = "json" in sent ? "application/json" : sent.type;
		try {
			response = await this.#fetch(`${this.#base}${path}`, {
				method,
				headers,
				body: sent === undefined ? undefined : "json" in sent ? JSON.stringify(sent.json) : sent.text,
				signal: AbortSignal.timeout(timeoutMs),
			});
			text = await response.text();
		} catch (error) {
			throw unreachable(this.#base, timeoutMs, error);
		}
		const body = parseJson(text);
		if (!response.ok) {
			const api = ApiError.safeParse(body);
			if (api.success) throw new OpsError(response.status, api.data.error.code, api.data.error.message);
			throw new OpsError(response.status, `http_${response.status}`, `${method} ${path} answered ${response.status} ${response.statusText}`.trim());
		}
		const parsed = schema.safeParse(body);
		if (!parsed.success) throw new OpsError(response.status, "invalid_answer", `${method} ${path}: the worker's answer is not what this console expects (${z.prettifyError(parsed.error).split("\n")[0]})`);
		return { status: response.status, data: parsed.data };
	}
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

function unreachable(base: string, timeoutMs: number, error: unknown): OpsError {
	if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
		return new OpsError(0, "unreachable", `${base} did not answer within ${timeoutMs / 1000} s`);
	}
	// undici says "fetch failed" and puts the reason (ECONNREFUSED, ENOTFOUND, …) in `cause`.
	const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
	const code = (cause as { code?: unknown } | null)?.code;
	const detail = typeof code === "string" ? code : cause instanceof Error ? cause.message : String(cause);
	return new OpsError(0, "unreachable", `cannot reach ${base} (${detail})`);
}
