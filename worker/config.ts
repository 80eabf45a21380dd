import { z } from "zod";
import { Channel } from "./model/order";
import type { Env } from "./env";

const ConnectionConfig = z.object({
	/** Also the prefix of every order key, so no ":" (see orderKey). */
	id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes"),
	channel: Channel,
	/** Name of the Worker secret that holds this connection's webhook signing key. */
	secret: z.string().regex(/^[A-Z][A-Z0-9_]*$/, "the name of a secret binding, e.g. SHOPIFY_MAIN_SECRET"),
});

const ConfigSchema = z.object({
	CONNECTIONS: z
		.array(ConnectionConfig)
		.min(1)
		.refine((list) => new Set(list.map((c) => c.id)).size === list.length, "connection ids must be unique"),
	STOREFRONT_ORIGINS: z.array(z.url()).default([]),
	OPS_TOKEN: z.string().min(16, "set OPS_TOKEN to a secret of at least 16 characters"),
});

export type Connection = z.infer<typeof ConnectionConfig> & { signingKey: string };

export interface Config {
	connections: Map<string, Connection>;
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
		connections.set(connection.id, { ...connection, signingKey });
	}
	const config: Config = {
		connections,
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
