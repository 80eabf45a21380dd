/**
 * A small, strict ANSI ASC X12 reader and writer: envelopes (ISA/IEA, GS/GE, ST/SE), delimiters,
 * control numbers and counts. It knows nothing about what a transaction set means; po850.ts and
 * documents.ts do. No dependencies, so the sandbox gateway uses it too.
 *
 * Syntax as in /tmp/issue6/edi.md §1: the ISA is fixed width, 106 characters with its terminator;
 * the element separator is its 4th character, ISA16 is the component separator and the character
 * after it ends every segment. ISA11 is the repetition separator from version 00402 on, and the
 * Standards ID ("U") before it, so in 004010 it is data, not a delimiter.
 */

export type Delimiters = {
	element: string;
	component: string;
	segment: string;
	/** Null before 00402, where ISA11 is the Standards ID. */
	repetition: string | null;
};

export const DEFAULT_DELIMITERS: Delimiters = { element: "*", component: ">", segment: "~", repetition: "^" };

/** One segment: `fields[0]` is its tag, `fields[n]` its nth element (empty string when absent). */
export type Segment = {
	tag: string;
	fields: string[];
	/** Position in the interchange, ISA = 1: the "segment N" of every error message. */
	position: number;
};

/** Where an envelope error lies, and the 997 code that reports it (AK502 for a set, AK905 for a group). */
export type X12Issue = {
	level: "interchange" | "group" | "set";
	position: number;
	tag: string;
	message: string;
	/** Index of the functional group (and of the set in it) the issue belongs to. */
	group?: number;
	set?: number;
	/** AK502 (set) or AK905 (group) error code, when the standard has one for it. */
	code?: string;
	/** AK3 data for an error inside a set: the segment, its position in the set (ST = 1), AK304 code. */
	segment?: { tag: string; position: number; code: string };
};

export type TransactionSet = {
	/** ST01, e.g. "850". */
	id: string;
	/** ST02 (= SE02). */
	control: string;
	/** ST through SE, inclusive. */
	segments: Segment[];
	/** Issues found in this set (also listed in the interchange's issues). */
	issues: X12Issue[];
};

export type FunctionalGroup = {
	/** GS01, e.g. "PO". */
	functionalId: string;
	senderId: string;
	receiverId: string;
	/** GS04 CCYYMMDD and GS05 HHMM[SS[D[D]]]. */
	date: string;
	time: string;
	/** GS06 (= GE02). */
	control: string;
	/** GS08, e.g. "004010". */
	version: string;
	position: number;
	/** GE01 as the sender declared it (null when GE is missing or not a number). */
	declaredSets: number | null;
	sets: TransactionSet[];
	issues: X12Issue[];
};

export type Interchange = {
	delimiters: Delimiters;
	/** The sixteen ISA elements as sent (index 1 = ISA01), padding kept. */
	isa: string[];
	senderQualifier: string;
	/** ISA06 without its padding. */
	senderId: string;
	receiverQualifier: string;
	receiverId: string;
	/** ISA09 YYMMDD and ISA10 HHMM. */
	date: string;
	time: string;
	/** ISA12, e.g. "00401". */
	version: string;
	/** ISA13, nine digits. */
	control: string;
	ackRequested: boolean;
	/** ISA15: P production, T test, I information. */
	usage: string;
	groups: FunctionalGroup[];
};

export type ReadResult = { interchange: Interchange | null; issues: X12Issue[] };
export type ParseResult = { ok: true; interchange: Interchange } | { ok: false; error: string; issues: X12Issue[] };

/** GS01 for each transaction set this project reads or writes (edi.md §1.3). */
export const FUNCTIONAL_IDS: Readonly<Record<string, string>> = {
	"850": "PO",
	"855": "PR",
	"856": "SH",
	"810": "IN",
	"846": "IB",
	"997": "FA",
	"860": "PC",
	"865": "CA",
};

/** ISA01..ISA15 fixed widths (ISA16 is one character). */
const ISA_WIDTHS = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1] as const;
const ISA_LENGTH = 106;
const TAG = /^[A-Z][A-Z0-9]{1,2}$/;

export function formatIssue(issue: X12Issue): string {
	return `segment ${issue.position} (${issue.tag}): ${issue.message}`;
}

/**
 * Reads one interchange, collecting every envelope issue rather than stopping at the first, so a
 * 997 can reject exactly the sets and groups at fault. `interchange` is null when the ISA itself
 * cannot be read (then nothing else can be).
 */
export function readX12(raw: string): ReadResult {
	const text = raw.replace(/^\uFEFF/, "").replace(/^[\r\n\t ]+/, "");
	const fatal = (message: string): ReadResult => ({ interchange: null, issues: [{ level: "interchange", position: 1, tag: "ISA", message }] });
	if (!text.startsWith("ISA")) return fatal("an interchange must start with ISA");
	if (text.length < ISA_LENGTH) return fatal(`the interchange is ${text.length} characters; the ISA alone is ${ISA_LENGTH}`);

	const element = text[3]!;
	if (/[A-Za-z0-9 ]/.test(element)) return fatal(`the element separator (4th character) is ${JSON.stringify(element)}; it must not be a letter, digit or space`);
	// The sixteen separators, each before its element; ISA16 follows the last, then the terminator.
	const separators = [3];
	for (let k = 1; k < 16; k++) {
		const next = text.indexOf(element, separators[k - 1]! + 1);
		if (next < 0 || next > ISA_LENGTH + 40) return fatal(`the ISA has ${k} elements; it must have 16`);
		separators.push(next);
	}
	const isa = [""];
	for (let k = 0; k < 15; k++) {
		const value = text.slice(separators[k]! + 1, separators[k + 1]);
		const width = ISA_WIDTHS[k]!;
		const name = `ISA${String(k + 1).padStart(2, "0")}`;
		if (value.length !== width) {
			return fatal(`${name} is ${value.length} characters; ISA elements are fixed width and ${name} must be ${width} (pad with spaces or zeros)`);
		}
		isa.push(value);
	}
	const last = separators[15]!;
	const component = text[last + 1]!;
	const terminator = text[last + 2];
	if (terminator === undefined) return fatal("the ISA has no segment terminator after ISA16");
	isa.push(component);
	if (last + 3 !== ISA_LENGTH) return fatal(`the ISA is ${last + 3} characters with its terminator; it must be ${ISA_LENGTH}`);

	const version = isa[12]!;
	const repetition = version >= "00402" ? isa[11]! : null;
	const delimiters: Delimiters = { element, component, segment: terminator, repetition };
	const named: Array<[string, string | null]> = [["ISA16 component separator", component], ["segment terminator", terminator], ["ISA11 repetition separator", repetition]];
	for (const [name, char] of named) {
		if (char === null) continue;
		if (/[A-Za-z0-9 ]/.test(char)) return fatal(`the ${name} is ${JSON.stringify(char)}; it must not be a letter, digit or space`);
	}
	const chars = [element, component, terminator, ...(repetition ? [repetition] : [])];
	if (new Set(chars).size !== chars.length) return fatal(`the delimiters ${JSON.stringify(chars.join(""))} must all differ`);

	const issues: X12Issue[] = [];
	const head = (message: string) => issues.push({ level: "interchange", position: 1, tag: "ISA", message });
	if (!/^\d{9}$/.test(isa[13]!)) head(`ISA13 ${JSON.stringify(isa[13])} must be nine digits`);
	if (!validDate(`20${isa[9]}`)) head(`ISA09 ${JSON.stringify(isa[9])} is not a date (YYMMDD)`);
	if (!validTime(isa[10]!)) head(`ISA10 ${JSON.stringify(isa[10])} is not a time (HHMM)`);
	if (!/^\d{5}$/.test(version)) head(`ISA12 ${JSON.stringify(version)} must be five digits`);
	if (isa[14] !== "0" && isa[14] !== "1") head(`ISA14 ${JSON.stringify(isa[14])} must be 0 or 1`);
	if (!["P", "T", "I"].includes(isa[15]!)) head(`ISA15 ${JSON.stringify(isa[15])} must be P, T or I`);

	const interchange: Interchange = {
		delimiters,
		isa,
		senderQualifier: isa[5]!,
		senderId: isa[6]!.trimEnd(),
		receiverQualifier: isa[7]!,
		receiverId: isa[8]!.trimEnd(),
		date: isa[9]!,
		time: isa[10]!,
		version,
		control: isa[13]!,
		ackRequested: isa[14] === "1",
		usage: isa[15]!,
		groups: [],
	};

	const segments = splitSegments(text.slice(ISA_LENGTH), delimiters);
	let group: FunctionalGroup | null = null;
	let set: TransactionSet | null = null;
	let sawIea = false;
	/** After content outside any group, the rest of it is that one error, until the next GS or IEA. */
	let orphan = false;
	let strayed = false;
	const atGroup = (g: FunctionalGroup, segment: Segment, message: string, code?: string) => {
		const issue: X12Issue = { level: "group", position: segment.position, tag: segment.tag, message, group: interchange.groups.indexOf(g), ...(code ? { code } : {}) };
		g.issues.push(issue);
		issues.push(issue);
	};
	const atSet = (g: FunctionalGroup, s: TransactionSet, segment: Segment, message: string, code: string, ak3?: X12Issue["segment"]) => {
		const issue: X12Issue = {
			level: "set",
			position: segment.position,
			tag: segment.tag,
			message,
			group: interchange.groups.indexOf(g),
			set: g.sets.indexOf(s),
			code,
			...(ak3 ? { segment: ak3 } : {}),
		};
		s.issues.push(issue);
		issues.push(issue);
	};
	const atInterchange = (segment: Segment, message: string) => issues.push({ level: "interchange", position: segment.position, tag: segment.tag, message });
	const closeSetWithoutTrailer = (at: Segment) => {
		if (group && set) atSet(group, set, at, `transaction set ${set.control} (ST at segment ${set.segments[0]!.position}) has no SE before this ${at.tag}`, "2");
		set = null;
	};

	for (const segment of segments) {
		if (orphan && segment.tag !== "GS" && segment.tag !== "IEA") continue;
		if (sawIea) {
			atInterchange(segment, segment.tag === "ISA" ? "a second interchange follows IEA; send one interchange per request" : "data after IEA");
			break;
		}
		if (!TAG.test(segment.tag)) {
			if (group && set) {
				const position = set.segments.length + 1;
				set.segments.push(segment);
				atSet(group, set, segment, `${JSON.stringify(segment.tag)} is not a segment ID`, "5", { tag: segment.tag.slice(0, 3), position, code: "1" });
			} else {
				atInterchange(segment, `${JSON.stringify(segment.tag)} is not a segment ID`);
			}
			continue;
		}
		switch (segment.tag) {
			case "ISA":
				atInterchange(segment, "ISA inside an interchange (IEA missing before it)");
				break;
			case "GS": {
				orphan = false;
				if (set) closeSetWithoutTrailer(segment);
				if (group) atGroup(group, segment, `functional group ${group.control} has no GE before this GS`, "3");
				group = openGroup(segment);
				interchange.groups.push(group);
				const g = group;
				const f = segment.fields;
				if (!/^[A-Z]{2}$/.test(f[1] ?? "")) atGroup(g, segment, `GS01 ${JSON.stringify(f[1] ?? "")} must be a two-letter functional identifier`, "1");
				if (!f[2]) atGroup(g, segment, "GS02 (application sender) is missing");
				if (!f[3]) atGroup(g, segment, "GS03 (application receiver) is missing");
				if (!validDate(f[4] ?? "")) atGroup(g, segment, `GS04 ${JSON.stringify(f[4] ?? "")} is not a date (CCYYMMDD)`);
				if (!validTime(f[5] ?? "")) atGroup(g, segment, `GS05 ${JSON.stringify(f[5] ?? "")} is not a time (HHMM[SS[D[D]]])`);
				if (!/^\d{1,9}$/.test(f[6] ?? "")) atGroup(g, segment, `GS06 ${JSON.stringify(f[6] ?? "")} must be 1 to 9 digits`, "6");
				if (f[7] !== "X") atGroup(g, segment, `GS07 ${JSON.stringify(f[7] ?? "")} must be X (ASC X12)`);
				if (!f[8]) atGroup(g, segment, "GS08 (version) is missing", "2");
				break;
			}
			case "ST": {
				if (!group) {
					atInterchange(segment, "ST outside a functional group (no GS before it)");
					orphan = strayed = true;
					break;
				}
				if (set) closeSetWithoutTrailer(segment);
				const g: FunctionalGroup = group;
				const s: TransactionSet = { id: segment.fields[1] ?? "", control: segment.fields[2] ?? "", segments: [segment], issues: [] };
				g.sets.push(s);
				set = s;
				const expected = Object.entries(FUNCTIONAL_IDS).find(([, id]) => id === g.functionalId)?.[0];
				if (!/^\d{3}$/.test(s.id)) atSet(g, s, segment, `ST01 ${JSON.stringify(s.id)} must be a three-digit transaction set identifier`, "6");
				else if (expected && FUNCTIONAL_IDS[s.id] && FUNCTIONAL_IDS[s.id] !== g.functionalId) {
					atSet(g, s, segment, `transaction set ${s.id} does not belong in a ${g.functionalId} group (${g.functionalId} carries ${expected})`, "6");
				}
				if (!/^[A-Za-z0-9]{4,9}$/.test(s.control)) atSet(g, s, segment, `ST02 ${JSON.stringify(s.control)} must be 4 to 9 characters`, "7");
				else if (g.sets.some((other) => other !== s && other.control === s.control)) {
					atSet(g, s, segment, `ST02 ${s.control} is used by another transaction set in group ${g.control}; it must be unique within the group`, "23");
				}
				break;
			}
			case "SE": {
				if (!group || !set) {
					if (group) atGroup(group, segment, "SE without ST");
					else atInterchange(segment, "SE outside a functional group");
					break;
				}
				const g: FunctionalGroup = group;
				const s: TransactionSet = set;
				s.segments.push(segment);
				const declared = segment.fields[1] ?? "";
				if (!/^\d{1,10}$/.test(declared) || Number(declared) !== s.segments.length) {
					atSet(g, s, segment, `SE01 is ${JSON.stringify(declared)} but transaction set ${s.control} has ${s.segments.length} segments (ST through SE)`, "4");
				}
				if ((segment.fields[2] ?? "") !== s.control) {
					atSet(g, s, segment, `SE02 ${JSON.stringify(segment.fields[2] ?? "")} does not match ST02 ${JSON.stringify(s.control)}`, "3");
				}
				set = null;
				break;
			}
			case "GE": {
				if (set) closeSetWithoutTrailer(segment);
				if (!group) {
					atInterchange(segment, "GE without GS");
					break;
				}
				const g: FunctionalGroup = group;
				const declared = segment.fields[1] ?? "";
				g.declaredSets = /^\d{1,6}$/.test(declared) ? Number(declared) : null;
				if (g.declaredSets !== g.sets.length) {
					atGroup(g, segment, `GE01 is ${JSON.stringify(declared)} but functional group ${g.control} holds ${g.sets.length} transaction set${g.sets.length === 1 ? "" : "s"}`, "5");
				}
				if ((segment.fields[2] ?? "") !== g.control) {
					atGroup(g, segment, `GE02 ${JSON.stringify(segment.fields[2] ?? "")} does not match GS06 ${JSON.stringify(g.control)}`, "4");
				}
				group = null;
				break;
			}
			case "IEA": {
				if (set) closeSetWithoutTrailer(segment);
				if (group) atGroup(group, segment, `functional group ${group.control} has no GE before IEA`, "3");
				group = null;
				sawIea = true;
				const declared = segment.fields[1] ?? "";
				orphan = false;
				// IEA01 is not compared when segments strayed outside the groups: that error says it already.
				if (!strayed && (!/^\d{1,5}$/.test(declared) || Number(declared) !== interchange.groups.length)) {
					const n = interchange.groups.length;
					atInterchange(segment, `IEA01 is ${JSON.stringify(declared)} but the interchange holds ${n} functional group${n === 1 ? "" : "s"}`);
				}
				if ((segment.fields[2] ?? "") !== interchange.control) {
					atInterchange(segment, `IEA02 ${JSON.stringify(segment.fields[2] ?? "")} does not match ISA13 ${JSON.stringify(interchange.control)}`);
				}
				break;
			}
			default:
				if (set && group) set.segments.push(segment);
				else if (group) atGroup(group, segment, `${segment.tag} outside a transaction set (between ST/SE pairs)`);
				else {
					atInterchange(segment, `${segment.tag} outside a functional group`);
					orphan = strayed = true;
				}
		}
	}
	if (!sawIea) {
		const end: Segment = { tag: "IEA", fields: ["IEA"], position: (segments.at(-1)?.position ?? 1) + 1 };
		if (set) closeSetWithoutTrailer(end);
		if (group) atGroup(group, end, `functional group ${(group as FunctionalGroup).control} has no GE`, "3");
		atInterchange(end, "the interchange has no IEA trailer");
	}
	if (interchange.groups.length === 0 && issues.length === 0) issues.push({ level: "interchange", position: 1, tag: "ISA", message: "the interchange holds no functional group" });
	return { interchange, issues };
}

/** Strict: an interchange only when its envelopes are all correct, else every issue found. */
export function parseX12(raw: string): ParseResult {
	const { interchange, issues } = readX12(raw);
	if (interchange && issues.length === 0) return { ok: true, interchange };
	return { ok: false, error: issues.map(formatIssue).join("; "), issues };
}

function openGroup(segment: Segment): FunctionalGroup {
	const f = segment.fields;
	return {
		functionalId: f[1] ?? "",
		senderId: f[2] ?? "",
		receiverId: f[3] ?? "",
		date: f[4] ?? "",
		time: f[5] ?? "",
		control: f[6] ?? "",
		version: f[8] ?? "",
		position: segment.position,
		declaredSets: null,
		sets: [],
		issues: [],
	};
}

/**
 * The segments after the ISA. Line breaks after a terminator are dropped (many senders add them),
 * unless the terminator is itself a line break; empty pieces are not segments.
 */
function splitSegments(body: string, delimiters: Delimiters): Segment[] {
	const out: Segment[] = [];
	let position = 1;
	for (let piece of body.split(delimiters.segment)) {
		piece = piece.replace(delimiters.segment === "\n" ? /^\r+|\r+$/g : /^[\r\n]+|[\r\n]+$/g, "");
		if (piece.trim() === "") continue;
		const fields = piece.split(delimiters.element);
		out.push({ tag: fields[0]!, fields, position: ++position });
	}
	return out;
}

/** The components of a composite element (one when it has none). */
export function components(value: string, delimiters: Delimiters): string[] {
	return value.split(delimiters.component);
}

/** The repetitions of an element (one before 00402, where there is no repetition separator). */
export function repetitions(value: string, delimiters: Delimiters): string[] {
	return delimiters.repetition ? value.split(delimiters.repetition) : [value];
}

/** A segment's position within its transaction set, ST = 1 (AK302, and the "segment N of the set" of 997s). */
export function positionInSet(set: TransactionSet, segment: Segment): number {
	return segment.position - set.segments[0]!.position + 1;
}

export function validDate(ccyymmdd: string): boolean {
	const m = /^(\d{4})(\d\d)(\d\d)$/.exec(ccyymmdd);
	if (!m) return false;
	const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
	const date = new Date(Date.UTC(y, mo - 1, d));
	return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

export function validTime(time: string): boolean {
	const m = /^(\d\d)(\d\d)(?:(\d\d)(\d{1,2})?)?$/.exec(time);
	return !!m && Number(m[1]) < 24 && Number(m[2]) < 60 && (m[3] === undefined || Number(m[3]) < 60);
}

/** X12 date (CCYYMMDD) and time (HHMM[SS[D[D]]]) as ISO 8601 UTC; X12 carries no zone, so UTC is assumed. */
export function x12DateTime(date: string, time = "0000"): string | null {
	if (!validDate(date) || !validTime(time)) return null;
	const m = /^(\d\d)(\d\d)(\d\d)?(\d{1,2})?$/.exec(time)!;
	const fraction = (m[4] ?? "").padEnd(3, "0");
	return `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${m[1]}:${m[2]}:${m[3] ?? "00"}.${fraction}Z`;
}

// ————— writer —————

/** An element: a value, the components of a composite, or nothing. */
export type ElementValue = string | number | readonly string[] | null | undefined;
/** A segment to write: its tag, then its elements in order. Trailing empty elements are dropped. */
export type SegmentData = readonly [string, ...ElementValue[]];

export type SetSpec = { id: string; control: string | number; segments: readonly SegmentData[] };
export type GroupSpec = {
	functionalId: string;
	senderId: string;
	receiverId: string;
	control: string | number;
	/** GS08, e.g. "004010". */
	version: string;
	sets: readonly SetSpec[];
};
export type InterchangeSpec = {
	sender: { qualifier: string; id: string };
	receiver: { qualifier: string; id: string };
	control: string | number;
	/** ISA09/ISA10 and GS04/GS05, written in UTC. */
	date: Date;
	usage: "P" | "T" | "I";
	/** ISA12, e.g. "00401". */
	version: string;
	ackRequested?: boolean;
	delimiters?: Delimiters;
	/** A line break after each terminator, for people reading it (default none). */
	newline?: boolean;
	groups: readonly GroupSpec[];
};

export class X12WriteError extends RangeError {
	override name = "X12WriteError";
}

/**
 * Writes one interchange: pads the ISA, formats control numbers (ISA13 nine digits, ST02 at least
 * four), counts SE01, GE01 and IEA01, and refuses any value that holds a delimiter.
 */
export function writeX12(spec: InterchangeSpec): string {
	const d = spec.delimiters ?? DEFAULT_DELIMITERS;
	const before00402 = spec.version < "00402";
	const chars = [d.element, d.component, d.segment, ...(before00402 || !d.repetition ? [] : [d.repetition])];
	if (new Set(chars).size !== chars.length || chars.some((c) => c.length !== 1 || /[A-Za-z0-9 ]/.test(c))) {
		throw new X12WriteError(`delimiters ${JSON.stringify(chars.join(""))} must be distinct single characters, not letters, digits or spaces`);
	}
	const reserved = new Set(chars);
	const end = d.segment + (spec.newline && d.segment !== "\n" ? "\n" : "");
	const isaControl = formatControl(spec.control, 9, 9, "ISA13");
	const fixed = (name: string, value: string, width: number, pad = " ") => {
		if (value.length > width) throw new X12WriteError(`${name} ${JSON.stringify(value)} is longer than ${width} characters`);
		for (const c of value) if (reserved.has(c)) throw new X12WriteError(`${name} ${JSON.stringify(value)} contains the delimiter ${JSON.stringify(c)}`);
		return value.padEnd(width, pad);
	};
	const { yymmdd, ccyymmdd, hhmm } = x12Stamp(spec.date);
	const isa = [
		"ISA",
		"00",
		" ".repeat(10),
		"00",
		" ".repeat(10),
		fixed("ISA05", spec.sender.qualifier, 2),
		fixed("ISA06", spec.sender.id, 15),
		fixed("ISA07", spec.receiver.qualifier, 2),
		fixed("ISA08", spec.receiver.id, 15),
		yymmdd,
		hhmm,
		before00402 ? "U" : d.repetition!,
		fixed("ISA12", spec.version, 5),
		isaControl,
		spec.ackRequested ? "1" : "0",
		spec.usage,
		d.component,
	].join(d.element);

	const out = [isa + end];
	const line = (segment: SegmentData, where: string) => {
		out.push(serialize(segment, d, reserved, where) + end);
	};
	if (spec.groups.length === 0) throw new X12WriteError("an interchange needs at least one functional group");
	for (const group of spec.groups) {
		const gs06 = formatControl(group.control, 1, 9, "GS06");
		line(["GS", group.functionalId, group.senderId, group.receiverId, ccyymmdd, hhmm, gs06, "X", group.version], `GS ${gs06}`);
		if (group.sets.length === 0) throw new X12WriteError(`functional group ${gs06} needs at least one transaction set`);
		const seen = new Set<string>();
		for (const set of group.sets) {
			const st02 = formatControl(set.control, 4, 9, "ST02");
			if (seen.has(st02)) throw new X12WriteError(`ST02 ${st02} is used twice in group ${gs06}`);
			seen.add(st02);
			line(["ST", set.id, st02], `ST ${st02}`);
			for (const [i, segment] of set.segments.entries()) line(segment, `set ${st02} segment ${i + 2}`);
			line(["SE", set.segments.length + 2, st02], `SE ${st02}`);
		}
		line(["GE", group.sets.length, gs06], `GE ${gs06}`);
	}
	line(["IEA", spec.groups.length, isaControl], "IEA");
	return out.join("");
}

function serialize(segment: SegmentData, d: Delimiters, reserved: Set<string>, where: string): string {
	const [tag, ...elements] = segment;
	if (!TAG.test(tag)) throw new X12WriteError(`${where}: ${JSON.stringify(tag)} is not a segment ID`);
	const values = elements.map((value, i) => {
		const parts = value == null ? [""] : Array.isArray(value) ? (value as readonly string[]) : [String(value)];
		for (const part of parts) {
			for (const c of part) {
				if (reserved.has(c)) throw new X12WriteError(`${where}: ${tag}${String(i + 1).padStart(2, "0")} ${JSON.stringify(part)} contains the delimiter ${JSON.stringify(c)}`);
			}
		}
		const trimmed = [...parts];
		while (trimmed.length > 1 && trimmed.at(-1) === "") trimmed.pop();
		return trimmed.join(d.component);
	});
	while (values.length > 0 && values.at(-1) === "") values.pop();
	if (values.length === 0) throw new X12WriteError(`${where}: ${tag} has no elements`);
	return [tag, ...values].join(d.element);
}

function formatControl(value: string | number, min: number, max: number, name: string): string {
	const text = typeof value === "number" ? String(value) : value;
	if (!/^\d+$/.test(text)) throw new X12WriteError(`${name} ${JSON.stringify(text)} must be digits`);
	const padded = text.padStart(min, "0");
	if (padded.length > max) throw new X12WriteError(`${name} ${text} is longer than ${max} digits`);
	return padded;
}

/** The date and time fields of an envelope, in UTC. */
export function x12Stamp(date: Date): { yymmdd: string; ccyymmdd: string; hhmm: string; hhmmss: string } {
	const iso = date.toISOString(); // 2024-03-15T12:00:00.000Z
	const ccyymmdd = iso.slice(0, 10).replaceAll("-", "");
	const hhmm = iso.slice(11, 13) + iso.slice(14, 16);
	return { yymmdd: ccyymmdd.slice(2), ccyymmdd, hhmm, hhmmss: hhmm + iso.slice(17, 19) };
}
