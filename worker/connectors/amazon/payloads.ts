import { z } from "zod";

/**
 * The SP-API payloads ordersync reads, as the models define them: Orders API v0
 * (amzn/selling-partner-api-models models/orders-api-model/ordersV0.json), the ORDER_CHANGE
 * notification (schemas/notifications/OrderChangeNotification.json) and the Listings Items
 * 2021-08-01 submission response. Only the fields ordersync reads are declared; Amazon adds
 * fields often, so every object is loose. Enums that Amazon may extend are read as strings and
 * mapped, so a new value does not make an order unreadable.
 */

// ordersV0.json definitions.Money: "Amount": string, e.g. "11.01".
export const AmazonMoney = z.looseObject({
	CurrencyCode: z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 code"),
	Amount: z.string(),
});
export type AmazonMoney = z.infer<typeof AmazonMoney>;

// definitions.Address: Name is required by the model, but without a Restricted Data Token only
// City, StateOrRegion, PostalCode and CountryCode come back, so everything is optional here.
export const AmazonAddress = z.looseObject({
	Name: z.string().nullish(),
	CompanyName: z.string().nullish(),
	AddressLine1: z.string().nullish(),
	AddressLine2: z.string().nullish(),
	AddressLine3: z.string().nullish(),
	City: z.string().nullish(),
	County: z.string().nullish(),
	District: z.string().nullish(),
	StateOrRegion: z.string().nullish(),
	Municipality: z.string().nullish(),
	PostalCode: z.string().nullish(),
	CountryCode: z.string().nullish(),
	Phone: z.string().nullish(),
	AddressType: z.string().nullish(),
});

// definitions.Order: required AmazonOrderId, LastUpdateDate, OrderStatus, PurchaseDate.
export const AmazonOrder = z.looseObject({
	AmazonOrderId: z.string().min(1),
	PurchaseDate: z.string().min(1),
	LastUpdateDate: z.string().min(1),
	/** Pending, Unshipped, PartiallyShipped, Shipped, Canceled, Unfulfillable, InvoiceUnconfirmed, PendingAvailability. */
	OrderStatus: z.string().min(1),
	/** MFN (seller) or AFN (Amazon); the documented example says "SellerFulfilled". */
	FulfillmentChannel: z.string().nullish(),
	SalesChannel: z.string().nullish(),
	ShipServiceLevel: z.string().nullish(),
	ShipmentServiceLevelCategory: z.string().nullish(),
	OrderTotal: AmazonMoney.nullish(),
	MarketplaceId: z.string().nullish(),
	ShippingAddress: AmazonAddress.nullish(),
	BuyerInfo: z
		.looseObject({
			BuyerEmail: z.string().nullish(),
			BuyerName: z.string().nullish(),
		})
		.nullish(),
});
export type AmazonOrder = z.infer<typeof AmazonOrder>;

// definitions.OrderItem: required ASIN, OrderItemId, QuantityOrdered. IsGift and
// BuyerRequestedCancel.IsBuyerRequestedCancel are "true"/"false" strings in the model.
export const AmazonOrderItem = z.looseObject({
	ASIN: z.string(),
	OrderItemId: z.string().min(1),
	SellerSKU: z.string().nullish(),
	Title: z.string().nullish(),
	QuantityOrdered: z.number().int().nonnegative(),
	QuantityShipped: z.number().int().nonnegative().nullish(),
	ItemPrice: AmazonMoney.nullish(),
	ShippingPrice: AmazonMoney.nullish(),
	ItemTax: AmazonMoney.nullish(),
	ShippingTax: AmazonMoney.nullish(),
	ShippingDiscount: AmazonMoney.nullish(),
	ShippingDiscountTax: AmazonMoney.nullish(),
	PromotionDiscount: AmazonMoney.nullish(),
	PromotionDiscountTax: AmazonMoney.nullish(),
	PromotionIds: z.array(z.string()).nullish(),
	TaxCollection: z.looseObject({ Model: z.string().nullish(), ResponsibleParty: z.string().nullish() }).nullish(),
});
export type AmazonOrderItem = z.infer<typeof AmazonOrderItem>;

/** GetOrderResponse: `{ payload: Order }` (or `{ errors }`). */
export const GetOrderResponse = z.looseObject({ payload: AmazonOrder });

/** GetOrderItemsResponse: `{ payload: OrderItemsList }`; NextToken "when present and not empty" means more. */
export const GetOrderItemsResponse = z.looseObject({
	payload: z.looseObject({
		AmazonOrderId: z.string().min(1),
		OrderItems: z.array(AmazonOrderItem),
		NextToken: z.string().nullish(),
	}),
});
export type GetOrderItemsResponse = z.infer<typeof GetOrderItemsResponse>;

/**
 * CreateRestrictedDataTokenResponse (tokens_2021-03-01.json): both fields optional in the model;
 * a 200 without a token is unusable. `expiresIn` is an integer there (3600 in its examples);
 * some SDK typings declare it a string, so both are read.
 */
export const CreateRestrictedDataTokenResponse = z.looseObject({
	restrictedDataToken: z.string().min(1),
	expiresIn: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).nullish(),
});

/** ErrorList, the body of every SP-API error: `{ errors: [{ code, message, details? }] }`. */
export const AmazonErrorList = z.looseObject({
	errors: z.array(z.looseObject({ code: z.string(), message: z.string().nullish(), details: z.string().nullish() })).min(1),
});

// OrderChangeNotification.json: every field the schema requires, loose elsewhere.
const OrderChangeItem = z.looseObject({
	OrderItemId: z.string(),
	SellerSKU: z.string(),
	SupplySourceId: z.string().nullable(),
	Quantity: z.number().int(),
});

export const OrderChangeNotification = z.looseObject({
	NotificationVersion: z.string(),
	NotificationType: z.string(),
	PayloadVersion: z.string(),
	EventTime: z.string(),
	Payload: z.looseObject({
		OrderChangeNotification: z.looseObject({
			NotificationLevel: z.string(),
			SellerId: z.string().min(1),
			AmazonOrderId: z.string().min(1),
			OrderChangeType: z.string(),
			OrderChangeTrigger: z.looseObject({ TimeOfOrderChange: z.string().nullable(), ChangeReason: z.string() }),
			Summary: z.looseObject({
				MarketplaceId: z.string().min(1),
				OrderStatus: z.string(),
				PurchaseDate: z.string().nullable(),
				DestinationPostalCode: z.string().nullable(),
				FulfillmentType: z.string(),
				OrderType: z.string(),
				OrderItems: z.array(OrderChangeItem),
			}),
		}),
	}),
	NotificationMetadata: z.looseObject({
		ApplicationId: z.string(),
		SubscriptionId: z.string(),
		PublishTime: z.string(),
		NotificationId: z.string().min(1),
	}),
});
export type OrderChangeNotification = z.infer<typeof OrderChangeNotification>;

/** The envelope every notification shares; its type decides whether the rest is read. */
export const NotificationEnvelope = z.looseObject({
	NotificationType: z.string(),
	NotificationMetadata: z.looseObject({ NotificationId: z.string().min(1) }),
});

// listingsItems_2021-08-01.json ListingsItemSubmissionResponse: HTTP 200 for ACCEPTED and INVALID alike.
export const ListingsItemSubmissionResponse = z.looseObject({
	sku: z.string(),
	status: z.string(),
	submissionId: z.string(),
	issues: z
		.array(
			z.looseObject({
				code: z.string(),
				message: z.string(),
				severity: z.string(),
				attributeNames: z.array(z.string()).nullish(),
			}),
		)
		.nullish(),
});
export type ListingsItemSubmissionResponse = z.infer<typeof ListingsItemSubmissionResponse>;
