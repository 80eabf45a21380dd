import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../worker/config";
import { readShopifyLevels } from "../worker/connectors/shopify/levels";
import { checkStockDrift, type DriftReport } from "../worker/sweep/stock-drift";
import { eventually, ops, sandbox, stock, uniqueSku } from "./helpers";

// The drift check reads what each channel shows from the sandbox peers (which keep what
// ordersync pushed), compares it with the SKU ledgers and has them push again. Tests change a
// channel's number behind ordersync's back through the peers' drift controls. The peers are shared
// with other test files, so each test looks only at its own SKUs in a report.

const connection = (id: string) => loadConfig(env).connections.get(id)!;
const TIKTOK_WAREHOUSE = "7068517275539719942";

type PushRow = { connection: string; value: number; version: number; sentValue: number | null; pending: boolean };
const pushRow = async (sku: string, id: string) =>
	((await (await ops(`/ops/skus/${encodeURIComponent(sku)}`)).json()) as { pushes: PushRow[] }).pushes.find((row) => row.connection === id);

const drifted = (report: DriftReport, sku: string) => report.drifted.find((d) => d.sku === sku);

// --- Shopify -----------------------------------------------------------------------------------

type ShopCall = { sku: string; quantity: number; key: string };
const shopCalls = async (sku: string) => (await sandbox<{ calls: ShopCall[] }>(`/sandbox/calls?sku=${encodeURIComponent(sku)}`)).calls;
const shopShows = async (sku: string) => (await sandbox<{ items: Array<{ sku: string; available: number }> }>("/sandbox/inventory")).items.find((i) => i.sku === sku)?.available;

describe("stock drift on Shopify (Location.inventoryLevels)", () => {
	it("stops at a 429 and reports its Retry-After; the next check goes through", async () => {
		await sandbox("/sandbox/faults", { json: { target: "shopify", kind: "429", retryAfterSeconds: 4, remaining: 1 } });
		const stopped = await checkStockDrift(env, connection("shopify-demo"));
		expect(stopped).toMatchObject({ checked: 0, repushed: 0, pages: 0, retryAfterMs: 4000 });
		expect(stopped.error).toMatch(/429/);
		expect(stopped.cursor).toBeUndefined(); // nothing read: the next check starts from the beginning

		const next = await checkStockDrift(env, connection("shopify-demo"));
		expect(next.error).toBeUndefined();
		expect(next.pages).toBeGreaterThan(0);
	});

	it("stops when the shop throttles by query cost, with the wait its throttleStatus gives", async () => {
		await sandbox("/sandbox/faults", { json: { target: "shopify", kind: "throttle", remaining: 1 } });
		const stopped = await checkStockDrift(env, connection("shopify-demo"));
		expect(stopped).toMatchObject({ checked: 0, pages: 0, error: expect.stringContaining("THROTTLED") });
		expect(stopped.retryAfterMs).toBeGreaterThan(0);
	});

	it("pushes the ledger's number again where the shop shows another, and leaves matching SKUs alone", async () => {
		const [moved, steady] = [uniqueSku("drift-shop"), uniqueSku("steady-shop")];
		await sandbox("/sandbox/variants", { json: { skus: [moved, steady] } });
		await stock(moved, 12);
		await stock(steady, 5);
		await eventually(() => shopShows(moved), (n) => n === 12);
		await eventually(() => shopShows(steady), (n) => n === 5);
		const before = await pushRow(moved, "shopify-demo");
		const steadyCalls = (await shopCalls(steady)).length;

		await sandbox("/sandbox/shopify/inventory/drift", { json: { sku: moved, available: 30 } });
		expect(await shopShows(moved)).toBe(30);

		const report = await checkStockDrift(env, connection("shopify-demo"));
		expect(report.error).toBeUndefined();
		expect(drifted(report, moved)).toEqual({ sku: moved, channel: 30, ledger: 12 });
		expect(drifted(report, steady)).toBeUndefined();
		expect(report.repushed).toBeGreaterThanOrEqual(1);
		expect(report.checked).toBeGreaterThanOrEqual(2);

		// The ledger's own push queue sends it, under a new version (a new idempotency key).
		await eventually(() => shopShows(moved), (n) => n === 12);
		const after = await eventually(() => pushRow(moved, "shopify-demo"), (row) => row?.pending === false);
		expect(after).toMatchObject({ value: 12, sentValue: 12, version: before!.version + 1 });
		expect((await shopCalls(moved)).at(-1)!.key).toBe(`ordersync:${moved}:shopify-demo:${before!.version + 1}`);
		expect((await shopCalls(steady)).length).toBe(steadyCalls);

		// Settled: the next check finds nothing to push for either.
		const again = await checkStockDrift(env, connection("shopify-demo"));
		expect(drifted(again, moved)).toBeUndefined();
		expect((await shopCalls(moved)).at(-1)!.key).toBe(`ordersync:${moved}:shopify-demo:${before!.version + 1}`);
	});

	it("leaves a SKU the ledgers never heard of alone and counts it unknown", async () => {
		const stranger = uniqueSku("stranger");
		await sandbox("/sandbox/variants", { json: { skus: [stranger] } });
		await sandbox("/sandbox/shopify/inventory/drift", { json: { sku: stranger, available: 7 } });
		const report = await checkStockDrift(env, connection("shopify-demo"));
		expect(report.unknown).toBeGreaterThanOrEqual(1);
		expect(drifted(report, stranger)).toBeUndefined();
		expect(await shopCalls(stranger)).toEqual([]);
		expect(await shopShows(stranger)).toBe(7);
	});

	it("reads the location page by page with cursors", async () => {
		const shop = connection("shopify-demo");
		const skus = [uniqueSku("page-a"), uniqueSku("page-b"), uniqueSku("page-c")];
		await sandbox("/sandbox/variants", { json: { skus } });
		for (const sku of skus) await sandbox("/sandbox/shopify/inventory/drift", { json: { sku, available: 1 } });
		const first = await readShopifyLevels(shop.admin!, shop.adminToken!, null, { first: 2 });
		expect(first.ok && first.value.levels.length).toBe(2);
		const cursor = first.ok ? first.value.next : null;
		expect(cursor).toEqual(expect.any(String));
		const second = await readShopifyLevels(shop.admin!, shop.adminToken!, cursor, { first: 2 });
		expect(second.ok).toBe(true);
		if (first.ok && second.ok) expect(second.value.levels[0]).not.toEqual(first.value.levels[0]);
	});

	it("a read older than the last push is stale: pending, not drift", async () => {
		const sku = uniqueSku("stale-shop");
		await sandbox("/sandbox/variants", { json: { skus: [sku] } });
		await stock(sku, 4);
		await eventually(() => pushRow(sku, "shopify-demo"), (row) => row?.sentValue === 4 && !row.pending);
		const ledger = env.SKU_LEDGER.getByName(sku);
		// Read at time 0, before the push settled: the channel's 9 may predate it.
		expect(await ledger.checkDrift(sku, "shopify-demo", [9], 0)).toMatchObject({ known: true, ledger: 4, drifted: false, queued: false, pending: true });
		expect(await ledger.checkDrift(sku, "shopify-demo", [4])).toMatchObject({ known: true, ledger: 4, drifted: false, queued: false, pending: false });
		expect(await env.SKU_LEDGER.getByName(uniqueSku("never")).checkDrift("never", "shopify-demo", [3])).toMatchObject({ known: false, queued: false });
	});
});

// --- WooCommerce -------------------------------------------------------------------------------

type WooProduct = { id: number; sku: string; manage_stock: boolean; stock_quantity: number | null };
const wooProduct = async (sku: string) => (await sandbox<{ products: WooProduct[] }>(`/sandbox/woocommerce/products?sku=${encodeURIComponent(sku)}`)).products[0];

describe("stock drift on WooCommerce (GET /products, /products/<id>/variations)", () => {
	it("re-pushes a changed variation and a product whose stock management was turned off", async () => {
		const [simple, parent, variation] = [uniqueSku("woo-simple"), uniqueSku("woo-parent"), uniqueSku("woo-var")];
		await sandbox("/sandbox/woocommerce/products", {
			json: { products: [{ sku: simple, manage_stock: true, stock_quantity: 0 }, { sku: parent, variations: [{ sku: variation, manage_stock: true, stock_quantity: 0 }] }] },
		});
		await stock(simple, 6);
		await stock(variation, 3);
		await eventually(() => wooProduct(simple), (p) => p?.stock_quantity === 6);
		await eventually(() => wooProduct(variation), (p) => p?.stock_quantity === 3);

		await sandbox("/sandbox/woocommerce/inventory/drift", { json: { sku: simple, manage_stock: false } });
		await sandbox("/sandbox/woocommerce/inventory/drift", { json: { sku: variation, stock_quantity: 11 } });

		const report = await checkStockDrift(env, connection("woocommerce"));
		expect(report.error).toBeUndefined();
		expect(drifted(report, simple)).toEqual({ sku: simple, channel: 0, ledger: 6, untracked: true });
		expect(drifted(report, variation)).toEqual({ sku: variation, channel: 11, ledger: 3 });
		expect(drifted(report, parent)).toBeUndefined();
		expect(report.repushed).toBeGreaterThanOrEqual(2);

		await eventually(() => wooProduct(simple), (p) => p?.manage_stock === true && p.stock_quantity === 6);
		await eventually(() => wooProduct(variation), (p) => p?.stock_quantity === 3);
	});
});

// --- TikTok Shop -------------------------------------------------------------------------------

describe("stock drift on TikTok Shop (Search Products inventory)", () => {
	it("re-pushes the warehouse quantity the seller changed", async () => {
		const sku = uniqueSku("tt-drift");
		const { product } = await sandbox<{ product: { id: string } }>("/sandbox/tiktok/products", {
			json: { skus: [{ sellerSku: sku, inventory: [{ warehouseId: TIKTOK_WAREHOUSE, quantity: 0 }] }] },
		});
		const shows = async () =>
			(await sandbox<{ product: { skus: Array<{ inventory: Array<{ warehouse_id: string; quantity: number }> }> } }>(`/sandbox/tiktok/products/${product.id}`)).product.skus[0]!.inventory.find(
				(i) => i.warehouse_id === TIKTOK_WAREHOUSE,
			)!.quantity;
		await stock(sku, 9);
		await eventually(shows, (n) => n === 9);
		await sandbox("/sandbox/tiktok/inventory/drift", { json: { sellerSku: sku, quantity: 2 } });

		const report = await checkStockDrift(env, connection("tiktok"));
		expect(report.error).toBeUndefined();
		expect(drifted(report, sku)).toEqual({ sku, channel: 2, ledger: 9 });
		await eventually(shows, (n) => n === 9);
	});
});

// --- Amazon ------------------------------------------------------------------------------------

describe("stock drift on Amazon (searchListingsItems fulfillmentAvailability)", () => {
	it("re-pushes the merchant-fulfilled quantity changed in Seller Central", async () => {
		const sku = uniqueSku("amz-drift");
		await sandbox("/sandbox/amazon/listings", { json: { sku, quantity: 0 } });
		const shows = async () =>
			(await sandbox<{ attributes: { fulfillment_availability: Array<{ fulfillment_channel_code: string; quantity: number }> } }>(`/sandbox/amazon/listings/${sku}`)).attributes.fulfillment_availability.find(
				(entry) => entry.fulfillment_channel_code === "DEFAULT",
			)!.quantity;
		await stock(sku, 8);
		await eventually(shows, (n) => n === 8);
		await sandbox("/sandbox/amazon/inventory/drift", { json: { sku, quantity: 40 } });

		const report = await checkStockDrift(env, connection("amazon"));
		expect(report.error).toBeUndefined();
		expect(drifted(report, sku)).toEqual({ sku, channel: 40, ledger: 8 });
		await eventually(shows, (n) => n === 8);
	});
});

describe("connections with nothing to read back", () => {
	it("skips EDI (the 846 is one-way) and a Shopify connection without Admin API access", async () => {
		expect(await checkStockDrift(env, connection("edi-retailer"))).toMatchObject({ checked: 0, skipped: expect.stringContaining("no API to read") });
		expect(await checkStockDrift(env, connection("shopify-outlet"))).toMatchObject({ checked: 0, skipped: expect.stringContaining("takes no availability pushes") });
	});
});
