/**
 * Structured logs: one JSON object per line, which Workers Logs and Logpush index field by field.
 * Fields are identifiers only (connection, order key, SKU, destination, event id, counts): never a
 * secret, a token, a request body or a person's name, email, phone or address.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogFields {
	connection?: string;
	/** The order's key, `<connection>:<channel order id>`. */
	order?: string;
	sku?: string;
	[field: string]: string | number | boolean | null | undefined;
}

export function log(level: LogLevel, event: string, fields: LogFields = {}): void {
	const line = JSON.stringify({ level, event, ...fields });
	if (level === "error") console.error(line);
	else if (level === "warn") console.warn(line);
	else if (level === "debug") console.debug(line);
	else console.log(line);
}
