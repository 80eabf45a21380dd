import type { IRequest } from "itty-router";
import { z } from "zod";
import { flowMonitor } from "../../durable-objects/flow-monitor";
import type { IngestPayoutOutcome } from "../../durable-objects/settlement";
import { loadConfig } from "../config";
import { parseAmazonSettlement } from "../connectors/amazon/settlement";
import type { CallResult } from "../connectors/call";
import { fetchShopifyPayout, listShopifyPayouts } from "../connectors/shopify/payouts";
import { fetchTikTokStatement, listTikTokStatements } from "../connectors/tiktok/finance";
import type { Env } from "../env";
import { BodyTooLarge, failure, json, readBody, readJson } from "../http";
import type { Payout } from "../model/settlement";

/** An Amazon V2 settlement file runs to a few MB for a busy seller; past this it is not one. */
const MAX_REPORT_BYTES = 20 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 15_000;

function settlement(env: Env, payout: Payout) {
	return env.SETTLEMENT.getByName(`${payout.connection}:${payout.payoutId}`);
}

function answer(outcome: IngestPayoutOutcome): Response {
	if (!outcome.ok) return failure(outcome.code === "payout_changed" ? 409 : 422, outcome.code, outcome.message);
	return json({ status: outcome.status, report: outcome.report }, outcome.status === "duplicate" ? 200 : 201);
}

/** POST /ops/settlements/:connection/amazon-report — an Amazon V2 settlement report (flat file), as downloaded. */
export async function uploadAmazonReport(request: IRequest, env: Env): Promise<Response> {
	const id = decodeURIComponent(request.params.connection ?? "");
	if (loadConfig(env).connections.get(id)?.channel !== "amazon") return failure(404, "unknown_connection", `no Amazon connection ${id}`);
	let text: string;
	try {
		text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(await readBody(request, MAX_REPORT_BYTES));
	} catch (error) {
		if (error instanceof BodyTooLarge) return failure(413, "too_large", `a settlement report is at most ${MAX_REPORT_BYTES} bytes`);
		return failure(400, "invalid_encoding", "the report is not UTF-8 text");
	}
	const parsed = parseAmazonSettlement(text, id);
	if (!parsed.ok) return failure(400, "invalid_report", parsed.error);
	return answer(await settlement(env, parsed.payout).ingest(parsed.payout, { via: "upload", raw: text }));
}

export const SyncBody = z.object({
	/** One payout (Shopify payout id, TikTok statement id); or every payout since `since`. */
	payoutId: z.string().min(1).max(100).regex(/^[\w.:/-]+$/, "letters, digits and . _ : / - only").optional(),
	since: z.iso.datetime().optional(),
}).refine((b) => b.payoutId !== undefined || b.since !== undefined, "give payoutId, or since to fetch every payout paid since then");

/**
 * POST /ops/settlements/:connection/sync — fetches payouts from the channel's finance API (TikTok
 * Shop statements, Shopify Payments payouts) and reconciles each. Re-fetching one changes nothing.
 */
export async function syncPayouts(request: IRequest, env: Env): Promise<Response> {
	const id = decodeURIComponent(request.params.connection ?? "");
	const connection = loadConfig(env).connections.get(id);
	if (!connection) return failure(404, "unknown_connection", `no connection ${id}`);
	const body = await readJson(request, SyncBody);
	if ("response" in body) return body.response;
	const options = { timeoutMs: FETCH_TIMEOUT_MS };
	let ids: string[];
	let fetchOne: (payoutId: string) => Promise<CallResult<Payout>>;
	if (connection.channel === "tiktok") {
		fetchOne = (payoutId) => fetchTikTokStatement(connection, payoutId, options);
		if (body.data.payoutId) ids = [body.data.payoutId];
		else {
			const listed = await listTikTokStatements(connection, { from: body.data.since!, to: new Date().toISOString() }, options);
			if (!listed.ok) return upstream(listed);
			ids = listed.value.map((s) => s.id);
		}
	} else if (connection.channel === "shopify" && connection.admin && connection.adminToken) {
		const { admin, adminToken } = connection;
		fetchOne = async (payoutId) => {
			const result = await fetchShopifyPayout(admin, adminToken, payoutId, options);
			return result.ok ? { ok: true, value: { ...result.value, connection: id } } : result;
		};
		if (body.data.payoutId) ids = [body.data.payoutId];
		else {
			const listed = await listShopifyPayouts(admin, adminToken, { since: body.data.since! }, options);
			if (!listed.ok) return upstream(listed);
			ids = listed.value.map((p) => p.id);
		}
	} else if (connection.channel === "amazon") {
		return failure(409, "upload_required", "Amazon settlements come as V2 flat files: POST them to /ops/settlements/<connection>/amazon-report");
	} else {
		return failure(409, "no_payouts", `${connection.channel} connection ${id} has no payouts ordersync can fetch`);
	}
	const results = [];
	for (const payoutId of ids) {
		const fetched = await fetchOne(payoutId);
		if (!fetched.ok) {
			results.push({ payoutId, ok: false, error: fetched.error });
			continue;
		}
		const outcome = await settlement(env, fetched.value).ingest(fetched.value, { via: "api" });
		results.push(outcome.ok ? { payoutId, ok: true, status: outcome.status, summary: outcome.report.summary, exceptions: outcome.report.exceptions.length } : { payoutId, ok: false, error: outcome.message });
	}
	return json({ total: results.length, reconciled: results.filter((r) => r.ok).length, results });
}

function upstream(result: Extract<CallResult<unknown>, { ok: false }>): Response {
	return failure(result.retryable ? 503 : 502, "channel_error", result.error, result.retryAfterMs ? { "Retry-After": String(Math.ceil(result.retryAfterMs / 1000)) } : undefined);
}

/** GET /ops/settlements — payouts, most recently changed first, with their reconciliation at a glance. */
export async function listPayouts(request: IRequest, env: Env): Promise<Response> {
	const limit = Number(new URL(request.url).searchParams.get("limit") ?? "100");
	if (!Number.isSafeInteger(limit) || limit < 1) return failure(400, "invalid_request", "limit must be a positive integer");
	return json({ items: await flowMonitor(env).payouts(limit) });
}

/** GET /ops/settlements/:connection/:payoutId — the reconciliation report of one payout. */
export async function getPayout(request: IRequest, env: Env): Promise<Response> {
	const key = `${decodeURIComponent(request.params.connection ?? "")}:${decodeURIComponent(request.params.payoutId ?? "")}`;
	const report = await env.SETTLEMENT.getByName(key).report();
	return report ? json(report) : failure(404, "unknown_payout", `no payout ${key}`);
}
