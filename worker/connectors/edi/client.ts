import { z } from "zod";
import { type CallResult, send } from "../call";
import type { EdiAccount, EdiCredentials } from "./account";
import { EDI_CONTENT_TYPE } from "./inbound";

export type { CallResult };

/** What the gateway said about one interchange. */
export type EdiDelivery = {
	/** ISA13 of the interchange sent. */
	control: string;
	/** The gateway already had this interchange (same sender, receiver and ISA13): a retry. */
	duplicate: boolean;
	status: number;
};

// The gateway's answer; only these fields are read, and a gateway that sends none is fine.
const Answer = z.looseObject({ status: z.string().optional(), duplicate: z.boolean().optional() });

/**
 * POSTs one interchange to the partner's gateway with the bearer token. The gateway de-duplicates
 * on (ISA06, ISA08, ISA13), as X12 receivers do, so re-sending the same interchange after a lost
 * response does not deliver it twice. 408/429/5xx and network failures are retryable (with the
 * gateway's Retry-After); other 4xx are not (401 bad token, 400 refused interchange, 409 control
 * number already used for a different interchange).
 */
export async function postEdiDocument(account: EdiAccount, credentials: EdiCredentials, interchange: string, options: { timeoutMs: number }): Promise<CallResult<EdiDelivery>> {
	const control = /^ISA.{99}/s.test(interchange) ? interchange.slice(90, 99) : "";
	const url = account.endpoint ?? account.gatewayUrl;
	const result = await send(
		url,
		{
			method: "POST",
			headers: { Authorization: `Bearer ${credentials.token}`, "Content-Type": EDI_CONTENT_TYPE, Accept: "application/json" },
			body: interchange,
		},
		{ timeoutMs: options.timeoutMs },
	);
	if (!result.ok) return { ...result, error: `EDI gateway POST ${new URL(url).pathname} (ISA13 ${control}): ${result.error}` };
	const response = result.response;
	const text = await response.text().catch(() => "");
	let answer: z.infer<typeof Answer> = {};
	try {
		const parsed = Answer.safeParse(JSON.parse(text));
		if (parsed.success) answer = parsed.data;
	} catch {
		// a plain-text or empty 2xx is an acceptance too
	}
	return { ok: true, value: { control, duplicate: answer.duplicate === true || answer.status === "duplicate", status: response.status } };
}
