import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../worker/config";
import type { Env } from "../worker/env";
import { logs } from "../worker/log";

const base = {
	CONNECTIONS: [{ id: "shopify-main", channel: "shopify", secret: "SHOPIFY_MAIN_SECRET" }],
	STOREFRONT_ORIGINS: ["https://shop.example.com"],
	OPS_TOKEN: "a-long-enough-ops-token",
	SHOPIFY_MAIN_SECRET: "whsec",
};
const load = (overrides: Record<string, unknown>) => () => loadConfig({ ...base, ...overrides } as unknown as Env);

describe("configuration from wrangler.toml and secrets", () => {
	it("loads connections once their signing secrets are set", () => {
		const config = load({})();
		expect(config.connections.get("shopify-main")).toMatchObject({ channel: "shopify", secret: "SHOPIFY_MAIN_SECRET" });
		expect(config.storefrontOrigins.has("https://shop.example.com")).toBe(true);
	});

	it("fails with a message that names the field", () => {
		expect(load({ CONNECTIONS: [{ id: "Shop:1", channel: "shopify", secret: "S" }] })).toThrow(/CONNECTIONS\[0\]\.id/);
		expect(load({ CONNECTIONS: [{ id: "s", channel: "ebay", secret: "S" }] })).toThrow(/CONNECTIONS\[0\]\.channel/);
		expect(load({ CONNECTIONS: undefined })).toThrow(/CONNECTIONS/);
		expect(load({ STOREFRONT_ORIGINS: ["not a url"] })).toThrow(/STOREFRONT_ORIGINS\[0\]/);
		expect(load({ OPS_TOKEN: "short" })).toThrow(/OPS_TOKEN/);
		expect(load({ CONNECTIONS: [base.CONNECTIONS[0], base.CONNECTIONS[0]] })).toThrow(/unique/);
	});

	it("an EDI connection needs its edi block; its token secret becomes the credentials", () => {
		expect(load({ CONNECTIONS: [{ id: "retailer", channel: "edi", secret: "EDI_TOKEN" }], EDI_TOKEN: "t" })).toThrow(/CONNECTIONS\[0\]\.edi: an EDI connection needs/);
		const edi = { ourQualifier: "ZZ", ourId: "VENDORID", partnerQualifier: "ZZ", partnerId: "RETAILERID", ourGsId: "VENDORID", partnerGsId: "RETAILERID", gatewayUrl: "https://as2.example/edi", tokenSecret: "EDI_TOKEN" };
		const config = load({ CONNECTIONS: [{ id: "retailer", channel: "edi", secret: "EDI_TOKEN", edi }], EDI_TOKEN: "t" })();
		expect(config.connections.get("retailer")).toMatchObject({ channel: "edi", credentials: { token: "t" }, edi: { version: "004010", usageIndicator: "P" } });
		expect(load({ CONNECTIONS: [{ id: "retailer", channel: "edi", secret: "EDI_TOKEN", edi: { ...edi, tokenSecret: "MISSING_TOKEN" } }], EDI_TOKEN: "t" })).toThrow(/CONNECTIONS\[0\]\.edi\.tokenSecret: secret MISSING_TOKEN is not set/);
	});

	it("takes ops tokens per role, previous values of rotating ones too, and refuses one value for two tokens", () => {
		const tokens = {
			OPS_READ_TOKEN: "a-long-enough-read-token",
			OPS_ADMIN_TOKEN: "a-long-enough-admin-token",
			OPS_TOKEN_PREVIOUS: "the-operator-token-before",
		};
		expect(load(tokens)().opsTokens).toEqual([
			{ name: "OPS_TOKEN", role: "operator", value: base.OPS_TOKEN },
			{ name: "OPS_READ_TOKEN", role: "read", value: tokens.OPS_READ_TOKEN },
			{ name: "OPS_ADMIN_TOKEN", role: "admin", value: tokens.OPS_ADMIN_TOKEN },
			{ name: "OPS_TOKEN_PREVIOUS", role: "operator", value: tokens.OPS_TOKEN_PREVIOUS },
		]);
		expect(load({ ...tokens, OPS_ADMIN_TOKEN: base.OPS_TOKEN })).toThrow(/OPS_ADMIN_TOKEN: OPS_ADMIN_TOKEN must differ from OPS_TOKEN/);
		expect(load({ ...tokens, OPS_TOKEN_PREVIOUS: tokens.OPS_READ_TOKEN })).toThrow(/OPS_TOKEN_PREVIOUS: OPS_TOKEN_PREVIOUS must differ from OPS_READ_TOKEN/);
		expect(load({ OPS_ADMIN_TOKEN_PREVIOUS: "short" })).toThrow(/OPS_ADMIN_TOKEN_PREVIOUS, when set, must be at least 16 characters/);
	});

	it("takes LOG_LEVEL: below it nothing is written", () => {
		try {
			load({ LOG_LEVEL: "warn" })();
			expect([logs("info"), logs("warn"), logs("error")]).toEqual([false, true, true]);
		} finally {
			load({})(); // back to the default, info, for the rest of the file
		}
		expect(logs("info")).toBe(true);
		expect(logs("debug")).toBe(false);
		expect(load({ LOG_LEVEL: "verbose" })).toThrow(/LOG_LEVEL: Invalid option/);
	});

	it("names the missing secret and how to set it", () => {
		const attempt = load({ SHOPIFY_MAIN_SECRET: undefined });
		expect(attempt).toThrow(ConfigError);
		expect(attempt).toThrow(/CONNECTIONS\[0\]\.secret: secret SHOPIFY_MAIN_SECRET is not set/);
	});
});

describe("GET /health", () => {
	it("answers with the configured connections once the config is valid", async () => {
		const { call } = await import("./helpers");
		const response = await call("/health");
		expect(response.status).toBe(200);
		expect(await response.json()).toEqual({ ok: true, connections: ["shopify-demo", "shopify-outlet", "tiktok", "amazon", "woocommerce", "edi-retailer"] });
	});
});
