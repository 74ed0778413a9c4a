//! Versioned schema changes. Each module owns a list of steps under its own
//! name, so modules evolve their tables independently; the `schema` table
//! records how far each list has been applied. Every step runs in an
//! IMMEDIATE transaction, so two processes starting at once cannot both
//! apply it.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// One module's schema history. Step `i` moves it from version `i` to `i + 1`; append only.
pub struct Migrations {
    pub module: &'static str,
    pub steps: &'static [&'static str],
}

/// Every module's schema, in the order they are applied.
const ALL: &[Migrations] = &[
    super::audit::MIGRATIONS,
    crate::health::store::MIGRATIONS,
    crate::schedule::history::MIGRATIONS,
    crate::backup::records::MIGRATIONS,
    crate::incident::record::MIGRATIONS,
    crate::ops::record::MIGRATIONS,
];

pub(super) fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    connection
        .execute_batch("CREATE TABLE IF NOT EXISTS schema (module TEXT PRIMARY KEY, version INTEGER NOT NULL)")?;
    for migrations in ALL {
        migrate_module(connection, migrations)?;
    }
    Ok(())
}

fn migrate_module(connection: &mut Connection, migrations: &Migrations) -> rusqlite::Result<()> {
    loop {
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: usize = transaction
            .query_row("SELECT version FROM schema WHERE module = ?1", [migrations.module], |row| row.get(0))
            .optional()?
            .unwrap_or(0);
        let Some(step) = migrations.steps.get(version) else {
            return transaction.commit();
        };
        transaction.execute_batch(step)?;
        transaction.execute(
            "INSERT INTO schema (module, version) VALUES (?1, ?2)
             ON CONFLICT(module) DO UPDATE SET version = excluded.version",
            params![migrations.module, version + 1],
        )?;
        transaction.commit()?;
    }
}
