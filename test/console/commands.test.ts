// `ordersync replay` against a stubbed fetch: each id's outcome, as text and as JSON in the worker's
// own bulk-replay shape, and the exit code. The real worker answers in e2e.test.ts.
import { afterEach, describe, expect, it, vi } from "vitest";
import { EXIT } from "../../console/args";
import { runCommand } from "../../console/commands";

const ANSWERS: Record<string, [number, unknown]> = {
	q1: [200, { status: "replayed", order: "shopify-demo:1001" }],
	d1: [202, { status: "retrying", order: "shopify-demo:1002", delivery: "3pl.order" }],
	q2: [422, { error: { code: "still_invalid", message: "the stored payload still fails to parse" } }],
};

function replay(ids: string[], json: boolean) {
	vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
		expect(init.method).toBe("POST");
		const id = decodeURIComponent(/\/ops\/exceptions\/([^/]+)\/replay$/.exec(url)![1]!);
		const [status, body] = ANSWERS[id]!;
		return Response.json(body, { status });
	});
	const out: string[] = [];
	const err: string[] = [];
	const io = { out: (text: string) => void out.push(text), err: (text: string) => void err.push(text) };
	const code = runCommand({ name: "replay", ids, all: false, kind: null, text: null }, { url: "http://ordersync.test", token: "tok", json }, io);
	return code.then((exit) => ({ exit, out: out.join("\n"), err: err.join("\n") }));
}

afterEach(() => {
	vi.unstubAllGlobals();
});

describe("ordersync replay", () => {
	it("prints each id's outcome with --json in the bulk endpoint's names: httpStatus, and status for what happened", async () => {
		const { exit, out, err } = await replay(["q1", "d1", "q2"], true);
		expect(JSON.parse(out)).toEqual([
			{ id: "q1", ok: true, httpStatus: 200, status: "replayed", order: "shopify-demo:1001" },
			{ id: "d1", ok: true, httpStatus: 202, status: "retrying", order: "shopify-demo:1002", delivery: "3pl.order" },
			{ id: "q2", ok: false, httpStatus: 422, code: "still_invalid", message: "the stored payload still fails to parse" },
		]);
		expect(err).toBe("ordersync: q2: the stored payload still fails to parse");
		expect(exit).toBe(EXIT.failed);
	});

	it("says what happened to each id as text, and exits 0 when all of them went through", async () => {
		const some = await replay(["q1", "d1", "q2"], false);
		expect(some.out.split("\n")).toEqual([
			"ok    q1  replayed (shopify-demo:1001)",
			"ok    d1  retrying (shopify-demo:1002)",
			"fail  q2  422 still_invalid: the stored payload still fails to parse",
		]);
		expect(some.exit).toBe(EXIT.failed);
		expect(await replay(["q1", "d1"], false)).toMatchObject({ exit: EXIT.ok, err: "" });
	});
});
