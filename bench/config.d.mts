// Types for what TypeScript code imports from bench/config.mjs (the console's e2e harness).
import type { BuildOptions } from "esbuild";

export declare const WORKERD_BUNDLE: BuildOptions;
