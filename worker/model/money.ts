import { z } from "zod";

/** ISO 4217 alphabetic code. */
export const Currency = z.string().regex(/^[A-Z]{3}$/, "expected an ISO 4217 currency code");
export type Currency = z.infer<typeof Currency>;

/** Money is always integer minor units (cents, yen, fils) with its currency; never a float. */
export const Money = z.object({
	amount: z.number().int(),
	currency: Currency,
});
export type Money = z.infer<typeof Money>;

const exponentCache = new Map<string, number>();

/** Minor-unit exponent of a currency (USD 2, JPY 0, KWD 3), from the runtime's ICU data. */
export function currencyExponent(currency: string): number {
	let exponent = exponentCache.get(currency);
	if (exponent === undefined) {
		exponent = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
			.maximumFractionDigits ?? 2;
		exponentCache.set(currency, exponent);
	}
	return exponent;
}

/**
 * Parses a decimal string such as "199.95" into minor units without floating point.
 * Throws when the string carries more precision than the currency has, so that
 * a fraction of a cent is never silently rounded away.
 */
export function toMinorUnits(decimal: string, currency: string): number {
	const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(decimal.trim());
	if (!match) throw new RangeError(`not a decimal amount: ${JSON.stringify(decimal)}`);
	const [, sign, whole = "0", fraction = ""] = match;
	const exponent = currencyExponent(currency);
	const significant = fraction.replace(/0+$/, "");
	if (significant.length > exponent) {
		throw new RangeError(`${decimal} has more precision than ${currency} allows`);
	}
	const minor = Number(whole + fraction.padEnd(exponent, "0").slice(0, exponent));
	if (!Number.isSafeInteger(minor)) throw new RangeError(`${decimal} is too large`);
	return sign && minor !== 0 ? -minor : minor;
}

export function money(decimal: string, currency: string): Money {
	return { amount: toMinorUnits(decimal, currency), currency };
}

/** A total shared out over `quantity` units, in integer minor units, rounded half away from zero (10.00 for 3 is 3.33). */
export function perUnit(total: number, quantity: number): number {
	if (quantity <= 1) return total;
	const whole = Math.trunc(total / quantity);
	const rest = total - whole * quantity;
	return 2 * Math.abs(rest) >= quantity ? whole + Math.sign(total) : whole;
}
