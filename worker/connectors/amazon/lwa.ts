import { z } from "zod";
import { type CallResult, send } from "../call";

/**
 * Login with Amazon, the refresh-token grant that gives SP-API calls their access token
 * (https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api, Step 1):
 *
 *   POST /auth/o2/token  Content-Type: application/x-www-form-urlencoded;charset=UTF-8
 *   grant_type=refresh_token&refresh_token=Atzr|…&client_id=…&client_secret=…
 *   → 200 {"access_token":"Atza|…","token_type":"bearer","expires_in":3600,"refresh_token":"Atzr|…"}
 *
 * "An LWA access token expires one hour after it is issued", so a token is kept in this isolate's
 * memory and reused until shortly before it expires. Only finished grants are shared between
 * requests: a Worker must not wait on another request's I/O, so two requests that both find no
 * token each ask for one (LWA gives each a valid token; nothing is lost but a round trip).
 *
 * Errors are OAuth 2.0 shaped, {"error","error_description"} (RFC 6749 §5.2; SP-API's pages do not
 * spell them out). `invalid_grant` (400) means the seller revoked or never granted access and must
 * authorize again; `invalid_client` (401) means ordersync's client id or secret is wrong. Neither
 * can succeed by retrying. Timeouts, 429 and 5xx can.
 */

/** A token is refreshed this long before Amazon says it expires, so no call carries a dying one. */
export const LWA_REFRESH_MARGIN_MS = 60_000;

export type LwaClient = { tokenEndpoint: string; clientId: string; clientSecret: string; refreshToken: string };

const TokenResponse = z.object({
	access_token: z.string().min(1).max(4096),
	token_type: z.string().refine((t) => t.toLowerCase() === "bearer", "must be bearer"),
	// An integer in the SP-API guide; some LWA pages show it as a string ("3600").
	expires_in: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.number().int().positive()).optional(),
});

const OAuthError = z.object({ error: z.string(), error_description: z.string().optional() });

type Cached = { token: string; expiresAtMs: number };
const cache = new Map<string, Cached>();

const keyOf = (client: LwaClient) => `${client.tokenEndpoint}\n${client.clientId}\n${client.refreshToken}`;

/**
 * An access token for this seller: the cached one while it has more than a minute left, else a
 * fresh grant. `nowMs` is for tests.
 */
export async function lwaAccessToken(client: LwaClient, options: { timeoutMs: number; nowMs?: number }): Promise<CallResult<string>> {
	const now = options.nowMs ?? Date.now();
	const key = keyOf(client);
	const cached = cache.get(key);
	if (cached && cached.expiresAtMs - LWA_REFRESH_MARGIN_MS > now) return { ok: true, value: cached.token };

	const body = new URLSearchParams({
		grant_type: "refresh_token",
		refresh_token: client.refreshToken,
		client_id: client.clientId,
		client_secret: client.clientSecret,
	});
	const result = await send(
		client.tokenEndpoint,
		{
			method: "POST",
			headers: { "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8", Accept: "application/json" },
			body: body.toString(),
		},
		{ timeoutMs: options.timeoutMs, readable: (status) => status >= 400 && status < 500 && status !== 408 && status !== 429 },
	);
	if (!result.ok) return { ...result, error: `LWA token: ${result.error}` };
	const response = result.response;
	const json: unknown = await response.json().catch(() => null);
	if (!response.ok) {
		cache.delete(key);
		const oauth = OAuthError.safeParse(json);
		const what = oauth.success ? `${oauth.data.error}${oauth.data.error_description ? ` (${oauth.data.error_description})` : ""}` : "no OAuth error body";
		const hint =
			oauth.success && oauth.data.error === "invalid_grant"
				? ": the seller's refresh token was refused; the seller must authorize the application again"
				: oauth.success && oauth.data.error === "invalid_client"
					? ": the LWA client id or client secret is wrong"
					: "";
		return { ok: false, retryable: false, status: response.status, error: `LWA token: ${response.status} ${what}${hint}` };
	}
	const token = TokenResponse.safeParse(json);
	if (!token.success) return { ok: false, retryable: true, status: response.status, error: "LWA token: 200 without a usable access_token" };
	const expiresInMs = (token.data.expires_in ?? 3600) * 1000;
	cache.set(key, { token: token.data.access_token, expiresAtMs: now + expiresInMs });
	return { ok: true, value: token.data.access_token };
}

/** Drops the cached token after the SP-API called it expired or revoked, so the next call asks again. */
export function forgetLwaToken(client: LwaClient, token?: string): void {
	const key = keyOf(client);
	if (token === undefined || cache.get(key)?.token === token) cache.delete(key);
}

/** Empties the cache (tests). */
export function clearLwaTokens(): void {
	cache.clear();
}
