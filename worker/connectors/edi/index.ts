// EDI X12 with a retailer: 850s in over HTTP from its AS2/VAN gateway, 997/855/856/810/846 out.
export { EdiAccount, type EdiAccountInput, type EdiCredentials, isaVersion, itemIdsFor } from "./account";
export { type EdiDelivery, postEdiDocument } from "./client";
export { type ControlAllocator, type ControlNumbers, type ControlRequest, ControlState, initialControlState, memoryAllocator, nextControlNumbers } from "./control";
export {
	type GroupAcknowledgment,
	type SetAcknowledgment,
	type SegmentError,
	type ElementError,
	type LineStatus,
	build810,
	build846,
	build855,
	build856,
	build997,
	groupStatus,
} from "./documents";
export { EDI_CONTENT_TYPE, type EdiOrderEvent, type EdiReceipt, type ParsedEdiInterchange, parseEdiInterchange, verifyEdiWebhook } from "./inbound";
export { type Edi850Result, type PurchaseOrderDetails, normalizeEdi850, skuFor } from "./po850";
export {
	type LineDecision,
	type RelayOptions,
	acknowledgeEdiOrder,
	ediInterchange,
	pushEdiAvailability,
	pushEdiInventory,
	relayEdiFulfillment,
	sendEdiAcknowledgments,
} from "./relay";
export { type Interchange, type X12Issue, parseX12, readX12, writeX12 } from "./x12";
