import type { CanonicalOrder } from "./order";
import { createHash } from "node:crypto";

/**
 * Personal data and how it is removed (privacy requests: Shopify's customers/redact and
 * shop/redact, the ops API). What counts as personal: names, emails, phones, street lines, city,
 * postal code, company, IP addresses, user agents, buyer notes and geolocation. What stays: ids,
 * country and province/state (tax and finance need them), money, SKUs, quantities, dates.
 *
 * Stored payloads are scrubbed by their own format, byte for byte except the values replaced:
 * JSON (Shopify, WooCommerce, TikTok Shop, Amazon, ShipBob, the canonical order) by key, X12 (EDI)
 * by segment. Numbers are never rewritten (Shopify ids beyond 2^53 and money stay exact), except
 * latitude/longitude, which become null.
 */
export const REDACTED = "[redacted]";
/** X12 elements cannot hold brackets safely (a partner may use them as separators). */
export const X12_REDACTED = "REDACTED";

/** Keys compared lower-case without `_`, `-`, `.`: `first_name`, `firstName` and `FirstName` are one. */
const norm = (key: string) => key.toLowerCase().replace(/[_\-.]/g, "");

/** Personal wherever they appear. */
const ALWAYS = new Set(
	[
		"email", "contact_email", "buyer_email", "customer_email", "billing_email", "BuyerEmail",
		"phone", "phone_number", "mobile", "mobile_phone", "telephone",
		"first_name", "last_name", "full_name", "buyer_name", "customer_name", "recipient_name", "BuyerName",
		"browser_ip", "ip_address", "customer_ip_address", "client_ip", "customer_user_agent", "user_agent",
		"note", "customer_note", "buyer_message", "gift_message", "cpf", "cpf_name",
	].map(norm),
);

/** Objects (and arrays of them) that describe a person: every text inside is personal unless kept. */
const CONTAINERS = new Set(
	[
		"customer", "billing_address", "shipping_address", "default_address", "addresses", "address",
		"recipient", "recipient_address", "billing", "shipping", "shipTo", "billTo", "buyer", "BuyerInfo",
		"BuyerTaxInfo", "BuyerTaxInformation", "ShippingAddress", "client_details", "note_attributes",
		"destination", "properties", "contact", "delivery_address",
	].map(norm),
);

/** Inside a person's object, these stay: ids, country and province/state, money and record dates. */
const KEEP = new Set(
	[
		"id", "admin_graphql_api_id", "channelCustomerId", "customer_id", "user_id",
		"country", "country_code", "countryCode", "country_name", "province", "province_code", "provinceCode",
		"state", "state_code", "StateOrRegion", "region", "region_code", "AddressType",
		"currency", "currency_code", "amount", "price", "total", "created_at", "updated_at",
	].map(norm),
);

const GEO = new Set(["latitude", "longitude", "lat", "lng", "lon"]);

/**
 * Identifiers (SKUs, ids, keys), outside a person's object: never rewritten for a value that
 * happens to equal one, so a postcode "3000" cannot turn SKU "3000" or an order id into a marker.
 */
const IDENTIFIER = /(id|ids|sku|skus|key|keys)$/;

/** A value's place in a payload, e.g. `billing_address.city` or `line_items[].properties[].value`. */
export type Found = { path: string; value: string };

export type ScrubResult = { text: string; changed: number; found: Found[] };

const EMAIL = /[A-Z0-9._%+-]+@[A-Z0-9-]+(?:\.[A-Z0-9-]+)*\.[A-Z]{2,}/gi;
/** Phone-like runs: 7+ digits with the usual punctuation between them. */
const PHONE = /\+?\d[\d ().-]{5,}\d/g;

const isBlank = (value: string) => value.trim() === "" || value === REDACTED || value === X12_REDACTED;

/** Only digits and phone punctuation: matched as a whole value, never inside other text (money, ids). */
const numeric = (value: string) => /^[\d\s()+.-]+$/.test(value);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

type Matcher = { whole: string[]; patterns: RegExp[] };
const compiled = new WeakMap<readonly string[], Matcher>();

function matcher(values: readonly string[]): Matcher {
	let m = compiled.get(values);
	if (m) return m;
	m = { whole: [], patterns: [] };
	for (const raw of values) {
		const value = raw.trim();
		if (isBlank(value) || value.length < 3) continue;
		if (numeric(value)) {
			m.whole.push(value);
			m.patterns.push(new RegExp(`(?<!\\d)${escapeRegExp(value)}(?!\\d)`, "g"));
		} else {
			m.patterns.push(new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(value)}(?![\\p{L}\\p{N}])`, "giu"));
		}
	}
	compiled.set(values, m);
	return m;
}

/**
 * Replaces known personal values (found in this subject's records) wherever they appear in a
 * text, as whole words, case-insensitively, and any email address. `wholeOnly` (JSON string
 * values) replaces numeric values (phones, postal codes) only when they are the whole string,
 * never inside other text, where they could be part of an amount or an id.
 */
export function replaceValues(text: string, values: readonly string[], wholeOnly = false): string {
	let out = text.replace(EMAIL, REDACTED);
	const m = matcher(values);
	if (wholeOnly && m.whole.includes(out.trim())) return REDACTED;
	for (const pattern of m.patterns) {
		if (wholeOnly && !pattern.flags.includes("u")) continue;
		out = out.replace(pattern, REDACTED);
	}
	return out;
}

type Frame = { key: string | null; personal: boolean; path: string };

/**
 * Rewrites a JSON text: personal strings become REDACTED, latitude/longitude null; every other
 * byte stays as it was. Throws SyntaxError when the text is not JSON.
 */
export function scrubJson(text: string, values: readonly string[] = []): ScrubResult {
	const edits: Array<{ start: number; end: number; text: string }> = [];
	const found: Found[] = [];
	let i = 0;
	const fail = (): never => {
		throw new SyntaxError(`not JSON at position ${i}`);
	};
	const ws = () => {
		while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t")) i++;
	};
	const stringToken = (): { start: number; end: number; value: string } => {
		const start = i;
		if (text[i] !== '"') fail();
		i++;
		while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
		if (i >= text.length) fail();
		i++;
		return { start, end: i, value: JSON.parse(text.slice(start, i)) as string };
	};
	const value = (frame: Frame): void => {
		ws();
		const c = text[i];
		if (c === "{") {
			i++;
			ws();
			if (text[i] === "}") {
				i++;
				return;
			}
			for (;;) {
				ws();
				const key = stringToken().value;
				ws();
				if (text[i] !== ":") fail();
				i++;
				const k = norm(key);
				value({ key: k, personal: frame.personal || CONTAINERS.has(k), path: frame.path ? `${frame.path}.${key}` : key });
				ws();
				if (text[i] === ",") i++;
				else if (text[i] === "}") {
					i++;
					return;
				} else fail();
			}
		}
		if (c === "[") {
			i++;
			ws();
			if (text[i] === "]") {
				i++;
				return;
			}
			for (;;) {
				value({ ...frame, path: `${frame.path}[]` });
				ws();
				if (text[i] === ",") i++;
				else if (text[i] === "]") {
					i++;
					return;
				} else fail();
			}
		}
		if (c === '"') {
			const token = stringToken();
			const key = frame.key ?? "";
			let next = token.value;
			if (key === "rawbody" && !isBlank(next)) {
				// A payload stored inside another (an EDI partner's hand-off of the 850 set to its order).
				const inner = scrubRaw(next, values);
				for (const f of inner.found) found.push({ path: `${frame.path} > ${f.path}`, value: f.value });
				next = inner.text;
			} else if (!KEEP.has(key) && (frame.personal || ALWAYS.has(key))) {
				if (!isBlank(next)) {
					found.push({ path: frame.path, value: next });
					next = REDACTED;
				}
			} else if (!KEEP.has(key) && !IDENTIFIER.test(key)) {
				next = replaceValues(next, values, true);
			}
			if (next !== token.value) edits.push({ start: token.start, end: token.end, text: JSON.stringify(next) });
			return;
		}
		const start = i;
		while (i < text.length && /[-+0-9.eEa-z]/.test(text[i]!)) i++;
		if (i === start) fail();
		const literal = text.slice(start, i);
		if (!/^(-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null)$/.test(literal)) fail();
		if (frame.personal && GEO.has(frame.key ?? "") && literal !== "null") {
			found.push({ path: frame.path, value: literal });
			edits.push({ start, end: i, text: "null" });
		}
	};
	if (text.charCodeAt(0) === 0xfeff) i = 1; // a byte-order mark some PHP stores send
	value({ key: null, personal: false, path: "" });
	ws();
	if (i !== text.length) fail();
	let out = "";
	let at = 0;
	for (const edit of edits) {
		out += text.slice(at, edit.start) + edit.text;
		at = edit.end;
	}
	return { text: out + text.slice(at), changed: edits.length, found };
}

/** X12 elements that are personal, by segment tag: 1-based element positions. */
const X12_PERSONAL: Record<string, (position: number) => boolean> = {
	N1: (p) => p === 2, // N102 name; N101 entity code and N103/N104 id (a store or DC number) stay
	N2: () => true, // additional names
	N3: () => true, // street lines
	N4: (p) => p === 1 || p === 3, // city and postal code; N402 state and N404 country stay
	PER: (p) => p % 2 === 0, // PER02 name, PER04/06/08 phone, email…; the qualifiers stay
	NTE: (p) => p === 2, // free-form notes
	MSG: (p) => p === 1,
};

/** The separators of an interchange (ISA…) or of one transaction set as stored (ST…, segments on their own lines). */
function x12Delimiters(text: string): { element: string; segment: string } | null {
	if (text.startsWith("ISA") && text.length > 106) {
		const element = text[3]!;
		let at = 3;
		for (let k = 1; k < 16; k++) {
			at = text.indexOf(element, at + 1);
			if (at < 0) return null;
		}
		const segment = text[at + 2];
		return segment ? { element, segment } : null;
	}
	if (/^ST[^A-Za-z0-9\s]/.test(text)) {
		const end = text.trimEnd();
		return { element: text[2]!, segment: end[end.length - 1]! };
	}
	return null;
}

export function isX12(text: string): boolean {
	return x12Delimiters(text.replace(/^\uFEFF/, "").trimStart()) !== null;
}

/**
 * Removes names, addresses and contacts from X12 text (N1–N4, PER, NTE, MSG), every other byte
 * kept. With `only`, just the transaction sets whose BEG03 (the PO number) is listed.
 */
export function scrubX12(raw: string, options: { only?: ReadonlySet<string> } = {}): ScrubResult {
	const lead = raw.length - raw.replace(/^\uFEFF/, "").trimStart().length;
	const d = x12Delimiters(raw.slice(lead));
	if (!d) return { text: raw, changed: 0, found: [] };
	const found: Found[] = [];
	let changed = 0;
	let inScope = !options.only;
	const segments = raw.slice(lead).split(d.segment).map((piece) => {
		const body = piece.replace(/^\s+/, "");
		const space = piece.slice(0, piece.length - body.length);
		const fields = body.split(d.element);
		const tag = fields[0]!;
		if (options.only) {
			if (tag === "ST") inScope = false;
			if (tag === "BEG") inScope = options.only.has(fields[3] ?? "");
		}
		const personal = X12_PERSONAL[tag];
		if (!personal || !inScope) return piece;
		let touched = false;
		for (let p = 1; p < fields.length; p++) {
			const value = fields[p]!;
			if (!personal(p) || isBlank(value)) continue;
			found.push({ path: `${tag}${String(p).padStart(2, "0")}`, value });
			fields[p] = X12_REDACTED;
			touched = true;
		}
		if (!touched) return piece;
		changed++;
		return space + fields.join(d.element);
	});
	return { text: raw.slice(0, lead) + segments.join(d.segment), changed, found };
}

/**
 * Any stored payload, by its format: JSON by key, X12 by segment, other text (error messages,
 * details) by the values known for the subject and any email address.
 */
export function scrubRaw(text: string, values: readonly string[] = []): ScrubResult {
	const start = text.trimStart()[0];
	if (start === "{" || start === "[") {
		try {
			return scrubJson(text, values);
		} catch {
			// not JSON after all: scrubbed as text below
		}
	}
	if (isX12(text)) {
		const x12 = scrubX12(text);
		const out = replaceValues(x12.text, values);
		return { ...x12, text: out, changed: x12.changed + (out === x12.text ? 0 : 1) };
	}
	const out = replaceValues(text, values);
	return { text: out, changed: out === text ? 0 : 1, found: [] };
}

/** The personal values an order's canonical form holds (for finding them again in free text). */
export function personalValues(order: CanonicalOrder | null | undefined): string[] {
	if (!order) return [];
	return scrubJson(JSON.stringify({ customer: order.customer, shipTo: order.shipTo })).found.map((f) => f.value);
}

/** The distinct values of what a scrub found, markers left out. */
export function uniqueValues(found: Iterable<Found>): string[] {
	const seen = new Set<string>();
	for (const f of found) if (!isBlank(f.value)) seen.add(f.value);
	return [...seen];
}

// Finding a person's records without storing who they are: indexes hold SHA-256 digests of the
// normalized email, phone (digits only) and channel customer id, never the values themselves.

export type Subjects = { emails?: Array<string | undefined | null>; phones?: Array<string | undefined | null>; customerIds?: Array<string | number | undefined | null> };

// Synchronous (node:crypto), so an order's digests are taken inside the transaction that stores it.
function sha256Hex(text: string): string {
	return createHash("sha256").update(text).digest("hex");
}

export function subjectHashes(subjects: Subjects): string[] {
	const keys = new Set<string>();
	for (const email of subjects.emails ?? []) {
		const v = email?.trim().toLowerCase();
		if (v && !isBlank(v) && v.includes("@")) keys.add(`email:${v}`);
	}
	for (const phone of subjects.phones ?? []) {
		const digits = phone?.replace(/\D/g, "") ?? "";
		if (digits.length >= 6) keys.add(`phone:${digits}`);
	}
	for (const id of subjects.customerIds ?? []) {
		const v = id === undefined || id === null ? "" : String(id).trim();
		if (v && !isBlank(v)) keys.add(`customer:${v}`);
	}
	return [...keys].sort().map(sha256Hex);
}

/** Who an order's personal data belongs to, as index digests. */
export function orderSubjects(order: CanonicalOrder): string[] {
	return subjectHashes({
		emails: [order.customer?.email],
		phones: [order.customer?.phone, order.shipTo?.phone],
		customerIds: [order.customer?.channelCustomerId],
	});
}

/** Emails and phone numbers anywhere in a text (a quarantined body nobody could parse), as index digests. */
export function textSubjects(text: string): string[] {
	return subjectHashes({ emails: text.match(EMAIL) ?? [], phones: text.match(PHONE) ?? [] });
}
