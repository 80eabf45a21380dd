#!/usr/bin/env node
// `ordersync`: Node cannot run the console's TypeScript/TSX, so it is bundled (build.mjs) into
// node_modules/.cache/ordersync/console.mjs, again only when a console source is newer than that.
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
	process.stderr.write(`ordersync: needs Node 22.12 or newer (this is ${process.version})\n`);
	process.exit(1);
}

const sources = dirname(fileURLToPath(import.meta.url));
const bundle = join(sources, "..", "node_modules", ".cache", "ordersync", "console.mjs");

function mtime(path) {
	try {
		return statSync(path).mtimeMs;
	} catch {
		return -1;
	}
}

function newestSource() {
	let newest = 0;
	for (const entry of readdirSync(sources, { recursive: true, withFileTypes: true })) {
		if (entry.isFile() && /\.tsx?$/.test(entry.name)) newest = Math.max(newest, mtime(join(entry.parentPath, entry.name)));
	}
	return newest;
}

if (mtime(bundle) < newestSource()) {
	const { bundleConsole } = await import("./build.mjs");
	try {
		await bundleConsole({ entryPoints: [join(sources, "cli.tsx")] }, bundle);
	} catch {
		process.stderr.write("ordersync: the console's sources do not build (esbuild's errors are above)\n");
		process.exit(1);
	}
}

// React's production build: the development one costs the console about twice the CPU.
process.env.NODE_ENV ??= "production";
const { main } = await import(pathToFileURL(bundle).href);
const code = await main(process.argv.slice(2));
// Exit once what was written has drained: a console's piped stdin or an idle keep-alive socket
// would otherwise keep the process up.
await new Promise((resolve) => process.stdout.write("", resolve));
await new Promise((resolve) => process.stderr.write("", resolve));
process.exit(code);
