import { createHmac } from "node:crypto";
import OAuth from "oauth-1.0a";
import { describe, expect, it } from "vitest";
import { tbaAuthorization } from "../worker/connectors/netsuite/tba";

// NetSuite Token-Based Authentication is OAuth 1.0a with HMAC-SHA256 and the account id as realm.
// Our signer runs on WebCrypto; these tests hold it against the `oauth-1.0a` package (an
// independent implementation, hashing with node:crypto) and against two vectors computed outside
// JavaScript. Neither NetSuite nor RFC 5849 publishes an HMAC-SHA256 vector (the RFC's are
// HMAC-SHA1, which NetSuite refuses since 2023.1).

const credentials = {
	realm: "1234567_SB1",
	consumerKey: "ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4",
	consumerSecret: "d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9a8f5",
	tokenId: "2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc",
	tokenSecret: "c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295",
};
const NONCE = "fjaLirsIcCGVZWzBX0pg";
const TIMESTAMP = 1508242306;
const HOST = "https://1234567-sb1.suitetalk.api.netsuite.com";

/** The header `oauth-1.0a` writes for the same request (its URL must already be percent-encoded). */
function reference(method: string, url: string, creds = credentials): string {
	const oauth = new OAuth({
		consumer: { key: creds.consumerKey, secret: creds.consumerSecret },
		signature_method: "HMAC-SHA256",
		realm: creds.realm,
		hash_function: (base, key) => createHmac("sha256", key).update(base).digest("base64"),
	});
	oauth.getNonce = () => NONCE;
	oauth.getTimeStamp = () => TIMESTAMP;
	return oauth.toHeader(oauth.authorize({ url, method }, { key: creds.tokenId, secret: creds.tokenSecret })).Authorization;
}

function ours(method: string, url: string, extra: Partial<Parameters<typeof tbaAuthorization>[0]> = {}) {
	return tbaAuthorization({ method, url, ...credentials, nonce: NONCE, timestamp: TIMESTAMP, ...extra });
}

/** The header's parameters, decoded. */
function params(header: string): Record<string, string> {
	expect(header.startsWith("OAuth ")).toBe(true);
	return Object.fromEntries([...header.slice(6).matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1]!, decodeURIComponent(m[2]!)]));
}

describe("tbaAuthorization against oauth-1.0a", () => {
	it("signs a plain GET the same way, realm included", async () => {
		const url = `${HOST}/services/rest/record/v1/salesOrder/1001`;
		const header = await ours("GET", url);
		expect(header).toBe(reference("GET", url));
		expect(header.startsWith('OAuth realm="1234567_SB1", oauth_consumer_key=')).toBe(true);
		expect(params(header)).toMatchObject({ oauth_signature_method: "HMAC-SHA256", oauth_version: "1.0", oauth_nonce: NONCE, oauth_timestamp: String(TIMESTAMP) });
	});

	it("signs query parameters: spaces, quotes and characters JavaScript leaves unescaped", async () => {
		// The same request written raw and as fetch sends it: both must sign identically.
		const raw = `${HOST}/services/rest/record/v1/inventoryItem?q=itemId IS "TEE-BLK-S"&limit=5`;
		const encoded = `${HOST}/services/rest/record/v1/inventoryItem?q=itemId%20IS%20%22TEE-BLK-S%22&limit=5`;
		expect(new URL(raw).href).toBe(encoded);
		expect(await ours("GET", raw)).toBe(reference("GET", encoded));
		expect(await ours("GET", encoded)).toBe(reference("GET", encoded));

		// ! * ' ( ) are left alone by encodeURIComponent but must be %-encoded in OAuth; é is two UTF-8 bytes.
		const awkward = `${HOST}/services/rest/record/v1/customer?q=companyName%20CONTAIN%20%27(Caf%C3%A9)!*%27&offset=10&limit=5`;
		expect(await ours("GET", awkward)).toBe(reference("GET", awkward));
	});

	it("signs a PUT to an eid: path and a POST to SuiteQL with paging parameters", async () => {
		const put = `${HOST}/services/rest/record/v1/salesOrder/eid:shopify-demo:5551234~1`;
		expect(await ours("PUT", put)).toBe(reference("PUT", put));
		expect(await ours("put", put)).toBe(reference("PUT", put));
		const suiteql = `${HOST}/services/rest/query/v1/suiteql?limit=1000&offset=0`;
		expect(await ours("POST", suiteql)).toBe(reference("POST", suiteql));
	});

	it("signs the sandbox's plain-HTTP address with its port, as the sandbox will check it", async () => {
		const url = "http://127.0.0.1:8789/netsuite/services/rest/record/v1/cashSale/eid:tiktok:577001";
		expect(await ours("PUT", url)).toBe(reference("PUT", url));
	});

	it("differs from the reference when any input differs (the comparison can fail)", async () => {
		const url = `${HOST}/services/rest/record/v1/salesOrder/1001`;
		const expected = reference("GET", url);
		expect(await ours("GET", `${url}?expand=true`)).not.toBe(expected);
		expect(await ours("POST", url)).not.toBe(expected);
		expect(await ours("GET", url, { tokenSecret: "other" })).not.toBe(expected);
		expect(await ours("GET", url, { nonce: "fjaLirsIcCGVZWzBX0pX" })).not.toBe(expected);
		expect(await ours("GET", url, { timestamp: TIMESTAMP + 1 })).not.toBe(expected);
	});
});

describe("tbaAuthorization known answers", () => {
	// Each base string below is written out by hand from RFC 5849 §3.4.1; the signatures were
	// computed with `printf '%s' "$BASE" | openssl dgst -sha256 -hmac "$KEY" -binary | base64`,
	// KEY = "cs%20vector%2F1&ts%26vector" (secrets that need encoding).
	const vector = { realm: "1234567_SB1", consumerKey: "ck_vector", consumerSecret: "cs vector/1", tokenId: "tk_vector", tokenSecret: "ts&vector", nonce: NONCE, timestamp: TIMESTAMP };

	it("GET of a record by external id with a query parameter", async () => {
		// GET&https%3A%2F%2F1234567-sb1.suitetalk.api.netsuite.com%2Fservices%2Frest%2Frecord%2Fv1%2FsalesOrder%2Feid%3ASHOP-1001
		// &expandSubResources%3Dtrue%26oauth_consumer_key%3Dck_vector%26oauth_nonce%3DfjaLirsIcCGVZWzBX0pg%26oauth_signature_method
		// %3DHMAC-SHA256%26oauth_timestamp%3D1508242306%26oauth_token%3Dtk_vector%26oauth_version%3D1.0
		const header = await tbaAuthorization({ ...vector, method: "GET", url: `${HOST}/services/rest/record/v1/salesOrder/eid:SHOP-1001?expandSubResources=true` });
		expect(header).toBe(
			'OAuth realm="1234567_SB1", oauth_consumer_key="ck_vector", oauth_nonce="fjaLirsIcCGVZWzBX0pg", ' +
				'oauth_signature="cw4f7oxPIaOGl7mlLEk7%2FQC780PlgUbecgP9B90rQlE%3D", oauth_signature_method="HMAC-SHA256", ' +
				'oauth_timestamp="1508242306", oauth_token="tk_vector", oauth_version="1.0"',
		);
	});

	it("a query value encoded twice in the base string (space → %20 → %2520)", async () => {
		// GET&https%3A%2F%2F1234567-sb1.suitetalk.api.netsuite.com%2Fservices%2Frest%2Frecord%2Fv1%2FinventoryItem
		// &limit%3D5%26oauth_consumer_key%3Dck_vector%26…%26oauth_version%3D1.0%26q%3DitemId%2520IS%2520%2522TEE-BLK-S%2522
		const header = await tbaAuthorization({ ...vector, method: "GET", url: `${HOST}/services/rest/record/v1/inventoryItem?q=itemId IS "TEE-BLK-S"&limit=5` });
		expect(params(header).oauth_signature).toBe("5bsOa+TiL/EE4j6bMAE71iN2YcC1VEKQnTnYh1EXAfA=");
	});
});

describe("tbaAuthorization rules", () => {
	const url = `${HOST}/services/rest/record/v1/salesOrder/1001`;

	it("keeps the realm out of the signature and writes it uppercase with an underscore", async () => {
		const sandbox = params(await ours("GET", url));
		const lowercase = params(await ours("GET", url, { realm: "1234567-sb1" }));
		expect(lowercase.realm).toBe("1234567_SB1");
		const production = params(await ours("GET", url, { realm: "7654321" }));
		expect(production.realm).toBe("7654321");
		expect(production.oauth_signature).toBe(sandbox.oauth_signature);
	});

	it("lowercases scheme and host and drops a default port; the path keeps its case", async () => {
		const expected = await ours("GET", url);
		expect(await ours("GET", "HTTPS://1234567-SB1.SuiteTalk.API.NetSuite.com:443/services/rest/record/v1/salesOrder/1001")).toBe(expected);
		expect(await ours("GET", `${HOST}:8443/services/rest/record/v1/salesOrder/1001`)).not.toBe(expected);
		expect(await ours("GET", `${HOST}/services/rest/record/v1/salesorder/1001`)).not.toBe(expected);
	});

	it("reads the query as form data: + is a space, parameter order does not matter", async () => {
		const base = `${HOST}/services/rest/query/v1/suiteql`;
		expect(await ours("POST", `${base}?q=a+b`)).toBe(await ours("POST", `${base}?q=a%20b`));
		expect(await ours("POST", `${base}?offset=0&limit=5`)).toBe(await ours("POST", `${base}?limit=5&offset=0`));
	});

	it("draws a fresh 32-character alphanumeric nonce and the current time when not given", async () => {
		const before = Math.floor(Date.now() / 1000);
		const first = params(await tbaAuthorization({ method: "GET", url, ...credentials }));
		const second = params(await tbaAuthorization({ method: "GET", url, ...credentials }));
		expect(first.oauth_nonce).toMatch(/^[A-Za-z0-9]{32}$/);
		expect(first.oauth_nonce).not.toBe(second.oauth_nonce);
		expect(Number(first.oauth_timestamp)).toBeGreaterThanOrEqual(before);
		expect(Number(first.oauth_timestamp)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
	});

	it("refuses a nonce NetSuite would refuse and a timestamp that is not whole seconds", async () => {
		await expect(ours("GET", url, { nonce: "abc" })).rejects.toThrow(/nonce/);
		await expect(ours("GET", url, { nonce: "not-alphanumeric" })).rejects.toThrow(/nonce/);
		await expect(ours("GET", url, { timestamp: Date.now() / 1000 })).rejects.toThrow(/timestamp/);
	});
});
