// The live flow stream over a WebSocket: connects once something listens, reconnects forever with
// full-jitter backoff, resumes after the last cursor seen, and hands each event to listeners
// exactly once, in cursor order.
import { OpsClient } from "./api";
import { OpsError, type Stream, type StreamListener, type StreamStatus } from "./ports";
import { StreamMessage } from "./protocol";

/** The part of a WebSocket the stream uses; Node 22's global WebSocket (undici) has it. */
export interface SocketLike {
	onopen: ((event: unknown) => void) | null;
	onmessage: ((event: { data: unknown }) => void) | null;
	onclose: ((event: { code: number; reason: string }) => void) | null;
	onerror: ((event: unknown) => void) | null;
	send(data: string): void;
	close(code?: number, reason?: string): void;
}
export type SocketConstructor = new (url: string, init: { headers: Record<string, string> }) => SocketLike;

export interface Timers {
	setTimeout(callback: () => void, ms: number): unknown;
	clearTimeout(handle: unknown): void;
}

export type FlowStreamOptions = {
	WebSocket?: SocketConstructor;
	timers?: Timers;
	/** For the one `GET /ops/whoami` that tells a refused token from a worker that is down. */
	fetch?: typeof fetch;
	random?: () => number;
	/** Resume after this cursor rather than start with the latest events. */
	after?: number;
};

export const BACKOFF_BASE_MS = 250;
export const BACKOFF_CAP_MS = 5_000;
export const PING_EVERY_MS = 20_000;
/** Twice the ping interval and then some: a worker that answers nothing for this long is gone. */
export const IDLE_LIMIT_MS = 45_000;

const realTimers: Timers = {
	setTimeout: (callback, ms) => setTimeout(callback, ms),
	clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class FlowStream implements Stream {
	readonly #url: string;
	readonly #token: string;
	readonly #WebSocket: SocketConstructor;
	readonly #timers: Timers;
	readonly #ops: OpsClient;
	readonly #random: () => number;
	readonly #listeners = new Set<StreamListener>();
	#status: StreamStatus = { state: "connecting", attempt: 1 };
	#socket: SocketLike | null = null;
	/** The cursor to resume after: the newest handed to listeners, or where the worker said it starts. */
	#last: number | null = null;
	/** Connection attempts that failed since the stream was last live. */
	#failures = 0;
	#retry: unknown = null;
	#ping: unknown = null;
	#idle: unknown = null;
	/** Connects on the first subscribe: events that arrived before anyone listened would be lost. */
	#started = false;
	#closed = false;

	constructor(url: string, token: string, options: FlowStreamOptions = {}) {
		this.#url = url.replace(/\/+$/, "");
		this.#token = token;
		this.#WebSocket = options.WebSocket ?? (globalThis.WebSocket as unknown as SocketConstructor);
		this.#timers = options.timers ?? realTimers;
		this.#ops = new OpsClient(url, token, { fetch: options.fetch });
		this.#random = options.random ?? Math.random;
		this.#last = options.after ?? null;
	}

	subscribe(listener: StreamListener): () => void {
		this.#listeners.add(listener);
		if (this.#started || this.#closed) listener.status?.(this.#status);
		else {
			this.#started = true;
			this.#connect(); // which reports "connecting" to the listener
		}
		return () => this.#listeners.delete(listener);
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#timers.clearTimeout(this.#retry);
		const socket = this.#socket;
		this.#detach();
		socket?.close(1000, "console closed");
	}

	#connect(): void {
		if (this.#closed) return;
		this.#setStatus({ state: "connecting", attempt: this.#failures + 1 });
		const url = new URL(`${this.#url}/ops/stream`);
		url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
		if (this.#last !== null) url.searchParams.set("after", String(this.#last));
		let socket: SocketLike;
		try {
			socket = new this.#WebSocket(url.href, { headers: { Authorization: `Bearer ${this.#token}` } });
		} catch (error) {
			this.#scheduleRetry(error instanceof Error ? error.message : String(error));
			return;
		}
		this.#socket = socket;
		let opened = false;
		socket.onopen = () => {
			opened = true;
			this.#armIdle(socket);
			this.#armPing(socket);
		};
		socket.onmessage = (event) => {
			this.#armIdle(socket);
			if (typeof event.data === "string") this.#receive(event.data);
		};
		// undici reports a failed handshake as error then close; either one ends this socket, once.
		const dropped = (reason: string) => {
			if (this.#socket !== socket) return;
			this.#detach();
			if (opened) this.#scheduleRetry(reason);
			else void this.#diagnose();
		};
		socket.onerror = () => dropped("the connection failed");
		socket.onclose = (event) => dropped(`the connection closed (${event.code}${event.reason ? ` ${event.reason}` : ""})`);
	}

	#receive(data: string): void {
		if (data === "pong") return;
		let json: unknown;
		try {
			json = JSON.parse(data);
		} catch {
			return;
		}
		const parsed = StreamMessage.safeParse(json);
		if (!parsed.success) return;
		const message = parsed.data;
		switch (message.type) {
			case "hello":
				// The worker says where its catch-up starts, which covers every case at once: a first
				// connect to an empty log (resume after 0, not "the latest"), a gap, a log that started over.
				if (message.from !== undefined) this.#last = message.from;
				this.#failures = 0;
				this.#setStatus({ state: "live", role: message.role, cursor: message.cursor });
				return;
			case "events": {
				const fresh = [];
				for (const event of message.events) {
					if (this.#last !== null && event.cursor <= this.#last) continue;
					fresh.push(event);
					this.#last = event.cursor;
				}
				if (fresh.length > 0) for (const listener of this.#listeners) listener.events?.(fresh);
				return;
			}
			case "gap":
				if (this.#last === null || message.until > this.#last) this.#last = message.until;
				for (const listener of this.#listeners) listener.gap?.(message.after, message.until);
				return;
			case "exception":
				for (const listener of this.#listeners) listener.exception?.(message.exception);
				return;
			case "payout":
				for (const listener of this.#listeners) listener.payout?.({ payoutKey: message.payoutKey, status: message.status });
				return;
		}
	}

	/**
	 * The handshake failed, and undici does not say with which status: one `GET /ops/whoami` with the
	 * same token tells a refused token (401/403: retrying will not help) from a worker that is down.
	 */
	async #diagnose(): Promise<void> {
		let reason: string;
		try {
			await this.#ops.whoami();
			reason = "the worker refused the stream";
		} catch (error) {
			const status = error instanceof OpsError ? error.status : 0;
			if (status === 401 || status === 403) {
				if (!this.#closed) this.#setStatus({ state: "refused", reason: `the worker refused the token (${status})` });
				return;
			}
			reason = status === 0 ? `cannot reach ${this.#url}` : `the worker answered ${status}`;
		}
		this.#scheduleRetry(reason);
	}

	#scheduleRetry(reason: string): void {
		if (this.#closed) return;
		this.#failures++;
		// Full jitter: a random wait up to the exponential ceiling, so consoles do not reconnect in step.
		const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (this.#failures - 1));
		const retryInMs = Math.round(this.#random() * ceiling);
		this.#setStatus({ state: "reconnecting", attempt: this.#failures, reason, retryInMs });
		this.#retry = this.#timers.setTimeout(() => this.#connect(), retryInMs);
	}

	#armPing(socket: SocketLike): void {
		this.#ping = this.#timers.setTimeout(() => {
			try {
				socket.send("ping");
			} catch {
				// the close event follows
			}
			this.#armPing(socket);
		}, PING_EVERY_MS);
	}

	#armIdle(socket: SocketLike): void {
		this.#timers.clearTimeout(this.#idle);
		this.#idle = this.#timers.setTimeout(() => {
			if (this.#socket !== socket) return;
			this.#detach();
			socket.close(4000, "idle");
			this.#scheduleRetry(`no message for ${IDLE_LIMIT_MS / 1000} s`);
		}, IDLE_LIMIT_MS);
	}

	/** Forgets the current socket: its late events are ignored, its timers stopped. */
	#detach(): void {
		const socket = this.#socket;
		this.#socket = null;
		this.#timers.clearTimeout(this.#ping);
		this.#timers.clearTimeout(this.#idle);
		this.#ping = this.#idle = null;
		if (socket) socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
	}

	#setStatus(status: StreamStatus): void {
		this.#status = status;
		for (const listener of this.#listeners) listener.status?.(status);
	}
}
