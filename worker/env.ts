import type { FlowMonitor } from "../durable-objects/flow-monitor";
import type { ChannelSweep } from "../durable-objects/channel-sweep";
import type { DeliveryGate } from "../durable-objects/delivery-gate";
import type { OrderFlow } from "../durable-objects/order-flow";
import type { Parcel } from "../durable-objects/parcel";
import type { Settlement } from "../durable-objects/settlement";
import type { SkuLedger } from "../durable-objects/sku-ledger";
import type { TradingPartner } from "../durable-objects/trading-partner";

declare global {
	namespace Cloudflare {
		interface GlobalProps {
			mainModule: typeof import("./index");
			durableNamespaces: "OrderFlow" | "SkuLedger" | "FlowMonitor" | "DeliveryGate" | "Parcel" | "TradingPartner" | "Settlement" | "ChannelSweep";
		}
		interface Env {
			ORDER_FLOW: DurableObjectNamespace<OrderFlow>;
			SKU_LEDGER: DurableObjectNamespace<SkuLedger>;
			FLOW_MONITOR: DurableObjectNamespace<FlowMonitor>;
			DELIVERY_GATE: DurableObjectNamespace<DeliveryGate>;
			PARCEL: DurableObjectNamespace<Parcel>;
			TRADING_PARTNER: DurableObjectNamespace<TradingPartner>;
			SETTLEMENT: DurableObjectNamespace<Settlement>;
			CHANNEL_SWEEP: DurableObjectNamespace<ChannelSweep>;
			/** Plain vars from wrangler.toml, validated by `loadConfig`. */
			CONNECTIONS: unknown;
			STOREFRONT_ORIGINS: unknown;
			OPS_TOKEN?: string;
			/** Workers Rate Limiting binding for the public availability endpoint (per client IP). */
			AVAILABILITY_LIMITER?: RateLimit;
			/** Per-connection webhook secrets, named by each connection's `secret`. */
			[binding: string]: unknown;
		}
	}
}

export type Env = Cloudflare.Env;
