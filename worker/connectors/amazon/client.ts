import type { ChannelFulfillment } from "../../model/fulfillment";
import type { CanonicalOrder } from "../../model/order";
import { type CallFailure, type CallResult, retryAfterMs, send } from "../call";
import { type AmazonAccount, type AmazonCredentials, LWA_TOKEN_ENDPOINT, spApiBase } from "./account";
import { forgetLwaToken, type LwaClient, lwaAccessToken } from "./lwa";
import { parseAmazonOrder } from "./normalize";
import { AmazonErrorList, GetOrderItemsResponse, ListingsItemSubmissionResponse } from "./payloads";

export type { CallResult };

/**
 * The Selling Partner API calls ordersync makes for one seller: read an order and its items
 * (Orders API v0), confirm a shipment (Orders API v0 confirmShipment), set a SKU's quantity
 * (Listings Items 2021-08-01 patchListingsItem).
 *
 * Every call carries the LWA access token in `x-amz-access-token`; SigV4 is no longer needed
 * ("Starting October 2, 2023, SP-API no longer requires … AWS Signature Version 4").
 * Errors are `{ errors: [{ code, message, details }] }`. A 403 whose details say the token expired
 * or is invalid drops the cached token and is tried once more with a fresh one. 429
 * (QuotaExceeded) is retryable; Amazon sends no Retry-After, but `x-amzn-RateLimit-Limit`, when
 * present, is the operation's rate in requests per second, so the wait is one token's worth of it.
 *
 * Note: Orders v0 getOrder and getOrderItems are due to be removed by 2027-03-27 in favour of
 * Orders v2026-01-01; confirmShipment is not in that list.
 */

type Options = { timeoutMs: number };

const USER_AGENT = "ordersync/0.1 (Language=TypeScript; Platform=Cloudflare Workers)";

/** getOrderItems pages followed before giving up (an order has far fewer items than this × page size). */
const MAX_ITEM_PAGES = 20;

function lwaClient(account: AmazonAccount, credentials: AmazonCredentials): LwaClient {
	return {
		tokenEndpoint: account.tokenEndpoint ?? LWA_TOKEN_ENDPOINT,
		clientId: account.lwaClientId,
		clientSecret: credentials.lwaClientSecret,
		refreshToken: credentials.refreshToken,
	};
}

/**
 * One SP-API call with its access token. Statuses in `readable` come back for the caller to read;
 * every other error is classified here (429, 5xx and network: retryable; other 4xx: not).
 */
async function spApi(
	account: AmazonAccount,
	credentials: AmazonCredentials,
	method: "GET" | "POST" | "PATCH",
	path: string,
	options: Options,
	body?: unknown,
	readable: number[] = [],
): Promise<{ ok: true; response: Response } | CallFailure> {
	const label = `Amazon ${method} ${path.split("?")[0]}`;
	const client = lwaClient(account, credentials);
	for (let attempt = 0; ; attempt++) {
		const token = await lwaAccessToken(client, options);
		if (!token.ok) return token;
		const headers: Record<string, string> = {
			"x-amz-access-token": token.value,
			// Harmless without SigV4; whether it is still required is not documented.
			"x-amz-date": new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, ""),
			"user-agent": USER_AGENT,
			accept: "application/json",
		};
		if (body !== undefined) headers["content-type"] = "application/json";
		const result = await send(
			`${spApiBase(account)}${path}`,
			{ method, headers, body: body === undefined ? undefined : JSON.stringify(body) },
			{ timeoutMs: options.timeoutMs, readable: (status) => status === 429 || (status >= 400 && status < 500) || readable.includes(status) },
		);
		if (!result.ok) return { ...result, error: `${label}: ${result.error}` };
		const response = result.response;
		if (response.ok || readable.includes(response.status)) return result;

		const text = await response.text().catch(() => "");
		const detail = errorText(text);
		if (response.status === 429) {
			const wait = retryAfterMs(response.headers.get("Retry-After")) ?? rateLimitWait(response.headers.get("x-amzn-RateLimit-Limit"));
			return { ok: false, retryable: true, status: 429, error: `${label}: 429 ${detail}`, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
		}
		// "The access token you provided has expired." / "… is revoked, malformed or invalid."
		if (response.status === 403 && attempt === 0 && /access token/i.test(text)) {
			forgetLwaToken(client, token.value);
			continue;
		}
		return { ok: false, retryable: response.status === 408, status: response.status, error: `${label}: ${response.status} ${detail}` };
	}
}

/** `code: message (details)` of each error in an ErrorList, or the raw text. */
function errorText(text: string): string {
	try {
		const list = AmazonErrorList.safeParse(JSON.parse(text));
		if (list.success) return list.data.errors.map((e) => `${e.code}: ${e.message ?? ""}${e.details ? ` (${e.details})` : ""}`).join("; ");
	} catch {
		// not JSON
	}
	return text.slice(0, 300);
}

/** x-amzn-RateLimit-Limit is requests per second ("0.5"): the wait for one request's worth. */
function rateLimitWait(header: string | null): number | undefined {
	const rate = header === null ? Number.NaN : Number(header);
	return Number.isFinite(rate) && rate > 0 ? Math.ceil(1000 / rate) : undefined;
}

const orderPath = (orderId: string) => `/orders/v0/orders/${encodeURIComponent(orderId)}`;

/**
 * getOrder (GET /orders/v0/orders/{orderId}) and getOrderItems (GET …/orderItems, following
 * NextToken), normalized. A payload ordersync cannot read is not retryable: the same answer
 * would come back.
 */
export async function fetchAmazonOrder(
	account: AmazonAccount,
	credentials: AmazonCredentials,
	connectionId: string,
	channelOrderId: string,
	options: Options,
): Promise<CallResult<CanonicalOrder>> {
	const order = await spApi(account, credentials, "GET", orderPath(channelOrderId), options);
	if (!order.ok) return order;
	const orderBody: unknown = await order.response.json().catch(() => null);
	const pages = await orderItemPages(account, credentials, channelOrderId, options);
	if (!pages.ok) return pages;
	const parsed = parseAmazonOrder(orderBody, pages.value, connectionId);
	if (!parsed.ok) return { ok: false, retryable: false, error: `Amazon order ${channelOrderId}: ${parsed.error}` };
	if (parsed.order.channelOrderId !== channelOrderId) {
		return { ok: false, retryable: false, error: `Amazon order ${channelOrderId}: getOrder answered with order ${parsed.order.channelOrderId}` };
	}
	return { ok: true, value: parsed.order };
}

/** Every page of getOrderItems, as response bodies. */
async function orderItemPages(account: AmazonAccount, credentials: AmazonCredentials, orderId: string, options: Options): Promise<CallResult<unknown[]>> {
	const pages: unknown[] = [];
	const tokens = new Set<string>();
	let next: string | null = null;
	do {
		const query: string = next ? `?NextToken=${encodeURIComponent(next)}` : "";
		const result = await spApi(account, credentials, "GET", `${orderPath(orderId)}/orderItems${query}`, options);
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
	const result = await spApi(account, credentials, "POST", `${orderPath(payload.channelOrderId)}/shipmentConfirmation`, options, body);
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
	const result = await spApi(account, credentials, "PATCH", path, options, body);
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
