/**
 * Idempotent, versioned schema migrations run from a Durable Object's constructor:
 * migration N runs once, in order, inside one transaction with its version bump.
 */
export function migrate(storage: DurableObjectStorage, migrations: readonly string[]): void {
	const sql = storage.sql;
	sql.exec("CREATE TABLE IF NOT EXISTS _schema (version INTEGER NOT NULL)");
	const row = sql.exec<{ version: number }>("SELECT version FROM _schema").toArray()[0];
	let version = row?.version ?? 0;
	if (version >= migrations.length) return;
	storage.transactionSync(() => {
		for (; version < migrations.length; version++) sql.exec(migrations[version]!);
		if (row) sql.exec("UPDATE _schema SET version = ?", version);
		else sql.exec("INSERT INTO _schema (version) VALUES (?)", version);
	});
}
