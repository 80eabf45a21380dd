// The `ordersync` command: parses the command line, then runs a subcommand or renders the console.
import { PassThrough } from "node:stream";
import { constants } from "node:os";
import { render } from "ink";
import { OpsClient } from "./api";
import { App } from "./app";
import { EXIT, HELP, parseInvocation, UsageError } from "./args";
import { runCommand } from "./commands";
import { FlowStream } from "./stream";

/** Runs the command line; resolves with the exit code. */
export async function main(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
	let invocation;
	try {
		invocation = parseInvocation(argv, env);
	} catch (error) {
		if (!(error instanceof UsageError)) throw error;
		process.stderr.write(`ordersync: ${error.message}\n`);
		return EXIT.usage;
	}
	if (invocation.help) {
		process.stdout.write(`${HELP}\n`);
		return EXIT.ok;
	}
	const { command, url, token, json } = invocation;
	// `ordersync flows --follow | head` closes the pipe: the reader has what it wanted.
	process.stdout.on("error", (error: NodeJS.ErrnoException) => {
		if (error.code !== "EPIPE") throw error;
		process.exit(EXIT.ok);
	});
	try {
		return command.name === "console" ? await openConsole(url, token, env) : await runCommand(command, { url, token, json });
	} catch (error) {
		process.stderr.write(`ordersync: ${error instanceof Error ? error.message : String(error)}\n`);
		return EXIT.failed;
	}
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** The interactive console until `q`, Ctrl-C or a signal; the terminal is left as it was found. */
async function openConsole(url: string, token: string, env: Record<string, string | undefined>): Promise<number> {
	const ops = new OpsClient(url, token);
	const stream = new FlowStream(url, token);
	if (!process.stdout.isTTY) sizeFromEnv(process.stdout, env);
	const instance = render(<App ops={ops} stream={stream} url={url} />, {
		stdin: process.stdin.isTTY ? process.stdin : keysFrom(process.stdin),
		exitOnCtrlC: true,
		// Frames are written even into a pipe, so a script (or the end-to-end test) can watch the console.
		interactive: true,
		// A terminal gets a screen of its own, as less and htop do: on exit the shell's screen comes
		// back as it was, with no last frame left behind. A pipe gets the frames themselves.
		alternateScreen: Boolean(process.stdout.isTTY),
	});
	let code: number = EXIT.ok;
	const onSignal = (signal: (typeof SIGNALS)[number]) => {
		code = 128 + constants.signals[signal];
		instance.unmount();
	};
	for (const signal of SIGNALS) process.once(signal, onSignal);
	try {
		await instance.waitUntilExit();
	} catch (error) {
		process.stderr.write(`ordersync: ${error instanceof Error ? error.message : String(error)}\n`);
		code = EXIT.failed;
	} finally {
		for (const signal of SIGNALS) process.off(signal, onSignal);
		stream.close();
		if (process.stdout.isTTY) process.stdout.write("\u001B[?25h"); // the cursor, whatever happened
	}
	return code;
}

/**
 * Keys piped in (a script, a test) rather than typed: Ink reads keys only from a stream that says
 * it is a TTY in raw mode, so this one says so and passes the bytes through as they come.
 */
function keysFrom(input: NodeJS.ReadStream): NodeJS.ReadStream {
	const keys = new PassThrough();
	input.pipe(keys);
	return Object.assign(keys, {
		isTTY: true,
		setRawMode: () => keys,
		ref: () => keys,
		unref: () => keys,
	}) as unknown as NodeJS.ReadStream;
}

/** A pipe has no size: take COLUMNS and LINES (as a terminal would report them), else Ink's 80×24. */
function sizeFromEnv(output: NodeJS.WriteStream, env: Record<string, string | undefined>): void {
	const columns = Number(env.COLUMNS);
	const rows = Number(env.LINES);
	if (columns > 0) output.columns = columns;
	if (rows > 0) output.rows = rows;
}
