import { z } from "zod";
import { Channel } from "./model/order";
import type { Env } from "./env";

const Count = z.number().int().nonnegative();

/** How much of what is available a channel is shown (applied in this order). */
export const ChannelRules = z.object({
	/** Units held back from this channel. */
	bufferUnits: Count.default(0),
	/** Share of what is left that the channel sees, rounded down. */
	percent: z.number().int().min(0).max(100).default(100),
	/** Never show more than this. */
	max: Count.optional(),
	/** Below this the channel shows 0, so the last units are not sold twice at the edges. */
	floor: Count.default(0),
});
export type ChannelRules = z.infer<typeof ChannelRules>;

/** Where a Shopify connection's availability is pushed (Admin GraphQL API). */
const ShopifyAdmin = z.object({
	shop: z.string().regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, "the shop's myshopify.com domain"),
	apiVersion: z.string().regex(/^\d{4}-\d{2}$/, "an API version such as 2026-10"),
	/** Name of the Worker secret holding the Admin API access token. */
	tokenSecret: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
	/** The Shopify location whose `available` quantity mirrors this channel's availability. */
	locationId: z.string().startsWith("gid://shopify/Location/"),
	/** Base URL override, for the local sandbox; production talks to https://<shop>. */
	endpoint: z.url().optional(),
});
export type ShopifyAdmin = z.infer<typeof ShopifyAdmin>;

const ConnectionConfig = z.object({
	/** Also the prefix of every order key, so no ":" (see orderKey). */
	id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes"),
	channel: Channel,
	/** Name of the Worker secret that holds this connection's webhook signing key. */
	secret: z.string().regex(/^[A-Z][A-Z0-9_]*$/, "the name of a secret binding, e.g. SHOPIFY_MAIN_SECRET"),
	/** Locations whose stock this channel may sell; all locations when absent. */
	locations: z.array(z.string().min(1)).min(1).optional(),
	rules: ChannelRules.prefault({}),
	/** Push availability to the channel when it changes; no pushes when absent. */
	admin: ShopifyAdmin.optional(),
});

const BundleComponent = z.object({ sku: z.string().min(1), quantity: z.number().int().positive() });

const InventoryConfig = z
	.object({
		/** Units per SKU never promised to any channel. */
		safetyStock: z.record(z.string(), Count).default({}),
		/** Bundle and kit SKUs: sold as one line, stocked only as their components. */
		bundles: z.record(z.string(), z.array(BundleComponent).min(1)).default({}),
	})
	.refine(
		(inv) => Object.values(inv.bundles).every((parts) => parts.every((part) => !(part.sku in inv.bundles))),
		"a bundle's components must be stocked SKUs, not other bundles",
	);
export type InventoryConfig = z.infer<typeof InventoryConfig>;

const ConfigSchema = z.object({
	CONNECTIONS: z
		.array(ConnectionConfig)
		.min(1)
		.refine((list) => new Set(list.map((c) => c.id)).size === list.length, "connection ids must be unique"),
	STOREFRONT_ORIGINS: z.array(z.url()).default([]),
	INVENTORY: InventoryConfig.prefault({}),
	OPS_TOKEN: z.string().min(16, "set OPS_TOKEN to a secret of at least 16 characters"),
});

export type Connection = z.infer<typeof ConnectionConfig> & { signingKey: string; adminToken?: string };

export interface Config {
	connections: Map<string, Connection>;
	inventory: InventoryConfig;
	storefrontOrigins: Set<string>;
	opsToken: string;
}

export class ConfigError extends Error {
	override name = "ConfigError";
}

const cache = new WeakMap<object, Config>();

/** Validates wrangler.toml vars and secrets once per isolate; throws a ConfigError that names the field. */
export function loadConfig(env: Env): Config {
	const cached = cache.get(env);
	if (cached) return cached;
	const parsed = ConfigSchema.safeParse(env);
	if (!parsed.success) {
		throw new ConfigError(`invalid configuration: ${formatIssues(parsed.error)}`);
	}
	const connections = new Map<string, Connection>();
	for (const [index, connection] of parsed.data.CONNECTIONS.entries()) {
		const signingKey = env[connection.secret];
		if (typeof signingKey !== "string" || signingKey.length === 0) {
			throw new ConfigError(
				`invalid configuration: CONNECTIONS[${index}].secret: secret ${connection.secret} is not set ` +
					`(put it in .dev.vars locally, or run \`wrangler secret put ${connection.secret}\`)`,
			);
		}
		let adminToken: string | undefined;
		if (connection.admin) {
			const token = env[connection.admin.tokenSecret];
			if (typeof token !== "string" || token.length === 0) {
				throw new ConfigError(`invalid configuration: CONNECTIONS[${index}].admin.tokenSecret: secret ${connection.admin.tokenSecret} is not set`);
			}
			adminToken = token;
		}
		connections.set(connection.id, { ...connection, signingKey, adminToken });
	}
	const config: Config = {
		connections,
		inventory: parsed.data.INVENTORY,
		storefrontOrigins: new Set(parsed.data.STOREFRONT_ORIGINS),
		opsToken: parsed.data.OPS_TOKEN,
	};
	cache.set(env, config);
	return config;
}

/** `CONNECTIONS[0].id: lowercase letters…; OPS_TOKEN: …` — zod 4 issues are not enumerable, so format them here. */
export function formatIssues(error: z.ZodError): string {
	return error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join("; ");
}

function formatPath(path: readonly PropertyKey[]): string {
	let out = "";
	for (const part of path) {
		out += typeof part === "number" ? `[${part}]` : out ? `.${String(part)}` : String(part);
	}
	return out || "(root)";
}
