import type { IRequest } from "itty-router";
import { flowMonitor } from "../../durable-objects/flow-monitor";
import type { Env } from "../env";
import { failure, json } from "../http";

/** The counters operators ask about first, as sums of flow event types. */
const GROUPS: Record<string, readonly string[]> = {
	/** Inbound events taken in, whatever became of them. */
	webhooks: ["received", "duplicate", "stale", "ignored", "quarantined", "notified", "edi.received"],
	/** Outbound deliveries that went through (3PL, channel, ERP, EDI documents). */
	deliveries: ["sent"],
	/** Attempts that failed and will be retried, and what was given up or could not proceed. */
	failures: ["retrying", "dead-lettered", "failed", "unroutable", "edi.rejected"],
	/** Availability values a channel accepted. */
	pushes: ["pushed"],
};

/**
 * GET /ops/metrics?hours=24 — flow events counted by type and connection: `total` since counting
 * began (only grows; what a scraper wants) and `recent` over the last `hours`. With
 * `Accept: text/plain` (or ?format=prometheus), the totals in Prometheus text format.
 */
export async function getMetrics(request: IRequest, env: Env): Promise<Response> {
	const url = new URL(request.url);
	const hours = Number(url.searchParams.get("hours") ?? "24");
	if (!Number.isInteger(hours) || hours < 1 || hours > 168) return failure(400, "invalid_request", "hours: a whole number from 1 to 168");
	const { since, counters } = await flowMonitor(env).counters(hours);

	if (url.searchParams.get("format") === "prometheus" || (request.headers.get("Accept") ?? "").startsWith("text/plain")) {
		const lines = ["# HELP ordersync_flow_events_total Flow events by type and connection.", "# TYPE ordersync_flow_events_total counter"];
		for (const c of counters) lines.push(`ordersync_flow_events_total{type="${label(c.name)}",connection="${label(c.connection ?? "")}"} ${c.total}`);
		return new Response(`${lines.join("\n")}\n`, { headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" } });
	}

	const sum = (names: readonly string[], field: "total" | "recent") => counters.filter((c) => names.includes(c.name)).reduce((n, c) => n + c[field], 0);
	const groups = Object.fromEntries(Object.entries(GROUPS).map(([group, names]) => [group, { total: sum(names, "total"), recent: sum(names, "recent") }]));
	return json({ since, hours, groups, counters });
}

/** Prometheus label values escape backslash, quote and newline. */
function label(value: string): string {
	return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
