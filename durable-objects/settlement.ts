import { DurableObject } from "cloudflare:workers";
import { formatIssues, loadConfig } from "../worker/config";
import type { CallResult } from "../worker/connectors/call";
import type { Env } from "../worker/env";
import { orderKey } from "../worker/model/order";
import { Payout } from "../worker/model/settlement";
import { destination, send } from "./destinations";
import { type FlowEventInput, flowMonitor, noteFlows } from "./flow-monitor";
import { type Delivery, OUTBOX_MIGRATION, Outbox } from "./outbox";
import { depositTotal, type OrderFacts, type Reconciliation, reconcile } from "./reconcile";
import { migrate } from "./schema";

export const MIGRATIONS = [
	`CREATE TABLE payout (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		payout_key TEXT NOT NULL,
		body TEXT NOT NULL,
		digest TEXT NOT NULL,
		via TEXT NOT NULL,
		raw TEXT,
		received_at TEXT NOT NULL,
		status TEXT NOT NULL CHECK (status IN ('matching', 'reconciled')),
		reconciliation TEXT,
		deposit TEXT,
		reconciled_at TEXT
	);
	${OUTBOX_MIGRATION}`,
];

/** Outbox owners that are payouts: `payout/<connection>:<payout id>` (no order key starts so). */
export const PAYOUT_OWNER_PREFIX = "payout/";
/** Orders asked at once while matching (each is one RPC to its object). */
const MATCH_BATCH = 50;
/** Raw files are kept for audit while they fit comfortably in a row (SQLite's limit is 2 MB). */
const MAX_RAW_BYTES = 1_500_000;
const BACKSTOP_MS = 5_000;
/** What this object posts to the ERP; once one is delivered, the payout is in the books. */
const ERP_POSTINGS = ["erp.payment", "erp.refund-payment", "erp.deposit"];

type PayoutRow = {
	payout_key: string;
	body: string;
	digest: string;
	via: string;
	raw: string | null;
	received_at: string;
	status: "matching" | "reconciled";
	reconciliation: string | null;
	deposit: string | null;
	reconciled_at: string | null;
};

export type IngestPayoutOutcome =
	| { ok: true; status: "reconciled" | "duplicate"; report: PayoutReport }
	| { ok: false; code: "payout_changed" | "invalid_payout"; message: string };

export type PayoutReport = NonNullable<ReturnType<Settlement["report"]>>;

/**
 * One payout (a Shopify Payments payout, a TikTok Shop statement, an Amazon settlement), addressed
 * `<connection>:<payout id>`. It stores the payout before anything else, matches each line to its
 * order (asking each order's object what it is owed), and posts to the ERP through its outbox: a
 * payment per order, a refund per refund paid out, then the bank deposit once they are all in.
 * The same payout again changes nothing; a payout whose lines changed after it was posted is
 * refused, so the books never hold two versions of it.
 */
export class Settlement extends DurableObject<Env> {
	#sql: SqlStorage;
	#outbox: Outbox;
	#matching: Promise<void> | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		migrate(ctx.storage, MIGRATIONS);
		this.#outbox = new Outbox(this.#sql, env, {
			owner: () => `${PAYOUT_OWNER_PREFIX}${this.#row()?.payout_key ?? ctx.id.toString()}`,
			send: (delivery, payload, timeoutMs) => this.#send(delivery, payload, timeoutMs),
			delivered: (delivery) => this.#delivered(delivery),
			note: (events) => this.#emit(events),
		});
		if (this.#outbox.pendingCount() > 0 || this.#row()?.status === "matching") {
			void ctx.blockConcurrencyWhile(async () => {
				if ((await ctx.storage.getAlarm()) === null) await ctx.storage.setAlarm(Date.now());
			}).catch(() => {});
		}
	}

	/** Stores the payout (before it is acknowledged), then matches and queues its postings. */
	async ingest(input: unknown, source: { via: "upload" | "api"; raw?: string }): Promise<IngestPayoutOutcome> {
		const parsed = Payout.safeParse(input);
		if (!parsed.success) return { ok: false, code: "invalid_payout", message: formatIssues(parsed.error) };
		const payout = parsed.data;
		const body = JSON.stringify(payout);
		const digest = await sha256(body);
		const outcome = this.ctx.storage.transactionSync(() => {
			const row = this.#row();
			if (row?.digest === digest) return "duplicate" as const;
			if (row && this.#outbox.has(ERP_POSTINGS, ["delivered"])) return "changed" as const;
			// A payout re-sent with new lines before anything was posted starts over (this object owns its outbox table).
			this.#sql.exec("DELETE FROM deliveries");
			this.#sql.exec(
				`INSERT INTO payout (id, payout_key, body, digest, via, raw, received_at, status) VALUES (1, ?, ?, ?, ?, ?, ?, 'matching')
				 ON CONFLICT (id) DO UPDATE SET body = excluded.body, digest = excluded.digest, via = excluded.via, raw = excluded.raw,
				 received_at = excluded.received_at, status = 'matching', reconciliation = NULL, deposit = NULL, reconciled_at = NULL`,
				`${payout.connection}:${payout.payoutId}`, body, digest, source.via, source.raw && source.raw.length <= MAX_RAW_BYTES ? source.raw : null, new Date().toISOString(),
			);
			return "stored" as const;
		});
		if (outcome === "changed") {
			return { ok: false, code: "payout_changed", message: `payout ${payout.payoutId} was already posted with other lines; an operator must reverse it in the ERP first` };
		}
		if (outcome === "stored") {
			await this.ctx.storage.setAlarm(Date.now() + BACKSTOP_MS);
			this.#emit([{ type: "payout.received", detail: `${payout.lines.length} lines, ${payout.total.amount} ${payout.currency} (${source.via})` }]);
		}
		await this.#match();
		return { ok: true, status: outcome === "duplicate" ? "duplicate" : "reconciled", report: this.report()! };
	}

	/** The reconciliation report: totals, each line's match, exceptions, and where the ERP postings stand. */
	report() {
		const row = this.#row();
		if (!row) return null;
		const payout = Payout.parse(JSON.parse(row.body));
		const reconciliation = row.reconciliation === null ? null : (JSON.parse(row.reconciliation) as Reconciliation);
		const deliveries = this.#outbox.list();
		return {
			payoutKey: row.payout_key,
			connection: payout.connection,
			channel: payout.channel,
			payoutId: payout.payoutId,
			currency: payout.currency,
			total: payout.total.amount,
			periodStart: payout.periodStart ?? null,
			periodEnd: payout.periodEnd ?? null,
			paidAt: payout.paidAt ?? null,
			via: row.via,
			receivedAt: row.received_at,
			status: row.status,
			reconciledAt: row.reconciled_at,
			summary: reconciliation?.summary ?? null,
			exceptions: reconciliation?.exceptions ?? [],
			lines: reconciliation?.lines ?? [],
			postings: reconciliation?.postings ?? null,
			erp: erpStatus(deliveries, row.deposit !== null),
			deliveries,
		};
	}

	delivery(id: string): Delivery | null {
		return this.#outbox.get(id);
	}

	/** Operator: send a dead delivery again. Its payload is what reconciliation decided, so it is not edited here. */
	retryDelivery(id: string, payload?: unknown): { ok: true } | { ok: false; code: string; message: string } {
		if (payload !== undefined) return { ok: false, code: "invalid_payload", message: "a payout's postings follow from its reconciliation; fix the mapping and re-send the payout instead" };
		const result = this.#outbox.retry(id);
		if (result.ok) void this.#runOutbox();
		return result;
	}

	cancelDelivery(id: string, by: string) {
		return this.#outbox.abandon(id, by);
	}

	override async alarm(): Promise<void> {
		if (this.#row()?.status === "matching") await this.#match();
		await this.#outbox.run();
		await this.#schedule();
	}

	/** Matches the stored payout once; concurrent callers share the run. Safe to repeat after a crash. */
	#match(): Promise<void> {
		this.#matching ??= this.#matchOnce().finally(() => {
			this.#matching = null;
		});
		return this.#matching;
	}

	async #matchOnce(): Promise<void> {
		const row = this.#row();
		if (!row || row.status !== "matching") return;
		const payout = Payout.parse(JSON.parse(row.body));
		const key = row.payout_key;
		const ids = [...new Set(payout.lines.flatMap((l) => (l.channelOrderId ? [l.channelOrderId] : [])))];
		const facts = new Map<string, OrderFacts | null>();
		for (let i = 0; i < ids.length; i += MATCH_BATCH) {
			const batch = ids.slice(i, i + MATCH_BATCH);
			const answers = await Promise.all(batch.map((id) => this.env.ORDER_FLOW.getByName(orderKey(payout.connection, id)).settlementFacts(key)));
			batch.forEach((id, n) => facts.set(id, answers[n] ?? null));
		}
		const config = loadConfig(this.env);
		const erp = config.erp;
		const booking = erp?.connections[payout.connection] ?? null;
		const accounts = erp?.accounts ?? { clearing: "", variance: "", fees: {} };
		const result = reconcile(payout, facts, accounts, booking);
		const post = erp !== undefined && booking !== null;
		if (post && depositTotal(result.postings) !== payout.total.amount) {
			// reconcile() books every difference to variance; a deposit that does not add up is a bug, not data.
			throw new Error(`payout ${key}: deposit comes to ${depositTotal(result.postings)}, the payout is ${payout.total.amount}`);
		}
		if (post && payout.total.amount <= 0) {
			result.exceptions.push({ id: "debit", reason: `the payout is ${payout.total.amount} ${payout.currency}: a debit from the bank is not a deposit; book it by hand`, variance: 0 });
		}
		const tranDate = (payout.paidAt ?? payout.periodEnd ?? new Date().toISOString()).slice(0, 10);
		const grossByOrder = new Map<string, number>();
		for (const line of result.lines) {
			if (line.kind === "order" && line.orderKey && line.status !== "unknown_order" && line.status !== "currency_mismatch") {
				grossByOrder.set(line.orderKey, (grossByOrder.get(line.orderKey) ?? 0) + line.amount);
			}
		}
		this.ctx.storage.transactionSync(() => {
			if (this.#row()?.digest !== row.digest) return; // re-sent meanwhile: that version matches next
			// Each order learns what this payout paid for it, so the next payout's matching knows.
			for (const [order, gross] of grossByOrder) {
				this.#outbox.enqueue({ id: `order.settled:${order}`, kind: "order.settled", destination: destination.internalOrder, payload: { orderKey: order, payoutKey: key, gross } });
			}
			let deposit: unknown = null;
			if (post && erp && payout.total.amount > 0) {
				const to = destination.erp(erp.id);
				const common = { payoutKey: key, connection: payout.connection, currency: payout.currency, tranDate };
				for (const p of result.postings.payments) {
					if (p.type !== "customerDeposit") continue;
					this.#outbox.enqueue({ id: `erp.payment:${p.orderKey}`, kind: "erp.payment", destination: to, payload: { ...common, orderKey: p.orderKey, orderName: p.orderName, externalId: p.externalId, amount: p.amount } });
				}
				for (const r of result.postings.refunds) {
					this.#outbox.enqueue({ id: `erp.refund-payment:${r.lineId}`, kind: "erp.refund-payment", destination: to, payload: { ...common, orderKey: r.orderKey, orderName: r.orderName, externalId: r.externalId, amount: r.amount } });
				}
				deposit = {
					...common,
					memo: `${payout.channel} payout ${payout.payoutId}${payout.periodStart ? ` (${payout.periodStart.slice(0, 10)} – ${(payout.periodEnd ?? "").slice(0, 10)})` : ""}`,
					payments: result.postings.payments.map((p) => ({ type: p.type, externalId: p.externalId, amount: p.amount })),
					other: result.postings.other,
					cashBack: result.postings.cashBack,
				};
			}
			this.#sql.exec(
				"UPDATE payout SET status = 'reconciled', reconciliation = ?, deposit = ?, reconciled_at = ? WHERE id = 1",
				JSON.stringify(result), deposit === null ? null : JSON.stringify(deposit), new Date().toISOString(),
			);
			this.#queueDepositIfReady();
		});
		const monitor = flowMonitor(this.env);
		await Promise.all(
			result.exceptions.map((e) =>
				monitor
					.raise({ id: `settlement:${key}:${e.id}`, kind: "settlement", orderKey: result.lines.find((l) => l.id === e.id)?.orderKey, reason: `payout ${payout.payoutId}: ${e.reason}${e.variance ? ` (variance ${e.variance} ${payout.currency})` : ""}` })
					.catch(() => {}),
			),
		);
		const { matched } = result.summary;
		this.#emit([{ type: "payout.reconciled", detail: `${matched.lines}/${matched.of} matched, ${result.exceptions.length} exception${result.exceptions.length === 1 ? "" : "s"}` }]);
		await this.#index();
		void this.#runOutbox();
	}

	/** The deposit goes once every payment and refund it takes in is in the ERP. */
	#queueDepositIfReady(): void {
		const row = this.#row();
		if (!row?.deposit || this.#outbox.get("erp.deposit")) return;
		// A dead or cancelled receipt holds the deposit back too: it must not go out without it.
		if (this.#outbox.has(["erp.payment", "erp.refund-payment"], ["pending", "dead", "cancelled"])) return;
		const erp = loadConfig(this.env).erp!;
		this.#outbox.enqueue({ id: "erp.deposit", kind: "erp.deposit", destination: destination.erp(erp.id), payload: JSON.parse(row.deposit) });
	}

	#send(delivery: Delivery, payload: unknown, timeoutMs: number): Promise<CallResult<unknown>> {
		if (delivery.kind === "order.settled") {
			const { orderKey: key, payoutKey, gross } = payload as { orderKey: string; payoutKey: string; gross: number };
			return this.env.ORDER_FLOW.getByName(key)
				.recordSettlement(payoutKey, gross)
				.then(() => ({ ok: true as const, value: null }));
		}
		return send(this.env, delivery.kind, delivery.destination, payload, timeoutMs);
	}

	#delivered(delivery: Delivery): FlowEventInput[] {
		this.#queueDepositIfReady();
		if (delivery.kind === "erp.deposit") {
			const ref = delivery.result as { id?: string } | null;
			void this.#index();
			return [{ type: "payout.posted", detail: `deposit ${ref?.id ?? "?"} in ${delivery.destination.slice("erp:".length)}` }];
		}
		return [];
	}

	#runOutbox(): Promise<void> {
		return this.#outbox
			.run()
			.then(() => this.#schedule())
			.then(() => this.#index())
			.catch(() => {});
	}

	async #schedule(): Promise<void> {
		const next = this.#row()?.status === "matching" ? Date.now() + BACKSTOP_MS : this.#outbox.nextDueMs();
		if (next === null) await this.ctx.storage.deleteAlarm();
		else await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
	}

	/** Keeps the payouts list (FlowMonitor) in step with this payout. */
	async #index(): Promise<void> {
		const report = this.report();
		if (!report) return;
		await flowMonitor(this.env)
			.notePayout({
				payoutKey: report.payoutKey,
				connection: report.connection,
				channel: report.channel,
				payoutId: report.payoutId,
				currency: report.currency,
				total: report.total,
				paidAt: report.paidAt,
				status: report.status === "matching" ? "matching" : report.erp,
				summary: report.summary,
				exceptions: report.exceptions.length,
			})
			.catch(() => {});
	}

	#emit(events: FlowEventInput[]): void {
		const key = this.#row()?.payout_key;
		if (!key || events.length === 0) return;
		noteFlows(this.ctx, this.env, events.map((e) => ({ ...e, connection: key.slice(0, key.indexOf(":")), detail: `payout ${key.slice(key.indexOf(":") + 1)}: ${e.detail ?? ""}` })));
	}

	#row(): PayoutRow | null {
		return this.#sql.exec<PayoutRow>("SELECT * FROM payout WHERE id = 1").toArray()[0] ?? null;
	}
}

/** Where the ERP postings stand: not booked (no ERP for this connection), posting, posted, or failed (a dead letter). */
function erpStatus(deliveries: Delivery[], hasDeposit: boolean): "reconciled" | "posting" | "posted" | "failed" {
	const erp = deliveries.filter((d) => d.kind.startsWith("erp."));
	if (erp.some((d) => d.status === "dead")) return "failed";
	if (deliveries.find((d) => d.id === "erp.deposit")?.status === "delivered") return "posted";
	return hasDeposit ? "posting" : "reconciled";
}

async function sha256(text: string): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
	return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
