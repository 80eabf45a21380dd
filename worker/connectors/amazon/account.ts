import { z } from "zod";

/** The name of a Worker secret binding, never its value. */
const SecretName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, "the name of a secret binding, e.g. AMAZON_REFRESH_TOKEN");

/** An HTTP header name (RFC 9110 token). */
const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "an HTTP header name");

/**
 * One Amazon seller account in one marketplace, as ordersync talks to it: Login with Amazon for
 * the access token, the Selling Partner API for orders, shipments and listings, and the API key
 * that the EventBridge API destination carrying ORDER_CHANGE notifications sends.
 */
export const AmazonAccount = z.object({
	/** The merchant token (e.g. A3TH9S8BH6GOGM): notifications name it, listings paths need it. */
	sellerId: z.string().regex(/^[A-Z0-9]{8,20}$/, "an Amazon seller id (merchant token), e.g. A3TH9S8BH6GOGM"),
	/** E.g. ATVPDKIKX0DER (amazon.com); https://developer-docs.amazon.com/sp-api/docs/marketplace-ids */
	marketplaceId: z.string().regex(/^[A-Z0-9]{9,20}$/, "an Amazon marketplace id, e.g. ATVPDKIKX0DER"),
	/** The LWA client identifier of ordersync's SP-API application (not a secret). */
	lwaClientId: z.string().min(1),
	/** Name of the Worker secret holding the LWA client secret. */
	lwaClientSecretSecret: SecretName,
	/** Name of the Worker secret holding the seller's LWA refresh token (Atzr|…). */
	refreshTokenSecret: SecretName,
	/** Name of the Worker secret holding the API key the EventBridge connection sends. */
	notificationKeySecret: SecretName,
	/** The header the API destination's connection puts the key in (its `ApiKeyName`). */
	notificationHeader: HeaderName.default("x-api-key"),
	/** The product type sent with listings patches (availability pushes). */
	productType: z.string().min(1).default("PRODUCT"),
	/** SP-API base URL; by default the region's host for the marketplace. */
	endpoint: z.url().optional(),
	/** LWA token endpoint; by default https://api.amazon.com/auth/o2/token. */
	tokenEndpoint: z.url().optional(),
});
export type AmazonAccount = z.infer<typeof AmazonAccount>;

/** The secret values an AmazonAccount names, resolved from the Worker's bindings. */
export type AmazonCredentials = {
	lwaClientSecret: string;
	refreshToken: string;
	notificationKey: string;
};

/** Reads the three secrets an account names; the error names the missing binding. */
export function resolveAmazonCredentials(
	account: AmazonAccount,
	secrets: Record<string, unknown>,
): { ok: true; credentials: AmazonCredentials } | { ok: false; error: string } {
	const read = (name: string): string | null => {
		const value = secrets[name];
		return typeof value === "string" && value.length > 0 ? value : null;
	};
	const fields = [
		["lwaClientSecretSecret", account.lwaClientSecretSecret],
		["refreshTokenSecret", account.refreshTokenSecret],
		["notificationKeySecret", account.notificationKeySecret],
	] as const;
	for (const [field, name] of fields) {
		if (read(name) === null) return { ok: false, error: `${field}: secret ${name} is not set` };
	}
	return {
		ok: true,
		credentials: {
			lwaClientSecret: read(account.lwaClientSecretSecret)!,
			refreshToken: read(account.refreshTokenSecret)!,
			notificationKey: read(account.notificationKeySecret)!,
		},
	};
}

type Marketplace = { country: string; currency: string; region: "na" | "eu" | "fe" };

/**
 * Marketplace ids, countries and SP-API regions from https://developer-docs.amazon.com/sp-api/docs/marketplace-ids
 * and the regional hosts (sellingpartnerapi-na/-eu/-fe.amazon.com); the currency is the
 * marketplace's own, used only when an order carries no amount to read it from (Pending orders).
 */
export const MARKETPLACES: Readonly<Record<string, Marketplace>> = {
	A2EUQ1WTGCTBG2: { country: "CA", currency: "CAD", region: "na" },
	ATVPDKIKX0DER: { country: "US", currency: "USD", region: "na" },
	A1AM78C64UM0Y8: { country: "MX", currency: "MXN", region: "na" },
	A2Q3Y263D00KWC: { country: "BR", currency: "BRL", region: "na" },
	A28R8C7NBKEWEA: { country: "IE", currency: "EUR", region: "eu" },
	A1RKKUPIHCS9HS: { country: "ES", currency: "EUR", region: "eu" },
	A1F83G8C2ARO7P: { country: "GB", currency: "GBP", region: "eu" },
	A13V1IB3VIYZZH: { country: "FR", currency: "EUR", region: "eu" },
	AMEN7PMS3EDWL: { country: "BE", currency: "EUR", region: "eu" },
	A1805IZSGTT6HS: { country: "NL", currency: "EUR", region: "eu" },
	A1PA6795UKMFR9: { country: "DE", currency: "EUR", region: "eu" },
	APJ6JRA9NG5V4: { country: "IT", currency: "EUR", region: "eu" },
	A2NODRKZP88ZB9: { country: "SE", currency: "SEK", region: "eu" },
	AE08WJ6YKNBMC: { country: "ZA", currency: "ZAR", region: "eu" },
	A1C3SOZRARQ6R3: { country: "PL", currency: "PLN", region: "eu" },
	ARBP9OOSHTCHU: { country: "EG", currency: "EGP", region: "eu" },
	A33AVAJ2PDY3EV: { country: "TR", currency: "TRY", region: "eu" },
	A17E79C6D8DWNP: { country: "SA", currency: "SAR", region: "eu" },
	A2VIGQ35RCS4UG: { country: "AE", currency: "AED", region: "eu" },
	A21TJRUUN4KGV: { country: "IN", currency: "INR", region: "eu" },
	A19VAU5U5O7RUS: { country: "SG", currency: "SGD", region: "fe" },
	A39IBJ37TRP1C6: { country: "AU", currency: "AUD", region: "fe" },
	A1VC38T7YXB528: { country: "JP", currency: "JPY", region: "fe" },
};

export const LWA_TOKEN_ENDPOINT = "https://api.amazon.com/auth/o2/token";

/** The SP-API host of the account's region (North America when the marketplace is not listed). */
export function spApiBase(account: Pick<AmazonAccount, "endpoint" | "marketplaceId">): string {
	if (account.endpoint) return account.endpoint.replace(/\/+$/, "");
	return `https://sellingpartnerapi-${MARKETPLACES[account.marketplaceId]?.region ?? "na"}.amazon.com`;
}
