import type { ShopifyAdmin } from "../../config";
import type { ChannelFulfillment, TrackingStatus } from "../../model/fulfillment";
import type { CallResult } from "../call";
import { graphql } from "./admin";

/**
 * Shipments and carrier news relayed to the Shopify order they belong to, through fulfillment
 * orders (https://shopify.dev/docs/apps/build/orders-fulfillment/order-management-apps/build-fulfillment-solutions).
 *
 * Neither mutation takes an idempotency key in 2026-10 (Shopify's `@idempotent` directive is
 * documented for inventory, refund and a few other mutations, not for fulfillmentCreate or
 * fulfillmentEventCreate), so each call first reads what the order already has: a retry after a
 * lost answer finds its own fulfilment (by tracking number) or event (by status) and stops there.
 */

type UserError = { field: string[] | null; message: string };

// Order.fulfillmentOrders / FulfillmentOrder / FulfillmentOrderLineItem:
// https://shopify.dev/docs/api/admin-graphql/2026-10/objects/FulfillmentOrder
// Order.fulfillments (a list, not a connection) / Fulfillment.trackingInfo:
// https://shopify.dev/docs/api/admin-graphql/2026-10/objects/Fulfillment
const ORDER_FULFILLMENT = `query OrderFulfillment($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 10) {
      nodes {
        id
        status
        assignedLocation { location { id } }
        lineItems(first: 50) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
    fulfillments(first: 50) {
      id
      trackingInfo(first: 5) { number }
      fulfillmentLineItems(first: 50) { nodes { quantity lineItem { id } } }
    }
  }
}`;

type FulfillmentOrderNode = {
	id: string;
	status: string;
	assignedLocation: { location: { id: string } | null } | null;
	lineItems: { nodes: Array<{ id: string; remainingQuantity: number; lineItem: { id: string } }> };
};
type OrderFulfillment = {
	order: {
		id: string;
		fulfillmentOrders: { nodes: FulfillmentOrderNode[] };
		fulfillments: Array<{
			id: string;
			trackingInfo: Array<{ number: string | null }>;
			fulfillmentLineItems: { nodes: Array<{ quantity: number; lineItem: { id: string } }> };
		}>;
	} | null;
};

// fulfillmentCreate(fulfillment: FulfillmentInput!): FulfillmentCreatePayload { fulfillment, userErrors { field message } }
// https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/fulfillmentCreate
const FULFILLMENT_CREATE = `mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}`;

/** Fulfillment order statuses Shopify lets fulfillmentCreate act on (FulfillmentOrderStatus). */
const FULFILLABLE = new Set(["OPEN", "IN_PROGRESS"]);
/** Statuses that may become fulfillable later (the merchant releases a hold, a schedule comes due). */
const WAITING = new Set(["ON_HOLD", "SCHEDULED"]);

const orderGid = (id: string) => (id.startsWith("gid://") ? id : `gid://shopify/Order/${id}`);
const lineGid = (id: string) => (id.startsWith("gid://") ? id : `gid://shopify/LineItem/${id}`);

/**
 * Records one shipment as a Shopify fulfilment with its tracking. Idempotent by tracking number:
 * when the order already has a fulfilment with that number (an earlier attempt whose answer was
 * lost), it is returned with `existing: true` and nothing is created. A shipment without a
 * tracking number matches an untracked fulfilment of exactly the same lines and quantities.
 */
export async function createFulfillment(
	admin: ShopifyAdmin,
	token: string,
	f: ChannelFulfillment,
	options: { timeoutMs: number },
): Promise<CallResult<{ fulfillmentId: string; existing: boolean }>> {
	const read = await graphql<OrderFulfillment>(admin, token, ORDER_FULFILLMENT, { id: orderGid(f.channelOrderId) }, options.timeoutMs);
	if (!read.ok) return read;
	const order = read.value.order;
	if (!order) return { ok: false, retryable: false, error: `Shopify has no order ${f.channelOrderId}` };

	const number = f.tracking.number?.trim() || null;
	const wanted = new Map<string, number>();
	for (const line of f.lines) wanted.set(lineGid(line.channelLineId), (wanted.get(lineGid(line.channelLineId)) ?? 0) + line.quantity);
	const already = order.fulfillments.find((existing) =>
		number !== null
			? existing.trackingInfo.some((info) => info.number?.trim() === number)
			: existing.trackingInfo.every((info) => !info.number) && sameLines(existing.fulfillmentLineItems.nodes, wanted),
	);
	if (already) return { ok: true, value: { fulfillmentId: already.id, existing: true } };

	const plan = allocate(order.fulfillmentOrders.nodes, wanted);
	if (!plan.ok) return plan;
	const trackingInfo = { company: f.tracking.company, number: number ?? undefined, url: f.tracking.url };
	const created = await graphql<{ fulfillmentCreate: { fulfillment: { id: string } | null; userErrors: UserError[] } }>(
		admin,
		token,
		FULFILLMENT_CREATE,
		{
			fulfillment: {
				lineItemsByFulfillmentOrder: plan.value,
				...(trackingInfo.company || trackingInfo.number || trackingInfo.url ? { trackingInfo } : {}),
				notifyCustomer: f.notifyCustomer,
			},
		},
		options.timeoutMs,
	);
	if (!created.ok) return created;
	const payload = created.value.fulfillmentCreate;
	if (payload.userErrors.length > 0 || !payload.fulfillment) {
		return { ok: false, retryable: false, error: `fulfillmentCreate: ${describe(payload.userErrors) || "no fulfillment returned"}` };
	}
	return { ok: true, value: { fulfillmentId: payload.fulfillment.id, existing: false } };
}

function sameLines(nodes: Array<{ quantity: number; lineItem: { id: string } }>, wanted: Map<string, number>): boolean {
	const have = new Map<string, number>();
	for (const node of nodes) have.set(node.lineItem.id, (have.get(node.lineItem.id) ?? 0) + node.quantity);
	return have.size === wanted.size && [...wanted].every(([id, quantity]) => have.get(id) === quantity);
}

type Allocation = Array<{ fulfillmentOrderId: string; fulfillmentOrderLineItems: Array<{ id: string; quantity: number }> }>;

/**
 * Spreads the wanted units over fulfillment order line items that still have some remaining
 * (FulfillmentOrderLineItemsInput). fulfillmentCreate takes fulfillment orders at one location only.
 */
function allocate(fulfillmentOrders: FulfillmentOrderNode[], wanted: Map<string, number>): CallResult<Allocation> {
	const byOrder = new Map<string, Array<{ id: string; quantity: number }>>();
	const locations = new Set<string>();
	const short: string[] = [];
	let waiting: string | null = null;
	for (const [lineId, quantity] of wanted) {
		let left = quantity;
		let remaining = 0;
		for (const fo of fulfillmentOrders) {
			for (const item of fo.lineItems.nodes) {
				if (item.lineItem.id !== lineId || item.remainingQuantity <= 0) continue;
				if (!FULFILLABLE.has(fo.status)) {
					if (WAITING.has(fo.status)) waiting = `${fo.id} is ${fo.status}`;
					continue;
				}
				remaining += item.remainingQuantity;
				if (left === 0) continue;
				const take = Math.min(left, item.remainingQuantity);
				left -= take;
				const items = byOrder.get(fo.id) ?? [];
				items.push({ id: item.id, quantity: take });
				byOrder.set(fo.id, items);
				locations.add(fo.assignedLocation?.location?.id ?? "");
			}
		}
		if (left > 0) short.push(`${lineId.split("/").pop()}: ${quantity} to ship, ${remaining} left to fulfil`);
	}
	if (short.length > 0) {
		if (waiting) return { ok: false, retryable: true, error: `fulfillment order ${waiting}; ${short.join(", ")}` };
		const nothing = byOrder.size === 0 ? "nothing remains to fulfil for these lines and no fulfillment with this tracking exists" : "not enough remains to fulfil";
		return { ok: false, retryable: false, error: `${nothing} (${short.join(", ")})` };
	}
	if (locations.size > 1) return { ok: false, retryable: false, error: "the lines sit in fulfillment orders at different locations; one fulfillment cannot span them" };
	return { ok: true, value: [...byOrder].map(([fulfillmentOrderId, fulfillmentOrderLineItems]) => ({ fulfillmentOrderId, fulfillmentOrderLineItems })) };
}

// Fulfillment.events: https://shopify.dev/docs/api/admin-graphql/2026-10/objects/Fulfillment
const FULFILLMENT_EVENTS = `query FulfillmentEvents($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 50) {
      id
      trackingInfo(first: 5) { number }
      events(first: 100) { nodes { id status } }
    }
  }
}`;

// fulfillmentEventCreate(fulfillmentEvent: FulfillmentEventInput!) { fulfillmentEvent { id status } userErrors }
// https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/fulfillmentEventCreate
const FULFILLMENT_EVENT_CREATE = `mutation FulfillmentEventCreate($fulfillmentEvent: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $fulfillmentEvent) {
    fulfillmentEvent { id status }
    userErrors { field message }
  }
}`;

/**
 * EasyPost's tracker statuses as Shopify's FulfillmentEventStatus
 * (https://shopify.dev/docs/api/admin-graphql/2026-10/enums/FulfillmentEventStatus). pre_transit
 * (a label exists, the carrier has not scanned it) is LABEL_PRINTED, "a purchased shipping label
 * has been printed", which says more than CONFIRMED, the default "when no other information is
 * available". Shopify's Admin API has no returned-to-sender status, so that is a FAILURE.
 * unknown and cancelled tell the customer nothing and are not relayed.
 */
export const SHOPIFY_EVENT_STATUS: Record<TrackingStatus, string | null> = {
	pre_transit: "LABEL_PRINTED",
	in_transit: "IN_TRANSIT",
	out_for_delivery: "OUT_FOR_DELIVERY",
	delivered: "DELIVERED",
	available_for_pickup: "READY_FOR_PICKUP",
	failure: "FAILURE",
	return_to_sender: "FAILURE",
	error: "FAILURE",
	unknown: null,
	cancelled: null,
};

/**
 * Adds a carrier event to the fulfilment with this tracking number. Idempotent by status: a
 * fulfilment that already shows this status is left alone. A fulfilment not created yet is a
 * retryable failure, since tracking news can arrive before the shipment is recorded.
 */
export async function recordTrackingEvent(
	admin: ShopifyAdmin,
	token: string,
	input: { channelOrderId: string; trackingNumber: string; status: TrackingStatus; happenedAt: string; message?: string },
	options: { timeoutMs: number },
): Promise<CallResult<{ fulfillmentEventId: string | null; skipped?: string }>> {
	const status = SHOPIFY_EVENT_STATUS[input.status];
	if (!status) return { ok: true, value: { fulfillmentEventId: null, skipped: `carrier status ${input.status} is not relayed` } };
	const read = await graphql<{
		order: { fulfillments: Array<{ id: string; trackingInfo: Array<{ number: string | null }>; events: { nodes: Array<{ id: string; status: string }> } }> } | null;
	}>(admin, token, FULFILLMENT_EVENTS, { id: orderGid(input.channelOrderId) }, options.timeoutMs);
	if (!read.ok) return read;
	if (!read.value.order) return { ok: false, retryable: false, error: `Shopify has no order ${input.channelOrderId}` };
	const number = input.trackingNumber.trim();
	const fulfillment = read.value.order.fulfillments.find((f) => f.trackingInfo.some((info) => info.number?.trim() === number));
	if (!fulfillment) return { ok: false, retryable: true, error: `fulfillment not created yet for tracking number ${number}` };
	const earlier = fulfillment.events.nodes.find((event) => event.status === status);
	if (earlier) return { ok: true, value: { fulfillmentEventId: earlier.id, skipped: `fulfillment already shows ${status}` } };

	const created = await graphql<{ fulfillmentEventCreate: { fulfillmentEvent: { id: string } | null; userErrors: UserError[] } }>(
		admin,
		token,
		FULFILLMENT_EVENT_CREATE,
		{ fulfillmentEvent: { fulfillmentId: fulfillment.id, status, happenedAt: input.happenedAt, ...(input.message ? { message: input.message } : {}) } },
		options.timeoutMs,
	);
	if (!created.ok) return created;
	const payload = created.value.fulfillmentEventCreate;
	if (payload.userErrors.length > 0 || !payload.fulfillmentEvent) {
		return { ok: false, retryable: false, error: `fulfillmentEventCreate: ${describe(payload.userErrors) || "no event returned"}` };
	}
	return { ok: true, value: { fulfillmentEventId: payload.fulfillmentEvent.id } };
}

function describe(errors: UserError[]): string {
	return errors.map((e) => `${e.field?.join(".") ?? ""} ${e.message}`.trim()).join("; ");
}
