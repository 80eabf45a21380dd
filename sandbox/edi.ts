/**
 * A retailer's AS2/VAN gateway, as ordersync meets it over HTTP, for the tests and the demo.
 *
 * - `POST /edi/documents`: ordersync's outbound interchanges (997, 855, 856+810, 846). The shared
 *   bearer token is checked (401 with `WWW-Authenticate: Bearer error="invalid_token"`, RFC 6750),
 *   the body must be `application/edi-x12` (RFC 1767), and its envelopes must pass the strict X12
 *   reader (400 with the reason otherwise). Interchanges are de-duplicated the way X12 receivers do,
 *   on (ISA05/06, ISA07/08, ISA13): the same interchange again is a 200 "duplicate"; a different
 *   one under a used ISA13 is a 409. New ones: 202 "accepted". Faults (target "edi"): 5xx, 429 with
 *   Retry-After, slow answers, timeouts, lost responses, and "refuse" as a 403 (partner disabled).
 * - Controls: `GET /sandbox/edi/documents` lists what it was sent (parsed), `POST
 *   /sandbox/edi/purchase-order` writes an 850 interchange as the retailer and queues it to
 *   ordersync's `/webhooks/edi/<connection>` with the token (or posts it at once to the demo's
 *   callback target and keeps the 997 it gets back).
 *
 * There is no vendor API to copy here: gateway HTTP interfaces differ per provider, so this one is
 * the simplest that keeps X12's own rules (control numbers, duplicates, 997s).
 */
import { parseX12, readX12, type SegmentData, writeX12 } from "../worker/connectors/edi/x12";
import type { Callbacks } from "./callbacks";
import { type Faults, failAfter, failBefore } from "./faults";

type StoredSet = { id: string; control: string; segments: string[][] };
type Stored = {
	id: number;
	key: string;
	control: string;
	sender: string;
	receiver: string;
	usage: string;
	receivedAt: string;
	/** How many times it was posted (retries included). */
	attempts: number;
	/** "ordersync" for what ordersync posted; "response" for a 997 ordersync answered a posted 850 with. */
	source: "ordersync" | "response";
	groups: Array<{ functionalId: string; control: string; version: string; sets: StoredSet[] }>;
	raw: string;
};

type Party = { qualifier: string; id: string; gsId: string };
type PoLine = { line?: string; quantity: number; unit?: string; price?: string; ids: Array<[string, string]>; title?: string };
type PoSpec = {
	poNumber: string;
	/** BEG01: 00 original (default), 01 cancellation, 05 replace. */
	purpose?: string;
	type?: string;
	/** CCYYMMDD (default today). */
	date?: string;
	currency?: string;
	shipTo?: { name: string; code?: string; address1?: string; city?: string; state?: string; zip?: string; country?: string };
	lines: PoLine[];
};

const RETAILER: Party = { qualifier: "ZZ", id: "RETAILERID", gsId: "RETAILERID" };
const VENDOR: Party = { qualifier: "ZZ", id: "VENDORID", gsId: "VENDORID" };

export class EdiSandbox {
	#token: string;
	#faults: Faults;
	#callbacks: Callbacks;
	#documents: Stored[] = [];
	#byKey = new Map<string, Stored>();
	#nextId = 1;
	/** The retailer's own control numbers for the 850s it sends. */
	#isa = Math.floor(Date.now() / 1000) % 100_000_000;

	constructor(options: { token: string; faults: Faults; callbacks: Callbacks }) {
		this.#token = options.token;
		this.#faults = options.faults;
		this.#callbacks = options.callbacks;
	}

	async fetch(request: Request, url: URL): Promise<Response> {
		if (url.pathname.startsWith("/sandbox/edi/")) return this.#control(request, url);
		// X12 is text, but application/edi-x12 is not a text/* type: decode it ourselves (UTF-8, which covers X12's character sets).
		const raw = request.method === "POST" ? new TextDecoder().decode(await request.arrayBuffer()) : "";
		const fault = this.#faults.pick("edi");
		const early = await failBefore(fault?.kind === "throttle" ? { ...fault, kind: "429" } : fault, {
			error5xx: (status) => Response.json({ error: "gateway_unavailable", message: "The gateway could not take the interchange; try again." }, { status }),
			tooMany: (seconds) => Response.json({ error: "rate_limited", message: `Too many interchanges; retry in ${seconds} s.` }, { status: 429, headers: { "Retry-After": String(seconds) } }),
			refused: () => Response.json({ error: "partner_disabled", message: "The trading partner relationship is not active for this sender." }, { status: 403 }),
		});
		if (early) return early;
		const response = this.#inbox(request, url, raw);
		await failAfter(fault);
		return response;
	}

	#inbox(request: Request, url: URL, raw: string): Response {
		if (url.pathname !== "/edi/documents") return Response.json({ error: "not_found" }, { status: 404 });
		if (request.method !== "POST") return Response.json({ error: "method_not_allowed" }, { status: 405, headers: { Allow: "POST" } });
		if (request.headers.get("Authorization") !== `Bearer ${this.#token}`) {
			return Response.json({ error: "invalid_token", message: "A valid bearer token is required." }, { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="edi-gateway", error="invalid_token"' } });
		}
		const type = (request.headers.get("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
		if (type !== "application/edi-x12") return Response.json({ error: "unsupported_media_type", message: "Send X12 as application/edi-x12." }, { status: 415 });
		const stored = this.#store(raw, "ordersync");
		if ("error" in stored) return Response.json({ error: "invalid_interchange", message: stored.error }, { status: stored.status });
		const body = { status: stored.duplicate ? "duplicate" : "accepted", duplicate: stored.duplicate, interchange: stored.document.control, id: stored.document.id };
		return Response.json(body, { status: stored.duplicate ? 200 : 202 });
	}

	#store(raw: string, source: Stored["source"]): { document: Stored; duplicate: boolean } | { error: string; status: number } {
		const parsed = parseX12(raw);
		if (!parsed.ok) return { error: parsed.error, status: 400 };
		const ic = parsed.interchange;
		const sender = `${ic.senderQualifier}/${ic.senderId}`;
		const receiver = `${ic.receiverQualifier}/${ic.receiverId}`;
		const key = `${sender}>${receiver}#${ic.control}`;
		const known = this.#byKey.get(key);
		if (known) {
			if (known.raw !== raw) return { error: `ISA13 ${ic.control} from ${sender} was already used for a different interchange (received ${known.receivedAt})`, status: 409 };
			known.attempts++;
			return { document: known, duplicate: true };
		}
		const document: Stored = {
			id: this.#nextId++,
			key,
			control: ic.control,
			sender,
			receiver,
			usage: ic.usage,
			receivedAt: new Date().toISOString(),
			attempts: 1,
			source,
			groups: ic.groups.map((g) => ({
				functionalId: g.functionalId,
				control: g.control,
				version: g.version,
				sets: g.sets.map((s) => ({ id: s.id, control: s.control, segments: s.segments.map((segment) => segment.fields) })),
			})),
			raw,
		};
		this.#documents.push(document);
		this.#byKey.set(key, document);
		return { document, duplicate: false };
	}

	async #control(request: Request, url: URL): Promise<Response> {
		switch (`${request.method} ${url.pathname}`) {
			case "GET /sandbox/edi/documents": {
				const type = url.searchParams.get("type");
				const match = url.searchParams.get("match") ?? "";
				const documents = this.#documents.filter((d) => d.raw.includes(match) && (!type || d.groups.some((g) => g.sets.some((s) => s.id === type))));
				return Response.json({ documents });
			}
			case "POST /sandbox/edi/purchase-order":
				return this.#purchaseOrder((await request.json().catch(() => ({}))) as Record<string, unknown>);
			default:
				return Response.json({ error: "not_found" }, { status: 404 });
		}
	}

	/**
	 * Writes an 850 interchange (one set per order in `orders`, or the single order in the body) as
	 * the retailer, or takes `raw` as is, and queues it for ordersync (tests drain it), or with
	 * `deliver: "post"` posts it to the demo's callback target and keeps the 997 answered.
	 */
	async #purchaseOrder(body: Record<string, unknown>): Promise<Response> {
		const connection = typeof body.connection === "string" ? body.connection : "";
		if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(connection)) return Response.json({ error: "connection (ordersync's connection id) is required" }, { status: 400 });
		let interchange: string;
		let key: string;
		if (typeof body.raw === "string") {
			interchange = body.raw;
			key = typeof body.key === "string" ? body.key : `edi-raw:${crypto.randomUUID()}`;
		} else {
			const orders = (Array.isArray(body.orders) ? body.orders : [body]) as PoSpec[];
			if (orders.some((o) => typeof o.poNumber !== "string" || !Array.isArray(o.lines))) return Response.json({ error: "each order needs poNumber and lines" }, { status: 400 });
			const sender = { ...RETAILER, ...(body.sender as Partial<Party> | undefined) };
			const receiver = { ...VENDOR, ...(body.receiver as Partial<Party> | undefined) };
			const date = typeof body.at === "string" ? new Date(body.at) : new Date();
			this.#isa = this.#isa >= 999_999_999 ? 1 : this.#isa + 1;
			try {
				interchange = writeX12({
					sender: { qualifier: sender.qualifier, id: sender.id },
					receiver: { qualifier: receiver.qualifier, id: receiver.id },
					control: this.#isa,
					date,
					usage: body.usage === "P" ? "P" : "T",
					version: "00401",
					newline: true,
					groups: [
						{
							functionalId: "PO",
							senderId: sender.gsId,
							receiverId: receiver.gsId,
							control: this.#isa,
							version: "004010",
							sets: orders.map((order, i) => ({ id: "850", control: i + 1, segments: po850(order, date) })),
						},
					],
				});
			} catch (error) {
				return Response.json({ error: (error as Error).message }, { status: 400 });
			}
			key = orders.map((o) => o.poNumber).join(",");
		}
		const path = `/webhooks/edi/${connection}`;
		const headers = { Authorization: `Bearer ${this.#token}`, "content-type": "application/edi-x12" };
		const control = readX12(interchange).interchange?.control ?? null;
		if (body.deliver !== "post") {
			this.#callbacks.enqueue({ key, path, headers, body: interchange });
			return Response.json({ queued: true, key, path, control, interchange });
		}
		if (!this.#callbacks.target) return Response.json({ error: "no callback target to post to (SANDBOX_CALLBACK_URL)" }, { status: 409 });
		const response = await fetch(`${this.#callbacks.target}${path}`, { method: "POST", headers, body: interchange });
		const answer = await response.text();
		const acknowledgment = answer.startsWith("ISA") ? this.#store(answer, "response") : null;
		return Response.json({ queued: false, key, control, status: response.status, answer, stored: acknowledgment && "document" in acknowledgment ? acknowledgment.document.id : null });
	}
}

/** One 850 set body, the layout of edi.md §2. */
function po850(order: PoSpec, date: Date): SegmentData[] {
	const day = date.toISOString().slice(0, 10).replaceAll("-", "");
	const segments: SegmentData[] = [["BEG", order.purpose ?? "00", order.type ?? "SA", order.poNumber, undefined, order.date ?? day], ["CUR", "BY", order.currency ?? "USD"]];
	if (order.shipTo) {
		const s = order.shipTo;
		segments.push(["N1", "ST", s.name, s.code ? "92" : undefined, s.code]);
		if (s.address1) segments.push(["N3", s.address1]);
		if (s.city) segments.push(["N4", s.city, s.state, s.zip, s.country ?? "US"]);
	}
	for (const [i, line] of order.lines.entries()) {
		segments.push(["PO1", line.line ?? String(i + 1), line.quantity, line.unit ?? "EA", line.price ?? "0", undefined, ...line.ids.flat()]);
		if (line.title) segments.push(["PID", "F", undefined, undefined, undefined, line.title]);
	}
	segments.push(["CTT", order.lines.length, order.lines.reduce((sum, l) => sum + l.quantity, 0)]);
	return segments;
}
