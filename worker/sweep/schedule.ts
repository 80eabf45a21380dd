import { loadConfig } from "../config";
import type { Env } from "../env";
import { log } from "../log";
import { unsweepable } from "./orders";

/**
 * The cron trigger's work: every connection that can be swept runs its sweep, each in its own
 * ChannelSweep object (so a slow or rate-limited channel holds up no other). A connection whose
 * sweep is still running, or waiting out a rate limit, answers so and is left to it.
 */
export async function sweepAll(env: Env, cron: string): Promise<void> {
	const connections = [...loadConfig(env).connections.values()].filter((connection) => unsweepable(connection) === null);
	const results = await Promise.allSettled(connections.map((connection) => env.CHANNEL_SWEEP.getByName(connection.id).run({ connection: connection.id, trigger: "cron" })));
	for (const [i, result] of results.entries()) {
		const connection = connections[i]!.id;
		if (result.status === "rejected") {
			log("error", "sweep.failed", { connection, cron, error: result.reason instanceof Error ? result.reason.message : String(result.reason) });
		} else if (!result.value.ok) {
			log("info", "sweep.not_started", { connection, cron, code: result.value.code, detail: result.value.message });
		}
	}
}
