import { afterAll } from "vitest";
import { ops } from "./helpers";

/**
 * Orders keep working after a test's last assertion (routing, 3PL hand-off, deliveries). A test
 * file's environment is torn down when it ends, so wait until the flow stream has been quiet for a
 * moment, or background calls die mid-flight as unhandled errors.
 */
afterAll(async () => {
	const latest = async () => {
		let after = 0;
		for (;;) {
			const page = (await (await ops(`/ops/flows?after=${after}&limit=1000`)).json()) as { cursor: number; events: unknown[] };
			if (page.events.length < 1000) return page.cursor;
			after = page.cursor;
		}
	};
	const deadline = Date.now() + 15_000;
	let last = await latest();
	while (Date.now() < deadline) {
		await new Promise((resolve) => setTimeout(resolve, 400));
		const now = await latest();
		if (now === last) return;
		last = now;
	}
}, 20_000);
