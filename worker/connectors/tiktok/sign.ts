/**
 * TikTok Shop's request signature, "Sign your API request"
 * (https://partner.tiktokshop.com/docv2/page/sign-your-api-request), for API versions 202309 on:
 *
 * 1. take every query parameter except `sign` and `access_token`, keys in alphabetical order;
 * 2. concatenate them as `{key}{value}`, no separators;
 * 3. put the request path (no host, no query) in front;
 * 4. unless the content type is multipart/form-data, append the body, the exact bytes sent;
 * 5. wrap the whole with the app secret on both sides;
 * 6. HMAC-SHA256 keyed with the app secret, as lowercase hex (the Go sample's hex.EncodeToString).
 *
 * The access token travels in the `x-tts-access-token` header and is not signed. The timestamp is
 * 10-digit Unix seconds and must be within five minutes of TikTok's clock.
 */

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

/** Query parameters the signature leaves out (step 1). */
const UNSIGNED = new Set(["sign", "access_token"]);

function hmacKey(secret: string): Promise<CryptoKey> {
	let key = keys.get(secret);
	if (!key) {
		key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
		// A handful of secrets per process at most (one per TikTok app); tests use a few more.
		if (keys.size > 64) keys.clear();
		keys.set(secret, key);
	}
	return key;
}

export function toHex(bytes: Uint8Array): string {
	return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function fromHex(hex: string): Uint8Array | null {
	if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return null;
	const bytes = new Uint8Array(hex.length / 2);
	for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
	return bytes;
}

/** Lowercase hex HMAC-SHA256 of `message` keyed with `secret` (both UTF-8). */
export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
	return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message))));
}

/** Constant-time check of a hex HMAC-SHA256 (WebCrypto's verify); false for anything not 32 hex bytes. */
export async function verifyHmacSha256Hex(secret: string, message: string, hex: string): Promise<boolean> {
	const signature = fromHex(hex);
	if (!signature || signature.byteLength !== 32) return false;
	return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, encoder.encode(message));
}

type Query = URLSearchParams | Record<string, string>;

/** Steps 1–4: the string that is wrapped and signed. `body` is the exact text sent ("" for none). */
export function tiktokSignBase(path: string, query: Query, body = "", contentType = "application/json"): string {
	const entries = query instanceof URLSearchParams ? [...query.entries()] : Object.entries(query);
	const params = entries
		.filter(([key]) => !UNSIGNED.has(key))
		// Code-unit order, as the doc's Node sample (`Object.keys(...).sort()`); keys are ASCII.
		.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
		.map(([key, value]) => `${key}${value}`)
		.join("");
	const multipart = contentType.split(";")[0]!.trim().toLowerCase() === "multipart/form-data";
	return `${path}${params}${multipart ? "" : body}`;
}

/** Steps 5–6: the `sign` query parameter for one request. */
export async function signTikTokRequest(appSecret: string, path: string, query: Query, body = "", contentType = "application/json"): Promise<string> {
	return hmacSha256Hex(appSecret, `${appSecret}${tiktokSignBase(path, query, body, contentType)}${appSecret}`);
}

/**
 * The full URL of one signed call: `app_key`, `timestamp` (Unix seconds), the given parameters
 * (`shop_cipher`, `ids`, …) and `sign`, which covers all of them and the body.
 */
export async function signedTikTokUrl(options: {
	base: string;
	path: string;
	appKey: string;
	appSecret: string;
	params: Record<string, string>;
	body: string;
	timestamp: number;
}): Promise<string> {
	const query: Record<string, string> = { app_key: options.appKey, timestamp: String(options.timestamp), ...options.params };
	const sign = await signTikTokRequest(options.appSecret, options.path, query, options.body);
	return `${options.base.replace(/\/+$/, "")}${options.path}?${new URLSearchParams({ ...query, sign })}`;
}
