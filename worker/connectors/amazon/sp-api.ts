import { type CallFailure, retryAfterMs, send } from "../call";
import { type AmazonAccount, type AmazonCredentials, LWA_TOKEN_ENDPOINT, spApiBase } from "./account";
import { forgetLwaToken, type LwaClient, lwaAccessToken } from "./lwa";
import { AmazonErrorList } from "./payloads";

/**
 * One Selling Partner API call, as every operation ordersync uses makes it.
 *
 * The call carries the LWA access token in `x-amz-access-token`, or, for a restricted operation,
 * a Restricted Data Token in its place ("Pass this value with the x-amz-access-token header when
 * making subsequent calls to these restricted resources", tokens_2021-03-01.json). SigV4 is no
 * longer needed ("Starting October 2, 2023, SP-API no longer requires … AWS Signature Version 4").
 * Errors are `{ errors: [{ code, message, details }] }`. A 403 whose details say the LWA token
 * expired or is invalid drops the cached token and is tried once more with a fresh one. 429
 * (QuotaExceeded) is retryable; Amazon sends no Retry-After, but `x-amzn-RateLimit-Limit`, when
 * present, is the operation's rate in requests per second, so the wait is one token's worth of it.
 */

export type Options = { timeoutMs: number };

const USER_AGENT = "ordersync/0.1 (Language=TypeScript; Platform=Cloudflare Workers)";

export function lwaClient(account: AmazonAccount, credentials: AmazonCredentials): LwaClient {
	return {
		tokenEndpoint: account.tokenEndpoint ?? LWA_TOKEN_ENDPOINT,
		clientId: account.lwaClientId,
		clientSecret: credentials.lwaClientSecret,
		refreshToken: credentials.refreshToken,
	};
}

export const orderPath = (orderId: string) => `/orders/v0/orders/${encodeURIComponent(orderId)}`;

/**
 * `body`: sent as JSON. `readable`: error statuses handed back as a response for the caller to
 * read (after the expired-token retry). `restrictedDataToken`: sent instead of the LWA token; a
 * 403 then means Amazon refused that token for this call, which a fresh token (a new fetch) may
 * cure, so it is retryable.
 */
export type SpApiExtra = { body?: unknown; readable?: number[]; restrictedDataToken?: string };

/**
 * One SP-API call with its access token. Statuses in `readable` come back for the caller to read;
 * every other error is classified here (429, 5xx and network: retryable; other 4xx: not).
 */
export async function spApi(
	account: AmazonAccount,
	credentials: AmazonCredentials,
	method: "GET" | "POST" | "PATCH",
	path: string,
	options: Options,
	extra: SpApiExtra = {},
): Promise<{ ok: true; response: Response } | CallFailure> {
	const label = `Amazon ${method} ${path.split("?")[0]}`;
	const client = lwaClient(account, credentials);
	const readable = extra.readable ?? [];
	const rdt = extra.restrictedDataToken;
	for (let attempt = 0; ; attempt++) {
		let token = rdt;
		if (token === undefined) {
			const lwa = await lwaAccessToken(client, options);
			if (!lwa.ok) return lwa;
			token = lwa.value;
		}
		const headers: Record<string, string> = {
			"x-amz-access-token": token,
			// Harmless without SigV4; whether it is still required is not documented.
			"x-amz-date": new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, ""),
			"user-agent": USER_AGENT,
			accept: "application/json",
		};
		if (extra.body !== undefined) headers["content-type"] = "application/json";
		const result = await send(
			`${spApiBase(account)}${path}`,
			{ method, headers, body: extra.body === undefined ? undefined : JSON.stringify(extra.body) },
			{ timeoutMs: options.timeoutMs, readable: (status) => status === 429 || (status >= 400 && status < 500) },
		);
		if (!result.ok) return { ...result, error: `${label}: ${result.error}` };
		const response = result.response;
		if (response.ok) return result;

		const text = await response.text().catch(() => "");
		// "The access token you provided has expired." / "… is revoked, malformed or invalid."
		if (response.status === 403 && rdt === undefined && attempt === 0 && /access token/i.test(text)) {
			forgetLwaToken(client, token);
			continue;
		}
		if (readable.includes(response.status)) return { ok: true, response: new Response(text, { status: response.status, headers: response.headers }) };
		const detail = errorText(text);
		if (response.status === 429) {
			const wait = retryAfterMs(response.headers.get("Retry-After")) ?? rateLimitWait(response.headers.get("x-amzn-RateLimit-Limit"));
			return { ok: false, retryable: true, status: 429, error: `${label}: 429 ${detail}`, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
		}
		if (response.status === 403 && rdt !== undefined) {
			return { ok: false, retryable: true, status: 403, error: `${label} with a Restricted Data Token: 403 ${detail}` };
		}
		return { ok: false, retryable: response.status === 408, status: response.status, error: `${label}: ${response.status} ${detail}` };
	}
}

/** `code: message (details)` of each error in an ErrorList, or the raw text. */
export function errorText(text: string): string {
	try {
		const list = AmazonErrorList.safeParse(JSON.parse(text));
		if (list.success) return list.data.errors.map((e) => `${e.code}: ${e.message ?? ""}${e.details ? ` (${e.details})` : ""}`).join("; ");
	} catch {
		// not JSON
	}
	return text.slice(0, 300);
}

/** x-amzn-RateLimit-Limit is requests per second ("0.5"): the wait for one request's worth. */
function rateLimitWait(header: string | null): number | undefined {
	const rate = header === null ? Number.NaN : Number(header);
	return Number.isFinite(rate) && rate > 0 ? Math.ceil(1000 / rate) : undefined;
}
