import { env } from "cloudflare:workers";
import { X12Parser, X12QueryEngine, type X12Interchange } from "node-x12";
import { describe, expect, it } from "vitest";
import {
	EdiAccount,
	type EdiAccountInput,
	acknowledgeEdiOrder,
	build810,
	build846,
	build855,
	build997,
	ediInterchange,
	initialControlState,
	memoryAllocator,
	nextControlNumbers,
	parseEdiInterchange,
	parseX12,
	postEdiDocument,
	pushEdiAvailability,
	readX12,
	relayEdiFulfillment,
	sendEdiAcknowledgments,
	verifyEdiWebhook,
	writeX12,
} from "../worker/connectors/edi";
import type { ChannelFulfillment } from "../worker/model/fulfillment";
import type { CanonicalOrder } from "../worker/model/order";
// Fixtures: 850-purchase-order.edi and 997-accepted.edi are the samples of the X12 research notes
// (/tmp/issue6/edi.md §2, §3.1); 850-drop-ship.edi (5010, "|" ":" "^" and CRLF) and multi-group.edi
// were written by a separate script. All four pass node-x12 in strict mode and the notes' own
// envelope checker (§6), independently of the reader under test.
import dropShip from "./fixtures/edi/850-drop-ship.edi?raw";
import purchaseOrder from "./fixtures/edi/850-purchase-order.edi?raw";
import accepted997 from "./fixtures/edi/997-accepted.edi?raw";
import multiGroup from "./fixtures/edi/multi-group.edi?raw";

const sandbox = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:8789${path}`, init);
const TOKEN = env.EDI_GATEWAY_TOKEN as string;
const credentials = { token: TOKEN };
const CONNECTION = "edi-retailer";

const accountInput: EdiAccountInput = {
	ourQualifier: "ZZ",
	ourId: "VENDORID",
	partnerQualifier: "ZZ",
	partnerId: "RETAILERID",
	ourGsId: "VENDORID",
	partnerGsId: "RETAILERID",
	gatewayUrl: "https://as2.retailer.example/edi/documents",
	endpoint: "http://127.0.0.1:8789/edi/documents",
	tokenSecret: "EDI_GATEWAY_TOKEN",
	usageIndicator: "T",
	itemMap: { "UP:012345678905": "WIDGET-BLK", "VN:GAD-200": "GADGET" },
	vendorNumber: "VEND7788",
};
const account = EdiAccount.parse(accountInput);

/** node-x12 in strict mode: throws on any count or control-number mismatch. */
function independent(raw: string): X12Interchange {
	const parsed = new X12Parser(true).parse(raw);
	expect(parsed.constructor.name).toBe("X12Interchange");
	return parsed as X12Interchange;
}
const query = (ic: X12Interchange, reference: string) => new X12QueryEngine().query(ic, reference).map((r) => r.value);

/** The body of every set, as text, for exact comparisons. */
function setBodies(raw: string): string[] {
	const parsed = parseX12(raw);
	if (!parsed.ok) throw new Error(parsed.error);
	const d = parsed.interchange.delimiters;
	return parsed.interchange.groups.flatMap((g) => g.sets.map((s) => s.segments.map((seg) => seg.fields.join(d.element)).join("~")));
}

describe("X12 reader", () => {
	it("reads a multi-group, multi-set interchange", () => {
		const parsed = parseX12(multiGroup);
		expect(parsed.ok).toBe(true);
		if (!parsed.ok) return;
		const ic = parsed.interchange;
		expect(ic.delimiters).toEqual({ element: "*", component: ">", segment: "~", repetition: null });
		expect({ sender: ic.senderId, receiver: ic.receiverId, control: ic.control, version: ic.version, usage: ic.usage }).toEqual({
			sender: "RETAILERID",
			receiver: "VENDORID",
			control: "000002001",
			version: "00401",
			usage: "T",
		});
		expect(ic.groups.map((g) => ({ id: g.functionalId, control: g.control, sets: g.sets.map((s) => `${s.id}/${s.control}/${s.segments.length}`) }))).toEqual([
			{ id: "PO", control: "2001", sets: ["850/0001/9", "850/0002/4", "850/0003/5"] },
			{ id: "PC", control: "2002", sets: ["860/0004/5"] },
			{ id: "FA", control: "2003", sets: ["997/0005/6", "997/0006/6"] },
		]);
		const po1 = ic.groups[0]!.sets[0]!.segments.find((s) => s.tag === "PO1")!;
		expect(po1).toEqual({ tag: "PO1", fields: ["PO1", "1", "3", "EA", "9.99", "", "UP", "012345678905"], position: 8 });
		// node-x12 reads the same structure.
		const other = independent(multiGroup);
		expect(other.functionalGroups.map((g) => g.transactions.length)).toEqual([3, 1, 2]);
	});

	it("takes its delimiters from the ISA: 5010 with | : ^ and CRLF, and a newline terminator", () => {
		const parsed = parseX12(dropShip);
		expect(parsed.ok && parsed.interchange.delimiters).toEqual({ element: "|", component: ":", segment: "~", repetition: "^" });
		expect(parsed.ok && parsed.interchange.groups[0]!.sets[0]!.segments[1]!.fields).toEqual(["BEG", "00", "DS", "DS-778812", "", "20241101"]);
		const newline = purchaseOrder.replaceAll("~\n", "\n");
		const byLine = parseX12(newline);
		expect(byLine.ok && byLine.interchange.delimiters.segment).toBe("\n");
		expect(byLine.ok && byLine.interchange.groups[0]!.sets[0]!.segments.length).toBe(20);
		// In 004010 ISA11 "U" is the Standards ID, not a delimiter: CUR*BY*USD stays whole.
		const cur = parseX12(purchaseOrder.replaceAll("~\n", "~"));
		expect(cur.ok && cur.interchange.groups[0]!.sets[0]!.segments[2]!.fields).toEqual(["CUR", "BY", "USD"]);
	});

	// Positions in 850-purchase-order.edi: ISA 1, GS 2, ST 3, BEG 4 … PO1 16 … SE 22, GE 23, IEA 24.
	const broken: Array<[string, string, string, boolean]> = [
		["IEA01 wrong", purchaseOrder.replace("IEA*1*", "IEA*2*"), 'segment 24 (IEA): IEA01 is "2" but the interchange holds 1 functional group', true],
		["IEA02 ≠ ISA13", purchaseOrder.replace("IEA*1*000000101", "IEA*1*000000999"), 'segment 24 (IEA): IEA02 "000000999" does not match ISA13 "000000101"', true],
		["GE01 wrong", purchaseOrder.replace("GE*1*101", "GE*3*101"), 'segment 23 (GE): GE01 is "3" but functional group 101 holds 1 transaction set', true],
		["GE02 ≠ GS06", purchaseOrder.replace("GE*1*101", "GE*1*102"), 'segment 23 (GE): GE02 "102" does not match GS06 "101"', true],
		["SE01 wrong", purchaseOrder.replace("SE*20*0001", "SE*19*0001"), 'segment 22 (SE): SE01 is "19" but transaction set 0001 has 20 segments (ST through SE)', true],
		["SE02 ≠ ST02", purchaseOrder.replace("SE*20*0001", "SE*20*0002"), 'segment 22 (SE): SE02 "0002" does not match ST02 "0001"', true],
		[
			"ISA not fixed width",
			purchaseOrder.replace("*ZZ*RETAILERID     *", "*ZZ*RETAILERID*"),
			"segment 1 (ISA): ISA06 is 10 characters; ISA elements are fixed width and ISA06 must be 15 (pad with spaces or zeros)",
			true,
		],
		["SE missing", purchaseOrder.replace("SE*20*0001~\n", ""), "segment 22 (GE): transaction set 0001 (ST at segment 3) has no SE before this GE", false],
		["GE missing", purchaseOrder.replace("GE*1*101~\n", ""), "segment 23 (IEA): functional group 101 has no GE before IEA", false],
		["IEA missing", purchaseOrder.replace("IEA*1*000000101~\n", ""), "segment 24 (IEA): the interchange has no IEA trailer", false],
		["ISA13 not nine digits", purchaseOrder.replace("*000000101*0*T*", "*00000010A*0*T*").replace("IEA*1*000000101", "IEA*1*00000010A"), 'segment 1 (ISA): ISA13 "00000010A" must be nine digits', false],
		["not X12", "hello", "segment 1 (ISA): an interchange must start with ISA", false],
		["ST outside a group", purchaseOrder.replace("GS*PO*RETAILERID*VENDORID*20240315*1200*101*X*004010~\n", ""), "segment 2 (ST): ST outside a functional group (no GS before it)", false],
		["data after IEA", `${purchaseOrder}ISA*00*`, "segment 25 (ISA): a second interchange follows IEA; send one interchange per request", false],
		["a set in the wrong group", purchaseOrder.replace("ST*850*0001", "ST*856*0001"), "segment 3 (ST): transaction set 856 does not belong in a PO group (PO carries 850)", false],
		["bad segment id", purchaseOrder.replace("CUR*BY*USD", "cur*BY*USD"), 'segment 5 (cur): "cur" is not a segment ID', false],
		["bad GS06", purchaseOrder.replace("*1200*101*X*", "*1200*10A*X*").replace("GE*1*101", "GE*1*10A"), 'segment 2 (GS): GS06 "10A" must be 1 to 9 digits', false],
	];
	it.each(broken)("names the segment and reason: %s", (_label, raw, message, nodeX12Strict) => {
		const parsed = parseX12(raw);
		expect(parsed.ok).toBe(false);
		expect(!parsed.ok && parsed.error).toBe(message);
		// node-x12's strict mode checks the six counts and the ISA width too (and not the rest).
		if (nodeX12Strict) expect(() => new X12Parser(true).parse(raw)).toThrow();
	});

	it("gives each set or group error its 997 code and keeps the rest readable", () => {
		const duplicateSt = multiGroup.replace("ST*850*0002", "ST*850*0001").replace("SE*4*0002", "SE*4*0001");
		const read = readX12(duplicateSt);
		expect(read.issues).toEqual([
			{ level: "set", position: 12, tag: "ST", message: "ST02 0001 is used by another transaction set in group 2001; it must be unique within the group", group: 0, set: 1, code: "23" },
		]);
		const badSegment = readX12(purchaseOrder.replace("CUR*BY*USD", "cur*BY*USD"));
		expect(badSegment.issues[0]).toMatchObject({ level: "set", code: "5", segment: { tag: "cur", position: 3, code: "1" } });
		const missingGe = readX12(purchaseOrder.replace("GE*1*101~\n", ""));
		expect(missingGe.issues.map((i) => [i.level, i.code])).toEqual([["group", "3"]]);
		expect(missingGe.interchange?.groups[0]?.sets[0]?.issues).toEqual([]);
	});

	it("writes envelopes with given control numbers and delimiters, and reads them back", () => {
		const raw = writeX12({
			sender: { qualifier: "ZZ", id: "VENDORID" },
			receiver: { qualifier: "01", id: "123456789" },
			control: 42,
			date: new Date("2024-03-15T12:05:09Z"),
			usage: "T",
			version: "00501",
			delimiters: { element: "|", component: ":", segment: "~", repetition: "^" },
			groups: [
				{ functionalId: "IB", senderId: "VENDORID", receiverId: "RETAILER", control: 7, version: "005010", sets: [{ id: "846", control: 9, segments: [["BIA", "00", "SI", "R1", "20240315"], ["LIN", "", "UP", "012345678905"], ["QTY", "33", 5, "EA"], ["CTT", 1, 5]] }] },
				{ functionalId: "IB", senderId: "VENDORID", receiverId: "RETAILER", control: 8, version: "005010", sets: [{ id: "846", control: 10, segments: [["BIA", "00", "SI", "R2", "20240315"], ["REF", "ZZ", ["A", "B"]]] }] },
			],
		});
		expect(raw.slice(0, 106)).toBe("ISA|00|          |00|          |ZZ|VENDORID       |01|123456789      |240315|1205|^|00501|000000042|0|T|:~");
		expect(raw.slice(106)).toBe(
			"GS|IB|VENDORID|RETAILER|20240315|1205|7|X|005010~ST|846|0009~BIA|00|SI|R1|20240315~LIN||UP|012345678905~QTY|33|5|EA~CTT|1|5~SE|6|0009~GE|1|7~" +
				"GS|IB|VENDORID|RETAILER|20240315|1205|8|X|005010~ST|846|0010~BIA|00|SI|R2|20240315~REF|ZZ|A:B~SE|4|0010~GE|1|8~IEA|2|000000042~",
		);
		expect(parseX12(raw).ok).toBe(true);
		independent(raw);
		const write = (value: string) => () =>
			writeX12({
				sender: { qualifier: "ZZ", id: "A" },
				receiver: { qualifier: "ZZ", id: "B" },
				control: 1,
				date: new Date(),
				usage: "T",
				version: "00401",
				groups: [{ functionalId: "IB", senderId: "A", receiverId: "B", control: 1, version: "004010", sets: [{ id: "846", control: 1, segments: [["BIA", "00", "SI", value]] }] }],
			});
		expect(write("R~1")).toThrow('set 0001 segment 2: BIA03 "R~1" contains the delimiter "~"');
		expect(write("R*1")).toThrow('contains the delimiter "*"');
		expect(write("R^1")).not.toThrow(); // before 00402 there is no repetition separator
	});
});

describe("850 → canonical order", () => {
	it("normalizes the documented 850 exactly and acknowledges it (997 as in the notes)", () => {
		const parsed = parseEdiInterchange(account, purchaseOrder, CONNECTION);
		expect(parsed.ok).toBe(true);
		if (!parsed.ok) return;
		expect(parsed.interchange).toEqual({ senderId: "RETAILERID", receiverId: "VENDORID", control: "000000101", usage: "T", ackRequested: false });
		expect(parsed.rejected).toEqual([]);
		expect(parsed.orders).toHaveLength(1);
		const event = parsed.orders[0]!;
		expect({ eventId: event.eventId, topic: event.topic, triggeredAt: event.triggeredAt }).toEqual({
			eventId: "x12:RETAILERID:000000101:101:0001",
			topic: "850",
			triggeredAt: "2024-03-15T12:00:00.000Z",
		});
		const usd = (amount: number) => ({ amount, currency: "USD" });
		expect(event.change).toEqual({
			kind: "order",
			order: {
				connection: CONNECTION,
				channel: "edi",
				channelOrderId: "PO123456",
				channelOrderName: "PO123456",
				currency: "USD",
				lines: [
					{ channelLineId: "1", sku: "WIDGET-BLK", title: "WIDGET BLACK", quantity: 12, unitPrice: usd(999), discounts: [], taxes: [], requiresShipping: true },
					{ channelLineId: "2", sku: "GADGET", title: "GADGET", quantity: 6, unitPrice: usd(2450), discounts: [], taxes: [], requiresShipping: true },
				],
				shippingLines: [],
				taxes: [],
				taxesIncluded: false,
				discounts: [],
				subtotal: usd(26688),
				total: usd(26688),
				customer: { channelCustomerId: "0001", name: "RETAILER INC" },
				shipTo: { name: "STORE 1234", address1: "100 MAIN ST", city: "SPRINGFIELD", provinceCode: "IL", zip: "62701", countryCode: "US" },
				financialStatus: "pending",
				fulfillmentStatus: "unfulfilled",
				cancelledAt: null,
				refunds: [],
				createdAt: "2024-03-15T00:00:00.000Z",
				sourceUpdatedAt: "2024-03-15T12:00:00.000Z",
			},
		});
		expect(event.po).toEqual({
			poNumber: "PO123456",
			purpose: "00",
			type: "SA",
			poDate: "20240315",
			dates: { "002": "2024-03-22T00:00:00.000Z" },
			shipToCode: { qualifier: "92", id: "1234" },
			references: { DP: "042", IA: "VEND7788" },
			lines: [
				{ lineNumber: "1", quantity: 12, unit: "EA", unitPrice: usd(999), ids: [["UP", "012345678905"], ["VN", "WID-100-BLK"], ["BP", "88001122"]], sku: "WIDGET-BLK" },
				{ lineNumber: "2", quantity: 6, unit: "EA", unitPrice: usd(2450), ids: [["UP", "036000291452"], ["VN", "GAD-200"], ["IN", "77002233"]], sku: "GADGET" },
			],
		});
		expect(parsed.acknowledgments).toEqual([{ functionalId: "PO", control: "101", included: 1, received: 1, sets: [{ id: "850", control: "0001", status: "A" }] }]);
		// The notes' accepted 997 for this 850, rebuilt with its control numbers and time.
		const ack = ediInterchange({ ...account, ourId: "VENDORID", usageIndicator: "T", newline: true }, { isa: "000005001", gs: ["5001"], st: [["0001"]], issuedAt: "2024-03-15T12:05:00.000Z" }, [
			{ setId: "997", sets: parsed.acknowledgments.map(build997) },
		]);
		expect(ack).toBe(accepted997);
	});

	it("normalizes a 5010 drop-ship 850: per-qualifier itemMap, VN as SKU, unmapped and case lines without SKU, .75 prices, TD5", () => {
		const dropShipAccount = EdiAccount.parse({
			...accountInput,
			ourId: "ORDERSYNC",
			ourGsId: "ORDERSYNC",
			partnerId: "BIGBOX",
			partnerGsId: "BIGBOX",
			version: "005010",
			itemMap: { UP: { "036000291452": "CAP-NVY" } },
		});
		expect(dropShipAccount.itemMap).toEqual({ "UP:036000291452": "CAP-NVY" });
		const parsed = parseEdiInterchange(dropShipAccount, dropShip, "edi-bigbox");
		expect(parsed.ok && parsed.rejected).toEqual([]);
		if (!parsed.ok) return;
		const usd = (amount: number) => ({ amount, currency: "USD" });
		const line = (channelLineId: string, sku: string | null, title: string, quantity: number, cents: number) => ({
			channelLineId,
			sku,
			title,
			quantity,
			unitPrice: usd(cents),
			discounts: [],
			taxes: [],
			requiresShipping: true,
		});
		expect(parsed.orders[0]!.change.order).toEqual({
			connection: "edi-bigbox",
			channel: "edi",
			channelOrderId: "DS-778812",
			channelOrderName: "DS-778812",
			currency: "USD",
			lines: [line("1", "TEE-BLK-M", "BLACK TEE M", 2, 1999), line("2", "CAP-NVY", "NAVY CAP", 1, 1250), line("3", null, "SOCKS CASE OF 12", 1, 4800), line("4", null, "B-555", 3, 75)],
			shippingLines: [{ channelLineId: "TD5", title: "UPS GROUND", code: "UPSN", price: usd(0), discounts: [], taxes: [] }],
			taxes: [],
			taxesIncluded: false,
			discounts: [],
			subtotal: usd(10273),
			total: usd(11373),
			customer: { channelCustomerId: "0001", name: "BIGBOX RETAIL INC" },
			shipTo: { name: "ADA LOVELACE", address1: "100 N RACINE AVE", address2: "APT 4B", city: "CHICAGO", provinceCode: "IL", zip: "60607", countryCode: "US", phone: "3125550100" },
			financialStatus: "pending",
			fulfillmentStatus: "unfulfilled",
			cancelledAt: null,
			refunds: [],
			createdAt: "2024-11-01T00:00:00.000Z",
			sourceUpdatedAt: "2024-11-02T09:15:32.000Z",
		} satisfies CanonicalOrder);
		expect(parsed.orders[0]!.po).toMatchObject({ type: "DS", dates: { "010": "2024-11-04T00:00:00.000Z" }, references: { CO: "C-99812" } });
	});

	it("a multi-group interchange: orders, a cancellation, an ignored duplicate, an unsupported 860, the partner's 997s", () => {
		const parsed = parseEdiInterchange(account, multiGroup, CONNECTION);
		expect(parsed.ok).toBe(true);
		if (!parsed.ok) return;
		expect(parsed.orders.map((o) => [o.eventId, o.topic, o.change.order.channelOrderId, o.change.order.cancelledAt, o.change.order.lines.map((l) => `${l.sku}×${l.quantity}`)])).toEqual([
			["x12:RETAILERID:000002001:2001:0001", "850", "PO-A100", null, ["WIDGET-BLK×3", "GADGET×1"]],
			["x12:RETAILERID:000002001:2001:0002", "850:cancel", "PO-B200", "2024-11-20T14:05:00.000Z", []],
		]);
		expect(parsed.ignored).toEqual([{ eventId: "x12:RETAILERID:000002001:2001:0003", reason: "850 PO-C300: BEG01 07 (duplicate) changes nothing" }]);
		expect(parsed.rejected).toEqual([
			{
				eventId: "x12:RETAILERID:000002001:2002:0004",
				error: "segment 22 (GS): functional group PC is not supported (ordersync reads 850 purchase orders and 997 acknowledgments; send changes as an 850 with BEG01 05)",
			},
		]);
		expect(parsed.receipts).toEqual([
			{ eventId: "x12:RETAILERID:000002001:2003:0005", functionalId: "SH", groupControl: "5003", status: "A", sets: [{ id: "856", control: "0007", status: "A", codes: [] }] },
			{ eventId: "x12:RETAILERID:000002001:2003:0006", functionalId: "IN", groupControl: "5004", status: "R", sets: [{ id: "810", control: "0008", status: "R", codes: ["5"] }] },
		]);
		const ack = ediInterchange(account, { isa: "000000001", gs: ["1"], st: [["0001", "0002"]], issuedAt: "2024-11-20T14:06:00.000Z" }, [{ setId: "997", sets: parsed.acknowledgments.map(build997) }]);
		expect(setBodies(ack)).toEqual([
			"ST*997*0001~AK1*PO*2001~AK2*850*0001~AK5*A~AK2*850*0002~AK5*A~AK2*850*0003~AK5*A~AK9*A*3*3*3~SE*10*0001",
			"ST*997*0002~AK1*PC*2002~AK2*860*0004~AK5*R~AK9*R*1*1*0*1~SE*6*0002",
		]);
		independent(ack);
	});

	it("rejects a set in its 997 with AK3/AK4 and goes on with the others", () => {
		// The notes' rejected-997 example: a bad PO106 qualifier at segment 14 of the set.
		const badQualifier = parseEdiInterchange(account, purchaseOrder.replace("**UP*012345678905*VN*WID", "**u*012345678905*VN*WID"), CONNECTION);
		expect(badQualifier.ok && badQualifier.rejected).toEqual([
			{ eventId: "x12:RETAILERID:000000101:101:0001", error: 'segment 16 (PO1, #14 of set 0001): PO106 "u" is not a product ID qualifier' },
		]);
		expect(badQualifier.ok && badQualifier.acknowledgments.flatMap(build997)).toEqual([
			["AK1", "PO", "101"],
			["AK2", "850", "0001"],
			["AK3", "PO1", 14, undefined, "8"],
			["AK4", "6", "235", "7", "u"],
			["AK5", "R", "5"],
			["AK9", "R", 1, 1, 0],
		]);
		// A price finer than a cent is refused, not rounded.
		const finer = parseEdiInterchange(account, purchaseOrder.replace("*9.99**", "*9.995**").replace("AMT*TT*266.88", "AMT*TT*266.94"), CONNECTION);
		expect(finer.ok && finer.rejected[0]!.error).toBe('segment 16 (PO1, #14 of set 0001): PO104 "9.995": 9.995 has more precision than USD allows');
		const cases: Array<[string, string]> = [
			[purchaseOrder.replace("PO1*1*12*EA", "PO1*1*1.5*EA"), 'segment 16 (PO1, #14 of set 0001): PO102 "1.5" is not a whole number of units'],
			[purchaseOrder.replace("BEG*00*SA*PO123456**20240315", "BEG*00*SA***20240315"), "segment 4 (BEG, #2 of set 0001): BEG03 is required"],
			[purchaseOrder.replace("BEG*00*SA*PO123456**20240315", "BEG*04*SA*PO123456**20240315"), "segment 4 (BEG, #2 of set 0001): BEG01 04 is not supported: send 00 (original), 05 (replace) or 01 (cancellation)"],
			[purchaseOrder.replace("DTM*002*20240322", "DTM*002*20240231"), 'segment 9 (DTM, #7 of set 0001): DTM02 "20240231" is not a date (CCYYMMDD)'],
			[purchaseOrder.replace("CTT*2*18", "CTT*2*17"), "segment 20 (CTT, #18 of set 0001): CTT02 (hash of PO102) is 17 but the quantities add up to 18"],
			[purchaseOrder.replace("CUR*BY*USD", "CUR*BY*XXQ"), 'segment 5 (CUR, #3 of set 0001): CUR02 "XXQ" is not an ISO 4217 currency'],
		];
		for (const [raw, error] of cases) {
			const result = parseEdiInterchange(account, raw, CONNECTION);
			expect(result.ok && result.rejected.map((r) => r.error)).toEqual([error]);
			expect(result.ok && result.acknowledgments[0]!.sets[0]!.status).toBe("R");
		}
		// An envelope error in one set rejects only that set (AK502 4), the others are read.
		const oneBroken = parseEdiInterchange(account, multiGroup.replace("SE*4*0002", "SE*5*0002"), CONNECTION);
		expect(oneBroken.ok && oneBroken.orders.map((o) => o.change.order.channelOrderId)).toEqual(["PO-A100"]);
		expect(oneBroken.ok && oneBroken.acknowledgments[0]!.sets).toEqual([
			{ id: "850", control: "0001", status: "A" },
			{ id: "850", control: "0002", status: "R", codes: ["4"] },
			{ id: "850", control: "0003", status: "A" },
		]);
		// A group error rejects the group (AK905 5), without reading its sets.
		const badGroup = parseEdiInterchange(account, purchaseOrder.replace("GE*1*101", "GE*2*101"), CONNECTION);
		expect(badGroup.ok && badGroup.orders).toEqual([]);
		expect(badGroup.ok && build997(badGroup.acknowledgments[0]!)).toEqual([["AK1", "PO", "101"], ["AK2", "850", "0001"], ["AK5", "R"], ["AK9", "R", 2, 1, 0, "5"]]);
	});

	it("refuses interchanges it cannot trust: broken ISA/IEA, another partner, test data on production", () => {
		expect(parseEdiInterchange(account, purchaseOrder.replace("IEA*1*000000101", "IEA*1*000000102"), CONNECTION)).toEqual({
			ok: false,
			error: 'segment 24 (IEA): IEA02 "000000102" does not match ISA13 "000000101"',
		});
		expect(parseEdiInterchange({ ...account, partnerId: "OTHER" }, purchaseOrder, CONNECTION)).toEqual({
			ok: false,
			error: "segment 1 (ISA): ISA05/ISA06 ZZ/RETAILERID is not this connection's partner (ZZ/OTHER)",
		});
		expect(parseEdiInterchange({ ...account, usageIndicator: "P" }, purchaseOrder, CONNECTION)).toEqual({
			ok: false,
			error: "segment 1 (ISA): ISA15 is T but this connection takes production (P) interchanges",
		});
	});

	it("verifies the gateway's bearer token", async () => {
		const headers = (value?: string) => new Headers(value ? { Authorization: value } : {});
		expect(await verifyEdiWebhook(TOKEN, headers(`Bearer ${TOKEN}`), purchaseOrder)).toBe(true);
		expect(await verifyEdiWebhook(TOKEN, headers(`Bearer ${TOKEN}x`), purchaseOrder)).toBe(false);
		expect(await verifyEdiWebhook(TOKEN, headers(`Basic ${TOKEN}`), purchaseOrder)).toBe(false);
		expect(await verifyEdiWebhook(TOKEN, headers(), purchaseOrder)).toBe(false);
		expect(await verifyEdiWebhook("", headers("Bearer "), purchaseOrder)).toBe(false);
	});
});

describe("generated documents parse back with node-x12 (strict) and the reader", () => {
	const numbers = (sets: number[]) => nextControlNumbers(initialControlState({ isa: 5000, gs: 5000, st: 0 }), { sets, now: Date.parse("2024-03-18T14:30:00Z") });

	it("855 matches the notes' example; 810 its IT1/TDS/CTT; 846 its LIN/QTY/CTT", () => {
		const usd = (amount: number) => ({ amount, currency: "USD" });
		const ack855 = build855({
			poNumber: "PO123456",
			poDate: "20240315",
			lines: [
				{ lineNumber: "1", quantity: 12, unit: "EA", unitPrice: usd(999), ids: [["UP", "012345678905"], ["VN", "WID-100-BLK"]], acks: [{ status: "IA", quantity: 12, date: "20240318" }] },
				{
					lineNumber: "2",
					quantity: 6,
					unit: "EA",
					unitPrice: usd(2450),
					ids: [["UP", "036000291452"], ["VN", "GAD-200"]],
					acks: [{ status: "IA", quantity: 4, date: "20240318" }, { status: "IB", quantity: 2, date: "20240401" }],
				},
			],
		});
		const invoice = build810({
			invoiceNumber: "INV0001",
			invoiceDate: "20240318",
			poNumber: "PO123456",
			poDate: "20240315",
			currency: "USD",
			vendorNumber: "VEND7788",
			shipDate: "20240318",
			lines: [
				{ lineNumber: "1", quantity: 12, unit: "EA", unitPrice: usd(999), ids: [["UP", "012345678905"], ["VN", "WID-100-BLK"]] },
				{ lineNumber: "2", quantity: 4, unit: "EA", unitPrice: usd(2450), ids: [["UP", "036000291452"], ["VN", "GAD-200"]] },
			],
		});
		const advice = build846({ reference: "INV20240318", createdAt: new Date("2024-03-18T14:30:00Z"), items: [{ ids: [["UP", "012345678905"], ["VN", "WID-100-BLK"]], quantity: 150 }, { ids: [["UP", "036000291452"], ["VN", "GAD-200"]], quantity: 0 }] });
		const raw = ediInterchange(account, numbers([1, 1, 1]), [
			{ setId: "855", sets: [ack855] },
			{ setId: "810", sets: [invoice] },
			{ setId: "846", sets: [advice] },
		]);
		const [set855, set810, set846] = setBodies(raw);
		expect(set855).toBe(
			"ST*855*0001~BAK*00*AC*PO123456*20240315~PO1*1*12*EA*9.99**UP*012345678905*VN*WID-100-BLK~ACK*IA*12*EA*068*20240318~" +
				"PO1*2*6*EA*24.50**UP*036000291452*VN*GAD-200~ACK*IA*4*EA*068*20240318~ACK*IB*2*EA*068*20240401~CTT*2*18~SE*9*0001",
		);
		expect(set810).toBe(
			"ST*810*0002~BIG*20240318*INV0001*20240315*PO123456~REF*IA*VEND7788~DTM*011*20240318~IT1*1*12*EA*9.99**UP*012345678905*VN*WID-100-BLK~" +
				"IT1*2*4*EA*24.50**UP*036000291452*VN*GAD-200~TDS*21788~CTT*2*16~SE*9*0002",
		);
		expect(set846).toBe("ST*846*0003~BIA*00*SI*INV20240318*20240318*1430~LIN**UP*012345678905*VN*WID-100-BLK~QTY*33*150*EA~LIN**UP*036000291452*VN*GAD-200~QTY*33*0*EA~CTT*2*150~SE*8*0003");
		const ic = independent(raw);
		expect(ic.functionalGroups.map((g) => g.header.elements[0]!.value)).toEqual(["PR", "IN", "IB"]);
		expect(query(ic, "TDS01")).toEqual(["21788"]);
		expect(query(ic, 'ACK02:ACK01["IB"]')).toEqual(["2"]);
		expect(query(ic, "QTY02")).toEqual(["150", "0"]);
	});

	it("997 accepted and rejected; 856+810 from a fulfilment; 855 and 846 from the relays", async () => {
		// Each relay posts to the sandbox gateway; what it stored is read back and parsed independently.
		const sent: string[] = [];
		const controls = memoryAllocator(initialControlState({ isa: 700 }));
		const order = canonicalOrder("PO-GEN-1");
		const local = { ...account, endpoint: "http://127.0.0.1:8789/edi/documents" };
		const fulfillment: ChannelFulfillment = {
			channelOrderId: order.channelOrderId,
			shipmentId: `SHIP-${crypto.randomUUID().slice(0, 8)}`,
			lines: [{ channelLineId: "1", quantity: 12 }, { channelLineId: "2", quantity: 4 }],
			tracking: { company: "UPS", number: "1Z999AA10123456784" },
			notifyCustomer: false,
		};
		for (const result of [
			await relayEdiFulfillment(local, credentials, fulfillment, { timeoutMs: 5_000, controls, order }),
			await acknowledgeEdiOrder(local, credentials, order, { timeoutMs: 5_000, controls }),
			await pushEdiAvailability(local, credentials, { sku: "WIDGET-BLK", quantity: 7 }, { timeoutMs: 5_000, controls }),
			await sendEdiAcknowledgments(local, credentials, parsedAcks(), { timeoutMs: 5_000, controls }),
		]) {
			expect(result).toMatchObject({ ok: true, value: { duplicate: false, status: 202 } });
			if (result.ok) sent.push(await stored(result.value.control));
		}
		const [asn, ack855, advice, ack997] = sent.map((raw) => {
			expect(parseX12(raw)).toMatchObject({ ok: true });
			return independent(raw);
		});
		expect(asn!.functionalGroups.map((g) => `${g.header.elements[0]!.value}:${g.transactions.map((t) => t.header.elements[0]!.value)}`)).toEqual(["SH:856", "IN:810"]);
		expect(query(asn!, 'REF02:REF01["CN"]')).toEqual(["1Z999AA10123456784"]);
		expect(query(asn!, 'TD503:TD502["2"]')).toEqual(["UPSN"]);
		expect(query(asn!, "HL+S+O+I-SN102")).toEqual(["12", "4"]);
		expect(query(asn!, 'LIN03:LIN02["UP"]')).toEqual(["012345678905"]);
		expect(query(asn!, "PRF01")).toEqual(["PO-GEN-1"]);
		expect(query(asn!, "CTT01")).toEqual(["4", "2"]); // 856: HL count; 810: IT1 count
		expect(query(asn!, "TDS01")).toEqual(["21788"]);
		expect(query(ack855!, "BAK02")).toEqual(["AD"]);
		expect(query(ack855!, "ACK01")).toEqual(["IA", "IA"]);
		expect(query(advice!, 'QTY02:QTY01["33"]')).toEqual(["7"]);
		expect(query(advice!, 'LIN03:LIN02["UP"]')).toEqual(["012345678905"]);
		expect(query(advice!, 'LIN05:LIN04["VN"]')).toEqual(["WIDGET-BLK"]);
		expect(query(ack997!, "AK501")).toEqual(["A", "A", "A", "R"]);
		expect(query(ack997!, "AK905")).toEqual(["1"]);
		// Control numbers of the four interchanges: increasing, each once.
		const isas = sent.map((raw) => raw.slice(90, 99));
		expect(isas).toEqual(["000000701", "000000702", "000000703", "000000704"]);
	});
});

describe("control numbers", () => {
	it("increase and are unique across interchanges, groups and sets", () => {
		let state = initialControlState();
		const seen = { isa: new Set<string>(), gs: new Set<string>(), st: new Set<string>() };
		let last = { isa: 0, gs: 0, st: 0 };
		for (let i = 0; i < 200; i++) {
			const next = nextControlNumbers(state, { sets: [1 + (i % 3), 1 + (i % 2)], key: `doc-${i}` });
			expect(next.isa).toMatch(/^\d{9}$/);
			expect(next.reused).toBe(false);
			expect(Number(next.isa)).toBeGreaterThan(last.isa);
			for (const gs of next.gs) expect(Number(gs)).toBeGreaterThan(last.gs);
			for (const st of next.st.flat()) {
				expect(st).toMatch(/^\d{4,9}$/);
				expect(Number(st)).toBeGreaterThan(last.st);
				last.st = Number(st);
			}
			last = { isa: Number(next.isa), gs: Number(next.gs.at(-1)), st: last.st };
			seen.isa.add(next.isa);
			next.gs.forEach((g) => seen.gs.add(g));
			next.st.flat().forEach((s) => seen.st.add(s));
			state = next.state;
		}
		expect(seen.isa.size).toBe(200);
		expect(seen.gs.size).toBe(400);
		expect(seen.st.size).toBe(state.st);
	});

	it("a keyed document gets its numbers and time back unchanged; the state does not move; only so many keys are kept", () => {
		const first = nextControlNumbers(null, { key: "856:PO1:S1", sets: [1, 1], now: 1_000 });
		const again = nextControlNumbers(first.state, { key: "856:PO1:S1", sets: [1, 1], now: 99_000 });
		expect(again).toEqual({ ...first, state: first.state, reused: true });
		expect(again.state).toBe(first.state);
		expect(() => nextControlNumbers(first.state, { key: "856:PO1:S1", sets: [1] })).toThrow(RangeError);
		let state = first.state;
		for (let i = 0; i < 5; i++) state = nextControlNumbers(state, { key: `k${i}`, remember: 3 }).state;
		expect(state.issued.map((e) => e.key)).toEqual(["k2", "k3", "k4"]);
		expect(nextControlNumbers(state, { sets: [1] }).state.issued).toHaveLength(3); // unkeyed: nothing remembered
	});

	it("wrap from 999999999 to 1 and pad ST02 to four digits", () => {
		const next = nextControlNumbers(initialControlState({ isa: 999_999_999, gs: 999_999_999, st: 999_999_998 }), { sets: [2] });
		expect({ isa: next.isa, gs: next.gs, st: next.st }).toEqual({ isa: "000000001", gs: ["1"], st: [["999999999", "0001"]] });
		expect(() => nextControlNumbers(null, { sets: [0] })).toThrow(RangeError);
	});
});

describe("client and sandbox gateway", () => {
	const controls = memoryAllocator(initialControlState({ isa: 100_000_000 + Math.floor(Math.random() * 800_000_000) }));
	const fault = (kind: string, ms?: number) => sandbox("/sandbox/faults", { method: "POST", body: JSON.stringify({ target: "edi", kind, remaining: 1, ms }) });

	it("the gateway takes a ship notice with its invoice, once, even when the response is lost", async () => {
		const order = canonicalOrder(`PO-${crypto.randomUUID().slice(0, 8)}`);
		const payload: ChannelFulfillment = {
			channelOrderId: order.channelOrderId,
			shipmentId: "500000777",
			lines: [{ channelLineId: "2", quantity: 6 }],
			tracking: { company: "USPS", number: "9400100000000000000001" },
			notifyCustomer: true,
		};
		await fault("lost-response", 1_500);
		const lost = await relayEdiFulfillment(account, credentials, payload, { timeoutMs: 300, controls, order });
		expect(lost).toMatchObject({ ok: false, retryable: true });
		const retry = await relayEdiFulfillment(account, credentials, payload, { timeoutMs: 5_000, controls, order });
		expect(retry).toMatchObject({ ok: true, value: { duplicate: true, status: 200 } });
		const documents = await gatewayDocuments(order.channelOrderId);
		expect(documents).toHaveLength(1);
		expect(documents[0]).toMatchObject({ attempts: 2, sender: "ZZ/VENDORID", receiver: "ZZ/RETAILERID", usage: "T", control: retry.ok ? retry.value.control : "" });
		expect(documents[0]!.groups.map((g) => `${g.functionalId}:${g.sets.map((s) => s.id)}`)).toEqual(["SH:856", "IN:810"]);
		const ic = independent(documents[0]!.raw);
		expect(query(ic, 'REF02:REF01["CN"]')).toEqual(["9400100000000000000001"]);
		expect(query(ic, "TDS01")).toEqual(["14700"]);
		// A second shipment of the same order is a new document.
		const second = await relayEdiFulfillment(account, credentials, { ...payload, shipmentId: "500000778" }, { timeoutMs: 5_000, controls, order });
		expect(second).toMatchObject({ ok: true, value: { duplicate: false, status: 202 } });
		expect(await gatewayDocuments(order.channelOrderId)).toHaveLength(2);
	});

	it("429 is retryable after Retry-After, 5xx retryable, refusals and a bad token are not", async () => {
		const update = { sku: "WIDGET-BLK", quantity: 3 };
		const options = { timeoutMs: 5_000, controls };
		await fault("429");
		expect(await pushEdiAvailability(account, credentials, update, options)).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 1000 });
		await fault("503");
		expect(await pushEdiAvailability(account, credentials, update, options)).toMatchObject({ ok: false, retryable: true, status: 503 });
		await fault("refuse");
		expect(await pushEdiAvailability(account, credentials, update, options)).toMatchObject({ ok: false, retryable: false, status: 403 });
		const unauthorized = await pushEdiAvailability(account, { token: "wrong" }, update, options);
		expect(unauthorized).toMatchObject({ ok: false, retryable: false, status: 401 });
		expect(!unauthorized.ok && unauthorized.error).toContain("invalid_token");
		const pushed = await pushEdiAvailability(account, credentials, update, options);
		expect(pushed).toMatchObject({ ok: true, value: { duplicate: false } });
	});

	it("the gateway refuses a broken interchange (400) and a reused ISA13 with other content (409)", async () => {
		const broken = await postEdiDocument(account, credentials, purchaseOrder.replace("SE*20*0001", "SE*19*0001"), { timeoutMs: 5_000 });
		expect(broken).toMatchObject({ ok: false, retryable: false, status: 400 });
		expect(!broken.ok && broken.error).toContain("SE01 is \\\"19\\\" but transaction set 0001 has 20 segments");
		const numbers = await controls({ sets: [1] });
		const one = ediInterchange(account, numbers, [{ setId: "846", sets: [build846({ reference: "R1", createdAt: new Date(), items: [{ ids: [["VN", "A"]], quantity: 1 }] })] }]);
		const other = ediInterchange(account, numbers, [{ setId: "846", sets: [build846({ reference: "R2", createdAt: new Date(), items: [{ ids: [["VN", "A"]], quantity: 2 }] })] }]);
		expect(await postEdiDocument(account, credentials, one, { timeoutMs: 5_000 })).toMatchObject({ ok: true, value: { control: numbers.isa, duplicate: false } });
		expect(await postEdiDocument(account, credentials, one, { timeoutMs: 5_000 })).toMatchObject({ ok: true, value: { duplicate: true } });
		expect(await postEdiDocument(account, credentials, other, { timeoutMs: 5_000 })).toMatchObject({ ok: false, retryable: false, status: 409 });
	});

	it("the gateway posts a retailer's 850 with the token; it verifies, parses and is acknowledged", async () => {
		const poNumber = `PO-${crypto.randomUUID().slice(0, 8)}`;
		const response = await sandbox("/sandbox/edi/purchase-order", {
			method: "POST",
			body: JSON.stringify({
				connection: CONNECTION,
				sender: { id: "RETAILERID", gsId: "RETAILERID" },
				receiver: { id: "VENDORID", gsId: "VENDORID" },
				poNumber,
				shipTo: { name: "STORE 9", code: "0009", address1: "1 MAIN ST", city: "AKRON", state: "OH", zip: "44308" },
				lines: [
					{ quantity: 2, price: "9.99", ids: [["UP", "012345678905"]], title: "WIDGET BLACK" },
					{ quantity: 1, price: "24.50", ids: [["VN", "GAD-200"]] },
				],
			}),
		});
		expect(response.status).toBe(200);
		const { callbacks } = (await (await sandbox("/sandbox/callbacks/drain", { method: "POST", body: JSON.stringify({ match: poNumber }) })).json()) as {
			callbacks: Array<{ path: string; headers: Record<string, string>; body: string }>;
		};
		expect(callbacks).toHaveLength(1);
		const delivery = callbacks[0]!;
		expect(delivery.path).toBe(`/webhooks/edi/${CONNECTION}`);
		expect(await verifyEdiWebhook(TOKEN, new Headers(delivery.headers), delivery.body)).toBe(true);
		independent(delivery.body);
		const parsed = parseEdiInterchange(account, delivery.body, CONNECTION);
		expect(parsed.ok && parsed.orders.map((o) => [o.change.order.channelOrderId, o.change.order.lines.map((l) => l.sku), o.change.order.total.amount])).toEqual([
			[poNumber, ["WIDGET-BLK", "GADGET"], 4448],
		]);
		if (!parsed.ok) return;
		const ack = await sendEdiAcknowledgments(account, credentials, parsed.acknowledgments, { timeoutMs: 5_000, controls, key: `997:${parsed.interchange.senderId}:${parsed.interchange.control}` });
		expect(ack).toMatchObject({ ok: true, value: { duplicate: false } });
		const again = await sendEdiAcknowledgments(account, credentials, parsed.acknowledgments, { timeoutMs: 5_000, controls, key: `997:${parsed.interchange.senderId}:${parsed.interchange.control}` });
		expect(again).toMatchObject({ ok: true, value: { duplicate: true } });
		const [stored997] = await gatewayDocuments(`AK1*PO*${Number(parsed.interchange.control)}~`);
		expect(stored997!.groups[0]!.sets[0]!.segments.slice(1, -1)).toEqual([["AK1", "PO", String(Number(parsed.interchange.control))], ["AK2", "850", "0001"], ["AK5", "A"], ["AK9", "A", "1", "1", "1"]]);
	});
});

// ————— helpers —————

function canonicalOrder(poNumber: string): CanonicalOrder {
	const usd = (amount: number) => ({ amount, currency: "USD" });
	const line = (id: string, sku: string, quantity: number, cents: number) => ({ channelLineId: id, sku, title: sku, quantity, unitPrice: usd(cents), discounts: [], taxes: [], requiresShipping: true });
	return {
		connection: CONNECTION,
		channel: "edi",
		channelOrderId: poNumber,
		channelOrderName: poNumber,
		currency: "USD",
		lines: [line("1", "WIDGET-BLK", 12, 999), line("2", "GADGET", 6, 2450)],
		shippingLines: [],
		taxes: [],
		taxesIncluded: false,
		discounts: [],
		subtotal: usd(26688),
		total: usd(26688),
		shipTo: { name: "STORE 1234", address1: "100 MAIN ST", city: "SPRINGFIELD", provinceCode: "IL", zip: "62701", countryCode: "US" },
		financialStatus: "pending",
		fulfillmentStatus: "unfulfilled",
		cancelledAt: null,
		refunds: [],
		createdAt: "2024-03-15T00:00:00.000Z",
		sourceUpdatedAt: "2024-03-15T12:00:00.000Z",
	};
}

function parsedAcks() {
	const parsed = parseEdiInterchange(account, multiGroup, CONNECTION);
	if (!parsed.ok) throw new Error(parsed.error);
	return parsed.acknowledgments;
}

type GatewayDocument = { control: string; sender: string; receiver: string; usage: string; attempts: number; groups: Array<{ functionalId: string; sets: Array<{ id: string; segments: string[][] }> }>; raw: string };
async function gatewayDocuments(match: string): Promise<GatewayDocument[]> {
	const { documents } = (await (await sandbox(`/sandbox/edi/documents?match=${encodeURIComponent(match)}`)).json()) as { documents: GatewayDocument[] };
	return documents;
}

async function stored(control: string): Promise<string> {
	const documents = await gatewayDocuments(`*${control}*`);
	expect(documents).toHaveLength(1);
	return documents[0]!.raw;
}
