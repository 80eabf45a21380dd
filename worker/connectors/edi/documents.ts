/**
 * The transaction sets ordersync sends, as segment lists between ST and SE (the envelope, control
 * numbers and SE01 come from writeX12). Layouts follow /tmp/issue6/edi.md §3 (004010); trading
 * partner guides may ask for more segments or other qualifiers.
 */
import { currencyExponent, type Money } from "../../model/money";
import { type SegmentData, x12Stamp } from "./x12";

export type ItemIds = ReadonlyArray<readonly [qualifier: string, value: string]>;

const idPairs = (ids: ItemIds): string[] => ids.flatMap(([q, v]) => [q, v]);

// ————— 997 Functional Acknowledgment —————

/** An AK4: one bad element of a segment. */
export type ElementError = {
	/** Position of the element in its segment (AK401), and of the component in a composite. */
	position: number;
	component?: number;
	/** Data element reference number (AK402), e.g. 330 for PO102. */
	reference?: string;
	/** AK403: 1 mandatory missing, 2 conditional missing, 3 too many, 4 too short, 5 too long, 6 invalid character, 7 invalid code, 8 invalid date, 9 invalid time. */
	code: string;
	/** AK404: a copy of the bad data (delimiters are removed). */
	bad?: string;
};

/** An AK3: one segment in error, and its bad elements. */
export type SegmentError = {
	tag: string;
	/** Position in the transaction set, ST = 1. */
	position: number;
	/** AK303 loop identifier, when the segment is in a loop. */
	loop?: string;
	/** AK304: 1 unrecognized, 2 unexpected, 3 mandatory missing, 4 loop over max, 5 over max use, 6 not in set, 7 out of sequence, 8 has element errors. */
	code: string;
	elements?: ElementError[];
};

export type SetAcknowledgment = {
	/** ST01 and ST02 of the set acknowledged. */
	id: string;
	control: string;
	/** AK501: A accepted, E accepted with errors, R rejected. */
	status: "A" | "E" | "R";
	/** AK502..: 1 not supported, 2 trailer missing, 3 ST02/SE02 mismatch, 4 count wrong, 5 segments in error, 6 bad set id, 7 bad control number, 23 not unique. */
	codes?: string[];
	segments?: SegmentError[];
};

export type GroupAcknowledgment = {
	/** GS01 and GS06 of the group acknowledged (AK101, AK102). */
	functionalId: string;
	control: string;
	/** AK902: GE01 as sent (defaults to the sets listed). */
	included?: number;
	/** AK903: sets received (defaults to the sets listed). */
	received?: number;
	/** AK905..: 1 group not supported, 2 version not supported, 3 GE missing, 4 GS06/GE02 mismatch, 5 GE01 wrong, 6 control number syntax. */
	codes?: string[];
	/** False rejects the whole group (AK9 R) whatever its sets' own status. */
	accepted?: boolean;
	sets: SetAcknowledgment[];
};

/** AK9's status: A all accepted, P some, R none or the group itself at fault; E accepted with errors. */
export function groupStatus(ack: GroupAcknowledgment): "A" | "E" | "P" | "R" {
	const received = ack.received ?? ack.sets.length;
	const accepted = ack.sets.filter((s) => s.status !== "R").length;
	if (ack.accepted === false || (ack.codes?.length ?? 0) > 0 || accepted === 0) return "R";
	if (accepted < received) return "P";
	return ack.sets.some((s) => s.status === "E") ? "E" : "A";
}

/** 997 body: AK1, an AK2/AK3/AK4/AK5 loop per set, AK9. */
export function build997(ack: GroupAcknowledgment): SegmentData[] {
	const status = groupStatus(ack);
	const segments: SegmentData[] = [["AK1", ack.functionalId, ack.control]];
	for (const set of ack.sets) {
		segments.push(["AK2", set.id, set.control]);
		for (const error of set.segments ?? []) {
			segments.push(["AK3", error.tag, error.position, error.loop, error.code]);
			for (const element of error.elements ?? []) {
				const position = element.component ? [String(element.position), String(element.component)] : String(element.position);
				segments.push(["AK4", position, element.reference, element.code, element.bad === undefined ? undefined : safeCopy(element.bad)]);
			}
		}
		segments.push(["AK5", set.status, ...(set.codes ?? []).slice(0, 5)]);
	}
	const accepted = status === "R" ? 0 : ack.sets.filter((s) => s.status !== "R").length;
	segments.push(["AK9", status, ack.included ?? ack.sets.length, ack.received ?? ack.sets.length, accepted, ...(ack.codes ?? []).slice(0, 5)]);
	return segments;
}

/** AK404 is a copy of bad data: it must not carry delimiters, and is at most 99 characters. */
function safeCopy(value: string): string {
	return value.replace(/[^A-Za-z0-9 .,\-_/()#&'@!?%+=:;]/g, "").slice(0, 99);
}

// ————— 855 Purchase Order Acknowledgment —————

/** ACK01 line status: IA accepted, IB backordered, IR rejected, IQ quantity changed, IP price changed, ID deleted. */
export type LineStatus = "IA" | "IB" | "IR" | "IQ" | "IP" | "ID" | "AC";

export type PoAckLine = {
	/** PO101, echoed. */
	lineNumber: string;
	/** PO102/PO103/PO104 as ordered. */
	quantity: number;
	unit: string;
	unitPrice?: Money;
	ids: ItemIds;
	acks: Array<{ status: LineStatus; quantity: number; date?: string }>;
};

export type PoAckInput = {
	poNumber: string;
	/** BEG05, CCYYMMDD. */
	poDate: string;
	/** BAK02: AD detail no change, AC detail and change, RD rejected with detail, RJ rejected. Derived from the lines when absent. */
	type?: "AD" | "AC" | "RD" | "RJ" | "AK";
	/** BAK08: the seller's own order reference. */
	sellerOrder?: string;
	lines: PoAckLine[];
};

export function build855(input: PoAckInput): SegmentData[] {
	const statuses = input.lines.flatMap((line) => line.acks.map((a) => a.status));
	const type =
		input.type ??
		(statuses.length > 0 && statuses.every((s) => s === "IR")
			? "RD"
			: input.lines.every((l) => l.acks.length === 1 && l.acks[0]!.status === "IA" && l.acks[0]!.quantity === l.quantity)
				? "AD"
				: "AC");
	const segments: SegmentData[] = [["BAK", "00", type, input.poNumber, input.poDate, undefined, undefined, undefined, input.sellerOrder]];
	for (const line of input.lines) {
		segments.push(["PO1", line.lineNumber, line.quantity, line.unit, line.unitPrice ? decimal(line.unitPrice) : undefined, undefined, ...idPairs(line.ids)]);
		for (const ack of line.acks) {
			segments.push(["ACK", ack.status, ack.quantity, line.unit, ack.date ? "068" : undefined, ack.date]);
		}
	}
	segments.push(["CTT", input.lines.length, input.lines.reduce((sum, l) => sum + l.quantity, 0)]);
	return segments;
}

// ————— 856 Ship Notice/Manifest —————

export type ShipNoticeInput = {
	/** BSN02, unique per shipment (2 to 30 characters). */
	shipmentId: string;
	/** BSN03/BSN04: when the notice was made. */
	createdAt: Date;
	/** DTM*011: when it shipped (CCYYMMDD). */
	shippedDate: string;
	poNumber: string;
	/** PRF04, CCYYMMDD. */
	poDate?: string;
	/** TD5: SCAC (TD503, with TD502 "2") and/or routing text (TD505). */
	carrier?: { scac?: string; name?: string };
	/** REF*CN: the carrier's tracking (PRO) number. */
	trackingNumber?: string;
	shipTo?: { name: string; qualifier?: string; id?: string };
	shipFrom?: { name: string; qualifier?: string; id?: string };
	items: Array<{ lineNumber: string; ids: ItemIds; quantity: number; unit: string; ordered?: number }>;
};

/**
 * Shipment / Order / Item (BSN05 0004). The pack level (HL P with an SSCC-18 in MAN*GM) needs
 * GS1-128 carton labels, which ordersync does not print; partners that require SOPI are out of scope.
 */
export function build856(input: ShipNoticeInput): SegmentData[] {
	const { ccyymmdd, hhmm } = x12Stamp(input.createdAt);
	const segments: SegmentData[] = [["BSN", "00", input.shipmentId, ccyymmdd, hhmm, "0004"]];
	let hl = 0;
	segments.push(["HL", ++hl, undefined, "S", 1]);
	if (input.carrier?.scac || input.carrier?.name) {
		segments.push(input.carrier.scac ? ["TD5", "B", "2", input.carrier.scac, undefined, input.carrier.name] : ["TD5", "B", undefined, undefined, undefined, input.carrier.name]);
	}
	if (input.trackingNumber) segments.push(["REF", "CN", input.trackingNumber]);
	segments.push(["DTM", "011", input.shippedDate]);
	for (const [code, party] of [["ST", input.shipTo], ["SF", input.shipFrom]] as const) {
		if (party) segments.push(["N1", code, party.name, party.id ? (party.qualifier ?? "92") : undefined, party.id]);
	}
	const order = ++hl;
	segments.push(["HL", order, 1, "O", 1]);
	segments.push(["PRF", input.poNumber, undefined, undefined, input.poDate]);
	for (const item of input.items) {
		segments.push(["HL", ++hl, order, "I", 0]);
		segments.push(["LIN", item.lineNumber, ...idPairs(item.ids)]);
		segments.push(["SN1", undefined, item.quantity, item.unit, undefined, item.ordered, item.ordered === undefined ? undefined : item.unit]);
	}
	// CTT01 = number of HL segments, CTT02 = sum of SN102 (edi.md §3.3, e.g. Belk's 856 guide).
	segments.push(["CTT", hl, input.items.reduce((sum, item) => sum + item.quantity, 0)]);
	return segments;
}

// ————— 810 Invoice —————

export type InvoiceInput = {
	/** BIG02 (1 to 22 characters). */
	invoiceNumber: string;
	/** BIG01, CCYYMMDD. */
	invoiceDate: string;
	poNumber: string;
	poDate?: string;
	currency: string;
	vendorNumber?: string;
	shipDate?: string;
	lines: Array<{ lineNumber: string; quantity: number; unit: string; unitPrice: Money; ids: ItemIds }>;
};

/** BIG, REF*IA, CUR (when not USD), DTM*011, IT1 per line, TDS (total, implied two decimals), CTT. */
export function build810(input: InvoiceInput): SegmentData[] {
	const segments: SegmentData[] = [["BIG", input.invoiceDate, input.invoiceNumber, input.poDate, input.poNumber]];
	if (input.currency !== "USD") segments.push(["CUR", "SE", input.currency]);
	if (input.vendorNumber) segments.push(["REF", "IA", input.vendorNumber]);
	if (input.shipDate) segments.push(["DTM", "011", input.shipDate]);
	let total = 0n;
	for (const line of input.lines) {
		if (line.unitPrice.currency !== input.currency) throw new RangeError(`line ${line.lineNumber} is priced in ${line.unitPrice.currency}, the invoice in ${input.currency}`);
		segments.push(["IT1", line.lineNumber, line.quantity, line.unit, decimal(line.unitPrice), undefined, ...idPairs(line.ids)]);
		total += BigInt(line.unitPrice.amount) * BigInt(line.quantity);
	}
	segments.push(["TDS", impliedTwoDecimals(total, input.currency)]);
	segments.push(["CTT", input.lines.length, input.lines.reduce((sum, l) => sum + l.quantity, 0)]);
	return segments;
}

// ————— 846 Inventory Inquiry/Advice —————

export type InventoryAdviceInput = {
	/** BIA03, the report's reference. */
	reference: string;
	createdAt: Date;
	items: Array<{ ids: ItemIds; quantity: number; unit?: string }>;
};

/** BIA*00*SI, then LIN + QTY*33 (quantity available for sale) per item, CTT. */
export function build846(input: InventoryAdviceInput): SegmentData[] {
	const { ccyymmdd, hhmm } = x12Stamp(input.createdAt);
	const segments: SegmentData[] = [["BIA", "00", "SI", input.reference, ccyymmdd, hhmm]];
	for (const item of input.items) {
		segments.push(["LIN", undefined, ...idPairs(item.ids)]);
		segments.push(["QTY", "33", Math.max(0, item.quantity), item.unit ?? "EA"]);
	}
	segments.push(["CTT", input.items.length, input.items.reduce((sum, i) => sum + Math.max(0, i.quantity), 0)]);
	return segments;
}

// ————— money —————

/** Minor units as an X12 decimal (R type): 999 USD → "9.99", 1200 JPY → "1200". */
export function decimal(value: Money): string {
	const exponent = currencyExponent(value.currency);
	const sign = value.amount < 0 ? "-" : "";
	const digits = String(Math.abs(value.amount)).padStart(exponent + 1, "0");
	return exponent === 0 ? sign + digits : `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/** TDS01 is N2, an amount with two implied decimals: minor units rescaled to hundredths, exactly. */
export function impliedTwoDecimals(minor: bigint, currency: string): string {
	const exponent = currencyExponent(currency);
	if (exponent <= 2) return String(minor * 10n ** BigInt(2 - exponent));
	const divisor = 10n ** BigInt(exponent - 2);
	if (minor % divisor !== 0n) throw new RangeError(`${minor} minor units of ${currency} cannot be written with two decimals`);
	return String(minor / divisor);
}
