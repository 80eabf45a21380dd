import { z } from "zod";
import { FeeCategory } from "../../model/settlement";
import { Dict } from "../../model/dict";

const SecretName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, "the name of a secret binding, e.g. NETSUITE_TOKEN_SECRET");
/** NetSuite internal ids are numeric strings ("123"). */
const InternalId = z.string().regex(/^\d+$/, "a NetSuite internal id such as \"123\"");

/** How one channel connection's orders are booked. */
const BookedConnection = z.object({
	/** The customer record its orders are booked to (one per channel is usual: "Amazon Customer"). */
	customer: InternalId,
	/**
	 * `salesOrder`: a sales order, an item fulfilment and an invoice per shipment, and the channel's
	 * payment as a customer deposit on the order. `cashSale`: a cash sale into undeposited funds when
	 * the order is taken (for channels that settle whole orders; a short payment is a variance).
	 */
	transaction: z.enum(["salesOrder", "cashSale"]).default("salesOrder"),
	/** The bank account this channel's payouts land in; `accounts.bank` when absent. */
	bank: InternalId.optional(),
});
export type BookedConnection = z.infer<typeof BookedConnection>;

/**
 * The brand's NetSuite account, reached through SuiteTalk REST with Token-Based Authentication.
 * Its concurrency limit is the `erp:<id>` entry of DELIVERY.concurrency, shared by every object.
 */
export const NetSuiteAccount = z.object({
	id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).default("netsuite"),
	kind: z.literal("netsuite"),
	/** The account id as TBA's realm wants it: "1234567" or "1234567_SB1" for a sandbox. */
	accountId: z.string().regex(/^[0-9]+(_[A-Z0-9]+)?$/, "an account id such as 1234567 or 1234567_SB1"),
	consumerKeySecret: SecretName,
	consumerSecretSecret: SecretName,
	tokenIdSecret: SecretName,
	tokenSecretSecret: SecretName,
	/** Base URL override, for the local sandbox; production talks to https://<account>.suitetalk.api.netsuite.com. */
	endpoint: z.url().optional(),
	subsidiary: InternalId.optional(),
	/** SKU → item internal id; a SKU not listed is looked up by its item name (SuiteQL) and cached. */
	items: Dict(InternalId).prefault({}),
	/** Non-inventory items for the order's other lines. */
	shippingItem: InternalId,
	discountItem: InternalId,
	taxItem: InternalId,
	/** Channel connections whose orders and payouts are booked; others are left out of the ERP. */
	connections: z.record(z.string(), BookedConnection),
	accounts: z.object({
		bank: InternalId,
		/** Where refunds paid by the channel pass through: customer refunds credit it, the deposit clears it. */
		clearing: InternalId,
		/** Anything a payout holds that does not match (unknown order, wrong amount, unmapped fee). */
		variance: InternalId,
		/** GL account per fee category; a category with no account is booked to variance as an exception. */
		fees: z.partialRecord(FeeCategory, InternalId).default({}),
	}),
});
export type NetSuiteAccount = z.infer<typeof NetSuiteAccount>;

export type NetSuiteCredentials = { consumerKey: string; consumerSecret: string; tokenId: string; tokenSecret: string };
export type NetSuite = NetSuiteAccount & { credentials: NetSuiteCredentials };

/** The REST base: the account id lowercased with "_" as "-" (1234567_SB1 → 1234567-sb1). */
export function netsuiteBase(account: Pick<NetSuiteAccount, "accountId" | "endpoint">): string {
	return (account.endpoint ?? `https://${account.accountId.toLowerCase().replace(/_/g, "-")}.suitetalk.api.netsuite.com`).replace(/\/+$/, "");
}
