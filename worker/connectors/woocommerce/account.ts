import { z } from "zod";

const SecretName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, "the name of a secret binding, e.g. WOO_CONSUMER_SECRET");

/**
 * One WooCommerce store as ordersync talks to it: REST API v3 with a key pair made under
 * WooCommerce > Settings > Advanced > REST API (Read/Write). The consumer key identifies the key
 * (it is sent with every call, like a user name); the consumer secret is a Worker secret, named here.
 * The webhook signing secret is the connection's own `secret`, as for every channel.
 */
export const WooCommerceAccount = z.object({
	/**
	 * The site's base URL, as WooCommerce's `home_url()` (the API lives under `/wp-json/wc/v3/`).
	 * HTTPS only: over plain HTTP WooCommerce does not take HTTP Basic (it wants OAuth 1.0a) and the
	 * secret would travel in clear.
	 */
	storeUrl: z.url().refine((url) => url.startsWith("https://"), "the store's https:// URL"),
	/** `ck_…`: the public half of the key pair. */
	consumerKey: z.string().regex(/^ck_\w+$/, "a WooCommerce consumer key, ck_…"),
	/** Secret holding the `cs_…` consumer secret. */
	consumerSecretSecret: SecretName,
	/**
	 * How a shipment's tracking reaches the order: "note" (core WooCommerce, a customer note) or
	 * "shipment-tracking" (the Shipment Tracking extension's endpoint, which AST registers too).
	 */
	trackingMode: z.enum(["note", "shipment-tracking"]).default("note"),
	/** Base URL override that replaces `storeUrl` (the local sandbox); the `/wp-json/…` paths follow it. */
	endpoint: z.url().optional(),
});
export type WooCommerceAccount = z.infer<typeof WooCommerceAccount>;

/** The secret value behind `consumerSecretSecret`. */
export type WooCommerceCredentials = { consumerSecret: string };
