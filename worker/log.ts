/**
 * Structured logs: one JSON object per line, which Workers Logs and Logpush index field by field.
 * Fields are identifiers only (connection, order key, SKU, destination, event id, counts): never a
 * secret, a token, a request body or a person's name, email, phone or address.
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Lines below this level are not written (the LOG_LEVEL var; set when the config loads). */
let threshold = LOG_LEVELS.indexOf("info");

export function setLogLevel(level: LogLevel): void {
	threshold = LOG_LEVELS.indexOf(level);
}

export interface LogFields {
	connection?: string;
	/** The order's key, `<connection>:<channel order id>`. */
	order?: string;
	sku?: string;
	[field: string]: string | number | boolean | null | undefined;
}

/** Whether lines of this level are written: lets a caller skip building one that would not be. */
export function logs(level: LogLevel): boolean {
	return LOG_LEVELS.indexOf(level) >= threshold;
}

export function log(level: LogLevel, event: string, fields: LogFields = {}): void {
	if (!logs(level)) return;
	const line = JSON.stringify({ level, event, ...fields });
	if (level === "error") console.error(line);
	else if (level === "warn") console.warn(line);
	else if (level === "debug") console.debug(line);
	else console.log(line);
}
