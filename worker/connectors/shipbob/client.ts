import { z } from "zod";
import type { ThreePl } from "../../config";
import type { ThreePlOrder } from "../../model/fulfillment";
import { type CallFailure, type CallResult, retryAfterMs, send } from "../call";

export type { CallResult };

/**
 * ShipBob's Orders API, as ordersync uses it: create an order for one routed shipment request,
 * find it again by its reference id, cancel it.
 *
 * Idempotency: ShipBob has no idempotency key, but `reference_id` "must be unique within your
 * ShipBob account" (https://developer.shipbob.com/guides/orders.md) and a second order with the
 * same one is refused with 422 "Duplicate reference ID" (https://developer.shipbob.com/2026-07/errors.md).
 * So a retry after a timeout whose first attempt did create the order gets a 422, and the order
 * is then looked up by reference id: exactly one ShipBob order per reference id, whatever the retries.
 */

const DEFAULT_BASE = "https://api.shipbob.com";

type Options = { timeoutMs: number };

// Orders.OrderViewModel, the fields read here (https://developer.shipbob.com/2026-07/api/orders/get-order.md).
const ShipmentSummary = z.object({ id: z.number().int(), status: z.string().nullish() });
const OrderSummary = z.object({
	id: z.number().int().positive(),
	reference_id: z.string().nullish(),
	status: z.string().nullish(),
	shipments: z.array(ShipmentSummary).nullish(),
});
export type ShipBobOrderSummary = z.infer<typeof OrderSummary>;

// Orders.CanceledOrderViewModel (https://developer.shipbob.com/2026-01/api/orders/cancel-order.md).
const CanceledOrder = z.object({
	order_id: z.number().int().nullish(),
	status: z.enum(["Success", "Failure", "PartialSuccess"]).nullish(),
	canceled_shipment_results: z
		.array(z.object({ shipment_id: z.number().int().nullish(), is_success: z.boolean().nullish(), reason: z.string().nullish() }))
		.nullish(),
});

/**
 * POST /{version}/order (https://developer.shipbob.com/2026-07/api/orders/create-order.md).
 * `existing` is true when ShipBob already had an order with this reference id (a retry).
 */
export async function createShipBobOrder(
	account: ThreePl,
	order: ThreePlOrder,
	options: Options,
): Promise<CallResult<{ shipbobOrderId: number; existing: boolean }>> {
	const address = order.recipient;
	// Orders.CreateOrderModel with products by reference id, the "highly recommended" model
	// (https://developer.shipbob.com/guides/orders.md); money is not sent, so no floats.
	const body = {
		reference_id: order.referenceId,
		order_number: order.orderNumber,
		type: "DTC",
		shipping_method: order.shippingMethod,
		location_id: order.fulfillmentCenterId,
		purchase_date: order.purchaseDate,
		recipient: {
			name: address.name ?? "",
			address: {
				address1: address.address1 ?? "",
				address2: address.address2 ?? null,
				company_name: address.company ?? null,
				city: address.city ?? "",
				state: address.provinceCode ?? address.province ?? null,
				country: address.countryCode ?? "",
				zip_code: address.zip ?? null,
			},
			email: address.email ?? null,
			phone_number: address.phone ?? null,
		},
		products: order.products.map((product) => ({ reference_id: product.sku, name: product.name, quantity: product.quantity })),
	};
	const result = await request(account, "POST", "/order", options, body, [422]);
	if (!result.ok) return result;
	const response = result.response;
	if (response.status === 422) {
		// "422 Duplicate reference ID" (errors page). The body's wording is not documented, so the
		// order itself is the proof: look it up; only a 422 without one is a real refusal.
		const refusal = await response.text().catch(() => "");
		const found = await findShipBobOrder(account, order.referenceId, options);
		if (!found.ok) return found;
		if (found.value) return { ok: true, value: { shipbobOrderId: found.value.id, existing: true } };
		return { ok: false, retryable: false, status: 422, error: `ShipBob POST /order: 422: ${refusal.slice(0, 300)}` };
	}
	const created = OrderSummary.safeParse(await response.json().catch(() => null));
	if (!created.success) {
		// Created but unreadable: retrying is safe, the retry's 422 finds the order.
		return { ok: false, retryable: true, status: response.status, error: `ShipBob POST /order: ${response.status} without an order id` };
	}
	return { ok: true, value: { shipbobOrderId: created.data.id, existing: false } };
}

/**
 * GET /{version}/order?ReferenceIds=… (https://developer.shipbob.com/2026-07/api/orders/get-orders.md):
 * the order with this reference id on ordersync's channel, or null.
 */
export async function findShipBobOrder(account: ThreePl, referenceId: string, options: Options): Promise<CallResult<ShipBobOrderSummary | null>> {
	// ReferenceIds is a comma-separated list, so one id is sent alone; the exact match below also
	// guards against an id that itself contains a comma.
	const result = await request(account, "GET", `/order?ReferenceIds=${encodeURIComponent(referenceId)}&Limit=250`, options);
	if (!result.ok) return result;
	const list = z.array(OrderSummary).safeParse(await result.response.json().catch(() => null));
	if (!list.success) return { ok: false, retryable: true, status: result.response.status, error: "ShipBob GET /order: not a list of orders" };
	return { ok: true, value: list.data.find((o) => o.reference_id === referenceId) ?? null };
}

export type CancelState = "cancelled" | "already_shipped" | "not_found";

/**
 * Cancels the order with this reference id: POST /{version}/order/{orderId}:cancel
 * (https://developer.shipbob.com/2026-01/api/orders/cancel-order.md). Idempotent: an order that is
 * already cancelled, or was never created, is a success.
 */
export async function cancelShipBobOrder(account: ThreePl, referenceId: string, options: Options): Promise<CallResult<{ state: CancelState }>> {
	const found = await findShipBobOrder(account, referenceId, options);
	if (!found.ok) return found;
	const order = found.value;
	if (!order) return { ok: true, value: { state: "not_found" } };
	const settled = settledState(order);
	if (settled) return { ok: true, value: { state: settled } };

	const path = `/order/${order.id}:cancel`;
	const result = await request(account, "POST", path, options, undefined, [404, 422]);
	if (!result.ok) return result;
	const response = result.response;
	if (response.status === 404) return { ok: true, value: { state: "not_found" } };
	if (response.status === 422) {
		// "The order must be in a cancellable state": it may have moved on since it was read.
		const refusal = await response.text().catch(() => "");
		const again = await findShipBobOrder(account, referenceId, options);
		if (!again.ok) return again;
		const state = again.value ? settledState(again.value) : "not_found";
		if (state) return { ok: true, value: { state } };
		return { ok: false, retryable: false, status: 422, error: `ShipBob POST ${path}: 422: ${refusal.slice(0, 300)}` };
	}
	const cancelled = CanceledOrder.safeParse(await response.json().catch(() => null));
	if (!cancelled.success) return { ok: false, retryable: true, status: response.status, error: `ShipBob POST ${path}: unreadable answer` };
	// Failure and PartialSuccess: some shipment could not be cancelled, which ShipBob allows only
	// before it is picked, packed or labelled; the units are on their way (docs give no finer code).
	return { ok: true, value: { state: cancelled.data.status === "Success" ? "cancelled" : "already_shipped" } };
}

/** Cancelled or shipped already, from the order's and its shipments' statuses; null while open. */
function settledState(order: ShipBobOrderSummary): Exclude<CancelState, "not_found"> | null {
	// Orders.OrderStatus and OrderStatusEnum (https://developer.shipbob.com/2026-07/api/orders/get-order.md).
	const shipments = order.shipments ?? [];
	if (order.status === "Cancelled") return "cancelled";
	if (order.status === "Fulfilled" || order.status === "PartiallyFulfilled") return "already_shipped";
	if (shipments.some((s) => s.status === "LabeledCreated" || s.status === "Completed")) return "already_shipped";
	if (shipments.length > 0 && shipments.every((s) => s.status === "Cancelled")) return "cancelled";
	return null;
}

/**
 * One authenticated call. 429 is answered here because ShipBob names its wait `x-retry-after`
 * (seconds), not `Retry-After` (https://developer.shipbob.com/2026-07/rate-limit.md); the
 * standard header is honoured too. Statuses in `readable` come back for the caller to read.
 */
async function request(
	account: ThreePl,
	method: "GET" | "POST",
	path: string,
	options: Options,
	body?: unknown,
	readable: number[] = [],
): Promise<{ ok: true; response: Response } | CallFailure> {
	const url = `${account.endpoint ?? DEFAULT_BASE}/${account.apiVersion}${path}`;
	const headers: Record<string, string> = {
		// Personal Access Token as a bearer token (https://developer.shipbob.com/quickstart).
		Authorization: `Bearer ${account.token}`,
		// "Channel Id for Operation", required when writing (create-order.md, cancel-order.md).
		shipbob_channel_id: String(account.channelId),
		Accept: "application/json",
	};
	if (body !== undefined) headers["Content-Type"] = "application/json";
	const label = `ShipBob ${method} ${path.split("?")[0]}`;
	const result = await send(
		url,
		{ method, headers, body: body === undefined ? undefined : JSON.stringify(body) },
		{ timeoutMs: options.timeoutMs, readable: (status) => status === 429 || readable.includes(status) },
	);
	if (!result.ok) return { ...result, error: `${label}: ${result.error}` };
	if (result.response.status === 429) {
		const text = await result.response.text().catch(() => "");
		const wait = retryAfterMs(result.response.headers.get("x-retry-after")) ?? retryAfterMs(result.response.headers.get("Retry-After"));
		return { ok: false, retryable: true, status: 429, error: `${label}: 429${text ? `: ${text.slice(0, 300)}` : ""}`, retryAfterMs: wait };
	}
	return result;
}
