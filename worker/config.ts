import { z } from "zod";
import { AmazonAccount } from "./connectors/amazon/account";
import { EdiAccount } from "./connectors/edi/account";
import { type NetSuite, NetSuiteAccount } from "./connectors/netsuite/account";
import { TikTokAccount } from "./connectors/tiktok/account";
import { WooCommerceAccount } from "./connectors/woocommerce/account";
import { Channel } from "./model/order";
import type { Env } from "./env";
import { Dict } from "./model/dict";
import { LOG_LEVELS, setLogLevel } from "./log";

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

/** The per-channel API blocks a connection may carry. */
const API_BLOCKS = ["tiktok", "amazon", "woocommerce", "edi"] as const;

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
	/** The channel's own API, for the channels beyond Shopify: one block, named after the channel. */
	tiktok: TikTokAccount.optional(),
	amazon: AmazonAccount.optional(),
	woocommerce: WooCommerceAccount.optional(),
	/** An EDI X12 trading partner (a retailer's AS2/VAN gateway over HTTP). */
	edi: EdiAccount.optional(),
})
	.refine((c) => API_BLOCKS.every((block) => c[block] === undefined || c.channel === block), {
		message: "a connection's API block must be named after its channel (tiktok = { … } for channel tiktok)",
	})
	.refine((c) => c.channel !== "tiktok" || c.tiktok !== undefined, { message: "a TikTok Shop connection needs its tiktok = { appKey, … } block", path: ["tiktok"] })
	.refine((c) => c.channel !== "amazon" || c.amazon !== undefined, { message: "an Amazon connection needs its amazon = { sellerId, … } block", path: ["amazon"] })
	.refine((c) => c.channel !== "edi" || c.edi !== undefined, { message: "an EDI connection needs its edi = { partnerId, gatewayUrl, … } block", path: ["edi"] });


/** A 3PL account (ShipBob's Orders API). Its fulfilment centres are the routing locations. */
const ThreePlConfig = z.object({
	id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes"),
	kind: z.literal("shipbob"),
	/** ShipBob's dated API version, e.g. 2026-07. */
	apiVersion: z.string().regex(/^\d{4}-\d{2}$/),
	/** The `shipbob_channel_id` header: the channel with write scopes that owns ordersync's orders. */
	channelId: z.number().int().positive(),
	/** Name of the Worker secret holding the Personal Access Token. */
	tokenSecret: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
	/** Name of the Worker secret holding the webhook subscription's signing secret (whsec_…). */
	webhookSecret: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
	/** Base URL override, for the local sandbox; production talks to https://api.shipbob.com. */
	endpoint: z.url().optional(),
});
export type ThreePlConfig = z.infer<typeof ThreePlConfig>;

/** Carrier tracking (EasyPost Trackers): ordersync registers each shipment's tracking number. */
const TrackingConfig = z.object({
	id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
	kind: z.literal("easypost"),
	apiKeySecret: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
	webhookSecret: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
	endpoint: z.url().optional(),
});
export type TrackingConfig = z.infer<typeof TrackingConfig>;

/** A stocking location that ships orders, and how routing prefers it. */
const FulfillmentLocation = z.object({
	/** The location id used by the inventory feeds (e.g. "wh-east"). */
	id: z.string().min(1),
	/** Lower ranks are preferred when more than one location can ship an order. */
	rank: z.number().int().default(100),
	/** Ship-to countries (ISO 3166 alpha-2) this location serves; all when absent. */
	countries: z.array(z.string().length(2)).optional(),
	/** Ship-to regions (province/state codes) this location is closest to: preferred for them. */
	regions: z.array(z.string().min(1)).default([]),
	threePl: z.string(),
	/** The 3PL's id for this fulfilment centre (ShipBob `location_id`). */
	fulfillmentCenterId: z.number().int().positive(),
});
export type FulfillmentLocation = z.infer<typeof FulfillmentLocation>;

const FulfillmentConfig = z.object({
	/** Split an order across locations when no single location can ship all of it. */
	allowSplit: z.boolean().default(true),
	/** ShipBob ship option when the channel names none. */
	defaultShippingMethod: z.string().default("Standard"),
	locations: z.array(FulfillmentLocation).default([]),
});
export type FulfillmentConfig = z.infer<typeof FulfillmentConfig>;

/** How outbound deliveries are retried and when they are given up to the dead-letter desk. */
const DeliveryConfig = z.object({
	maxAttempts: z.number().int().positive().default(10),
	/** A delivery older than this is dead-lettered at its next failure. */
	maxAgeMs: z.number().int().positive().default(24 * 3600_000),
	/** Backoff: a random wait up to base × 2^attempts, capped (full jitter). */
	baseBackoffMs: z.number().int().positive().default(1_000),
	maxBackoffMs: z.number().int().positive().default(5 * 60_000),
	timeoutMs: z.number().int().positive().default(10_000),
	/** Requests in flight per destination across all objects (NetSuite accounts allow as few as 5). */
	concurrency: z.record(z.string(), z.number().int().positive()).default({}),
	defaultConcurrency: z.number().int().positive().default(8),
	/** Consecutive failures that open a destination's circuit, and how long it stays open. */
	circuitFailures: z.number().int().positive().default(5),
	circuitCooldownMs: z.number().int().positive().default(30_000),
});
export type DeliveryConfig = z.infer<typeof DeliveryConfig>;

/** The scheduled reconciliation sweep (durable-objects/channel-sweep.ts): how far back and how much per run. */
const SweepConfig = z.object({
	/** A connection's first sweep reads orders updated this long ago (Shopify may deliver a day late). */
	lookbackHours: z.number().positive().max(24 * 60).default(24),
	/** Each sweep re-reads this far before its cursor; deduplication makes the overlap harmless. */
	overlapMinutes: z.number().int().min(0).max(24 * 60).default(5),
	/** Pages read per run and connection, so one run stays well inside the channel's rate limits. */
	maxPagesPerRun: z.number().int().positive().max(500).default(20),
});
export type SweepConfig = z.infer<typeof SweepConfig>;

const BundleComponent = z.object({ sku: z.string().min(1), quantity: z.number().int().positive() });

const InventoryConfig = z
	.object({
		/** Units per SKU never promised to any channel. */
		safetyStock: Dict(Count).prefault({}),
		/** Bundle and kit SKUs: sold as one line, stocked only as their components. */
		bundles: Dict(z.array(BundleComponent).min(1)).prefault({}),
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
	/** The least severe log lines written: info writes a line per flow event; warn only trouble. */
	LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
	/** The public availability endpoint: how long storefront answers are cached at the edge (0: never). */
	AVAILABILITY: z.object({ cacheSeconds: z.number().int().min(0).max(300).default(2) }).prefault({}),
	INVENTORY: InventoryConfig.prefault({}),
	OPS_TOKEN: z.string().min(16, "set OPS_TOKEN to a secret of at least 16 characters"),
	/** Optional read-only token: the console and ops GETs, but no replay, retry or stock change. */
	OPS_READ_TOKEN: OptionalToken("OPS_READ_TOKEN"),
	/** Optional admin token: everything the operator token does, plus privacy requests (redaction). */
	OPS_ADMIN_TOKEN: OptionalToken("OPS_ADMIN_TOKEN"),
	/** Each token's previous value while it is being rotated (see worker/secrets.ts). */
	OPS_TOKEN_PREVIOUS: OptionalToken("OPS_TOKEN_PREVIOUS"),
	OPS_READ_TOKEN_PREVIOUS: OptionalToken("OPS_READ_TOKEN_PREVIOUS"),
	OPS_ADMIN_TOKEN_PREVIOUS: OptionalToken("OPS_ADMIN_TOKEN_PREVIOUS"),
	THREEPLS: z.array(ThreePlConfig).default([]),
	TRACKING: z.array(TrackingConfig).default([]),
	FULFILLMENT: FulfillmentConfig.prefault({}),
	DELIVERY: DeliveryConfig.prefault({}),
	SWEEP: SweepConfig.prefault({}),
	/** The ERP every booked order and payout is posted to; none when absent. */
	ERP: NetSuiteAccount.optional(),
}).superRefine((c, ctx) => {
	// A value shared by two tokens would give one of them the other's role.
	const seen = new Map<string, string>();
	for (const name of OPS_TOKEN_NAMES) {
		const value = c[name];
		if (value === undefined) continue;
		const other = seen.get(value);
		if (other) ctx.addIssue({ code: "custom", path: [name], message: `${name} must differ from ${other}` });
		else seen.set(value, name);
	}
});

function OptionalToken(name: string) {
	return z.string().min(16, `${name}, when set, must be at least 16 characters`).optional();
}

/** The ops API's scopes, least to most: read (GETs and the live stream), operator, admin. */
export const OpsRole = z.enum(["read", "operator", "admin"]);
export type OpsRole = z.infer<typeof OpsRole>;

const OPS_TOKEN_NAMES = ["OPS_TOKEN", "OPS_READ_TOKEN", "OPS_ADMIN_TOKEN", "OPS_TOKEN_PREVIOUS", "OPS_READ_TOKEN_PREVIOUS", "OPS_ADMIN_TOKEN_PREVIOUS"] as const;
const ROLE_OF_TOKEN: Record<(typeof OPS_TOKEN_NAMES)[number], OpsRole> = {
	OPS_TOKEN: "operator",
	OPS_TOKEN_PREVIOUS: "operator",
	OPS_READ_TOKEN: "read",
	OPS_READ_TOKEN_PREVIOUS: "read",
	OPS_ADMIN_TOKEN: "admin",
	OPS_ADMIN_TOKEN_PREVIOUS: "admin",
};

/** One accepted ops token: its secret's name (for logs), its role, and its value. */
export interface OpsToken {
	name: string;
	role: OpsRole;
	value: string;
}

export type Connection = z.infer<typeof ConnectionConfig> & {
	adminToken?: string;
	/** The secrets its API block names (each `<name>Secret` field), by `<name>`: e.g. appSecret, accessToken. */
	credentials: Record<string, string>;
};

// Inbound signatures are checked against the named secret and its previous value (worker/secrets.ts).
export type ThreePl = ThreePlConfig & { token: string };
export type Tracking = TrackingConfig & { apiKey: string };

export interface Config {
	connections: Map<string, Connection>;
	threePls: Map<string, ThreePl>;
	tracking: Map<string, Tracking>;
	fulfillment: FulfillmentConfig;
	delivery: DeliveryConfig;
	sweep: SweepConfig;
	inventory: InventoryConfig;
	storefrontOrigins: Set<string>;
	availability: { cacheSeconds: number };
	/** Every ops token accepted now, previous values of rotating ones included. */
	opsTokens: OpsToken[];
	erp?: NetSuite;
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
	setLogLevel(parsed.data.LOG_LEVEL);
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
		const credentials: Record<string, string> = {};
		const block = API_BLOCKS.map((name) => [name, connection[name]] as const).find(([, value]) => value !== undefined);
		for (const [field, name] of Object.entries(block?.[1] ?? {})) {
			if (!field.endsWith("Secret") || typeof name !== "string") continue;
			const value = env[name];
			if (typeof value !== "string" || value.length === 0) {
				throw new ConfigError(`invalid configuration: CONNECTIONS[${index}].${block![0]}.${field}: secret ${name} is not set (put it in .dev.vars locally, or run \`wrangler secret put ${name}\`)`);
			}
			credentials[field.slice(0, -"Secret".length)] = value;
		}
		connections.set(connection.id, { ...connection, adminToken, credentials });
	}
	const secret = (field: string, name: string): string => {
		const value = env[name];
		if (typeof value !== "string" || value.length === 0) {
			throw new ConfigError(`invalid configuration: ${field}: secret ${name} is not set (put it in .dev.vars locally, or run \`wrangler secret put ${name}\`)`);
		}
		return value;
	};
	const threePls = new Map<string, ThreePl>();
	for (const [index, account] of parsed.data.THREEPLS.entries()) {
		threePls.set(account.id, {
			...account,
			token: secret(`THREEPLS[${index}].tokenSecret`, account.tokenSecret),
		});
		secret(`THREEPLS[${index}].webhookSecret`, account.webhookSecret);
	}
	const tracking = new Map<string, Tracking>();
	for (const [index, account] of parsed.data.TRACKING.entries()) {
		tracking.set(account.id, {
			...account,
			apiKey: secret(`TRACKING[${index}].apiKeySecret`, account.apiKeySecret),
		});
		secret(`TRACKING[${index}].webhookSecret`, account.webhookSecret);
	}
	for (const [index, location] of parsed.data.FULFILLMENT.locations.entries()) {
		if (!threePls.has(location.threePl)) {
			throw new ConfigError(`invalid configuration: FULFILLMENT.locations[${index}].threePl: no 3PL "${location.threePl}" in THREEPLS`);
		}
	}
	const erpAccount = parsed.data.ERP;
	let erp: NetSuite | undefined;
	if (erpAccount) {
		for (const id of Object.keys(erpAccount.connections)) {
			if (!connections.has(id)) throw new ConfigError(`invalid configuration: ERP.connections.${id}: no connection "${id}" in CONNECTIONS`);
		}
		erp = {
			...erpAccount,
			credentials: {
				consumerKey: secret("ERP.consumerKeySecret", erpAccount.consumerKeySecret),
				consumerSecret: secret("ERP.consumerSecretSecret", erpAccount.consumerSecretSecret),
				tokenId: secret("ERP.tokenIdSecret", erpAccount.tokenIdSecret),
				tokenSecret: secret("ERP.tokenSecretSecret", erpAccount.tokenSecretSecret),
			},
		};
	}
	const config: Config = {
		erp,
		threePls,
		tracking,
		fulfillment: parsed.data.FULFILLMENT,
		delivery: parsed.data.DELIVERY,
		sweep: parsed.data.SWEEP,
		connections,
		inventory: parsed.data.INVENTORY,
		storefrontOrigins: new Set(parsed.data.STOREFRONT_ORIGINS),
		availability: parsed.data.AVAILABILITY,
		opsTokens: OPS_TOKEN_NAMES.flatMap((name) => {
			const value = parsed.data[name];
			return value === undefined ? [] : [{ name, role: ROLE_OF_TOKEN[name], value }];
		}),
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
