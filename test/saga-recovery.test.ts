import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { OrderFlow } from "../durable-objects/order-flow";
import { CONNECTION, HOLDING, availability, eventually, newOrderId, order, stock, uniqueSku } from "./helpers";
import { parseShopifyChange } from "../worker/connectors/shopify/normalize";

describe("the OrderFlow saga after a crash", () => {
	it("finishes pending reservations from its alarm after an eviction interrupted them", async () => {
		const [a, b] = [uniqueSku("crash-a"), uniqueSku("crash-b")];
		await stock(a, 4);
		await stock(b, 4);
		const id = newOrderId();
		const parsed = parseShopifyChange("orders/create", order({ id, lines: [{ sku: a, quantity: 1, price: "1.00" }, { sku: b, quantity: 2, price: "1.00" }] }), CONNECTION);
		if (!parsed.ok) throw new Error(parsed.error);
		const flow = env.ORDER_FLOW.getByName(`${CONNECTION}:${id}`);

		// Record the intent exactly as ingest does, but crash before any ledger is called.
		await runInDurableObject(flow, (_: OrderFlow, state) => {
			state.storage.sql.exec("INSERT INTO state (key, value) VALUES ('key', ?), ('status', '\"received\"'), ('order', ?)", JSON.stringify(`${CONNECTION}:${id}`), JSON.stringify(parsed.change.kind === "order" ? parsed.change.order : null));
			state.storage.sql.exec("INSERT INTO lines (line_id, sku, op, target, version, pending) VALUES ('l1', ?, 'reserve', 1, 1, 1), ('l2', ?, 'reserve', 2, 1, 1)", a, b);
		});
		await evictDurableObject(flow);
		expect((await availability(a)).reserved).toBe(0);

		// On start-up the object sees pending steps without an alarm and arms one, which completes
		// the saga: nothing else calls the ledgers here.
		const view = await eventually(() => flow.view(), (v) => HOLDING.includes(v?.status ?? ""));
		expect(view!.lines.map((l) => [l.reserved, l.pending])).toEqual([[1, false], [2, false]]);
		expect((await availability(a)).reserved).toBe(1);
		expect((await availability(b)).reserved).toBe(2);

		// Alarms are at-least-once: running the step again changes nothing.
		await runInDurableObject(flow, (_: OrderFlow, state) => {
			state.storage.sql.exec("UPDATE lines SET pending = 1, version = version + 1");
			return state.storage.setAlarm(Date.now() + 60_000);
		});
		expect(await runDurableObjectAlarm(flow)).toBe(true);
		expect((await flow.view())!.lines.every((l) => !l.pending)).toBe(true);
		expect((await availability(b)).reserved).toBe(2);
	});
});
