import type { IRequest } from "itty-router";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { failure, json } from "../http";
import { unsweepable } from "../sweep/orders";

/**
 * GET /ops/sweeps?runs=N — every connection's reconciliation sweep: its cursor, where a window
 * stands part-read, a rate limit's wait, its last run and the N before it (default 5); connections
 * that are not swept say why.
 */
export async function listSweeps(request: IRequest, env: Env): Promise<Response> {
	const runs = Number(new URL(request.url).searchParams.get("runs") ?? "5");
	if (!Number.isSafeInteger(runs) || runs < 1 || runs > 50) return failure(400, "invalid_request", "runs must be a whole number from 1 to 50");
	const { connections, sweep } = loadConfig(env);
	const items = await Promise.all(
		[...connections.values()].map(async (connection) => {
			const skipped = unsweepable(connection);
			if (skipped) return { connection: connection.id, channel: connection.channel, skipped };
			const status = await env.CHANNEL_SWEEP.getByName(connection.id).status(runs);
			return {
				connection: connection.id,
				channel: connection.channel,
				cursor: status.cursor,
				resume: status.resume,
				retryAt: status.retryAt,
				running: status.running,
				lastRun: status.runs[0] ?? null,
				runs: status.runs,
			};
		}),
	);
	return json({ settings: sweep, items });
}

/** POST /ops/sweeps/:connection/run — sweep one connection now; answers with the run when it is done. */
export async function runSweep(request: IRequest, env: Env): Promise<Response> {
	const id = decodeURIComponent(request.params.connection ?? "");
	const connection = loadConfig(env).connections.get(id);
	if (!connection) return failure(404, "unknown_connection", `no connection ${id}`);
	const skipped = unsweepable(connection);
	if (skipped) return failure(409, "not_swept", `${id} is not swept: ${skipped}`);
	const result = await env.CHANNEL_SWEEP.getByName(id).run({ connection: id, trigger: "manual" });
	if (result.ok) return json(result.run);
	const status = result.code === "unknown_connection" ? 404 : result.code === "rate_limited" ? 429 : 409;
	const headers: Record<string, string> = {};
	if (result.retryAt) headers["Retry-After"] = String(Math.max(1, Math.ceil((Date.parse(result.retryAt) - Date.now()) / 1000)));
	return failure(status, result.code, result.message, headers);
}
