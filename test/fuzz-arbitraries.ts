import fc from "fast-check";

// Arbitraries for test/fuzz-routes.test.ts: hostile bodies, headers and path segments. Bodies are
// bytes, so they can be anything a client can put on the wire (invalid UTF-8, UTF-16, BOMs).

const encoder = new TextEncoder();
export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/** A valid body of some channel, as the channel sends it, and how the order it names is found again. */
export type Fixture = {
	name: string;
	text: string;
	/** Digits inside `text` that make the order id; replaced by fresh digits of the same length on each send. */
	marker?: string;
	/** The order's key (`<connection>:<channel order id>`) once `marker` is replaced by `fresh`. */
	orderKey?: (fresh: string) => string;
};

/** A body template: bytes plus the fixture it came from (for the fresh order id), if any. */
export type Body = { bytes: Uint8Array; kind: string; fixture?: Fixture };

/** A Body that prints (in a counterexample) as its kind and first bytes, not as a 20 kB fixture. */
function body(bytes: Uint8Array, kind: string, fixture?: Fixture): Body {
	const value: Body = { bytes, kind, fixture };
	Object.defineProperty(value, fc.toStringMethod, {
		value: () => `${kind} (${fixture?.name ?? "no fixture"}): ${bytes.byteLength} bytes ${JSON.stringify(new TextDecoder().decode(bytes.subarray(0, 200)))}`,
	});
	return value;
}

/** Replaces every occurrence of `marker` (ASCII) in `bytes` by `fresh` (same length). */
export function withFresh(bytes: Uint8Array, marker: string | undefined, fresh: string): Uint8Array {
	if (!marker) return bytes;
	const m = utf8(marker);
	const f = utf8(fresh);
	const out = new Uint8Array(bytes);
	outer: for (let i = 0; i + m.length <= out.length; i++) {
		for (let j = 0; j < m.length; j++) if (out[i + j] !== m[j]) continue outer;
		out.set(f, i);
		i += m.length - 1;
	}
	return out;
}

/** Fresh digits of `length`, never starting with 0 (an id, not a zero-padded number). */
export function freshDigits(length: number): string {
	let digits = String(1 + Math.floor(Math.random() * 9));
	while (digits.length < length) digits += String(Math.floor(Math.random() * 10));
	return digits;
}

// --- bodies ---------------------------------------------------------------------------------

/** A fixture cut at any byte, inside a multi-byte character or a number included. */
export function truncated(fixtures: Fixture[]): fc.Arbitrary<Body> {
	return fc.constantFrom(...fixtures).chain((fixture) => {
		const bytes = utf8(fixture.text);
		return fc.integer({ min: 0, max: bytes.length - 1 }).map((cut) => body(bytes.slice(0, cut), `truncated@${cut}`, fixture));
	});
}

/** Byte sequences no UTF-8 decoder may accept: stray bytes, overlong forms, surrogates, beyond U+10FFFF, cut sequences. */
const BAD_UTF8 = [[0xff], [0xfe], [0x80], [0xc3], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];

export function invalidUtf8(fixtures: Fixture[]): fc.Arbitrary<Body> {
	return fc
		.tuple(fc.constantFrom(...fixtures), fc.constantFrom(...BAD_UTF8), fc.double({ min: 0, max: 1, noNaN: true }))
		.map(([fixture, bad, at]) => {
			const bytes = utf8(fixture.text);
			const i = Math.floor(at * bytes.length);
			const out = new Uint8Array(bytes.length + bad.length);
			out.set(bytes.subarray(0, i));
			out.set(bad, i);
			out.set(bytes.subarray(i), i + bad.length);
			return body(out, `invalid-utf8@${i}`, fixture);
		});
}

function utf16(text: string, littleEndian: boolean, bom: boolean): Uint8Array {
	const out = new Uint8Array((text.length + (bom ? 1 : 0)) * 2);
	const view = new DataView(out.buffer);
	let offset = 0;
	if (bom) {
		view.setUint16(0, 0xfeff, littleEndian);
		offset = 2;
	}
	for (let i = 0; i < text.length; i++) view.setUint16(offset + i * 2, text.charCodeAt(i), littleEndian);
	return out;
}

/** The right content in the wrong encoding: UTF-8 with a BOM, UTF-16 either way with or without one. */
export function wrongEncoding(fixtures: Fixture[]): fc.Arbitrary<Body> {
	return fc.tuple(fc.constantFrom(...fixtures), fc.constantFrom("utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le")).map(([fixture, encoding]) => {
		const text = fixture.text;
		const bytes =
			encoding === "utf8-bom" ? new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(text)])
			: encoding === "utf16le-bom" ? utf16(text, true, true)
			: encoding === "utf16be-bom" ? utf16(text, false, true)
			: utf16(text, true, false);
		return body(bytes, encoding, fixture);
	});
}

/** JSON nested thousands of levels deep (parsers that recurse run out of stack). */
export const deeplyNested: fc.Arbitrary<Body> = fc
	.tuple(fc.constantFrom(1_000, 10_000, 100_000), fc.constantFrom("array", "object", "mixed"))
	.map(([depth, shape]) => {
		const open = shape === "array" ? "[" : shape === "object" ? '{"a":' : '{"a":[';
		const close = shape === "array" ? "]" : shape === "object" ? "}" : "]}";
		return body(utf8(`${open.repeat(depth)}1${close.repeat(depth)}`), `nested-${shape}-${depth}`);
	});

/** A body just over `limit` bytes: one huge string, a huge array, or many keys. */
export function oversized(limit: number): fc.Arbitrary<Body> {
	return fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.constantFrom("string", "array", "keys")).map(([extra, shape]) => {
		const target = limit + extra;
		let text: string;
		if (shape === "string") text = `{"padding":"${"x".repeat(target - 14)}"}`;
		else if (shape === "array") text = `[${"0,".repeat(Math.ceil(target / 2))}0]`;
		else text = `{${Array.from({ length: Math.ceil(target / 12) }, (_, i) => `"k${String(i).padStart(7, "0")}":1`).join(",")}}`;
		return body(utf8(text), `oversized-${shape}+${extra}`);
	});
}

/** Numbers where integers belong: as strings, NaN, 1e308, -0, overflow, fractions, unsafe integers, non-JSON literals. */
export const HOSTILE_NUMBERS = ['"5"', "NaN", "1e308", "-1e308", "-0", "1e999", "-1", "9007199254740993", "0.5", "null", "Infinity", '"NaN"', "1E-400", "[]", "{}", "true", '""', '"1e308"', "0x10", "007", "-"];
/** Strings no one expects: NUL, lone surrogates, bidi overrides, 70 kB, traversal, markup. */
export const HOSTILE_STRINGS = ['"\\u0000"', '"\\ud800"', '"\\u202e"', `"${"x".repeat(70_000)}"`, '"../../../etc/passwd"', '"%00"', '"<script>alert(1)</script>"', '"日本語 🙂"', `"${'\\"'.repeat(500)}"`, "null", "123", "{}", "[]", '""', '" "'];
/** Keys that pollute prototypes when an object is built naively. */
export const PROTO_KEYS = ['"__proto__":{"polluted":true}', '"constructor":{"prototype":{"polluted":true}}', '"__proto__":null', '"prototype":{"polluted":true}', '"hasOwnProperty":1', '"toString":"x"', '"valueOf":{}'];

function nth(text: string, pattern: RegExp, pick: number): RegExpExecArray | null {
	const matches = [...text.matchAll(pattern)];
	return matches.length === 0 ? null : (matches[pick % matches.length] as RegExpExecArray);
}

/** A valid JSON fixture with one hostile edit: a number, a string value, an injected key, a duplicate key, or one character gone. */
export function mutatedJson(fixtures: Fixture[]): fc.Arbitrary<Body> {
	const edit = fc.oneof(
		fc.record({ op: fc.constant("number" as const), value: fc.constantFrom(...HOSTILE_NUMBERS), pick: fc.nat() }),
		fc.record({ op: fc.constant("string" as const), value: fc.constantFrom(...HOSTILE_STRINGS), pick: fc.nat() }),
		fc.record({ op: fc.constant("proto" as const), value: fc.constantFrom(...PROTO_KEYS), pick: fc.nat() }),
		fc.record({ op: fc.constant("duplicate" as const), value: fc.constantFrom('"id":"dup"', '"id":-1', '"type":"x"', '"status":null'), pick: fc.nat() }),
		fc.record({ op: fc.constant("drop" as const), value: fc.constant(""), pick: fc.nat() }),
	);
	return fc.tuple(fc.constantFrom(...fixtures), edit).map(([fixture, { op, value, pick }]) => {
		const text = fixture.text;
		let out = text;
		if (op === "number") {
			const m = nth(text, /(?<=[:[,]\s*)-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?=\s*[,}\]])/g, pick);
			if (m) out = text.slice(0, m.index) + value + text.slice(m.index + m[0].length);
		} else if (op === "string") {
			const m = nth(text, /(?<=:\s*)"(?:[^"\\]|\\.)*"/g, pick);
			if (m) out = text.slice(0, m.index) + value + text.slice(m.index + m[0].length);
		} else if (op === "proto" || op === "duplicate") {
			const m = nth(text, /\{(?=\s*")/g, pick);
			if (m) out = `${text.slice(0, m.index + 1)}${value},${text.slice(m.index + 1)}`;
		} else {
			const i = pick % Math.max(1, text.length);
			out = text.slice(0, i) + text.slice(i + 1);
		}
		return body(utf8(out), `mutated-${op}:${value.slice(0, 24)}`, fixture);
	});
}

/** The fixture itself, unchanged (so the valid path is exercised too, with a fresh order id). */
export function asIs(fixtures: Fixture[]): fc.Arbitrary<Body> {
	return fc.constantFrom(...fixtures).map((fixture) => body(utf8(fixture.text), "fixture", fixture));
}

/** Bodies that have nothing to do with any route: random bytes, random text, random JSON, forms, X12-like junk. */
export const junk: fc.Arbitrary<Body> = fc.oneof(
	fc.uint8Array({ maxLength: 2048 }).map((bytes) => body(bytes, "bytes")),
	fc.string({ unit: "grapheme", maxLength: 300 }).map((text) => body(utf8(text), "text")),
	fc.string({ unit: "binary", maxLength: 300 }).map((text) => body(utf8(text), "unicode")),
	fc.jsonValue({ maxDepth: 4 }).map((value) => body(utf8(JSON.stringify(value) ?? "null"), "json")),
	fc.constantFrom("", " ", "null", "[]", "{}", '""', "0", "-0", "1e308", "true", "webhook_id=1", "webhook_id=12345678901234567890", "a=1&b=2", "ISA*00*~", "ISA~GS~ST~SE~GE~IEA~", "\u0000", "\ufeff{}")
		.map((text) => body(utf8(text), `literal:${JSON.stringify(text)}`)),
);

/** Everything hostile a route's body can be, built from its channel's own fixtures where it has any. */
export function hostileBody(fixtures: Fixture[], limit: number): fc.Arbitrary<Body> {
	if (fixtures.length === 0) return fc.oneof({ arbitrary: junk, weight: 6 }, { arbitrary: deeplyNested, weight: 1 }, { arbitrary: oversized(limit), weight: 1 });
	return fc.oneof(
		{ arbitrary: junk, weight: 3 },
		{ arbitrary: truncated(fixtures), weight: 4 },
		{ arbitrary: mutatedJson(fixtures), weight: 4 },
		{ arbitrary: invalidUtf8(fixtures), weight: 2 },
		{ arbitrary: wrongEncoding(fixtures), weight: 2 },
		{ arbitrary: asIs(fixtures), weight: 1 },
		{ arbitrary: deeplyNested, weight: 1 },
		{ arbitrary: oversized(limit), weight: 1 },
	);
}

// --- headers and paths ----------------------------------------------------------------------

/** True when a header can be sent at all (the client refuses NUL, CR and LF, and bad names). */
export function sendable(name: string, value: string): boolean {
	try {
		new Headers([[name, value]]);
		return true;
	} catch {
		return false;
	}
}

/** Headers that lie or surprise: wrong Content-Type, a lying Content-Length, huge values, non-ASCII, junk names. */
export const hostileHeaders: fc.Arbitrary<Array<[string, string]>> = fc.array(
	fc.oneof(
		fc.constantFrom<[string, string]>(
			["Content-Type", "text/plain"],
			["Content-Type", "application/x-www-form-urlencoded"],
			["Content-Type", "application/json; charset=utf-16"],
			["Content-Type", "multipart/form-data; boundary=x"],
			["Content-Type", "application/edi-x12"],
			["Content-Type", "ü/ü"],
			["Content-Encoding", "gzip"],
			["Accept", "application/json"],
			["Accept", "*/*;q=0"],
			["Origin", "http://localhost:5173"],
			["Origin", "null"],
			["X-Forwarded-For", "127.0.0.1, ::1"],
			["Upgrade", "websocket"],
		),
		fc.constantFrom("0", "1", "-1", "abc", "99999999999", "1e3", " 5", "18446744073709551616").map((v): [string, string] => ["Content-Length", v]),
		fc.constantFrom(8 * 1024, 64 * 1024).map((n): [string, string] => ["X-Fuzz-Huge", "h".repeat(n)]),
		fc.constantFrom("tökén", "日本", "\u00ff\u00fe", "🙂", "a\tb").map((v): [string, string] => ["X-Fuzz-Text", v]),
		fc
			.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/), fc.string({ maxLength: 80 }))
			.filter(([name, value]) => sendable(name, value)),
	),
	{ maxLength: 4 },
);

/** Path segments that try to escape, break decoding, or exhaust: NUL, traversal, malformed escapes, 10k characters. */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
	fc.constantFrom("%00", "a%00b", "..%2F..%2Fhealth", "%2e%2e", "..", "%2F", "%", "%ZZ", "%E0%A4%A", "%C0%AF", "%ED%A0%80", "%F0%9F%92%A9", "__proto__", "constructor", "a%3Ab", ":", "%20", "x".repeat(10_000), "%41".repeat(3_000)),
	fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).map(encodeSegment),
	fc.stringMatching(/^[A-Za-z0-9._~:-]{1,64}$/),
);

function encodeSegment(text: string): string {
	try {
		return encodeURIComponent(text);
	} catch {
		return "x"; // a lone surrogate: no client can send it
	}
}

/** Query strings that break number parsing and array expectations. */
export const hostileQuery: fc.Arbitrary<string> = fc.oneof(
	fc.constant(""),
	fc
		.array(
			fc.tuple(
				fc.constantFrom("sku", "limit", "after", "status", "name", "cursor", "since", "__proto__", "x"),
				fc.oneof(fc.constantFrom("NaN", "-0", "1e308", "-1", "0", "1.5", "9007199254740993", "%00", "%E0%A4%A", "", "all", "open", "x".repeat(5000)), fc.string({ maxLength: 20 }).map(encodeSegment)),
			),
			{ maxLength: 5 },
		)
		.map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}` : "")),
	fc.integer({ min: 101, max: 120 }).map((n) => `?${Array.from({ length: n }, (_, i) => `sku=S${i}`).join("&")}`),
);
