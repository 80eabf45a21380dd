// The console bundled for Node with esbuild (Node cannot run its TypeScript/TSX): console/bin.mjs
// builds the command from cli.tsx, bench/console.mjs the parts it drives, with the same options.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { build } from "esbuild";

/** Bundles `input` (esbuild's `entryPoints` or `stdin`) into `outfile`; throws when it does not build. */
export async function bundleConsole(input, outfile) {
	const result = await build({
		...input,
		platform: "node",
		format: "esm",
		target: "node22",
		bundle: true,
		// Ink, React and zod are imported from node_modules as they are.
		packages: "external",
		jsx: "automatic",
		write: false,
		outfile,
		logLevel: "error",
	});
	mkdirSync(dirname(outfile), { recursive: true });
	// Written aside and renamed: two consoles starting at once never import half a file.
	const temporary = `${outfile}.${process.pid}.tmp`;
	writeFileSync(temporary, result.outputFiles[0].contents);
	renameSync(temporary, outfile);
}
