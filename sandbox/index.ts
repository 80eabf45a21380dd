import { AmazonSandbox } from "./amazon";
import { Callbacks } from "./callbacks";
import { EasyPostSandbox } from "./easypost";
import { EdiSandbox } from "./edi";
import { type Fault, Faults } from "./faults";
import { NetSuiteSandbox } from "./netsuite";
import { ShipBobSandbox } from "./shipbob";
import { ShopifyAdminSandbox } from "./shopify-admin";
import { TikTokSandbox } from "./tiktok";
import { WooCommerceSandbox } from "./woocommerce";

interface SandboxEnv {
	SANDBOX_SHOPIFY_TOKEN: string;
	SANDBOX_SHIPBOB_TOKEN: string;
	SANDBOX_SHIPBOB_WEBHOOK_SECRET: string;
	SANDBOX_EASYPOST_API_KEY: string;
	SANDBOX_EASYPOST_WEBHOOK_SECRET: string;
	/** The channels of issue 6: each peer checks the credentials ordersync was given. */
	SANDBOX_TIKTOK_APP_KEY: string;
	SANDBOX_TIKTOK_APP_SECRET: string;
	SANDBOX_TIKTOK_ACCESS_TOKEN: string;
	SANDBOX_AMAZON_CLIENT_ID: string;
	SANDBOX_AMAZON_CLIENT_SECRET: string;
	SANDBOX_AMAZON_REFRESH_TOKEN: string;
	SANDBOX_AMAZON_NOTIFICATION_KEY: string;
	SANDBOX_WOO_CONSUMER_KEY: string;
	SANDBOX_WOO_CONSUMER_SECRET: string;
	SANDBOX_WOO_WEBHOOK_SECRET: string;
	SANDBOX_EDI_TOKEN: string;
	/** The ERP of issue 7: a NetSuite sandbox account checking token-based authentication. */
	SANDBOX_NETSUITE_ACCOUNT_ID: string;
	SANDBOX_NETSUITE_CONSUMER_KEY: string;
	SANDBOX_NETSUITE_CONSUMER_SECRET: string;
	SANDBOX_NETSUITE_TOKEN_ID: string;
	SANDBOX_NETSUITE_TOKEN_SECRET: string;
	/** Demo only: where callbacks (ship notices, tracking events) are posted. Tests drain them instead. */
	SANDBOX_CALLBACK_URL?: string;
}

/** One set of peers per sandbox process: state lives as long as the process, like a test account. */
type Peers = { faults: Faults; callbacks: Callbacks; shop: ShopifyAdminSandbox; shipbob: ShipBobSandbox; easypost: EasyPostSandbox; tiktok: TikTokSandbox; woocommerce: WooCommerceSandbox; amazon: AmazonSandbox; edi: EdiSandbox; netsuite: NetSuiteSandbox };
let peers: Peers | null = null;

function start(env: SandboxEnv): Peers {
	const faults = new Faults();
	const callbacks = new Callbacks();
	callbacks.target = env.SANDBOX_CALLBACK_URL ?? null;
	const easypost = new EasyPostSandbox({ apiKey: env.SANDBOX_EASYPOST_API_KEY, webhookSecret: env.SANDBOX_EASYPOST_WEBHOOK_SECRET, faults, callbacks });
	return {
		faults,
		callbacks,
		easypost,
		shop: new ShopifyAdminSandbox(env.SANDBOX_SHOPIFY_TOKEN, faults),
		shipbob: new ShipBobSandbox({ token: env.SANDBOX_SHIPBOB_TOKEN, webhookSecret: env.SANDBOX_SHIPBOB_WEBHOOK_SECRET, faults, callbacks }),
		tiktok: new TikTokSandbox({ appKey: env.SANDBOX_TIKTOK_APP_KEY, appSecret: env.SANDBOX_TIKTOK_APP_SECRET, accessToken: env.SANDBOX_TIKTOK_ACCESS_TOKEN, faults, callbacks }),
		amazon: new AmazonSandbox({ clientId: env.SANDBOX_AMAZON_CLIENT_ID, clientSecret: env.SANDBOX_AMAZON_CLIENT_SECRET, refreshToken: env.SANDBOX_AMAZON_REFRESH_TOKEN, notificationKey: env.SANDBOX_AMAZON_NOTIFICATION_KEY, faults, callbacks }),
		edi: new EdiSandbox({ token: env.SANDBOX_EDI_TOKEN, faults, callbacks }),
		woocommerce: new WooCommerceSandbox({ consumerKey: env.SANDBOX_WOO_CONSUMER_KEY, consumerSecret: env.SANDBOX_WOO_CONSUMER_SECRET, webhookSecret: env.SANDBOX_WOO_WEBHOOK_SECRET, faults, callbacks }),
		netsuite: new NetSuiteSandbox({
			accountId: env.SANDBOX_NETSUITE_ACCOUNT_ID,
			consumerKey: env.SANDBOX_NETSUITE_CONSUMER_KEY,
			consumerSecret: env.SANDBOX_NETSUITE_CONSUMER_SECRET,
			tokenId: env.SANDBOX_NETSUITE_TOKEN_ID,
			tokenSecret: env.SANDBOX_NETSUITE_TOKEN_SECRET,
			faults,
		}),
	};
}

export default {
	async fetch(request: Request, env: SandboxEnv): Promise<Response> {
		peers ??= start(env);
		const url = new URL(request.url);
		const path = url.pathname;
		if (path.startsWith("/shipbob/") || path.startsWith("/sandbox/shipbob/")) return peers.shipbob.fetch(request, url);
		if (path.startsWith("/easypost/") || path.startsWith("/sandbox/easypost/")) return peers.easypost.fetch(request, url);
		if (path.startsWith("/edi/") || path.startsWith("/sandbox/edi/")) return peers.edi.fetch(request, url);
		if (path.startsWith("/tiktok/") || path.startsWith("/sandbox/tiktok/")) return peers.tiktok.fetch(request, url);
		if (path.startsWith("/woocommerce/") || path.startsWith("/sandbox/woocommerce/")) return peers.woocommerce.fetch(request, url);
		if (path.startsWith("/amazon/") || path.startsWith("/sandbox/amazon/")) return peers.amazon.fetch(request, url);
		if (path.startsWith("/netsuite/") || path.startsWith("/sandbox/netsuite/")) return peers.netsuite.fetch(request, url);
		switch (`${request.method} ${path}`) {
			case "GET /sandbox/faults":
				return Response.json({ faults: peers.faults.list(), fired: peers.faults.fired });
			case "POST /sandbox/faults":
				peers.faults.add((await request.json()) as Fault);
				return Response.json({ faults: peers.faults.list() });
			case "DELETE /sandbox/faults":
				peers.faults.clear();
				return Response.json({ faults: [] });
			case "POST /sandbox/callbacks/drain": {
				const { match } = (await request.json().catch(() => ({}))) as { match?: string };
				return Response.json({ callbacks: peers.callbacks.drain(match ?? "") });
			}
			case "POST /sandbox/callbacks/misbehave":
				peers.callbacks.misbehaviour = (await request.json()) as Callbacks["misbehaviour"];
				return Response.json({ misbehaviour: peers.callbacks.misbehaviour, sent: peers.callbacks.sent });
			case "POST /sandbox/tick": {
				// Demo clock: the warehouse ships what waited long enough, parcels move, callbacks go out.
				const { shipAfterMs = 4_000, advanceAfterMs = 5_000 } = (await request.json().catch(() => ({}))) as { shipAfterMs?: number; advanceAfterMs?: number };
				const shipped = peers.shipbob.shipDue(shipAfterMs);
				const advanced = peers.easypost.advanceDue(advanceAfterMs);
				await peers.callbacks.pump();
				return Response.json({ shipped, advanced, sent: peers.callbacks.sent });
			}
		}
		return peers.shop.fetch(request);
	},
};
