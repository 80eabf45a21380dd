/**
 * A local WooCommerce store, for the tests and the demo. It speaks the part of the REST API v3
 * ordersync uses (https://woocommerce.github.io/woocommerce-rest-api-docs/, the
 * woocommerce/woocommerce-rest-api-docs repo's wp-api-v3/*.md): orders (read, status update),
 * order notes, products found by SKU (variations included) and their stock, products and a
 * variable product's variations listed page by page (X-WP-TotalPages, `_fields`), and the Shipment
 * Tracking extension's endpoints. It sends webhooks the way WC_Webhook::deliver() does: the REST
 * resource as PHP's json_encode writes it (`\/`, `\uXXXX`), X-WC-Webhook-* headers, a base64
 * HMAC-SHA256 signature, and a delivery id derived from the webhook id and the current second.
 *
 * Auth follows WC_REST_Authentication: `consumer_key`/`consumer_secret` in the query string, else
 * HTTP Basic. A known key with a wrong secret is refused with 401 woocommerce_rest_authentication_error
 * "Consumer secret is invalid."; an unknown key or none leaves the request anonymous, and the
 * endpoint's permission check refuses it with 401 woocommerce_rest_cannot_view / _create / _edit.
 * The sandbox stands for an HTTPS store, so it takes Basic auth on its plain-HTTP address.
 *
 * WooCommerce has no rate limit of its own on wc/v3; the 429 and 503 faults answer as a host or
 * CDN in front of it does (HTML, Retry-After), the 500 as WordPress's fatal-error handler does.
 */
import type { Callbacks } from "./callbacks";
import { type FaultKind, type Faults, type Firing, failAfter, failBefore } from "./faults";

type Json = Record<string, unknown>;
type Note = { id: number; author: string; date_created: string; date_created_gmt: string; note: string; customer_note: boolean };
type TrackingItem = { tracking_id: string; tracking_provider: string; tracking_link: string; tracking_number: string; date_shipped: string };
type StoredOrder = {
	resource: Json;
	notes: Note[];
	trackings: TrackingItem[];
	statusChanges: Array<{ from: string; to: string; at: string }>;
};
type Product = {
	id: number;
	parent_id: number;
	type: "simple" | "variable" | "variation";
	name: string;
	sku: string;
	manage_stock: boolean;
	stock_quantity: number | null;
	stock_status: "instock" | "outofstock";
	date_modified_gmt: string;
	/** PUTs that reached this product or variation. */
	writes: number;
};
type Call = { seq: number; method: string; path: string; query: string; status: number; auth: "basic" | "query" | "none"; fault?: FaultKind };
type RouteFault = { method?: string; path?: string; kind: FaultKind; ms?: number; retryAfterSeconds?: number; remaining: number };

const STORE_URL = "https://woo-sandbox.example";
const USER_AGENT = "WooCommerce/9.9.3 Hookshot (WordPress/6.8.1)";
/** Core's order statuses (wc_get_order_statuses) plus the Blocks checkout's draft; what a REST status update may set. */
const STATUSES = ["pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "checkout-draft"];
const LABELS: Record<string, string> = {
	pending: "Pending payment", processing: "Processing", "on-hold": "On hold", completed: "Completed",
	cancelled: "Cancelled", refunded: "Refunded", failed: "Failed", "checkout-draft": "Draft", trash: "Trash",
};

/** A few of the Shipment Tracking extension's predefined providers, grouped by region as its providers endpoint does. */
const PROVIDERS: Record<string, Record<string, string>> = {
	"United States": {
		Fedex: "https://www.fedex.com/apps/fedextrack/?action=track&tracknumbers=%1$s",
		UPS: "https://www.ups.com/track?loc=en_US&tracknum=%1$s",
		USPS: "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=%1$s",
		"DHL US": "https://www.logistics.dhl/us-en/home/tracking/tracking-ecommerce.html?tracking-id=%1$s",
	},
	"United Kingdom": {
		"Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/%1$s",
		DPD: "https://track.dpd.co.uk/parcels/%1$s",
	},
};

/** The WP REST error shape every endpoint answers with. */
function restError(code: string, message: string, status: number, extra: Json = {}): Response {
	return Response.json({ code, message, data: { status, ...extra } }, { status });
}

const noRoute = () => restError("rest_no_route", "No route was found matching the URL and request method.", 404);

/** `YYYY-MM-DDTHH:MM:SS`, no zone: how WooCommerce writes dates (this store's timezone is UTC). */
function wooTime(ms = Date.now()): string {
	return new Date(ms).toISOString().slice(0, 19);
}

/** PHP json_encode with default flags: `/` escaped as `\/`, non-ASCII as `\uXXXX`. */
export function phpJson(value: unknown): string {
	return JSON.stringify(value)
		.replace(/\//g, "\\/")
		.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export class WooCommerceSandbox {
	#key: string;
	#secret: string;
	#webhookSecret: string;
	#faults: Faults;
	#callbacks: Callbacks;
	#orders = new Map<number, StoredOrder>();
	#products = new Map<number, Product>();
	#calls: Call[] = [];
	#routeFaults: RouteFault[] = [];
	#nextOrder = 5001;
	/** Test knob: before the n-th order list from now, the merchant edits this order (it leaves the window being read). */
	#touch: { onCall: number; orderId: number } | null = null;
	#listCalls = 0;
	#nextProduct = 9001;
	#nextNote = 70001;
	#callSeq = 0;
	#hmac: Promise<CryptoKey> | null = null;

	constructor(options: { consumerKey: string; consumerSecret: string; webhookSecret: string; faults: Faults; callbacks: Callbacks }) {
		this.#key = options.consumerKey;
		this.#secret = options.consumerSecret;
		this.#webhookSecret = options.webhookSecret;
		this.#faults = options.faults;
		this.#callbacks = options.callbacks;
	}

	async fetch(request: Request, url: URL): Promise<Response> {
		if (url.pathname.startsWith("/sandbox/woocommerce/")) return this.#control(request, url);
		const raw = request.method === "GET" ? "" : await request.text(); // read first: a fault answered early must not leave the body unread
		const path = url.pathname.replace(/^\/woocommerce/, "");
		const call: Call = { seq: ++this.#callSeq, method: request.method, path, query: url.search, status: 0, auth: "none" };
		this.#calls.push(call);
		if (this.#calls.length > 5000) this.#calls.splice(0, 1000);

		const fault = this.#routeFault(request.method, path) ?? this.#faults.pick("woocommerce");
		if (fault) call.fault = fault.kind;
		const early = await failBefore(fault?.kind === "throttle" ? { ...fault, kind: "429" } : fault, {
			// WordPress's fatal-error handler answers REST requests with this JSON; a host's 503/504 is a bare page.
			error5xx: (status) =>
				status === 500
					? Response.json(
							{ code: "internal_server_error", message: "<p>There has been a critical error on this website.</p>", data: { status: 500 }, additional_errors: [] },
							{ status },
						)
					: new Response(`<html><head><title>${status} Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>`, {
							status,
							headers: { "Content-Type": "text/html" },
						}),
			// A CDN or WAF in front of the store; WooCommerce has no limiter on wc/v3.
			tooMany: (seconds) =>
				new Response("<html><head><title>429 Too Many Requests</title></head><body><h1>Too Many Requests</h1></body></html>", {
					status: 429,
					headers: { "Content-Type": "text/html", "Retry-After": String(seconds) },
				}),
			// A read-only key asked to write (WC_REST_Authentication::check_permissions).
			refused: () => restError("woocommerce_rest_authentication_error", "The API key provided does not have write permissions.", 401),
		});
		if (early) {
			call.status = early.status;
			return early;
		}
		const response = await this.#api(request, url, path, raw, call);
		call.status = response.status;
		await failAfter(fault);
		return response;
	}

	#routeFault(method: string, path: string): Firing | null {
		const index = this.#routeFaults.findIndex((f) => (!f.method || f.method === method) && (!f.path || new RegExp(f.path).test(path)));
		if (index < 0) return null;
		const fault = this.#routeFaults[index]!;
		if (--fault.remaining <= 0) this.#routeFaults.splice(index, 1);
		return { kind: fault.kind, ms: fault.ms, retryAfterSeconds: fault.retryAfterSeconds };
	}

	// ---- API ----------------------------------------------------------------------------------

	async #api(request: Request, url: URL, path: string, raw: string, call: Call): Promise<Response> {
		const method = request.method === "PATCH" ? "PUT" : request.method;
		const route = path
			.replace(/^\/wp-json/, "")
			.replace(/\/orders\/\d+/, "/orders/{id}")
			.replace(/\/products\/\d+\/variations\/\d+$/, "/products/{id}/variations/{vid}")
			.replace(/\/products\/\d+\/variations$/, "/products/{id}/variations")
			.replace(/\/products\/\d+$/, "/products/{id}");
		const ids = [...path.matchAll(/\/(\d+)/g)].map((m) => Number(m[1]));
		const key = `${method} ${route}`;

		// The providers list is public (it carries nothing of the store's).
		if (key === "GET /wc-shipment-tracking/v3/shipment-trackings/providers") return Response.json(PROVIDERS);

		const known = [
			"GET /wc/v3/orders", "GET /wc/v3/orders/{id}", "PUT /wc/v3/orders/{id}", "POST /wc/v3/orders/{id}",
			"GET /wc/v3/orders/{id}/notes", "POST /wc/v3/orders/{id}/notes",
			"GET /wc/v3/products", "GET /wc/v3/products/{id}", "PUT /wc/v3/products/{id}", "POST /wc/v3/products/{id}",
			"GET /wc/v3/products/{id}/variations", "PUT /wc/v3/products/{id}/variations/{vid}", "POST /wc/v3/products/{id}/variations/{vid}",
			"GET /wc-shipment-tracking/v3/orders/{id}/shipment-trackings", "POST /wc-shipment-tracking/v3/orders/{id}/shipment-trackings",
		];
		if (!known.includes(key)) return noRoute();

		const auth = this.#authenticate(request, url, call);
		if (auth === "bad-secret") return restError("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401);
		if (auth === "anonymous") {
			// The permission callbacks' answers for a visitor (rest_authorization_required_code() is 401).
			if (method === "GET") {
				return route.endsWith("{id}") || route.endsWith("{vid}")
					? restError("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.", 401)
					: restError("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401);
			}
			return route.endsWith("/notes") || route.endsWith("/shipment-trackings")
				? restError("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.", 401)
				: restError("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.", 401);
		}

		let body: Json = {};
		if (raw) {
			try {
				const parsed: unknown = JSON.parse(raw);
				if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
				body = parsed as Json;
			} catch {
				return restError("rest_invalid_json", "Invalid JSON body passed.", 400);
			}
		}

		switch (key) {
			case "GET /wc/v3/orders":
				return this.#listOrders(url);
			case "GET /wc/v3/orders/{id}": {
				const order = this.#orders.get(ids[0]!);
				if (!order) return restError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404);
				return Response.json(fields(order.resource, url));
			}
			case "PUT /wc/v3/orders/{id}":
			case "POST /wc/v3/orders/{id}":
				return this.#updateOrder(ids[0]!, body, url);
			case "GET /wc/v3/orders/{id}/notes": {
				const order = this.#orders.get(ids[0]!);
				if (!order) return restError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404);
				const type = url.searchParams.get("type") ?? "any";
				const notes = order.notes.filter((n) => type === "any" || (type === "customer") === n.customer_note);
				return Response.json([...notes].reverse().map((n) => this.#noteView(ids[0]!, n)));
			}
			case "POST /wc/v3/orders/{id}/notes":
				return this.#addNote(ids[0]!, body);
			case "GET /wc/v3/products":
				return this.#listProducts(url);
			case "GET /wc/v3/products/{id}": {
				const product = this.#products.get(ids[0]!);
				if (!product || product.type === "variation") return restError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404);
				return Response.json(this.#productView(product));
			}
			case "PUT /wc/v3/products/{id}":
			case "POST /wc/v3/products/{id}": {
				// Variations are edited through /products/<parent>/variations/<id> (docs, "Update a product variation").
				const product = this.#products.get(ids[0]!);
				if (!product || product.type === "variation") return restError("woocommerce_rest_product_invalid_id", "Invalid ID.", 400);
				return this.#updateStock(product, body);
			}
			case "GET /wc/v3/products/{id}/variations": {
				const parent = this.#products.get(ids[0]!);
				if (!parent || parent.type === "variation") return restError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404);
				return this.#listVariations(parent, url);
			}
			case "PUT /wc/v3/products/{id}/variations/{vid}":
			case "POST /wc/v3/products/{id}/variations/{vid}": {
				const variation = this.#products.get(ids[1]!);
				if (!variation || variation.type !== "variation" || variation.parent_id !== ids[0]) {
					return restError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 400);
				}
				return this.#updateStock(variation, body);
			}
			case "GET /wc-shipment-tracking/v3/orders/{id}/shipment-trackings": {
				const order = this.#orders.get(ids[0]!);
				if (!order) return restError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404);
				return Response.json(order.trackings);
			}
			case "POST /wc-shipment-tracking/v3/orders/{id}/shipment-trackings":
				return this.#addTracking(ids[0]!, body);
		}
		return noRoute();
	}

	/** WC_REST_Authentication::perform_basic_authentication: query parameters first, then the Authorization header. */
	#authenticate(request: Request, url: URL, call: Call): "ok" | "bad-secret" | "anonymous" {
		let key = url.searchParams.get("consumer_key");
		let secret = url.searchParams.get("consumer_secret");
		if (key && secret) call.auth = "query";
		else {
			key = secret = null;
			const header = request.headers.get("Authorization") ?? "";
			const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim());
			if (match) {
				try {
					const decoded = atob(match[1]!);
					const colon = decoded.indexOf(":");
					if (colon > 0) [key, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
				} catch {
					// not base64: no credentials
				}
			}
			if (key && secret) call.auth = "basic";
		}
		if (!key || !secret || key !== this.#key) return "anonymous";
		return secret === this.#secret ? "ok" : "bad-secret";
	}

	#updateOrder(id: number, body: Json, url: URL): Response {
		const order = this.#orders.get(id);
		if (!order) return restError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 400);
		if (body.status !== undefined) {
			if (typeof body.status !== "string" || !STATUSES.includes(body.status)) {
				return restError("rest_invalid_param", "Invalid parameter(s): status", 400, { params: { status: `status is not one of ${STATUSES.join(", ")}.` } });
			}
			this.#setStatus(order, body.status, "");
		}
		return Response.json(fields(order.resource, url));
	}

	/** WC_Order::set_status then save: the transition note, the completion and payment dates, a new modification time. */
	#setStatus(order: StoredOrder, status: string, noteSuffix: string): void {
		const resource = order.resource;
		const from = String(resource.status);
		const now = Date.now();
		if (from !== status) {
			order.statusChanges.push({ from, to: status, at: new Date(now).toISOString() });
			resource.status = status;
			if (status === "completed") {
				resource.date_completed = resource.date_completed_gmt = wooTime(now);
				if (!resource.date_paid_gmt) resource.date_paid = resource.date_paid_gmt = wooTime(now);
			}
			this.#pushNote(order, `Order status changed from ${LABELS[from] ?? from} to ${LABELS[status] ?? status}.${noteSuffix}`, false, "system");
		}
		resource.date_modified = resource.date_modified_gmt = wooTime(now);
	}

	#pushNote(order: StoredOrder, text: string, customer: boolean, author: string): Note {
		const now = wooTime();
		const note: Note = { id: this.#nextNote++, author, date_created: now, date_created_gmt: now, note: text, customer_note: customer };
		order.notes.push(note);
		return note;
	}

	#noteView(orderId: number, note: Note) {
		return {
			...note,
			_links: {
				self: [{ href: `${STORE_URL}/wp-json/wc/v3/orders/${orderId}/notes/${note.id}` }],
				collection: [{ href: `${STORE_URL}/wp-json/wc/v3/orders/${orderId}/notes` }],
				up: [{ href: `${STORE_URL}/wp-json/wc/v3/orders/${orderId}` }],
			},
		};
	}

	/** POST /orders/<id>/notes: `note` required; `customer_note` emails the customer; `added_by_user` credits the API user. */
	#addNote(id: number, body: Json): Response {
		const order = this.#orders.get(id);
		if (!order) return restError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404);
		if (typeof body.note !== "string" || body.note.trim() === "") {
			return restError("rest_missing_callback_param", "Missing parameter(s): note", 400, { params: ["note"] });
		}
		const note = this.#pushNote(order, body.note, body.customer_note === true, body.added_by_user === true ? "ordersync" : "WooCommerce");
		return Response.json(this.#noteView(id, note), { status: 201 });
	}

	/** The Shipment Tracking extension's create: a predefined provider's link, or the custom one given. */
	#addTracking(id: number, body: Json): Response {
		const order = this.#orders.get(id);
		if (!order) return restError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404);
		const number = typeof body.tracking_number === "string" ? body.tracking_number.trim() : "";
		if (!number) return restError("rest_missing_callback_param", "Missing parameter(s): tracking_number", 400, { params: ["tracking_number"] });
		const named = typeof body.tracking_provider === "string" ? body.tracking_provider : "";
		const predefined = Object.values(PROVIDERS).flatMap((region) => Object.entries(region)).find(([name]) => slug(name) === slug(named));
		const custom = typeof body.custom_tracking_provider === "string" ? body.custom_tracking_provider : "";
		const customLink = typeof body.custom_tracking_link === "string" ? body.custom_tracking_link : "";
		const item: TrackingItem = {
			tracking_id: crypto.randomUUID().replaceAll("-", ""),
			tracking_provider: predefined ? predefined[0] : custom || named,
			tracking_link: predefined ? predefined[1].replace("%1$s", encodeURIComponent(number)) : customLink.replace("%1$s", encodeURIComponent(number)),
			tracking_number: number,
			date_shipped: typeof body.date_shipped === "string" ? body.date_shipped : new Date().toISOString().slice(0, 10),
		};
		order.trackings.push(item);
		return Response.json(item, { status: 201 });
	}

	/**
	 * GET /orders (docs, "List all orders"): `status` (any, the default, or one status or several,
	 * comma-separated), `after`/`before` (created) and `modified_after`/`modified_before` (ISO 8601,
	 * exclusive, site time unless `dates_are_gmt`; the sandbox's site is on UTC either way),
	 * `orderby` date|id|modified|include, `order` asc|desc (default desc), `per_page` 1–100 (default
	 * 10), `page`. X-WP-Total and X-WP-TotalPages say how many; a page past the last is refused as
	 * WordPress refuses it.
	 */
	#listOrders(url: URL): Response {
		this.#listCalls++;
		if (this.#touch && this.#listCalls === this.#touch.onCall) {
			const touched = this.#orders.get(this.#touch.orderId);
			if (touched) touched.resource.date_modified = touched.resource.date_modified_gmt = wooTime();
			this.#touch = null;
		}
		const q = url.searchParams;
		const perPage = q.has("per_page") ? Number(q.get("per_page")) : 10;
		const page = q.has("page") ? Number(q.get("page")) : 1;
		if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) {
			return restError("rest_invalid_param", "Invalid parameter(s): per_page", 400, { params: { per_page: "per_page must be between 1 (inclusive) and 100 (inclusive)" } });
		}
		if (!Number.isInteger(page) || page < 1) return restError("rest_invalid_param", "Invalid parameter(s): page", 400, { params: { page: "page must be greater than or equal to 1" } });
		const time = (value: string | null) => {
			if (value === null) return null;
			const ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(value) ? value : `${value}Z`);
			return Number.isNaN(ms) ? Number.NaN : ms;
		};
		const bounds = { after: time(q.get("after")), before: time(q.get("before")), modifiedAfter: time(q.get("modified_after")), modifiedBefore: time(q.get("modified_before")) };
		for (const [name, value] of Object.entries(bounds)) {
			if (Number.isNaN(value)) return restError("rest_invalid_param", `Invalid parameter(s): ${name}`, 400, { params: { [name]: "Invalid date." } });
		}
		const orderby = q.get("orderby") ?? "date";
		if (!["date", "id", "modified", "include"].includes(orderby)) {
			return restError("rest_invalid_param", "Invalid parameter(s): orderby", 400, { params: { orderby: "orderby is not one of date, id, include, modified." } });
		}
		const statuses = (q.get("status") ?? "any").split(",").map((s) => s.trim());
		const gmt = (value: unknown) => Date.parse(`${String(value ?? "").replace(/Z$/, "")}Z`);
		const field = orderby === "modified" ? "date_modified_gmt" : orderby === "date" ? "date_created_gmt" : "id";
		const sign = (q.get("order") ?? "desc").toLowerCase() === "asc" ? 1 : -1;
		const value = (o: Json) => (field === "id" ? Number(o.id) : gmt(o[field]));
		const all = [...this.#orders.values()]
			.map((o) => o.resource)
			.filter((o) => statuses.includes("any") ? o.status !== "trash" && o.status !== "checkout-draft" : statuses.includes(String(o.status)))
			.filter((o) => {
				const created = gmt(o.date_created_gmt);
				const modified = gmt(o.date_modified_gmt);
				return (bounds.after === null || created > bounds.after) && (bounds.before === null || created < bounds.before)
					&& (bounds.modifiedAfter === null || modified > bounds.modifiedAfter) && (bounds.modifiedBefore === null || modified < bounds.modifiedBefore);
			})
			.sort((a, b) => (value(a) - value(b)) * sign || (Number(a.id) - Number(b.id)) * sign);
		const pages = Math.ceil(all.length / perPage);
		if (page > Math.max(1, pages)) return restError("rest_post_invalid_page_number", "The page number requested is larger than the number of pages available.", 400);
		const base = `${STORE_URL}/wp-json/wc/v3/orders`;
		const link = (n: number, rel: string) => { const next = new URLSearchParams(q); next.set("page", String(n)); return `<${base}?${next}>; rel="${rel}"`; };
		const links = [...(page > 1 ? [link(page - 1, "prev")] : []), ...(page < pages ? [link(page + 1, "next")] : [])];
		return Response.json(all.slice((page - 1) * perPage, page * perPage).map((o) => fields(o, url)), {
			headers: { "X-WP-Total": String(all.length), "X-WP-TotalPages": String(pages), ...(links.length > 0 ? { Link: links.join(", ") } : {}) },
		});
	}

	/** GET /products: `sku` (comma-separated) covers products and variations; otherwise products only, paged. */
	#listProducts(url: URL): Response {
		const skus = url.searchParams.get("sku")?.split(",").map((s) => s.trim()).filter(Boolean) ?? null;
		const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get("per_page") ?? 10) || 10));
		const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
		const all = [...this.#products.values()].filter((p) => (skus ? skus.includes(p.sku) : p.type !== "variation"));
		return this.#paged(all, url);
	}

	/** GET /products/<id>/variations: the variable product's variations, paged like products. */
	#listVariations(parent: Product, url: URL): Response {
		return this.#paged([...this.#products.values()].filter((p) => p.type === "variation" && p.parent_id === parent.id), url);
	}

	/** `per_page` (default 10, at most 100) and `page`, with X-WP-Total and X-WP-TotalPages; `_fields` trims each item. */
	#paged(all: Product[], url: URL): Response {
		const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get("per_page") ?? 10) || 10));
		const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
		const pages = Math.max(1, Math.ceil(all.length / perPage));
		return Response.json(all.slice((page - 1) * perPage, page * perPage).map((p) => fields(this.#productView(p), url)), {
			headers: { "X-WP-Total": String(all.length), "X-WP-TotalPages": String(pages) },
		});
	}

	/** `manage_stock` is applied first; `stock_quantity` only sticks with it on; the status follows the quantity. */
	#updateStock(product: Product, body: Json): Response {
		if (body.manage_stock !== undefined && typeof body.manage_stock !== "boolean") {
			return restError("rest_invalid_param", "Invalid parameter(s): manage_stock", 400, { params: { manage_stock: "manage_stock is not of type boolean." } });
		}
		if (body.stock_quantity !== undefined && body.stock_quantity !== null && !Number.isInteger(body.stock_quantity)) {
			return restError("rest_invalid_param", "Invalid parameter(s): stock_quantity", 400, { params: { stock_quantity: "stock_quantity is not of type integer." } });
		}
		product.writes++;
		if (typeof body.manage_stock === "boolean") product.manage_stock = body.manage_stock;
		if (!product.manage_stock) product.stock_quantity = null;
		else if (typeof body.stock_quantity === "number") product.stock_quantity = body.stock_quantity;
		if (product.manage_stock) product.stock_status = (product.stock_quantity ?? 0) > 0 ? "instock" : "outofstock";
		product.date_modified_gmt = wooTime();
		return Response.json(this.#productView(product));
	}

	#productView(p: Product) {
		const self = p.type === "variation" ? `products/${p.parent_id}/variations/${p.id}` : `products/${p.id}`;
		return {
			id: p.id,
			name: p.name,
			type: p.type,
			status: "publish",
			sku: p.sku,
			parent_id: p.parent_id,
			manage_stock: p.manage_stock,
			stock_quantity: p.stock_quantity,
			stock_status: p.stock_status,
			date_modified: p.date_modified_gmt,
			date_modified_gmt: p.date_modified_gmt,
			variations: p.type === "variable" ? [...this.#products.values()].filter((v) => v.parent_id === p.id).map((v) => v.id) : [],
			_links: { self: [{ href: `${STORE_URL}/wp-json/wc/v3/${self}` }] },
		};
	}

	// ---- Webhooks -----------------------------------------------------------------------------

	/**
	 * One delivery as WC_Webhook::deliver() sends it. The body is built now, from the order as it
	 * is now (WooCommerce builds payloads at delivery time); `order.deleted` carries only the id.
	 */
	async #delivery(order: StoredOrder, topic: string, webhookId: number, connection: string) {
		const id = Number(order.resource.id);
		const body = topic.endsWith(".deleted") ? phpJson({ id }) : phpJson(order.resource);
		this.#hmac ??= crypto.subtle.importKey("raw", new TextEncoder().encode(this.#webhookSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
		const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await this.#hmac, new TextEncoder().encode(body)));
		const [resource = "", event = ""] = topic.split(".");
		// wp_hash($webhook_id . strtotime('now')): the same for every delivery of a webhook within one second.
		const second = Math.floor(Date.now() / 1000);
		const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${webhookId}${second}:sandbox-salt`)));
		const deliveryId = Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
		return {
			path: `/webhooks/woocommerce/${encodeURIComponent(connection)}`,
			headers: {
				"content-type": "application/json",
				"user-agent": USER_AGENT,
				"x-wc-webhook-source": `${STORE_URL}/`,
				"x-wc-webhook-topic": topic,
				"x-wc-webhook-resource": resource,
				"x-wc-webhook-event": event,
				"x-wc-webhook-signature": btoa(String.fromCharCode(...mac)),
				"x-wc-webhook-id": String(webhookId),
				"x-wc-webhook-delivery-id": deliveryId,
			},
			body,
		};
	}

	// ---- Controls -----------------------------------------------------------------------------

	async #control(request: Request, url: URL): Promise<Response> {
		const path = url.pathname.slice("/sandbox/woocommerce".length);
		const input = request.method === "GET" ? {} : ((await request.json().catch(() => ({}))) as Json);
		const orderMatch = /^\/orders\/(\d+)(\/webhook)?$/.exec(path);
		if (orderMatch) {
			const order = this.#orders.get(Number(orderMatch[1]));
			if (!order) return Response.json({ error: "no such order" }, { status: 404 });
			if (orderMatch[2]) {
				if (request.method !== "POST") return Response.json({ error: "POST only" }, { status: 405 });
				const topic = typeof input.topic === "string" ? input.topic : "order.updated";
				const connection = typeof input.connection === "string" ? input.connection : "woocommerce";
				const delivery = await this.#delivery(order, topic, Number(input.webhookId ?? 11), connection);
				if (input.enqueue !== false) this.#callbacks.enqueue({ key: `woocommerce:order:${order.resource.id}`, ...delivery });
				return Response.json({ delivery });
			}
			if (request.method === "POST") {
				// The merchant edits the order in wp-admin: fields replaced, status changed as WooCommerce does it.
				const { status, ...rest } = input;
				Object.assign(order.resource, rest);
				if (typeof status === "string") this.#setStatus(order, status, "");
				else order.resource.date_modified = order.resource.date_modified_gmt = wooTime();
			}
			return Response.json({ order: order.resource, notes: order.notes, trackings: order.trackings, statusChanges: order.statusChanges });
		}
		switch (`${request.method} ${path}`) {
			case "POST /orders": {
				// Seeds an order from a REST resource (the fixtures); the store gives it a fresh id and number.
				const given = (input.order ?? {}) as Json;
				const id = this.#nextOrder++;
				const now = wooTime();
				const resource: Json = {
					...given,
					id,
					number: String(id),
					status: given.status ?? "processing",
					date_created: given.date_created ?? now,
					date_created_gmt: given.date_created_gmt ?? now,
					date_modified: given.date_modified ?? now,
					date_modified_gmt: given.date_modified_gmt ?? now,
					_links: { self: [{ href: `${STORE_URL}/wp-json/wc/v3/orders/${id}` }], collection: [{ href: `${STORE_URL}/wp-json/wc/v3/orders` }] },
				};
				this.#orders.set(id, { resource, notes: [], trackings: [], statusChanges: [] });
				return Response.json({ order: resource }, { status: 201 });
			}
			case "POST /products": {
				const seeds = Array.isArray(input.products) ? (input.products as Json[]) : [];
				const created = seeds.map((seed) => this.#seedProduct(seed));
				return Response.json({ products: created.map((p) => ({ ...this.#productView(p), variations: [...this.#products.values()].filter((v) => v.parent_id === p.id).map((v) => this.#productView(v)) })) }, { status: 201 });
			}
			case "POST /orders/touch": {
				// Test knob: { orderId, beforeListCall: n } edits that order just before the n-th order list from now.
				this.#touch = { orderId: Number(input.orderId), onCall: this.#listCalls + Number(input.beforeListCall ?? 1) };
				return Response.json({ ok: true });
			}
			case "POST /inventory/drift": {
				// The merchant edits stock in wp-admin behind ordersync's back (not counted as a REST write).
				const matches = [...this.#products.values()].filter((p) => typeof input.sku === "string" && p.sku === input.sku);
				if (matches.length === 0) return Response.json({ error: "no product or variation with that sku" }, { status: 404 });
				for (const product of matches) {
					if (typeof input.manage_stock === "boolean") product.manage_stock = input.manage_stock;
					if (!product.manage_stock) product.stock_quantity = null;
					else if (Number.isInteger(input.stock_quantity)) product.stock_quantity = input.stock_quantity as number;
					product.stock_status = product.manage_stock && (product.stock_quantity ?? 0) <= 0 ? "outofstock" : "instock";
					product.date_modified_gmt = wooTime();
				}
				return Response.json({ products: matches.map((p) => this.#productView(p)) });
			}
			case "GET /products": {
				const sku = url.searchParams.get("sku");
				const products = [...this.#products.values()].filter((p) => !sku || p.sku === sku);
				return Response.json({ products: products.map((p) => ({ ...this.#productView(p), writes: p.writes })) });
			}
			case "POST /ping": {
				// WC_Webhook::deliver_ping(): a form body, no X-WC-Webhook-* headers, no signature.
				const webhookId = Number(input.webhookId ?? 11);
				const connection = typeof input.connection === "string" ? input.connection : "woocommerce";
				return Response.json({
					delivery: {
						path: `/webhooks/woocommerce/${encodeURIComponent(connection)}`,
						headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": USER_AGENT },
						body: `webhook_id=${webhookId}`,
					},
				});
			}
			case "GET /calls": {
				const match = url.searchParams.get("match") ?? "";
				return Response.json({ calls: this.#calls.filter((c) => `${c.path}${c.query}`.includes(match)) });
			}
			case "POST /fault": {
				// A fault for calls matching a method and a path pattern (regex), ahead of the shared ones.
				this.#routeFaults.push({
					method: typeof input.method === "string" ? input.method : undefined,
					path: typeof input.path === "string" ? input.path : undefined,
					kind: input.kind as FaultKind,
					ms: typeof input.ms === "number" ? input.ms : undefined,
					retryAfterSeconds: typeof input.retryAfterSeconds === "number" ? input.retryAfterSeconds : undefined,
					remaining: typeof input.remaining === "number" ? input.remaining : 1,
				});
				return Response.json({ faults: this.#routeFaults });
			}
			case "DELETE /fault":
				this.#routeFaults = [];
				return Response.json({ faults: [] });
			default:
				return Response.json({ error: "Not Found" }, { status: 404 });
		}
	}

	/** `{name, sku?, manage_stock?, stock_quantity?, variations?: [{sku, name?, manage_stock?, stock_quantity?}]}`. */
	#seedProduct(seed: Json): Product {
		const variations = Array.isArray(seed.variations) ? (seed.variations as Json[]) : [];
		const make = (s: Json, type: Product["type"], parent: number, fallbackName: string): Product => {
			const manage = s.manage_stock === true;
			const quantity = manage && typeof s.stock_quantity === "number" ? s.stock_quantity : null;
			const product: Product = {
				id: this.#nextProduct++,
				parent_id: parent,
				type,
				name: typeof s.name === "string" ? s.name : fallbackName,
				sku: typeof s.sku === "string" ? s.sku : "",
				manage_stock: manage,
				stock_quantity: quantity,
				stock_status: manage && (quantity ?? 0) <= 0 ? "outofstock" : "instock",
				date_modified_gmt: wooTime(),
				writes: 0,
			};
			this.#products.set(product.id, product);
			return product;
		};
		const parent = make(seed, variations.length > 0 ? "variable" : "simple", 0, "Sandbox product");
		for (const [i, v] of variations.entries()) make(v, "variation", parent.id, `${parent.name} - ${i + 1}`);
		return parent;
	}
}

/** WordPress's `_fields` global parameter: only the top-level fields named. */
function fields(resource: Json, url: URL): Json {
	const wanted = url.searchParams.get("_fields")?.split(",").map((f) => f.trim()).filter(Boolean);
	if (!wanted?.length) return resource;
	return Object.fromEntries(Object.entries(resource).filter(([key]) => wanted.includes(key)));
}

/** sanitize_title, roughly: how the extension compares provider names. */
function slug(name: string): string {
	return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}
