import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signTikTokWebhook } from "../worker/connectors/tiktok";
import { signWooCommerceBody } from "../worker/connectors/woocommerce";
import order727 from "./fixtures/woocommerce/order-727.json";
import { call, eventually, ops, sandbox, stock, uniqueSku } from "./helpers";

// The spine's rules at each new channel's door: a bad signature is 401 and stores nothing; a body
// that is signed but unusable is acknowledged and quarantined (the channel would otherwise give up
// on the webhook), then replayable; redeliveries and late, older versions change nothing.

const tiktokSigner = { appKey: "38abcd12efgh3", appSecret: env.TIKTOK_APP_SECRET as string };
const wooSecret = env.WOO_WEBHOOK_SECRET as string;

async function tiktok(body: string, signature?: string) {
	return call("/webhooks/tiktok/tiktok", { method: "POST", headers: { "Content-Type": "application/json", Authorization: signature ?? (await signTikTokWebhook(tiktokSigner, body)) }, body });
}

async function woo(topic: string, body: string, options: { delivery?: string; signature?: string } = {}) {
	return call("/webhooks/woocommerce/woocommerce", {
		method: "POST",
		headers: {
			"Content-Type": "application/json",
			"X-WC-Webhook-Topic": topic,
			"X-WC-Webhook-Resource": "order",
			"X-WC-Webhook-Event": topic.split(".")[1]!,
			"X-WC-Webhook-ID": "11",
			"X-WC-Webhook-Delivery-ID": options.delivery ?? crypto.randomUUID().replaceAll("-", ""),
			"X-WC-Webhook-Signature": options.signature ?? (await signWooCommerceBody(wooSecret, body)),
		},
		body,
	});
}

const exceptions = async () => ((await (await ops("/ops/exceptions")).json()) as { items: Array<{ id: string; kind: string; eventId: string | null; reason: string; channel: string | null }> }).items;
const orderExists = async (key: string) => (await ops(`/ops/orders/${encodeURIComponent(key)}`)).status === 200;

describe("webhooks from TikTok Shop, Amazon and WooCommerce", () => {
	it("refuses a bad signature with 401 and stores nothing", async () => {
		const { order } = await sandbox<{ order: { id: string } }>("/sandbox/tiktok/orders", { json: { lines: [{ sellerSku: uniqueSku("sig"), quantity: 1, price: "5.00" }] } });
		const { webhook } = await sandbox<{ webhook: { body: string } }>("/sandbox/tiktok/webhooks", { json: { orderId: order.id, deliver: "return" } });
		const forged = await tiktok(webhook.body, "0".repeat(64));
		expect(forged.status).toBe(401);
		expect(await forged.json()).toMatchObject({ error: { code: "invalid_signature" } });
		expect(await orderExists(`tiktok:${order.id}`)).toBe(false);

		const body = JSON.stringify({ ...order727, id: 990001 });
		expect((await woo("order.created", body, { signature: "bm90IHRoZSBzaWduYXR1cmU=" })).status).toBe(401);
		expect(await orderExists("woocommerce:990001")).toBe(false);

		const amazon = await call("/webhooks/amazon/amazon", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
		expect(amazon.status).toBe(401);
	});

	it("acknowledges a signed body it cannot read and quarantines it once; replaying the same bytes says they are still unreadable", async () => {
		const garbled = '{"type": 1, "shop_id": "7494049642642441621", "data": {"order_id": ';
		const response = await tiktok(garbled);
		expect(response.status).toBe(200);
		const { eventId } = (await response.json()) as { status: string; eventId: string };
		const item = (await exceptions()).find((e) => e.eventId === eventId)!;
		expect(item).toMatchObject({ kind: "quarantine", channel: "tiktok" });
		// The same bytes again are the same quarantine, not a second one.
		await tiktok(garbled);
		expect((await exceptions()).filter((e) => e.eventId === eventId)).toHaveLength(1);
		const replay = await ops(`/ops/exceptions/${encodeURIComponent(item.id)}/replay`, { method: "POST" });
		expect(replay.status).toBe(422);

		// WooCommerce: a body that parses but is not an order yet (no line items array).
		const broken = JSON.stringify({ ...order727, id: 990002, line_items: "nope" });
		const wooResponse = await woo("order.created", broken);
		expect(await wooResponse.json()).toMatchObject({ status: "quarantined" });
	});

	it("keeps the newest version when WooCommerce delivers an older one late, and ignores a redelivery", async () => {
		const sku = uniqueSku("woo-late");
		await stock(sku, 9, "wh-east");
		const line = { ...order727.line_items[0]!, sku, quantity: 1, subtotal: "10.00", total: "10.00", subtotal_tax: "0.00", total_tax: "0.00", taxes: [] };
		const older = { ...order727, id: 990003, status: "processing", date_modified_gmt: "2026-11-20T10:00:00", line_items: [line] };
		const newer = { ...older, status: "cancelled", date_modified_gmt: "2026-11-20T10:05:00" };

		expect(await (await woo("order.updated", JSON.stringify(newer), { delivery: "late-1" })).json()).toMatchObject({ status: "applied" });
		expect(await (await woo("order.created", JSON.stringify(older), { delivery: "late-2" })).json()).toMatchObject({ status: "stale" });
		expect(await (await woo("order.updated", JSON.stringify(newer), { delivery: "late-1" })).json()).toMatchObject({ status: "duplicate" });
		const view = await eventually(
			async () => (await (await ops("/ops/orders/woocommerce:990003")).json()) as { status: string; order: { cancelledAt: string | null } },
			(v) => v.status === "cancelled",
		);
		expect(view.order.cancelledAt).toBe("2026-11-20T10:05:00.000Z");
	});
});
