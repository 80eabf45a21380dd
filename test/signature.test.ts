import { describe, expect, it } from "vitest";
import { signShopifyBody, verifyShopifyHmac } from "../worker/connectors/shopify/signature";

const body = new TextEncoder().encode('{"id":820982911946154508,"email":"jon@example.com"}');

describe("Shopify HMAC verification", () => {
	it("accepts the base64 HMAC-SHA256 of the raw body under the connection secret", async () => {
		const header = await signShopifyBody("hush", body);
		expect(header).toMatch(/^[A-Za-z0-9+/]{43}=$/);
		expect(await verifyShopifyHmac("hush", body, header)).toBe(true);
	});

	it("matches an HMAC computed independently with openssl", async () => {
		// echo -n hello | openssl dgst -sha256 -hmac secret -binary | base64
		expect(await signShopifyBody("secret", "hello")).toBe("iKqz7ejTrflNJquQ07r9SiCDBww7zOnAFO4EpEOEfAs=");
	});

	it("rejects another secret, a changed body, a missing or malformed header", async () => {
		const header = await signShopifyBody("hush", body);
		const changed = new Uint8Array(body);
		changed[5] = changed[5]! ^ 1;
		expect(await verifyShopifyHmac("other", body, header)).toBe(false);
		expect(await verifyShopifyHmac("hush", changed, header)).toBe(false);
		expect(await verifyShopifyHmac("hush", body, null)).toBe(false);
		expect(await verifyShopifyHmac("hush", body, "")).toBe(false);
		expect(await verifyShopifyHmac("hush", body, "not base64!")).toBe(false);
		expect(await verifyShopifyHmac("hush", body, header.slice(0, 20))).toBe(false);
		expect(await verifyShopifyHmac("hush", body, btoa("x".repeat(32)))).toBe(false);
	});
});
