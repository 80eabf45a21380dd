/**
 * NetSuite Token-Based Authentication: an OAuth 1.0a `Authorization` header signed with
 * HMAC-SHA256 (RFC 5849 §3; NetSuite help, "The Signature for Web Services and RESTlets" and
 * "Specifications for Signature Construction"; HMAC-SHA1 is refused since NetSuite 2023.1).
 *
 * 1. Every value is percent-encoded the RFC 5849 §3.6 way: UTF-8 bytes, everything but
 *    ALPHA DIGIT - . _ ~ as %XX with uppercase hex (a space is %20, never +).
 * 2. Base string = METHOD & enc(base URI) & enc(normalized parameters), where the base URI is the
 *    scheme and host lowercased, the port only when not the default, and the path, without the
 *    query; the parameters are the oauth_* ones (not `realm`, not `oauth_signature`) plus the
 *    query's, each name and value encoded, sorted by name then value, joined `name=value` by `&`.
 *    A JSON body is not a parameter and is not signed.
 * 3. Key = enc(consumer secret) & enc(token secret); signature = base64(HMAC-SHA256(key, base)).
 *
 * The realm is the account id as NetSuite spells it in the realm: uppercase, `_` before a sandbox
 * suffix ("1234567_SB1"). The same id appears lowercased with `-` in host names, and a lowercase
 * realm is refused with INVALID_LOGIN, so it is normalized here.
 */

import { toBase64 } from "../../base64";

const encoder = new TextEncoder();
/** RFC 3986 unreserved characters, the only ones RFC 5849 leaves as they are. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const NONCE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** NetSuite takes a nonce of 6 to 64 alphanumeric characters. */
const NONCE_PATTERN = /^[A-Za-z0-9]{6,64}$/;
const NONCE_LENGTH = 32;

type TbaInput = {
	method: string;
	/** The full URL the request goes to, query included, as it will be fetched. */
	url: string;
	/** The account id, e.g. "1234567_SB1" (also accepted as "1234567-sb1"). */
	realm: string;
	consumerKey: string;
	consumerSecret: string;
	tokenId: string;
	tokenSecret: string;
	/** Fixed only in tests; otherwise 32 random alphanumeric characters. */
	nonce?: string;
	/** Epoch seconds; fixed only in tests, otherwise now. */
	timestamp?: number;
};

/** The value of the `Authorization` header for one request: `OAuth realm="…", oauth_…="…", …`. */
export async function tbaAuthorization(input: TbaInput): Promise<string> {
	const nonce = input.nonce ?? randomNonce();
	if (!NONCE_PATTERN.test(nonce)) throw new TypeError("TBA nonce must be 6 to 64 alphanumeric characters");
	const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
	if (!Number.isSafeInteger(timestamp) || timestamp <= 0) throw new TypeError("TBA timestamp must be whole epoch seconds");

	const oauth: Record<string, string> = {
		oauth_consumer_key: input.consumerKey,
		oauth_nonce: nonce,
		oauth_signature_method: "HMAC-SHA256",
		oauth_timestamp: String(timestamp),
		oauth_token: input.tokenId,
		oauth_version: "1.0",
	};
	const url = new URL(input.url);
	const base = signatureBase(input.method, url, Object.entries(oauth));
	const signature = await hmacSha256Base64(`${percentEncode(input.consumerSecret)}&${percentEncode(input.tokenSecret)}`, base);

	// Header parameters in name order, realm first (RFC 5849 §3.5.1 leaves the order free).
	const fields = Object.entries({ ...oauth, oauth_signature: signature }).sort(([a], [b]) => compare(a, b));
	const realm = normalizeRealm(input.realm);
	return `OAuth realm="${percentEncode(realm)}", ${fields.map(([name, value]) => `${name}="${percentEncode(value)}"`).join(", ")}`;
}

/** "1234567-sb1" → "1234567_SB1": the realm is the account id in its uppercase, underscored form. */
function normalizeRealm(realm: string): string {
	return realm.trim().toUpperCase().replaceAll("-", "_");
}

/** RFC 5849 §3.4.1: METHOD & enc(base string URI) & enc(normalized parameters). */
function signatureBase(method: string, url: URL, oauth: Array<[string, string]>): string {
	// The URL parser has already lowercased scheme and host and dropped a default port.
	const baseUri = `${url.protocol}//${url.host}${url.pathname}`;
	// The query is read as application/x-www-form-urlencoded (§3.4.1.3.1), so `+` is a space.
	const pairs = [...url.searchParams.entries(), ...oauth].map(([name, value]) => [percentEncode(name), percentEncode(value)] as const);
	pairs.sort(([an, av], [bn, bv]) => compare(an, bn) || compare(av, bv));
	const normalized = pairs.map(([name, value]) => `${name}=${value}`).join("&");
	return `${method.toUpperCase()}&${percentEncode(baseUri)}&${percentEncode(normalized)}`;
}

/** RFC 5849 §3.6 percent-encoding of the UTF-8 bytes of `value`. */
function percentEncode(value: string): string {
	let out = "";
	for (const byte of encoder.encode(value)) {
		const char = String.fromCharCode(byte);
		out += UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
	}
	return out;
}

/** Byte order: encoded strings are ASCII, so code-unit order is byte order. */
function compare(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

async function hmacSha256Base64(key: string, message: string): Promise<string> {
	const cryptoKey = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	return toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(message))));
}

/** Alphanumeric, unbiased: bytes past the last whole multiple of 62 are drawn again. */
function randomNonce(): string {
	let nonce = "";
	while (nonce.length < NONCE_LENGTH) {
		for (const byte of crypto.getRandomValues(new Uint8Array(NONCE_LENGTH))) {
			if (byte < 248 && nonce.length < NONCE_LENGTH) nonce += NONCE_ALPHABET[byte % 62];
		}
	}
	return nonce;
}
