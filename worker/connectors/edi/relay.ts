/**
 * ordersync's outbound documents to a trading partner, each one interchange posted to its gateway:
 * 997 for what the partner sent, 855 when an order is accepted, 856 (with the 810 invoice) when a
 * shipment leaves, 846 when availability changes.
 *
 * Control numbers come from the partner's allocator (the lead's Durable Object running
 * `nextControlNumbers`). Documents that must not arrive twice are allocated under a key naming the
 * document, so a retry rebuilds the identical interchange (same ISA13, same times) and the gateway
 * drops it as a duplicate. 846s are not keyed: each push is a new report.
 */
import type { ChannelFulfillment } from "../../model/fulfillment";
import type { CanonicalOrder } from "../../model/order";
import type { CallResult } from "../call";
import { type EdiAccount, type EdiCredentials, isaVersion, itemIdsFor } from "./account";
import { type EdiDelivery, postEdiDocument } from "./client";
import type { ControlAllocator, ControlNumbers } from "./control";
import { type GroupAcknowledgment, type ItemIds, type LineStatus, build810, build846, build855, build856, build997 } from "./documents";
import type { PurchaseOrderDetails } from "./po850";
import { FUNCTIONAL_IDS, type SegmentData, writeX12, x12Stamp } from "./x12";
import { dict } from "../../model/dict";

export type RelayOptions = {
	timeoutMs: number;
	/** Hands out (and persists) the partner's control numbers. */
	controls: ControlAllocator;
};

/** Built-in SCACs for the carrier names 3PLs report; the account's carrierScac adds or overrides. */
const SCAC: Record<string, string> = dict({
	ups: "UPSN",
	"ups ground": "UPSN",
	fedex: "FDEG",
	"fedex ground": "FDEG",
	"fedex express": "FDE",
	usps: "USPS",
	dhl: "DHLC",
	"dhl ecommerce": "DHLC",
	ontrac: "OTRC",
});

/** One interchange from ordersync to the partner: a functional group per entry, its sets in order. */
export function ediInterchange(account: EdiAccount, numbers: ControlNumbers, groups: Array<{ setId: string; sets: SegmentData[][] }>): string {
	if (numbers.gs.length !== groups.length || groups.some((g, i) => numbers.st[i]?.length !== g.sets.length)) {
		throw new RangeError(`control numbers for ${JSON.stringify(numbers.st.map((s) => s.length))} sets do not fit ${JSON.stringify(groups.map((g) => g.sets.length))}`);
	}
	return writeX12({
		sender: { qualifier: account.ourQualifier, id: account.ourId },
		receiver: { qualifier: account.partnerQualifier, id: account.partnerId },
		control: numbers.isa,
		date: new Date(numbers.issuedAt),
		usage: account.usageIndicator,
		version: isaVersion(account),
		newline: account.newline,
		groups: groups.map((group, g) => ({
			functionalId: FUNCTIONAL_IDS[group.setId] ?? fail(`no functional group for transaction set ${group.setId}`),
			senderId: account.ourGsId,
			receiverId: account.partnerGsId,
			control: numbers.gs[g]!,
			version: account.version,
			sets: group.sets.map((segments, s) => ({ id: group.setId, control: numbers.st[g]![s]!, segments })),
		})),
	});
}

/**
 * 997s for what `parseEdiInterchange` read (its `acknowledgments`), one set per group, in one
 * interchange. `key` should name the inbound interchange (e.g. `997:<ISA06>:<ISA13>`) so a re-sent
 * 850 interchange gets the same 997 again.
 */
export async function sendEdiAcknowledgments(
	account: EdiAccount,
	credentials: EdiCredentials,
	acknowledgments: GroupAcknowledgment[],
	options: RelayOptions & { key?: string },
): Promise<CallResult<EdiDelivery>> {
	if (acknowledgments.length === 0) return refused("nothing to acknowledge");
	return deliver(account, credentials, options, { key: options.key, sets: [acknowledgments.length] }, () => [{ setId: "997", sets: acknowledgments.map(build997) }]);
}

/** A line decision for the 855; by default a line with a SKU is accepted in full, one without is rejected. */
export type LineDecision = { channelLineId: string; status: LineStatus; quantity?: number; date?: string };

/**
 * 855 for one version of an order (keyed by order and version, so each version is acknowledged
 * once). `po`, when the lead kept it from the 850, makes PO1 echo the partner's ids, unit and price
 * exactly; otherwise they are rebuilt from the order and the itemMap.
 */
export async function acknowledgeEdiOrder(
	account: EdiAccount,
	credentials: EdiCredentials,
	order: CanonicalOrder,
	options: RelayOptions & { lines?: LineDecision[]; po?: PurchaseOrderDetails },
): Promise<CallResult<EdiDelivery>> {
	if (order.cancelledAt) return refused(`order ${order.channelOrderId} is cancelled; it is not acknowledged`);
	return deliver(account, credentials, options, { key: `855:${order.channelOrderId}:${order.sourceUpdatedAt}`, sets: [1] }, () => {
		const decisions = new Map((options.lines ?? []).map((d) => [d.channelLineId, d]));
		const lines = order.lines.map((line) => {
			const echo = lineEcho(account, order, line.channelLineId, options.po);
			const decision = decisions.get(line.channelLineId);
			const status: LineStatus = decision?.status ?? (line.sku ? "IA" : "IR");
			return { ...echo, quantity: line.quantity, acks: [{ status, quantity: decision?.quantity ?? line.quantity, ...(decision?.date ? { date: decision.date } : {}) }] };
		});
		return [{ setId: "855", sets: [build855({ poNumber: order.channelOrderId, poDate: options.po?.poDate ?? ccyymmdd(order.createdAt), lines })] }];
	});
}

/**
 * 856 ship notice for one shipment, with its 810 invoice in the same interchange unless the account
 * says otherwise. Keyed by order and shipment: a retry after a lost response re-sends the same
 * interchange, which the gateway takes as a duplicate, so the shipment is announced (and billed) once.
 */
export async function relayEdiFulfillment(
	account: EdiAccount,
	credentials: EdiCredentials,
	payload: ChannelFulfillment,
	options: RelayOptions & { order: CanonicalOrder; po?: PurchaseOrderDetails },
): Promise<CallResult<EdiDelivery>> {
	const order = options.order;
	if (order.channelOrderId !== payload.channelOrderId) return refused(`the fulfilment is for ${payload.channelOrderId}, the order given is ${order.channelOrderId}`);
	const missing = payload.lines.find((l) => !order.lines.some((line) => line.channelLineId === l.channelLineId));
	if (missing) return refused(`order ${order.channelOrderId} has no line ${missing.channelLineId}`);
	const groups = account.invoiceWithShipment ? [1, 1] : [1];
	return deliver(account, credentials, options, { key: `856:${order.channelOrderId}:${payload.shipmentId}`, sets: groups }, (numbers) => {
		const issued = new Date(numbers.issuedAt);
		const today = ccyymmdd(numbers.issuedAt);
		const poDate = options.po?.poDate ?? ccyymmdd(order.createdAt);
		const company = payload.tracking.company?.trim();
		const scac = company ? (account.carrierScac[company] ?? SCAC[company.toLowerCase()]) : undefined;
		const shipmentRef = reference(payload.shipmentId, 2, 30);
		const shipped = payload.lines.map((l) => {
			const line = order.lines.find((x) => x.channelLineId === l.channelLineId)!;
			return { line, echo: lineEcho(account, order, l.channelLineId, options.po), quantity: l.quantity };
		});
		const asn = build856({
			shipmentId: shipmentRef,
			createdAt: issued,
			shippedDate: today,
			poNumber: order.channelOrderId,
			poDate,
			...(company || scac ? { carrier: { ...(scac ? { scac } : {}), ...(company ? { name: company } : {}) } } : {}),
			...(payload.tracking.number ? { trackingNumber: payload.tracking.number } : {}),
			...(order.shipTo?.name || options.po?.shipToCode
				? { shipTo: { name: order.shipTo?.name ?? "", ...(options.po?.shipToCode ? { qualifier: options.po.shipToCode.qualifier, id: options.po.shipToCode.id } : {}) } }
				: {}),
			items: shipped.map(({ echo, quantity, line }) => ({ lineNumber: echo.lineNumber, ids: echo.ids, quantity, unit: echo.unit, ordered: line.quantity })),
		});
		const groups: Array<{ setId: string; sets: SegmentData[][] }> = [{ setId: "856", sets: [asn] }];
		if (account.invoiceWithShipment) {
			const invoice = build810({
				invoiceNumber: reference(payload.shipmentId, 1, 22),
				invoiceDate: today,
				poNumber: order.channelOrderId,
				poDate,
				currency: order.currency,
				...(account.vendorNumber ? { vendorNumber: account.vendorNumber } : {}),
				shipDate: today,
				lines: shipped.map(({ echo, quantity, line }) => ({ lineNumber: echo.lineNumber, quantity, unit: echo.unit, unitPrice: echo.unitPrice ?? line.unitPrice, ids: echo.ids })),
			});
			groups.push({ setId: "810", sets: [invoice] });
		}
		return groups;
	});
}

/** 846 with one item: QTY*33, what the partner may sell. Not keyed: a retry is a fresh report. */
export async function pushEdiAvailability(
	account: EdiAccount,
	credentials: EdiCredentials,
	update: { sku: string; quantity: number },
	options: RelayOptions,
): Promise<CallResult<EdiDelivery>> {
	return pushEdiInventory(account, credentials, [update], options);
}

/** 846 with several items in one report. */
export async function pushEdiInventory(
	account: EdiAccount,
	credentials: EdiCredentials,
	updates: Array<{ sku: string; quantity: number }>,
	options: RelayOptions,
): Promise<CallResult<EdiDelivery>> {
	if (updates.length === 0) return refused("no items to report");
	return deliver(account, credentials, options, { sets: [1] }, (numbers) => [
		{
			setId: "846",
			sets: [build846({ reference: `AV${numbers.isa}`, createdAt: new Date(numbers.issuedAt), items: updates.map((u) => ({ ids: itemIdsFor(account, u.sku), quantity: u.quantity })) })],
		},
	]);
}

// ————— shared —————

async function deliver(
	account: EdiAccount,
	credentials: EdiCredentials,
	options: RelayOptions,
	request: { key?: string; sets: number[] },
	build: (numbers: ControlNumbers) => Array<{ setId: string; sets: SegmentData[][] }>,
): Promise<CallResult<EdiDelivery>> {
	let numbers: ControlNumbers;
	try {
		numbers = await options.controls({ sets: request.sets, ...(request.key ? { key: request.key } : {}) });
	} catch (error) {
		return { ok: false, retryable: true, error: `control numbers: ${(error as Error).message}` };
	}
	let interchange: string;
	try {
		interchange = ediInterchange(account, numbers, build(numbers));
	} catch (error) {
		if (error instanceof RangeError) return refused(error.message);
		throw error;
	}
	return postEdiDocument(account, credentials, interchange, { timeoutMs: options.timeoutMs });
}

type Echo = { lineNumber: string; ids: ItemIds; unit: string; unitPrice?: CanonicalOrder["lines"][number]["unitPrice"] };

/** PO1's line number, ids, unit and price as the partner sent them, or rebuilt from the order. */
function lineEcho(account: EdiAccount, order: CanonicalOrder, channelLineId: string, po: PurchaseOrderDetails | undefined): Echo {
	const sent = po?.lines.find((l) => l.lineNumber === channelLineId);
	if (sent) return { lineNumber: sent.lineNumber, ids: sent.ids, unit: sent.unit, unitPrice: sent.unitPrice };
	const line = order.lines.find((l) => l.channelLineId === channelLineId);
	return { lineNumber: channelLineId, ids: itemIdsFor(account, line?.sku ?? null), unit: "EA", ...(line ? { unitPrice: line.unitPrice } : {}) };
}

function ccyymmdd(iso: string): string {
	return x12Stamp(new Date(iso)).ccyymmdd;
}

/** An id as an X12 reference of min..max characters: the last `max` characters, zero-padded to `min`. */
function reference(id: string, min: number, max: number): string {
	return id.slice(-max).padStart(min, "0");
}

function refused(error: string): { ok: false; retryable: false; error: string } {
	return { ok: false, retryable: false, error };
}

function fail(message: string): never {
	throw new RangeError(message);
}
