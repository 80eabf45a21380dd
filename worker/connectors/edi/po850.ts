/**
 * 850 Purchase Order → CanonicalOrder (edi.md §2, 004010).
 *
 * - BEG03 is the PO number: the order's id and name. BEG01 00 (original) and 05 (replace) are
 *   whole versions of the order; 01 (cancellation) and 03 (delete) cancel it; 06 (confirmation),
 *   07 (duplicate) and 22 (information copy) change nothing and are ignored. Any other purpose is
 *   refused in the 997.
 * - 860 PO Change is not handled: its group is answered with a 997 "functional group not
 *   supported" (AK905 1), so the retailer's system flags it; changes must come as an 850 replace (05).
 * - Lines: PO1 with its product ID pairs read by qualifier, never by position, mapped to the
 *   brand's SKU through the account's itemMap (VN/SK as the SKU itself when nothing maps).
 *   Lines with no SKU, or in a unit other than eaches, keep sku null (the 855 rejects them).
 * - Money: PO104 and AMT02 are decimal strings turned into minor units without floats; an amount
 *   finer than the currency allows is refused rather than rounded.
 * - Times: sourceUpdatedAt is the functional group's GS04/GS05 date and time, createdAt the PO
 *   date BEG05. X12 dates carry no zone: both are read as UTC.
 * - SAC charges/allowances and taxes are not itemized: AMT*TT, when sent, is the order total.
 */
import type { Money } from "../../model/money";
import { currencyExponent, money } from "../../model/money";
import type { Address, CanonicalOrder, Customer, OrderLine, ShippingLine } from "../../model/order";
import type { EdiAccount } from "./account";
import type { ElementError, SegmentError } from "./documents";
import { type FunctionalGroup, type Segment, type TransactionSet, positionInSet, validDate, x12DateTime } from "./x12";

export type PurchaseOrderLine = {
	lineNumber: string;
	quantity: number;
	unit: string;
	unitPrice: Money;
	ids: Array<[string, string]>;
	sku: string | null;
};

/** What the 850 says beyond the canonical order: what 855/856/810 echo back, and the requested dates. */
export type PurchaseOrderDetails = {
	poNumber: string;
	/** BEG01 and BEG02 (SA stand-alone, DS drop ship, …). */
	purpose: string;
	type: string;
	/** BEG05, CCYYMMDD. */
	poDate: string;
	/** DTM dates by qualifier (002 delivery requested, 010 requested ship, 037 ship not before, 038 ship no later, 063 do not deliver after…), ISO 8601 UTC. */
	dates: Record<string, string>;
	/** N1*ST's id (N103/N104), e.g. a store or DC number. */
	shipToCode?: { qualifier: string; id: string };
	/** REF values by qualifier (DP department, IA vendor number, CO customer order…). */
	references: Record<string, string>;
	lines: PurchaseOrderLine[];
};

export type Edi850Result =
	| { ok: true; order: CanonicalOrder; po: PurchaseOrderDetails }
	| { ok: true; ignored: string }
	| { ok: false; error: string; segment: SegmentError };

class SetError extends Error {
	constructor(
		message: string,
		readonly segment: SegmentError,
	) {
		super(message);
	}
}

const ORDER = new Set(["00", "05"]);
const CANCEL = new Set(["01", "03"]);
const COPY: Record<string, string> = { "06": "confirmation", "07": "duplicate", "22": "information copy" };

/** Reads one 850 set of a group whose envelopes are valid. */
export function normalizeEdi850(set: TransactionSet, group: FunctionalGroup, account: EdiAccount, connection: string): Edi850Result {
	try {
		return read(set, group, account, connection);
	} catch (error) {
		if (error instanceof SetError) return { ok: false, error: error.message, segment: error.segment };
		throw error;
	}
}

function read(set: TransactionSet, group: FunctionalGroup, account: EdiAccount, connection: string): Edi850Result {
	const body = set.segments.slice(1, -1);
	const at = (segment: Segment) => new Located(set, segment);
	const beg = body.find((s) => s.tag === "BEG");
	if (!beg) {
		throw new SetError(`transaction set ${set.control}: BEG is missing`, { tag: "BEG", position: 2, code: "3" });
	}
	const b = at(beg);
	const purpose = b.required(1, "353");
	const type = b.required(2, "92");
	const poNumber = b.required(3, "324");
	const poDate = b.date(5, "373", true)!;
	if (COPY[purpose]) return { ok: true, ignored: `850 ${poNumber}: BEG01 ${purpose} (${COPY[purpose]}) changes nothing` };
	if (!ORDER.has(purpose) && !CANCEL.has(purpose)) {
		throw b.bad(1, "353", "7", `BEG01 ${purpose} is not supported: send 00 (original), 05 (replace) or 01 (cancellation)`);
	}

	let currency = account.currency;
	const cur = body.find((s) => s.tag === "CUR");
	if (cur) {
		const code = at(cur).required(2, "100");
		if (!/^[A-Z]{3}$/.test(code) || !knownCurrency(code)) throw at(cur).bad(2, "100", "7", `CUR02 ${JSON.stringify(code)} is not an ISO 4217 currency`);
		currency = code;
	}

	const dates: Record<string, string> = {};
	const references: Record<string, string> = {};
	const parties = new Map<string, Party>();
	let shipping: ShippingLine | null = null;
	let party: Party | null = null;
	const lines: Array<{ po1: Segment; line: PurchaseOrderLine; title: string | null }> = [];
	let current: (typeof lines)[number] | null = null;
	let ctt: Segment | null = null;
	let amt: Money | null = null;

	for (const segment of body) {
		const s = at(segment);
		switch (segment.tag) {
			case "DTM": {
				const qualifier = s.required(1, "374");
				const date = s.date(2, "373", true)!;
				const time = segment.fields[3] ?? "";
				const iso = x12DateTime(date, time || "0000");
				if (!iso) throw s.bad(3, "337", "9", `DTM03 ${JSON.stringify(time)} is not a time`);
				if (!current) dates[qualifier] = iso;
				break;
			}
			case "REF":
				if (!current && !party && segment.fields[1] && segment.fields[2]) references[segment.fields[1]] = segment.fields[2];
				break;
			case "TD5":
				if (!current) {
					const scac = segment.fields[2] === "2" ? segment.fields[3] : undefined;
					const title = segment.fields[5] || scac || "";
					if (title) shipping = { channelLineId: "TD5", title, ...(scac ? { code: scac } : {}), price: { amount: 0, currency }, discounts: [], taxes: [] };
				}
				break;
			case "N1": {
				if (current) break;
				const code = s.required(1, "98");
				party = { code, name: segment.fields[2] ?? "", qualifier: segment.fields[3] ?? "", id: segment.fields[4] ?? "", extra: [], street: [], city: null, contact: {} };
				if (!parties.has(code)) parties.set(code, party);
				break;
			}
			case "N2":
				if (party && !current) party.extra.push(...segment.fields.slice(1).filter(Boolean));
				break;
			case "N3":
				if (party && !current) party.street.push(...segment.fields.slice(1).filter(Boolean));
				break;
			case "N4":
				if (party && !current) party.city = segment;
				break;
			case "PER":
				if (party && !current) {
					for (let i = 3; i + 1 < segment.fields.length; i += 2) {
						const [q, v] = [segment.fields[i], segment.fields[i + 1]];
						if (q === "TE" && v) party.contact.phone ??= v;
						if (q === "EM" && v) party.contact.email ??= v;
					}
					if (segment.fields[2]) party.contact.name ??= segment.fields[2];
				}
				break;
			case "PO1": {
				party = null;
				current = { po1: segment, line: poLine(s, lines.length, currency, account), title: null };
				if (lines.some((l) => l.line.lineNumber === current!.line.lineNumber)) {
					throw s.bad(1, "350", "7", `PO101 ${current.line.lineNumber} is used by an earlier line; line numbers must be unique`);
				}
				lines.push(current);
				break;
			}
			case "PID":
				if (current && current.title === null && (segment.fields[1] === "F" || segment.fields[1] === "") && segment.fields[5]) current.title = segment.fields[5];
				break;
			case "CTT":
				current = null;
				ctt = segment;
				break;
			case "AMT":
				if (segment.fields[1] === "TT") amt = s.money(2, "782", currency);
				break;
		}
	}

	if (ORDER.has(purpose) && lines.length === 0) {
		throw new SetError(`850 ${poNumber}: no PO1 line (an original or replacement order needs at least one)`, {
			tag: "PO1",
			position: positionInSet(set, set.segments.at(-1)!),
			code: "3",
		});
	}
	if (ctt) {
		const c = at(ctt);
		const count = c.required(1, "354");
		if (Number(count) !== lines.length) {
			throw new SetError(`${c.where}: CTT01 is ${count} but the order has ${lines.length} PO1 line${lines.length === 1 ? "" : "s"}`, c.ak3("8"));
		}
		const hash = ctt.fields[2];
		const units = lines.reduce((sum, l) => sum + l.line.quantity, 0);
		if (hash && Number(hash) !== units) throw new SetError(`${c.where}: CTT02 (hash of PO102) is ${hash} but the quantities add up to ${units}`, c.ak3("8"));
	}

	const sourceUpdatedAt = x12DateTime(group.date, group.time)!;
	const createdAt = x12DateTime(poDate)!;
	const orderLines: OrderLine[] = lines.map(({ line, title }) => ({
		channelLineId: line.lineNumber,
		sku: line.sku,
		title: title ?? line.ids.find(([q]) => q === "VN")?.[1] ?? line.ids[0]?.[1] ?? `line ${line.lineNumber}`,
		quantity: line.quantity,
		unitPrice: line.unitPrice,
		discounts: [],
		taxes: [],
		requiresShipping: true,
	}));
	let subtotal = 0;
	for (const { line, po1 } of lines) {
		subtotal += line.unitPrice.amount * line.quantity;
		if (!Number.isSafeInteger(subtotal)) throw at(po1).bad(4, "212", "6", "the order's subtotal is too large to represent exactly");
	}
	const shipToParty = parties.get("ST");
	const billTo = parties.get("BT") ?? parties.get("BY");
	const customer = billTo ? customerOf(billTo) : undefined;
	const shipTo = shipToParty ? addressOf(shipToParty, at) : undefined;

	const order: CanonicalOrder = {
		connection,
		channel: "edi",
		channelOrderId: poNumber,
		channelOrderName: poNumber,
		currency,
		lines: orderLines,
		shippingLines: shipping ? [shipping] : [],
		taxes: [],
		taxesIncluded: false,
		discounts: [],
		subtotal: { amount: subtotal, currency },
		total: amt ?? { amount: subtotal, currency },
		...(customer ? { customer } : {}),
		...(shipTo ? { shipTo } : {}),
		// A purchase order is paid on terms, against the 810 invoice.
		financialStatus: "pending",
		fulfillmentStatus: "unfulfilled",
		cancelledAt: CANCEL.has(purpose) ? sourceUpdatedAt : null,
		refunds: [],
		createdAt,
		sourceUpdatedAt,
	};
	const po: PurchaseOrderDetails = {
		poNumber,
		purpose,
		type,
		poDate,
		dates,
		...(shipToParty?.id ? { shipToCode: { qualifier: shipToParty.qualifier, id: shipToParty.id } } : {}),
		references,
		lines: lines.map((l) => l.line),
	};
	return { ok: true, order, po };
}

type Party = {
	code: string;
	name: string;
	qualifier: string;
	id: string;
	extra: string[];
	street: string[];
	city: Segment | null;
	contact: { name?: string; phone?: string; email?: string };
};

/** PO1: line number, quantity, unit, price, and its product ID pairs (PO106/PO107 onwards). */
function poLine(s: Located, index: number, currency: string, account: EdiAccount): PurchaseOrderLine {
	const f = s.segment.fields;
	const lineNumber = f[1] || String(index + 1);
	const quantityText = s.required(2, "330");
	if (!/^\d+(\.0*)?$/.test(quantityText) || !Number.isSafeInteger(Number(quantityText))) {
		throw s.bad(2, "330", "6", `PO102 ${JSON.stringify(quantityText)} is not a whole number of units`);
	}
	const unit = f[3] ?? "";
	if (!unit) throw s.bad(3, "355", "2", "PO103 (unit of measure) is required with a quantity");
	const unitPrice = f[4] ? s.money(4, "212", currency) : { amount: 0, currency };
	if (unitPrice.amount < 0) throw s.bad(4, "212", "6", `PO104 ${f[4]} is negative`);
	const ids: Array<[string, string]> = [];
	for (let i = 6; i < f.length; i += 2) {
		const qualifier = f[i] ?? "";
		const value = f[i + 1] ?? "";
		if (!qualifier && !value) continue;
		if (!qualifier) throw s.bad(i, "235", "2", `PO1${pad(i)} (product ID qualifier) is missing for ${JSON.stringify(value)}`);
		if (!/^[A-Z0-9]{2}$/.test(qualifier)) throw s.bad(i, "235", "7", `PO1${pad(i)} ${JSON.stringify(qualifier)} is not a product ID qualifier`);
		if (!value) throw s.bad(i + 1, "234", "2", `PO1${pad(i + 1)} (product ID) is missing after qualifier ${qualifier}`);
		ids.push([qualifier, value]);
	}
	const sku = account.eachUnits.includes(unit) ? skuFor(ids, account) : null;
	return { lineNumber, quantity: Number(quantityText), unit, unitPrice, ids, sku };
}

/** The first id the itemMap knows, in the order sent; else a VN or SK id as the SKU itself. */
export function skuFor(ids: ReadonlyArray<readonly [string, string]>, account: Pick<EdiAccount, "itemMap" | "vendorItemIsSku">): string | null {
	for (const [q, v] of ids) {
		const mapped = account.itemMap[`${q}:${v}`];
		if (mapped) return mapped;
	}
	if (!account.vendorItemIsSku) return null;
	return ids.find(([q]) => q === "VN")?.[1] ?? ids.find(([q]) => q === "SK")?.[1] ?? null;
}

function customerOf(party: Party): Customer | undefined {
	const customer: Customer = {};
	if (party.id) customer.channelCustomerId = party.id;
	if (party.name) customer.name = party.name;
	if (party.contact.email) customer.email = party.contact.email;
	if (party.contact.phone) customer.phone = party.contact.phone;
	return Object.keys(customer).length > 0 ? customer : undefined;
}

function addressOf(party: Party, at: (segment: Segment) => Located): Address {
	const address: Address = {};
	if (party.name) address.name = party.name;
	if (party.extra[0]) address.company = party.extra[0];
	if (party.street[0]) address.address1 = party.street[0];
	if (party.street.length > 1) address.address2 = party.street.slice(1).join(", ");
	if (party.city) {
		const f = party.city.fields;
		if (f[1]) address.city = f[1];
		if (f[2]) address.provinceCode = f[2];
		if (f[3]) address.zip = f[3];
		if (f[4]) {
			if (!/^[A-Z]{2}$/.test(f[4])) throw at(party.city).bad(4, "26", "7", `N404 ${JSON.stringify(f[4])} is not a two-letter country code`);
			address.countryCode = f[4];
		}
	}
	if (party.contact.phone) address.phone = party.contact.phone;
	return address;
}

/** A segment of the set, with the AK3/AK4 of an error in it at hand. */
class Located {
	constructor(
		readonly set: TransactionSet,
		readonly segment: Segment,
	) {}

	get position(): number {
		return positionInSet(this.set, this.segment);
	}

	/** "segment 17 (PO1, #15 of set 0001)": the interchange position first, as in envelope errors. */
	get where(): string {
		return `segment ${this.segment.position} (${this.segment.tag}, #${this.position} of set ${this.set.control})`;
	}

	ak3(code: string, elements?: ElementError[]): SegmentError {
		return { tag: this.segment.tag, position: this.position, code, ...(elements ? { elements } : {}) };
	}

	bad(element: number, reference: string, code: string, message: string): SetError {
		const value = this.segment.fields[element];
		return new SetError(`${this.where}: ${message}`, this.ak3("8", [{ position: element, reference, code, ...(value ? { bad: value } : {}) }]));
	}

	required(element: number, reference: string): string {
		const value = this.segment.fields[element] ?? "";
		if (!value) throw this.bad(element, reference, "1", `${this.segment.tag}${pad(element)} is required`);
		return value;
	}

	date(element: number, reference: string, required: boolean): string | null {
		const value = required ? this.required(element, reference) : (this.segment.fields[element] ?? "");
		if (!value) return null;
		if (!validDate(value)) throw this.bad(element, reference, "8", `${this.segment.tag}${pad(element)} ${JSON.stringify(value)} is not a date (CCYYMMDD)`);
		return value;
	}

	/** An R-type decimal ("9.99", ".5", "12") in minor units, exactly. */
	money(element: number, reference: string, currency: string): Money {
		const raw = this.required(element, reference);
		const text = raw.replace(/^(-?)\./, "$10.");
		if (!/^-?\d+(\.\d+)?$/.test(text)) throw this.bad(element, reference, "6", `${this.segment.tag}${pad(element)} ${JSON.stringify(raw)} is not a decimal amount`);
		try {
			return money(text, currency);
		} catch (error) {
			if (error instanceof RangeError) throw this.bad(element, reference, "6", `${this.segment.tag}${pad(element)} ${JSON.stringify(raw)}: ${error.message}`);
			throw error;
		}
	}
}

const pad = (n: number) => String(n).padStart(2, "0");

function knownCurrency(code: string): boolean {
	try {
		currencyExponent(code);
		return (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.("currency").includes(code) ?? true;
	} catch {
		return false;
	}
}
