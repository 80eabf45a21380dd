import { z } from "zod";

const SecretName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, "the name of a secret binding, e.g. TIKTOK_APP_SECRET");

/**
 * One TikTok Shop connection: the app ordersync runs as, the shop it was authorized for, and where
 * shipments and stock go. Secrets are named, never written here.
 */
export const TikTokAccount = z.object({
	/** The app's `app_key` (public: it is sent in every query string). */
	appKey: z.string().min(1),
	/** Secret holding the app secret: it signs API calls and TikTok signs webhooks with it. */
	appSecretSecret: SecretName,
	/** Secret holding the shop's access token (`x-tts-access-token`; refreshed every 7 days by whoever owns the authorization). */
	accessTokenSecret: SecretName,
	/** `cipher` from Get Authorized Shops (`GET /authorization/202309/shops`), sent as `shop_cipher`. */
	shopCipher: z.string().min(1),
	/** The shop's id: webhooks name it in `shop_id`. */
	shopId: z.string().min(1),
	/** The sales warehouse whose stock ordersync sets (Update Inventory `warehouse_id`; Get Warehouse List gives it). */
	warehouseId: z.string().min(1),
	/**
	 * `shipping_provider_id` for seller-shipped packages (Get Shipping Providers): one id for every
	 * carrier, or a map from the carrier's name as ordersync's shipments name it (compared without
	 * case) to its id, with "*" as the fallback.
	 */
	shippingProviderId: z.union([z.string().min(1), z.record(z.string().min(1), z.string().min(1))]),
	/** Base URL override, for the local sandbox; production talks to https://open-api.tiktokglobalshop.com. */
	endpoint: z.url().optional(),
});
export type TikTokAccount = z.infer<typeof TikTokAccount>;

/** The secret values behind `appSecretSecret` and `accessTokenSecret`. */
export type TikTokCredentials = { appSecret: string; accessToken: string };

/** The id to ship with for this carrier, or null when the account names none. */
export function shippingProviderFor(account: Pick<TikTokAccount, "shippingProviderId">, carrier: string | undefined): string | null {
	const setting = account.shippingProviderId;
	if (typeof setting === "string") return setting;
	const wanted = carrier?.trim().toLowerCase();
	if (wanted) {
		for (const [name, id] of Object.entries(setting)) if (name.trim().toLowerCase() === wanted) return id;
	}
	return Object.hasOwn(setting, "*") ? setting["*"]! : null;
}
