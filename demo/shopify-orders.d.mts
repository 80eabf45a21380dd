export interface DemoLine {
	sku: string | null;
	quantity: number;
	price: string;
	title?: string;
}
export function shopifyOrder(spec: {
	id: number;
	number?: number;
	lines: DemoLine[];
	updatedAt?: string;
	createdAt?: string;
	cancelled?: boolean;
	fulfilled?: boolean;
	currency?: string;
	seed?: number;
}): Record<string, unknown> & { id: number; updated_at: string; line_items: Array<Record<string, unknown>> };
export function signedDelivery(options: {
	secret: string;
	topic: string;
	body: unknown;
	eventId?: string;
	shopDomain?: string;
	triggeredAt?: string;
}): Promise<{ body: string; headers: Record<string, string> }>;
