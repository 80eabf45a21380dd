import type { Env } from "./env";
import { log } from "./log";

/**
 * Rotating a secret without downtime: put the old value in `<NAME>_PREVIOUS`, the new one in
 * `<NAME>`; both are accepted until `<NAME>_PREVIOUS` is deleted (after the sender has switched:
 * the log says when the previous one is still being used).
 */
export const PREVIOUS_SUFFIX = "_PREVIOUS";

/** The values of a named secret that are accepted now: the current one, then the previous one. */
export function acceptedSecrets(env: Env, name: string): string[] {
	return [env[name], env[`${name}${PREVIOUS_SUFFIX}`]].filter((value): value is string => typeof value === "string" && value.length > 0);
}

/** Names of the secrets in `names` that are mid-rotation (a previous value is still accepted). */
export function rotating(env: Env, names: Iterable<string>): string[] {
	return [...new Set(names)].filter((name) => acceptedSecrets(env, name).length > 1);
}

/**
 * Verifies an inbound signature (or token) against a secret's current value, then its previous
 * one. Acceptance by the previous value is logged by name, so operators know when it can go.
 */
export async function verifyWithSecret(
	env: Env,
	name: string,
	verify: (secret: string) => Promise<boolean>,
	context: { connection: string },
): Promise<boolean> {
	const [current, previous] = acceptedSecrets(env, name);
	if (current !== undefined && (await verify(current))) return true;
	if (previous !== undefined && (await verify(previous))) {
		log("warn", "secret.previous_accepted", { connection: context.connection, secret: name });
		return true;
	}
	return false;
}
