/** What a call to an outside system came to: done, or why not and whether trying again can help. */
export type CallResult<T> =
	| { ok: true; value: T }
	| { ok: false; retryable: boolean; error: string; retryAfterMs?: number; status?: number };

export type CallFailure = Extract<CallResult<unknown>, { ok: false }>;

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * One HTTP request with a deadline, classified the way every connector needs it: a network
 * error, a timeout, 408, 429 and 5xx can succeed later; other 4xx will not. The response of a
 * 2xx (or a 4xx the caller wants to read, such as a duplicate) comes back as `response`.
 */
export async function send(
	url: string,
	init: RequestInit,
	options: { timeoutMs?: number; readable?: (status: number) => boolean } = {},
): Promise<{ ok: true; response: Response } | CallFailure> {
	let response: Response;
	try {
		response = await fetch(url, { ...init, signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS) });
	} catch (error) {
		const name = (error as Error).name;
		const reason = name === "TimeoutError" || name === "AbortError" ? "timed out" : (error as Error).message;
		return { ok: false, retryable: true, error: `network: ${reason}` };
	}
	if (response.ok || options.readable?.(response.status)) return { ok: true, response };
	const text = await response.text().catch(() => "");
	const detail = `${response.status}${text ? `: ${text.slice(0, 300)}` : ""}`;
	const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
	return { ok: false, retryable, status: response.status, error: detail, retryAfterMs: retryAfterMs(response.headers.get("Retry-After")) };
}

/** `Retry-After` as seconds (possibly fractional, as Shopify sends) or an HTTP date. */
export function retryAfterMs(header: string | null): number | undefined {
	if (!header) return undefined;
	const seconds = Number(header);
	if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
	const at = Date.parse(header);
	return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
