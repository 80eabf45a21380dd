import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { acceptedSecrets, rotating } from "../worker/secrets";
import { call, deliver, newOrderId, order, orderView, uniqueSku } from "./helpers";

const bearer = (token: unknown) => ({ Authorization: `Bearer ${token as string}` });
const whoami = async (token: unknown) => {
	const response = await call("/ops/whoami", { headers: bearer(token) });
	return response.status === 200 ? ((await response.json()) as { role: string }).role : response.status;
};

describe("ops tokens: scopes and rotation", () => {
	it("gives each token its role, the previous operator token included, and nothing to any other", async () => {
		expect(await whoami(env.OPS_READ_TOKEN)).toBe("read");
		expect(await whoami(env.OPS_TOKEN)).toBe("operator");
		expect(await whoami(env.OPS_TOKEN_PREVIOUS)).toBe("operator");
		expect(await whoami(env.OPS_ADMIN_TOKEN)).toBe("admin");
		expect(await whoami(`${env.OPS_TOKEN as string}x`)).toBe(401);
		expect(await whoami((env.OPS_TOKEN as string).slice(0, -1))).toBe(401);
		expect((await call("/ops/whoami", { headers: { Authorization: `Basic ${env.OPS_TOKEN as string}` } })).status).toBe(401);
	});

	it("lets the admin token do what the operator token does", async () => {
		const sku = uniqueSku("admin");
		const adjust = (token: unknown) =>
			call(`/ops/skus/${sku}/adjustments`, {
				method: "POST",
				headers: { ...bearer(token), "Content-Type": "application/json" },
				body: JSON.stringify({ location: "wh-east", delta: 1, reason: "cycle count", operator: "test" }),
			});
		expect((await adjust(env.OPS_READ_TOKEN)).status).toBe(403);
		expect((await adjust(env.OPS_ADMIN_TOKEN)).status).toBe(200);
		expect((await adjust(env.OPS_TOKEN_PREVIOUS)).status).toBe(200);
	});
});

describe("webhook secrets: rotation", () => {
	it("knows which secrets are mid-rotation", () => {
		expect(acceptedSecrets(env, "SHOPIFY_DEMO_SECRET")).toEqual([env.SHOPIFY_DEMO_SECRET, env.SHOPIFY_DEMO_SECRET_PREVIOUS]);
		expect(acceptedSecrets(env, "SHOPIFY_OUTLET_SECRET")).toEqual([env.SHOPIFY_OUTLET_SECRET]);
		expect(rotating(env, ["SHOPIFY_DEMO_SECRET", "SHOPIFY_OUTLET_SECRET", "EDI_GATEWAY_TOKEN"])).toEqual(["SHOPIFY_DEMO_SECRET", "EDI_GATEWAY_TOKEN"]);
	});

	it("accepts Shopify webhooks signed with the new or the previous secret, and stores nothing signed with any other", async () => {
		const sku = uniqueSku("rot");
		const [current, previous, other] = [newOrderId(), newOrderId(), newOrderId()];
		const send = (id: number, secret: unknown) =>
			deliver("orders/create", order({ id, lines: [{ sku, quantity: 1, price: "5.00" }] }), { secret: secret as string });
		expect((await send(current, env.SHOPIFY_DEMO_SECRET)).status).toBe(200);
		expect((await send(previous, env.SHOPIFY_DEMO_SECRET_PREVIOUS)).status).toBe(200);
		// The outlet's secret is valid for another connection only.
		const refused = await send(other, env.SHOPIFY_OUTLET_SECRET);
		expect(refused.status).toBe(401);
		expect(await orderView(current)).not.toBeNull();
		expect(await orderView(previous)).not.toBeNull();
		expect(await orderView(other)).toBeNull();
	});

	it("accepts the EDI gateway's previous bearer token, not a made-up one", async () => {
		const post = (token: unknown) => call("/webhooks/edi/edi-retailer", { method: "POST", headers: bearer(token), body: "not an interchange" });
		// Past the token check, the body is read (and refused as X12): 400, not 401.
		expect((await post(env.EDI_GATEWAY_TOKEN_PREVIOUS)).status).toBe(400);
		expect((await post(env.EDI_GATEWAY_TOKEN)).status).toBe(400);
		expect((await post("edi_some_other_token")).status).toBe(401);
	});
});
