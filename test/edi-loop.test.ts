import { env } from "cloudflare:workers";
import { X12Parser, X12QueryEngine, type X12Interchange } from "node-x12";
import { describe, expect, it } from "vitest";
import { writeX12 } from "../worker/connectors/edi";
import { call, deliverCallbacks, eventually, ops, sandbox, stock, uniqueSku } from "./helpers";

// A retailer's 850s through its AS2/VAN gateway (the sandbox) into the same objects as every other
// channel's orders, and ordersync's documents back to the gateway: 997 for each group received,
// 855 per PO once its lines are held, 856 + 810 when ShipBob ships, 846 when availability moves.
// Everything ordersync sends is read back from the gateway and parsed with node-x12 (strict).

const CONNECTION = "edi-retailer";
const TOKEN = env.EDI_GATEWAY_TOKEN as string;

type Callback = { key: string; path: string; headers: Record<string, string>; body: string };
type GatewayDocument = {
	control: string;
	sender: string;
	receiver: string;
	attempts: number;
	receivedAt: string;
	groups: Array<{ functionalId: string; control: string; sets: Array<{ id: string; control: string; segments: string[][] }> }>;
	raw: string;
};
type View = {
	status: string | null;
	order: { channel: string; channelOrderName: string; lines: Array<{ channelLineId: string; sku: string | null; quantity: number }> } | null;
	shipments: Array<{ trackingNumber: string | null }>;
	deliveries: Array<{ kind: string; status: string }>;
	events: Array<{ source: string; type: string; outcome: string | null; body: string }>;
};
type PartnerView = {
	controls: { isa: number; gs: number; st: number } | null;
	interchanges: Array<{ control: string; attempts: number; orders: string[] }>;
	receipts: Array<{ groupControl: string; status: string; document: string | null; sets: Array<{ id: string; control: string; status: string; codes: string[] }> }>;
	deliveries: Array<{ id: string; kind: string; status: string }>;
};

const view = async (key: string) => {
	const response = await ops(`/ops/orders/${encodeURIComponent(key)}`);
	return response.status === 404 ? null : ((await response.json()) as View);
};
const partner = async () => (await (await ops(`/ops/partners/${CONNECTION}?limit=500`)).json()) as PartnerView;
const documents = async (match: string, type?: string) =>
	(await sandbox<{ documents: GatewayDocument[] }>(`/sandbox/edi/documents?match=${encodeURIComponent(match)}${type ? `&type=${type}` : ""}`)).documents;
const post = (callback: Pick<Callback, "path" | "headers" | "body">, headers: Record<string, string> = {}) =>
	call(callback.path, { method: "POST", headers: { ...callback.headers, ...headers }, body: callback.body });
/** X12 is text, but application/edi-x12 is not a text/* type: decode it ourselves. */
const x12Text = async (response: Response) => new TextDecoder().decode(await response.arrayBuffer());
const settledAll = (v: View | null) => v !== null && v.deliveries.length > 0 && v.deliveries.every((d) => d.status === "delivered");

/** node-x12 in strict mode: throws on any count or control-number mismatch. */
function strict(raw: string): X12Interchange {
	const parsed = new X12Parser(true).parse(raw);
	expect(parsed.constructor.name).toBe("X12Interchange");
	return parsed as X12Interchange;
}
const query = (ic: X12Interchange, reference: string) => new X12QueryEngine().query(ic, reference).map((r) => r.value);

/** The retailer places POs: the sandbox gateway writes one 850 interchange and queues it for ordersync. */
async function purchaseOrders(orders: Array<{ poNumber: string; lines: Array<{ quantity: number; price: string; unit?: string; ids: Array<[string, string]> }> }>) {
	const shipTo = { name: "STORE 0042", code: "0042", address1: "1 MAIN ST", city: "ALBANY", state: "NY", zip: "12207", country: "US" };
	const placed = await sandbox<{ key: string; control: string; interchange: string }>("/sandbox/edi/purchase-order", {
		json: { connection: CONNECTION, orders: orders.map((o) => ({ ...o, shipTo })) },
	});
	const { callbacks } = await sandbox<{ callbacks: Callback[] }>("/sandbox/callbacks/drain", { json: { match: placed.key } });
	expect(callbacks).toHaveLength(1);
	return { ...placed, callback: callbacks[0]! };
}

describe("EDI trading partner, end to end", () => {
	it("two POs in one interchange: both orders held, routed and accepted by ShipBob; one 997, an 855 per PO; a redelivery changes nothing; shipping sends 856 + 810", async () => {
		const startedAt = new Date().toISOString();
		const vendorSku = uniqueSku("EDI");
		await stock("TEE-BLK-M", 20, "wh-east");
		await stock("CAP-NVY", 20, "wh-east");
		await stock(vendorSku, 5, "wh-east");
		const poA = `PO-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
		const poB = `PO-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
		// Lines by UPC and by our vendor part number (both in the itemMap), and a VN that is the SKU itself.
		const { control, callback } = await purchaseOrders([
			{ poNumber: poA, lines: [{ quantity: 2, price: "24.00", ids: [["UP", "081234500023"]] }, { quantity: 1, price: "28.00", ids: [["VN", "OS-1007"]] }] },
			{ poNumber: poB, lines: [{ quantity: 3, price: "11.50", ids: [["VN", vendorSku]] }] },
		]);
		const group = String(Number(control)); // the sandbox uses its ISA13 as GS06 too

		const wrongToken = await post(callback, { Authorization: "Bearer not-the-token" });
		expect(wrongToken.status).toBe(401);
		const answer = await post(callback);
		expect(answer.status).toBe(200);
		expect(answer.headers.get("Content-Type")).toBe("application/edi-x12");
		expect(answer.headers.get("X-Ordersync-Status")).toBe("stored");
		const answered997 = await x12Text(answer);
		const [keyA, keyB] = [`${CONNECTION}:${poA}`, `${CONNECTION}:${poB}`];
		expect(answer.headers.get("X-Ordersync-Orders")).toBe(`${keyA} ${keyB}`);

		const [a, b] = await Promise.all([keyA, keyB].map((key) => eventually(() => view(key), (v) => v?.status === "accepted" && settledAll(v), 15_000)));
		expect(a!.order).toMatchObject({ channel: "edi", channelOrderName: poA, lines: [{ channelLineId: "1", sku: "TEE-BLK-M", quantity: 2 }, { channelLineId: "2", sku: "CAP-NVY", quantity: 1 }] });
		expect(b!.order).toMatchObject({ lines: [{ sku: vendorSku, quantity: 3 }] });
		expect(a!.deliveries.map((d) => d.kind).sort()).toEqual(["3pl.order", "channel.acknowledge"]);
		// The order keeps its own 850 set as received.
		expect(a!.events.find((e) => e.source === "inbound")!.body).toMatch(new RegExp(`^ST\\*850\\*0001~\\nBEG\\*00\\*SA\\*${poA}\\*`));

		// One 997 at the gateway, the same bytes as the answer: group accepted, both sets accepted.
		const acks = await eventually(() => documents(`AK1*PO*${group}~`, "997"), (d) => d.length === 1);
		expect(acks[0]!.raw).toBe(answered997);
		const ack = strict(acks[0]!.raw);
		expect(query(ack, "AK101")).toEqual(["PO"]);
		expect(query(ack, "AK102")).toEqual([group]);
		expect(query(ack, "AK202")).toEqual(["0001", "0002"]);
		expect(query(ack, "AK501")).toEqual(["A", "A"]);
		expect(query(ack, "AK901")).toEqual(["A"]);

		// An 855 per PO: every line accepted, echoing the ids the retailer sent.
		const ack855 = await Promise.all([poA, poB].map((po) => eventually(() => documents(`BAK*00*AD*${po}*`, "855"), (d) => d.length === 1)));
		const poAck = strict(ack855[0]![0]!.raw);
		expect(query(poAck, "ACK01")).toEqual(["IA", "IA"]);
		expect(query(poAck, 'PO107:PO106["UP"]')).toEqual(["081234500023"]);
		expect(query(poAck, 'PO107:PO106["VN"]')).toEqual(["OS-1007"]);
		expect(query(strict(ack855[1]![0]!.raw), "ACK02")).toEqual(["3"]);

		// The gateway redelivers the interchange: same answer, no new order version, no second 997.
		const again = await post(callback);
		expect(again.status).toBe(200);
		expect(again.headers.get("X-Ordersync-Status")).toBe("duplicate");
		expect(await x12Text(again)).toBe(answered997);
		expect((await view(keyA))!.events.filter((e) => e.source === "inbound")).toHaveLength(1);
		expect(await documents(`AK1*PO*${group}~`, "997")).toEqual([expect.objectContaining({ attempts: 1 })]);
		expect((await partner()).interchanges.find((i) => i.control === control)).toMatchObject({ attempts: 2, orders: [keyA, keyB] });

		// ShipBob ships PO A: an 856 with the carrier and tracking number, and its 810, in one interchange.
		await sandbox("/sandbox/shipbob/ship", { json: { match: keyA } });
		expect(await deliverCallbacks(keyA)).toEqual([200]);
		const shipped = await eventually(() => view(keyA), (v) => v?.status === "fulfilled" && settledAll(v), 15_000);
		const tracking = shipped!.shipments[0]!.trackingNumber!;
		const [asnDocument] = await documents(`PRF*${poA}`, "856");
		expect(asnDocument!.groups.map((g) => `${g.functionalId}:${g.sets.map((s) => s.id)}`)).toEqual(["SH:856", "IN:810"]);
		const asn = strict(asnDocument!.raw);
		expect(query(asn, 'REF02:REF01["CN"]')).toEqual([tracking]);
		expect(query(asn, 'TD503:TD502["2"]')).toEqual(["USPS"]);
		expect(query(asn, "PRF01")).toEqual([poA]);
		expect(query(asn, "HL+S+O+I-SN102")).toEqual(["2", "1"]);
		expect(query(asn, 'LIN03:LIN02["UP"]')).toEqual(["081234500023"]);
		expect(query(asn, "BIG04")).toEqual([poA]);
		expect(query(asn, "IT104")).toEqual(["24.00", "28.00"]);
		expect(query(asn, "TDS01")).toEqual(["7600"]);

		// The partner's 997s for the 855 (accepted) and the 856 (rejected) are recorded against them.
		const [ours855, ours856] = [ack855[0]![0]!, asnDocument!];
		const fa = writeX12({
			sender: { qualifier: "ZZ", id: "RETAILERID" },
			receiver: { qualifier: "ZZ", id: "VENDORID" },
			control: Math.floor(Math.random() * 900_000_000) + 1,
			date: new Date(),
			usage: "T",
			version: "00401",
			groups: [
				{
					functionalId: "FA",
					senderId: "RETAILERID",
					receiverId: "VENDORID",
					control: 1,
					version: "004010",
					sets: [
						{ id: "997", control: 1, segments: [["AK1", "PR", ours855.groups[0]!.control], ["AK2", "855", ours855.groups[0]!.sets[0]!.control], ["AK5", "A"], ["AK9", "A", 1, 1, 1]] },
						{ id: "997", control: 2, segments: [["AK1", "SH", ours856.groups[0]!.control], ["AK2", "856", ours856.groups[0]!.sets[0]!.control], ["AK5", "R", "5"], ["AK9", "R", 1, 1, 0]] },
					],
				},
			],
		});
		const receipt = await call(`/webhooks/edi/${CONNECTION}`, { method: "POST", headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/edi-x12" }, body: fa });
		expect(receipt.status).toBe(200);
		expect(await receipt.json()).toMatchObject({ status: "stored", orders: [], receipts: 2, acknowledgmentInterchange: null });
		const { receipts } = await partner();
		expect(receipts.find((r) => r.groupControl === ours855.groups[0]!.control)).toMatchObject({ status: "A", document: expect.stringMatching(new RegExp(`^855:${poA}:`)) });
		expect(receipts.find((r) => r.groupControl === ours856.groups[0]!.control)).toMatchObject({ status: "R", document: expect.stringMatching(new RegExp(`^856:${poA}:`)), sets: [{ id: "856", status: "R", codes: ["5"] }] });
		const exceptions = (await (await ops("/ops/exceptions")).json()) as { items: Array<{ id: string; reason: string }> };
		expect(exceptions.items.find((e) => e.id === `edi-997:${CONNECTION}:SH:${ours856.groups[0]!.control}`)?.reason).toContain("AK9 R");

		// Every interchange ordersync sent in this test: ISA13, GS06 and ST02 each used once.
		const ours = (await documents("VENDORID")).filter((d) => d.sender === "ZZ/VENDORID" && d.receivedAt >= startedAt);
		expect(ours.length).toBeGreaterThanOrEqual(4); // 997, 855 × 2, 856 + 810 (and 846s)
		const isa = ours.map((d) => d.control);
		const gs = ours.flatMap((d) => d.groups.map((g) => g.control));
		const st = ours.flatMap((d) => d.groups.flatMap((g) => g.sets.map((s) => s.control)));
		expect(new Set(isa).size).toBe(isa.length);
		expect(new Set(gs).size).toBe(gs.length);
		expect(new Set(st).size).toBe(st.length);
		for (const document of ours) strict(document.raw);
	});

	it("the 855 says which lines wait for stock and which ordersync cannot ship", async () => {
		const scarce = uniqueSku("EDI-SCARCE");
		const poNumber = `PO-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
		// No stock of the first line's SKU; the second comes in cases, which the connection does not sell.
		const { callback } = await purchaseOrders([
			{ poNumber, lines: [{ quantity: 2, price: "5.00", ids: [["VN", scarce]] }, { quantity: 1, price: "120.00", unit: "CA", ids: [["UP", "081234500023"]] }] },
		]);
		expect((await post(callback)).status).toBe(200);
		const held = await eventually(() => view(`${CONNECTION}:${poNumber}`), (v) => v?.status === "backordered" && settledAll(v), 15_000);
		expect(held!.order!.lines.map((l) => l.sku)).toEqual([scarce, null]);
		const [poAck] = await eventually(() => documents(`BAK*00*AC*${poNumber}*`, "855"), (d) => d.length === 1);
		const ic = strict(poAck!.raw);
		expect(query(ic, "ACK01")).toEqual(["IB", "IR"]);
		expect(query(ic, "ACK03")).toEqual(["EA", "CA"]);
	});

	it("a malformed interchange is refused with 400 and the reader's error, and nothing is stored", async () => {
		const poNumber = `PO-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
		const { callback, control } = await purchaseOrders([{ poNumber, lines: [{ quantity: 1, price: "24.00", ids: [["UP", "081234500023"]] }] }]);
		const broken = callback.body.replace(/IEA\*1\*(\d{9})~/, "IEA*2*$1~");
		const refused = await post({ ...callback, body: broken });
		expect(refused.status).toBe(400);
		expect(await refused.json()).toEqual({ error: { code: "invalid_interchange", message: expect.stringContaining("IEA01") } });
		expect((await partner()).interchanges.some((i) => i.control === control)).toBe(false);
		expect(await view(`${CONNECTION}:${poNumber}`)).toBeNull();
		expect(await documents(`AK1*PO*${Number(control)}~`, "997")).toEqual([]);
	});

	it("an availability change reaches the retailer as an 846 with the SKU's mapped item ids", async () => {
		const startedAt = new Date().toISOString();
		await stock("TEE-WHT-M", 13, "wh-west");
		const advice = await eventually(
			() => documents("*UP*081234500047*VN*OS-1004~", "846"),
			(d) => d.some((doc) => doc.receivedAt >= startedAt && doc.raw.includes("QTY*33*13*EA~")),
		);
		const ic = strict(advice.find((doc) => doc.receivedAt >= startedAt && doc.raw.includes("QTY*33*13*EA~"))!.raw);
		expect(query(ic, 'LIN03:LIN02["UP"]')).toEqual(["081234500047"]);
		expect(query(ic, 'LIN05:LIN04["VN"]')).toEqual(["OS-1004"]);
		expect(query(ic, 'QTY02:QTY01["33"]')).toEqual(["13"]);

		// The partner's allocator: a keyed document gets the same numbers again, a new one the next.
		const stub = env.TRADING_PARTNER.getByName(CONNECTION);
		const first = await stub.allocate({ key: "test:doc-1", sets: [1, 1] });
		expect(await stub.allocate({ key: "test:doc-1", sets: [1, 1] })).toEqual(first);
		const next = await stub.allocate({ sets: [1] });
		expect(Number(next.isa)).toBeGreaterThan(Number(first.isa));
		expect((await partner()).controls).toMatchObject({ isa: Number(next.isa) });
	});
});
