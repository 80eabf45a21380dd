/**
 * A local Amazon peer, for the tests and the demo: Login with Amazon's token endpoint and the
 * part of the Selling Partner API ordersync uses, under /amazon/…:
 *
 *   POST  /amazon/auth/o2/token                                      LWA refresh-token grant
 *   POST  /amazon/tokens/2021-03-01/restrictedDataToken               createRestrictedDataToken
 *   GET   /amazon/orders/v0/orders[?LastUpdatedAfter…|NextToken]      getOrders
 *   GET   /amazon/orders/v0/orders/{orderId}                          getOrder
 *   GET   /amazon/orders/v0/orders/{orderId}/orderItems[?NextToken]   getOrderItems
 *   POST  /amazon/orders/v0/orders/{orderId}/shipmentConfirmation     confirmShipment (204)
 *   PATCH /amazon/listings/2021-08-01/items/{sellerId}/{sku}          patchListingsItem
 *   GET   /amazon/listings/2021-08-01/items/{sellerId}                 searchListingsItems
 *
 * Shapes follow amzn/selling-partner-api-models (ordersV0.json, tokens_2021-03-01.json,
 * listingsItems_2021-08-01.json, OrderChangeNotification.json) and the LWA guide. Where Amazon
 * documents a status but not its body, the sandbox answers in the documented ErrorList shape with
 * wording of its own; wordings quoted from Amazon are marked. It checks what Amazon checks: the LWA client and refresh token,
 * the access token on every call (and its expiry), the personal data getOrder and getOrderItems
 * return (only with a Restricted Data Token issued for that order's path and those data elements,
 * to an application approved for them), the confirmShipment body (packageReferenceId a
 * string of digits, ISO 8601 shipDate, known order items, no more units than were ordered), and
 * the listings patch. A second confirmShipment with the same packageReferenceId edits that
 * package, as Amazon documents ("Confirm the shipment status"); another id adds a package.
 *
 * Controls under /sandbox/amazon/… seed orders and listings, show what Amazon holds, change an
 * order's status, steer LWA and the Tokens API (which data elements the application is approved
 * for, how it refuses the others), make the next calls of one operation fail, and produce
 * ORDER_CHANGE notifications the way an EventBridge API destination would post them (raw, in an
 * EventBridge event, or as an SQS message), with the API key header, into the shared callback
 * queue or in the answer.
 */
import type { Callbacks } from "./callbacks";
import { type Faults, failAfter, failBefore } from "./faults";

/** The seller the sandbox's refresh token belongs to (the merchant token of Amazon's examples). */
export const SANDBOX_AMAZON_SELLER_ID = "A3TH9S8BH6GOGM";
const DEFAULT_MARKETPLACE = "ATVPDKIKX0DER";
const APPLICATION_ID = "amzn1.sellerapps.app.ordersync-sandbox";

type Json = Record<string, unknown>;
type Package = {
	packageReferenceId: string;
	carrierCode: string;
	carrierName: string | null;
	trackingNumber: string;
	shipDate: string;
	orderItems: Array<{ orderItemId: string; quantity: number }>;
	/** How many times this package was submitted (1 + edits). */
	submissions: number;
};
type StoredOrder = {
	sellerId: string;
	order: Json;
	items: Json[];
	packages: Map<string, Package>;
	/** Every confirmShipment POST for this order, accepted or refused. */
	confirmAttempts: number;
	itemsPerPage: number;
};
type Listing = { sellerId: string; sku: string; productType: string; attributes: Record<string, Json[]>; submissions: Array<{ submissionId: string; status: string; patches: unknown }> };
type NotifyOptions = {
	envelope?: "raw" | "eventbridge" | "eventbridge-body" | "pipe-bus" | "sqs" | "sqs-batch";
	connection?: string;
	header?: string;
	key?: string;
	changeType?: string;
	changeReason?: string;
	deliver?: "queue" | "return";
};

/** Each operation's documented default rate (requests per second), sent as x-amzn-RateLimit-Limit. */
const RATES: Record<string, string> = { createRestrictedDataToken: "1.0", getOrders: "0.0167", getOrder: "0.5", getOrderItems: "0.5", confirmShipment: "2.0", patchListingsItem: "5.0", searchListingsItems: "5.0" };

/** Data elements the Tokens API knows (tokens_2021-03-01.json RestrictedResource.dataElements). */
const DATA_ELEMENTS = ["buyerInfo", "shippingAddress", "buyerTaxInformation"];
/** Order statuses whose getOrder carries a ShippingAddress at all (ordersV0.json Order.ShippingAddress). */
const ADDRESS_STATUSES = new Set(["Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed"]);
/** What getOrder's ShippingAddress keeps without an RDT for shippingAddress. */
const PUBLIC_ADDRESS_FIELDS = ["City", "County", "District", "StateOrRegion", "Municipality", "PostalCode", "CountryCode"];
/** What getOrder's BuyerInfo keeps without an RDT for buyerInfo ("The anonymized email address of the buyer"). */
const PUBLIC_BUYER_FIELDS = ["BuyerEmail"];

type RestrictedResource = { method: string; path: string; dataElements: string[] };
type Rdt = { expiresAt: number; resources: RestrictedResource[] };

const uuid = () => crypto.randomUUID();
/** Amazon's order times have whole seconds: "1970-01-19T03:58:32Z". */
const nowSeconds = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
const digits = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join("");

/** An ErrorList answer (ordersV0.json ErrorList / listings ErrorList). */
function errors(status: number, code: string, message: string, details = "", headers: Record<string, string> = {}): Response {
	return Response.json({ errors: [{ code, message, details }] }, { status, headers: { "x-amzn-RequestId": uuid(), ...headers } });
}

export class AmazonSandbox {
	#clientId: string;
	#clientSecret: string;
	#refreshToken: string;
	#notificationKey: string;
	#faults: Faults;
	#callbacks: Callbacks;
	#tokens = new Map<string, number>();
	#tokenTtlSeconds = 3600;
	#lwaFailures: number[] = [];
	#lwa = { grants: 0, refused: 0 };
	#orders = new Map<string, StoredOrder>();
	#listings = new Map<string, Listing>();
	#rdts = new Map<string, Rdt>();
	#rdtTtlSeconds = 3600;
	/** The data elements the application is approved for (its restricted roles). */
	#approved = new Set(DATA_ELEMENTS);
	/** How createRestrictedDataToken refuses elements the application lacks: 400 InvalidInput or 403 Unauthorized. */
	#refusal: 400 | 403 = 400;
	#rdt = { issued: 0, refused: 0, used: 0, denied: 0 };
	/** Answers the next calls of one operation give, whatever the request (control /sandbox/amazon/fail). */
	#operationFailures: Array<{ operation: string; status: number }> = [];

	constructor(options: { clientId: string; clientSecret: string; refreshToken: string; notificationKey: string; faults: Faults; callbacks: Callbacks }) {
		this.#clientId = options.clientId;
		this.#clientSecret = options.clientSecret;
		this.#refreshToken = options.refreshToken;
		this.#notificationKey = options.notificationKey;
		this.#faults = options.faults;
		this.#callbacks = options.callbacks;
	}

	async fetch(request: Request, url: URL): Promise<Response> {
		if (url.pathname.startsWith("/sandbox/amazon/")) return this.#control(request, url);
		if (url.pathname === "/amazon/auth/o2/token") return this.#token(request);
		const raw = request.method === "GET" ? "" : await request.text(); // read first: a fault answered early must not leave the body unread
		const operation = operationOf(request.method, url.pathname);
		const rate = { "x-amzn-RateLimit-Limit": RATES[operation ?? ""] ?? "1.0" };
		const steered = this.#operationFailures.findIndex((f) => f.operation === operation);
		if (steered >= 0) {
			const [{ status }] = this.#operationFailures.splice(steered, 1) as [{ operation: string; status: number }];
			if (status === 429) return errors(429, "QuotaExceeded", "You exceeded your quota for the requested resource.", "", rate);
			if (status === 403) return errors(403, "Unauthorized", "Access to requested resource is denied.", "");
			if (status === 503) return errors(503, "ServiceUnavailable", "Temporary overloading or maintenance of the server.");
			if (status >= 500) return errors(status, "InternalFailure", "We encountered an internal error. Please try again.");
			return errors(status, "InvalidInput", "Invalid Input", "", rate);
		}
		const fault = this.#faults.pick("amazon");
		const early = await failBefore(fault?.kind === "throttle" ? { ...fault, kind: "429" } : fault, {
			// Statuses from the models; the wording is the sandbox's.
			error5xx: (status) =>
				status === 503
					? errors(503, "ServiceUnavailable", "Temporary overloading or maintenance of the server.")
					: errors(status, "InternalFailure", "We encountered an internal error. Please try again."),
			// The 429 body seen from SP-API (QuotaExceeded, selling-partner-api-models issue #4414). Amazon
			// sends no Retry-After; the operation's rate in x-amzn-RateLimit-Limit is what a client can go by.
			tooMany: () => errors(429, "QuotaExceeded", "You exceeded your quota for the requested resource.", "", rate),
			refused: () => errors(400, "InvalidInput", "Invalid Input"),
		});
		if (early) return early;
		const response = this.#api(request, url, raw, rate);
		await failAfter(fault);
		return response;
	}

	/** LWA: https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api (Step 1). */
	async #token(request: Request): Promise<Response> {
		const oauth = (status: number, error: string, description: string) => {
			this.#lwa.refused++;
			return Response.json({ error, error_description: description }, { status, headers: { "Cache-Control": "no-store", Pragma: "no-cache" } });
		};
		// Read first: an answer given before the body is read leaves the client's upload dangling.
		const text = new TextDecoder().decode(await request.arrayBuffer());
		if (request.method !== "POST") return oauth(405, "invalid_request", "The token endpoint takes POST");
		const failure = this.#lwaFailures.shift();
		if (failure) return oauth(failure, failure === 429 ? "slow_down" : "server_error", "Sandbox LWA failure on request");
		if (!(request.headers.get("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) {
			return oauth(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
		}
		const form = new URLSearchParams(text);
		const grantType = form.get("grant_type");
		if (!grantType) return oauth(400, "invalid_request", "The request is missing a required parameter : grant_type");
		if (grantType !== "refresh_token") return oauth(400, "unsupported_grant_type", `The sandbox issues refresh_token grants only, not ${grantType}`);
		// Wrong client credentials: 401 invalid_client (RFC 6749 §5.2; as seen from LWA).
		if (form.get("client_id") !== this.#clientId || form.get("client_secret") !== this.#clientSecret) {
			return oauth(401, "invalid_client", "Client authentication failed");
		}
		const refreshToken = form.get("refresh_token");
		if (!refreshToken) return oauth(400, "invalid_request", "The request is missing a required parameter : refresh_token");
		// Wording as quoted from LWA's invalid_grant answer.
		if (refreshToken !== this.#refreshToken) {
			return oauth(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.");
		}
		const token = `Atza|sandbox-${uuid().replaceAll("-", "")}`;
		this.#tokens.set(token, Date.now() + this.#tokenTtlSeconds * 1000);
		this.#lwa.grants++;
		return Response.json(
			{ access_token: token, token_type: "bearer", expires_in: this.#tokenTtlSeconds, refresh_token: this.#refreshToken },
			{ headers: { "Cache-Control": "no-store", Pragma: "no-cache" } },
		);
	}

	#api(request: Request, url: URL, raw: string, rate: Record<string, string>): Response {
		const token = request.headers.get("x-amz-access-token");
		const rdt = token ? this.#rdts.get(token) : undefined;
		const expiresAt = token ? (rdt?.expiresAt ?? this.#tokens.get(token)) : undefined;
		// 403 "Access Denied, Unauthorized, Expired Token, or Invalid Signature" (models); the
		// message and details are those SP-API answers with (quoted in selling-partner-api-docs issues).
		const denied = (details = "") => errors(403, "Unauthorized", "Access to requested resource is denied.", details);
		if (!token) return denied();
		if (expiresAt === undefined) return denied("The access token you provided is revoked, malformed or invalid.");
		if (expiresAt <= Date.now()) return denied("The access token you provided has expired.");

		const path = url.pathname;
		// An RDT authorizes the restricted resources it was issued for and nothing else: another
		// order's path, another operation, the Tokens API itself. Using one elsewhere is answered
		// 403 Unauthorized with empty details (as reported in selling-partner-api-docs #2011).
		let pii = new Set<string>();
		if (rdt) {
			const apiPath = safeDecode(path.replace(/^\/amazon/, ""));
			const grant = rdt.resources.find((r) => r.method === request.method && safeDecode(r.path) === apiPath);
			if (!grant) {
				this.#rdt.denied++;
				return denied();
			}
			this.#rdt.used++;
			pii = new Set(grant.dataElements);
		}
		if (path === "/amazon/tokens/2021-03-01/restrictedDataToken") {
			if (request.method !== "POST") return errors(405, "MethodNotAllowed", `${request.method} is not allowed here`);
			return this.#createRdt(raw, rate);
		}

		if (path === "/amazon/orders/v0/orders") {
			if (request.method !== "GET") return errors(405, "MethodNotAllowed", `${request.method} is not allowed here`);
			// Not a restricted operation here: no RDT is issued for it, and without one no personal data.
			return this.#getOrders(url, rate);
		}
		let match = /^\/amazon\/orders\/v0\/orders\/([^/]+)(\/orderItems|\/shipmentConfirmation)?$/.exec(path);
		if (match) {
			const orderId = decodeURIComponent(match[1]!);
			const stored = this.#orders.get(orderId);
			const ok = (body: unknown, status = 200) => Response.json(body, { status, headers: { "x-amzn-RequestId": uuid(), ...rate } });
			const missing = () => errors(404, "NotFound", `Order ${orderId} not found for this seller.`, "", rate);
			if (request.method === "GET" && !match[2]) return stored ? ok({ payload: redactOrder(stored.order, pii) }) : missing();
			if (request.method === "GET" && match[2] === "/orderItems") return stored ? this.#items(stored, url, rate, pii) : missing();
			if (request.method === "POST" && match[2] === "/shipmentConfirmation") {
				if (!stored) return missing();
				stored.confirmAttempts++;
				return this.#confirm(stored, raw, rate);
			}
			return errors(405, "MethodNotAllowed", `${request.method} is not allowed here`);
		}
		match = /^\/amazon\/listings\/2021-08-01\/items\/([^/]+)\/([^/]+)$/.exec(path);
		if (match && request.method === "PATCH") return this.#patch(decodeURIComponent(match[1]!), decodeURIComponent(match[2]!), url, raw, rate);
		match = /^\/amazon\/listings\/2021-08-01\/items\/([^/]+)$/.exec(path);
		if (match && request.method === "GET") return this.#searchListings(decodeURIComponent(match[1]!), url, rate);
		return errors(404, "NotFound", "Resource not found");
	}

	/**
	 * createRestrictedDataToken (tokens_2021-03-01.json). The sandbox issues RDTs for getOrder and
	 * getOrderItems of a specific order (the paths the model gives "For a specific order"), which
	 * need dataElements. The 400 for a malformed request is the model's sandbox answer; the refusals
	 * for a resource or data element the application may not have are those SP-API was seen to
	 * give: 400 InvalidInput "Application do not have access to some or all requested resource"
	 * (selling-partner-api-docs #702) and "Application does not have access to one or more
	 * requested data elements: [buyerInfo, shippingAddress]" (#1201), or, set with the control,
	 * 403 Unauthorized "Access to requested resource is denied." (#830).
	 */
	#createRdt(raw: string, rate: Record<string, string>): Response {
		const invalid = (details: string) => errors(400, "InvalidRequest", "Request is missing or has invalid parameters", details, rate);
		let body: Json;
		try {
			body = JSON.parse(raw) as Json;
		} catch {
			return invalid("Request body is not valid JSON.");
		}
		const list = body?.restrictedResources;
		if (!Array.isArray(list) || list.length === 0) return invalid("Resource not provided.");
		if (list.length > 50) return invalid("A maximum of 50 restricted resources can be requested.");
		const resources: RestrictedResource[] = [];
		const noAccess = () => {
			this.#rdt.refused++;
			return errors(400, "InvalidInput", "Application do not have access to some or all requested resource", "", rate);
		};
		for (const entry of list as Json[]) {
			if (typeof entry !== "object" || entry === null) return invalid("Resource not provided.");
			if (typeof entry.method !== "string" || !["GET", "PUT", "POST", "DELETE"].includes(entry.method)) return invalid("Method not provided.");
			if (typeof entry.path !== "string" || !entry.path.startsWith("/")) return invalid("Path not provided.");
			const elements = entry.dataElements;
			if (elements !== undefined && (!Array.isArray(elements) || elements.some((e) => typeof e !== "string" || !DATA_ELEMENTS.includes(e)))) {
				return invalid(`dataElements must be among ${DATA_ELEMENTS.join(", ")}.`);
			}
			// Only getOrder and getOrderItems of one order are restricted operations here; they take dataElements.
			if (entry.method !== "GET" || !/^\/orders\/v0\/orders\/[^/{}]+(\/orderItems)?$/.test(entry.path) || !elements?.length) return noAccess();
			resources.push({ method: entry.method, path: entry.path, dataElements: [...new Set(elements as string[])] });
		}
		const lacking = [...new Set(resources.flatMap((r) => r.dataElements))].filter((e) => !this.#approved.has(e)).sort();
		if (lacking.length > 0) {
			this.#rdt.refused++;
			if (this.#refusal === 403) return errors(403, "Unauthorized", "Access to requested resource is denied.", "");
			return errors(400, "InvalidInput", `Application does not have access to one or more requested data elements: [${lacking.join(", ")}]`, "", rate);
		}
		const token = `Atz.sprdt|sandbox-${uuid().replaceAll("-", "")}`;
		this.#rdts.set(token, { expiresAt: Date.now() + this.#rdtTtlSeconds * 1000, resources });
		this.#rdt.issued++;
		return Response.json({ restrictedDataToken: token, expiresIn: this.#rdtTtlSeconds }, { headers: { "x-amzn-RequestId": uuid(), ...rate } });
	}

	/**
	 * getOrders (ordersV0.json): the seller's orders in `MarketplaceIds` (required, at most 50)
	 * created or last updated in a window: `CreatedAfter`/`CreatedBefore` or
	 * `LastUpdatedAfter`/`LastUpdatedBefore` (one pair, not both), ISO 8601; a `…Before` "must be no
	 * later than two minutes before the time that the request was submitted" and after its `…After`.
	 * `OrderStatuses` filters, `MaxResultsPerPage` 1–100 (default 100); `NextToken` (with
	 * MarketplaceIds) reads on. Oldest update first (Amazon documents no order). Orders as getOrder
	 * gives them without a Restricted Data Token.
	 */
	#getOrders(url: URL, rate: Record<string, string>): Response {
		const q = url.searchParams;
		const invalid = (message: string) => errors(400, "InvalidInput", message, "", rate);
		const marketplaces = (q.get("MarketplaceIds") ?? "").split(",").map((m) => m.trim()).filter(Boolean);
		if (marketplaces.length === 0) return invalid("MarketplaceIds is required.");
		if (marketplaces.length > 50) return invalid("A maximum of 50 marketplace ids may be given.");
		type Query = { field: "PurchaseDate" | "LastUpdateDate"; after: number; before: number; statuses: string[]; size: number; offset: number };
		let query: Query;
		const next = q.get("NextToken");
		if (next) {
			try {
				query = JSON.parse(atob(next)) as Query;
				if (typeof query.offset !== "number") throw new Error();
			} catch {
				return invalid("Invalid NextToken.");
			}
		} else {
			const created = q.has("CreatedAfter") || q.has("CreatedBefore");
			const updated = q.has("LastUpdatedAfter") || q.has("LastUpdatedBefore");
			if (created && updated) return invalid("CreatedAfter/CreatedBefore cannot be combined with LastUpdatedAfter/LastUpdatedBefore.");
			if (!q.has("CreatedAfter") && !q.has("LastUpdatedAfter")) return invalid("Either CreatedAfter or LastUpdatedAfter must be specified.");
			const [afterName, beforeName] = created ? ["CreatedAfter", "CreatedBefore"] : ["LastUpdatedAfter", "LastUpdatedBefore"];
			const latest = Date.now() - 120_000;
			const after = Date.parse(q.get(afterName!) ?? "");
			const before = q.has(beforeName!) ? Date.parse(q.get(beforeName!)!) : latest;
			if (Number.isNaN(after) || Number.isNaN(before)) return invalid(`${afterName} and ${beforeName} must be ISO 8601 dates.`);
			if (before > latest) return invalid(`${beforeName} must be no later than two minutes before the time that the request was submitted.`);
			if (after > before) return invalid(`${afterName} must be before ${beforeName}.`);
			const size = q.has("MaxResultsPerPage") ? Number(q.get("MaxResultsPerPage")) : 100;
			if (!Number.isInteger(size) || size < 1 || size > 100) return invalid("MaxResultsPerPage must be between 1 and 100.");
			const statuses = (q.get("OrderStatuses") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
			query = { field: created ? "PurchaseDate" : "LastUpdateDate", after, before, statuses, size, offset: 0 };
		}
		const rows = [...this.#orders.values()]
			.filter((s) => s.sellerId === SANDBOX_AMAZON_SELLER_ID && marketplaces.includes(String(s.order.MarketplaceId)))
			.filter((s) => query.statuses.length === 0 || query.statuses.includes(String(s.order.OrderStatus)))
			.filter((s) => {
				const at = Date.parse(String(s.order[query.field]));
				return at >= query.after && at <= query.before;
			})
			.sort((a, b) => Date.parse(String(a.order[query.field])) - Date.parse(String(b.order[query.field])));
		const page = rows.slice(query.offset, query.offset + query.size).map((s) => redactOrder(s.order, new Set()));
		const payload: Json = { Orders: page, [query.field === "LastUpdateDate" ? "LastUpdatedBefore" : "CreatedBefore"]: new Date(query.before).toISOString().replace(/\.\d{3}Z$/, "Z") };
		if (query.offset + query.size < rows.length) payload.NextToken = btoa(JSON.stringify({ ...query, offset: query.offset + query.size }));
		return Response.json({ payload }, { headers: { "x-amzn-RequestId": uuid(), ...rate } });
	}

	/** getOrderItems, paged by an opaque NextToken; an item's BuyerInfo (gift wrap, customization) only with buyerInfo. */
	#items(stored: StoredOrder, url: URL, rate: Record<string, string>, pii: Set<string>): Response {
		const orderId = stored.order.AmazonOrderId as string;
		const next = url.searchParams.get("NextToken");
		let offset = 0;
		if (next) {
			let decoded: RegExpExecArray | null = null;
			try {
				decoded = /^(.+):(\d+)$/.exec(atob(next));
			} catch {
				// not base64: refused below
			}
			if (!decoded || decoded[1] !== orderId) return errors(400, "InvalidInput", "Invalid NextToken", "", rate);
			offset = Number(decoded[2]);
		}
		const page = stored.items.slice(offset, offset + stored.itemsPerPage).map((item) => {
			if (pii.has("buyerInfo") || !("BuyerInfo" in item)) return item;
			const { BuyerInfo: _restricted, ...rest } = item;
			return rest;
		});
		const more = offset + stored.itemsPerPage < stored.items.length;
		const payload: Json = { AmazonOrderId: orderId, OrderItems: page };
		if (more) payload.NextToken = btoa(`${orderId}:${offset + stored.itemsPerPage}`);
		return Response.json({ payload }, { headers: { "x-amzn-RequestId": uuid(), ...rate } });
	}

	/** confirmShipment: ConfirmShipmentRequest / PackageDetail as ordersV0.json defines them. */
	#confirm(stored: StoredOrder, raw: string, rate: Record<string, string>): Response {
		const invalid = (message: string) => errors(400, "InvalidInput", message, "", rate);
		let body: Json;
		try {
			const parsed: unknown = JSON.parse(raw);
			if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error();
			body = parsed as Json;
		} catch {
			return invalid("Invalid Input");
		}
		const order = stored.order;
		if (typeof body.marketplaceId !== "string" || !body.marketplaceId) return invalid("marketplaceId is required.");
		if (body.marketplaceId !== order.MarketplaceId) return invalid("Marketplace id is not defined");
		const detail = body.packageDetail as Json | undefined;
		if (typeof detail !== "object" || detail === null) return invalid("packageDetail is required.");
		// A JSON number here is refused (selling-partner-api-models issue #5094, wording quoted).
		if (typeof detail.packageReferenceId !== "string") {
			return invalid("The input you have submitted is not valid. Please check the fields with invalid type [packageDetail.packageReferenceId].");
		}
		// "Only positive numeric values are supported." (wording quoted from jlevers/selling-partner-api issue #489).
		if (!/^[1-9]\d{0,17}$/.test(detail.packageReferenceId)) return invalid("PackageReferenceId: is invalid, must be a positive numeric value.");
		if (typeof detail.carrierCode !== "string" || !detail.carrierCode) return invalid("carrierCode is required for all marketplaces.");
		if (detail.carrierCode === "Other" && (typeof detail.carrierName !== "string" || !detail.carrierName)) return invalid("carrierName is required when carrierCode is Other.");
		if (typeof detail.trackingNumber !== "string" || !detail.trackingNumber) return invalid("trackingNumber is required.");
		// The model's 400 sandbox case sends "shipDate": "02/21/2022" and gets "Invalid Input".
		if (typeof detail.shipDate !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(detail.shipDate) || Number.isNaN(Date.parse(detail.shipDate))) {
			return invalid("Invalid Input");
		}
		if (!Array.isArray(detail.orderItems) || detail.orderItems.length === 0) return invalid("orderItems is required.");
		const lines: Array<{ orderItemId: string; quantity: number }> = [];
		for (const entry of detail.orderItems as unknown[]) {
			const line = entry as Json;
			const item = stored.items.find((i) => i.OrderItemId === line?.orderItemId);
			if (!item) return invalid(`Invalid orderItemId ${JSON.stringify(line?.orderItemId)} for order ${order.AmazonOrderId}.`);
			if (!Number.isInteger(line.quantity) || (line.quantity as number) <= 0) return invalid(`quantity of order item ${item.OrderItemId} must be a positive integer.`);
			lines.push({ orderItemId: item.OrderItemId as string, quantity: line.quantity as number });
		}
		const status = order.OrderStatus as string;
		if (status === "Canceled") return invalid(`Order ${order.AmazonOrderId} is canceled and cannot be shipped.`);
		if (status === "Pending" || status === "PendingAvailability") return invalid(`Order ${order.AmazonOrderId} is ${status}: payment is not authorized yet.`);

		const reference = detail.packageReferenceId;
		const elsewhere = (orderItemId: string) =>
			[...stored.packages.values()]
				.filter((p) => p.packageReferenceId !== reference)
				.flatMap((p) => p.orderItems)
				.filter((l) => l.orderItemId === orderItemId)
				.reduce((sum, l) => sum + l.quantity, 0);
		const requested = new Map<string, number>();
		for (const line of lines) requested.set(line.orderItemId, (requested.get(line.orderItemId) ?? 0) + line.quantity);
		for (const [orderItemId, quantity] of requested) {
			const item = stored.items.find((i) => i.OrderItemId === orderItemId)!;
			if (elsewhere(orderItemId) + quantity > (item.QuantityOrdered as number)) {
				// The sandbox's wording; Amazon's own for a fully shipped order reads "Failed to create
				// package due to not finding a matching package or order already fulfilled." (issue #5037).
				return invalid(`Quantity ${quantity} of order item ${orderItemId} is more than is left to ship.`);
			}
		}
		const previous = stored.packages.get(reference);
		stored.packages.set(reference, {
			packageReferenceId: reference,
			carrierCode: detail.carrierCode,
			carrierName: typeof detail.carrierName === "string" ? detail.carrierName : null,
			trackingNumber: detail.trackingNumber,
			shipDate: detail.shipDate,
			orderItems: lines,
			submissions: (previous?.submissions ?? 0) + 1,
		});
		this.#settle(stored);
		return new Response(null, { status: 204, headers: { "x-amzn-RequestId": uuid(), ...rate } });
	}

	/** QuantityShipped, the item counts and the order status from the packages. */
	#settle(stored: StoredOrder): void {
		let shipped = 0;
		let ordered = 0;
		for (const item of stored.items) {
			const quantity = [...stored.packages.values()].flatMap((p) => p.orderItems).filter((l) => l.orderItemId === item.OrderItemId).reduce((sum, l) => sum + l.quantity, 0);
			item.QuantityShipped = quantity;
			shipped += quantity;
			ordered += item.QuantityOrdered as number;
		}
		const order = stored.order;
		order.NumberOfItemsShipped = shipped;
		order.NumberOfItemsUnshipped = Math.max(0, ordered - shipped);
		if (order.OrderStatus !== "Canceled") order.OrderStatus = shipped === 0 ? order.OrderStatus : shipped >= ordered ? "Shipped" : "PartiallyShipped";
		order.LastUpdateDate = nowSeconds();
	}

	/** patchListingsItem (listingsItems_2021-08-01.json): 200 with ACCEPTED or INVALID. */
	#patch(sellerId: string, sku: string, url: URL, raw: string, rate: Record<string, string>): Response {
		if (sellerId !== SANDBOX_AMAZON_SELLER_ID) return errors(403, "Unauthorized", "Access to requested resource is denied.", "", rate);
		const marketplaces = url.searchParams.get("marketplaceIds")?.split(",").filter(Boolean) ?? [];
		if (marketplaces.length === 0) return errors(400, "InvalidInput", "Missing required parameter: marketplaceIds", "", rate);
		// The model's 400 sandbox answer: {"code":"BAD_REQUEST","message":"Invalid input","details":"Invalid input"}.
		const bad = () => errors(400, "BAD_REQUEST", "Invalid input", "Invalid input", rate);
		let body: Json;
		try {
			body = JSON.parse(raw) as Json;
		} catch {
			return bad();
		}
		if (typeof body !== "object" || body === null || typeof body.productType !== "string" || !Array.isArray(body.patches) || body.patches.length === 0) return bad();
		const patches = body.patches as Json[];
		for (const patch of patches) {
			if (typeof patch !== "object" || patch === null || !["add", "replace", "delete", "merge"].includes(patch.op as string) || typeof patch.path !== "string") return bad();
			if (patch.op !== "delete" && !Array.isArray(patch.value)) return bad();
		}
		const submissionId = uuid();
		const issues: Json[] = [];
		// Issue codes and wording below are the sandbox's; the issue shape is the model's.
		const issue = (code: string, message: string, attributeNames: string[] = []) => issues.push({ code, message, severity: "ERROR", attributeNames });
		const listing = this.#listings.get(`${sellerId}/${sku}`);
		if (!listing) issue("SKU_NOT_FOUND", `SKU '${sku}' does not exist for seller ${sellerId} in marketplace ${marketplaces.join(",")}.`);
		if (listing && body.productType !== listing.productType && body.productType !== "PRODUCT") {
			issue("PRODUCT_TYPE_MISMATCH", `Product type ${body.productType} does not match the listing's ${listing.productType}.`, []);
		}
		for (const patch of patches) {
			if (!(patch.path as string).startsWith("/attributes/") || (patch.path as string).split("/").length !== 3) {
				issue("INVALID_PATH", `Only top-level attributes can be patched, not ${patch.path as string}.`);
				continue;
			}
			if (patch.path !== "/attributes/fulfillment_availability" || patch.op === "delete") continue;
			for (const entry of patch.value as Json[]) {
				// "You must provide non-empty values for the selector field such as fulfillment_channel_code."
				if (typeof entry?.fulfillment_channel_code !== "string" || !entry.fulfillment_channel_code) {
					issue("MISSING_SELECTOR", "fulfillment_channel_code is required.", ["fulfillment_availability"]);
				}
				if (entry?.quantity !== undefined && (!Number.isInteger(entry.quantity) || (entry.quantity as number) < 0)) {
					issue("INVALID_VALUE", "quantity must be a whole number of at least 0.", ["fulfillment_availability"]);
				}
			}
		}
		const status = issues.length > 0 ? "INVALID" : "ACCEPTED";
		if (listing) {
			listing.submissions.push({ submissionId, status, patches });
			if (status === "ACCEPTED") for (const patch of patches) applyPatch(listing, patch);
		}
		return Response.json({ sku, status, submissionId, issues }, { headers: { "x-amzn-RequestId": uuid(), ...rate } });
	}

	/**
	 * searchListingsItems (GET /listings/2021-08-01/items/{sellerId}): the seller's listings,
	 * `pageSize` 1–20 (default 10) with an opaque `pageToken`, at most 1,000 results paged through
	 * ("The maximum number of items (SKUs) that can be returned and paged through is 1000").
	 * `identifiers` with `identifiersType=SKU` filters by SKU; `includedData` picks summaries and
	 * fulfillmentAvailability (the listing's fulfillment_availability attribute). `sortBy` sku or
	 * createdDate (seeding order; the sandbox keeps no other dates, so lastUpdatedDate, the
	 * default, sorts the same), `sortOrder` ASC or DESC (default).
	 */
	#searchListings(sellerId: string, url: URL, rate: Record<string, string>): Response {
		if (sellerId !== SANDBOX_AMAZON_SELLER_ID) return errors(403, "Unauthorized", "Access to requested resource is denied.", "", rate);
		const q = url.searchParams;
		const marketplaces = q.get("marketplaceIds")?.split(",").filter(Boolean) ?? [];
		if (marketplaces.length !== 1) return errors(400, "InvalidInput", "marketplaceIds must name one marketplace", "", rate);
		const pageSize = q.has("pageSize") ? Number(q.get("pageSize")) : 10;
		if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 20) return errors(400, "InvalidInput", "pageSize must be between 1 and 20", "", rate);
		const included = new Set((q.get("includedData") ?? "summaries").split(","));
		const identifiers = q.get("identifiers")?.split(",").filter(Boolean);
		if (identifiers && q.get("identifiersType") !== "SKU") return errors(400, "InvalidInput", "The sandbox searches identifiers of type SKU only", "", rate);
		let rows = [...this.#listings.values()].filter((l) => l.sellerId === sellerId && (!identifiers || identifiers.includes(l.sku)));
		if (q.get("sortBy") === "sku") rows.sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
		if ((q.get("sortOrder") ?? "DESC") === "DESC") rows = rows.reverse();
		const offset = q.get("pageToken") ? Number(safeAtob(q.get("pageToken")!)) : 0;
		if (!Number.isInteger(offset) || offset < 0) return errors(400, "InvalidInput", "Invalid pageToken", "", rate);
		const reachable = Math.min(rows.length, 1000);
		const page = rows.slice(offset, Math.min(offset + pageSize, reachable));
		const end = offset + page.length;
		const items = page.map((listing) => ({
			sku: listing.sku,
			...(included.has("summaries")
				? { summaries: [{ marketplaceId: marketplaces[0], productType: listing.productType, conditionType: "new_new", status: ["BUYABLE"], itemName: `Sandbox ${listing.sku}` }] }
				: {}),
			...(included.has("fulfillmentAvailability")
				? {
						fulfillmentAvailability: (listing.attributes.fulfillment_availability ?? []).map((entry) => ({
							fulfillmentChannelCode: entry.fulfillment_channel_code,
							...(Number.isInteger(entry.quantity) ? { quantity: entry.quantity } : {}),
						})),
					}
				: {}),
		}));
		const pagination = {
			...(end < reachable ? { nextToken: btoa(String(end)) } : {}),
			...(offset > 0 ? { previousToken: btoa(String(Math.max(0, offset - pageSize))) } : {}),
		};
		return Response.json(
			{ numberOfResults: rows.length, ...(Object.keys(pagination).length > 0 ? { pagination } : {}), items },
			{ headers: { "x-amzn-RequestId": uuid(), ...rate } },
		);
	}

	/** An ORDER_CHANGE notification for the order's current state (OrderChangeNotification.json). */
	#notification(stored: StoredOrder, options: NotifyOptions): Json {
		const order = stored.order;
		const now = new Date().toISOString();
		const address = order.ShippingAddress as Json | undefined;
		return {
			NotificationVersion: "1.0",
			NotificationType: "ORDER_CHANGE",
			PayloadVersion: "1.0",
			EventTime: now,
			Payload: {
				OrderChangeNotification: {
					NotificationLevel: "OrderLevel",
					SellerId: stored.sellerId,
					AmazonOrderId: order.AmazonOrderId,
					OrderChangeType: options.changeType ?? "OrderStatusChange",
					OrderChangeTrigger: { TimeOfOrderChange: order.LastUpdateDate ?? null, ChangeReason: options.changeReason ?? "Order status changed" },
					Summary: {
						MarketplaceId: order.MarketplaceId,
						OrderStatus: order.OrderStatus,
						PurchaseDate: order.PurchaseDate ?? null,
						DestinationPostalCode: (address?.PostalCode as string | undefined) ?? null,
						FulfillmentType: order.FulfillmentChannel === "AFN" ? "AFN" : "MFN",
						OrderType: order.OrderType ?? "StandardOrder",
						NumberOfItemsShipped: order.NumberOfItemsShipped ?? 0,
						NumberOfItemsUnshipped: order.NumberOfItemsUnshipped ?? 0,
						...(order.EarliestShipDate ? { EarliestShipDate: order.EarliestShipDate } : {}),
						...(order.LatestShipDate ? { LatestShipDate: order.LatestShipDate } : {}),
						OrderItems: stored.items.map((item) => ({
							OrderItemId: item.OrderItemId,
							SellerSKU: item.SellerSKU ?? "",
							SupplySourceId: null,
							OrderItemStatus: (item.QuantityShipped ?? 0) === item.QuantityOrdered ? "Shipped" : "Unshipped",
							Quantity: item.QuantityOrdered,
							QuantityShipped: item.QuantityShipped ?? 0,
						})),
					},
				},
			},
			NotificationMetadata: {
				ApplicationId: APPLICATION_ID,
				SubscriptionId: `subscription-id-${uuid()}`,
				PublishTime: now,
				NotificationId: uuid(),
			},
		};
	}

	/** The request an API destination would make for this notification. */
	#delivery(stored: StoredOrder, options: NotifyOptions) {
		const notification = this.#notification(stored, options);
		const text = JSON.stringify(notification);
		const region = "us-east-1";
		const account = "123456789012";
		const sqs = {
			messageId: uuid(),
			receiptHandle: `AQEB${uuid().replaceAll("-", "")}`,
			body: text,
			attributes: { ApproximateReceiveCount: "1", SentTimestamp: String(Date.now()), SenderId: "AIDAISMY7JYY5F7RTT6AO", ApproximateFirstReceiveTimestamp: String(Date.now()) },
			messageAttributes: {},
			eventSource: "aws:sqs",
			eventSourceARN: `arn:aws:sqs:${region}:${account}:sp-api-notifications`,
			awsRegion: region,
		};
		const event = (detailType: string, source: string, detail: unknown) => ({
			version: "0",
			id: uuid(),
			"detail-type": detailType,
			source,
			account,
			time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
			region,
			resources: [],
			detail,
		});
		const partnerSource = `aws.partner/sellingpartnerapi.amazon.com/${account}/${APPLICATION_ID}`;
		let body: unknown;
		switch (options.envelope ?? "eventbridge") {
			case "raw":
				body = notification;
				break;
			case "eventbridge":
				body = event("ORDER_CHANGE", partnerSource, notification);
				break;
			case "eventbridge-body":
				body = event("ORDER_CHANGE", partnerSource, text);
				break;
			case "pipe-bus":
				body = event("Event from aws:sqs", "Pipe sp-api-order-change", sqs);
				break;
			case "sqs":
				body = sqs;
				break;
			case "sqs-batch":
				body = [sqs];
				break;
		}
		return {
			key: stored.order.AmazonOrderId as string,
			path: `/webhooks/amazon/${options.connection ?? "amazon-demo"}`,
			headers: {
				"content-type": "application/json; charset=utf-8",
				"user-agent": "Amazon/EventBridge/ApiDestinations",
				[(options.header ?? "x-api-key").toLowerCase()]: options.key ?? this.#notificationKey,
			},
			body: JSON.stringify(body),
			notificationId: (notification.NotificationMetadata as Json).NotificationId as string,
		};
	}

	#notify(stored: StoredOrder, options: NotifyOptions): Response {
		const { notificationId, ...callback } = this.#delivery(stored, options);
		const amazonOrderId = stored.order.AmazonOrderId;
		if (options.deliver === "return") return Response.json({ amazonOrderId, notificationId, callback });
		this.#callbacks.enqueue(callback);
		return Response.json({ amazonOrderId, notificationId, queued: true });
	}

	/** Test and demo controls, no auth. */
	async #control(request: Request, url: URL): Promise<Response> {
		const path = url.pathname;
		const input = async () => (await request.json().catch(() => ({}))) as Json;
		const orderMatch = /^\/sandbox\/amazon\/orders\/([^/]+)(\/status)?$/.exec(path);
		if (orderMatch) {
			const stored = this.#orders.get(decodeURIComponent(orderMatch[1]!));
			if (!stored) return Response.json({ error: "no such order" }, { status: 404 });
			if (request.method === "GET" && !orderMatch[2]) {
				return Response.json({ order: stored.order, items: stored.items, packages: [...stored.packages.values()], confirmAttempts: stored.confirmAttempts });
			}
			if (request.method === "POST" && orderMatch[2]) {
				const body = await input();
				if (typeof body.status !== "string") return Response.json({ error: "status is required" }, { status: 400 });
				stored.order.OrderStatus = body.status;
				stored.order.LastUpdateDate = nowSeconds();
				if (body.notify) return this.#notify(stored, body.notify === true ? {} : (body.notify as NotifyOptions));
				return Response.json({ order: stored.order });
			}
		}
		const listingMatch = /^\/sandbox\/amazon\/listings\/([^/]+)$/.exec(path);
		if (listingMatch && request.method === "GET") {
			const listing = this.#listings.get(`${SANDBOX_AMAZON_SELLER_ID}/${decodeURIComponent(listingMatch[1]!)}`);
			return listing ? Response.json(listing) : Response.json({ error: "no such listing" }, { status: 404 });
		}
		switch (`${request.method} ${path}`) {
			case "POST /sandbox/amazon/orders": {
				const body = await input();
				const seeded = body.order ? this.#seedVerbatim(body) : this.#seedBuilt(body);
				if ("error" in seeded) return Response.json(seeded, { status: 400 });
				this.#orders.set(seeded.order.AmazonOrderId as string, seeded);
				if (body.notify) return this.#notify(seeded, body.notify === true ? {} : (body.notify as NotifyOptions));
				return Response.json({ amazonOrderId: seeded.order.AmazonOrderId, items: seeded.items.map((i) => ({ orderItemId: i.OrderItemId, sku: i.SellerSKU, quantity: i.QuantityOrdered })) });
			}
			case "POST /sandbox/amazon/notify": {
				const body = (await input()) as NotifyOptions & { amazonOrderId?: string };
				const stored = this.#orders.get(body.amazonOrderId ?? "");
				if (!stored) return Response.json({ error: "no such order" }, { status: 404 });
				return this.#notify(stored, body);
			}
			case "POST /sandbox/amazon/listings": {
				const body = await input();
				if (typeof body.sku !== "string" || !body.sku) return Response.json({ error: "sku is required" }, { status: 400 });
				const availability: Json = { fulfillment_channel_code: "DEFAULT", quantity: Number.isInteger(body.quantity) ? body.quantity : 0 };
				if (Number.isInteger(body.leadTimeDays)) availability.lead_time_to_ship_max_days = body.leadTimeDays;
				const listing: Listing = {
					sellerId: SANDBOX_AMAZON_SELLER_ID,
					sku: body.sku,
					productType: typeof body.productType === "string" ? body.productType : "PRODUCT",
					attributes: { fulfillment_availability: [availability] },
					submissions: [],
				};
				this.#listings.set(`${listing.sellerId}/${listing.sku}`, listing);
				return Response.json(listing);
			}
			case "POST /sandbox/amazon/inventory/drift": {
				// The seller edits the quantity in Seller Central behind ordersync's back (no submission recorded).
				const body = await input();
				const listing = this.#listings.get(`${SANDBOX_AMAZON_SELLER_ID}/${String(body.sku ?? "")}`);
				if (!listing || !Number.isInteger(body.quantity)) return Response.json({ error: "send { sku, quantity } for a seeded listing" }, { status: 400 });
				applyPatch(listing, { op: "merge", path: "/attributes/fulfillment_availability", value: [{ fulfillment_channel_code: "DEFAULT", quantity: body.quantity }] });
				return Response.json(listing);
			}
			case "POST /sandbox/amazon/fail": {
				// { operation: "getOrder", statuses: [429, 403] }: the next calls of that operation (by
				// its SP-API name) answer so, one status each; faults, by contrast, hit whichever call comes next.
				const body = await input();
				if (body.clear) this.#operationFailures = [];
				if (body.clear && body.operation === undefined) return Response.json({ pending: [] });
				if (typeof body.operation !== "string" || !Array.isArray(body.statuses)) return Response.json({ error: "operation and statuses are required" }, { status: 400 });
				for (const status of body.statuses as unknown[]) if (Number.isInteger(status)) this.#operationFailures.push({ operation: body.operation, status: status as number });
				return Response.json({ pending: this.#operationFailures });
			}
			case "GET /sandbox/amazon/tokens":
				return Response.json(this.#tokensState());
			case "POST /sandbox/amazon/tokens": {
				// dataElements: what the application is approved for (its restricted roles; all by
				// default); refusal: 400 or 403, how elements it lacks are refused; rdtTtlSeconds:
				// expiresIn of new RDTs; expire: RDTs already issued expire; reset: all of it back to
				// the defaults, the counts to zero.
				const body = await input();
				if (body.reset) {
					this.#approved = new Set(DATA_ELEMENTS);
					this.#refusal = 400;
					this.#rdtTtlSeconds = 3600;
					this.#rdt = { issued: 0, refused: 0, used: 0, denied: 0 };
				}
				if (Array.isArray(body.dataElements)) this.#approved = new Set((body.dataElements as unknown[]).filter((e): e is string => typeof e === "string"));
				if (body.refusal === 400 || body.refusal === 403) this.#refusal = body.refusal;
				if (Number.isInteger(body.rdtTtlSeconds) && (body.rdtTtlSeconds as number) > 0) this.#rdtTtlSeconds = body.rdtTtlSeconds as number;
				if (body.expire) for (const rdt of this.#rdts.values()) rdt.expiresAt = 0;
				return Response.json(this.#tokensState());
			}
			case "GET /sandbox/amazon/lwa":
				return Response.json({ ...this.#lwa, tokenTtlSeconds: this.#tokenTtlSeconds, live: this.#tokens.size });
			case "POST /sandbox/amazon/lwa": {
				// tokenTtlSeconds: expires_in of new tokens; expire / revoke: what the SP-API then says
				// of tokens already issued; fail: statuses the next token requests answer with.
				const body = await input();
				if (Number.isInteger(body.tokenTtlSeconds) && (body.tokenTtlSeconds as number) > 0) this.#tokenTtlSeconds = body.tokenTtlSeconds as number;
				if (body.expire) for (const token of this.#tokens.keys()) this.#tokens.set(token, 0);
				if (body.revoke) {
					this.#tokens.clear();
					this.#rdts.clear();
				}
				if (Array.isArray(body.fail)) this.#lwaFailures.push(...(body.fail as number[]));
				return Response.json({ ...this.#lwa, tokenTtlSeconds: this.#tokenTtlSeconds, live: this.#tokens.size });
			}
		}
		return Response.json({ error: "Not Found" }, { status: 404 });
	}

	#tokensState() {
		return { dataElements: [...this.#approved], refusal: this.#refusal, rdtTtlSeconds: this.#rdtTtlSeconds, ...this.#rdt, live: this.#rdts.size };
	}

	/** Stores a getOrder payload and its items as given (a documented example, say). */
	#seedVerbatim(body: Json): StoredOrder | { error: string } {
		const unwrap = (value: unknown) => (value && typeof value === "object" && "payload" in value ? (value as Json).payload : value);
		const order = structuredClone(unwrap(body.order)) as Json;
		const itemsIn = unwrap(body.items);
		const items = structuredClone(Array.isArray(itemsIn) ? itemsIn : ((itemsIn as Json | undefined)?.OrderItems ?? [])) as Json[];
		if (typeof order?.AmazonOrderId !== "string") return { error: "order.AmazonOrderId is required" };
		return stored(body, order, items);
	}

	/**
	 * Builds an MFN order in the documented shape from
	 * `{ amazonOrderId?, status?, marketplaceId?, currency?, shipping?, shipTo?, buyer?, lastUpdateDate?, lines: [{ sku, title?, quantity, price, tax? }] }`
	 * (prices as decimal strings with two decimals). `shipTo` takes the canonical address fields
	 * (name, company, address1, address2, city, provinceCode, zip, countryCode, phone) and `buyer`
	 * `{ name?, email? }`; by default the order goes to John Doe at the documented example's
	 * 1 Cross St., Canton MI. The sandbox holds all of it; getOrder shows the name, street and
	 * phone only to a Restricted Data Token.
	 */
	#seedBuilt(body: Json): StoredOrder | { error: string } {
		const lines = Array.isArray(body.lines) ? (body.lines as Json[]) : [];
		if (lines.length === 0) return { error: "lines are required: [{ sku, quantity, price }]" };
		const currency = typeof body.currency === "string" ? body.currency : "USD";
		const cents = (value: unknown) => {
			const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(String(value ?? "0"));
			if (!match) throw new Error(`not a price: ${String(value)}`);
			return Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
		};
		const text = (value: number) => `${Math.floor(value / 100)}.${String(value % 100).padStart(2, "0")}`;
		const m = (value: number) => ({ CurrencyCode: currency, Amount: text(value) });
		let total = 0;
		let units = 0;
		const items: Json[] = [];
		try {
			const shipping = cents(body.shipping);
			for (const [i, line] of lines.entries()) {
				if (typeof line.sku !== "string" || !Number.isInteger(line.quantity) || (line.quantity as number) <= 0) return { error: `lines[${i}]: sku and a positive quantity are required` };
				const quantity = line.quantity as number;
				const price = cents(line.price) * quantity;
				const tax = cents(line.tax);
				const ship = i === 0 ? shipping : 0;
				total += price + tax + ship;
				units += quantity;
				items.push({
					ASIN: `B0${digits(8)}`,
					OrderItemId: digits(14),
					SellerSKU: line.sku,
					Title: typeof line.title === "string" ? line.title : line.sku,
					QuantityOrdered: quantity,
					QuantityShipped: 0,
					ProductInfo: { NumberOfItems: "1" },
					ItemPrice: m(price),
					ItemTax: m(tax),
					...(ship ? { ShippingPrice: m(ship), ShippingTax: m(0), ShippingDiscount: m(0) } : {}),
					PromotionDiscount: m(0),
					IsGift: "false",
					ConditionId: "New",
					ConditionSubtypeId: "New",
					IsTransparency: false,
					SerialNumberRequired: false,
				});
			}
		} catch (error) {
			return { error: (error as Error).message };
		}
		const now = Date.now();
		const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
		const shipTo = (body.shipTo ?? {}) as Json;
		const buyer = (body.buyer ?? {}) as Json;
		const str = (value: unknown, fallback?: string) => (typeof value === "string" ? value : fallback);
		const name = str(shipTo.name, "John Doe");
		const order: Json = {
			AmazonOrderId: typeof body.amazonOrderId === "string" ? body.amazonOrderId : `11${digits(1)}-${digits(7)}-${digits(7)}`,
			PurchaseDate: typeof body.lastUpdateDate === "string" ? body.lastUpdateDate : iso(now),
			LastUpdateDate: typeof body.lastUpdateDate === "string" ? body.lastUpdateDate : iso(now),
			OrderStatus: typeof body.status === "string" ? body.status : "Unshipped",
			FulfillmentChannel: "MFN",
			SalesChannel: "Amazon.com",
			ShipServiceLevel: "Std US D2D Dom",
			OrderTotal: m(total),
			NumberOfItemsShipped: 0,
			NumberOfItemsUnshipped: units,
			PaymentMethod: "Other",
			PaymentMethodDetails: ["Standard"],
			IsReplacementOrder: false,
			MarketplaceId: typeof body.marketplaceId === "string" ? body.marketplaceId : DEFAULT_MARKETPLACE,
			ShipmentServiceLevelCategory: "Standard",
			OrderType: "StandardOrder",
			EarliestShipDate: iso(now + 86_400_000),
			LatestShipDate: iso(now + 2 * 86_400_000),
			EarliestDeliveryDate: iso(now + 3 * 86_400_000),
			LatestDeliveryDate: iso(now + 6 * 86_400_000),
			IsBusinessOrder: false,
			IsPrime: false,
			IsGlobalExpressEnabled: false,
			IsPremiumOrder: false,
			IsSoldByAB: false,
			IsIBA: false,
			IsISPU: false,
			IsAccessPointOrder: false,
			ShippingAddress: dropUndefined({
				Name: name,
				CompanyName: str(shipTo.company),
				AddressLine1: str(shipTo.address1, "1 Cross St."),
				AddressLine2: str(shipTo.address2),
				City: str(shipTo.city, "CANTON"),
				StateOrRegion: str(shipTo.provinceCode, "MI"),
				PostalCode: str(shipTo.zip, "48817"),
				CountryCode: str(shipTo.countryCode, "US"),
				Phone: str(shipTo.phone, "+1 734-555-0142"),
				AddressType: str(shipTo.company) ? "Commercial" : "Residential",
			}),
			BuyerInfo: { BuyerEmail: str(buyer.email, `${digits(12)}@marketplace.amazon.com`), BuyerName: str(buyer.name, name) },
			AutomatedShippingSettings: { HasAutomatedShippingSettings: false },
			EasyShipShipmentStatus: null,
			ElectronicInvoiceStatus: "NotRequired",
		};
		return stored(body, order, items);
	}
}

function operationOf(method: string, path: string): string | null {
	if (path.startsWith("/amazon/tokens/")) return "createRestrictedDataToken";
	if (method === "GET" && /^\/amazon\/listings\/2021-08-01\/items\/[^/]+$/.test(path)) return "searchListingsItems";
	if (path.startsWith("/amazon/listings/")) return "patchListingsItem";
	if (method === "POST" && path.endsWith("/shipmentConfirmation")) return "confirmShipment";
	if (path.endsWith("/orderItems")) return "getOrderItems";
	if (path === "/amazon/orders/v0/orders") return "getOrders";
	if (path.startsWith("/amazon/orders/")) return "getOrder";
	return null;
}

/** JSON-patch ops on a top-level attribute; `merge` updates the entries with the same selector. */
function applyPatch(listing: Listing, patch: Json): void {
	const name = (patch.path as string).split("/")[2]!;
	const value = (patch.value as Json[] | undefined) ?? [];
	switch (patch.op) {
		case "add":
		case "replace":
			listing.attributes[name] = structuredClone(value);
			break;
		case "delete":
			delete listing.attributes[name];
			break;
		case "merge": {
			const current = (listing.attributes[name] ??= []);
			for (const entry of value) {
				const existing = current.find((c) => c.fulfillment_channel_code === entry.fulfillment_channel_code);
				if (existing) Object.assign(existing, structuredClone(entry));
				else current.push(structuredClone(entry));
			}
			break;
		}
	}
}

function safeAtob(token: string): string {
	try {
		return atob(token);
	} catch {
		return "NaN";
	}
}

function safeDecode(path: string): string {
	try {
		return decodeURIComponent(path);
	} catch {
		return path;
	}
}

/**
 * getOrder's payload as Amazon returns it for a token that unlocks `pii`: ShippingAddress only
 * for orders that are Unshipped, PartiallyShipped, Shipped or InvoiceUnconfirmed, and then only
 * city, region, postal code and country without shippingAddress ("Use a Restricted Data Token
 * (RDT) … to access the restricted data in ShippingAddress, for example, Name, AddressLine1,
 * AddressLine2, AddressLine3, Phone, AddressType and ExtendedFields"); BuyerInfo only its
 * anonymized email without buyerInfo ("restricted data in BuyerInfo, for example, BuyerName,
 * BuyerTaxInfo, PurchaseOrderNumber"); BuyerTaxInformation only with buyerTaxInformation.
 */
function redactOrder(order: Json, pii: Set<string>): Json {
	const copy = structuredClone(order);
	const pick = (value: unknown, keep: string[]) =>
		Object.fromEntries(Object.entries((value ?? {}) as Json).filter(([key]) => keep.includes(key)));
	if (!ADDRESS_STATUSES.has(copy.OrderStatus as string)) delete copy.ShippingAddress;
	else if (copy.ShippingAddress && !pii.has("shippingAddress")) copy.ShippingAddress = pick(copy.ShippingAddress, PUBLIC_ADDRESS_FIELDS);
	if (copy.BuyerInfo && !pii.has("buyerInfo")) copy.BuyerInfo = pick(copy.BuyerInfo, PUBLIC_BUYER_FIELDS);
	if (!pii.has("buyerTaxInformation")) delete copy.BuyerTaxInformation;
	return copy;
}

function dropUndefined(fields: Record<string, string | undefined>): Json {
	return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/** A seeded order as the sandbox keeps it: nothing shipped yet, items paged as asked (default 100). */
function stored(body: Json, order: Json, items: Json[]): StoredOrder {
	return {
		sellerId: typeof body.sellerId === "string" ? body.sellerId : SANDBOX_AMAZON_SELLER_ID,
		order,
		items,
		packages: new Map(),
		confirmAttempts: 0,
		itemsPerPage: Number.isInteger(body.itemsPerPage) && (body.itemsPerPage as number) > 0 ? (body.itemsPerPage as number) : 100,
	};
}
