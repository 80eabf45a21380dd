import { type Connection, loadConfig } from "../config";
import type { AmazonCredentials } from "../connectors/amazon/account";
import { readAmazonListings } from "../connectors/amazon/levels";
import type { CallResult } from "../connectors/call";
import { pushesAvailability } from "../connectors/channels";
import { readShopifyLevels } from "../connectors/shopify/levels";
import type { TikTokCredentials } from "../connectors/tiktok/account";
import { readTikTokStock } from "../connectors/tiktok/levels";
import type { WooCommerceCredentials } from "../connectors/woocommerce/account";
import { readWooCommerceStock } from "../connectors/woocommerce/levels";
import type { Env } from "../env";

/** What one drift check of a connection found: the channel's shown stock against the ledgers. */
export interface DriftReport {
	/** SKUs whose channel quantity was read and compared. */
	checked: number;
	/** SKUs where the channel shows something other than the ledger's available-to-promise for it. */
	drifted: { sku: string; channel: number; ledger: number; untracked?: true }[];
	/** Of those, how many were queued to be pushed again. */
	repushed: number;
	/**
	 * Set when the check stopped early (rate limit, channel error); what was checked still counts.
	 * Also set, without stopping, when a ledger could not answer (the next check asks it again).
	 */
	error?: string;
	/** When the channel asked to wait (429 Retry-After), how long. */
	retryAfterMs?: number;
	/**
	 * SKUs the channel lists that no ledger keeps stock for (a ledger that never heard of the SKU,
	 * or a bundle, which ordersync does not push): left alone, since there is nothing to compare.
	 */
	unknown?: number;
	/** SKUs that differed while a push to the channel was due or in flight (or landed after the read): that push settles them. */
	pending?: number;
	/** Pages of the channel's listing read. */
	pages?: number;
	/**
	 * Where the next check should start (pass it back as `options.cursor`): set when this one
	 * stopped at its page cap or at a failure; absent when it read the channel to the end.
	 */
	cursor?: string;
	/** Why nothing was checked: the connection takes no pushes, or its channel has no stock to read back. */
	skipped?: string;
}

export interface DriftOptions {
	/** Resume where an earlier check stopped (its report's `cursor`). */
	cursor?: string;
	/** Pages of the channel's listing read at most in this check (default per channel, see READERS). */
	maxPages?: number;
}

/** One page of what a channel shows: per listing, its SKU and quantity (null: the channel does not count it). */
type ShownPage = { levels: Array<{ sku: string; quantity: number | null }>; next: string | null; waitMs?: number };
type Reader = { maxPages: number; read: (cursor: string | null) => Promise<CallResult<ShownPage>> };

/** Ledgers asked at once: a page's SKUs are many small RPCs to as many objects. */
const LEDGER_CONCURRENCY = 8;

/**
 * How each channel's stock is read back, page by page. Page caps keep one check small (about a
 * thousand listings, or 200 on Amazon, whose search allows 5 requests a second); a larger
 * catalogue is covered over several checks through the cursor.
 */
function readerFor(connection: Connection): Reader | null {
	const credentials = connection.credentials;
	switch (connection.channel) {
		case "shopify": {
			const admin = connection.admin;
			const token = connection.adminToken;
			return admin && token ? { maxPages: 10, read: (cursor) => readShopifyLevels(admin, token, cursor) } : null;
		}
		case "woocommerce": {
			const account = connection.woocommerce;
			return account ? { maxPages: 10, read: (cursor) => readWooCommerceStock(account, credentials as WooCommerceCredentials, cursor) } : null;
		}
		case "tiktok": {
			const account = connection.tiktok;
			return account ? { maxPages: 10, read: (cursor) => readTikTokStock(account, credentials as TikTokCredentials, cursor) } : null;
		}
		case "amazon": {
			const account = connection.amazon;
			return account ? { maxPages: 10, read: (cursor) => readAmazonListings(account, credentials as unknown as AmazonCredentials, cursor) } : null;
		}
		default:
			// EDI: the 846 inventory advice is one-way; the retailer's side cannot be read back.
			return null;
	}
}

/**
 * Compares the stock a connection's channel shows with each SKU ledger's available-to-promise for
 * that connection, and has the ledger push again where they differ. The channel is read page by
 * page; each page's SKUs are put to their ledgers (SkuLedger.checkDrift), which decide and queue
 * the push themselves. A rate limit (429, Shopify THROTTLED, TikTok 36009002) or any other
 * failure stops the check where it is, with `retryAfterMs` when the channel said how long to wait
 * and `cursor` to resume from; what was checked before it still counts.
 */
export async function checkStockDrift(env: Env, connection: Connection, options: DriftOptions = {}): Promise<DriftReport> {
	const report: DriftReport = { checked: 0, drifted: [], repushed: 0, unknown: 0, pending: 0, pages: 0 };
	if (!pushesAvailability(connection)) return { ...report, skipped: `connection ${connection.id} takes no availability pushes` };
	const reader = readerFor(connection);
	if (!reader) return { ...report, skipped: `${connection.channel} (connection ${connection.id}) has no API to read its stock back` };
	const bundles = loadConfig(env).inventory.bundles;
	const maxPages = Math.max(1, options.maxPages ?? reader.maxPages);
	let cursor = options.cursor ?? null;
	for (let page = 0; page < maxPages; page++) {
		const readAt = Date.now();
		const result = await reader.read(cursor);
		if (!result.ok) {
			report.error = result.error;
			if (result.retryAfterMs !== undefined) report.retryAfterMs = Math.ceil(result.retryAfterMs);
			// A page refused for good (an expired token, a page past the end) is not asked for again: the next check starts over.
			if (cursor !== null && result.retryable) report.cursor = cursor;
			return report;
		}
		report.pages!++;
		await compare(env, connection.id, result.value.levels, readAt, bundles, report);
		cursor = result.value.next;
		if (cursor === null) return report;
		const wait = result.value.waitMs ?? 0;
		if (wait > 0 && page + 1 < maxPages) await new Promise((resolve) => setTimeout(resolve, wait));
	}
	report.cursor = cursor!;
	return report;
}

/** Puts one page's SKUs to their ledgers, a few at a time, and adds what they answered to the report. */
async function compare(
	env: Env,
	connectionId: string,
	levels: ShownPage["levels"],
	readAt: number,
	bundles: Record<string, unknown>,
	report: DriftReport,
): Promise<void> {
	// A SKU listed more than once (TikTok products sharing a seller SKU) is one question to its ledger.
	const bySku = new Map<string, Array<number | null>>();
	for (const { sku, quantity } of levels) bySku.set(sku, [...(bySku.get(sku) ?? []), quantity]);
	const queue = [...bySku].filter(([sku]) => {
		if (!Object.hasOwn(bundles, sku)) return true;
		report.unknown!++;
		return false;
	});
	const worker = async () => {
		for (let next = queue.shift(); next; next = queue.shift()) {
			const [sku, shown] = next;
			try {
				const outcome = await env.SKU_LEDGER.getByName(sku).checkDrift(sku, connectionId, shown, readAt);
				if (!outcome.known) {
					report.unknown!++;
					continue;
				}
				report.checked++;
				if (outcome.pending) report.pending!++;
				if (!outcome.drifted) continue;
				report.drifted.push({ sku, channel: outcome.channel ?? 0, ledger: outcome.ledger, ...(outcome.channel === null ? { untracked: true as const } : {}) });
				if (outcome.queued) report.repushed++;
			} catch (error) {
				// One ledger that cannot answer does not stop the others; the next check asks it again.
				report.error ??= `ledger ${sku}: ${(error as Error).message}`;
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(LEDGER_CONCURRENCY, queue.length) }, worker));
}
