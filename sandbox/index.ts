import { ShopifyAdminSandbox } from "./shopify-admin";

interface SandboxEnv {
	SANDBOX_SHOPIFY_TOKEN: string;
}

// One shop per sandbox process: its state lives as long as the process, like a test store.
let shop: ShopifyAdminSandbox | null = null;

export default {
	fetch(request: Request, env: SandboxEnv): Promise<Response> {
		shop ??= new ShopifyAdminSandbox(env.SANDBOX_SHOPIFY_TOKEN);
		return shop.fetch(request);
	},
};
