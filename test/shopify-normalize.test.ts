/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { normalizeShopifyOrder, parseShopifyChange } from "../worker/connectors/shopify/normalize";
import { parseShopifyJson, ShopifyOrder } from "../worker/connectors/shopify/payloads";
import type { CanonicalOrder } from "../worker/model/order";
import orderCancelled from "./fixtures/shopify/order-cancelled.json";
import orderCreate from "./fixtures/shopify/order-create.json";
import orderJpy from "./fixtures/shopify/order-jpy.json";
import orderUpdated from "./fixtures/shopify/order-updated-partial-refund.json";
import refundCreate from "./fixtures/shopify/refund-create.json";
import refundCreateText from "./fixtures/shopify/refund-create.json?raw";

const CONNECTION = "shopify-demo";
const usd = (amount: number) => ({ amount, currency: "USD" });
const jpy = (amount: number) => ({ amount, currency: "JPY" });
const kyTax = (amount: number) => ({ title: "KY State Tax", rate: "0.06", amount: usd(amount) });

// Fixtures are imported through JSON.parse, so their 64-bit ids are already rounded, as in production.

function order(topic: string, body: unknown): CanonicalOrder {
	const result = parseShopifyChange(topic, body, CONNECTION);
	if (!result.ok) throw new Error(`expected ok, got: ${result.error}`);
	if (result.change.kind !== "order") throw new Error(`expected an order change, got ${result.change.kind}`);
	return result.change.order;
}

function failure(topic: string, body: unknown): string {
	const result = parseShopifyChange(topic, body, CONNECTION);
	if (result.ok) throw new Error("expected the payload to be refused");
	return result.error;
}

/** A deep copy of a fixture with one edit, for the cases the fixtures do not cover. */
function edited<T>(fixture: T, edit: (body: any) => void): unknown {
	const copy = structuredClone(fixture);
	edit(copy);
	return copy;
}

describe("orders/create", () => {
	it("normalizes every field of a USD order with a discount, taxes, shipping tax and a gift card", () => {
		expect(order("orders/create", orderCreate)).toStrictEqual({
			connection: CONNECTION,
			channel: "shopify",
			channelOrderId: "5748391026473910288",
			channelOrderName: "#1001",
			currency: "USD",
			lines: [
				{
					channelLineId: "702843951306187245",
					sku: "MCS-OAT-M",
					title: "Merino Crew Sweater - Oat / M",
					quantity: 2,
					unitPrice: usd(8900),
					discounts: [{ code: "SWEATER15", title: "SWEATER15", amount: usd(1500) }],
					taxes: [kyTax(978)],
					requiresShipping: true,
				},
				{
					channelLineId: "702843951306187311",
					sku: "WCK-01",
					title: "Wool Care Kit",
					quantity: 1,
					unitPrice: usd(2450),
					discounts: [],
					taxes: [kyTax(147)],
					requiresShipping: true,
				},
				{
					channelLineId: "702843951306187377",
					sku: null,
					title: "Lumen & Loom Gift Card - $50",
					quantity: 1,
					unitPrice: usd(5000),
					discounts: [],
					taxes: [],
					requiresShipping: false,
				},
			],
			shippingLines: [
				{
					channelLineId: "4991728305492",
					title: "Standard Shipping",
					code: "Standard",
					price: usd(895),
					discounts: [],
					taxes: [kyTax(54)],
				},
			],
			taxes: [kyTax(1179)],
			taxesIncluded: false,
			discounts: [{ code: "SWEATER15", amount: usd(1500) }],
			subtotal: usd(23750),
			total: usd(25824),
			customer: {
				channelCustomerId: "7020419583726401937",
				email: "avery.quill@example.com",
				name: "Avery Quill",
				phone: "+15025550143",
			},
			shipTo: {
				name: "Avery Quill",
				address1: "410 W Chestnut St",
				address2: "Apt 12B",
				city: "Louisville",
				province: "Kentucky",
				provinceCode: "KY",
				countryCode: "US",
				zip: "40202",
				phone: "+15025550143",
			},
			financialStatus: "paid",
			fulfillmentStatus: "unfulfilled",
			cancelledAt: null,
			refunds: [],
			createdAt: "2026-11-20T15:12:33.000Z",
			sourceUpdatedAt: "2026-11-20T15:12:35.000Z",
		});
	});

	it("takes exact ids from the gids, since JSON.parse has rounded the numeric ones", () => {
		expect(String(orderCreate.id)).not.toBe("5748391026473910288");
		const result = order("orders/create", orderCreate);
		expect(result.channelOrderId).toBe("5748391026473910288");
		expect(result.lines.map((line) => line.channelLineId)).toEqual([
			"702843951306187245",
			"702843951306187311",
			"702843951306187377",
		]);
	});

	it("uses String(id) when there is no gid and the id is exact", () => {
		const body = edited(orderCancelled, (o) => {
			delete o.admin_graphql_api_id;
			delete o.line_items[0].admin_graphql_api_id;
		});
		const result = order("orders/cancelled", body);
		expect(result.channelOrderId).toBe("6120034501234");
		expect(result.lines[0]?.channelLineId).toBe("16203344551212");
	});

	it("refuses a rounded id that has no gid rather than address another order", () => {
		const body = edited(orderCreate, (o) => delete o.admin_graphql_api_id);
		expect(failure("orders/create", body)).toMatch(/^id: 5748391026473910\d+ is beyond 2\^53/);
		const line = edited(orderCreate, (o) => delete o.line_items[1].admin_graphql_api_id);
		expect(failure("orders/create", line)).toMatch(/^line_items\[1\]\.id: /);
	});

	it("reads the plain decimal strings in the order currency when the *_set amounts are absent", () => {
		const body = edited(orderCreate, (o) => {
			delete o.line_items[0].price_set;
			o.line_items[0].price = "89.5";
			delete o.line_items[0].tax_lines[0].price_set;
			delete o.line_items[0].discount_allocations[0].amount_set;
			delete o.current_total_price_set;
			delete o.current_total_price;
			delete o.total_price_set;
		});
		const line = order("orders/create", body).lines[0];
		expect(line?.unitPrice).toEqual(usd(8950));
		expect(line?.taxes[0]?.amount).toEqual(usd(978));
		expect(line?.discounts[0]?.amount).toEqual(usd(1500));
		expect(order("orders/create", body).total).toEqual(usd(25824));
	});

	it("falls back to quantity and requires_shipping defaults on older payloads", () => {
		const body = edited(orderUpdated, (o) => {
			delete o.line_items[0].current_quantity;
			o.line_items[0].requires_shipping = null;
		});
		const line = order("orders/updated", body).lines[0];
		expect(line?.quantity).toBe(2);
		expect(line?.requiresShipping).toBe(true);
	});

	it("omits the address and builds the customer from the order when Shopify sends nulls", () => {
		const body = edited(orderCreate, (o) => {
			o.shipping_address = null;
			o.customer = null;
			o.phone = null;
		});
		const result = order("orders/create", body);
		expect(result).not.toHaveProperty("shipTo");
		expect(result.customer).toStrictEqual({ email: "avery.quill@example.com" });
	});

	it("drops null and blank address fields instead of carrying nulls into the model", () => {
		const body = edited(orderCreate, (o) => {
			o.shipping_address.address2 = "";
			o.shipping_address.phone = null;
			o.shipping_address.name = null;
		});
		expect(order("orders/create", body).shipTo).toStrictEqual({
			name: "Avery Quill",
			address1: "410 W Chestnut St",
			city: "Louisville",
			province: "Kentucky",
			provinceCode: "KY",
			countryCode: "US",
			zip: "40202",
		});
	});
});

describe("orders/updated with a partial refund", () => {
	it("carries the newer update time, current quantities and current totals", () => {
		const result = order("orders/updated", orderUpdated);
		expect(result.channelOrderId).toBe("5748391026473910288");
		expect(result.sourceUpdatedAt).toBe("2026-11-23T19:05:10.000Z");
		expect(result.createdAt).toBe("2026-11-20T15:12:33.000Z");
		expect(result.lines.map((line) => line.quantity)).toEqual([1, 0, 1]);
		expect(result.subtotal).toEqual(usd(13150));
		expect(result.total).toEqual(usd(14588));
		expect(result.financialStatus).toBe("partially_refunded");
		expect(result.fulfillmentStatus).toBe("partial");
	});

	it("maps refund lines: cancel restocks before shipment, return does not", () => {
		expect(order("orders/updated", orderUpdated).refunds).toStrictEqual([
			{
				channelRefundId: "1093827465019283746",
				createdAt: "2026-11-23T19:05:08.000Z",
				lines: [
					{ channelLineId: "702843951306187245", quantity: 1, restockBeforeShipment: true, amount: usd(8150) },
					{ channelLineId: "702843951306187311", quantity: 1, restockBeforeShipment: false, amount: usd(2450) },
				],
			},
		]);
	});

	it("restocks before shipment only for cancel, not for no_restock or legacy_restock", () => {
		const body = edited(orderUpdated, (o) => {
			o.refunds[0].refund_line_items[0].restock_type = "no_restock";
			o.refunds[0].refund_line_items[1].restock_type = "legacy_restock";
		});
		const lines = order("orders/updated", body).refunds[0]?.lines;
		expect(lines?.map((line) => line.restockBeforeShipment)).toEqual([false, false]);
	});

	it("uses the original totals when the payload predates current_*", () => {
		const body = edited(orderUpdated, (o) => {
			for (const key of ["current_subtotal_price", "current_total_price"]) {
				delete o[key];
				delete o[`${key}_set`];
			}
		});
		const old = order("orders/updated", body);
		expect(old.subtotal).toEqual(usd(23750));
		expect(old.total).toEqual(usd(25824));
	});
});

describe("orders/cancelled", () => {
	it("normalizes the cancellation time, voided status and the cancel restock", () => {
		const result = order("orders/cancelled", orderCancelled);
		expect(result.channelOrderId).toBe("6120034501234");
		expect(result.channelOrderName).toBe("#1002");
		expect(result.cancelledAt).toBe("2026-11-21T14:30:00.000Z");
		expect(result.sourceUpdatedAt).toBe("2026-11-21T14:30:01.000Z");
		expect(result.financialStatus).toBe("voided");
		expect(result.fulfillmentStatus).toBe("unfulfilled");
		expect(result.lines[0]).toMatchObject({ sku: "LTT-SET-2", quantity: 0, unitPrice: usd(3200) });
		expect(result.subtotal).toEqual(usd(0));
		expect(result.total).toEqual(usd(0));
		expect(result.taxes).toEqual([kyTax(222)]);
		expect(result.shippingLines[0]).toMatchObject({ price: usd(500), taxes: [kyTax(30)] });
		expect(result.customer).toStrictEqual({
			channelCustomerId: "7020419583726402211",
			email: "rowan.vale@example.net",
			name: "Rowan Vale",
		});
		expect(result.refunds).toStrictEqual([
			{
				channelRefundId: "1093827465019290011",
				createdAt: "2026-11-21T14:30:00.000Z",
				lines: [{ channelLineId: "16203344551212", quantity: 1, restockBeforeShipment: true, amount: usd(3200) }],
			},
		]);
	});
});

describe("orders/fulfilled in JPY", () => {
	it("reads zero-decimal amounts as whole yen", () => {
		const result = order("orders/fulfilled", orderJpy);
		expect(result.currency).toBe("JPY");
		expect(result.taxesIncluded).toBe(true);
		expect(result.lines).toStrictEqual([
			{
				channelLineId: "16310022113301",
				sku: "HBS-01-NAT",
				title: "Hinoki Bath Stool - Natural",
				quantity: 1,
				unitPrice: jpy(4800),
				discounts: [{ code: "AKI500", title: "AKI500", amount: jpy(500) }],
				taxes: [{ title: "Consumption Tax", rate: "0.1", amount: jpy(391) }],
				requiresShipping: true,
			},
			{
				channelLineId: "16310022146069",
				sku: null,
				title: "Gift wrapping",
				quantity: 1,
				unitPrice: jpy(300),
				discounts: [],
				taxes: [{ title: "Consumption Tax", rate: "0.1", amount: jpy(27) }],
				requiresShipping: true,
			},
		]);
		expect(result.shippingLines[0]).toMatchObject({ channelLineId: "5120330011223", price: jpy(700) });
		expect(result.shippingLines[0]?.taxes).toEqual([{ title: "Consumption Tax", rate: "0.1", amount: jpy(64) }]);
		expect(result.taxes).toEqual([{ title: "Consumption Tax", rate: "0.1", amount: jpy(482) }]);
		expect(result.discounts).toEqual([{ code: "AKI500", amount: jpy(500) }]);
		expect(result.subtotal).toEqual(jpy(4600));
		expect(result.total).toEqual(jpy(5300));
	});

	it("converts +09:00 times to UTC and maps the fulfilled status", () => {
		const result = order("orders/fulfilled", orderJpy);
		expect(result.createdAt).toBe("2026-11-22T00:15:00.000Z");
		expect(result.sourceUpdatedAt).toBe("2026-11-24T07:40:12.000Z");
		expect(result.fulfillmentStatus).toBe("fulfilled");
		expect(result.shipTo).toMatchObject({ provinceCode: "JP-13", countryCode: "JP", zip: "150-0001" });
	});

	it("refuses a fraction of a yen", () => {
		const body = edited(orderJpy, (o) => (o.shipping_lines[0].price_set.shop_money.amount = "700.5"));
		expect(failure("orders/fulfilled", body)).toBe(
			"shipping_lines[0].price_set.shop_money.amount: 700.5 has more precision than JPY allows",
		);
	});
});

describe("status mapping", () => {
	const financial = (value: string | null) =>
		order("orders/updated", edited(orderCreate, (o) => (o.financial_status = value))).financialStatus;
	const fulfillment = (value: string | null) =>
		order("orders/updated", edited(orderCreate, (o) => (o.fulfillment_status = value))).fulfillmentStatus;

	it("keeps Shopify's financial statuses and turns anything else into unknown", () => {
		for (const status of [
			"pending",
			"authorized",
			"partially_paid",
			"paid",
			"partially_refunded",
			"refunded",
			"voided",
		]) {
			expect(financial(status)).toBe(status);
		}
		expect(financial("expired")).toBe("unknown");
		expect(financial(null)).toBe("unknown");
	});

	it("reads a null fulfillment status as unfulfilled", () => {
		expect(fulfillment(null)).toBe("unfulfilled");
		expect(fulfillment("partial")).toBe("partial");
		expect(fulfillment("fulfilled")).toBe("fulfilled");
		expect(fulfillment("restocked")).toBe("restocked");
	});
});

describe("refunds/create", () => {
	it("keeps the exact order_id when the body is parsed with parseShopifyJson", () => {
		const result = parseShopifyChange("refunds/create", parseShopifyJson(refundCreateText), CONNECTION);
		expect(result).toStrictEqual({
			ok: true,
			change: {
				kind: "refund",
				channelOrderId: "5748391026473910288",
				refund: {
					channelRefundId: "1093827465019283746",
					createdAt: "2026-11-23T19:05:08.000Z",
					lines: [
						{ channelLineId: "702843951306187245", quantity: 1, restockBeforeShipment: true, amount: usd(8150) },
						{ channelLineId: "702843951306187311", quantity: 1, restockBeforeShipment: false, amount: usd(2450) },
					],
				},
			},
		});
	});

	it("refuses an order_id that JSON.parse rounded, since a refund has no order gid", () => {
		expect(failure("refunds/create", refundCreate)).toMatch(
			/^order_id: 5748391026473910\d+ is beyond 2\^53 and was rounded by JSON\.parse/,
		);
	});

	it("takes the currency from transactions when no *_set amount is present", () => {
		const body = edited(parseShopifyJson(refundCreateText), (r) => {
			delete r.total_duties_set;
			delete r.total_additional_fees_set;
			for (const item of r.refund_line_items) {
				delete item.subtotal_set;
				delete item.total_tax_set;
				delete item.line_item;
			}
			r.refund_line_items[0].line_item_id = "702843951306187245";
			r.refund_line_items[1].line_item_id = 702843951306187;
		});
		const result = parseShopifyChange("refunds/create", body, CONNECTION);
		expect(result.ok && result.change.kind === "refund" && result.change.refund.lines).toStrictEqual([
			{ channelLineId: "702843951306187245", quantity: 1, restockBeforeShipment: true, amount: usd(8150) },
			{ channelLineId: "702843951306187", quantity: 1, restockBeforeShipment: false, amount: usd(2450) },
		]);
	});

	it("refuses a refund whose currency cannot be found", () => {
		const body = edited(parseShopifyJson(refundCreateText), (r) => {
			delete r.total_duties_set;
			delete r.total_additional_fees_set;
			r.transactions = [];
			for (const item of r.refund_line_items) {
				delete item.subtotal_set;
				delete item.total_tax_set;
				delete item.line_item;
			}
		});
		expect(failure("refunds/create", body)).toMatch(/^refund has no currency/);
	});
});

describe("invalid payloads", () => {
	it("names the path of a field with the wrong type", () => {
		const body = edited(orderCreate, (o) => (o.line_items[0].price = 89));
		const error = failure("orders/create", body);
		expect(error).toContain("line_items[0].price: ");
		expect(error).toContain("expected string");
	});

	it("names a missing required field and a malformed timestamp", () => {
		expect(failure("orders/create", edited(orderCreate, (o) => delete o.name))).toContain("name: ");
		const error = failure("orders/create", edited(orderCreate, (o) => (o.updated_at = "yesterday")));
		expect(error).toMatch(/^updated_at: /);
	});

	it("refuses a price with more precision than the currency has", () => {
		const body = edited(orderCreate, (o) => (o.line_items[1].price_set.shop_money.amount = "19.999"));
		expect(failure("orders/create", body)).toBe(
			"line_items[1].price_set.shop_money.amount: 19.999 has more precision than USD allows",
		);
		const plain = edited(orderCreate, (o) => {
			delete o.line_items[1].price_set;
			o.line_items[1].price = "19.999";
		});
		expect(failure("orders/create", plain)).toBe("line_items[1].price: 19.999 has more precision than USD allows");
	});

	it("refuses an amount that is not a decimal at all", () => {
		const body = edited(orderCreate, (o) => (o.refunds = structuredClone(orderUpdated.refunds)));
		const bad = edited(body, (o) => (o.refunds[0].refund_line_items[1].subtotal_set.shop_money.amount = "1e3"));
		expect(failure("orders/updated", bad)).toBe(
			'refunds[0].refund_line_items[1].subtotal_set.shop_money.amount: not a decimal amount: "1e3"',
		);
	});

	it("refuses a body that is not an object", () => {
		expect(failure("orders/create", null)).toMatch(/^\(root\): /);
		expect(failure("refunds/create", "[]")).toMatch(/^\(root\): /);
	});
});

describe("normalizeShopifyOrder", () => {
	it("can be called directly on a parsed payload", () => {
		const parsed = ShopifyOrder.parse(orderCreate);
		expect(normalizeShopifyOrder(parsed, "other-shop").connection).toBe("other-shop");
	});
});

describe("parseShopifyJson", () => {
	it("keeps ids beyond 2^53 as exact digits and leaves other numbers alone", () => {
		const parsed = parseShopifyJson(
			'{"id": 5748391026473910288, "order_id": 42, "line_item_id": 702843951306187245, "rate": 0.06, "total": 9007199254740993}',
		);
		expect(parsed).toStrictEqual({
			id: "5748391026473910288",
			order_id: 42,
			line_item_id: "702843951306187245",
			rate: 0.06,
			total: 9007199254740992,
		});
	});
});
