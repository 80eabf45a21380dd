import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { GateLimits } from "../durable-objects/delivery-gate";

const limits: GateLimits = { concurrency: 2, leaseMs: 5_000, failures: 3, cooldownMs: 200 };
const gate = () => env.DELIVERY_GATE.getByName(`test:${crypto.randomUUID()}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a destination's gate, shared by every object that delivers there", () => {
	it("admits at most the limit at once, and a released slot is free again", async () => {
		const g = gate();
		expect(await g.acquire("order-a/1", limits)).toMatchObject({ ok: true });
		expect(await g.acquire("order-b/1", limits)).toMatchObject({ ok: true });
		const third = await g.acquire("order-c/1", limits);
		expect(third).toMatchObject({ ok: false });
		expect(third.ok === false && third.reason).toContain("limit 2");
		// The same holder asking again (a retry after a crash) does not take a second slot.
		expect(await g.acquire("order-a/1", limits)).toMatchObject({ ok: true });
		await g.release("order-a/1", { ok: true }, limits);
		expect(await g.acquire("order-c/1", limits)).toMatchObject({ ok: true });
	});

	it("tells a longer queue to come back later, instead of having everyone poll", async () => {
		const g = gate();
		await g.acquire("a/1", limits);
		await g.acquire("b/1", limits);
		const waits: number[] = [];
		for (let i = 0; i < 10; i++) {
			const permit = await g.acquire(`queued-${i}/1`, limits);
			waits.push(permit.ok ? 0 : permit.waitMs);
		}
		// First in line: about half a slot's hold time; tenth: about five holds.
		expect(waits[0]).toBeLessThan(100);
		expect(waits[9]).toBeGreaterThan(250);
		expect(await g.status(limits)).toMatchObject({ inFlight: 2, waiting: 10 });
	});

	it("frees the slot of a holder that never came back once its lease runs out", async () => {
		const g = gate();
		const short = { ...limits, concurrency: 1, leaseMs: 100 };
		expect(await g.acquire("crashed/1", short)).toMatchObject({ ok: true });
		expect(await g.acquire("waiting/1", short)).toMatchObject({ ok: false });
		await sleep(150);
		expect(await g.acquire("waiting/1", short)).toMatchObject({ ok: true });
	});

	it("opens the circuit after consecutive failures, lets one probe through after the cooldown, and closes on its success", async () => {
		const g = gate();
		for (let i = 0; i < 3; i++) {
			await g.acquire(`o${i}/1`, limits);
			await g.release(`o${i}/1`, { ok: false, retryable: true, error: "503" }, limits);
		}
		const refused = await g.acquire("o9/1", limits);
		expect(refused.ok).toBe(false);
		expect(refused.ok === false && refused.reason).toContain("circuit open");
		expect(await g.status(limits)).toMatchObject({ circuit: "open", consecutiveFailures: 3, lastError: "503" });

		await sleep(refused.ok === false ? Math.min(refused.waitMs, 1_500) : 0);
		const probe = await g.acquire("probe/1", limits);
		expect(probe).toEqual({ ok: true, probe: true });
		// While the probe is out, nobody else goes.
		expect(await g.acquire("other/1", limits)).toMatchObject({ ok: false });
		// A failed probe re-opens it for another cooldown.
		await g.release("probe/1", { ok: false, retryable: true, error: "still 503" }, limits);
		expect(await g.status(limits)).toMatchObject({ circuit: "open" });
		await sleep(1_300);
		expect(await g.acquire("probe/2", limits)).toEqual({ ok: true, probe: true });
		await g.release("probe/2", { ok: true }, limits);
		expect(await g.status(limits)).toMatchObject({ circuit: "closed", consecutiveFailures: 0 });
		expect(await g.acquire("other/1", limits)).toEqual({ ok: true, probe: false });
	});

	it("does not count refusals (4xx) or throttling against the circuit, but pauses everyone for Retry-After", async () => {
		const g = gate();
		for (let i = 0; i < 5; i++) {
			await g.acquire(`o${i}/1`, limits);
			await g.release(`o${i}/1`, { ok: false, retryable: false, error: "400" }, limits);
		}
		expect(await g.status(limits)).toMatchObject({ circuit: "closed" });
		await g.acquire("t/1", limits);
		await g.release("t/1", { ok: false, retryable: true, retryAfterMs: 300, error: "429" }, limits);
		const paused = await g.acquire("next/1", limits);
		expect(paused.ok === false && paused.reason).toBe("rate limited by the destination");
		expect(paused.ok === false && paused.waitMs).toBeGreaterThan(200);
		await sleep(350);
		expect(await g.acquire("next/1", limits)).toMatchObject({ ok: true });
		expect(await g.status(limits)).toMatchObject({ circuit: "closed", consecutiveFailures: 0 });
	});
});
