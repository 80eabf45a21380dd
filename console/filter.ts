// The filter an operator types after `/`: `channel:x state:y sku:z kind:k` tokens plus free text.
// Every part must match (AND); free-text words match anywhere in the item, case-insensitively.
import type { ExceptionItem, FlowEvent } from "./protocol";

export type Filter = {
	channel?: string;
	/** The order's status after the event (FlowEvent.status). */
	state?: string;
	sku?: string;
	/** Exception kind: quarantine, dead-letter, unroutable, failure, gap, shipment. */
	kind?: string;
	/** Free-text words (a "quoted phrase" is one word), lower-cased. */
	text: string[];
};

const KEYS = ["channel", "state", "sku", "kind"] as const;
type Key = (typeof KEYS)[number];
const isKey = (key: string): key is Key => (KEYS as readonly string[]).includes(key);

export function parseFilter(input: string): Filter {
	const filter: Filter = { text: [] };
	for (const match of input.matchAll(/"([^"]*)"|(\S+)/g)) {
		const token = match[1] ?? match[2] ?? "";
		const colon = token.indexOf(":");
		const key = token.slice(0, colon).toLowerCase();
		// Only known keys are tokens; anything else with a colon (an order key, a URL) is text.
		if (match[2] !== undefined && colon > 0 && colon < token.length - 1 && isKey(key)) filter[key] = token.slice(colon + 1).toLowerCase();
		else if (token) filter.text.push(token.toLowerCase());
	}
	return filter;
}

export function isEmptyFilter(filter: Filter): boolean {
	return filter.text.length === 0 && KEYS.every((key) => filter[key] === undefined);
}

const lower = (value: string | null | undefined) => (value ?? "").toLowerCase();
const hasAll = (words: string[], fields: Array<string | null | undefined>) => {
	const haystack = fields.map(lower).join(" ");
	return words.every((word) => haystack.includes(word));
};

/** `channel:` names a channel (shopify) or part of a connection (shopify-demo). */
const channelMatches = (want: string, channel: string | null | undefined, connection: string | null | undefined) =>
	lower(channel) === want || lower(connection).includes(want);

export function matchesFlow(filter: Filter, event: FlowEvent, orderName?: string): boolean {
	if (filter.channel !== undefined && !channelMatches(filter.channel, event.channel, event.connection)) return false;
	if (filter.state !== undefined && lower(event.status) !== filter.state) return false;
	if (filter.sku !== undefined && lower(event.sku) !== filter.sku) return false;
	if (filter.kind !== undefined && lower(event.type) !== filter.kind) return false;
	return hasAll(filter.text, [
		event.type, event.orderName ?? orderName, event.orderKey, event.sku, event.topic, event.detail,
		event.connection, event.channel, event.status, event.eventId,
	]);
}

export function matchesException(filter: Filter, item: ExceptionItem): boolean {
	if (filter.kind !== undefined && lower(item.kind) !== filter.kind) return false;
	if (filter.channel !== undefined && !channelMatches(filter.channel, item.channel, item.connection)) return false;
	if (filter.state !== undefined || filter.sku !== undefined) {
		// Exceptions carry neither; a filter that asks for them matches only through the text.
		const extra = [filter.state, filter.sku].filter((v): v is string => v !== undefined);
		if (!hasAll(extra, [item.reason, item.id])) return false;
	}
	return hasAll(filter.text, [item.id, item.kind, item.reason, item.connection, item.channel, item.topic, item.orderKey, item.orderName, item.eventId]);
}
