import type { IRequest } from "itty-router";
import { loadConfig, type OpsRole } from "./config";
import type { Env } from "./env";
import { failure, hasBearer } from "./http";
import { log } from "./log";
import { PREVIOUS_SUFFIX } from "./secrets";

export type OpsRequest = IRequest & { role?: OpsRole };

const RANK: Record<OpsRole, number> = { read: 0, operator: 1, admin: 2 };

/**
 * The role of the ops token the request carries, or null. Every accepted token (previous values
 * of rotating ones too) is compared in constant time, all of them every time, so the answer's
 * timing tells nothing about which one was close.
 */
export async function opsRole(request: Request, env: Env): Promise<OpsRole | null> {
	const tokens = loadConfig(env).opsTokens;
	const matches = await Promise.all(tokens.map((token) => hasBearer(request, token.value)));
	const match = tokens.find((_, i) => matches[i]);
	if (!match) return null;
	if (match.name.endsWith(PREVIOUS_SUFFIX)) log("warn", "secret.previous_accepted", { secret: match.name, path: new URL(request.url).pathname });
	return match.role;
}

function unauthorized(): Response {
	return failure(401, "unauthorized", "a valid Authorization: Bearer <ops token> is required", { "WWW-Authenticate": 'Bearer realm="ordersync-ops"' });
}

const NEEDS: Record<OpsRole, string> = {
	read: "",
	operator: "replays, retries and stock changes need the operator or admin token",
	admin: "personal-data requests (redaction, data export) need the admin token",
};

/** A guard that lets through tokens of `role` or higher, and remembers the caller's role. */
function requireRole(role: OpsRole) {
	return async (request: OpsRequest, env: Env): Promise<Response | undefined> => {
		const held = await opsRole(request, env);
		if (!held) return unauthorized();
		if (RANK[held] < RANK[role]) return failure(403, "forbidden", `this is the ${held} token: ${NEEDS[role]}`);
		request.role = held;
	};
}

/** Reading ops state (and the live stream) takes any ops token. */
export const requireRead = requireRole("read");
/** Changing anything (replays, retries, stock feeds) takes the operator token or the admin one. */
export const requireOps = requireRole("operator");
/** Personal-data requests take the admin token. */
export const requireAdmin = requireRole("admin");
