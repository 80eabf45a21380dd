/**
 * A local Shopify Admin GraphQL peer, for the tests and the demo. It speaks the part of the
 * documented protocol ordersync uses: the access-token header, variant lookup by SKU,
 * `inventorySetQuantities` with its required `@idempotent(key:)` directive and explicit
 * `changeFromQuantity`, the levels it set read back with `location(id:) { inventoryLevels }`
 * (cursor-paged; `POST /sandbox/shopify/inventory/drift` changes one behind ordersync's back), orders with their fulfillment orders, `fulfillmentCreate` and
 * `fulfillmentEventCreate`, Shopify Payments payouts (`node(id:)` on a `ShopifyPaymentsPayout`,
 * `shopifyPaymentsAccount { payouts, balanceTransactions(query: "payments_transfer_id:…") }`,
 * cursor-paged, over payouts stored with `POST /sandbox/shopify/payouts`), calculated-cost throttling with a leaky bucket (THROTTLED errors
 * with `extensions.cost.throttleStatus`), and the shared faults (sandbox/faults.ts): 5xx, 429
 * with Retry-After, cost throttling, slow answers, timeouts and lost responses.
 * It is not a GraphQL engine: operations are recognised by their root field, and queries answer
 * every field ordersync may select.
 */
import { type Faults, failAfter, failBefore, sleep } from "./faults";

type Variant = { sku: string; inventoryItemId: string };
type SetCall = { seq: number; at: string; key: string; inventoryItemId: string; sku: string | null; locationId: string; quantity: number; replayed: boolean };
type GraphqlResult = { data?: unknown; errors?: unknown[] };

type FulfillmentOrderLine = { id: string; lineItemId: string; totalQuantity: number; remainingQuantity: number };
type FulfillmentOrder = { id: string; orderId: string; status: "OPEN" | "IN_PROGRESS" | "CLOSED" | "CANCELLED"; locationId: string; lineItems: FulfillmentOrderLine[] };
type TrackingInfo = { company: string | null; number: string | null; url: string | null };
type FulfillmentEvent = { id: string; status: string; happenedAt: string; message: string | null; createdAt: string };
type Fulfillment = {
	id: string;
	orderId: string;
	status: "SUCCESS";
	createdAt: string;
	trackingInfo: TrackingInfo[];
	lineItems: Array<{ lineItemId: string; quantity: number }>;
	events: FulfillmentEvent[];
};
type Order = { id: string; name: string; fulfillmentOrderIds: string[]; fulfillmentIds: string[] };
type Json = Record<string, unknown>;
/** A payout as `ShopifyPaymentsPayout` answers, and its balance transactions as `ShopifyPaymentsBalanceTransaction` nodes. */
type StoredPayout = { payout: Json & { id: string; legacyResourceId: string; issuedAt: string }; transactions: Json[] };

/** Standard plan: 100 points a second; the bucket holds 20 seconds' worth. */
const STANDARD = { maximumAvailable: 2000, restoreRate: 100 };
/**
 * Calculated costs (https://shopify.dev/docs/api/usage/limits#cost-calculation): a mutation is
 * 10; the order read is estimated from its nested connections, rounded.
 */
const COST = { lookup: 3, set: 10, order: 40, fulfillmentCreate: 10, fulfillmentEventCreate: 10 };
/** The shop's one location, as in wrangler.toml's `admin.locationId`. */
const SHOP_LOCATION = "gid://shopify/Location/80001";
// FulfillmentEventStatus: https://shopify.dev/docs/api/admin-graphql/2026-10/enums/FulfillmentEventStatus
const EVENT_STATUSES = ["ATTEMPTED_DELIVERY", "CARRIER_PICKED_UP", "CONFIRMED", "DELAYED", "DELIVERED", "FAILURE", "IN_TRANSIT", "LABEL_PRINTED", "LABEL_PURCHASED", "OUT_FOR_DELIVERY", "READY_FOR_PICKUP"];

const numeric = (gid: string) => gid.split("/").pop() ?? gid;

/** A signed decimal string ("-41.9") in minor units, without floating point. */
function minorOf(text: string, exponent: number): number {
	const match = /^([-+])?(\d+)(?:\.(\d+))?$/.exec(text.trim());
	if (!match) return 0;
	const minor = Number((match[2] ?? "0") + (match[3] ?? "").padEnd(exponent, "0").slice(0, exponent));
	return match[1] === "-" ? -minor : minor;
}

function decimal(minor: number, exponent: number): string {
	if (exponent === 0) return String(minor);
	const digits = String(Math.abs(minor)).padStart(exponent + 1, "0");
	return `${minor < 0 ? "-" : ""}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

export class ShopifyAdminSandbox {
	#variants = new Map<string, Variant>();
	#available = new Map<string, { quantity: number; updatedAt: string }>();
	#idempotent = new Map<string, { input: string; body: unknown }>();
	#calls: SetCall[] = [];
	#orders = new Map<string, Order>();
	/** REST Order resources the shop lists (orders.json), by id, oldest placed first. */
	#restOrders = new Map<string, Json>();
	/** orders.json calls so far, and the test knobs of POST /sandbox/shopify/listing. */
	#restListings = 0;
	#listing: { maxPerPage: number; delayMs: number; throttle: { after: number; retryAfterSeconds: number; remaining: number } | null } = { maxPerPage: 250, delayMs: 0, throttle: null };
	#restBucket = { used: 0, at: Date.now() };
	#fulfillmentOrders = new Map<string, FulfillmentOrder>();
	#fulfillments = new Map<string, Fulfillment>();
	/** fulfillmentCreate calls per order and tracking number, counted before validation. */
	#createAttempts = new Map<string, number>();
	/** Shopify Payments payouts by numeric id. */
	#payouts = new Map<string, StoredPayout>();
	/** The shop's plan: Standard by default; tests and the demo may switch to Plus (20,000 / 1,000 a second). */
	#plan = { ...STANDARD };
	#bucket = { available: STANDARD.maximumAvailable, at: Date.now() };
	#nextItem = 44_000_000_000;
	#nextId = 5_000_000_000;
	#seq = 0;

	constructor(
		private readonly token: string,
		private readonly faults: Faults,
	) {}

	async fetch(request: Request): Promise<Response> {
		const url = new URL(request.url);
		if (url.pathname.startsWith("/sandbox/")) return this.#control(request, url);
		if (request.method === "POST" && /^\/admin\/api\/\d{4}-\d{2}\/graphql\.json$/.test(url.pathname)) return this.#graphql(request);
		if (request.method === "GET" && /^\/admin\/api\/\d{4}-\d{2}\/orders\.json$/.test(url.pathname)) return this.#listOrders(request, url);
		return Response.json({ errors: "Not Found" }, { status: 404 });
	}

	async #graphql(request: Request): Promise<Response> {
		if (request.headers.get("X-Shopify-Access-Token") !== this.token) {
			return Response.json({ errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" }, { status: 401 });
		}
		const raw = await request.text(); // read first: a fault answered early must not leave the body unread
		type Body = { query?: string; variables?: Record<string, unknown> };
		let body: Body | null;
		try {
			body = JSON.parse(raw) as Body;
		} catch {
			body = null;
		}
		const query = body?.query ?? "";
		const fault = this.#pickFault(/^\s*mutation\b/.test(query));
		if (fault?.kind === "throttle") return this.#throttled(COST.set, 0);
		const early = await failBefore(fault, {
			error5xx: (status) => Response.json({ errors: status === 503 ? "Service Unavailable" : "Internal Server Error" }, { status }),
			tooMany: (seconds) => Response.json({ errors: "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service." }, { status: 429, headers: { "Retry-After": seconds.toFixed(1) } }),
		});
		if (early) return early;
		if (!body) return Response.json({ errors: [{ message: "Invalid JSON in request body" }] }, { status: 400 });
		const variables = body.variables ?? {};
		const response = this.#route(query, variables);
		await failAfter(fault); // a lost response: the work is done, the answer comes too late
		return response;
	}

	#route(query: string, variables: Record<string, unknown>): Response {
		// Connections cost about one point per node asked for, plus the connection itself.
		const connectionCost = 2 + Math.min(250, Math.max(1, Number(variables.first) || 1));
		if (/\binventoryLevels\s*\(/.test(query)) return this.#spend(connectionCost, () => this.#inventoryLevels(variables));
		if (/\bbalanceTransactions\s*\(/.test(query)) return this.#spend(connectionCost, () => this.#balanceTransactions(variables));
		if (/\bpayouts\s*\(/.test(query)) return this.#spend(connectionCost, () => this.#payoutList(variables));
		if (/\bnode\s*\(/.test(query)) return this.#spend(1, () => this.#node(variables));
		if (/\binventorySetQuantities\s*\(/.test(query)) return this.#spend(COST.set, () => this.#setQuantities(query, variables));
		if (/\bfulfillmentEventCreate\s*\(/.test(query)) return this.#spend(COST.fulfillmentEventCreate, () => this.#fulfillmentEventCreate(variables));
		if (/\bfulfillmentCreate\s*\(/.test(query)) return this.#spend(COST.fulfillmentCreate, () => this.#fulfillmentCreate(variables));
		if (/\bproductVariants\s*\(/.test(query)) return this.#spend(COST.lookup, () => this.#lookup(variables));
		if (/\border\s*\(/.test(query)) return this.#spend(COST.order, () => this.#order(variables));
		return Response.json({
			errors: [{ message: "This sandbox answers productVariants, location (inventoryLevels), order, node, shopifyPaymentsAccount (payouts, balanceTransactions), inventorySetQuantities, fulfillmentCreate and fulfillmentEventCreate only", extensions: { code: "BAD_REQUEST" } }],
		});
	}

	/**
	 * The shared fault for this call. A lost response only matters where work was done, so a
	 * lost-response fault waiting at the head of the queue is kept for the next mutation rather
	 * than spent on a read.
	 */
	#pickFault(mutation: boolean) {
		const next = this.faults.list().find((f) => f.target === "shopify" || f.target === "*");
		if (!mutation && next && next.rate === undefined && next.kind === "lost-response") return null;
		return this.faults.pick("shopify");
	}

	/** Leaky bucket by calculated cost: refills continuously at the restore rate. */
	#spend(cost: number, run: () => GraphqlResult): Response {
		const now = Date.now();
		this.#bucket.available = Math.min(this.#plan.maximumAvailable, this.#bucket.available + ((now - this.#bucket.at) / 1000) * this.#plan.restoreRate);
		this.#bucket.at = now;
		if (this.#bucket.available < cost) return this.#throttled(cost, this.#bucket.available);
		this.#bucket.available -= cost;
		return Response.json({ ...run(), extensions: { cost: { requestedQueryCost: cost, actualQueryCost: cost, throttleStatus: this.#status() } } });
	}

	#throttled(cost: number, available: number): Response {
		return Response.json({
			errors: [{ message: "Throttled", extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" } }],
			extensions: { cost: { requestedQueryCost: cost, actualQueryCost: null, throttleStatus: { ...this.#plan, currentlyAvailable: Math.floor(available) } } },
		});
	}

	#status() {
		return { ...this.#plan, currentlyAvailable: Math.floor(this.#bucket.available) };
	}

	#lookup(variables: Record<string, unknown>): GraphqlResult {
		const match = /^sku:(?:"(.*)"|(\S+))$/.exec(String(variables.query ?? ""));
		const sku = match ? (match[1] !== undefined ? JSON.parse(`"${match[1]}"`) : match[2]) : null;
		const variant = sku === null ? undefined : this.#variants.get(sku);
		return { data: { productVariants: { nodes: variant ? [{ sku: variant.sku, inventoryItem: { id: variant.inventoryItemId } }] : [] } } };
	}

	#setQuantities(query: string, variables: Record<string, unknown>): GraphqlResult {
		const keyVariable = /@idempotent\s*\(\s*key:\s*\$(\w+)\s*\)/.exec(query)?.[1];
		const key = keyVariable ? variables[keyVariable] : undefined;
		if (typeof key !== "string" || key.length === 0) {
			return { errors: [{ message: "The @idempotent directive with a key is required for this mutation.", extensions: { code: "BAD_REQUEST" } }] };
		}
		const input = variables.input as { name?: string; reason?: string; referenceDocumentUri?: string; quantities?: Array<Record<string, unknown>> } | undefined;
		const signature = JSON.stringify(input ?? null);
		const earlier = this.#idempotent.get(key);
		if (earlier) {
			if (earlier.input !== signature) {
				return { errors: [{ message: "The idempotency key was already used with different input.", extensions: { code: "BAD_REQUEST" } }] };
			}
			const first = (input?.quantities ?? [])[0] ?? {};
			this.#record(key, String(first.inventoryItemId), String(first.locationId), Number(first.quantity), true);
			return earlier.body as GraphqlResult;
		}
		const userErrors: Array<{ code: string; field: string[]; message: string }> = [];
		if (input?.name !== "available" && input?.name !== "on_hand") userErrors.push({ code: "INVALID_NAME", field: ["input", "name"], message: "The quantity name must be either 'available' or 'on_hand'." });
		if (!input?.reason) userErrors.push({ code: "INVALID_REASON", field: ["input", "reason"], message: "The quantity couldn't be updated because the reason is invalid." });
		const quantities = input?.quantities ?? [];
		quantities.forEach((q, i) => {
			if (!("changeFromQuantity" in q)) userErrors.push({ code: "CHANGE_FROM_QUANTITY_REQUIRED", field: ["input", "quantities", String(i), "changeFromQuantity"], message: "changeFromQuantity must be provided (null to skip the check)." });
			if (![...this.#variants.values()].some((v) => v.inventoryItemId === q.inventoryItemId)) userErrors.push({ code: "INVALID_INVENTORY_ITEM", field: ["input", "quantities", String(i), "inventoryItemId"], message: "The specified inventory item could not be found." });
			if (!Number.isInteger(q.quantity) || (q.quantity as number) < 0) userErrors.push({ code: "INVALID_QUANTITY_NEGATIVE", field: ["input", "quantities", String(i), "quantity"], message: "The quantity can't be negative." });
		});
		if (userErrors.length > 0) return { data: { inventorySetQuantities: { inventoryAdjustmentGroup: null, userErrors } } };

		const now = new Date().toISOString();
		const changes = quantities.map((q) => {
			const slot = `${q.inventoryItemId}@${q.locationId}`;
			const before = this.#available.get(slot)?.quantity ?? 0;
			this.#available.set(slot, { quantity: q.quantity as number, updatedAt: now });
			this.#record(key, String(q.inventoryItemId), String(q.locationId), q.quantity as number, false);
			return { name: input!.name, delta: (q.quantity as number) - before, quantityAfterChange: q.quantity };
		});
		const body = {
			data: {
				inventorySetQuantities: {
					inventoryAdjustmentGroup: { createdAt: now, reason: input!.reason, referenceDocumentUri: input!.referenceDocumentUri ?? null, changes },
					userErrors: [],
				},
			},
		};
		this.#idempotent.set(key, { input: signature, body });
		return body;
	}

	/**
	 * `location(id:) { inventoryLevels(first, after) { pageInfo nodes { item { sku } quantities(names:) } } }`:
	 * the levels at a location, in the order they were first set, cursor-paged; null for an unknown location.
	 */
	#inventoryLevels(variables: Record<string, unknown>): GraphqlResult {
		const locationId = String(variables.location ?? variables.id ?? "");
		if (locationId !== SHOP_LOCATION) return { data: { location: null } };
		const items = new Map([...this.#variants.values()].map((v) => [v.inventoryItemId, v]));
		const rows = [...this.#available]
			.filter(([slot]) => slot.endsWith(`@${locationId}`))
			.map(([slot, state]) => {
				const itemId = slot.slice(0, slot.lastIndexOf("@"));
				return {
					id: `gid://shopify/InventoryLevel/${numeric(itemId)}?inventory_item_id=${numeric(itemId)}`,
					item: { id: itemId, sku: items.get(itemId)?.sku ?? null },
					location: { id: locationId },
					updatedAt: state.updatedAt,
					quantities: [{ name: "available", quantity: state.quantity }],
				};
			});
		const page = this.#page(rows, variables);
		if ("errors" in page) return page;
		return { data: { location: { id: locationId, inventoryLevels: page } } };
	}

	#record(key: string, inventoryItemId: string, locationId: string, quantity: number, replayed: boolean): void {
		const sku = [...this.#variants.values()].find((v) => v.inventoryItemId === inventoryItemId)?.sku ?? null;
		this.#calls.push({ seq: ++this.#seq, at: new Date().toISOString(), key, inventoryItemId, sku, locationId, quantity, replayed });
		if (this.#calls.length > 50_000) this.#calls.splice(0, 10_000);
	}

	// --- Orders and fulfilment -------------------------------------------------------------

	/**
	 * An order as Shopify creates it from a REST order body: one fulfillment order assigned to
	 * the shop's location for the line items that require shipping. Registering the same order
	 * again keeps what it has.
	 */
	#addOrder(json: Record<string, unknown>, locationId: string) {
		const orderId = `gid://shopify/Order/${String(json.id)}`;
		let order = this.#orders.get(orderId);
		if (!order) {
			order = { id: orderId, name: String(json.name ?? `#${json.id}`), fulfillmentOrderIds: [], fulfillmentIds: [] };
			const lines = (Array.isArray(json.line_items) ? json.line_items : []) as Array<Record<string, unknown>>;
			const items: FulfillmentOrderLine[] = [];
			for (const line of lines) {
				if (line.requires_shipping === false) continue;
				const total = Number(line.current_quantity ?? line.quantity ?? 0);
				const remaining = Number(line.fulfillable_quantity ?? total);
				if (total <= 0) continue;
				items.push({ id: `gid://shopify/FulfillmentOrderLineItem/${this.#nextId++}`, lineItemId: `gid://shopify/LineItem/${String(line.id)}`, totalQuantity: total, remainingQuantity: Math.max(0, remaining) });
			}
			if (items.length > 0) {
				const cancelled = json.cancelled_at !== null && json.cancelled_at !== undefined;
				const open = items.some((i) => i.remainingQuantity > 0);
				const fo: FulfillmentOrder = { id: `gid://shopify/FulfillmentOrder/${this.#nextId++}`, orderId, status: cancelled ? "CANCELLED" : open ? "OPEN" : "CLOSED", locationId, lineItems: items };
				this.#fulfillmentOrders.set(fo.id, fo);
				order.fulfillmentOrderIds.push(fo.id);
			}
			this.#orders.set(orderId, order);
		}
		return { id: order.id, fulfillmentOrders: order.fulfillmentOrderIds.map((id) => this.#fulfillmentOrderView(this.#fulfillmentOrders.get(id)!)) };
	}

	#fulfillmentOrderView(fo: FulfillmentOrder) {
		return {
			id: fo.id,
			status: fo.status,
			assignedLocation: { location: { id: fo.locationId } },
			lineItems: { nodes: fo.lineItems.map((i) => ({ id: i.id, totalQuantity: i.totalQuantity, remainingQuantity: i.remainingQuantity, lineItem: { id: i.lineItemId } })) },
		};
	}

	#fulfillmentView(f: Fulfillment) {
		return {
			id: f.id,
			status: f.status,
			createdAt: f.createdAt,
			trackingInfo: f.trackingInfo,
			fulfillmentLineItems: { nodes: f.lineItems.map((l) => ({ quantity: l.quantity, lineItem: { id: l.lineItemId } })) },
			events: { nodes: f.events.map((e) => ({ id: e.id, status: e.status, happenedAt: e.happenedAt, message: e.message })) },
		};
	}

	/** `order(id:)` with its fulfillmentOrders (connection) and fulfillments (list). */
	#order(variables: Record<string, unknown>): GraphqlResult {
		const order = this.#orders.get(String(variables.id ?? ""));
		if (!order) return { data: { order: null } };
		return {
			data: {
				order: {
					id: order.id,
					name: order.name,
					fulfillmentOrders: { nodes: order.fulfillmentOrderIds.map((id) => this.#fulfillmentOrderView(this.#fulfillmentOrders.get(id)!)) },
					fulfillments: order.fulfillmentIds.map((id) => this.#fulfillmentView(this.#fulfillments.get(id)!)),
				},
			},
		};
	}

	/**
	 * fulfillmentCreate(fulfillment: FulfillmentInput!): checks every requested fulfillment order
	 * line item against what remains before changing anything; userErrors carry Shopify's messages
	 * (https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/fulfillmentCreate).
	 */
	#fulfillmentCreate(variables: Record<string, unknown>): GraphqlResult {
		const input = variables.fulfillment as
			| {
					lineItemsByFulfillmentOrder?: Array<{ fulfillmentOrderId?: string; fulfillmentOrderLineItems?: Array<{ id?: string; quantity?: number }> }>;
					trackingInfo?: { company?: string; number?: string; url?: string };
					notifyCustomer?: boolean;
			  }
			| undefined;
		const fail = (field: string[], message: string) => ({ data: { fulfillmentCreate: { fulfillment: null, userErrors: [{ field, message }] } } });
		const groups = input?.lineItemsByFulfillmentOrder ?? [];
		if (groups.length === 0) return fail(["fulfillment", "lineItemsByFulfillmentOrder"], "Line items by fulfillment order can't be blank.");
		const fos: FulfillmentOrder[] = [];
		for (const group of groups) {
			const fo = this.#fulfillmentOrders.get(String(group.fulfillmentOrderId));
			if (!fo) return fail(["fulfillment", "lineItemsByFulfillmentOrder"], "Fulfillment order does not exist.");
			fos.push(fo);
		}
		const orderId = fos[0]!.orderId;
		const number = input?.trackingInfo?.number ?? null;
		if (number) {
			const key = `${orderId}|${number}`;
			this.#createAttempts.set(key, (this.#createAttempts.get(key) ?? 0) + 1);
		}
		if (fos.some((fo) => fo.orderId !== orderId)) return fail(["fulfillment"], "All fulfillment orders must belong to the same order.");
		if (fos.some((fo) => fo.locationId !== fos[0]!.locationId)) return fail(["fulfillment"], "All fulfillment orders must be assigned to the same location.");
		const closed = fos.find((fo) => fo.status !== "OPEN" && fo.status !== "IN_PROGRESS");
		if (closed) return fail(["fulfillment"], `Fulfillment order ${numeric(closed.id)} has an unfulfillable status= ${closed.status.toLowerCase()}.`);

		// Validate all, then apply: a rejected request changes nothing.
		const take: Array<{ item: FulfillmentOrderLine; quantity: number }> = [];
		groups.forEach((group, i) => {
			const fo = fos[i]!;
			const requested = group.fulfillmentOrderLineItems?.length
				? group.fulfillmentOrderLineItems
				: fo.lineItems.filter((item) => item.remainingQuantity > 0).map((item) => ({ id: item.id, quantity: item.remainingQuantity }));
			for (const r of requested) {
				const item = fo.lineItems.find((candidate) => candidate.id === r.id);
				take.push({ item: item ?? { id: String(r.id), lineItemId: "", totalQuantity: 0, remainingQuantity: -1 }, quantity: Number(r.quantity) });
			}
		});
		if (take.some((t) => t.item.remainingQuantity < 0)) return fail(["fulfillment"], "Invalid fulfillment order line item id requested.");
		const asked = new Map<FulfillmentOrderLine, number>();
		for (const t of take) asked.set(t.item, (asked.get(t.item) ?? 0) + t.quantity);
		if ([...asked].some(([item, quantity]) => !Number.isInteger(quantity) || quantity <= 0 || quantity > item.remainingQuantity)) {
			return fail(["fulfillment"], "Invalid fulfillment order line item quantity requested.");
		}

		const lines = new Map<string, number>();
		for (const [item, quantity] of asked) {
			item.remainingQuantity -= quantity;
			lines.set(item.lineItemId, (lines.get(item.lineItemId) ?? 0) + quantity);
		}
		for (const fo of fos) fo.status = fo.lineItems.every((item) => item.remainingQuantity === 0) ? "CLOSED" : "IN_PROGRESS";
		const tracking = input?.trackingInfo;
		const fulfillment: Fulfillment = {
			id: `gid://shopify/Fulfillment/${this.#nextId++}`,
			orderId,
			status: "SUCCESS",
			createdAt: new Date().toISOString(),
			trackingInfo: tracking && (tracking.company || tracking.number || tracking.url) ? [{ company: tracking.company ?? null, number: tracking.number ?? null, url: tracking.url ?? null }] : [],
			lineItems: [...lines].map(([lineItemId, quantity]) => ({ lineItemId, quantity })),
			events: [],
		};
		this.#fulfillments.set(fulfillment.id, fulfillment);
		this.#orders.get(orderId)?.fulfillmentIds.push(fulfillment.id);
		return { data: { fulfillmentCreate: { fulfillment: this.#fulfillmentView(fulfillment), userErrors: [] } } };
	}

	/** fulfillmentEventCreate(fulfillmentEvent: FulfillmentEventInput!). */
	#fulfillmentEventCreate(variables: Record<string, unknown>): GraphqlResult {
		const input = variables.fulfillmentEvent as { fulfillmentId?: string; status?: string; happenedAt?: string; message?: string } | undefined;
		if (!input?.status || !EVENT_STATUSES.includes(input.status)) {
			return {
				errors: [
					{
						message: `Variable $fulfillmentEvent of type FulfillmentEventInput! was provided invalid value for status (Expected "${input?.status ?? "null"}" to be one of: ${EVENT_STATUSES.join(", ")})`,
						extensions: { code: "INVALID_VARIABLE" },
					},
				],
			};
		}
		const fulfillment = this.#fulfillments.get(String(input.fulfillmentId));
		if (!fulfillment) return { data: { fulfillmentEventCreate: { fulfillmentEvent: null, userErrors: [{ field: ["fulfillmentEvent", "fulfillmentId"], message: "Fulfillment does not exist." }] } } };
		const now = new Date().toISOString();
		const event: FulfillmentEvent = { id: `gid://shopify/FulfillmentEvent/${this.#nextId++}`, status: input.status, happenedAt: input.happenedAt ?? now, message: input.message ?? null, createdAt: now };
		fulfillment.events.push(event);
		return { data: { fulfillmentEventCreate: { fulfillmentEvent: { id: event.id, status: event.status, happenedAt: event.happenedAt, message: event.message }, userErrors: [] } } };
	}

	// --- Shopify Payments payouts ----------------------------------------------------------

	/** A page of `rows` for `first`/`after`; cursors are opaque (base64 of the offset after the node). */
	#page<T>(rows: T[], variables: Record<string, unknown>): { nodes: T[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } | GraphqlResult {
		const first = Number(variables.first);
		if (!Number.isInteger(first) || first < 1 || first > 250) {
			return { errors: [{ message: "You must provide a `first` or `last` value between 1 and 250 to properly paginate the connection.", extensions: { code: "BAD_REQUEST" } }] };
		}
		let start = 0;
		if (typeof variables.after === "string" && variables.after) {
			try {
				start = Number(atob(variables.after));
			} catch {
				start = Number.NaN;
			}
			if (!Number.isInteger(start) || start < 0) return { errors: [{ message: `Invalid cursor for current pagination sort.`, extensions: { code: "BAD_REQUEST" } }] };
		}
		const nodes = rows.slice(start, start + first);
		const end = start + nodes.length;
		return { nodes, pageInfo: { hasNextPage: end < rows.length, endCursor: nodes.length > 0 ? btoa(String(end)) : null } };
	}

	/** `node(id:)`: a stored payout; null for anything else. */
	#node(variables: Record<string, unknown>): GraphqlResult {
		const id = String(variables.id ?? "");
		const match = /^gid:\/\/shopify\/ShopifyPaymentsPayout\/(\d+)$/.exec(id);
		const stored = match ? this.#payouts.get(match[1]!) : undefined;
		return { data: { node: stored ? structuredClone(stored.payout) : null } };
	}

	/** `shopifyPaymentsAccount { balanceTransactions(first, after, query: "payments_transfer_id:<id>") }`, oldest first. */
	#balanceTransactions(variables: Record<string, unknown>): GraphqlResult {
		const filter = String(variables.query ?? "");
		const payoutId = /(?:^|\s)payments_transfer_id:(\d+)(?:\s|$)/.exec(filter)?.[1];
		const rows = payoutId
			? (this.#payouts.get(payoutId)?.transactions ?? [])
			: [...this.#payouts.values()].flatMap((p) => p.transactions);
		const page = this.#page(structuredClone(rows), variables);
		if ("errors" in page) return page;
		return { data: { shopifyPaymentsAccount: { balanceTransactions: page } } };
	}

	/** `shopifyPaymentsAccount { payouts(first, after, query: "issued_at:>='…'") }`, oldest first. */
	#payoutList(variables: Record<string, unknown>): GraphqlResult {
		const filter = String(variables.query ?? "");
		const since = /issued_at:>=?'?([^'\s]+)'?/.exec(filter)?.[1];
		const from = since ? Date.parse(since) : Number.NEGATIVE_INFINITY;
		const rows = [...this.#payouts.values()]
			.map((p) => p.payout)
			.filter((p) => Date.parse(p.issuedAt) >= from)
			.sort((a, b) => Date.parse(a.issuedAt) - Date.parse(b.issuedAt));
		const page = this.#page(structuredClone(rows), variables);
		if ("errors" in page) return page;
		return { data: { shopifyPaymentsAccount: { payouts: page } } };
	}

	/**
	 * Stores a payout, in the GraphQL shapes: `payout` as a `ShopifyPaymentsPayout` (id or
	 * legacyResourceId, issuedAt, status, transactionType, net) and `balanceTransactions` as
	 * `ShopifyPaymentsBalanceTransaction` nodes. Missing fields are filled in: ids, `net` of each
	 * transaction (amount − fee), the payout's `net` (the transactions' sum), and, unless
	 * `transfer: false`, the payout's own TRANSFER transaction, as Shopify lists it among them.
	 */
	#storePayout(input: Json): Response {
		const given = (input.payout ?? {}) as Json;
		const rows = (Array.isArray(input.balanceTransactions) ? input.balanceTransactions : []) as Json[];
		if (rows.some((t) => t === null || typeof t !== "object" || typeof (t.amount as Json | undefined)?.amount !== "string")) {
			return Response.json({ errors: "each balance transaction needs amount { amount, currencyCode }" }, { status: 400 });
		}
		const legacy = String(given.legacyResourceId ?? (typeof given.id === "string" ? numeric(given.id) : this.#nextId++));
		const gid = `gid://shopify/ShopifyPaymentsPayout/${legacy}`;
		const currency = String((given.net as Json | undefined)?.currencyCode ?? (rows[0]?.amount as Json | undefined)?.currencyCode ?? "USD");
		const exponent = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
		const status = String(given.status ?? "PAID");
		const transactions = rows.map((t) => {
			const amount = t.amount as Json;
			const fee = (t.fee as Json | undefined) ?? { amount: "0.0", currencyCode: amount.currencyCode };
			return {
				id: `gid://shopify/ShopifyPaymentsBalanceTransaction/${this.#nextId++}`,
				test: false,
				transactionDate: new Date().toISOString(),
				sourceOrderTransactionId: null,
				associatedOrder: null,
				adjustmentReason: null,
				adjustmentsOrders: [],
				...t,
				fee: { currencyCode: amount.currencyCode, ...fee },
				net: t.net ?? { amount: decimal(minorOf(String(amount.amount), exponent) - minorOf(String(fee.amount), exponent), exponent), currencyCode: amount.currencyCode },
				associatedPayout: { id: gid, status },
			} as Json;
		});
		const net = given.net ?? { amount: decimal(transactions.reduce((sum, t) => sum + minorOf(String((t.net as Json).amount), exponent), 0), exponent), currencyCode: currency };
		if (input.transfer !== false && !transactions.some((t) => t.type === "TRANSFER")) {
			const out = `-${String((net as Json).amount).replace(/^-/, "")}`;
			transactions.push({
				id: `gid://shopify/ShopifyPaymentsBalanceTransaction/${this.#nextId++}`,
				type: "TRANSFER",
				test: false,
				transactionDate: String(given.issuedAt ?? new Date().toISOString()),
				amount: { amount: out, currencyCode: currency },
				fee: { amount: "0.0", currencyCode: currency },
				net: { amount: out, currencyCode: currency },
				sourceId: legacy,
				sourceType: "TRANSFER",
				sourceOrderTransactionId: null,
				associatedOrder: null,
				associatedPayout: { id: gid, status },
				adjustmentReason: null,
				adjustmentsOrders: [],
			});
		}
		const payout = {
			transactionType: "DEPOSIT",
			issuedAt: new Date().toISOString(),
			...given,
			id: gid,
			legacyResourceId: legacy,
			status,
			net,
		} as StoredPayout["payout"];
		this.#payouts.set(legacy, { payout, transactions });
		return Response.json({ payout, balanceTransactions: transactions });
	}

	// --- REST orders (the reconciliation sweep's listing) ------------------------------------

	/**
	 * `GET /admin/api/{version}/orders.json`: the shop's orders as REST `Order` resources (the
	 * webhook bodies), over orders placed with `POST /sandbox/shopify/orders`. Filters:
	 * `status` (open, the default; closed; cancelled; any), `updated_at_min` / `updated_at_max`
	 * (inclusive), `created_at_min` / `created_at_max`; `order` ("updated_at asc", "created_at
	 * desc", …; by id otherwise); `limit` 1–250 (default 50). Pages follow with the `page_info` of
	 * the `Link` header's rel="next" (and rel="previous"), and a request with `page_info` may carry
	 * only `limit` and `fields`, as Shopify's cursor-based pagination requires. The REST leaky
	 * bucket (40 calls, 2 a second) answers 429 with Retry-After, as do the shared faults.
	 */
	async #listOrders(request: Request, url: URL): Promise<Response> {
		if (request.headers.get("X-Shopify-Access-Token") !== this.token) {
			return Response.json({ errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" }, { status: 401 });
		}
		const tooMany = (seconds: number) =>
			Response.json({ errors: "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service." }, { status: 429, headers: { "Retry-After": seconds.toFixed(1) } });
		this.#restListings++;
		if (this.#listing.delayMs > 0) await sleep(this.#listing.delayMs);
		const steer = this.#listing.throttle;
		if (steer && this.#restListings > steer.after) {
			this.#listing.throttle = steer.remaining > 1 ? { ...steer, remaining: steer.remaining - 1 } : null;
			return tooMany(steer.retryAfterSeconds);
		}
		const fault = this.#pickFault(false);
		if (fault?.kind === "throttle") return tooMany(2);
		const early = await failBefore(fault, {
			error5xx: (status) => Response.json({ errors: status === 503 ? "Service Unavailable" : "Internal Server Error" }, { status }),
			tooMany,
		});
		if (early) return early;
		// REST leaky bucket: 40 calls, leaking 2 a second.
		const now = Date.now();
		this.#restBucket.used = Math.max(0, this.#restBucket.used - ((now - this.#restBucket.at) / 1000) * 2);
		this.#restBucket.at = now;
		if (this.#restBucket.used + 1 > 40) return tooMany(2);
		this.#restBucket.used += 1;

		const q = url.searchParams;
		const bad = (field: string, message: string) => Response.json({ errors: { [field]: [message] } }, { status: 400 });
		const limit = q.has("limit") ? Number(q.get("limit")) : 50;
		if (!Number.isInteger(limit) || limit < 1 || limit > 250) return bad("limit", "Limit must be between 1 and 250.");
		type Cursor = { filters: Record<string, string>; offset: number };
		let cursor: Cursor;
		const pageInfo = q.get("page_info");
		if (pageInfo !== null) {
			const extra = [...q.keys()].filter((key) => !["page_info", "limit", "fields"].includes(key));
			if (extra.length > 0) return bad("page_info", `page_info cannot be used with other parameters: ${extra.join(", ")}.`);
			try {
				cursor = JSON.parse(atob(pageInfo)) as Cursor;
				if (typeof cursor.offset !== "number" || typeof cursor.filters !== "object") throw new Error();
			} catch {
				return bad("page_info", "Invalid value.");
			}
		} else {
			const filters: Record<string, string> = {};
			for (const key of ["status", "updated_at_min", "updated_at_max", "created_at_min", "created_at_max", "order"]) {
				const value = q.get(key);
				if (value !== null) filters[key] = value;
			}
			for (const key of ["updated_at_min", "updated_at_max", "created_at_min", "created_at_max"]) {
				if (filters[key] !== undefined && Number.isNaN(Date.parse(filters[key]!))) return bad(key, "is not a valid date.");
			}
			cursor = { filters, offset: 0 };
		}
		const f = cursor.filters;
		const status = f.status ?? "open";
		const within = (value: unknown, min?: string, max?: string) => {
			const at = Date.parse(String(value));
			return (min === undefined || at >= Date.parse(min)) && (max === undefined || at <= Date.parse(max));
		};
		const [field = "id", direction = "asc"] = (f.order ?? "id asc").split(/\s+/);
		const sign = direction.toLowerCase() === "desc" ? -1 : 1;
		const key = (o: Json) => (field === "updated_at" || field === "created_at" ? Date.parse(String(o[field])) : Number(o.id));
		const all = [...this.#restOrders.values()]
			.filter((o) => {
				const cancelled = o.cancelled_at !== null && o.cancelled_at !== undefined;
				const closed = o.closed_at !== null && o.closed_at !== undefined;
				if (status === "open" && (cancelled || closed)) return false;
				if (status === "closed" && !closed) return false;
				if (status === "cancelled" && !cancelled) return false;
				return within(o.updated_at, f.updated_at_min, f.updated_at_max) && within(o.created_at, f.created_at_min, f.created_at_max);
			})
			.sort((a, b) => (key(a) - key(b)) * sign || (Number(a.id) - Number(b.id)));
		const size = Math.min(limit, this.#listing.maxPerPage);
		const orders = all.slice(cursor.offset, cursor.offset + size);
		const base = `${url.origin}${url.pathname}`;
		const link = (offset: number, rel: string) => `<${base}?limit=${limit}&page_info=${encodeURIComponent(btoa(JSON.stringify({ filters: f, offset })))}>; rel="${rel}"`;
		const links = [
			...(cursor.offset > 0 ? [link(Math.max(0, cursor.offset - size), "previous")] : []),
			...(cursor.offset + size < all.length ? [link(cursor.offset + size, "next")] : []),
		];
		return Response.json(
			{ orders: structuredClone(orders) },
			{ headers: { "X-Shopify-Shop-Api-Call-Limit": `${Math.ceil(this.#restBucket.used)}/40`, ...(links.length > 0 ? { Link: links.join(", ") } : {}) } },
		);
	}

	/** Test and demo controls: seed variants and orders, read what was received. Faults are in sandbox/index.ts. */
	async #control(request: Request, url: URL): Promise<Response> {
		switch (`${request.method} ${url.pathname}`) {
			case "POST /sandbox/shopify/orders": {
				// Orders the shop has (as REST Order resources, e.g. a webhook body) and lists, WITHOUT
				// sending their webhooks: what the reconciliation sweep exists to find. An order placed
				// again with the same id replaces its earlier version (an update whose webhook was lost).
				const body = (await request.json().catch(() => null)) as { orders?: unknown[] } | Json | null;
				const list = (body && Array.isArray((body as { orders?: unknown[] }).orders) ? (body as { orders: unknown[] }).orders : body ? [body] : []) as Json[];
				if (list.length === 0 || list.some((o) => o === null || typeof o !== "object" || o.id === undefined)) {
					return Response.json({ errors: "send a Shopify order (with id and line_items) or { orders: [...] }" }, { status: 400 });
				}
				const location = url.searchParams.get("location") ?? SHOP_LOCATION;
				const placed = list.map((o) => {
					const now = new Date().toISOString();
					const order = { created_at: now, ...structuredClone(o), updated_at: typeof o.updated_at === "string" ? o.updated_at : now } as Json;
					const id = String(order.id);
					this.#restOrders.delete(id);
					this.#restOrders.set(id, order);
					// Bounded, for a long demo: the oldest placed go first.
					if (this.#restOrders.size > 20_000) this.#restOrders.delete(this.#restOrders.keys().next().value!);
					return this.#addOrder(order, location);
				});
				return Response.json({ orders: placed });
			}
			case "POST /sandbox/shopify/listing": {
				// The order list's knobs, for tests: `maxPerPage` caps every page (Shopify's own cap is
				// the limit asked for); `delayMs` holds every answer back; `throttle { after,
				// retryAfterSeconds, remaining }` answers 429 to the listings after the next `after`
				// ones. Each POST sets all of them (absent: off).
				const input = (await request.json().catch(() => ({}))) as { maxPerPage?: number; delayMs?: number; throttle?: { after?: number; retryAfterSeconds?: number; remaining?: number } };
				this.#listing = {
					maxPerPage: Number.isInteger(input.maxPerPage) && input.maxPerPage! > 0 ? input.maxPerPage! : 250,
					delayMs: Number.isInteger(input.delayMs) && input.delayMs! > 0 ? Math.min(input.delayMs!, 10_000) : 0,
					throttle: input.throttle ? { after: this.#restListings + (input.throttle.after ?? 0), retryAfterSeconds: input.throttle.retryAfterSeconds ?? 2, remaining: input.throttle.remaining ?? 1 } : null,
				};
				return Response.json({ listing: this.#listing, listings: this.#restListings, orders: this.#restOrders.size });
			}
			case "POST /sandbox/variants": {
				const { skus } = (await request.json()) as { skus: string[] };
				for (const sku of skus) if (!this.#variants.has(sku)) this.#variants.set(sku, { sku, inventoryItemId: `gid://shopify/InventoryItem/${this.#nextItem++}` });
				return Response.json({ variants: skus.map((sku) => this.#variants.get(sku)) });
			}
			case "POST /sandbox/shopify/payouts": {
				const body = (await request.json().catch(() => null)) as Json | null;
				if (!body || typeof body !== "object") return Response.json({ errors: "send { payout, balanceTransactions }" }, { status: 400 });
				return this.#storePayout(body);
			}
			case "POST /sandbox/plan": {
				const plan = (await request.json()) as { maximumAvailable?: number; restoreRate?: number };
				this.#plan = { ...STANDARD, ...plan };
				this.#bucket = { available: this.#plan.maximumAvailable, at: Date.now() };
				return Response.json({ plan: this.#plan });
			}
			case "POST /sandbox/orders": {
				const body = (await request.json().catch(() => null)) as { orders?: unknown[] } | Record<string, unknown> | null;
				const list = (body && Array.isArray((body as { orders?: unknown[] }).orders) ? (body as { orders: unknown[] }).orders : body ? [body] : []) as Array<Record<string, unknown>>;
				if (list.length === 0 || list.some((o) => o === null || typeof o !== "object" || o.id === undefined)) {
					return Response.json({ errors: "send a Shopify order (with id and line_items) or { orders: [...] }" }, { status: 400 });
				}
				const location = url.searchParams.get("location") ?? SHOP_LOCATION;
				return Response.json({ orders: list.map((o) => this.#addOrder(o, location)) });
			}
			case "GET /sandbox/fulfillments": {
				const filter = url.searchParams.get("order");
				const orderId = filter ? (filter.startsWith("gid://") ? filter : `gid://shopify/Order/${filter}`) : null;
				const fulfillments = [...this.#fulfillments.values()]
					.filter((f) => !orderId || f.orderId === orderId)
					.map((f) => ({
						id: f.id,
						orderId: f.orderId,
						trackingInfo: f.trackingInfo,
						lineItems: f.lineItems,
						events: f.events.map((e) => ({ status: e.status, happenedAt: e.happenedAt })),
						createAttempts: this.#createAttempts.get(`${f.orderId}|${f.trackingInfo[0]?.number ?? ""}`) ?? 1,
						/** When the fulfillmentCreate that made it arrived (ms since the epoch, this process's clock). */
						receivedAt: Date.parse(f.createdAt),
					}));
				const order = orderId ? this.#orders.get(orderId) : undefined;
				const fulfillmentOrders = order?.fulfillmentOrderIds.map((id) => {
					const fo = this.#fulfillmentOrders.get(id)!;
					return { id: fo.id, status: fo.status, locationId: fo.locationId, lineItems: fo.lineItems.map((i) => ({ id: i.id, lineItemId: i.lineItemId, totalQuantity: i.totalQuantity, remainingQuantity: i.remainingQuantity })) };
				});
				return Response.json({ fulfillments, ...(fulfillmentOrders ? { fulfillmentOrders } : {}) });
			}
			case "GET /sandbox/calls": {
				const after = Number(url.searchParams.get("after") ?? 0);
				const sku = url.searchParams.get("sku");
				return Response.json({ calls: this.#calls.filter((c) => c.seq > after && (!sku || c.sku === sku)) });
			}
			case "POST /sandbox/shopify/inventory/drift": {
				// The merchant (or another app) changes `available` behind ordersync's back; no call is recorded.
				const { sku, available, locationId = SHOP_LOCATION } = (await request.json().catch(() => ({}))) as { sku?: string; available?: number; locationId?: string };
				const variant = sku === undefined ? undefined : this.#variants.get(sku);
				if (!variant || !Number.isInteger(available)) return Response.json({ errors: "send { sku, available } for a seeded variant" }, { status: 400 });
				this.#available.set(`${variant.inventoryItemId}@${locationId}`, { quantity: available!, updatedAt: new Date().toISOString() });
				return Response.json({ sku, locationId, available });
			}
			case "GET /sandbox/inventory": {
				const items = [...this.#variants.values()].flatMap((v) =>
					[...this.#available].filter(([slot]) => slot.startsWith(`${v.inventoryItemId}@`)).map(([slot, state]) => ({ sku: v.sku, locationId: slot.split("@")[1], available: state.quantity, updatedAt: state.updatedAt })),
				);
				return Response.json({ items });
			}
			default:
				return Response.json({ errors: "Not Found" }, { status: 404 });
		}
	}
}
