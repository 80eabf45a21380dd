import { z } from "zod";
import { Currency } from "../../model/money";
import { Dict } from "../../model/dict";

/**
 * One EDI trading partner (a retailer) as a connection's config block. The partner's AS2/VAN
 * gateway posts its interchanges to ordersync over HTTP with a bearer token, and takes ordersync's
 * documents at `gatewayUrl` with the same token (`tokenSecret` names the Worker secret).
 */

const SecretName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, "the name of a secret binding, e.g. EDI_GATEWAY_TOKEN");
/** ISA05/ISA07: ZZ mutually defined, 01 DUNS, 08 UCC EDI Comm ID, 12 phone, 14 DUNS+suffix… */
const IsaQualifier = z.string().regex(/^[0-9A-Z]{2}$/, "a two-character interchange ID qualifier such as ZZ or 01");
/** ISA06/ISA08 (AN 15, padded when written) and GS02/GS03 (AN 2/15): no delimiters, no padding. */
const IsaId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 .\-_/]{0,14}$/, "1 to 15 letters, digits or . - _ / (no X12 delimiters)").transform((s) => s.trimEnd());
const GsId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 .\-_/]{1,14}$/, "2 to 15 letters, digits or . - _ / (no X12 delimiters)");
/** A product ID qualifier (data element 235): UP, EN, UK, VN, SK, BP, IN, VA… */
const Qualifier = z.string().regex(/^[A-Z0-9]{2}$/);

/**
 * `{ "UP:012345678905": "TEE-BLK-M", "VN:ABC": "…" }` or `{ UP: { "012345678905": "TEE-BLK-M" } }`,
 * both read as the flat form: "<qualifier>:<value>" → the brand's SKU.
 */
const ItemMap = z
	.union([z.record(z.string().regex(/^[A-Z0-9]{2}:.+$/, "<qualifier>:<value>, e.g. UP:012345678905"), z.string().min(1)), z.record(Qualifier, z.record(z.string().min(1), z.string().min(1)))])
	.transform((map): Record<string, string> => {
		const flat: Record<string, string> = Object.create(null);
		for (const [key, value] of Object.entries(map)) {
			if (typeof value === "string") flat[key] = value;
			else for (const [id, sku] of Object.entries(value as Record<string, string>)) flat[`${key}:${id}`] = sku;
		}
		return flat;
	});

export const EdiAccount = z.object({
	/** ISA05/ISA06 when ordersync sends, ISA07/ISA08 when it receives. */
	ourQualifier: IsaQualifier,
	ourId: IsaId,
	partnerQualifier: IsaQualifier,
	partnerId: IsaId,
	/** GS02/GS03 application ids (often the same as the ISA ids). */
	ourGsId: GsId,
	partnerGsId: GsId,
	/** GS08 version; ISA12 is its first five digits ("004010" → "00401"). */
	version: z.string().regex(/^\d{6}$/, "an X12 version such as 004010").default("004010"),
	/** Where outbound interchanges go (the partner's AS2/VAN gateway HTTP endpoint). */
	gatewayUrl: z.url(),
	/** Name of the Worker secret with the bearer token the gateway uses both ways. */
	tokenSecret: SecretName,
	/** Partner item ids → the brand's SKU. */
	itemMap: ItemMap.default({}),
	/** When no itemMap entry matches, a VN (vendor's = seller's item number) or SK id is the SKU itself. */
	vendorItemIsSku: z.boolean().default(true),
	/** ISA15: a test interchange is refused on a production connection, and the other way round. */
	usageIndicator: z.enum(["P", "T"]).default("P"),
	/** When the 850 carries no CUR segment. */
	currency: Currency.default("USD"),
	/** Units of measure (PO103) taken as single units; lines in any other unit get no SKU (855 rejects them). */
	eachUnits: z.array(z.string().regex(/^[A-Z0-9]{2}$/)).default(["EA"]),
	/** Send the 810 invoice with each 856 ship notice, in the same interchange. */
	invoiceWithShipment: z.boolean().default(true),
	/** REF*IA (our vendor number at the retailer), echoed on 810s when set. */
	vendorNumber: z.string().min(1).max(30).optional(),
	/** Carrier name (as a 3PL reports it) → SCAC for TD503; common ones are built in. */
	carrierScac: Dict(z.string().regex(/^[A-Z0-9]{2,4}$/)).prefault({}),
	/** Write a line break after each segment terminator (readable; some gateways refuse it). */
	newline: z.boolean().default(false),
	/** Base URL override (sandbox): replaces gatewayUrl when set. */
	endpoint: z.url().optional(),
});
export type EdiAccount = z.infer<typeof EdiAccount>;
export type EdiAccountInput = z.input<typeof EdiAccount>;

/** The account's secret, resolved: the gateway's bearer token. */
export type EdiCredentials = { token: string };

/** ISA12 for the account's version. */
export function isaVersion(account: Pick<EdiAccount, "version">): string {
	return account.version.slice(0, 5);
}

/** The item ids the partner knows a SKU by (from itemMap, reversed), else VN = the SKU. */
export function itemIdsFor(account: Pick<EdiAccount, "itemMap">, sku: string | null): Array<[string, string]> {
	if (!sku) return [];
	const ids: Array<[string, string]> = [];
	for (const [key, mapped] of Object.entries(account.itemMap)) {
		if (mapped !== sku) continue;
		const colon = key.indexOf(":");
		ids.push([key.slice(0, colon), key.slice(colon + 1)]);
	}
	if (!ids.some(([q]) => q === "VN")) ids.push(["VN", sku]);
	return ids;
}
