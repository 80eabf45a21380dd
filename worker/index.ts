import type { Env } from "./env";
import { router } from "./router";

export { DeliveryGate } from "../durable-objects/delivery-gate";
export { FlowMonitor } from "../durable-objects/flow-monitor";
export { Parcel } from "../durable-objects/parcel";
export { OrderFlow } from "../durable-objects/order-flow";
export { Settlement } from "../durable-objects/settlement";
export { SkuLedger } from "../durable-objects/sku-ledger";
export { TradingPartner } from "../durable-objects/trading-partner";

export default {
	fetch: (request, env, ctx) => router.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
