/**
 * A local Shopify Admin GraphQL peer, for the tests and the demo. It speaks the part of the
 * documented protocol ordersync uses: the access-token header, variant lookup by SKU,
 * `inventorySetQuantities` with its required `@idempotent(key:)` directive and explicit
 * `changeFromQuantity`, calculated-cost throttling with a leaky bucket (THROTTLED errors with
 * `extensions.cost.throttleStatus`), and, on request, faults: 5xx, 429 with Retry-After, slow answers.
 * It is not a GraphQL engine: operations are recognised by their root field.
 */

type Fault = { kind: "500" | "429" | "throttle" | "slow"; remaining: number; ms?: number };
type Variant = { sku: string; inventoryItemId: string };
type SetCall = { seq: number; at: string; key: string; inventoryItemId: string; sku: string | null; locationId: string; quantity: number; replayed: boolean };

/** Standard plan: 100 points a second; the bucket holds 20 seconds' worth. */
const BUCKET = { maximumAvailable: 2000, restoreRate: 100 };
const COST = { lookup: 3, set: 10 };

export class ShopifyAdminSandbox {
	#variants = new Map<string, Variant>();
	#available = new Map<string, { quantity: number; updatedAt: string }>();
	#idempotent = new Map<string, { input: string; body: unknown }>();
	#calls: SetCall[] = [];
	#faults: Fault[] = [];
	#bucket = { available: BUCKET.maximumAvailable, at: Date.now() };
	#nextItem = 44_000_000_000;
	#seq = 0;

	constructor(private readonly token: string) {}

	async fetch(request: Request): Promise<Response> {
		const url = new URL(request.url);
		if (url.pathname.startsWith("/sandbox/")) return this.#control(request, url);
		if (request.method === "POST" && /^\/admin\/api\/\d{4}-\d{2}\/graphql\.json$/.test(url.pathname)) return this.#graphql(request);
		return Response.json({ errors: "Not Found" }, { status: 404 });
	}

	async #graphql(request: Request): Promise<Response> {
		if (request.headers.get("X-Shopify-Access-Token") !== this.token) {
			return Response.json({ errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" }, { status: 401 });
		}
		const raw = await request.text(); // read first: a fault answered early must not leave the body unread
		const fault = this.#faults[0];
		if (fault) {
			if (--fault.remaining <= 0) this.#faults.shift();
			if (fault.kind === "500") return Response.json({ errors: "Internal Server Error" }, { status: 500 });
			if (fault.kind === "429") return Response.json({ errors: "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service." }, { status: 429, headers: { "Retry-After": "1.0" } });
			if (fault.kind === "slow") await new Promise((resolve) => setTimeout(resolve, fault.ms ?? 2000));
			if (fault.kind === "throttle") return this.#throttled(COST.set, 0);
		}
		let body: { query?: string; variables?: Record<string, unknown> };
		try {
			body = JSON.parse(raw) as typeof body;
		} catch {
			return Response.json({ errors: [{ message: "Invalid JSON in request body" }] }, { status: 400 });
		}
		const query = body.query ?? "";
		const variables = body.variables ?? {};
		if (/\binventorySetQuantities\s*\(/.test(query)) return this.#spend(COST.set, () => this.#setQuantities(query, variables));
		if (/\bproductVariants\s*\(/.test(query)) return this.#spend(COST.lookup, () => this.#lookup(variables));
		return Response.json({ errors: [{ message: "This sandbox answers productVariants and inventorySetQuantities only", extensions: { code: "BAD_REQUEST" } }] });
	}

	/** Leaky bucket by calculated cost: refills continuously at the restore rate. */
	#spend(cost: number, run: () => { data?: unknown; errors?: unknown[] }): Response {
		const now = Date.now();
		this.#bucket.available = Math.min(BUCKET.maximumAvailable, this.#bucket.available + ((now - this.#bucket.at) / 1000) * BUCKET.restoreRate);
		this.#bucket.at = now;
		if (this.#bucket.available < cost) return this.#throttled(cost, this.#bucket.available);
		this.#bucket.available -= cost;
		return Response.json({ ...run(), extensions: { cost: { requestedQueryCost: cost, actualQueryCost: cost, throttleStatus: this.#status() } } });
	}

	#throttled(cost: number, available: number): Response {
		return Response.json({
			errors: [{ message: "Throttled", extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" } }],
			extensions: { cost: { requestedQueryCost: cost, actualQueryCost: null, throttleStatus: { ...BUCKET, currentlyAvailable: Math.floor(available) } } },
		});
	}

	#status() {
		return { ...BUCKET, currentlyAvailable: Math.floor(this.#bucket.available) };
	}

	#lookup(variables: Record<string, unknown>) {
		const match = /^sku:(?:"(.*)"|(\S+))$/.exec(String(variables.query ?? ""));
		const sku = match ? (match[1] !== undefined ? JSON.parse(`"${match[1]}"`) : match[2]) : null;
		const variant = sku === null ? undefined : this.#variants.get(sku);
		return { data: { productVariants: { nodes: variant ? [{ sku: variant.sku, inventoryItem: { id: variant.inventoryItemId } }] : [] } } };
	}

	#setQuantities(query: string, variables: Record<string, unknown>) {
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
			return earlier.body as { data: unknown };
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

	#record(key: string, inventoryItemId: string, locationId: string, quantity: number, replayed: boolean): void {
		const sku = [...this.#variants.values()].find((v) => v.inventoryItemId === inventoryItemId)?.sku ?? null;
		this.#calls.push({ seq: ++this.#seq, at: new Date().toISOString(), key, inventoryItemId, sku, locationId, quantity, replayed });
		if (this.#calls.length > 50_000) this.#calls.splice(0, 10_000);
	}

	/** Test and demo controls: seed variants, inject faults, read what was received. */
	async #control(request: Request, url: URL): Promise<Response> {
		switch (`${request.method} ${url.pathname}`) {
			case "POST /sandbox/variants": {
				const { skus } = (await request.json()) as { skus: string[] };
				for (const sku of skus) if (!this.#variants.has(sku)) this.#variants.set(sku, { sku, inventoryItemId: `gid://shopify/InventoryItem/${this.#nextItem++}` });
				return Response.json({ variants: skus.map((sku) => this.#variants.get(sku)) });
			}
			case "POST /sandbox/faults": {
				const fault = (await request.json()) as Fault;
				this.#faults.push({ ...fault, remaining: fault.remaining ?? 1 });
				return Response.json({ faults: this.#faults });
			}
			case "GET /sandbox/calls": {
				const after = Number(url.searchParams.get("after") ?? 0);
				const sku = url.searchParams.get("sku");
				return Response.json({ calls: this.#calls.filter((c) => c.seq > after && (!sku || c.sku === sku)) });
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
