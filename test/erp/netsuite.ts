import { sandbox } from "../helpers";

// The sandbox NetSuite account as the ERP tests read it.

export type NsRecord = {
	id: string;
	externalId?: string;
	total?: number;
	entity?: { id: string };
	createdFrom?: { id: string; refName?: string };
	item?: { items: Array<{ line: number; item: { id: string; refName?: string }; quantity: number; rate?: number; amount: number; isClosed?: boolean; custcol_ordersync_line?: string; description?: string }> };
	payment?: number | { items: Array<{ id: string; paymentAmount: number }> };
	other?: { items: Array<{ account: { id: string }; amount: number; memo: string }> };
	cashBack?: { items: Array<{ account: { id: string }; amount: number; memo: string }> };
	[field: string]: unknown;
};

export async function records(type: string, externalId?: string): Promise<NsRecord[]> {
	const query = new URLSearchParams({ type, ...(externalId ? { externalId } : {}) });
	return (await sandbox<{ records: NsRecord[] }>(`/sandbox/netsuite/records?${query}`)).records;
}

export async function record(type: string, externalId: string): Promise<NsRecord | undefined> {
	return (await records(type, externalId))[0];
}

/** Creates the SKU in the sandbox's item master, as a brand does for a new product. */
export async function addItem(itemid: string): Promise<string> {
	return (await sandbox<{ item: { id: string } }>("/sandbox/netsuite/items", { json: { itemid } })).item.id;
}

export const cents = (amount: number | undefined) => Math.round((amount ?? 0) * 100);
