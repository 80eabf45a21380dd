import { z } from "zod";

/**
 * A table looked up by outside input (a SKU, a carrier's name): built without a prototype, so a
 * key such as "__proto__", "constructor" or "toString" finds nothing instead of Object's own.
 */
export function Dict<V extends z.ZodType>(value: V) {
	return z.record(z.string(), value).transform((table) => Object.assign(Object.create(null) as Record<string, z.output<V>>, table));
}

/** The same for a table written in code. */
export function dict<V>(table: Record<string, V>): Record<string, V> {
	return Object.assign(Object.create(null) as Record<string, V>, table);
}
