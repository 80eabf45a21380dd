import type { FlowMonitor } from "../durable-objects/flow-monitor";
import type { OrderFlow } from "../durable-objects/order-flow";
import type { SkuLedger } from "../durable-objects/sku-ledger";

declare global {
	namespace Cloudflare {
		interface GlobalProps {
			mainModule: typeof import("./index");
			durableNamespaces: "OrderFlow" | "SkuLedger" | "FlowMonitor";
		}
		interface Env {
			ORDER_FLOW: DurableObjectNamespace<OrderFlow>;
			SKU_LEDGER: DurableObjectNamespace<SkuLedger>;
			FLOW_MONITOR: DurableObjectNamespace<FlowMonitor>;
			/** Plain vars from wrangler.toml, validated by `loadConfig`. */
			CONNECTIONS: unknown;
			STOREFRONT_ORIGINS: unknown;
			OPS_TOKEN?: string;
			/** Per-connection webhook secrets, named by each connection's `secret`. */
			[binding: string]: unknown;
		}
	}
}

export type Env = Cloudflare.Env;
