import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
	AmazonAccount,
	type AmazonCredentials,
	amazonCarrier,
	clearLwaTokens,
	fetchAmazonOrder,
	fetchAmazonOrderDetailed,
	lwaAccessToken,
	packageReferenceId,
	parseAmazonNotification,
	parseAmazonOrder,
	pushAmazonAvailability,
	relayAmazonFulfillment,
	resolveAmazonCredentials,
	verifyAmazonWebhook,
} from "../worker/connectors/amazon";
import type { ChannelFulfillment } from "../worker/model/fulfillment";
import type { CanonicalOrder } from "../worker/model/order";
import getOrderDocumented from "./fixtures/amazon/get-order-documented.json";
import getOrderTestCase200 from "./fixtures/amazon/get-order-test-case-200.json";
import getOrderItemsDocumented from "./fixtures/amazon/get-order-items-documented.json";
import getOrderItemsPendingAdapted from "./fixtures/amazon/get-order-items-pending-adapted.json";
import getOrderItemsTestCase200 from "./fixtures/amazon/get-order-items-test-case-200.json";
import orderChange from "./fixtures/amazon/order-change-notification.json";

// Every outbound fetch from the test worker reaches the sandbox (vitest.config.ts), whatever the host.
const sandbox = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:8789${path}`, init);
const post = (path: string, body: unknown) => sandbox(path, { method: "POST", body: JSON.stringify(body) });

const CONNECTION = "amazon-demo";
const SELLER = "A3TH9S8BH6GOGM"; // the sandbox's seller, the merchant token of Amazon's examples
const account = AmazonAccount.parse({
	sellerId: SELLER,
	marketplaceId: "ATVPDKIKX0DER",
	lwaClientId: "amzn1.application-oa2-client.test",
	lwaClientSecretSecret: "AMAZON_LWA_CLIENT_SECRET",
	refreshTokenSecret: "AMAZON_REFRESH_TOKEN",
	notificationKeySecret: "AMAZON_NOTIFICATION_KEY",
	endpoint: "http://127.0.0.1:8789/amazon",
	tokenEndpoint: "http://127.0.0.1:8789/amazon/auth/o2/token",
});
const resolved = resolveAmazonCredentials(account, env as unknown as Record<string, unknown>);
if (!resolved.ok) throw new Error(resolved.error);
const credentials: AmazonCredentials = resolved.credentials;
const KEY = credentials.notificationKey;
const options = { timeoutMs: 5_000 };
const usd = (amount: number) => ({ amount, currency: "USD" });

async function fault(kind: string, ms?: number) {
	await post("/sandbox/faults", { target: "amazon", kind, remaining: 1, ms });
}
async function lwaStats(): Promise<{ grants: number; refused: number }> {
	return (await (await sandbox("/sandbox/amazon/lwa")).json()) as { grants: number; refused: number };
}
type Seeded = { amazonOrderId: string; items: Array<{ orderItemId: string; sku: string; quantity: number }> };
async function seed(body: unknown): Promise<Seeded> {
	const response = await post("/sandbox/amazon/orders", body);
	if (!response.ok) throw new Error(await response.text());
	return (await response.json()) as Seeded;
}
const orderId = () => `113-${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}-${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
type SandboxState = {
	order: Record<string, unknown>;
	items: Array<Record<string, unknown>>;
	packages: Array<{ packageReferenceId: string; carrierCode: string; carrierName: string | null; trackingNumber: string; orderItems: Array<{ orderItemId: string; quantity: number }>; submissions: number }>;
	confirmAttempts: number;
};
async function state(id: string): Promise<SandboxState> {
	return (await (await sandbox(`/sandbox/amazon/orders/${id}`)).json()) as SandboxState;
}

beforeAll(async () => {
	await sandbox("/sandbox/faults", { method: "DELETE" });
	await post("/sandbox/amazon/lwa", { tokenTtlSeconds: 3600 });
	clearLwaTokens();
});

describe("ORDER_CHANGE notifications", () => {
	const raw = JSON.stringify(orderChange);
	// Amazon's own example (schemas/notifications/OrderChangeNotification.json, examples[0]).
	const expected = {
		eventId: "d0e9e693-c3ad-4373-979f-ed4ec98dd746",
		notificationType: "ORDER_CHANGE",
		channelOrderId: "903-8868176-2219830",
		sellerId: "A3TH9S8BH6GOGM",
		marketplaceId: "ATVPDKIKX0DER",
		orderStatus: "Unshipped",
		changeType: "BuyerRequestedChange",
		changeReason: "Buyer Requested Cancel",
		fulfillmentType: "MFN",
		eventTime: "2020-01-11T00:09:53.109Z",
		changedAt: "2022-11-29T19:42:04.284Z",
	};

	it("reads Amazon's published example as it arrives raw", () => {
		expect(parseAmazonNotification(raw, account)).toStrictEqual({ ok: true, notice: expected });
	});

	it("reads it inside an EventBridge event (detail as object or as the SQS body string) and as an SQS message", () => {
		const event = (detail: unknown) => ({
			version: "0",
			id: "5c1c1f6a-7b4e-4d49-9b6e-0a4f1c2e3d4f",
			"detail-type": "ORDER_CHANGE",
			source: "aws.partner/sellingpartnerapi.amazon.com/123456789012/amzn1.sellerapps.app.example",
			account: "123456789012",
			time: "2020-01-11T00:09:54Z",
			region: "us-east-1",
			resources: [],
			detail,
		});
		const sqs = { messageId: "059f36b4-87a3-44ab-83d2-661975830a7d", body: raw, eventSource: "aws:sqs", awsRegion: "us-east-1" };
		for (const body of [event(orderChange), event(raw), sqs, [sqs], { ...event(sqs), "detail-type": "Event from aws:sqs", source: "Pipe orders" }]) {
			expect(parseAmazonNotification(JSON.stringify(body), account)).toStrictEqual({ ok: true, notice: expected });
		}
	});

	it("ignores other sellers, other marketplaces, orders Amazon fulfils and other notification types", () => {
		const edit = (change: (n: any) => void) => {
			const copy = structuredClone(orderChange) as any;
			change(copy);
			return JSON.stringify(copy);
		};
		const id = expected.eventId;
		expect(parseAmazonNotification(raw, { sellerId: "AOTHERSELLER1", marketplaceId: "ATVPDKIKX0DER" })).toEqual({ ok: true, ignored: expect.stringContaining("seller A3TH9S8BH6GOGM"), eventId: id });
		expect(parseAmazonNotification(raw, { sellerId: SELLER, marketplaceId: "A2EUQ1WTGCTBG2" })).toEqual({ ok: true, ignored: expect.stringContaining("marketplace ATVPDKIKX0DER"), eventId: id });
		expect(parseAmazonNotification(edit((n) => (n.Payload.OrderChangeNotification.Summary.FulfillmentType = "AFN")), account)).toEqual({ ok: true, ignored: expect.stringContaining("AFN"), eventId: id });
		expect(parseAmazonNotification(edit((n) => (n.NotificationType = "LISTINGS_ITEM_STATUS_CHANGE")), account)).toEqual({ ok: true, ignored: "notification type LISTINGS_ITEM_STATUS_CHANGE is not handled", eventId: id });
		// Without an account to check against, any seller's notification is read.
		expect(parseAmazonNotification(raw)).toStrictEqual({ ok: true, notice: expected });
	});

	it("refuses malformed bodies, naming what is wrong", () => {
		const edit = (change: (n: any) => void) => {
			const copy = structuredClone(orderChange) as any;
			change(copy);
			return JSON.stringify(copy);
		};
		expect(parseAmazonNotification("{not json", account)).toEqual({ ok: false, error: "body is not JSON" });
		expect(parseAmazonNotification(JSON.stringify({ hello: "world" }), account)).toEqual({ ok: false, error: expect.stringContaining("neither an SP-API notification") });
		const sqs = { messageId: "m", body: raw };
		expect(parseAmazonNotification(JSON.stringify([sqs, sqs]), account)).toEqual({ ok: false, error: expect.stringContaining("batch of 2") });
		expect(parseAmazonNotification(edit((n) => delete n.NotificationMetadata.NotificationId), account)).toEqual({ ok: false, error: expect.stringContaining("NotificationMetadata.NotificationId") });
		expect(parseAmazonNotification(edit((n) => delete n.Payload.OrderChangeNotification.AmazonOrderId), account)).toEqual({
			ok: false,
			error: expect.stringContaining("Payload.OrderChangeNotification.AmazonOrderId"),
		});
		expect(parseAmazonNotification(edit((n) => (n.EventTime = "yesterday")), account)).toEqual({ ok: false, error: expect.stringContaining("EventTime") });
	});

	it("accepts the API destination's key in its header and refuses a wrong, partial or misplaced one", async () => {
		const headers = (name: string, value: string) => new Headers({ [name]: value, "content-type": "application/json; charset=utf-8" });
		expect(await verifyAmazonWebhook(KEY, headers("x-api-key", KEY), raw)).toBe(true);
		expect(await verifyAmazonWebhook(KEY, headers("X-Api-Key", KEY), raw)).toBe(true);
		expect(await verifyAmazonWebhook(KEY, headers("x-api-key", `${KEY}x`), raw)).toBe(false);
		expect(await verifyAmazonWebhook(KEY, headers("x-api-key", KEY.slice(0, -1)), raw)).toBe(false);
		expect(await verifyAmazonWebhook(KEY, headers("x-api-key", ""), raw)).toBe(false);
		expect(await verifyAmazonWebhook(KEY, new Headers(), raw)).toBe(false);
		expect(await verifyAmazonWebhook(KEY, headers("x-auth-token", KEY), raw)).toBe(false);
		expect(await verifyAmazonWebhook(KEY, headers("x-auth-token", KEY), raw, "x-auth-token")).toBe(true);
		expect(await verifyAmazonWebhook("", headers("x-api-key", ""), raw)).toBe(false);
	});
});

// The model's sandbox pair for TEST_CASE_200 (ordersV0.json x-amzn-api-sandbox), verbatim.
const testCase200: CanonicalOrder = {
	connection: CONNECTION,
	channel: "amazon",
	channelOrderId: "902-1845936-5435065",
	channelOrderName: "902-1845936-5435065",
	currency: "USD",
	lines: [
		{
			channelLineId: "05015851154158",
			sku: "NABetaASINB00551Q3CS",
			title: "B00551Q3CS [Card Book]",
			quantity: 1,
			unitPrice: usd(1000),
			discounts: [],
			taxes: [{ title: "Tax", amount: usd(101) }],
			requiresShipping: true,
		},
	],
	shippingLines: [{ channelLineId: "shipping", title: "Standard", code: "Std US D2D Dom", price: usd(0), discounts: [], taxes: [] }],
	taxes: [{ title: "Tax", amount: usd(101) }],
	// OrderTotal 11.01 = ItemPrice 10.00 + ItemTax 1.01: US prices exclude tax.
	taxesIncluded: false,
	discounts: [],
	subtotal: usd(1000),
	total: usd(1101),
	financialStatus: "authorized",
	fulfillmentStatus: "unfulfilled",
	cancelledAt: null,
	refunds: [],
	createdAt: "1970-01-19T03:58:30.000Z",
	sourceUpdatedAt: "1970-01-19T03:58:32.000Z",
};

describe("getOrder + getOrderItems → canonical order", () => {
	function normalized(order: unknown, ...pages: unknown[]): CanonicalOrder {
		const result = parseAmazonOrder(order, pages, CONNECTION);
		if (!result.ok) throw new Error(`expected ok, got: ${result.error}`);
		return result.order;
	}
	const edited = <T>(fixture: T, edit: (body: any) => void): unknown => {
		const copy = structuredClone(fixture);
		edit(copy);
		return copy;
	};

	it("normalizes the documented TEST_CASE_200 order and items exactly", () => {
		expect(normalized(getOrderTestCase200, getOrderItemsTestCase200)).toStrictEqual(testCase200);
	});

	it("normalizes the documented getOrder example (Pending, with ship-to and buyer) with its items as Pending orders have them", () => {
		// Items: the TEST_CASE_200 item under this order's id, without the pricing, tax and promotion
		// fields getOrderItems leaves out while an order is Pending (ordersV0.json getOrderItems note).
		expect(normalized(getOrderDocumented, getOrderItemsPendingAdapted)).toStrictEqual({
			connection: CONNECTION,
			channel: "amazon",
			channelOrderId: "902-3159896-1390916",
			channelOrderName: "902-3159896-1390916",
			currency: "USD",
			lines: [
				{
					channelLineId: "05015851154158",
					sku: "NABetaASINB00551Q3CS",
					title: "B00551Q3CS [Card Book]",
					quantity: 1,
					unitPrice: usd(0),
					discounts: [],
					taxes: [],
					requiresShipping: true,
				},
			],
			shippingLines: [{ channelLineId: "shipping", title: "Standard", price: usd(0), discounts: [], taxes: [] }],
			taxes: [],
			taxesIncluded: false,
			discounts: [],
			subtotal: usd(0),
			total: usd(0),
			customer: { email: "user@example.com", name: "John Doe" },
			shipTo: { name: "Michigan address", address1: "1 Cross St.", city: "Canton", province: "MI", provinceCode: "MI", countryCode: "US", zip: "48817" },
			financialStatus: "pending",
			fulfillmentStatus: "unfulfilled",
			cancelledAt: null,
			refunds: [],
			createdAt: "2017-01-20T19:49:35.000Z",
			sourceUpdatedAt: "2017-01-20T19:49:35.000Z",
			holdReason: "Amazon order is Pending",
		} satisfies CanonicalOrder);
	});

	it("maps every OrderStatus; Canceled sets cancelledAt to LastUpdateDate", () => {
		const withStatus = (status: string) =>
			normalized(
				edited(getOrderTestCase200, (o) => {
					o.payload.OrderStatus = status;
					o.payload.LastUpdateDate = "2026-11-20T10:00:07Z";
				}),
				getOrderItemsTestCase200,
			);
		const statuses = Object.fromEntries(
			["PendingAvailability", "Pending", "Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed", "Canceled", "Unfulfillable", "SomethingNew"].map((s) => {
				const order = withStatus(s);
				return [s, [order.financialStatus, order.fulfillmentStatus, order.cancelledAt]];
			}),
		);
		expect(statuses).toStrictEqual({
			PendingAvailability: ["pending", "unfulfilled", null],
			Pending: ["pending", "unfulfilled", null],
			Unshipped: ["authorized", "unfulfilled", null],
			PartiallyShipped: ["partially_paid", "partial", null],
			Shipped: ["paid", "fulfilled", null],
			InvoiceUnconfirmed: ["paid", "fulfilled", null],
			Canceled: ["voided", "unfulfilled", "2026-11-20T10:00:07.000Z"],
			Unfulfillable: ["unknown", "unfulfilled", null],
			SomethingNew: ["unknown", "unfulfilled", null],
		});
		expect(withStatus("Canceled").sourceUpdatedAt).toBe("2026-11-20T10:00:07.000Z");
	});

	it("sums shipping into one line, keeps promotions and taxes per line, and divides ItemPrice by the quantity", () => {
		const items = edited(getOrderItemsTestCase200, (o) => {
			const item = o.payload.OrderItems[0];
			item.QuantityOrdered = 3;
			item.ItemPrice.Amount = "10.00"; // 3 units for 10.00: 3.33 each (3.333… rounded)
			item.PromotionDiscount.Amount = "1.00";
			item.PromotionIds = ["SAVE1"];
			item.ShippingPrice = { CurrencyCode: "USD", Amount: "4.99" };
			item.ShippingDiscount = { CurrencyCode: "USD", Amount: "0.99" };
			item.ShippingTax = { CurrencyCode: "USD", Amount: "0.33" };
			item.TaxCollection = { Model: "MarketplaceFacilitator", ResponsibleParty: "Amazon Services, Inc." };
			o.payload.OrderItems.push({ ASIN: "B000000002", OrderItemId: "05015851154159", SellerSKU: " ", QuantityOrdered: 1, ItemPrice: { CurrencyCode: "USD", Amount: "2.50" } });
		});
		const order = edited(getOrderTestCase200, (o) => (o.payload.OrderTotal.Amount = "16.84")); // 10 − 1 + 2.50 + 4.99 − 0.99 + 1.01 + 0.33
		const result = normalized(order, items);
		const tax = "Marketplace facilitator tax";
		expect(result.lines).toStrictEqual([
			{
				channelLineId: "05015851154158",
				sku: "NABetaASINB00551Q3CS",
				title: "B00551Q3CS [Card Book]",
				quantity: 3,
				unitPrice: usd(333),
				discounts: [{ code: "SAVE1", title: "Amazon promotion", amount: usd(100) }],
				taxes: [{ title: tax, amount: usd(101) }],
				requiresShipping: true,
			},
			{ channelLineId: "05015851154159", sku: null, title: "B000000002", quantity: 1, unitPrice: usd(250), discounts: [], taxes: [], requiresShipping: true },
		]);
		expect(result.shippingLines).toStrictEqual([
			{ channelLineId: "shipping", title: "Standard", code: "Std US D2D Dom", price: usd(499), discounts: [{ title: "Shipping discount", amount: usd(99) }], taxes: [{ title: tax, amount: usd(33) }] },
		]);
		expect(result.taxes).toStrictEqual([{ title: tax, amount: usd(134) }]);
		expect(result.discounts).toStrictEqual([{ code: "SAVE1", title: "Amazon promotions", amount: usd(199) }]);
		expect([result.subtotal, result.total, result.taxesIncluded]).toStrictEqual([usd(1150), usd(1684), false]);
	});

	it("reads VAT-inclusive prices from the order's own arithmetic (the documented TEST_CASE_IBA_200 order, Amazon-fulfilled)", () => {
		// getOrder TEST_CASE_IBA_200 (ordersV0.json), EUR 100.00 on amazon.de; its item is ours:
		// 100.00 with 15.97 VAT inside it (19%).
		const order = edited(getOrderTestCase200, (o) =>
			Object.assign(o.payload, {
				AmazonOrderId: "921-3175655-0452641",
				PurchaseDate: "2019-05-07T15:42:57.058Z",
				LastUpdateDate: "2019-05-08T21:59:59Z",
				OrderStatus: "Shipped",
				FulfillmentChannel: "AFN",
				SalesChannel: "Amazon.de",
				ShipServiceLevel: "Standard",
				OrderTotal: { CurrencyCode: "EUR", Amount: "100.00" },
				MarketplaceId: "A1PA6795UKMFR9",
			}),
		);
		const items = {
			payload: {
				AmazonOrderId: "921-3175655-0452641",
				OrderItems: [{ ASIN: "B00551Q3CS", OrderItemId: "11111111111111", SellerSKU: "MUG-BLU", Title: "Mug", QuantityOrdered: 2, QuantityShipped: 2, ItemPrice: { CurrencyCode: "EUR", Amount: "100.00" }, ItemTax: { CurrencyCode: "EUR", Amount: "15.97" } }],
			},
		};
		const result = normalized(order, items);
		expect(result.currency).toBe("EUR");
		expect(result.taxesIncluded).toBe(true);
		expect(result.total).toStrictEqual({ amount: 10000, currency: "EUR" });
		expect(result.lines[0]).toMatchObject({ unitPrice: { amount: 5000, currency: "EUR" }, requiresShipping: false });
		expect([result.financialStatus, result.fulfillmentStatus]).toStrictEqual(["paid", "fulfilled"]);
		expect(result.createdAt).toBe("2019-05-07T15:42:57.058Z");
	});

	it("refuses what it cannot represent exactly, naming the field", () => {
		// The documented getOrderItems example belongs to another order …
		expect(parseAmazonOrder(getOrderDocumented, [getOrderItemsDocumented], CONNECTION)).toEqual({
			ok: false,
			error: "getOrderItems page 1: items of order 903-1671087-0812628, not 902-3159896-1390916",
		});
		// … and, read under its own id in Japan, prices yen with cents ("25.99" JPY), which is refused, not rounded.
		const japanese = edited(getOrderDocumented, (o) => {
			o.payload.AmazonOrderId = "903-1671087-0812628";
			o.payload.MarketplaceId = "A1VC38T7YXB528";
			o.payload.OrderStatus = "Shipped";
		});
		expect(parseAmazonOrder(japanese, [getOrderItemsDocumented], CONNECTION)).toEqual({ ok: false, error: "OrderItems[0].ItemPrice.Amount: 25.99 has more precision than JPY allows" });
		const mixed = edited(getOrderItemsTestCase200, (o) => (o.payload.OrderItems[0].ItemTax.CurrencyCode = "CAD"));
		expect(parseAmazonOrder(getOrderTestCase200, [mixed], CONNECTION)).toEqual({ ok: false, error: "OrderItems[0].ItemTax.CurrencyCode: CAD, but the order is in USD" });
		const noUpdate = edited(getOrderTestCase200, (o) => delete o.payload.LastUpdateDate);
		expect(parseAmazonOrder(noUpdate, [getOrderItemsTestCase200], CONNECTION)).toEqual({ ok: false, error: expect.stringContaining("getOrder: payload.LastUpdateDate") });
		const badTime = edited(getOrderTestCase200, (o) => (o.payload.LastUpdateDate = "soon"));
		expect(parseAmazonOrder(badTime, [getOrderItemsTestCase200], CONNECTION)).toEqual({ ok: false, error: 'LastUpdateDate: not an ISO 8601 time: "soon"' });
		expect(parseAmazonOrder({ errors: [{ code: "InvalidInput", message: "Invalid Input" }] }, [], CONNECTION)).toEqual({ ok: false, error: expect.stringContaining("getOrder: payload") });
	});
});

describe("Login with Amazon", () => {
	const lwa = (overrides: Partial<{ clientSecret: string; refreshToken: string }> = {}) => ({
		tokenEndpoint: account.tokenEndpoint!,
		clientId: account.lwaClientId,
		clientSecret: credentials.lwaClientSecret,
		refreshToken: credentials.refreshToken,
		...overrides,
	});

	it("grants with the refresh token and reuses the access token until a minute before it expires", async () => {
		clearLwaTokens();
		const before = (await lwaStats()).grants;
		const t0 = Date.now();
		const first = await lwaAccessToken(lwa(), { timeoutMs: 5_000, nowMs: t0 });
		expect(first).toEqual({ ok: true, value: expect.stringMatching(/^Atza\|/) });
		const later = await lwaAccessToken(lwa(), { timeoutMs: 5_000, nowMs: t0 + 3_539_000 });
		expect(later).toEqual(first);
		expect((await lwaStats()).grants).toBe(before + 1);
		const renewed = await lwaAccessToken(lwa(), { timeoutMs: 5_000, nowMs: t0 + 3_541_000 });
		expect(renewed.ok && first.ok && renewed.value !== first.value).toBe(true);
		expect((await lwaStats()).grants).toBe(before + 2);
	});

	it("refuses a wrong client secret (invalid_client) and a revoked refresh token (invalid_grant) as not retryable", async () => {
		clearLwaTokens();
		const wrongSecret = await lwaAccessToken(lwa({ clientSecret: "amzn1.oa2-cs.v1.wrong" }), options);
		expect(wrongSecret).toEqual({ ok: false, retryable: false, status: 401, error: expect.stringContaining("invalid_client") });
		const revoked = await lwaAccessToken(lwa({ refreshToken: "Atzr|revoked" }), options);
		expect(revoked).toEqual({ ok: false, retryable: false, status: 400, error: expect.stringMatching(/invalid_grant.*authorize the application again/) });
		// Through a client call, the refusal is the call's answer.
		const viaClient = await fetchAmazonOrder(account, { ...credentials, lwaClientSecret: "amzn1.oa2-cs.v1.wrong" }, CONNECTION, "902-1845936-5435065", options);
		expect(viaClient).toMatchObject({ ok: false, retryable: false, status: 401 });
	});

	it("treats LWA's own 5xx and 429 as retryable", async () => {
		clearLwaTokens();
		await post("/sandbox/amazon/lwa", { fail: [503, 429] });
		expect(await lwaAccessToken(lwa(), options)).toMatchObject({ ok: false, retryable: true, status: 503 });
		expect(await lwaAccessToken(lwa(), options)).toMatchObject({ ok: false, retryable: true, status: 429 });
		expect(await lwaAccessToken(lwa(), options)).toMatchObject({ ok: true });
	});

	it("asks for a new token once when the SP-API says the cached one expired", async () => {
		clearLwaTokens();
		await seed({ order: getOrderTestCase200, items: getOrderItemsTestCase200 });
		expect((await fetchAmazonOrder(account, credentials, CONNECTION, "902-1845936-5435065", options)).ok).toBe(true);
		const before = (await lwaStats()).grants;
		await post("/sandbox/amazon/lwa", { expire: true });
		expect((await fetchAmazonOrder(account, credentials, CONNECTION, "902-1845936-5435065", options)).ok).toBe(true);
		expect((await lwaStats()).grants).toBe(before + 1);
	});
});

describe("SP-API client against the sandbox", () => {
	it("fetches and normalizes an order exactly as the golden test does", async () => {
		await seed({ order: getOrderTestCase200, items: getOrderItemsTestCase200 });
		const result = await fetchAmazonOrder(account, credentials, CONNECTION, "902-1845936-5435065", options);
		expect(result).toStrictEqual({ ok: true, value: testCase200 });
	});

	it("follows NextToken through every page of order items", async () => {
		const id = orderId();
		const lines = Array.from({ length: 5 }, (_, i) => ({ sku: `SKU-${i}`, quantity: i + 1, price: "2.50" }));
		await seed({ amazonOrderId: id, itemsPerPage: 2, lines, shipping: "3.99" });
		const result = await fetchAmazonOrder(account, credentials, CONNECTION, id, options);
		if (!result.ok) throw new Error(result.error);
		expect(result.value.lines.map((l) => [l.sku, l.quantity, l.unitPrice.amount])).toStrictEqual(lines.map((l) => [l.sku, l.quantity, 250]));
		expect(result.value.total).toStrictEqual(usd(15 * 250 + 399));
		// The sandbox's default recipient, read with the Restricted Data Token every fetch asks for.
		expect(result.value.shipTo).toStrictEqual({ name: "John Doe", address1: "1 Cross St.", city: "CANTON", province: "MI", provinceCode: "MI", countryCode: "US", zip: "48817", phone: "+1 734-555-0142" });
	});

	it("takes a notification the sandbox posts through its API destination, end to end", async () => {
		const id = orderId();
		await seed({ amazonOrderId: id, lines: [{ sku: "TEE-BLK-M", quantity: 2, price: "19.99", tax: "3.30" }] });
		await post("/sandbox/amazon/notify", { amazonOrderId: id, envelope: "pipe-bus", connection: CONNECTION });
		const { callbacks } = (await (await post("/sandbox/callbacks/drain", { match: id })).json()) as {
			callbacks: Array<{ path: string; headers: Record<string, string>; body: string }>;
		};
		expect(callbacks).toHaveLength(1);
		const [callback] = callbacks;
		expect(callback!.path).toBe(`/webhooks/amazon/${CONNECTION}`);
		expect(await verifyAmazonWebhook(KEY, new Headers(callback!.headers), callback!.body, account.notificationHeader)).toBe(true);
		const parsed = parseAmazonNotification(callback!.body, account);
		if (!parsed.ok || !("notice" in parsed)) throw new Error(JSON.stringify(parsed));
		expect(parsed.notice).toMatchObject({ channelOrderId: id, orderStatus: "Unshipped", sellerId: SELLER });
		const order = await fetchAmazonOrder(account, credentials, CONNECTION, parsed.notice.channelOrderId, options);
		if (!order.ok) throw new Error(order.error);
		expect(order.value.lines).toMatchObject([{ sku: "TEE-BLK-M", quantity: 2, unitPrice: usd(1999), taxes: [{ amount: usd(330) }] }]);
		expect(order.value.total).toStrictEqual(usd(2 * 1999 + 330));

		// Each envelope the sandbox can produce reads the same; a key from elsewhere is refused.
		for (const envelope of ["raw", "eventbridge", "eventbridge-body", "sqs", "sqs-batch"]) {
			const { callback: other } = (await (await post("/sandbox/amazon/notify", { amazonOrderId: id, envelope, deliver: "return" })).json()) as { callback: { headers: Record<string, string>; body: string } };
			expect(parseAmazonNotification(other.body, account)).toMatchObject({ ok: true, notice: { channelOrderId: id } });
		}
		const { callback: forged } = (await (await post("/sandbox/amazon/notify", { amazonOrderId: id, key: "guessed", deliver: "return" })).json()) as { callback: { headers: Record<string, string>; body: string } };
		expect(await verifyAmazonWebhook(KEY, new Headers(forged.headers), forged.body)).toBe(false);
	});

	it("classifies failures: 429 (with the rate header's wait) and 5xx retryable, 4xx not", async () => {
		const id = orderId();
		await seed({ amazonOrderId: id, lines: [{ sku: "CAP-NVY", quantity: 1, price: "12.50" }] });
		await lwaAccessToken({ tokenEndpoint: account.tokenEndpoint!, clientId: account.lwaClientId, clientSecret: credentials.lwaClientSecret, refreshToken: credentials.refreshToken }, options);
		await fault("429");
		// A fetch begins with createRestrictedDataToken, whose rate is 1 request per second: one
		// request's worth is 1 s. Throttling is the fetch's failure, not a reason to read the order
		// without its address.
		expect(await fetchAmazonOrder(account, credentials, CONNECTION, id, options)).toEqual({
			ok: false,
			retryable: true,
			status: 429,
			retryAfterMs: 1000,
			error: expect.stringMatching(/restrictedDataToken: 429 QuotaExceeded/),
		});
		await fault("503");
		expect(await fetchAmazonOrder(account, credentials, CONNECTION, id, options)).toMatchObject({ ok: false, retryable: true, status: 503 });
		await fault("500");
		expect(await fetchAmazonOrder(account, credentials, CONNECTION, id, options)).toMatchObject({ ok: false, retryable: true, status: 500 });
		await fault("refuse");
		expect(await fetchAmazonOrder(account, credentials, CONNECTION, id, options)).toMatchObject({ ok: false, retryable: false, status: 400, error: expect.stringContaining("InvalidInput") });
		expect(await fetchAmazonOrder(account, credentials, CONNECTION, "999-0000000-0000000", options)).toMatchObject({ ok: false, retryable: false, status: 404 });
		await fault("timeout", 1_000);
		expect(await fetchAmazonOrder(account, credentials, CONNECTION, id, { timeoutMs: 300 })).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining("timed out") });
		expect((await fetchAmazonOrder(account, credentials, CONNECTION, id, options)).ok).toBe(true);
	});

	it("confirms a shipment once, whatever the retries after a lost answer, and ships the rest as a second package", async () => {
		const id = orderId();
		const seeded = await seed({ amazonOrderId: id, lines: [{ sku: "TEE-BLK-M", quantity: 2, price: "19.99" }, { sku: "CAP-NVY", quantity: 1, price: "12.50" }] });
		const [tee, cap] = seeded.items;
		const first: ChannelFulfillment = {
			channelOrderId: id,
			shipmentId: "500000777",
			lines: [{ channelLineId: tee!.orderItemId, quantity: 1 }],
			tracking: { company: "USPS", number: "9400111899223197428490" },
			notifyCustomer: true,
		};
		await fault("lost-response", 1_500);
		const lost = await relayAmazonFulfillment(account, credentials, first, { timeoutMs: 400 });
		expect(lost).toMatchObject({ ok: false, retryable: true });
		const retry = await relayAmazonFulfillment(account, credentials, first, options);
		const reference = await packageReferenceId("500000777");
		expect(retry).toEqual({ ok: true, value: { packageReferenceId: reference } });
		expect(reference).toMatch(/^[1-9]\d*$/);
		let held = await state(id);
		expect(held.confirmAttempts).toBe(2);
		expect(held.packages).toEqual([expect.objectContaining({ packageReferenceId: reference, carrierCode: "USPS", submissions: 2, orderItems: [{ orderItemId: tee!.orderItemId, quantity: 1 }] })]);
		expect(held.items.map((i) => i.QuantityShipped)).toStrictEqual([1, 0]);
		expect(held.order.OrderStatus).toBe("PartiallyShipped");

		const rest: ChannelFulfillment = {
			channelOrderId: id,
			shipmentId: "500000778",
			lines: [
				{ channelLineId: tee!.orderItemId, quantity: 1 },
				{ channelLineId: cap!.orderItemId, quantity: 1 },
			],
			tracking: { company: "Speedy Local Couriers", number: "SLC-000123" },
			notifyCustomer: true,
		};
		expect(await relayAmazonFulfillment(account, credentials, rest, options)).toMatchObject({ ok: true });
		expect(await relayAmazonFulfillment(account, credentials, rest, options)).toMatchObject({ ok: true });
		held = await state(id);
		expect(held.packages).toHaveLength(2);
		expect(held.packages[1]).toMatchObject({ carrierCode: "Other", carrierName: "Speedy Local Couriers", trackingNumber: "SLC-000123", submissions: 2 });
		expect(held.items.map((i) => i.QuantityShipped)).toStrictEqual([2, 1]);
		expect(held.order.OrderStatus).toBe("Shipped");

		// A shipment ordersync never made (another id, more units than the order has) is Amazon's refusal, not retryable.
		const extra = await relayAmazonFulfillment(account, credentials, { ...first, shipmentId: "500000999" }, options);
		expect(extra).toMatchObject({ ok: false, retryable: false, status: 400, error: expect.stringContaining("InvalidInput") });
		// No tracking number: refused before any call, since Amazon requires one.
		const before = (await state(id)).confirmAttempts;
		expect(await relayAmazonFulfillment(account, credentials, { ...first, tracking: {} }, options)).toMatchObject({ ok: false, retryable: false });
		expect((await state(id)).confirmAttempts).toBe(before);
	});

	it("does not confirm a shipment of a canceled order, and 429 on confirmShipment is retryable", async () => {
		const id = orderId();
		const seeded = await seed({ amazonOrderId: id, lines: [{ sku: "SOCK-3PK", quantity: 1, price: "9.00" }] });
		const payload: ChannelFulfillment = {
			channelOrderId: id,
			shipmentId: `ship-${id}`,
			lines: [{ channelLineId: seeded.items[0]!.orderItemId, quantity: 1 }],
			tracking: { company: "UPS", number: "1Z999AA10123456784" },
			notifyCustomer: false,
		};
		await fault("429");
		expect(await relayAmazonFulfillment(account, credentials, payload, options)).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 500 });
		await post(`/sandbox/amazon/orders/${id}/status`, { status: "Canceled" });
		expect(await relayAmazonFulfillment(account, credentials, payload, options)).toMatchObject({ ok: false, retryable: false, status: 400, error: expect.stringContaining("canceled") });
		expect((await state(id)).packages).toEqual([]);
		// A canceled order reads as cancelled.
		const order = await fetchAmazonOrder(account, credentials, CONNECTION, id, options);
		expect(order).toMatchObject({ ok: true, value: { financialStatus: "voided", cancelledAt: expect.any(String) } });
	});

	it("maps carriers to Amazon's codes, anything else to Other with its name", () => {
		expect(amazonCarrier("USPS")).toEqual({ carrierCode: "USPS" });
		expect(amazonCarrier("fedex")).toEqual({ carrierCode: "FedEx" });
		expect(amazonCarrier("Canada Post")).toEqual({ carrierCode: "Canada Post" });
		expect(amazonCarrier("UPS Mail Innovations")).toEqual({ carrierCode: "UPSMI" });
		expect(amazonCarrier("Speedy")).toEqual({ carrierCode: "Other", carrierName: "Speedy" });
		expect(amazonCarrier(undefined)).toEqual({ carrierCode: "Other", carrierName: "Other" });
	});

	it("sets a listing's quantity with a merge patch: ACCEPTED keeps the other fulfilment fields, INVALID is not retryable", async () => {
		const sku = `MUG-${crypto.randomUUID().slice(0, 8)}`;
		await post("/sandbox/amazon/listings", { sku, quantity: 5, leadTimeDays: 3 });
		const accepted = await pushAmazonAvailability(account, credentials, { sku, quantity: 12 }, options);
		expect(accepted).toEqual({ ok: true, value: { submissionId: expect.any(String), status: "ACCEPTED", issues: [] } });
		const listing = (await (await sandbox(`/sandbox/amazon/listings/${sku}`)).json()) as { attributes: { fulfillment_availability: unknown[] }; submissions: unknown[] };
		expect(listing.attributes.fulfillment_availability).toStrictEqual([{ fulfillment_channel_code: "DEFAULT", quantity: 12, lead_time_to_ship_max_days: 3 }]);
		expect(listing.submissions).toHaveLength(1);

		const invalid = await pushAmazonAvailability(account, credentials, { sku: `NOPE-${sku}`, quantity: 1 }, options);
		expect(invalid).toEqual({ ok: false, retryable: false, status: 200, error: expect.stringMatching(/INVALID: ERROR SKU_NOT_FOUND: SKU 'NOPE-MUG-.*' does not exist/) });

		await fault("429");
		expect(await pushAmazonAvailability(account, credentials, { sku, quantity: 11 }, options)).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 200 });
		// An SKU with characters that need escaping in the path still reaches its listing.
		const odd = `KIT/${sku} #1`;
		await post("/sandbox/amazon/listings", { sku: odd, quantity: 0 });
		expect(await pushAmazonAvailability(account, credentials, { sku: odd, quantity: 4 }, options)).toMatchObject({ ok: true });
		const oddListing = (await (await sandbox(`/sandbox/amazon/listings/${encodeURIComponent(odd)}`)).json()) as { attributes: { fulfillment_availability: Array<{ quantity: number }> } };
		expect(oddListing.attributes.fulfillment_availability[0]!.quantity).toBe(4);
	});
});

describe("Restricted Data Tokens: the buyer's name, street and phone", () => {
	type TokensState = { dataElements: string[]; refusal: number; issued: number; refused: number; used: number; denied: number };
	const tokensState = async () => (await (await sandbox("/sandbox/amazon/tokens")).json()) as TokensState;
	const delta = (before: TokensState, after: TokensState) => ({
		issued: after.issued - before.issued,
		refused: after.refused - before.refused,
		used: after.used - before.used,
		denied: after.denied - before.denied,
	});
	const lwaToken = async () => {
		const token = await lwaAccessToken({ tokenEndpoint: account.tokenEndpoint!, clientId: account.lwaClientId, clientSecret: credentials.lwaClientSecret, refreshToken: credentials.refreshToken }, options);
		if (!token.ok) throw new Error(token.error);
		return token.value;
	};
	const api = (path: string, token: string | null, init: RequestInit = {}) =>
		sandbox(`/amazon${path}`, { ...init, headers: { ...(token ? { "x-amz-access-token": token } : {}), "content-type": "application/json", ...init.headers } });
	const createRdt = (token: string | null, restrictedResources: unknown) =>
		api("/tokens/2021-03-01/restrictedDataToken", token, { method: "POST", body: JSON.stringify({ restrictedResources }) });
	const shipTo = { name: "Jane Q. Buyer", address1: "742 Evergreen Terrace", address2: "Apt 2", city: "Springfield", provinceCode: "OR", zip: "97403", countryCode: "US", phone: "+1 541-555-0199" };
	const buyer = { name: "Jane Q. Buyer", email: "5t6y7u8i9o0p@marketplace.amazon.com" };
	/** What getOrder gives without a token for shippingAddress / buyerInfo (ordersV0.json: the rest is restricted). */
	const publicShipTo = { city: "Springfield", province: "OR", provinceCode: "OR", countryCode: "US", zip: "97403" };

	beforeEach(async () => {
		await post("/sandbox/amazon/tokens", { reset: true });
		await post("/sandbox/amazon/fail", { clear: true });
	});
	afterAll(async () => {
		await post("/sandbox/amazon/tokens", { reset: true });
		await post("/sandbox/amazon/fail", { clear: true });
	});

	it("asks for an RDT for this order's getOrder and getOrderItems, and normalizes the name, street, phone and buyer exactly", async () => {
		const id = orderId();
		const seeded = await seed({ amazonOrderId: id, lines: [{ sku: "TEE-BLK-M", title: "Tee, black, M", quantity: 2, price: "19.99", tax: "3.30" }], shipping: "4.99", shipTo, buyer });
		const held = await state(id);
		const before = await tokensState();
		const result = await fetchAmazonOrderDetailed(account, credentials, CONNECTION, id, options);
		expect(result).toStrictEqual({
			ok: true,
			value: {
				order: {
					connection: CONNECTION,
					channel: "amazon",
					channelOrderId: id,
					channelOrderName: id,
					currency: "USD",
					lines: [
						{
							channelLineId: seeded.items[0]!.orderItemId,
							sku: "TEE-BLK-M",
							title: "Tee, black, M",
							quantity: 2,
							unitPrice: usd(1999),
							discounts: [],
							taxes: [{ title: "Tax", amount: usd(330) }],
							requiresShipping: true,
						},
					],
					shippingLines: [{ channelLineId: "shipping", title: "Standard", code: "Std US D2D Dom", price: usd(499), discounts: [], taxes: [] }],
					taxes: [{ title: "Tax", amount: usd(330) }],
					taxesIncluded: false,
					discounts: [],
					subtotal: usd(3998),
					total: usd(4827),
					customer: { email: buyer.email, name: "Jane Q. Buyer", phone: "+1 541-555-0199" },
					shipTo: { ...shipTo, province: "OR" },
					financialStatus: "authorized",
					fulfillmentStatus: "unfulfilled",
					cancelledAt: null,
					refunds: [],
					createdAt: new Date(held.order.PurchaseDate as string).toISOString(),
					sourceUpdatedAt: new Date(held.order.LastUpdateDate as string).toISOString(),
				} satisfies CanonicalOrder,
				dataElements: ["buyerInfo", "shippingAddress"],
				refused: [],
			},
		});
		// One token, used for getOrder and getOrderItems; the next fetch asks for a new one.
		expect(delta(before, await tokensState())).toStrictEqual({ issued: 1, refused: 0, used: 2, denied: 0 });
		expect((await fetchAmazonOrder(account, credentials, CONNECTION, id, options)).ok).toBe(true);
		expect(delta(before, await tokensState())).toStrictEqual({ issued: 2, refused: 0, used: 4, denied: 0 });
	});

	it("reads the street from whichever address line holds it, and the buyer's phone from the ship-to", () => {
		const order = structuredClone(getOrderDocumented) as any;
		Object.assign(order.payload, { OrderStatus: "Unshipped" });
		order.payload.ShippingAddress = { Name: "Hans Muster", AddressLine2: "Hauptstr. 1", AddressLine3: "Hinterhaus", City: "Berlin", PostalCode: "10115", CountryCode: "DE", Phone: "+49 30 1234567" };
		const result = parseAmazonOrder(order, [getOrderItemsPendingAdapted], CONNECTION);
		if (!result.ok) throw new Error(result.error);
		expect(result.order.shipTo).toStrictEqual({ name: "Hans Muster", address1: "Hauptstr. 1", address2: "Hinterhaus", city: "Berlin", countryCode: "DE", zip: "10115", phone: "+49 30 1234567" });
		expect(result.order.customer).toStrictEqual({ email: "user@example.com", name: "John Doe", phone: "+49 30 1234567" });
	});

	it("with the LWA token alone, getOrder leaves out the name, street, phone and buyer name, and getOrderItems the items' buyer info", async () => {
		const id = orderId();
		await seed({ amazonOrderId: id, lines: [{ sku: "MUG-BLU", quantity: 1, price: "8.00" }], shipTo, buyer });
		const token = await lwaToken();
		const order = (await (await api(`/orders/v0/orders/${id}`, token)).json()) as { payload: Record<string, unknown> };
		expect(order.payload.ShippingAddress).toStrictEqual({ City: "Springfield", StateOrRegion: "OR", PostalCode: "97403", CountryCode: "US" });
		expect(order.payload.BuyerInfo).toStrictEqual({ BuyerEmail: buyer.email });

		// An item with gift details (the documented OrderItem BuyerInfo fields): only with buyerInfo for the items.
		const giftId = orderId();
		const giftOrder = structuredClone(getOrderTestCase200) as any;
		Object.assign(giftOrder.payload, { AmazonOrderId: giftId, ShippingAddress: { Name: "Gift Recipient", AddressLine1: "1 Main St", City: "Seattle", StateOrRegion: "WA", PostalCode: "98101", CountryCode: "US" } });
		const giftItems = structuredClone(getOrderItemsTestCase200) as any;
		giftItems.payload.AmazonOrderId = giftId;
		giftItems.payload.OrderItems[0].BuyerInfo = { GiftMessageText: "Happy birthday!", GiftWrapLevel: "Classic" };
		await seed({ order: giftOrder, items: giftItems });
		const plain = (await (await api(`/orders/v0/orders/${giftId}/orderItems`, token)).json()) as any;
		expect(plain.payload.OrderItems[0].BuyerInfo).toBeUndefined();
		const rdt = (await (await createRdt(token, [{ method: "GET", path: `/orders/v0/orders/${giftId}/orderItems`, dataElements: ["buyerInfo"] }])).json()) as { restrictedDataToken: string };
		const restricted = (await (await api(`/orders/v0/orders/${giftId}/orderItems`, rdt.restrictedDataToken)).json()) as any;
		expect(restricted.payload.OrderItems[0].BuyerInfo).toStrictEqual({ GiftMessageText: "Happy birthday!", GiftWrapLevel: "Classic" });

		// A Pending order has no ShippingAddress at all, token or not ("only available for … Unshipped, PartiallyShipped, Shipped and InvoiceUnconfirmed").
		const pendingId = orderId();
		await seed({ amazonOrderId: pendingId, status: "Pending", lines: [{ sku: "MUG-BLU", quantity: 1, price: "8.00" }], shipTo, buyer });
		const pending = await fetchAmazonOrderDetailed(account, credentials, CONNECTION, pendingId, options);
		if (!pending.ok) throw new Error(pending.error);
		expect(pending.value.dataElements).toStrictEqual(["buyerInfo", "shippingAddress"]);
		expect(pending.value.order.shipTo).toBeUndefined();
		expect(pending.value.order.customer).toStrictEqual({ email: buyer.email, name: "Jane Q. Buyer" });
	});

	it("falls back to the LWA token when the application lacks the restricted roles (400 or 403), and asks for shippingAddress alone when only buyerInfo is lacking", async () => {
		const id = orderId();
		await seed({ amazonOrderId: id, lines: [{ sku: "CAP-NVY", quantity: 1, price: "12.50" }], shipTo, buyer });
		const fetchIt = async () => {
			const result = await fetchAmazonOrderDetailed(account, credentials, CONNECTION, id, options);
			if (!result.ok) throw new Error(result.error);
			return result.value;
		};

		// No role at all, refused as observed from SP-API: 400 InvalidInput naming the elements, so shippingAddress alone is not asked for.
		await post("/sandbox/amazon/tokens", { dataElements: [], refusal: 400 });
		let before = await tokensState();
		let fetched = await fetchIt();
		expect(fetched.dataElements).toStrictEqual([]);
		expect(fetched.refused).toStrictEqual([
			"Amazon createRestrictedDataToken buyerInfo+shippingAddress: 400 InvalidInput: Application does not have access to one or more requested data elements: [buyerInfo, shippingAddress]",
		]);
		// Without name and street a 3PL will not ship it; that is what Amazon gives this application.
		expect(fetched.order.shipTo).toStrictEqual(publicShipTo);
		expect(fetched.order.customer).toStrictEqual({ email: buyer.email });
		expect(fetched.order.lines).toMatchObject([{ sku: "CAP-NVY", quantity: 1, unitPrice: usd(1250) }]);
		expect(delta(before, await tokensState())).toStrictEqual({ issued: 0, refused: 1, used: 0, denied: 0 });

		// The same, refused with a bare 403 Unauthorized: nothing says which element, so shippingAddress alone is tried too.
		await post("/sandbox/amazon/tokens", { refusal: 403 });
		before = await tokensState();
		fetched = await fetchIt();
		expect(fetched.refused).toStrictEqual([
			"Amazon createRestrictedDataToken buyerInfo+shippingAddress: 403 Unauthorized: Access to requested resource is denied.",
			"Amazon createRestrictedDataToken shippingAddress: 403 Unauthorized: Access to requested resource is denied.",
		]);
		expect([fetched.dataElements, fetched.order.shipTo]).toStrictEqual([[], publicShipTo]);
		expect(delta(before, await tokensState())).toStrictEqual({ issued: 0, refused: 2, used: 0, denied: 0 });

		// Only the Direct-to-Consumer Delivery role: the address, not the buyer's name; the items are read with the LWA token.
		await post("/sandbox/amazon/tokens", { dataElements: ["shippingAddress"], refusal: 400 });
		before = await tokensState();
		fetched = await fetchIt();
		expect(fetched.dataElements).toStrictEqual(["shippingAddress"]);
		expect(fetched.refused).toStrictEqual([
			"Amazon createRestrictedDataToken buyerInfo+shippingAddress: 400 InvalidInput: Application does not have access to one or more requested data elements: [buyerInfo]",
		]);
		expect(fetched.order.shipTo).toStrictEqual({ ...shipTo, province: "OR" });
		expect(fetched.order.customer).toStrictEqual({ email: buyer.email, phone: shipTo.phone });
		expect(delta(before, await tokensState())).toStrictEqual({ issued: 1, refused: 1, used: 1, denied: 0 });
	});

	it("does not fall back on a throttled or failing Tokens API, and a token refused mid-fetch is retryable", async () => {
		const id = orderId();
		await seed({ amazonOrderId: id, lines: [{ sku: "SOCK-3PK", quantity: 1, price: "9.00" }], shipTo, buyer });
		await post("/sandbox/amazon/fail", { operation: "createRestrictedDataToken", statuses: [429, 503] });
		expect(await fetchAmazonOrder(account, credentials, CONNECTION, id, options)).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 1000 });
		expect(await fetchAmazonOrder(account, credentials, CONNECTION, id, options)).toMatchObject({ ok: false, retryable: true, status: 503 });
		// getOrder's own rate is 0.5 requests per second: one request's worth is 2 s.
		await post("/sandbox/amazon/fail", { operation: "getOrder", statuses: [429, 403] });
		expect(await fetchAmazonOrder(account, credentials, CONNECTION, id, options)).toEqual({
			ok: false,
			retryable: true,
			status: 429,
			retryAfterMs: 2000,
			error: expect.stringContaining("QuotaExceeded"),
		});
		expect(await fetchAmazonOrder(account, credentials, CONNECTION, id, options)).toEqual({
			ok: false,
			retryable: true,
			status: 403,
			error: `Amazon GET /orders/v0/orders/${id} with a Restricted Data Token: 403 Unauthorized: Access to requested resource is denied.`,
		});
		expect(await fetchAmazonOrder(account, credentials, CONNECTION, id, options)).toMatchObject({ ok: true, value: { shipTo: { name: "Jane Q. Buyer" } } });
	});

	it("issues an RDT only for the LWA token's seller, and it opens only the paths and data elements it was issued for", async () => {
		const a = orderId();
		const b = orderId();
		await seed({ amazonOrderId: a, lines: [{ sku: "TEE-BLK-M", quantity: 1, price: "19.99" }], shipTo, buyer });
		await seed({ amazonOrderId: b, lines: [{ sku: "TEE-BLK-M", quantity: 1, price: "19.99" }], shipTo, buyer });
		const token = await lwaToken();
		const denied = { errors: [{ code: "Unauthorized", message: "Access to requested resource is denied.", details: "" }] };

		// The Tokens API takes the LWA access token, never an RDT and never nothing.
		expect((await createRdt(null, [{ method: "GET", path: `/orders/v0/orders/${a}`, dataElements: ["shippingAddress"] }])).status).toBe(403);
		const issued = await createRdt(token, [{ method: "GET", path: `/orders/v0/orders/${a}`, dataElements: ["shippingAddress"] }]);
		expect(issued.status).toBe(200);
		expect(issued.headers.get("x-amzn-RateLimit-Limit")).toBe("1.0");
		const { restrictedDataToken: rdt, expiresIn } = (await issued.json()) as { restrictedDataToken: string; expiresIn: number };
		expect([rdt, expiresIn]).toEqual([expect.stringMatching(/^Atz\.sprdt\|/), 3600]);
		const viaRdt = await createRdt(rdt, [{ method: "GET", path: `/orders/v0/orders/${a}`, dataElements: ["shippingAddress"] }]);
		expect([viaRdt.status, await viaRdt.json()]).toStrictEqual([403, denied]);

		// Order A's getOrder, with the address but not the buyer's name (not asked for).
		const before = await tokensState();
		const own = (await (await api(`/orders/v0/orders/${a}`, rdt)).json()) as { payload: { ShippingAddress: Record<string, string>; BuyerInfo: Record<string, string> } };
		expect(own.payload.ShippingAddress).toMatchObject({ Name: "Jane Q. Buyer", AddressLine1: "742 Evergreen Terrace", AddressLine2: "Apt 2", Phone: shipTo.phone });
		expect(own.payload.BuyerInfo).toStrictEqual({ BuyerEmail: buyer.email });
		// Another order, another operation of the same order, a write: refused.
		for (const [path, init] of [
			[`/orders/v0/orders/${b}`, {}],
			[`/orders/v0/orders/${a}/orderItems`, {}],
			[`/orders/v0/orders/${a}/shipmentConfirmation`, { method: "POST", body: "{}" }],
		] as const) {
			const response = await api(path, rdt, init);
			expect([path, response.status, await response.json()]).toStrictEqual([path, 403, denied]);
		}
		expect(delta(before, await tokensState())).toStrictEqual({ issued: 0, refused: 0, used: 1, denied: 3 });

		// An expired RDT is refused as an expired token.
		await post("/sandbox/amazon/tokens", { expire: true });
		expect(await (await api(`/orders/v0/orders/${a}`, rdt)).json()).toStrictEqual({
			errors: [{ code: "Unauthorized", message: "Access to requested resource is denied.", details: "The access token you provided has expired." }],
		});

		// Requests the Tokens API refuses: no resources (the model's 400 example), no dataElements for an order path, an unknown element.
		const refusedWith = async (resources: unknown) => {
			const response = await createRdt(token, resources);
			return [response.status, ((await response.json()) as typeof denied).errors[0]];
		};
		expect(await refusedWith([])).toStrictEqual([400, { code: "InvalidRequest", message: "Request is missing or has invalid parameters", details: "Resource not provided." }]);
		expect(await refusedWith([{ method: "GET", path: `/orders/v0/orders/${a}` }])).toStrictEqual([400, { code: "InvalidInput", message: "Application do not have access to some or all requested resource", details: "" }]);
		expect(await refusedWith([{ method: "GET", path: `/orders/v0/orders/${a}`, dataElements: ["everything"] }])).toMatchObject([400, { code: "InvalidRequest" }]);
	});
});
