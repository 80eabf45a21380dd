// Bench-only worker: the real ordersync worker and Durable Objects, plus /__probe/* routes that
// repeat one step N times inside the isolate, so the client can time steps the Workers clock
// cannot (it does not advance during synchronous code). Never deployed.
//   /__probe/ledger/*: figures (3b) and (3c) of `npm run bench` (bench/run.mjs), one SkuLedger over
//   RPC, and a bundle's component ledgers;
//   the other routes: bench/profile.mjs `probe`.

import app from "../worker/index";
import type { Env } from "../worker/env";
import { loadConfig } from "../worker/config";
import { parseChange } from "../worker/inbound";
import { signShopifyBody, verifyShopifyHmac } from "../worker/connectors/shopify/signature";

// Every Durable Object class the worker exports (wrangler.toml binds them all).
export { DeliveryGate, FlowMonitor, OrderFlow, Parcel, SkuLedger } from "../worker/index";

const SECRET_BINDING = "SHOPIFY_DEMO_SECRET";

/** Runs `task(i)` for i in [0, n) with at most `c` in flight. */
async function pool(n: number, c: number, task: (i: number) => Promise<unknown>): Promise<void> {
	let next = 0;
	await Promise.all(
		Array.from({ length: Math.min(c, n) }, async () => {
			while (next < n) await task(next++);
		}),
	);
}

async function probe(request: Request, env: Env): Promise<Response> {
	const url = new URL(request.url);
	const n = Number(url.searchParams.get("n") ?? "100");
	const c = Number(url.searchParams.get("c") ?? "1");
	const body = new Uint8Array(await request.arrayBuffer());
	const raw = new TextDecoder().decode(body);
	switch (url.pathname) {
		case "/__probe/hmac": {
			const secret = env[SECRET_BINDING] as string;
			const signature = await signShopifyBody(secret, body);
			let ok = 0;
			for (let i = 0; i < n; i++) if (await verifyShopifyHmac(secret, body, signature)) ok++;
			return Response.json({ ok });
		}
		case "/__probe/parse": {
			let ok = 0;
			for (let i = 0; i < n; i++) {
				const parsed = parseChange({
					eventId: "probe", connection: "shopify-demo", channel: "shopify", topic: "orders/create",
					triggeredAt: null, receivedAt: new Date().toISOString(), rawBody: raw,
				});
				if (parsed.ok) ok++;
			}
			return Response.json({ ok });
		}
		case "/__probe/jsonparse": {
			let ok = 0;
			for (let i = 0; i < n; i++) if (JSON.parse(raw)) ok++;
			return Response.json({ ok });
		}
		case "/__probe/reserve": {
			const sku = url.searchParams.get("sku") ?? "PROBE-HOT";
			const ledger = env.SKU_LEDGER.getByName(sku);
			await ledger.applySnapshot(sku, [{ location: "wh", onHand: Math.floor(n * 0.75), asOf: new Date().toISOString(), source: "probe" }]);
			await pool(n, c, (i) => ledger.reserve({ orderKey: `probe:${i}`, lineId: "1", sku, quantity: 1 }));
			const detail = await ledger.availability(sku);
			return Response.json({ reserved: detail.reserved, onHand: detail.onHand });
		}
		// (3b): stock one SKU, then `n` one-unit reserves from `c` concurrent callers, each its own
		// order line, with the arguments OrderFlow's saga passes; the client times the request.
		case "/__probe/ledger/stock": {
			const sku = url.searchParams.get("sku") ?? "LEDGER-HOT";
			const units = Number(url.searchParams.get("units") ?? "0");
			const outcomes = await env.SKU_LEDGER.getByName(sku).applySnapshot(sku, [
				{ location: "wh-bench", onHand: units, asOf: new Date().toISOString(), source: "bench" },
			]);
			return Response.json({ outcomes });
		}
		case "/__probe/ledger/reserve": {
			const sku = url.searchParams.get("sku") ?? "LEDGER-HOT";
			const prefix = url.searchParams.get("prefix") ?? "bench";
			const ledger = env.SKU_LEDGER.getByName(sku);
			const tally = { calls: 0, reserved: 0, backordered: 0, notOpen: 0, overRequest: 0, errors: 0, firstError: null as string | null };
			const t0 = Date.now(); // advances on I/O only: a cross-check, not the figure
			await pool(n, c, async (i) => {
				try {
					const r = await ledger.reserve({ orderKey: `${prefix}:${i}`, lineId: "1", sku, quantity: 1 });
					tally.calls++;
					if (r.status !== "open") tally.notOpen++;
					if (r.reserved > 1 || r.reserved + r.backordered !== 1) tally.overRequest++;
					tally.reserved += r.reserved;
					tally.backordered += r.backordered;
				} catch (error) {
					tally.errors++;
					tally.firstError ??= String(error);
				}
			});
			return Response.json({ ...tally, isolateMs: Date.now() - t0 });
		}
		// (3c): `n` order lines from `c` concurrent callers, alternating between one unit of
		// `single` alone and one `bundle` (from INVENTORY in wrangler.toml), whose components are
		// reserved on their own ledgers at once, as OrderFlow's saga does (one saga line per part).
		case "/__probe/ledger/bundle": {
			const bundle = url.searchParams.get("bundle") ?? "GIFT-SET";
			const single = url.searchParams.get("single");
			const prefix = url.searchParams.get("prefix") ?? "bench";
			const parts = loadConfig(env).inventory.bundles[bundle];
			if (!parts || !single) return Response.json({ error: `no bundle ${bundle} in INVENTORY, or no ?single=` }, { status: 400 });
			const perSku: Record<string, { calls: number; reserved: number; backordered: number }> = {};
			const count = (sku: string, r: { reserved: number; backordered: number }) => {
				const t = (perSku[sku] ??= { calls: 0, reserved: 0, backordered: 0 });
				t.calls++;
				t.reserved += r.reserved;
				t.backordered += r.backordered;
			};
			const tally = { lines: 0, singles: 0, bundles: 0, bundlesWhole: 0, bundlesPartial: 0, bundlesNone: 0, calls: 0, notOpen: 0, overRequest: 0, errors: 0, firstError: null as string | null };
			const reserve = async (sku: string, orderKey: string, lineId: string, quantity: number) => {
				const r = await env.SKU_LEDGER.getByName(sku).reserve({ orderKey, lineId, sku, quantity });
				tally.calls++;
				if (r.status !== "open") tally.notOpen++;
				if (r.reserved > quantity || r.reserved + r.backordered !== quantity) tally.overRequest++;
				count(sku, r);
				return r;
			};
			const t0 = Date.now();
			await pool(n, c, async (i) => {
				const orderKey = `${prefix}:${i}`;
				try {
					if (i % 2 === 0) {
						await reserve(single, orderKey, "1", 1);
						tally.singles++;
					} else {
						const held = await Promise.all(parts.map((part) => reserve(part.sku, orderKey, `1#${part.sku}`, part.quantity)));
						tally.bundles++;
						const whole = held.filter((r) => r.backordered === 0).length;
						if (whole === parts.length) tally.bundlesWhole++;
						else if (held.some((r) => r.reserved > 0)) tally.bundlesPartial++;
						else tally.bundlesNone++;
					}
					tally.lines++;
				} catch (error) {
					tally.errors++;
					tally.firstError ??= String(error);
				}
			});
			return Response.json({ ...tally, parts, perSku, isolateMs: Date.now() - t0 });
		}
		case "/__probe/ledger/detail": {
			const sku = url.searchParams.get("sku") ?? "LEDGER-HOT";
			return Response.json(await env.SKU_LEDGER.getByName(sku).detail(sku, 1));
		}
		case "/__probe/monitor": {
			const monitor = env.FLOW_MONITOR.getByName("global");
			await pool(n, c, (i) => monitor.record([{ type: "probe", orderKey: `probe:${i}`, detail: "probe" }]));
			return Response.json({ ok: n });
		}
		case "/__probe/newdo": {
			const prefix = url.searchParams.get("prefix") ?? "P";
			await pool(n, c, (i) => env.ORDER_FLOW.getByName(`${prefix}:${i}`).view());
			return Response.json({ ok: n });
		}
		case "/__probe/newledger": {
			const prefix = url.searchParams.get("prefix") ?? "L";
			await pool(n, c, (i) => env.SKU_LEDGER.getByName(`${prefix}-${i}`).availability(`${prefix}-${i}`));
			return Response.json({ ok: n });
		}
	}
	return new Response("no such probe", { status: 404 });
}

export default {
	fetch(request, env, ctx) {
		if (new URL(request.url).pathname.startsWith("/__probe/")) return probe(request, env);
		return app.fetch(request, env, ctx);
	},
} satisfies ExportedHandler<Env>;
