import type { CallResult } from "../call";
import type { AmazonAccount, AmazonCredentials } from "./account";
import { CreateRestrictedDataTokenResponse } from "./payloads";
import { errorText, type Options, orderPath, spApi } from "./sp-api";

/**
 * Restricted Data Tokens for one order fetch (Tokens API v2021-03-01, createRestrictedDataToken):
 *
 *   POST /tokens/2021-03-01/restrictedDataToken          (with the LWA access token)
 *   {"restrictedResources":[
 *     {"method":"GET","path":"/orders/v0/orders/{orderId}","dataElements":["buyerInfo","shippingAddress"]},
 *     {"method":"GET","path":"/orders/v0/orders/{orderId}/orderItems","dataElements":["buyerInfo"]}]}
 *   → 200 {"restrictedDataToken":"Atz.sprdt|…","expiresIn":3600}
 *
 * Without one, getOrder's ShippingAddress holds only City, StateOrRegion, PostalCode and
 * CountryCode, and BuyerInfo no BuyerName: "The ShippingAddress contains restricted data. Use a
 * Restricted Data Token (RDT) … for example, Name, AddressLine1, AddressLine2, AddressLine3,
 * Phone, AddressType" (ordersV0.json). A 3PL cannot ship to that. The RDT goes in
 * `x-amz-access-token` in place of the LWA token. The paths name the order itself ("For a specific
 * order", tokens_2021-03-01.json), so a token serves one order: a new one is asked for on every
 * fetch and never kept beyond it. createRestrictedDataToken's usage plan is 1 request per second,
 * burst 10; a fetch makes one call (two when the first is refused), well within getOrder's 0.5.
 *
 * The data elements need restricted roles: shippingAddress the Direct-to-Consumer Delivery role,
 * buyerInfo the Tax Remittance or Tax Invoicing role ("Get order information"). Amazon refuses
 * the whole request when the application lacks any of them, with a 400 InvalidInput "Application
 * does not have access to one or more requested data elements: [buyerInfo, shippingAddress]"
 * (as observed in amzn/selling-partner-api-docs #1201 and abuzuhri/Amazon-SP-API-CSharp #155) or
 * a 403 Unauthorized "Access to requested resource is denied." So, in order:
 *
 * 1. buyerInfo + shippingAddress for getOrder, buyerInfo for getOrderItems;
 * 2. refused: shippingAddress alone for getOrder (what the 3PL needs; an application with only
 *    the delivery role gets it), unless the refusal already named shippingAddress;
 * 3. refused again: no token. The order is read with the LWA token and carries only city,
 *    region, postal code, country and the anonymized buyer email, and a 3PL will refuse to ship
 *    it (no recipient name, no street) until the application has the role.
 *
 * Throttling, 5xx and timeouts of the Tokens API are the fetch's failure (retryable), not a
 * reason to read the order without its address.
 */

export type OrderAccess = {
	/** The token getOrder is called with, or null for the LWA token. */
	orderToken: string | null;
	/** The token getOrderItems is called with, or null for the LWA token. */
	itemsToken: string | null;
	/** The data elements getOrder's token unlocks: ["buyerInfo","shippingAddress"], ["shippingAddress"] or []. */
	dataElements: string[];
	/** Amazon's refusals, when fewer than all were granted. */
	refused: string[];
};

type Attempt = { dataElements: string[]; items: boolean };
const ATTEMPTS: Attempt[] = [
	{ dataElements: ["buyerInfo", "shippingAddress"], items: true },
	{ dataElements: ["shippingAddress"], items: false },
];

const TOKENS_PATH = "/tokens/2021-03-01/restrictedDataToken";

/** The tokens one fetch of `orderId` uses; see above for the order of asking. */
export async function orderAccess(account: AmazonAccount, credentials: AmazonCredentials, orderId: string, options: Options): Promise<CallResult<OrderAccess>> {
	const order = orderPath(orderId);
	const refused: string[] = [];
	for (const attempt of ATTEMPTS) {
		const restrictedResources = [
			{ method: "GET", path: order, dataElements: attempt.dataElements },
			...(attempt.items ? [{ method: "GET", path: `${order}/orderItems`, dataElements: ["buyerInfo"] }] : []),
		];
		const result = await spApi(account, credentials, "POST", TOKENS_PATH, options, { body: { restrictedResources }, readable: [400, 403] });
		if (!result.ok) return result;
		const response = result.response;
		const label = `Amazon createRestrictedDataToken ${attempt.dataElements.join("+")}`;
		if (response.status === 400 || response.status === 403) {
			const text = await response.text();
			const detail = errorText(text);
			// A 400 for any other reason is a request ordersync got wrong, and a 403 about the access
			// token is the seller's authorization (still refused after a fresh token): errors, not fallbacks.
			if ((response.status === 400 && !/have access/i.test(text)) || (response.status === 403 && /access token/i.test(text))) {
				return { ok: false, retryable: false, status: response.status, error: `${label}: ${response.status} ${detail}` };
			}
			refused.push(`${label}: ${response.status} ${detail}`);
			if (/have access.*shippingAddress/is.test(text)) break;
			continue;
		}
		const parsed = CreateRestrictedDataTokenResponse.safeParse(await response.json().catch(() => null));
		if (!parsed.success) return { ok: false, retryable: true, status: response.status, error: `${label}: ${response.status} without a restrictedDataToken` };
		const token = parsed.data.restrictedDataToken;
		return { ok: true, value: { orderToken: token, itemsToken: attempt.items ? token : null, dataElements: [...attempt.dataElements], refused } };
	}
	return { ok: true, value: { orderToken: null, itemsToken: null, dataElements: [], refused } };
}
