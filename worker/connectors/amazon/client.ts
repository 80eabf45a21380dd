import type { ChannelFulfillment } from "../../model/fulfillment";
import type { CanonicalOrder } from "../../model/order";
import type { CallResult } from "../call";
import type { AmazonAccount, AmazonCredentials } from "./account";
import { parseAmazonOrder } from "./normalize";
import { GetOrderItemsResponse, ListingsItemSubmissionResponse } from "./payloads";
import { orderAccess } from "./rdt";
import { type Options, orderPath, spApi } from "./sp-api";

export type { CallResult };

/**
 * The Selling Partner API calls ordersync makes for one seller: read an order and its items
 * (Orders API v0, with a Restricted Data Token for the buyer's name and address), confirm a
 * shipment (Orders API v0 confirmShipment), set a SKU's quantity (Listings Items 2021-08-01
 * patchListingsItem). How each call is made and its errors classified: ./sp-api.ts.
 *
 * Note: Orders v0 getOrder and getOrderItems are due to be removed by 2027-03-27 in favour of
 * Orders v2026-01-01 (where roles replace RDTs); confirmShipment is not in that list.
 */

/** getOrderItems pages followed before giving up (an order has far fewer items than this × page size). */
const MAX_ITEM_PAGES = 20;

/** An order as fetched, with what Amazon let ordersync see of the buyer's personal data. */
export type AmazonFetchedOrder = {
	order: CanonicalOrder;
	/** Data elements the Restricted Data Token unlocked for getOrder; [] when read without one. */
	dataElements: string[];
	/** createRestrictedDataToken refusals (the application lacks a restricted role), if any. */
	refused: string[];
};

/**
 * createRestrictedDataToken for this order (./rdt.ts), then getOrder (GET /orders/v0/orders/{orderId})
 * and getOrderItems (GET …/orderItems, following NextToken) with that token, normalized. When
 * Amazon refuses the token because the application lacks the restricted roles, the order is read
 * with the LWA token: it then has no recipient name, street or phone, and a 3PL will refuse to
 * ship it. A payload ordersync cannot read is not retryable: the same answer would come back.
 */
export async function fetchAmazonOrderDetailed(
	account: AmazonAccount,
	credentials: AmazonCredentials,
	connectionId: string,
	channelOrderId: string,
	options: Options,
): Promise<CallResult<AmazonFetchedOrder>> {
	const access = await orderAccess(account, credentials, channelOrderId, options);
	if (!access.ok) return access;
	const { orderToken, itemsToken, dataElements, refused } = access.value;
	const order = await spApi(account, credentials, "GET", orderPath(channelOrderId), options, orderToken ? { restrictedDataToken: orderToken } : {});
	if (!order.ok) return order;
	const orderBody: unknown = await order.response.json().catch(() => null);
	const pages = await orderItemPages(account, credentials, channelOrderId, itemsToken, options);
	if (!pages.ok) return pages;
	const parsed = parseAmazonOrder(orderBody, pages.value, connectionId);
	if (!parsed.ok) return { ok: false, retryable: false, error: `Amazon order ${channelOrderId}: ${parsed.error}` };
	if (parsed.order.channelOrderId !== channelOrderId) {
		return { ok: false, retryable: false, error: `Amazon order ${channelOrderId}: getOrder answered with order ${parsed.order.channelOrderId}` };
	}
	return { ok: true, value: { order: parsed.order, dataElements, refused } };
}

/** The order alone: what the spine's fetch takes (see fetchAmazonOrderDetailed). */
export async function fetchAmazonOrder(
	account: AmazonAccount,
	credentials: AmazonCredentials,
	connectionId: string,
	channelOrderId: string,
	options: Options,
): Promise<CallResult<CanonicalOrder>> {
	const result = await fetchAmazonOrderDetailed(account, credentials, connectionId, channelOrderId, options);
	return result.ok ? { ok: true, value: result.value.order } : result;
}

/** Every page of getOrderItems, as response bodies; with the RDT when there is one for the items. */
async function orderItemPages(
	account: AmazonAccount,
	credentials: AmazonCredentials,
	orderId: string,
	token: string | null,
	options: Options,
): Promise<CallResult<unknown[]>> {
	const pages: unknown[] = [];
	const tokens = new Set<string>();
	let next: string | null = null;
	do {
		const query: string = next ? `?NextToken=${encodeURIComponent(next)}` : "";
		const result = await spApi(account, credentials, "GET", `${orderPath(orderId)}/orderItems${query}`, options, token ? { restrictedDataToken: token } : {});
		if (!result.ok) return result;
		const body: unknown = await result.response.json().catch(() => null);
		pages.push(body);
		const parsed = GetOrderItemsResponse.safeParse(body);
		next = parsed.success && parsed.data.payload.NextToken ? parsed.data.payload.NextToken : null;
		if (next && tokens.has(next)) return { ok: false, retryable: false, error: `Amazon getOrderItems ${orderId}: NextToken repeated` };
		if (next) tokens.add(next);
		if (next && pages.length >= MAX_ITEM_PAGES) return { ok: false, retryable: false, error: `Amazon getOrderItems ${orderId}: more than ${MAX_ITEM_PAGES} pages` };
	} while (next);
	return { ok: true, value: pages };
}

/**
 * Carrier codes ordersync can name from a carrier's usual spelling; the list Amazon accepts is
 * CarrierCode in amzn-base._TTH_.xsd. Any other carrier goes as "Other" with its name in
 * carrierName ("Required when carrierCode is \"Other\"").
 */
const CARRIERS: Record<string, string> = {
	usps: "USPS",
	ups: "UPS",
	upsmi: "UPSMI",
	upsmailinnovations: "UPSMI",
	fedex: "FedEx",
	fedexsmartpost: "FedEx SmartPost",
	dhl: "DHL",
	dhlexpress: "DHL",
	dhlecommerce: "DHL eCommerce",
	ontrac: "OnTrac",
	lasership: "Lasership",
	canadapost: "Canada Post",
	royalmail: "Royal Mail",
	dpd: "DPD",
	gls: "GLS",
	yodel: "Yodel",
	australiapost: "Australia Post",
	japanpost: "Japan Post",
	amazonshipping: "Amazon Shipping",
};

export function amazonCarrier(company: string | undefined): { carrierCode: string; carrierName?: string } {
	const name = company?.trim() ?? "";
	const code = CARRIERS[name.toLowerCase().replace(/[^a-z0-9]/g, "")];
	if (code) return { carrierCode: code };
	return { carrierCode: "Other", carrierName: name || "Other" };
}

/**
 * The package reference id of a shipment: "a seller-supplied identifier that uniquely identifies
 * a package within the scope of an order. Only positive numeric values are supported." It is sent
 * as a JSON string of digits (a JSON number is refused, selling-partner-api-models issue #5094).
 * Derived from the shipment id (the first 48 bits of its SHA-256, plus one), so every attempt
 * for one shipment names the same package.
 */
export async function packageReferenceId(shipmentId: string): Promise<string> {
	const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(shipmentId)));
	let value = 0;
	for (let i = 0; i < 6; i++) value = value * 256 + digest[i]!;
	return String(value + 1);
}

/**
 * confirmShipment (POST /orders/v0/orders/{orderId}/shipmentConfirmation) for one shipment:
 * 204 is success.
 *
 * Idempotency: Amazon takes no idempotency key, but a package reference id names one package of
 * the order, and "if you need to make an edit to the shipment, submit another confirmShipment
 * operation with the same packageReferenceID. The other shipment details are edited upon
 * successful submission" (developer-docs, "Confirm the shipment status"). The id is derived from
 * ordersync's shipment id, so a retry after a lost answer edits the package it already created,
 * with the same lines and tracking, rather than confirming the units a second time. No read
 * before the write: getOrder/getOrderItems cannot tell which package shipped which units (they
 * report only QuantityShipped), and they share a 0.5 request/second budget with order intake.
 *
 * `shipDate` defaults to now; the payload has no time of its own.
 */
export async function relayAmazonFulfillment(
	account: AmazonAccount,
	credentials: AmazonCredentials,
	payload: ChannelFulfillment,
	options: Options & { shipDate?: string },
): Promise<CallResult<{ packageReferenceId: string }>> {
	const trackingNumber = payload.tracking.number?.trim();
	if (!trackingNumber) {
		return { ok: false, retryable: false, error: `Amazon confirmShipment ${payload.channelOrderId}: shipment ${payload.shipmentId} has no tracking number, which Amazon requires` };
	}
	const reference = await packageReferenceId(payload.shipmentId);
	const body = {
		marketplaceId: account.marketplaceId,
		packageDetail: {
			packageReferenceId: reference,
			...amazonCarrier(payload.tracking.company),
			trackingNumber,
			shipDate: options.shipDate ?? new Date().toISOString(),
			orderItems: payload.lines.map((line) => ({ orderItemId: line.channelLineId, quantity: line.quantity })),
		},
	};
	const result = await spApi(account, credentials, "POST", `${orderPath(payload.channelOrderId)}/shipmentConfirmation`, options, { body });
	if (!result.ok) return result;
	await result.response.body?.cancel();
	return { ok: true, value: { packageReferenceId: reference } };
}

/**
 * Sets a SKU's quantity with patchListingsItem (PATCH /listings/2021-08-01/items/{sellerId}/{sku}),
 * using the JSON-patch `merge` operation on fulfillment_availability, which changes the quantity
 * and keeps the listing's other fulfilment fields (restock date, handling time): "You can use the
 * Patch merge operation to update the quantity field within the fulfillment_availability without
 * specifying other optional fields". The quantity is absolute, so a retry is harmless.
 *
 * Amazon answers 200 whether the submission was ACCEPTED or INVALID; INVALID is not retryable
 * and its issues are the error. ACCEPTED is asynchronous: further issues surface later on the
 * listing (LISTINGS_ITEM_ISSUES_CHANGE), not here.
 */
export async function pushAmazonAvailability(
	account: AmazonAccount,
	credentials: AmazonCredentials,
	update: { sku: string; quantity: number },
	options: Options,
): Promise<CallResult<{ submissionId: string; status: "ACCEPTED"; issues: Array<{ code: string; message: string; severity: string }> }>> {
	const quantity = Math.max(0, Math.trunc(update.quantity));
	const path =
		`/listings/2021-08-01/items/${encodeURIComponent(account.sellerId)}/${encodeURIComponent(update.sku)}` +
		`?marketplaceIds=${encodeURIComponent(account.marketplaceId)}&issueLocale=en_US`;
	const body = {
		productType: account.productType,
		patches: [{ op: "merge", path: "/attributes/fulfillment_availability", value: [{ fulfillment_channel_code: "DEFAULT", quantity }] }],
	};
	const result = await spApi(account, credentials, "PATCH", path, options, { body });
	if (!result.ok) return result;
	const parsed = ListingsItemSubmissionResponse.safeParse(await result.response.json().catch(() => null));
	const label = `Amazon PATCH listings item ${update.sku}`;
	if (!parsed.success) return { ok: false, retryable: true, status: result.response.status, error: `${label}: unreadable submission response` };
	const issues = (parsed.data.issues ?? []).map((issue) => ({ code: issue.code, message: issue.message, severity: issue.severity }));
	if (parsed.data.status !== "ACCEPTED") {
		const text = issues.map((issue) => `${issue.severity} ${issue.code}: ${issue.message}`).join("; ") || "no issues given";
		return { ok: false, retryable: false, status: result.response.status, error: `${label}: ${parsed.data.status}: ${text}` };
	}
	return { ok: true, value: { submissionId: parsed.data.submissionId, status: "ACCEPTED", issues } };
}
