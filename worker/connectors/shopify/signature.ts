import { fromBase64, toBase64 } from "../../base64";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
	let key = keys.get(secret);
	if (!key) {
		key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
			"sign",
			"verify",
		]);
		keys.set(secret, key);
	}
	return key;
}

/**
 * Shopify signs the raw body: X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(secret, body)).
 * WebCrypto's verify compares in constant time.
 */
export async function verifyShopifyHmac(secret: string, body: Uint8Array, header: string | null): Promise<boolean> {
	const signature = header ? fromBase64(header.trim()) : null;
	if (!signature || signature.byteLength !== 32) return false;
	return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, body);
}

/** The sender's side, for the demo traffic, the sandbox and tests. */
export async function signShopifyBody(secret: string, body: Uint8Array | string): Promise<string> {
	const bytes = typeof body === "string" ? encoder.encode(body) : body;
	return toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), bytes)));
}
