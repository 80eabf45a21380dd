import type { Env } from "./env";
import { router } from "./router";
import { sweepAll } from "./sweep/schedule";

export { ChannelSweep } from "../durable-objects/channel-sweep";
export { DeliveryGate } from "../durable-objects/delivery-gate";
export { FlowMonitor } from "../durable-objects/flow-monitor";
export { Parcel } from "../durable-objects/parcel";
export { OrderFlow } from "../durable-objects/order-flow";
export { Settlement } from "../durable-objects/settlement";
export { SkuLedger } from "../durable-objects/sku-ledger";
export { TradingPartner } from "../durable-objects/trading-partner";

export default {
	fetch: (request, env, ctx) => router.fetch(request, env, ctx),
	// The cron trigger (wrangler.toml [triggers]): every connection's reconciliation sweep.
	scheduled: (controller, env, ctx) => ctx.waitUntil(sweepAll(env, controller.cron)),
} satisfies ExportedHandler<Env>;
