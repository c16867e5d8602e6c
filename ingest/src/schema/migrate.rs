//! Applying migrations.

use crate::Error;

/// One migration: a number, a name and its SQL (statements separated by `;` at line ends).
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Applied in increasing order; never reused.
    pub version: u32,
    /// What it does.
    pub name: &'static str,
    /// The DDL.
    pub sql: &'static str,
}

/// Every migration, in order. Append only: an applied migration is never edited.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "events",
        sql: include_str!("../../migrations/0001_events.sql"),
    },
    Migration {
        version: 2,
        name: "records",
        sql: include_str!("../../migrations/0002_records.sql"),
    },
    Migration {
        version: 3,
        name: "placements_costs_profiles",
        sql: include_str!("../../migrations/0003_placements_costs_profiles.sql"),
    },
    Migration {
        version: 4,
        name: "benchmarks",
        sql: include_str!("../../migrations/0004_benchmarks.sql"),
    },
    Migration {
        version: 5,
        name: "yard_registry",
        sql: include_str!("../../migrations/0005_yard_registry.sql"),
    },
    Migration {
        version: 6,
        name: "facts",
        sql: include_str!("../../migrations/0006_facts.sql"),
    },
    Migration {
        version: 7,
        name: "fact_views",
        sql: include_str!("../../migrations/0007_fact_views.sql"),
    },
    Migration {
        version: 8,
        name: "animal_facts",
        sql: include_str!("../../migrations/0008_animal_facts.sql"),
    },
    Migration {
        version: 9,
        name: "lot_records",
        sql: include_str!("../../migrations/0009_lot_records.sql"),
    },
    Migration {
        version: 10,
        name: "gateways",
        sql: include_str!("../../migrations/0010_gateways.sql"),
    },
    Migration {
        version: 11,
        name: "corrections",
        sql: include_str!("../../migrations/0011_corrections.sql"),
    },
    Migration {
        version: 12,
        name: "gateway_status",
        sql: include_str!("../../migrations/0012_gateway_status.sql"),
    },
    Migration {
        version: 13,
        name: "alerts",
        sql: include_str!("../../migrations/0013_alerts.sql"),
    },
    Migration {
        version: 14,
        name: "shipment_plans",
        sql: include_str!("../../migrations/0014_shipment_plans.sql"),
    },
    Migration {
        version: 15,
        name: "alert_settings",
        sql: include_str!("../../migrations/0015_alert_settings.sql"),
    },
    Migration {
        version: 16,
        name: "web_sign_in",
        sql: include_str!("../../migrations/0016_web_sign_in.sql"),
    },
    Migration {
        version: 17,
        name: "animal_stays",
        sql: include_str!("../../migrations/0017_animal_stays.sql"),
    },
    Migration {
        version: 18,
        name: "yard_gains",
        sql: include_str!("../../migrations/0018_yard_gains.sql"),
    },
    Migration {
        version: 19,
        name: "lot_mark_facts",
        sql: include_str!("../../migrations/0019_lot_mark_facts.sql"),
    },
    Migration {
        version: 20,
        name: "fact_views_without_blank_rows",
        sql: include_str!("../../migrations/0020_fact_views_without_blank_rows.sql"),
    },
];

/// The statements of a migration file, without comments or trailing `;`.
pub(crate) fn statements(sql: &str) -> impl Iterator<Item = String> + '_ {
    sql.split(";\n")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.trim().trim_end_matches(';').trim().is_empty())
        .map(|s| s.trim().trim_end_matches(';').to_owned())
}

/// Whether `error` from `statement` means the change is already made: an `ADD COLUMN` whose
/// column exists (another process migrating at the same time, or a migration cut short and run
/// again; 18.16 has no `ADD COLUMN IF NOT EXISTS`).
fn already_done(statement: &str, error: &clickhouse::error::Error) -> bool {
    statement.contains(" ADD COLUMN ") && error.to_string().contains("already exists")
}

/// The versions recorded as applied in `database`.
pub async fn applied_versions(
    client: &clickhouse::Client,
    database: &str,
) -> Result<Vec<u32>, Error> {
    Ok(client
        .query(&format!(
            "SELECT DISTINCT version FROM {database}.schema_migrations ORDER BY version"
        ))
        .fetch_all::<u32>()
        .await?)
}

/// Creates `database` on one server if needed and applies the migrations it has not recorded.
pub async fn migrate(client: &clickhouse::Client, database: &str) -> Result<Vec<u32>, Error> {
    migrate_on(client, database, None).await
}

/// Like [`migrate`], on one server (`cluster` None) or `ON CLUSTER` in the replicated,
/// distributed form of [`super::cluster`]. Every statement is idempotent (`IF NOT EXISTS`), so
/// two processes migrating at once, or a migration cut short and run again, end the same.
pub async fn migrate_on(
    client: &clickhouse::Client,
    database: &str,
    cluster: Option<&str>,
) -> Result<Vec<u32>, Error> {
    let (create_database, create_migrations) = match cluster {
        Some(c) => (
            super::cluster::create_database(database, c),
            super::cluster::create_migrations_table(database, c),
        ),
        None => (
            format!("CREATE DATABASE IF NOT EXISTS {database}"),
            format!(
                "CREATE TABLE IF NOT EXISTS {database}.schema_migrations \
                 (version UInt32, name String, applied_at DateTime) \
                 ENGINE = ReplacingMergeTree ORDER BY version"
            ),
        ),
    };
    client.query(&create_database).execute().await?;
    client.query(&create_migrations).execute().await?;
    let done = applied_versions(client, database).await?;
    let db_client = client.clone().with_database(database);
    let mut applied = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        let failed = |source| Error::Migration {
            version: m.version,
            name: m.name,
            source,
        };
        for statement in statements(m.sql) {
            let forms = match cluster {
                Some(c) => super::cluster::rewrite(&statement, database, c).map_err(|e| {
                    Error::ClusterDdl {
                        version: m.version,
                        name: m.name,
                        source: e,
                    }
                })?,
                None => vec![statement],
            };
            for sql in forms {
                match db_client.query(&sql).execute().await {
                    Ok(()) => {}
                    Err(e) if already_done(&sql, &e) => {
                        tracing::info!(version = m.version, error = %e, "column already added");
                    }
                    Err(e) => return Err(failed(e)),
                }
            }
        }
        client
            .query(&format!(
                "INSERT INTO {database}.schema_migrations (version, name, applied_at) VALUES (?, ?, now())"
            ))
            .bind(m.version)
            .bind(m.name)
            .execute()
            .await?;
        tracing::info!(
            version = m.version,
            name = m.name,
            cluster,
            "migration applied"
        );
        applied.push(m.version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_files_split_into_statements_without_comments() {
        let parts: Vec<_> = statements(MIGRATIONS[0].sql).collect();
        assert_eq!(parts.len(), 2);
        assert!(parts[0].starts_with("CREATE TABLE IF NOT EXISTS weighings"));
        assert!(!parts.iter().any(|p| p.contains("--") || p.ends_with(';')));
    }

    #[test]
    fn the_records_migration_creates_a_table_per_kind_without_newer_clickhouse_types() {
        let parts: Vec<_> = statements(MIGRATIONS[1].sql).collect();
        assert_eq!(parts.len(), 10);
        for p in &parts {
            assert!(p.starts_with("CREATE TABLE IF NOT EXISTS "), "{p}");
            assert!(p.contains("ReplacingMergeTree(ingested_at)"), "{p}");
            assert!(p.contains("PARTITION BY toYYYYMM(captured_at)"), "{p}");
            assert!(p.trim_end().ends_with("captured_at_ms, event_id)"), "{p}");
            assert!(
                !p.contains("DateTime64") && !p.contains("LowCardinality"),
                "{p}"
            );
        }
    }

    #[test]
    fn migration_versions_increase() {
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
    }
}
