import type { Env } from "./env";
import { router } from "./router";

export { FlowMonitor } from "../durable-objects/flow-monitor";
export { OrderFlow } from "../durable-objects/order-flow";
export { SkuLedger } from "../durable-objects/sku-ledger";

export default {
	fetch: (request, env, ctx) => router.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
