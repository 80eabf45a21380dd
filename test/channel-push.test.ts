import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deliver, eventually, newOrderId, ops, order, orderView, settled, stock, uniqueSku } from "./helpers";

// Every outbound fetch from ordersync reaches the sandbox Shopify Admin peer (vitest.config.ts);
// tests talk to the same peer to seed variants, inject faults and read what it received.
const SANDBOX = "https://sandbox.test";
const sandbox = (path: string, init?: RequestInit) => fetch(`${SANDBOX}${path}`, init);

type Call = { seq: number; key: string; sku: string; quantity: number; replayed: boolean; locationId: string };
async function callsFor(sku: string): Promise<Call[]> {
	return ((await (await sandbox(`/sandbox/calls?sku=${encodeURIComponent(sku)}`)).json()) as { calls: Call[] }).calls;
}
async function shopShows(sku: string): Promise<number | undefined> {
	const { items } = (await (await sandbox("/sandbox/inventory")).json()) as { items: Array<{ sku: string; available: number }> };
	return items.find((i) => i.sku === sku)?.available;
}
async function variant(sku: string) {
	await sandbox("/sandbox/variants", { method: "POST", body: JSON.stringify({ skus: [sku] }) });
}
async function fault(kind: string, remaining = 1, ms?: number) {
	await sandbox("/sandbox/faults", { method: "POST", body: JSON.stringify({ kind, remaining, ms }) });
}
/** The Shopify shop's push row (the other channels have rows of their own, tested with their connectors). */
const pushes = async (sku: string) =>
	((await (await ops(`/ops/skus/${sku}`)).json()) as { pushes: Array<{ connection: string; value: number; sentValue: number | null; pending: boolean; attempts: number; lastError: string | null; latencyMs: number | null }> }).pushes.filter(
		(row) => row.connection === "shopify-demo",
	);

describe("availability pushed to Shopify (inventorySetQuantities)", () => {
	it("sends the channel's new number when stock changes, with an idempotency key and the configured location", async () => {
		const sku = uniqueSku("push");
		await variant(sku);
		await stock(sku, 12, "wh-east");
		await eventually(() => shopShows(sku), (n) => n === 12);
		const [call] = await callsFor(sku);
		expect(call).toMatchObject({ quantity: 12, locationId: "gid://shopify/Location/80001", replayed: false });
		expect(call!.key).toMatch(new RegExp(`^ordersync:${sku}:shopify-demo:\\d+$`));

		const id = newOrderId();
		await deliver("orders/create", order({ id, lines: [{ sku, quantity: 3, price: "1.00" }] }));
		await eventually(() => orderView(id), settled);
		await eventually(() => shopShows(sku), (n) => n === 9);
		const [state] = await pushes(sku);
		expect(state).toMatchObject({ connection: "shopify-demo", value: 9, sentValue: 9, pending: false, attempts: 0 });
		expect(state!.latencyMs).toBeGreaterThanOrEqual(0);
	});

	it("coalesces a burst and never sends an older value after a newer one", async () => {
		const sku = uniqueSku("burst");
		await variant(sku);
		await stock(sku, 50, "wh-east");
		await eventually(() => shopShows(sku), (n) => n === 50);
		const ledger = env.SKU_LEDGER.getByName(sku);
		for (let i = 0; i < 30; i++) await ledger.reserve({ orderKey: `c:${i}`, lineId: "1", sku, quantity: 1 });
		await eventually(() => shopShows(sku), (n) => n === 20);
		const sent = (await callsFor(sku)).map((c) => c.quantity);
		expect(sent.length).toBeLessThan(31); // a burst of 30 changes does not become 30 calls
		for (let i = 1; i < sent.length; i++) expect(sent[i]!).toBeLessThan(sent[i - 1]!); // stock only fell: values only fall
		expect(sent.at(-1)).toBe(20);
	});

	it("retries through 5xx, 429 with Retry-After and cost throttling until the shop has the number", async () => {
		const sku = uniqueSku("faults");
		await variant(sku);
		await fault("500", 1);
		await fault("429", 1);
		await fault("throttle", 1);
		await stock(sku, 7, "wh-east");
		// Alarms retry on their own; the backoff and Retry-After put this a few seconds out.
		await eventually(() => shopShows(sku), (n) => n === 7, 20_000);
		const [state] = await pushes(sku);
		expect(state).toMatchObject({ sentValue: 7, pending: false, attempts: 0, lastError: null });
	}, 30_000);

	it("a push the shop refuses (no variant with that SKU) becomes an exception, not a silent drop", async () => {
		const sku = uniqueSku("novariant");
		await stock(sku, 4, "wh-east");
		await eventually(() => pushes(sku), (p) => p[0]?.lastError !== null && p[0]?.lastError !== undefined);
		const [state] = await pushes(sku);
		expect(state).toMatchObject({ pending: false, sentValue: null });
		expect(state!.lastError).toContain(`no variant with SKU ${sku}`);
		const { items } = (await (await ops("/ops/exceptions")).json()) as { items: Array<{ id: string; reason: string }> };
		expect(items.find((e) => e.id === `push:${sku}:shopify-demo`)?.reason).toContain("was refused");
		// Consoles see it on the stream too.
		const flows = await eventually(
			async () => (await (await ops("/ops/flows?after=0&limit=1000")).json()) as { events: Array<{ type: string; sku?: string; connection?: string; detail?: string }> },
			(page) => page.events.some((e) => e.type === "failed" && e.sku === sku && e.connection === "shopify-demo"),
		);
		expect(flows.events.find((e) => e.type === "failed" && e.sku === sku && e.connection === "shopify-demo")?.detail).toContain("was refused");
	});

	it("the sandbox holds Shopify's line: the key is required, and a reused key replays without applying twice", async () => {
		const sku = uniqueSku("idem");
		await variant(sku);
		const item = ((await (await sandbox("/sandbox/variants", { method: "POST", body: JSON.stringify({ skus: [sku] }) })).json()) as { variants: Array<{ inventoryItemId: string }> }).variants[0]!.inventoryItemId;
		const admin = (query: string, variables: unknown) =>
			fetch(`${SANDBOX}/admin/api/2026-10/graphql.json`, { method: "POST", headers: { "X-Shopify-Access-Token": "shpat_sandbox_test_token" }, body: JSON.stringify({ query, variables }) });
		const input = { name: "available", reason: "correction", quantities: [{ inventoryItemId: item, locationId: "gid://shopify/Location/80001", quantity: 5, changeFromQuantity: null }] };
		const noKey = await (await admin("mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { message } } }", { input })).json();
		expect(JSON.stringify(noKey)).toContain("@idempotent");
		const withKey = "mutation($input: InventorySetQuantitiesInput!, $k: String!) { inventorySetQuantities(input: $input) @idempotent(key: $k) { userErrors { message } } }";
		await admin(withKey, { input, k: "same" });
		await admin(withKey, { input, k: "same" });
		expect((await callsFor(sku)).map((c) => c.replayed)).toEqual([false, true]);
		const unauthorised = await fetch(`${SANDBOX}/admin/api/2026-10/graphql.json`, { method: "POST", body: "{}" });
		expect(unauthorised.status).toBe(401);
	});
});
