import { loadConfig } from "../worker/config";
import type { Env } from "../worker/env";
import { REDACTED, isX12, replaceValues, scrubJson, scrubRaw, scrubX12, subjectHashes, textSubjects, uniqueValues } from "../worker/model/personal-data";
import type { PersonalData, RedactOutcome } from "./order-flow";

/**
 * FlowMonitor's privacy tables (its own migration list adds this text). The index of who each
 * order belongs to holds SHA-256 digests only; requests hold their scope as digests and order ids.
 */
export const PRIVACY_MIGRATION = `CREATE TABLE privacy_orders (order_key TEXT PRIMARY KEY, connection TEXT NOT NULL, indexed_at TEXT NOT NULL);
	CREATE INDEX privacy_orders_by_connection ON privacy_orders (connection);
	CREATE TABLE privacy_subjects (hash TEXT NOT NULL, order_key TEXT NOT NULL, PRIMARY KEY (hash, order_key));
	CREATE INDEX privacy_subjects_by_order ON privacy_subjects (order_key);
	CREATE TABLE privacy_requests (
		id TEXT PRIMARY KEY,
		kind TEXT NOT NULL CHECK (kind IN ('redact', 'export')),
		source TEXT NOT NULL,
		connection TEXT NOT NULL,
		scope TEXT NOT NULL,
		status TEXT NOT NULL CHECK (status IN ('pending', 'partial', 'done')),
		attempts INTEGER NOT NULL DEFAULT 0,
		next_at_ms INTEGER,
		last_error TEXT,
		result TEXT,
		created_at TEXT NOT NULL,
		updated_at TEXT NOT NULL
	);
	CREATE INDEX privacy_requests_due ON privacy_requests (status, next_at_ms);`;

/** Whose data a request is about, without naming them: order ids and digests (see subjectHashes). */
export type PrivacyScope = {
	connection: string;
	/** Channel order ids the request names (Shopify orders_to_redact / orders_requested). */
	orders: string[];
	/** SHA-256 digests of the subject's normalized email, phone and channel customer id. */
	subjects: string[];
	/** Everything of the connection (Shopify shop/redact). */
	shop: boolean;
};

export type PrivacyRequestInput = { id: string; kind: "redact" | "export"; source: string; scope: PrivacyScope };

export type PrivacyResult = {
	orders: Array<{ orderKey: string; changed: number; held: string[] }>;
	/** Keys asked for that ordersync never saw. */
	unknown: string[];
	partners: Array<{ connection: string; changed: number }>;
	quarantined: number;
	monitorRows: number;
};

type RequestRow = {
	id: string;
	kind: "redact" | "export";
	source: string;
	connection: string;
	scope: string;
	status: "pending" | "partial" | "done";
	attempts: number;
	next_at_ms: number | null;
	last_error: string | null;
	result: string | null;
	created_at: string;
	updated_at: string;
};

type QuarantineRow = { id: string; event_id: string | null; raw_body: string | null; reason: string };

/** Orders redacted at once (each one RPC to its object). */
const BATCH = 20;
/** A request that had to leave a pending delivery's payload alone looks again this often. */
const RECHECK_MS = 15 * 60_000;
const MAX_BACKOFF_MS = 10 * 60_000;
/** SQLite takes at most 100 bound parameters per statement. */
const CHUNK = 90;

function chunks<T>(items: T[], size = CHUNK): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
	return out;
}

const marks = (n: number) => Array.from({ length: n }, () => "?").join(", ");

/**
 * Privacy requests, kept by the FlowMonitor (the one object that indexes every order): each is
 * stored before it is acknowledged, then carried out from here and from the alarm until done, so
 * a crash midway only means it runs again; every step is idempotent. Redaction asks each order's
 * object to scrub itself, then the EDI partners' objects, then scrubs this object's own rows
 * (quarantined bodies, flow details, exception reasons). Exports are assembled when read, so no
 * copy of anyone's data is ever stored here.
 */
export class PrivacyDesk {
	#running: Promise<void> | null = null;
	#again = false;

	constructor(
		private readonly ctx: DurableObjectState,
		private readonly env: Env,
	) {
		// Repair: an unfinished request whose alarm was lost (a crash) gets one.
		const open = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM privacy_requests WHERE status IN ('pending', 'partial')").one().n;
		if (open > 0) {
			void ctx.blockConcurrencyWhile(async () => {
				if ((await ctx.storage.getAlarm()) === null) await ctx.storage.setAlarm(Date.now());
			}).catch(() => {});
		}
	}

	get #sql(): SqlStorage {
		return this.ctx.storage.sql;
	}

	/** Who an order belongs to (digests), added to as versions arrive; never pruned by age. */
	index(input: { orderKey: string; connection: string; subjects: string[] }): void {
		this.ctx.storage.transactionSync(() => {
			this.#sql.exec(
				"INSERT INTO privacy_orders (order_key, connection, indexed_at) VALUES (?, ?, ?) ON CONFLICT (order_key) DO NOTHING",
				input.orderKey, input.connection, new Date().toISOString(),
			);
			for (const hash of input.subjects) {
				this.#sql.exec("INSERT INTO privacy_subjects (hash, order_key) VALUES (?, ?) ON CONFLICT DO NOTHING", hash, input.orderKey);
			}
		});
	}

	/** Stores a request once (the same id again changes nothing) and starts a redaction at once. */
	record(input: PrivacyRequestInput): { id: string; created: boolean; status: RequestRow["status"] } {
		const now = Date.now();
		const created = this.ctx.storage.transactionSync(() => {
			if (this.#row(input.id)) return false;
			this.#sql.exec(
				`INSERT INTO privacy_requests (id, kind, source, connection, scope, status, next_at_ms, created_at, updated_at)
				 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				input.id, input.kind, input.source, input.scope.connection, JSON.stringify(input.scope),
				input.kind === "redact" ? "pending" : "done", input.kind === "redact" ? now : null, new Date(now).toISOString(), new Date(now).toISOString(),
			);
			return true;
		});
		if (created && input.kind === "redact") {
			void this.ctx.storage.setAlarm(now + 1_000); // the backstop, should this run be cut short
			void this.run().catch(() => {});
		}
		return { id: input.id, created, status: this.#row(input.id)!.status };
	}

	/** A request and where it stands; an export request carries the data held now. */
	async view(id: string) {
		const row = this.#row(id);
		if (!row) return null;
		const scope = JSON.parse(row.scope) as PrivacyScope;
		return {
			id: row.id,
			kind: row.kind,
			source: row.source,
			connection: row.connection,
			scope: { orders: scope.orders, subjects: scope.subjects.length, shop: scope.shop },
			status: row.status,
			attempts: row.attempts,
			lastError: row.last_error,
			createdAt: row.created_at,
			updatedAt: row.updated_at,
			result: row.result === null ? null : (JSON.parse(row.result) as PrivacyResult),
			/** What is held now (exports only). */
			...(row.kind === "export" ? { data: await this.#export(scope) } : {}),
		};
	}

	/** Carries out every due redaction; concurrent callers share one run. Re-arms the alarm for what is left. */
	run(): Promise<void> {
		if (this.#running) {
			this.#again = true;
			return this.#running;
		}
		this.#running = (async () => {
			do {
				this.#again = false;
				const due = this.#sql
					.exec<RequestRow>("SELECT * FROM privacy_requests WHERE status IN ('pending', 'partial') AND next_at_ms <= ? ORDER BY created_at", Date.now())
					.toArray();
				for (const row of due) await this.#process(row);
			} while (this.#again);
			const next = this.#sql.exec<{ n: number | null }>("SELECT MIN(next_at_ms) AS n FROM privacy_requests WHERE status IN ('pending', 'partial')").one().n;
			if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
		})().finally(() => {
			this.#running = null;
		});
		return this.#running;
	}

	async #process(row: RequestRow): Promise<void> {
		const scope = JSON.parse(row.scope) as PrivacyScope;
		try {
			const keys = await this.#resolveWithUnindexed(scope);
			const outcomes: RedactOutcome[] = [];
			for (const batch of chunks(keys, BATCH)) {
				outcomes.push(...(await Promise.all(batch.map((key) => this.env.ORDER_FLOW.getByName(key).redact({ requestId: row.id })))));
			}
			const redacted = outcomes.filter((o) => o.ok);
			const values = uniqueValues(redacted.flatMap((o) => o.values.map((value) => ({ path: "", value }))));

			// EDI partners keep the interchanges (and their hand-offs) the orders came in.
			const partners: PrivacyResult["partners"] = [];
			const byPartner = new Map<string, string[]>();
			for (const o of redacted) if (o.channel === "edi") byPartner.set(o.connection, [...(byPartner.get(o.connection) ?? []), o.channelOrderId]);
			const { connections } = loadConfig(this.env);
			if (scope.shop && connections.get(scope.connection)?.channel === "edi" && !byPartner.has(scope.connection)) byPartner.set(scope.connection, []);
			for (const [connection, poNumbers] of byPartner) {
				const outcome = await this.env.TRADING_PARTNER.getByName(connection).redact({ requestId: row.id, poNumbers: scope.shop ? null : poNumbers, values });
				partners.push({ connection, changed: outcome.changed });
			}

			// Quarantined bodies no order could take: matched by the subject's digests, or the order ids.
			const wanted = new Set([...scope.subjects, ...subjectHashes({ emails: values, phones: values })]);
			const orderIds = new Set([...scope.orders, ...redacted.map((o) => o.channelOrderId)]);
			const matched: QuarantineRow[] = [];
			for (const q of this.#quarantined(scope.connection)) {
				if (scope.shop || mentionsOrder(q.raw_body ?? "", orderIds) || textSubjects(q.raw_body ?? "").some((h) => wanted.has(h))) matched.push(q);
			}

			const held = redacted.flatMap((o) => o.held);
			this.ctx.storage.transactionSync(() => {
				const monitorRows = this.#scrubOwn(scope.connection, redacted.map((o) => o.orderKey), matched, values);
				const result: PrivacyResult = {
					orders: redacted.map((o) => ({ orderKey: o.orderKey, changed: o.changed, held: o.held })),
					unknown: outcomes.flatMap((o, n) => (o.ok ? [] : [keys[n]!])),
					partners,
					quarantined: matched.length,
					monitorRows,
				};
				// The index forgets these orders now, so the recheck must name the ones still holding data.
				const holding = redacted.filter((o) => o.held.length > 0).map((o) => o.channelOrderId);
				const nextScope: PrivacyScope = { ...scope, orders: [...new Set([...scope.orders, ...holding])] };
				this.#sql.exec(
					"UPDATE privacy_requests SET status = ?, next_at_ms = ?, last_error = NULL, result = ?, scope = ?, updated_at = ? WHERE id = ?",
					held.length > 0 ? "partial" : "done", held.length > 0 ? Date.now() + RECHECK_MS : null, JSON.stringify(result), JSON.stringify(nextScope), new Date().toISOString(), row.id,
				);
			});
		} catch (error) {
			const attempts = row.attempts + 1;
			this.#sql.exec(
				"UPDATE privacy_requests SET attempts = ?, last_error = ?, next_at_ms = ?, updated_at = ? WHERE id = ?",
				attempts, error instanceof Error ? error.message : String(error), Date.now() + Math.random() * Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** attempts),
				new Date().toISOString(), row.id,
			);
		}
	}

	/**
	 * As #resolve, plus the connection's orders the privacy index never heard of (their flow event
	 * was lost, or they came before the index): each is asked who it belongs to, and indexed now.
	 */
	async #resolveWithUnindexed(scope: PrivacyScope): Promise<string[]> {
		const keys = new Set(this.#resolve(scope));
		if (scope.shop || scope.subjects.length === 0) return [...keys];
		const unindexed = this.#sql
			.exec<{ order_key: string }>("SELECT order_key FROM orders WHERE connection = ? AND order_key NOT IN (SELECT order_key FROM privacy_orders)", scope.connection)
			.toArray()
			.map((row) => row.order_key);
		const wanted = new Set(scope.subjects);
		for (const batch of chunks(unindexed, BATCH)) {
			const held = await Promise.all(batch.map((key) => this.env.ORDER_FLOW.getByName(key).personalData()));
			for (const [i, data] of held.entries()) {
				if (!data) continue;
				const subjects = subjectHashes({ emails: [data.customer?.email], phones: [data.customer?.phone, data.shipTo?.phone], customerIds: [data.customer?.channelCustomerId] });
				this.index({ orderKey: batch[i]!, connection: scope.connection, subjects });
				if (subjects.some((hash) => wanted.has(hash))) keys.add(batch[i]!);
			}
		}
		return [...keys].sort();
	}

	/** The order keys a scope covers: those it names, those indexed under its digests, or all of the connection's. */
	#resolve(scope: PrivacyScope): string[] {
		const keys = new Set(scope.orders.map((id) => `${scope.connection}:${id}`));
		for (const part of chunks(scope.subjects)) {
			const rows = this.#sql.exec<{ order_key: string }>(
				`SELECT DISTINCT s.order_key FROM privacy_subjects s JOIN privacy_orders o USING (order_key)
				 WHERE o.connection = ? AND s.hash IN (${marks(part.length)})`,
				scope.connection, ...part,
			);
			for (const row of rows) keys.add(row.order_key);
		}
		if (scope.shop) {
			// The ops index (orders by name) knows orders from before the privacy index existed.
			const rows = this.#sql.exec<{ order_key: string }>(
				"SELECT order_key FROM privacy_orders WHERE connection = ? UNION SELECT order_key FROM orders WHERE connection = ?",
				scope.connection, scope.connection,
			);
			for (const row of rows) keys.add(row.order_key);
		}
		return [...keys].sort();
	}

	#quarantined(connection: string): QuarantineRow[] {
		return this.#sql
			.exec<QuarantineRow>("SELECT id, event_id, raw_body, reason FROM exceptions WHERE kind = 'quarantine' AND connection = ? AND raw_body IS NOT NULL", connection)
			.toArray();
	}

	/** This object's own rows: quarantined bodies and their reasons, flow details and exception reasons of the orders. */
	#scrubOwn(connection: string, orderKeys: string[], quarantined: QuarantineRow[], values: string[]): number {
		let rows = 0;
		for (const q of quarantined) {
			const body = scrubQuarantined(q.raw_body ?? "", values);
			const reason = scrubReason(q.reason, values);
			if (body !== q.raw_body || reason !== q.reason) {
				this.#sql.exec("UPDATE exceptions SET raw_body = ?, reason = ? WHERE id = ?", body, reason, q.id);
				rows++;
			}
			if (q.event_id === null) continue;
			const flows = this.#sql.exec<{ cursor: number; detail: string | null }>("SELECT cursor, detail FROM flows WHERE event_id = ? AND connection = ?", q.event_id, connection).toArray();
			for (const f of flows) {
				const detail = f.detail === null ? null : scrubReason(f.detail, values);
				if (detail !== f.detail) {
					this.#sql.exec("UPDATE flows SET detail = ? WHERE cursor = ?", detail, f.cursor);
					rows++;
				}
			}
		}
		for (const part of chunks(orderKeys)) {
			const flows = this.#sql
				.exec<{ cursor: number; detail: string }>(`SELECT cursor, detail FROM flows WHERE detail IS NOT NULL AND order_key IN (${marks(part.length)})`, ...part)
				.toArray();
			for (const f of flows) {
				const detail = replaceValues(f.detail, values);
				if (detail !== f.detail) {
					this.#sql.exec("UPDATE flows SET detail = ? WHERE cursor = ?", detail, f.cursor);
					rows++;
				}
			}
			const exceptions = this.#sql
				.exec<{ id: string; reason: string }>(`SELECT id, reason FROM exceptions WHERE order_key IN (${marks(part.length)})`, ...part)
				.toArray();
			for (const e of exceptions) {
				const reason = replaceValues(e.reason, values);
				if (reason !== e.reason) {
					this.#sql.exec("UPDATE exceptions SET reason = ? WHERE id = ?", reason, e.id);
					rows++;
				}
			}
			// Nothing personal is left to find them by.
			this.#sql.exec(`DELETE FROM privacy_subjects WHERE order_key IN (${marks(part.length)})`, ...part);
		}
		return rows;
	}

	/** The data held about a scope's subject, assembled now from each order's object and the quarantine. */
	async #export(scope: PrivacyScope) {
		const keys = await this.#resolveWithUnindexed(scope);
		const orders: PersonalData[] = [];
		for (const batch of chunks(keys, BATCH)) {
			for (const data of await Promise.all(batch.map((key) => this.env.ORDER_FLOW.getByName(key).personalData()))) if (data) orders.push(data);
		}
		const values = uniqueValues(orders.flatMap((o) => o.found));
		const wanted = new Set([...scope.subjects, ...subjectHashes({ emails: values, phones: values })]);
		const orderIds = new Set([...scope.orders, ...orders.map((o) => o.channelOrderId)]);
		const quarantined = [];
		for (const q of this.#quarantined(scope.connection)) {
			const body = q.raw_body ?? "";
			if (!(scope.shop || mentionsOrder(body, orderIds) || textSubjects(body).some((h) => wanted.has(h)))) continue;
			const found = scrubRaw(body).found;
			// A body nobody could read is given whole, when it still holds anything.
			if (found.length > 0) quarantined.push({ exceptionId: q.id, found });
			else if (!body.startsWith(REDACTED)) quarantined.push({ exceptionId: q.id, rawBody: body });
		}
		return { connection: scope.connection, orders, quarantined };
	}

	#row(id: string): RequestRow | null {
		return this.#sql.exec<RequestRow>("SELECT * FROM privacy_requests WHERE id = ?", id).toArray()[0] ?? null;
	}
}

/** Whether a quarantined body is one of these orders (its top-level id), when it can be read at all. */
function mentionsOrder(body: string, ids: ReadonlySet<string>): boolean {
	if (ids.size === 0) return false;
	try {
		const value = JSON.parse(body) as Record<string, unknown>;
		return [value.id, value.order_id].some((id) => (typeof id === "number" || typeof id === "string") && ids.has(String(id)));
	} catch {
		const match = /"(?:order_)?id"\s*:\s*"?([\w-]+)/.exec(body);
		return match !== null && ids.has(match[1]!);
	}
}

/** A quarantined body by its format; one nobody could read is removed whole (it was never usable). */
function scrubQuarantined(body: string, values: string[]): string {
	if (body.startsWith(REDACTED)) return body;
	const start = body.trimStart()[0];
	if (start === "{" || start === "[") {
		try {
			return scrubJson(body, values).text;
		} catch {
			// unreadable: removed whole below
		}
	} else if (isX12(body)) {
		return replaceValues(scrubX12(body).text, values);
	}
	return `${REDACTED} (a body that could not be read and held personal data)`;
}

/** Parse errors quote the body they failed on: the quote goes, and any known value or email. */
function scrubReason(reason: string, values: string[]): string {
	return replaceValues(reason.replace(/"[\s\S]*"/, `"${REDACTED}"`), values);
}
