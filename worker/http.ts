import type { z } from "zod";
import { formatIssues } from "./config";

export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
	return Response.json(body, { status, headers });
}

/** Every error body has one shape: `{ error: { code, message } }`. */
export function failure(status: number, code: string, message: string, headers?: HeadersInit): Response {
	return json({ error: { code, message } }, status, headers);
}

export function invalid(error: z.ZodError): Response {
	return failure(400, "invalid_request", formatIssues(error));
}

/** Reads a JSON body against a schema: the data, or the 400 that says exactly what is wrong. */
export async function readJson<S extends z.ZodType>(request: Request, schema: S): Promise<{ data: z.infer<S> } | { response: Response }> {
	let body: unknown;
	try {
		body = await request.json();
	} catch {
		return { response: failure(400, "invalid_json", "body is not JSON") };
	}
	const parsed = schema.safeParse(body);
	return parsed.success ? { data: parsed.data } : { response: invalid(parsed.error) };
}

const encoder = new TextEncoder();

/** Constant-time string comparison: both sides are hashed first so their lengths match. */
export async function safeEqual(a: string, b: string): Promise<boolean> {
	const [ha, hb] = await Promise.all([
		crypto.subtle.digest("SHA-256", encoder.encode(a)),
		crypto.subtle.digest("SHA-256", encoder.encode(b)),
	]);
	return crypto.subtle.timingSafeEqual(ha, hb);
}

export async function hasBearer(request: Request, token: string): Promise<boolean> {
	const header = request.headers.get("Authorization") ?? "";
	const match = /^Bearer\s+(\S+)$/i.exec(header);
	return match?.[1] !== undefined && (await safeEqual(match[1], token));
}

export class BodyTooLarge extends Error {}

/** Reads a request body up to `limit` bytes without buffering more than that. */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
	const declared = Number(request.headers.get("Content-Length") ?? "0");
	if (declared > limit) throw new BodyTooLarge();
	if (!request.body) return new Uint8Array();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
		size += chunk.byteLength;
		if (size > limit) throw new BodyTooLarge();
		chunks.push(chunk);
	}
	if (chunks.length === 1) return chunks[0]!;
	const body = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		body.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return body;
}
