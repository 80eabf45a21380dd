/**
 * What the retailer's gateway posts to ordersync: one X12 interchange per request, authenticated
 * with the shared bearer token (AS2 signatures and MDNs end at the gateway). Every functional
 * group except a 997 gets a 997 back (`acknowledgments`); 850s become order changes; the partner's
 * own 997s about ordersync's documents come back as `receipts`.
 */
import type { OrderChange } from "../../model/events";
import type { EdiAccount } from "./account";
import type { GroupAcknowledgment, SetAcknowledgment } from "./documents";
import { type PurchaseOrderDetails, normalizeEdi850 } from "./po850";
import { type FunctionalGroup, type Interchange, type X12Issue, formatIssue, readX12 } from "./x12";

export const EDI_CONTENT_TYPE = "application/edi-x12";

const encoder = new TextEncoder();

/**
 * True when the request carries `Authorization: Bearer <secret>`. The token is the only credential
 * the gateway sends, so the body is not signed; both sides are hashed first so the comparison takes
 * the same time whatever the lengths.
 */
export async function verifyEdiWebhook(secret: string, headers: Headers, _rawBody: string): Promise<boolean> {
	const match = /^Bearer ([\x21-\x7e]+)$/.exec(headers.get("Authorization") ?? "");
	if (!match || !secret) return false;
	const [a, b] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(match[1])), crypto.subtle.digest("SHA-256", encoder.encode(secret))]);
	return crypto.subtle.timingSafeEqual(a, b);
}

export type EdiOrderEvent = {
	/** `x12:<ISA06>:<ISA13>:<GS06>:<ST02>`: a re-sent interchange repeats it. */
	eventId: string;
	/** "850", or "850:cancel" for BEG01 01/03. */
	topic: string;
	/** The group's date and time (= the order's sourceUpdatedAt). */
	triggeredAt: string;
	change: Extract<OrderChange, { kind: "order" }>;
	po: PurchaseOrderDetails;
};

/** The partner's 997 about one of ordersync's functional groups. */
export type EdiReceipt = {
	eventId: string;
	/** AK101/AK102: the GS01 and GS06 ordersync sent. */
	functionalId: string;
	groupControl: string;
	/** AK901: A accepted, E accepted with errors, P partially, R rejected. */
	status: string;
	sets: Array<{ id: string; control: string; status: string; codes: string[] }>;
};

export type ParsedEdiInterchange =
	| { ok: false; error: string }
	| {
			ok: true;
			interchange: { senderId: string; receiverId: string; control: string; usage: string; ackRequested: boolean };
			orders: EdiOrderEvent[];
			/** Sets read and accepted but changing nothing (BEG01 06/07/22). */
			ignored: Array<{ eventId: string; reason: string }>;
			/** Sets and groups the 997 rejects, with the reason. */
			rejected: Array<{ eventId: string; error: string }>;
			/** One 997 transaction set per functional group received (none for 997 groups). */
			acknowledgments: GroupAcknowledgment[];
			receipts: EdiReceipt[];
	  };

/**
 * Reads one interchange. An envelope that cannot be trusted (ISA, IEA, addressed to someone else,
 * test data on a production connection) is `ok: false`: answer 400, nothing is acknowledged. A
 * group or set at fault is rejected in its 997 while the others go ahead.
 */
export function parseEdiInterchange(account: EdiAccount, rawBody: string, connection: string): ParsedEdiInterchange {
	const { interchange, issues } = readX12(rawBody);
	const fatal = issues.filter((i) => i.level === "interchange");
	if (!interchange || fatal.length > 0) return { ok: false, error: fatal.map(formatIssue).join("; ") };
	const addressing = checkAddressing(account, interchange);
	if (addressing) return { ok: false, error: addressing };

	const orders: EdiOrderEvent[] = [];
	const ignored: Array<{ eventId: string; reason: string }> = [];
	const rejected: Array<{ eventId: string; error: string }> = [];
	const acknowledgments: GroupAcknowledgment[] = [];
	const receipts: EdiReceipt[] = [];
	const eventId = (group: FunctionalGroup, control: string) => `x12:${interchange.senderId}:${interchange.control}:${group.control}:${control}`;

	for (const group of interchange.groups) {
		if (group.functionalId === "FA") {
			// A 997 is never acknowledged, not even a broken one.
			if (group.issues.length > 0) rejected.push({ eventId: eventId(group, "-"), error: group.issues.map(formatIssue).join("; ") });
			else receipts.push(...readReceipts(group, (control) => eventId(group, control)));
			continue;
		}
		const ack: GroupAcknowledgment = {
			functionalId: group.functionalId,
			control: group.control,
			included: group.declaredSets ?? group.sets.length,
			received: group.sets.length,
			sets: [],
		};
		acknowledgments.push(ack);
		const rejectAll = (codes: string[], error: string) => {
			ack.accepted = false;
			ack.codes = codes;
			for (const set of group.sets) {
				ack.sets.push({ id: set.id, control: set.control, status: "R", ...setCodes(set.issues) });
				rejected.push({ eventId: eventId(group, set.control), error });
			}
			if (group.sets.length === 0) rejected.push({ eventId: eventId(group, "-"), error });
		};
		if (group.issues.length > 0) {
			rejectAll(unique(group.issues.map((i) => i.code)), group.issues.map(formatIssue).join("; "));
			continue;
		}
		if (group.senderId !== account.partnerGsId || group.receiverId !== account.ourGsId) {
			rejectAll([], `segment ${group.position} (GS): group ${group.control} is from ${JSON.stringify(group.senderId)} to ${JSON.stringify(group.receiverId)}; this connection expects GS02 ${JSON.stringify(account.partnerGsId)} and GS03 ${JSON.stringify(account.ourGsId)}`);
			continue;
		}
		if (group.functionalId !== "PO") {
			rejectAll(["1"], `segment ${group.position} (GS): functional group ${group.functionalId} is not supported (ordersync reads 850 purchase orders and 997 acknowledgments; send changes as an 850 with BEG01 05)`);
			continue;
		}
		for (const set of group.sets) {
			const id = eventId(group, set.control);
			const status: SetAcknowledgment = { id: set.id, control: set.control, status: "A" };
			ack.sets.push(status);
			if (set.issues.length > 0) {
				Object.assign(status, { status: "R" }, setCodes(set.issues));
				rejected.push({ eventId: id, error: set.issues.map(formatIssue).join("; ") });
				continue;
			}
			if (set.id !== "850") {
				Object.assign(status, { status: "R", codes: ["1"] });
				rejected.push({ eventId: id, error: `segment ${set.segments[0]!.position} (ST): transaction set ${set.id} is not supported` });
				continue;
			}
			const result = normalizeEdi850(set, group, account, connection);
			if (!result.ok) {
				Object.assign(status, { status: "R", codes: ["5"], segments: [result.segment] });
				rejected.push({ eventId: id, error: result.error });
			} else if ("ignored" in result) {
				ignored.push({ eventId: id, reason: result.ignored });
			} else {
				const cancel = result.order.cancelledAt !== null;
				orders.push({ eventId: id, topic: cancel ? "850:cancel" : "850", triggeredAt: result.order.sourceUpdatedAt, change: { kind: "order", order: result.order }, po: result.po });
			}
		}
	}
	return {
		ok: true,
		interchange: {
			senderId: interchange.senderId,
			receiverId: interchange.receiverId,
			control: interchange.control,
			usage: interchange.usage,
			ackRequested: interchange.ackRequested,
		},
		orders,
		ignored,
		rejected,
		acknowledgments,
		receipts,
	};
}

function checkAddressing(account: EdiAccount, interchange: Interchange): string | null {
	const from = `${interchange.senderQualifier}/${interchange.senderId}`;
	const to = `${interchange.receiverQualifier}/${interchange.receiverId}`;
	if (from !== `${account.partnerQualifier}/${account.partnerId}`) {
		return `segment 1 (ISA): ISA05/ISA06 ${from} is not this connection's partner (${account.partnerQualifier}/${account.partnerId})`;
	}
	if (to !== `${account.ourQualifier}/${account.ourId}`) return `segment 1 (ISA): ISA07/ISA08 ${to} is not ordersync's id on this connection (${account.ourQualifier}/${account.ourId})`;
	if (interchange.usage !== account.usageIndicator) {
		return `segment 1 (ISA): ISA15 is ${interchange.usage} but this connection takes ${account.usageIndicator === "P" ? "production (P)" : "test (T)"} interchanges`;
	}
	return null;
}

function setCodes(issues: X12Issue[]): Pick<SetAcknowledgment, "codes" | "segments"> {
	const codes = unique(issues.map((i) => i.code));
	const segments = issues.flatMap((i) => (i.segment ? [{ tag: i.segment.tag, position: i.segment.position, code: i.segment.code }] : []));
	return { ...(codes.length ? { codes } : {}), ...(segments.length ? { segments } : {}) };
}

function unique(codes: Array<string | undefined>): string[] {
	return [...new Set(codes.filter((c): c is string => Boolean(c)))];
}

/** AK1/AK2/AK5/AK9 of the partner's 997s. */
function readReceipts(group: FunctionalGroup, eventId: (control: string) => string): EdiReceipt[] {
	const receipts: EdiReceipt[] = [];
	for (const set of group.sets) {
		if (set.id !== "997") continue;
		let receipt: EdiReceipt | null = null;
		let current: EdiReceipt["sets"][number] | null = null;
		for (const segment of set.segments) {
			const f = segment.fields;
			if (segment.tag === "AK1") {
				receipt = { eventId: eventId(set.control), functionalId: f[1] ?? "", groupControl: f[2] ?? "", status: "", sets: [] };
				receipts.push(receipt);
			} else if (segment.tag === "AK2" && receipt) {
				current = { id: f[1] ?? "", control: f[2] ?? "", status: "", codes: [] };
				receipt.sets.push(current);
			} else if (segment.tag === "AK5" && current) {
				current.status = f[1] ?? "";
				current.codes = f.slice(2).filter(Boolean);
			} else if (segment.tag === "AK9" && receipt) {
				receipt.status = f[1] ?? "";
			}
		}
	}
	return receipts;
}
