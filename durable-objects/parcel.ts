import { DurableObject } from "cloudflare:workers";
import type { Env } from "../worker/env";
import type { TrackingUpdate } from "../worker/model/fulfillment";
import { migrate } from "./schema";

export const MIGRATIONS = [
	`CREATE TABLE link (id INTEGER PRIMARY KEY CHECK (id = 1), order_key TEXT NOT NULL, shipment_id TEXT NOT NULL, carrier TEXT NOT NULL);
	CREATE TABLE updates (
		event_id TEXT PRIMARY KEY,
		at TEXT NOT NULL,
		body TEXT NOT NULL,
		forwarded INTEGER NOT NULL DEFAULT 0,
		attempts INTEGER NOT NULL DEFAULT 0
	);`,
];

/**
 * One parcel, named by its tracking number: carrier events arrive knowing only that number, so
 * this object remembers which order and shipment it belongs to and forwards each event there.
 * An event that arrives before the shipment is known (webhooks race) waits here until it is.
 */
export class Parcel extends DurableObject<Env> {
	#sql: SqlStorage;
	#forwarding: Promise<void> | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		migrate(ctx.storage, MIGRATIONS);
	}

	link(input: { orderKey: string; shipmentId: string; carrier: string }): void {
		this.#sql.exec(
			"INSERT INTO link (id, order_key, shipment_id, carrier) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
			input.orderKey, input.shipmentId, input.carrier,
		);
		this.#kick();
	}

	/** Stores a carrier event once (before the webhook is acknowledged) and forwards it. */
	receive(update: TrackingUpdate): { status: "stored" | "duplicate"; linked: boolean } {
		const stored =
			this.#sql.exec("INSERT INTO updates (event_id, at, body) VALUES (?, ?, ?) ON CONFLICT (event_id) DO NOTHING", update.eventId, update.at, JSON.stringify(update))
				.rowsWritten > 0;
		const linked = this.#link() !== null;
		if (stored) this.#kick();
		return { status: stored ? "stored" : "duplicate", linked };
	}

	view() {
		return {
			link: this.#link(),
			updates: this.#sql
				.exec<{ event_id: string; at: string; forwarded: number; attempts: number; body: string }>("SELECT * FROM updates ORDER BY at")
				.toArray()
				.map((row) => ({ eventId: row.event_id, at: row.at, forwarded: row.forwarded === 1, attempts: row.attempts, status: (JSON.parse(row.body) as TrackingUpdate).status })),
		};
	}

	override async alarm(): Promise<void> {
		await this.#forward();
	}

	#kick(): void {
		void this.ctx.storage.setAlarm(Date.now() + 5_000); // backstop if the direct attempt fails
		void this.#forward().catch(() => {});
	}

	/** Oldest first; the order applies each event once (by event id) and ignores stale ones. */
	#forward(): Promise<void> {
		if (this.#forwarding) return this.#forwarding;
		this.#forwarding = (async () => {
			const link = this.#link();
			if (!link) return;
			const pending = this.#sql.exec<{ event_id: string; body: string; attempts: number }>("SELECT event_id, body, attempts FROM updates WHERE forwarded = 0 ORDER BY at").toArray();
			let failures = 0;
			for (const row of pending) {
				try {
					await this.env.ORDER_FLOW.getByName(link.order_key).trackingUpdate(JSON.parse(row.body) as TrackingUpdate, link.shipment_id);
					this.#sql.exec("UPDATE updates SET forwarded = 1 WHERE event_id = ?", row.event_id);
				} catch {
					failures = Math.max(failures, row.attempts + 1);
					this.#sql.exec("UPDATE updates SET attempts = attempts + 1 WHERE event_id = ?", row.event_id);
					break; // keep them in order
				}
			}
			if (failures > 0) await this.ctx.storage.setAlarm(Date.now() + Math.random() * Math.min(300_000, 1_000 * 2 ** failures));
			else await this.ctx.storage.deleteAlarm();
		})().finally(() => {
			this.#forwarding = null;
		});
		return this.#forwarding;
	}

	#link(): { order_key: string; shipment_id: string; carrier: string } | null {
		return this.#sql.exec<{ order_key: string; shipment_id: string; carrier: string }>("SELECT order_key, shipment_id, carrier FROM link").toArray()[0] ?? null;
	}
}
