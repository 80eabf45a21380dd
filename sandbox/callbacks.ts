/**
 * Webhooks the sandbox peers send back to ordersync (3PL ship notices, carrier tracking events),
 * already signed as the vendor signs them. The demo has them posted to the app at once; tests
 * drain them and deliver them themselves, so they decide when. Either way they can be told to
 * misbehave as vendors do: some delivered twice, some out of order.
 */
export type Callback = {
	seq: number;
	/** What the callback is about (a reference id, a tracking code): tests drain their own. */
	key: string;
	path: string;
	headers: Record<string, string>;
	body: string;
};

export type Misbehaviour = { duplicateRate?: number; reorderRate?: number };

export class Callbacks {
	#queue: Callback[] = [];
	#seq = 0;
	misbehaviour: Misbehaviour = {};
	/** Where the demo's sandbox posts callbacks; unset in tests. */
	target: string | null = null;
	sent = { delivered: 0, duplicated: 0, reordered: 0, failed: 0 };

	enqueue(callback: Omit<Callback, "seq">): void {
		this.#queue.push({ ...callback, seq: ++this.#seq });
	}

	/** Takes the queued callbacks whose key contains `match`, duplicated and reordered per the misbehaviour. */
	drain(match = ""): Callback[] {
		const taken = this.#queue.filter((c) => c.key.includes(match));
		this.#queue = this.#queue.filter((c) => !c.key.includes(match));
		const out: Callback[] = [];
		for (const callback of taken) {
			out.push(callback);
			if (Math.random() < (this.misbehaviour.duplicateRate ?? 0)) {
				out.push(callback);
				this.sent.duplicated++;
			}
		}
		// Out of order: swap a callback with a later one.
		for (let i = 0; i < out.length - 1; i++) {
			if (Math.random() < (this.misbehaviour.reorderRate ?? 0)) {
				const j = i + 1 + Math.floor(Math.random() * Math.min(5, out.length - i - 1));
				[out[i], out[j]] = [out[j]!, out[i]!];
				this.sent.reordered++;
			}
		}
		return out;
	}

	/** Demo: posts what is queued to the app; what fails is queued again, as vendors retry. */
	async pump(): Promise<void> {
		if (!this.target) return;
		for (const callback of this.drain()) {
			try {
				const response = await fetch(`${this.target}${callback.path}`, { method: "POST", headers: callback.headers, body: callback.body });
				if (!response.ok) throw new Error(String(response.status));
				this.sent.delivered++;
			} catch {
				this.sent.failed++;
				this.#queue.push(callback);
			}
		}
	}
}
