/**
 * A local ShipBob peer, for the tests and the demo. It speaks the part of the documented Orders
 * API ordersync uses (https://developer.shipbob.com/2026-07/api/orders/): bearer Personal Access
 * Token, the `shipbob_channel_id` header, create order with a reference id unique per account
 * (a second one is refused with 422, https://developer.shipbob.com/2026-07/errors.md), get orders
 * by reference id, get one order, cancel; 429 with `x-retry-after`
 * (https://developer.shipbob.com/2026-07/rate-limit.md). A warehouse, on request, labels the open
 * orders and sends `order.shipped` webhooks signed the Standard Webhooks way
 * (https://developer.shipbob.com/experimental/webhooks).
 *
 * Where the docs give a status but no body (401, most 400/422 texts, 5xx), the sandbox answers
 * as ShipBob plausibly does: model-state dictionaries `{ field: [messages] }`, the shape the
 * OpenAPI document declares for 400/422/500 on these endpoints.
 */
import type { Callbacks } from "./callbacks";
import { type Faults, failAfter, failBefore } from "./faults";

type Recipient = {
	name: string;
	address: { address1: string; address2: string | null; company_name: string | null; city: string; state: string | null; country: string; zip_code: string | null };
	email: string | null;
	phone_number: string | null;
};
type Line = { productId: number; inventoryId: number; referenceId: string; name: string; quantity: number };
type Shipment = {
	id: number;
	locationId: number;
	lines: Line[];
	carrier: string;
	carrierService: string;
	trackingNumber: string;
	trackingUrl: string;
	labeledAt: string;
};
type Order = {
	id: number;
	referenceId: string;
	orderNumber: string | null;
	channelId: number;
	locationId: number;
	shippingMethod: string;
	purchaseDate: string | null;
	recipient: Recipient;
	lines: Line[];
	createdAt: number;
	createdDate: string;
	/** The shipment ShipBob opens with the order; it becomes the first labelled one. */
	pendingShipmentId: number;
	cancelledAt: string | null;
	shipments: Shipment[];
	/** Every POST with this reference id, accepted or refused as a duplicate. */
	createAttempts: number;
};
type Errors = Record<string, string[]>;

/** Where ShipBob is told to pick when an order names no location (sandbox choice). */
const DEFAULT_LOCATION = 10;
const CALLBACK_PATH = "/webhooks/shipbob/shipbob";

export class ShipBobSandbox {
	#token: string;
	#secret: string;
	#faults: Faults;
	#callbacks: Callbacks;
	#orders = new Map<number, Order>();
	#byReference = new Map<string, number>();
	#products = new Map<string, { id: number; inventoryId: number; name: string }>();
	#nextOrder = 300_000_001;
	#nextShipment = 500_000_001;
	#nextProduct = 700_000_001;
	#trackingBase = Date.now() * 1000;
	#trackingSeq = 0;
	#key: Promise<CryptoKey> | null = null;

	constructor(options: { token: string; webhookSecret: string; faults: Faults; callbacks: Callbacks }) {
		this.#token = options.token;
		this.#secret = options.webhookSecret;
		this.#faults = options.faults;
		this.#callbacks = options.callbacks;
	}

	async fetch(request: Request, url: URL): Promise<Response> {
		if (url.pathname.startsWith("/sandbox/shipbob/")) return this.#control(request, url);
		const raw = request.method === "GET" ? "" : await request.text(); // read first: a fault answered early must not leave the body unread
		const fault = this.#faults.pick("shipbob");
		const early = await failBefore(fault?.kind === "throttle" ? { ...fault, kind: "429" } : fault, {
			// 5xx: the OpenAPI document gives these endpoints a `{ key: [messages] }` 500 body.
			error5xx: (status) => Response.json({ Server: ["Something went wrong on ShipBob's end."] }, { status }),
			// https://developer.shipbob.com/2026-07/rate-limit.md: body, `x-retry-after`, `x-remaining-calls`.
			tooMany: (seconds) =>
				Response.json(
					{ statusCode: 429, message: `Rate limit is exceeded. Try again in ${seconds} seconds.` },
					{ status: 429, headers: { "x-retry-after": String(seconds), "x-remaining-calls": "0", "Retry-After": String(seconds) } },
				),
			// A validation 400 in the documented `{ field: [messages] }` shape; the wording is ours.
			refused: () => Response.json({ shipping_method: ["The shipping method is not mapped to a ShipBob ship option on this channel."] }, { status: 400 }),
		});
		if (early) return early;
		const response = this.#api(request, url, raw);
		await failAfter(fault);
		return response;
	}

	/**
	 * Demo clock: ships the open orders created more than `afterMs` ago, about a fifth of the
	 * multi-unit ones in two parcels. Signing is asynchronous (WebCrypto), so their webhooks are
	 * queued a moment later and go out with the next pump.
	 */
	shipDue(afterMs: number): number {
		const due = [...this.#orders.values()].filter((o) => this.#isOpen(o) && Date.now() - o.createdAt >= afterMs);
		for (const order of due) void this.#ship(order, units(order.lines) >= 2 && Math.random() < 0.2).sent;
		return due.length;
	}

	#api(request: Request, url: URL, raw: string): Response {
		const match = /^\/shipbob\/([^/]+)\/(.*)$/.exec(url.pathname);
		if (!match || !/^\d{4}-\d{2}$/.test(match[1]!)) return new Response(null, { status: 404 });
		// 401 "No valid API key provided" (errors page); its body is not documented.
		if (request.headers.get("Authorization") !== `Bearer ${this.#token}`) {
			return Response.json({ message: "Authorization has been denied for this request." }, { status: 401 });
		}
		const rest = match[2]!;
		const channelHeader = request.headers.get("shipbob_channel_id");
		if (channelHeader !== null && !/^[1-9]\d*$/.test(channelHeader)) {
			return Response.json({ shipbob_channel_id: [`The value '${channelHeader}' is not valid.`] }, { status: 400 });
		}
		const channelId = channelHeader === null ? null : Number(channelHeader);
		const route = `${request.method} ${rest.replace(/^order\/\d+/, "order/{id}")}`;
		const id = Number(/^order\/(\d+)/.exec(rest)?.[1]);
		switch (route) {
			case "POST order":
				return this.#create(raw, channelId);
			case "GET order":
				return this.#list(url, channelId);
			case "GET order/{id}": {
				const order = this.#orders.get(id);
				return order && (channelId === null || order.channelId === channelId) ? Response.json(this.#view(order)) : new Response(null, { status: 404 });
			}
			case "POST order/{id}:cancel":
				return this.#cancel(id, channelId);
			default:
				return new Response(null, { status: 404 });
		}
	}

	/** POST /{version}/order (https://developer.shipbob.com/2026-07/api/orders/create-order.md). */
	#create(raw: string, channelId: number | null): Response {
		// shipbob_channel_id is "required" for create (create-order.md).
		if (channelId === null) return Response.json({ shipbob_channel_id: ["The shipbob_channel_id field is required."] }, { status: 400 });
		let body: Record<string, unknown>;
		try {
			const parsed: unknown = JSON.parse(raw);
			if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
			body = parsed as Record<string, unknown>;
		} catch {
			return Response.json({ "": ["A non-empty request body is required."] }, { status: 400 });
		}
		const errors: Errors = {};
		const fail = (field: string, message: string) => (errors[field] ??= []).push(message);
		const text = (value: unknown) => (typeof value === "string" && value.trim() !== "" ? value : null);
		const optionalText = (field: string, value: unknown) => {
			if (value !== undefined && value !== null && typeof value !== "string") fail(field, `The ${field} field must be a string.`);
			return typeof value === "string" ? value : null;
		};

		const referenceId = text(body.reference_id);
		if (!referenceId) fail("reference_id", "The reference_id field is required.");
		const shippingMethod = text(body.shipping_method);
		if (!shippingMethod) fail("shipping_method", "The shipping_method field is required.");
		if (!["DTC", "DropShip", "B2B"].includes(body.type as string)) fail("type", "The type field is required and must be one of DTC, DropShip, B2B.");
		const orderNumber = optionalText("order_number", body.order_number);
		const location = body.location_id;
		if (location !== undefined && location !== null && !(Number.isInteger(location) && (location as number) > 0)) fail("location_id", "The location_id field must be a positive integer.");
		const purchaseDate = optionalText("purchase_date", body.purchase_date);
		if (purchaseDate && Number.isNaN(Date.parse(purchaseDate))) fail("purchase_date", "The purchase_date field must be a date.");

		const recipientIn = (typeof body.recipient === "object" && body.recipient) as Record<string, unknown> | false;
		const addressIn = (recipientIn && typeof recipientIn.address === "object" && recipientIn.address) as Record<string, unknown> | false;
		if (!recipientIn) fail("recipient", "The recipient field is required.");
		else if (!text(recipientIn.name)) fail("recipient.name", "The name field is required.");
		if (recipientIn && !addressIn) fail("recipient.address", "The address field is required.");
		if (addressIn) {
			for (const field of ["address1", "city", "country"]) if (!text(addressIn[field])) fail(`recipient.address.${field}`, `The ${field} field is required.`);
		}

		const productsIn = Array.isArray(body.products) ? (body.products as unknown[]) : null;
		if (!productsIn || productsIn.length === 0) fail("products", "The products field is required.");
		const lines: Array<{ referenceId: string; name: string | null; quantity: number }> = [];
		for (const [i, item] of (productsIn ?? []).entries()) {
			const product = (typeof item === "object" && item) as Record<string, unknown> | false;
			const ref = product && text(product.reference_id);
			if (!product || !ref) {
				fail(`products[${i}].reference_id`, "The reference_id field is required (this sandbox does not take product ids).");
				continue;
			}
			const quantity = product.quantity;
			if (!(Number.isInteger(quantity) && (quantity as number) > 0)) fail(`products[${i}].quantity`, "The quantity field must be a positive integer.");
			// "Products identified by reference_id must also include the product name if there is no matching ShipBob product."
			const name = text(product.name);
			if (!name && !this.#products.has(ref)) fail(`products[${i}].name`, "The name field is required when no product has this reference_id.");
			lines.push({ referenceId: ref, name, quantity: quantity as number });
		}
		if (Object.keys(errors).length > 0) return Response.json(errors, { status: 400 });

		const existing = this.#byReference.get(referenceId!);
		if (existing !== undefined) {
			const order = this.#orders.get(existing)!;
			order.createAttempts++;
			// "422 Duplicate reference ID: You have already created a product or order with the same reference_id" (errors page); wording ours.
			return Response.json({ reference_id: [`An order with reference_id '${referenceId}' already exists (order ${order.id}).`] }, { status: 422 });
		}
		const now = new Date();
		const order: Order = {
			id: this.#nextOrder++,
			referenceId: referenceId!,
			orderNumber,
			channelId,
			locationId: (location as number | null | undefined) ?? DEFAULT_LOCATION,
			shippingMethod: shippingMethod!,
			purchaseDate,
			recipient: {
				name: text(recipientIn && recipientIn.name)!,
				address: {
					address1: text(addressIn && addressIn.address1)!,
					address2: (addressIn && (addressIn.address2 as string | null)) || null,
					company_name: (addressIn && (addressIn.company_name as string | null)) || null,
					city: text(addressIn && addressIn.city)!,
					state: (addressIn && (addressIn.state as string | null)) || null,
					country: text(addressIn && addressIn.country)!,
					zip_code: (addressIn && (addressIn.zip_code as string | null)) || null,
				},
				email: (recipientIn && (recipientIn.email as string | null)) || null,
				phone_number: (recipientIn && (recipientIn.phone_number as string | null)) || null,
			},
			lines: lines.map((line) => {
				// ShipBob creates a product on first sight of a reference id.
				let product = this.#products.get(line.referenceId);
				if (!product) {
					product = { id: this.#nextProduct++, inventoryId: this.#nextProduct++, name: line.name! };
					this.#products.set(line.referenceId, product);
				}
				return { productId: product.id, inventoryId: product.inventoryId, referenceId: line.referenceId, name: line.name ?? product.name, quantity: line.quantity };
			}),
			createdAt: now.getTime(),
			createdDate: now.toISOString(),
			pendingShipmentId: this.#nextShipment++,
			cancelledAt: null,
			shipments: [],
			createAttempts: 1,
		};
		this.#orders.set(order.id, order);
		this.#byReference.set(order.referenceId, order.id);
		return Response.json(this.#view(order), { status: 201 });
	}

	/** GET /{version}/order (https://developer.shipbob.com/2026-07/api/orders/get-orders.md): a plain array, newest first. */
	#list(url: URL, channelId: number | null): Response {
		const split = (name: string) => url.searchParams.get(name)?.split(",").map((s) => s.trim()).filter(Boolean) ?? null;
		const references = split("ReferenceIds");
		const ids = split("IDs")?.map(Number) ?? null;
		const page = Math.max(1, Number(url.searchParams.get("Page") ?? 1) || 1);
		const limit = Math.min(250, Math.max(1, Number(url.searchParams.get("Limit") ?? 50) || 50));
		const all = [...this.#orders.values()]
			.filter((o) => (channelId === null || o.channelId === channelId) && (!references || references.includes(o.referenceId)) && (!ids || ids.includes(o.id)))
			.sort((a, b) => b.id - a.id);
		return Response.json(all.slice((page - 1) * limit, page * limit).map((o) => this.#view(o)), { headers: { "total-count": String(all.length), "page-number": String(page) } });
	}

	/** POST /{version}/order/{orderId}:cancel (https://developer.shipbob.com/2026-01/api/orders/cancel-order.md). */
	#cancel(id: number, channelId: number | null): Response {
		if (channelId === null) return Response.json({ shipbob_channel_id: ["The shipbob_channel_id field is required."] }, { status: 400 });
		const order = this.#orders.get(id);
		if (!order || order.channelId !== channelId) return new Response(null, { status: 404 });
		if (order.cancelledAt) {
			// "The order must be in a cancellable state" (cancel-order.md); wording ours.
			return Response.json({ Order: [`Order ${id} is already cancelled.`] }, { status: 422 });
		}
		if (order.shipments.length > 0) {
			return Response.json({
				order_id: order.id,
				status: "Failure",
				canceled_shipment_results: order.shipments.map((s) => ({ action: "Cancel", is_success: false, reason: "Shipment has already been labeled.", shipment_id: s.id })),
				order: this.#view(order),
			});
		}
		order.cancelledAt = new Date().toISOString();
		return Response.json({
			order_id: order.id,
			status: "Success",
			canceled_shipment_results: [{ action: "Cancel", is_success: true, reason: null, shipment_id: order.pendingShipmentId }],
			order: this.#view(order),
		});
	}

	/** Labels the order's units in one parcel, or (split) a partial parcel and then the rest, and sends one signed order.shipped per parcel. */
	#ship(order: Order, split: boolean): { shipments: Shipment[]; sent: Promise<void> } {
		const parts = split && units(order.lines) >= 2 ? splitLines(order.lines) : [order.lines];
		const shipped = parts.map((lines, i) => {
			const number = `9400${String(this.#trackingBase + ++this.#trackingSeq).padStart(18, "0")}`;
			const shipment: Shipment = {
				id: i === 0 ? order.pendingShipmentId : this.#nextShipment++,
				locationId: order.locationId,
				lines,
				carrier: "USPS",
				carrierService: "Ground Advantage",
				trackingNumber: number,
				trackingUrl: `https://tools.usps.com/go/TrackConfirmAction?tLabels=${number}`,
				labeledAt: new Date().toISOString(),
			};
			order.shipments.push(shipment);
			return shipment;
		});
		// Queued in parcel order: the partial one first.
		const sent = shipped.reduce((previous, shipment) => previous.then(() => this.#notify(order, shipment)), Promise.resolve());
		return { shipments: shipped, sent };
	}

	/**
	 * order.shipped carries the order (Orders.OrderViewModel); for a split order this peer sends one
	 * delivery per parcel, each listing the parcel just labelled (docs silent on partial parcels).
	 */
	async #notify(order: Order, shipment: Shipment): Promise<void> {
		const body = JSON.stringify({ ...this.#view(order), shipments: [this.#shipmentView(order, shipment)] });
		const id = `msg_${crypto.randomUUID().replaceAll("-", "")}`;
		const timestamp = Math.floor(Date.now() / 1000);
		this.#key ??= importSecret(this.#secret);
		const mac = await crypto.subtle.sign("HMAC", await this.#key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
		this.#callbacks.enqueue({
			key: order.referenceId,
			path: CALLBACK_PATH,
			headers: {
				"content-type": "application/json",
				"webhook-id": id,
				"webhook-timestamp": String(timestamp),
				"webhook-signature": `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`,
				"x-webhook-topic": "order.shipped",
			},
			body,
		});
	}

	#isOpen(order: Order): boolean {
		return !order.cancelledAt && order.shipments.length === 0;
	}

	/** Orders.OrderViewModel (https://developer.shipbob.com/2026-07/api/orders/get-order.md), without money fields. */
	#view(order: Order) {
		const shipped = units(order.shipments.flatMap((s) => s.lines));
		const status = order.cancelledAt ? "Cancelled" : shipped === 0 ? "Processing" : shipped < units(order.lines) ? "PartiallyFulfilled" : "Fulfilled";
		const pending =
			order.shipments.length === 0
				? [{ ...this.#pendingView(order), status: order.cancelledAt ? "Cancelled" : "Processing" }]
				: [];
		return {
			id: order.id,
			created_date: order.createdDate,
			purchase_date: order.purchaseDate,
			reference_id: order.referenceId,
			order_number: order.orderNumber ?? order.referenceId,
			status,
			type: "DTC",
			channel: { id: order.channelId, name: "ordersync" },
			shipping_method: order.shippingMethod,
			recipient: order.recipient,
			products: order.lines.map((l) => ({ id: l.productId, reference_id: l.referenceId, sku: l.referenceId, quantity: l.quantity, external_line_id: null, gtin: null, upc: null })),
			tags: [],
			shipments: [...order.shipments.map((s) => this.#shipmentView(order, s)), ...pending],
		};
	}

	#pendingView(order: Order) {
		return {
			id: order.pendingShipmentId,
			order_id: order.id,
			reference_id: order.referenceId,
			recipient: { ...order.recipient, full_name: order.recipient.name },
			created_date: order.createdDate,
			last_update_at: order.cancelledAt ?? order.createdDate,
			last_tracking_update_at: null,
			status_details: [],
			location: { id: order.locationId, name: locationName(order.locationId) },
			tracking: null,
			products: productViews(order.lines),
			actual_fulfillment_date: null,
			delivery_date: null,
			is_tracking_uploaded: false,
			require_signature: false,
			ship_option: order.shippingMethod,
		};
	}

	/** Orders.ShipmentViewModel for a labelled parcel. */
	#shipmentView(order: Order, shipment: Shipment) {
		return {
			...this.#pendingView(order),
			id: shipment.id,
			status: "LabeledCreated",
			last_update_at: shipment.labeledAt,
			last_tracking_update_at: shipment.labeledAt,
			location: { id: shipment.locationId, name: locationName(shipment.locationId) },
			tracking: {
				carrier: shipment.carrier,
				carrier_service: shipment.carrierService,
				tracking_number: shipment.trackingNumber,
				tracking_url: shipment.trackingUrl,
				shipping_date: shipment.labeledAt,
				bol: null,
				pro_number: null,
				scac: null,
			},
			products: productViews(shipment.lines),
			actual_fulfillment_date: shipment.labeledAt,
			measurements: { depth_in: 4, length_in: 10, width_in: 8, total_weight_oz: 16 * units(shipment.lines) },
			package_material_type: "Box",
		};
	}

	/** Test and demo controls, no auth: ship on demand, read what ShipBob holds. */
	async #control(request: Request, url: URL): Promise<Response> {
		switch (`${request.method} ${url.pathname}`) {
			case "POST /sandbox/shipbob/ship": {
				const { match = "", split = false } = (await request.json().catch(() => ({}))) as { match?: string; split?: boolean };
				const open = [...this.#orders.values()].filter((o) => this.#isOpen(o) && o.referenceId.includes(match));
				const runs = open.map((order) => ({ order, run: this.#ship(order, split) }));
				await Promise.all(runs.map(({ run }) => run.sent)); // the webhooks are queued before the answer
				const shipped = runs.map(({ order, run }) => ({
					referenceId: order.referenceId,
					shipments: run.shipments.map((s) => ({ id: s.id, trackingNumber: s.trackingNumber, carrier: s.carrier, products: s.lines.map((l) => ({ sku: l.referenceId, quantity: l.quantity })) })),
				}));
				return Response.json({ shipped });
			}
			case "GET /sandbox/shipbob/orders": {
				const match = url.searchParams.get("match") ?? "";
				const orders = [...this.#orders.values()]
					.filter((o) => o.referenceId.includes(match))
					.map((o) => ({
						id: o.id,
						referenceId: o.referenceId,
						locationId: o.locationId,
						products: o.lines.map((l) => ({ sku: l.referenceId, name: l.name, quantity: l.quantity })),
						createAttempts: o.createAttempts,
						/** When the create request arrived (ms since the epoch, this process's clock). */
						createdAt: o.createdAt,
						cancelled: o.cancelledAt !== null,
						shipments: o.shipments.map((s) => ({ id: s.id, trackingNumber: s.trackingNumber, carrier: s.carrier, products: s.lines.map((l) => ({ sku: l.referenceId, quantity: l.quantity })) })),
					}));
				return Response.json({ orders });
			}
			default:
				return Response.json({ errors: "Not Found" }, { status: 404 });
		}
	}
}

function units(lines: Line[]): number {
	return lines.reduce((sum, line) => sum + line.quantity, 0);
}

/** The first floor(n/2) units in order, then the rest. */
function splitLines(lines: Line[]): [Line[], Line[]] {
	let left = Math.floor(units(lines) / 2);
	const first: Line[] = [];
	const rest: Line[] = [];
	for (const line of lines) {
		const take = Math.min(left, line.quantity);
		left -= take;
		if (take > 0) first.push({ ...line, quantity: take });
		if (line.quantity - take > 0) rest.push({ ...line, quantity: line.quantity - take });
	}
	return [first, rest];
}

function productViews(lines: Line[]) {
	return lines.map((l) => ({
		id: l.productId,
		reference_id: l.referenceId,
		sku: l.referenceId,
		name: l.name,
		inventory_items: [{ id: l.inventoryId, name: l.name, quantity: l.quantity, quantity_committed: l.quantity, lot: null, expiration_date: null, serial_numbers: [], is_dangerous_goods: false }],
	}));
}

function locationName(id: number): string {
	return `Sandbox FC ${id}`;
}

/** Standard Webhooks: the key is the base64 after `whsec_` (done here by hand, independently of ordersync's verifier). */
function importSecret(secret: string): Promise<CryptoKey> {
	const encoded = secret.replace(/^whsec_/, "");
	const binary = atob(encoded.padEnd(Math.ceil(encoded.length / 4) * 4, "="));
	const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
	return crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}
