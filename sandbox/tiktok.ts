/**
 * A local TikTok Shop peer (Open API 202309), for the tests and the demo. It speaks what ordersync
 * uses, the documented way:
 * - request signing (https://partner.tiktokshop.com/docv2/page/sign-your-api-request): `app_key`,
 *   a 10-digit `timestamp` within five minutes, `sign` = hex HMAC-SHA256 over the secret-wrapped
 *   path + sorted `{key}{value}` params + raw body; the token in `x-tts-access-token`;
 * - Get Order Detail `GET /order/202309/orders?ids=` (one line item per unit, money as strings);
 * - Ship Package `POST /fulfillment/202309/packages/{package_id}/ship` (self_shipment) and Mark
 *   Package As Shipped `POST /fulfillment/202309/orders/{order_id}/packages`;
 * - Search Products `POST /product/202309/products/search` (filters `seller_skus`, `status`; each
 *   SKU with its `inventory` per warehouse, which `POST /sandbox/tiktok/inventory/drift` changes
 *   behind ordersync's back) and Update Inventory
 *   `POST /product/202309/products/{product_id}/inventory/update` (per-SKU failures in
 *   `data.errors` under a top-level code 0, as TikTok documents);
 * - webhooks signed in `Authorization` = hex HMAC-SHA256(app secret, app key + body)
 *   (https://partner.tiktokshop.com/docv2/page/tts-webhooks-overview);
 * - Finance: Get Statements `GET /finance/202309/statements` and Get Transactions by Statement
 *   `GET /finance/202501/statements/{statement_id}/statement_transactions` (both require
 *   `sort_field`; `page_size` 1–100, default 20; opaque `page_token`), over statements stored with
 *   the control route `POST /sandbox/tiktok/statements`.
 *
 * Every answer is TikTok's envelope `{ code, message, request_id, data }`. Codes: 106001 for an
 * invalid sign with HTTP 401 (as TikTok answers it in the wild), 36009002 for rate limiting (HTTP
 * 429, or HTTP 200 for the "throttle" fault: TikTok documents "429 and/or 36009002"), 36009003
 * for internal errors, 36009004 for invalid parameters, credentials and timestamps (TikTok
 * reuses it for all of those), 106013 for a missing shop_cipher. Where TikTok's per-endpoint
 * error tables could not be read (refusals to ship, unknown products), the codes below are the
 * sandbox's own, marked as such.
 */
import type { Callbacks } from "./callbacks";
import { type Faults, failAfter, failBefore } from "./faults";

type Json = Record<string, unknown>;
type Money = string;

type LineItem = {
	id: string;
	sku_id: string;
	seller_sku: string;
	product_id: string;
	product_name: string;
	sku_name: string;
	sale_price: Money;
	original_price: Money;
	seller_discount: Money;
	platform_discount: Money;
	currency: string;
	display_status: string;
	is_gift: boolean;
	item_tax?: Array<{ tax_type: string; tax_amount: Money; tax_rate: string }>;
	package_id?: string;
	package_status?: string;
	tracking_number?: string;
	shipping_provider_id?: string;
	shipping_provider_name?: string;
	rts_time?: number;
	cancel_reason?: string;
	cancel_user?: string;
	sku_type: string;
	[key: string]: unknown;
};

type Order = {
	id: string;
	status: string;
	create_time: number;
	update_time: number;
	line_items: LineItem[];
	packages: Array<{ id: string }>;
	payment: Json & { currency: string };
	[key: string]: unknown;
};

type Sku = { id: string; seller_sku: string; price: { currency: string; sale_price: Money; tax_exclusive_price: Money }; inventory: Array<{ warehouse_id: string; quantity: number }> };
type Product = { id: string; title: string; status: string; create_time: number; update_time: number; skus: Sku[] };

type SeedLine = {
	sellerSku: string;
	skuId?: string;
	productId?: string;
	name?: string;
	skuName?: string;
	quantity: number;
	/** Unit price before discounts, a decimal string. */
	price: string;
	/** Seller discount per unit. */
	discount?: string;
	/** Sales tax per unit, added on top (US style). */
	tax?: string;
	taxRate?: string;
	gift?: boolean;
};
type SeedOrder = {
	id?: string;
	status?: string;
	currency?: string;
	shippingFee?: string;
	/** Line items carry a package id before shipping (markets outside the US and UK). */
	packaged?: boolean;
	buyerEmail?: string;
	shopId?: string;
	recipient?: { name?: string; address1?: string; address2?: string; city?: string; state?: string; stateCode?: string; zip?: string; country?: string; phone?: string };
	lines: SeedLine[];
};
/** A statement as Get Statements lists it, and its transactions as Get Transactions by Statement (202501) gives them. */
type Statement = { statement: Json & { id: string; statement_time: number; currency: string }; transactions: Array<Json & { id: string }> };

type Write = { at: number; method: string; path: string; body: unknown; orderId?: string; productId?: string };

/** Default shop of the sandbox (the shop id of TikTok's own webhook examples). */
const SHOP_ID = "7494049642642441621";
const DEFAULT_WAREHOUSE = "7068517275539719942";
const WEBHOOK_PATH = (connection: string) => `/webhooks/tiktok/${connection}`;
const SHIPPED = new Set(["PROCESSING", "FULFILLING", "COMPLETED"]);
/** Timestamp window: [now − 5 min, now + 30 s] ("within 5 minutes"; the upper bound per copies of the common-parameters page). */
const PAST_S = 300;
const FUTURE_S = 30;

const encoder = new TextEncoder();

export class TikTokSandbox {
	#appKey: string;
	#appSecret: string;
	#accessToken: string;
	#faults: Faults;
	#callbacks: Callbacks;
	#key: Promise<CryptoKey> | null = null;
	#orders = new Map<string, Order>();
	#orderShop = new Map<string, string>();
	#products = new Map<string, Product>();
	#writes: Write[] = [];
	#statements = new Map<string, Statement>();
	/** Ids unique across test files sharing this process: 18 digits from the clock and a counter. */
	#seq = BigInt(Date.now()) * 10_000n;

	constructor(options: { appKey: string; appSecret: string; accessToken: string; faults: Faults; callbacks: Callbacks }) {
		this.#appKey = options.appKey;
		this.#appSecret = options.appSecret;
		this.#accessToken = options.accessToken;
		this.#faults = options.faults;
		this.#callbacks = options.callbacks;
	}

	#id(prefix: string): string {
		this.#seq += 1n;
		return `${prefix}${this.#seq}`.slice(0, 19);
	}

	async fetch(request: Request, url: URL): Promise<Response> {
		if (url.pathname.startsWith("/sandbox/tiktok/")) return this.#control(request, url);
		const raw = request.method === "GET" ? "" : await request.text(); // read first: a fault answered early must not leave the body unread
		const fault = this.#pickFault(request.method === "POST" && !url.pathname.endsWith("/products/search") && !url.pathname.endsWith("/orders/search"));
		if (fault?.kind === "throttle") return envelope(36009002, "Too many requests. You've made too many requests in a short period of time.", null, 200);
		const early = await failBefore(fault, {
			error5xx: (status) => envelope(36009003, "Internal error. Please try again.", null, status),
			// No Retry-After: TikTok documents none; clients back off themselves (rate-limits page).
			tooMany: () => envelope(36009002, "Too many requests. You've made too many requests in a short period of time.", null, 429),
			// A setup problem on the seller's side: the app lacks the API's scope (code per copies of common-errors; HTTP ours).
			refused: () => envelope(105005, "Access denied. The app has not been granted the scope this API needs.", null, 403),
		});
		if (early) return early;
		const response = await this.#api(request, url, raw);
		await failAfter(fault);
		return response;
	}

	/**
	 * The shared fault for this call. A lost response only matters where work was done, so a
	 * lost-response fault waiting at the head of the queue is kept for the next write rather than
	 * spent on a read (ordersync reads an order before it ships it).
	 */
	#pickFault(write: boolean) {
		const next = this.#faults.list().find((f) => f.target === "tiktok" || f.target === "*");
		if (!write && next && next.rate === undefined && next.kind === "lost-response") return null;
		return this.#faults.pick("tiktok");
	}

	async #sign(message: string): Promise<string> {
		this.#key ??= crypto.subtle.importKey("raw", encoder.encode(this.#appSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
		const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await this.#key, encoder.encode(message)));
		return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
	}

	/** The sign TikTok expects for this request (computed here independently of ordersync's code). */
	async #expectedSign(path: string, query: URLSearchParams, raw: string, contentType: string): Promise<string> {
		const params = [...query.entries()]
			.filter(([key]) => key !== "sign" && key !== "access_token")
			.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
			.map(([k, v]) => k + v)
			.join("");
		const multipart = contentType.toLowerCase().startsWith("multipart/form-data");
		return this.#sign(`${this.#appSecret}${path}${params}${multipart ? "" : raw}${this.#appSecret}`);
	}

	async #api(request: Request, url: URL, raw: string): Promise<Response> {
		const path = url.pathname.replace(/^\/tiktok/, "");
		const q = url.searchParams;
		if (q.get("app_key") !== this.#appKey) return envelope(36009004, "Invalid credentials. The 'app_key' query parameter is invalid.", null, 401);
		const timestamp = q.get("timestamp") ?? "";
		const now = Math.floor(Date.now() / 1000);
		if (!/^\d{10}$/.test(timestamp) || Number(timestamp) < now - PAST_S || Number(timestamp) > now + FUTURE_S) {
			return envelope(36009004, "Invalid timestamp. The timestamp must be a 10-digit Unix time within 5 minutes of the current time.", null, 401);
		}
		const sign = q.get("sign") ?? "";
		if (sign !== (await this.#expectedSign(path, q, raw, request.headers.get("Content-Type") ?? ""))) {
			return envelope(106001, "Invalid credentials. The 'sign' query parameter is invalid.", null, 401);
		}
		if (request.headers.get("x-tts-access-token") !== this.#accessToken) {
			return envelope(36009004, "Invalid credentials. The access token in 'x-tts-access-token' is invalid or expired.", null, 401);
		}
		if (!q.get("shop_cipher")) return envelope(106013, "The shop_cipher is missing or does not belong to this shop.", null, 400);

		let body: Json = {};
		if (request.method !== "GET" && raw !== "") {
			try {
				const parsed: unknown = JSON.parse(raw);
				if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
				body = parsed as Json;
			} catch {
				return envelope(36009004, "invalid param error: the body is not a JSON object", null, 400);
			}
		}
		if (request.method === "GET" && path === "/finance/202309/statements") return this.#getStatements(q);
		const statementPath = /^\/finance\/202501\/statements\/([^/]+)\/statement_transactions$/.exec(path);
		if (request.method === "GET" && statementPath) return this.#statementTransactions(decodeURIComponent(statementPath[1]!), q);
		const route = `${request.method} ${path.replace(/\/(packages|products|orders)\/\d+\//, "/$1/{id}/")}`;
		const id = /\/(?:packages|products|orders)\/(\d+)\//.exec(path)?.[1] ?? "";
		switch (route) {
			case "GET /order/202309/orders":
				return this.#orderDetail(q);
			case "POST /order/202309/orders/search":
				return this.#searchOrders(q, body);
			case "POST /fulfillment/202309/packages/{id}/ship":
				return this.#shipPackage(id, body, raw);
			case "POST /fulfillment/202309/orders/{id}/packages":
				return this.#markShipped(id, body, raw);
			case "POST /product/202309/products/search":
				return this.#searchProducts(q, body);
			case "POST /product/202309/products/{id}/inventory/update":
				return this.#updateInventory(id, body, raw);
			default:
				return envelope(36009009, "Invalid path. Please check the API path and version.", null, 404);
		}
	}

	/** GET /order/202309/orders: `ids` comma-separated, at most 50; unknown ids are left out. */
	#orderDetail(q: URLSearchParams): Response {
		const ids = (q.get("ids") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
		if (ids.length === 0 || ids.length > 50 || !ids.every((i) => /^\d+$/.test(i))) {
			return envelope(36009004, "invalid param error: ids must list 1 to 50 order ids", null, 400);
		}
		const orders = ids.map((i) => this.#orders.get(i)).filter((o): o is Order => Boolean(o));
		return envelope(0, "Success", { orders: structuredClone(orders) });
	}

	/**
	 * Search Orders, `POST /order/202309/orders/search?page_size=&page_token=&sort_field=&sort_order=`
	 * (https://partner.tiktokshop.com/docv2/page/search-orders-202309): `page_size` 1–100 required;
	 * `sort_field` create_time (default) or update_time, `sort_order` ASC or DESC (default); body
	 * filters `order_status`, `create_time_ge`/`_lt`, `update_time_ge`/`_lt` (Unix seconds). Orders
	 * in Get Order Detail's shape; `next_page_token` is empty on the last page. Orders placed with
	 * the control route are in it whether or not their notification was sent.
	 */
	#searchOrders(q: URLSearchParams, body: Json): Response {
		const size = Number(q.get("page_size"));
		if (!q.has("page_size") || !Number.isInteger(size) || size < 1 || size > 100) return envelope(36009004, "invalid param error: page_size is required and must be 1 to 100", null, 400);
		const field = q.get("sort_field") ?? "create_time";
		if (field !== "create_time" && field !== "update_time") return envelope(36009004, "invalid param error: sort_field must be create_time or update_time", null, 400);
		const direction = (q.get("sort_order") ?? "DESC").toUpperCase() === "ASC" ? 1 : -1;
		const bound = (name: string): number | null | undefined => {
			const value = body[name];
			if (value === undefined || value === null) return null;
			return Number.isInteger(value) && (value as number) >= 0 ? (value as number) : undefined;
		};
		const limits = Object.fromEntries(["create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt"].map((name) => [name, bound(name)]));
		const wrong = Object.entries(limits).find(([, value]) => value === undefined);
		if (wrong) return envelope(36009004, `invalid param error: ${wrong[0]} must be a Unix timestamp in seconds`, null, 400);
		const status = typeof body.order_status === "string" ? body.order_status : null;
		const within = (value: number, ge: number | null | undefined, lt: number | null | undefined) => (ge == null || value >= ge) && (lt == null || value < lt);
		const rows = [...this.#orders.values()]
			.filter((o) => (!status || o.status === status) && within(o.create_time, limits.create_time_ge, limits.create_time_lt) && within(o.update_time, limits.update_time_ge, limits.update_time_lt))
			.sort((a, b) => ((a[field] as number) - (b[field] as number)) * direction || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
		const paging = this.#paging(q);
		if (paging instanceof Response) return paging;
		const page = rows.slice(paging.offset, paging.offset + size);
		const next = paging.offset + size < rows.length ? btoa(String(paging.offset + size)) : "";
		return envelope(0, "Success", { total_count: rows.length, next_page_token: next, orders: structuredClone(page) });
	}

	#findPackage(packageId: string): Order | null {
		for (const order of this.#orders.values()) {
			if (order.packages.some((p) => p.id === packageId) || order.line_items.some((i) => i.package_id === packageId)) return order;
		}
		return null;
	}

	/** POST /fulfillment/202309/packages/{package_id}/ship with `self_shipment`. */
	#shipPackage(packageId: string, body: Json, raw: string): Response {
		const order = this.#findPackage(packageId);
		// Refusal codes from here on are the sandbox's own (TikTok's per-endpoint tables unread).
		if (!order) return envelope(21011001, `Package ${packageId} does not exist.`, null);
		this.#writes.push({ at: Date.now(), method: "POST", path: `/fulfillment/202309/packages/${packageId}/ship`, body: JSON.parse(raw || "{}"), orderId: order.id });
		const self = body.self_shipment as Json | undefined;
		const tracking = typeof self?.tracking_number === "string" ? self.tracking_number.trim() : "";
		const provider = typeof self?.shipping_provider_id === "string" ? self.shipping_provider_id : "";
		if (!tracking || !/^\d+$/.test(provider)) {
			return envelope(36009004, "invalid param error: self_shipment needs tracking_number and shipping_provider_id for a SEND_BY_SELLER package", null, 400);
		}
		if (!["AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"].includes(order.status)) return envelope(21011002, `Order status ${order.status} does not allow shipping.`, null);
		const open = order.line_items.filter((i) => i.package_id === packageId && !isShipped(i) && i.display_status !== "CANCELLED");
		if (open.length === 0) return envelope(21011003, `Package ${packageId} has already been shipped.`, null);
		this.#ship(order, open, packageId, tracking, provider);
		return envelope(0, "Success", {});
	}

	/** POST /fulfillment/202309/orders/{order_id}/packages: chosen line items become one shipped package. */
	#markShipped(orderId: string, body: Json, raw: string): Response {
		const order = this.#orders.get(orderId);
		if (!order) return envelope(21011004, `Order ${orderId} does not exist.`, null);
		this.#writes.push({ at: Date.now(), method: "POST", path: `/fulfillment/202309/orders/${orderId}/packages`, body: JSON.parse(raw || "{}"), orderId });
		const ids = body.order_line_item_ids;
		const tracking = typeof body.tracking_number === "string" ? body.tracking_number.trim() : "";
		const provider = typeof body.shipping_provider_id === "string" ? body.shipping_provider_id : "";
		if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === "string") || !tracking || !/^\d+$/.test(provider)) {
			return envelope(36009004, "invalid param error: order_line_item_ids, tracking_number and shipping_provider_id are required", null, 400);
		}
		if (!["AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"].includes(order.status)) return envelope(21011002, `Order status ${order.status} does not allow shipping.`, null);
		const items: LineItem[] = [];
		for (const itemId of new Set(ids as string[])) {
			const item = order.line_items.find((i) => i.id === itemId);
			if (!item) return envelope(21011005, `Line item ${itemId} is not in order ${orderId}.`, null);
			if (item.display_status === "CANCELLED") return envelope(21011006, `Line item ${itemId} is cancelled.`, null);
			if (isShipped(item)) return envelope(21011007, `Line item ${itemId} has already been shipped.`, null);
			items.push(item);
		}
		const packageId = this.#id("11");
		this.#ship(order, items, packageId, tracking, provider);
		return envelope(0, "Success", { order_id: order.id, order_line_item_ids: items.map((i) => i.id), package_id: packageId });
	}

	#ship(order: Order, items: LineItem[], packageId: string, tracking: string, provider: string): void {
		const now = Math.floor(Date.now() / 1000);
		for (const item of items) {
			Object.assign(item, {
				package_id: packageId,
				package_status: "PROCESSING",
				display_status: "AWAITING_COLLECTION",
				tracking_number: tracking,
				shipping_provider_id: provider,
				shipping_provider_name: `Carrier ${provider}`,
				rts_time: now,
			});
		}
		if (!order.packages.some((p) => p.id === packageId)) order.packages.push({ id: packageId });
		const open = order.line_items.filter((i) => !isShipped(i) && i.display_status !== "CANCELLED");
		order.status = open.length === 0 ? "AWAITING_COLLECTION" : "PARTIALLY_SHIPPING";
		Object.assign(order, { update_time: now, rts_time: now, tracking_number: tracking, shipping_provider_id: provider, shipping_provider: `Carrier ${provider}` });
	}

	/** POST /product/202309/products/search?page_size=&page_token=, body `seller_skus`, `status`. */
	#searchProducts(q: URLSearchParams, body: Json): Response {
		const pageSize = Number(q.get("page_size"));
		if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) return envelope(36009004, "invalid param error: page_size must be 1 to 100", null, 400);
		const skus = Array.isArray(body.seller_skus) ? (body.seller_skus as unknown[]).filter((s): s is string => typeof s === "string") : null;
		const status = typeof body.status === "string" && body.status !== "ALL" ? body.status : null;
		const all = [...this.#products.values()].filter((p) => (!skus || p.skus.some((s) => skus.includes(s.seller_sku))) && (!status || p.status === status));
		const offset = Number(q.get("page_token") ? atob(q.get("page_token")!) : 0) || 0;
		const page = all.slice(offset, offset + pageSize);
		const next = offset + pageSize < all.length ? btoa(String(offset + pageSize)) : "";
		return envelope(0, "Success", { total_count: all.length, next_page_token: next, products: structuredClone(page).map((p) => ({ ...p, sales_regions: ["US"] })) });
	}

	/** POST /product/202309/products/{product_id}/inventory/update: absolute quantities per warehouse. */
	#updateInventory(productId: string, body: Json, raw: string): Response {
		const product = this.#products.get(productId);
		if (!product) return envelope(12052048, `Product ${productId} does not exist.`, null); // code ours
		this.#writes.push({ at: Date.now(), method: "POST", path: `/product/202309/products/${productId}/inventory/update`, body: JSON.parse(raw || "{}"), productId });
		const skus = body.skus;
		if (!Array.isArray(skus) || skus.length === 0) return envelope(36009004, "invalid param error: skus is required", null, 400);
		const errors: Json[] = [];
		const fail = (skuId: string, message: string, warehouse?: string) =>
			errors.push({ code: 12052230, message, detail: { sku_id: skuId, extra_errors: warehouse ? [{ warehouse_id: warehouse, code: 12052230, message }] : [] } }); // code ours
		for (const entry of skus as Json[]) {
			const skuId = typeof entry?.id === "string" ? entry.id : "";
			const sku = product.skus.find((s) => s.id === skuId);
			if (!sku) {
				fail(skuId, `SKU ${skuId} does not belong to product ${productId}.`);
				continue;
			}
			if (product.status !== "ACTIVATE") {
				fail(skuId, "The SKU stock can be updated only by this SKU in live status.");
				continue;
			}
			const inventory = Array.isArray(entry.inventory) ? (entry.inventory as Json[]) : [];
			if (inventory.length === 0) fail(skuId, "inventory is required.");
			for (const level of inventory) {
				const quantity = level?.quantity;
				const warehouse = typeof level?.warehouse_id === "string" ? level.warehouse_id : null;
				if (!Number.isInteger(quantity) || (quantity as number) < 0 || (quantity as number) >= 99_999) {
					fail(skuId, "quantity must be a non-negative integer less than 99999.", warehouse ?? undefined);
					continue;
				}
				// "If the SKU is using another warehouse or … multiple warehouse information, then this warehouse id … [is] mandatory."
				const target = warehouse ? sku.inventory.find((i) => i.warehouse_id === warehouse) : sku.inventory.length === 1 ? sku.inventory[0] : undefined;
				if (!target) {
					fail(skuId, warehouse ? `Warehouse ${warehouse} is not a warehouse of this SKU.` : "warehouse_id is required for a SKU with several warehouses.", warehouse ?? undefined);
					continue;
				}
				target.quantity = quantity as number;
				product.update_time = Math.floor(Date.now() / 1000);
			}
		}
		return envelope(0, "Success", errors.length > 0 ? { errors } : {});
	}

	/** Page size and offset as TikTok's list APIs take them: `page_size` 1–100 (default 20), an opaque `page_token`. */
	#paging(q: URLSearchParams): { size: number; offset: number } | Response {
		const size = q.has("page_size") ? Number(q.get("page_size")) : 20;
		if (!Number.isInteger(size) || size < 1 || size > 100) return envelope(36009004, "invalid param error: page_size must be 1 to 100", null, 400);
		const token = q.get("page_token") ?? "";
		let offset = 0;
		if (token) {
			try {
				offset = Number(atob(token));
			} catch {
				offset = Number.NaN;
			}
			if (!Number.isInteger(offset) || offset < 0) return envelope(36009004, "invalid param error: page_token is invalid", null, 400);
		}
		return { size, offset };
	}

	/** GET /finance/202309/statements: statements by statement_time, `sort_field=statement_time` required. */
	#getStatements(q: URLSearchParams): Response {
		if (q.get("sort_field") !== "statement_time") return envelope(36009004, "invalid param error: sort_field is required and only supports statement_time", null, 400);
		const paging = this.#paging(q);
		if (paging instanceof Response) return paging;
		const ge = q.has("statement_time_ge") ? Number(q.get("statement_time_ge")) : 0;
		const lt = q.has("statement_time_lt") ? Number(q.get("statement_time_lt")) : Math.floor(Date.now() / 1000) + 1;
		const status = q.get("payment_status");
		const rows = [...this.#statements.values()]
			.map((s) => s.statement)
			.filter((s) => s.statement_time >= ge && s.statement_time < lt && (!status || s.payment_status === status))
			.sort((a, b) => (a.statement_time - b.statement_time) * (q.get("sort_order") === "DESC" ? -1 : 1));
		const page = rows.slice(paging.offset, paging.offset + paging.size);
		const next = paging.offset + paging.size < rows.length ? btoa(String(paging.offset + paging.size)) : "";
		return envelope(0, "Success", { next_page_token: next, statements: structuredClone(page) });
	}

	/** GET /finance/202501/statements/{statement_id}/statement_transactions, `sort_field=order_create_time` required. */
	#statementTransactions(statementId: string, q: URLSearchParams): Response {
		if (q.get("sort_field") !== "order_create_time") return envelope(36009004, "invalid param error: sort_field is required and only supports order_create_time", null, 400);
		const paging = this.#paging(q);
		if (paging instanceof Response) return paging;
		const stored = this.#statements.get(statementId);
		if (!stored) return envelope(36009004, `invalid param error: statement ${statementId} does not exist`, null, 400); // code per the common errors; message ours
		const { statement, transactions } = stored;
		const exponent = exponentOf(statement.currency);
		const total = (field: string, rows: Json[] = transactions) => fromMinor(rows.reduce((sum, t) => sum + signedMinor(t[field], exponent), 0), exponent);
		const rows = [...transactions].sort((a, b) => (Number(a.order_create_time ?? 0) - Number(b.order_create_time ?? 0)) * (q.get("sort_order") === "DESC" ? -1 : 1));
		const page = rows.slice(paging.offset, paging.offset + paging.size);
		const next = paging.offset + paging.size < rows.length ? btoa(String(paging.offset + paging.size)) : "";
		const settlement = total("settlement_amount");
		const reserve = total("reserve_amount");
		return envelope(0, "Success", {
			id: statement.id,
			create_time: statement.statement_time,
			currency: statement.currency,
			status: "SETTLED",
			total_count: transactions.length,
			total_settlement_amount: settlement,
			total_reserve_amount: reserve,
			payable_amount: fromMinor(signedMinor(settlement, exponent) + signedMinor(reserve, exponent), exponent),
			total_settlement_breakdown: {
				total_revenue_amount: total("revenue_amount"),
				total_shipping_cost_amount: total("shipping_cost_amount"),
				total_fee_tax_amount: total("fee_tax_amount"),
				total_adjustment_amount: total("adjustment_amount"),
			},
			next_page_token: next,
			transactions: structuredClone(page),
		});
	}

	/**
	 * Stores a statement with its transactions, in TikTok's own shapes: `statement` as Get Statements
	 * lists it (id, statement_time, currency, settlement_amount, payment_status, …; missing ones are
	 * filled in) and `transactions` as Get Transactions by Statement 202501 returns them.
	 */
	#storeStatement(input: Json): Response {
		const given = (input.statement ?? {}) as Json;
		const transactions = (Array.isArray(input.transactions) ? input.transactions : []) as Json[];
		if (transactions.some((t) => t === null || typeof t !== "object")) return Response.json({ error: "transactions must be objects" }, { status: 400 });
		const currency = typeof given.currency === "string" ? given.currency : "USD";
		const exponent = exponentOf(currency);
		const sum = (field: string) => fromMinor(transactions.reduce((total, t) => total + signedMinor(t[field], exponent), 0), exponent);
		const midnight = Math.floor(Date.now() / 86_400_000) * 86_400;
		const statement = {
			revenue_amount: sum("revenue_amount"),
			fee_amount: sum("fee_tax_amount"),
			shipping_cost_amount: sum("shipping_cost_amount"),
			adjustment_amount: sum("adjustment_amount"),
			net_sales_amount: sum("revenue_amount"),
			settlement_amount: sum("settlement_amount"),
			payment_id: this.#id("73"),
			payment_status: "PROCESSING",
			...given,
			id: typeof given.id === "string" ? given.id : this.#id("72"),
			statement_time: typeof given.statement_time === "number" ? given.statement_time : midnight,
			currency,
		};
		const stored: Statement = { statement, transactions: transactions.map((t) => ({ ...t, id: typeof t.id === "string" ? t.id : this.#id("76") })) };
		this.#statements.set(statement.id, stored);
		return Response.json(stored);
	}

	/** Builds an order in TikTok's documented shape from a compact description. */
	#build(seed: SeedOrder): Order {
		const currency = seed.currency ?? "USD";
		const exponent = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
		const minor = (s: string | undefined) => toMinor(s ?? "0", exponent);
		const text = (n: number) => fromMinor(n, exponent);
		const status = seed.status ?? "AWAITING_SHIPMENT";
		const now = Math.floor(Date.now() / 1000);
		const packageId = seed.packaged ? this.#id("11") : undefined;
		const items: LineItem[] = [];
		let original = 0;
		let discount = 0;
		let taxTotal = 0;
		for (const line of seed.lines) {
			const skuId = line.skuId ?? this.#skuIdFor(line.sellerSku);
			const productId = line.productId ?? this.#productIdFor(line.sellerSku);
			for (let unit = 0; unit < line.quantity; unit++) {
				const price = line.gift ? 0 : minor(line.price);
				const off = line.gift ? 0 : minor(line.discount);
				const tax = minor(line.tax);
				original += price;
				discount += off;
				taxTotal += tax;
				items.push({
					id: this.#id("57"),
					sku_id: skuId,
					seller_sku: line.sellerSku,
					product_id: productId,
					product_name: line.name ?? line.sellerSku,
					sku_name: line.skuName ?? "Default",
					sale_price: text(price - off),
					original_price: text(price),
					seller_discount: text(off),
					platform_discount: text(0),
					currency,
					display_status: status === "ON_HOLD" ? "AWAITING_SHIPMENT" : status,
					is_gift: line.gift ?? false,
					...(line.tax ? { item_tax: [{ tax_type: "SALES_TAX", tax_amount: text(tax), tax_rate: line.taxRate ?? "0" }] } : {}),
					...(packageId ? { package_id: packageId, package_status: "TO_FULFILL" } : {}),
					sku_type: "NORMAL",
				});
			}
		}
		const shipping = minor(seed.shippingFee);
		const r = seed.recipient ?? {};
		const order: Order = {
			id: seed.id ?? this.#id("57"),
			status,
			create_time: now,
			update_time: now,
			...(status === "UNPAID" ? {} : { paid_time: now }),
			buyer_email: seed.buyerEmail ?? "v4bsandboxbuyer@scs2.tiktok.com",
			buyer_message: "",
			user_id: "7494690250735257859",
			delivery_option_id: "7091146663229654785",
			delivery_option_name: "Standard shipping",
			delivery_type: "HOME_DELIVERY",
			shipping_type: "SELLER",
			fulfillment_type: "FULFILLMENT_BY_SELLER",
			is_cod: false,
			is_on_hold_order: status === "ON_HOLD",
			is_sample_order: false,
			order_type: "NORMAL",
			warehouse_id: DEFAULT_WAREHOUSE,
			packages: packageId ? [{ id: packageId }] : [],
			line_items: items,
			payment: {
				currency,
				original_total_product_price: text(original),
				seller_discount: text(discount),
				platform_discount: text(0),
				sub_total: text(original - discount),
				original_shipping_fee: text(shipping),
				shipping_fee_seller_discount: text(0),
				shipping_fee_platform_discount: text(0),
				shipping_fee: text(shipping),
				product_tax: text(taxTotal),
				shipping_fee_tax: text(0),
				tax: text(taxTotal),
				total_amount: text(original - discount + shipping + taxTotal),
			},
			...(status === "UNPAID" || status === "ON_HOLD"
				? {}
				: {
						recipient_address: {
							name: r.name ?? "Ada Lovelace",
							phone_number: r.phone ?? "(+1)312-***-0100",
							address_line1: r.address1 ?? "100 N Racine Ave",
							address_line2: r.address2 ?? "",
							postal_code: r.zip ?? "60607",
							region_code: r.country ?? "US",
							full_address: `${r.address1 ?? "100 N Racine Ave"}, ${r.city ?? "Chicago"}, ${r.stateCode ?? "IL"} ${r.zip ?? "60607"}`,
							district_info: [
								{ address_level: "L0", address_level_name: "Country", address_name: "United States", iso_code: r.country ?? "US" },
								{ address_level: "L1", address_level_name: "State", address_name: r.state ?? "Illinois", iso_code: `${r.country ?? "US"}-${r.stateCode ?? "IL"}` },
								{ address_level: "L3", address_level_name: "City", address_name: r.city ?? "Chicago" },
							],
						},
					}),
		};
		return order;
	}

	/** The SKU id of a seller SKU: a seeded product's, or a stable new one. */
	#skuIdFor(sellerSku: string): string {
		for (const product of this.#products.values()) for (const sku of product.skus) if (sku.seller_sku === sellerSku) return sku.id;
		return this.#id("17");
	}

	#productIdFor(sellerSku: string): string {
		for (const product of this.#products.values()) if (product.skus.some((s) => s.seller_sku === sellerSku)) return product.id;
		return this.#id("17");
	}

	/** ORDER_STATUS_CHANGE (type 1) for the order as it stands, signed; the webhook spells CANCELLED as CANCEL. */
	async #notification(order: Order, options: { type?: number; connection?: string }): Promise<{ path: string; headers: Record<string, string>; body: string }> {
		const type = options.type ?? 1;
		const now = Math.floor(Date.now() / 1000);
		const data: Json =
			type === 11
				? { order_id: order.id, cancellations_role: "BUYER", cancel_status: "CANCELLATION_REQUEST_COMPLETE", cancel_id: this.#id("40"), create_time: now }
				: type === 12
					? { order_id: order.id, return_role: "BUYER", return_type: "REFUND", return_status: "RETURN_OR_REFUND_REQUEST_PENDING", return_id: this.#id("57"), create_time: now, update_time: now }
					: type === 4
						? { sc_type: "SPLIT", role_type: "ROLE_SELLER", package_list: order.packages.map((p) => ({ package_id: p.id, order_id_list: [order.id] })), update_time: now }
						: { order_id: order.id, order_status: order.status === "CANCELLED" ? "CANCEL" : order.status, is_on_hold_order: Boolean(order.is_on_hold_order), update_time: order.update_time };
		const body = JSON.stringify({ type, tts_notification_id: this.#id("73"), shop_id: this.#orderShop.get(order.id) ?? SHOP_ID, timestamp: now, data });
		const signature = await this.#sign(`${this.#appKey}${body}`);
		return { path: WEBHOOK_PATH(options.connection ?? "tiktok"), headers: { "content-type": "application/json", authorization: signature }, body };
	}

	/** Test and demo controls, no auth: seed orders and products, move orders, read what TikTok was sent, produce webhooks. */
	async #control(request: Request, url: URL): Promise<Response> {
		const input = request.method === "GET" ? {} : ((await request.json().catch(() => ({}))) as Json);
		const orderMatch = /^\/sandbox\/tiktok\/orders\/(\d+)(\/status)?$/.exec(url.pathname);
		if (orderMatch) {
			const order = this.#orders.get(orderMatch[1]!);
			if (!order) return Response.json({ error: "no such order" }, { status: 404 });
			if (request.method === "GET" && !orderMatch[2]) {
				return Response.json({ order, writes: this.#writes.filter((w) => w.orderId === order.id) });
			}
			if (request.method === "POST" && orderMatch[2]) {
				const status = String(input.status ?? "");
				this.#move(order, status);
				const webhook = await this.#notification(order, { connection: input.connection as string | undefined });
				if (input.notify !== false) this.#callbacks.enqueue({ key: order.id, ...webhook });
				return Response.json({ order, webhook });
			}
		}
		const productMatch = /^\/sandbox\/tiktok\/products\/(\d+)$/.exec(url.pathname);
		if (productMatch && request.method === "GET") {
			const product = this.#products.get(productMatch[1]!);
			return product ? Response.json({ product, writes: this.#writes.filter((w) => w.productId === product.id) }) : Response.json({ error: "no such product" }, { status: 404 });
		}
		switch (`${request.method} ${url.pathname}`) {
			case "POST /sandbox/tiktok/orders": {
				// Either a whole order in TikTok's shape (`{ order }`) or a compact description.
				const order = input.order ? (structuredClone(input.order) as Order) : this.#build(input as unknown as SeedOrder);
				order.packages ??= [];
				this.#orders.set(order.id, order);
				this.#orderShop.set(order.id, typeof input.shopId === "string" ? input.shopId : SHOP_ID);
				return Response.json({ order });
			}
			case "POST /sandbox/tiktok/products": {
				const now = Math.floor(Date.now() / 1000);
				const skus = (Array.isArray(input.skus) ? input.skus : []) as Array<{ id?: string; sellerSku: string; price?: string; inventory?: Array<{ warehouseId: string; quantity: number }> }>;
				const product: Product = {
					id: typeof input.id === "string" ? input.id : this.#id("17"),
					title: typeof input.title === "string" ? input.title : "Sandbox product",
					status: typeof input.status === "string" ? input.status : "ACTIVATE",
					create_time: now,
					update_time: now,
					skus: skus.map((s) => ({
						id: s.id ?? this.#id("17"),
						seller_sku: s.sellerSku,
						price: { currency: "USD", sale_price: s.price ?? "19.99", tax_exclusive_price: s.price ?? "19.99" },
						inventory: (s.inventory ?? [{ warehouseId: DEFAULT_WAREHOUSE, quantity: 0 }]).map((i) => ({ warehouse_id: i.warehouseId, quantity: i.quantity })),
					})),
				};
				this.#products.set(product.id, product);
				return Response.json({ product });
			}
			case "POST /sandbox/tiktok/inventory/drift": {
				// The seller edits stock in Seller Center behind ordersync's back: every SKU with this seller SKU, at one warehouse.
				const sellerSku = String(input.sellerSku ?? "");
				const warehouse = typeof input.warehouseId === "string" ? input.warehouseId : DEFAULT_WAREHOUSE;
				if (!Number.isInteger(input.quantity)) return Response.json({ error: "send { sellerSku, quantity, warehouseId? }" }, { status: 400 });
				const levels = [...this.#products.values()].flatMap((p) => p.skus.filter((s) => s.seller_sku === sellerSku)).flatMap((s) => s.inventory.filter((i) => i.warehouse_id === warehouse));
				if (levels.length === 0) return Response.json({ error: "no SKU with that seller_sku at that warehouse" }, { status: 404 });
				for (const level of levels) level.quantity = input.quantity as number;
				return Response.json({ sellerSku, warehouseId: warehouse, quantity: input.quantity, levels: levels.length });
			}
			case "POST /sandbox/tiktok/webhooks": {
				// A signed notification for an order: queued for the app (default) or only returned.
				const order = this.#orders.get(String(input.orderId ?? ""));
				if (!order) return Response.json({ error: "no such order" }, { status: 404 });
				const webhook = await this.#notification(order, { type: input.type as number | undefined, connection: input.connection as string | undefined });
				if (input.deliver !== "return") this.#callbacks.enqueue({ key: order.id, ...webhook });
				return Response.json({ webhook });
			}
			case "POST /sandbox/tiktok/statements":
				return this.#storeStatement(input);
			case "GET /sandbox/tiktok/writes": {
				const match = url.searchParams.get("match") ?? "";
				return Response.json({ writes: this.#writes.filter((w) => w.path.includes(match) || JSON.stringify(w.body).includes(match)) });
			}
			default:
				return Response.json({ error: "Not Found" }, { status: 404 });
		}
	}

	/** What TikTok does to an order on its own (buyer cancels, carrier collects, delivers). */
	#move(order: Order, status: string): void {
		const now = Math.floor(Date.now() / 1000);
		order.status = status === "CANCEL" ? "CANCELLED" : status;
		order.update_time = now;
		if (order.status === "CANCELLED") {
			Object.assign(order, { cancel_time: now, cancel_reason: "No longer needed", cancellation_initiator: "BUYER" });
			for (const item of order.line_items) if (!isShipped(item)) Object.assign(item, { display_status: "CANCELLED", cancel_reason: "No longer needed", cancel_user: "BUYER" });
		} else {
			const display = order.status === "PARTIALLY_SHIPPING" ? null : order.status;
			if (order.status === "IN_TRANSIT") order.collection_time = now;
			if (order.status === "DELIVERED") order.delivery_time = now;
			for (const item of order.line_items) {
				if (item.display_status === "CANCELLED" || !display) continue;
				item.display_status = display;
				if (item.package_status && SHIPPED.has(item.package_status)) item.package_status = order.status === "DELIVERED" || order.status === "COMPLETED" ? "COMPLETED" : "FULFILLING";
			}
		}
	}
}

function isShipped(item: LineItem): boolean {
	return Boolean(item.tracking_number) || (item.rts_time ?? 0) > 0 || SHIPPED.has(item.package_status ?? "");
}

/** TikTok's response envelope; `request_id` in TikTok's style (time stamp + hex). */
function envelope(code: number, message: string, data: unknown, status = 200): Response {
	const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
	const requestId = `${stamp}${crypto.randomUUID().replaceAll("-", "").slice(0, 20).toUpperCase()}`;
	return Response.json({ code, message, request_id: requestId, data }, { status });
}

function exponentOf(currency: string): number {
	return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** A signed decimal amount ("-2.55", "", undefined) in minor units. */
function signedMinor(value: unknown, exponent: number): number {
	const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
	if (!text) return 0;
	const negative = text.startsWith("-");
	const minor = toMinor(text.replace(/^[-+]/, ""), exponent);
	return negative ? -minor : minor;
}

function toMinor(decimal: string, exponent: number): number {
	const [whole = "0", fraction = ""] = decimal.trim().split(".");
	return Number(whole) * 10 ** exponent + Number(fraction.padEnd(exponent, "0").slice(0, exponent) || "0");
}

function fromMinor(minor: number, exponent: number): string {
	if (exponent === 0) return String(minor);
	const text = String(Math.abs(minor)).padStart(exponent + 1, "0");
	return `${minor < 0 ? "-" : ""}${text.slice(0, -exponent)}.${text.slice(-exponent)}`;
}
