// Driving the console in tests: render at a chosen terminal size, send real key sequences, wait
// for a frame to show something, and read frames without their colours.
import { render } from "ink-testing-library";
import type { ReactElement } from "react";

export const KEY = {
	up: "\u001B[A",
	down: "\u001B[B",
	right: "\u001B[C",
	left: "\u001B[D",
	pageUp: "\u001B[5~",
	pageDown: "\u001B[6~",
	home: "\u001B[H",
	end: "\u001B[F",
	enter: "\r",
	esc: "\u001B",
	tab: "\t",
	backspace: "\u007F",
} as const;

const ANSI = /\u001B\[[0-9;?]*[ -/]*[@-~]/g;
export const strip = (text: string) => text.replace(ANSI, "");

export type Ui = ReturnType<typeof render> & { frame(): string; press(...keys: string[]): Promise<void>; waitFor(test: string | RegExp | ((frame: string) => boolean), timeoutMs?: number): Promise<string> };

/** Renders at `columns` × `rows` (ink-testing-library's own stdout is 100 wide with no height). */
export function renderAt(tree: ReactElement, columns = 80, rows = 24): Ui {
	const ui = render(tree);
	Object.defineProperty(ui.stdout, "columns", { value: columns, configurable: true });
	Object.defineProperty(ui.stdout, "rows", { value: rows, configurable: true });
	ui.stdout.emit("resize");
	const frame = () => strip(ui.lastFrame() ?? "");
	return Object.assign(ui, {
		frame,
		/** Each key on its own, as a terminal sends them; a lone Esc needs Ink's 20 ms to tell it from a sequence. */
		async press(...keys: string[]) {
			for (const key of keys) {
				ui.stdin.write(key);
				await sleep(key === KEY.esc ? 60 : 20);
			}
		},
		// Generous: a busy 2-core CI box can take seconds to render a frame that is usually there in 50 ms.
		async waitFor(test: string | RegExp | ((frame: string) => boolean), timeoutMs = 10_000) {
			const ok = typeof test === "function" ? test : (f: string) => (typeof test === "string" ? f.includes(test) : test.test(f));
			const until = Date.now() + timeoutMs;
			for (;;) {
				const f = frame();
				if (ok(f)) return f;
				if (Date.now() > until) throw new Error(`timed out waiting for ${String(test)}; last frame:\n${f}`);
				await sleep(10);
			}
		},
	});
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
