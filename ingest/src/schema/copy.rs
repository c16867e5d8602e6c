//! Moving a single-server database to a cluster: every table's rows copied server-side.
//!
//! `ingest copy-from` runs on the cluster (after `ingest migrate` created its tables there):
//! for each table of the old database, `INSERT INTO db.t SELECT * FROM remote(old, db, t)`
//! through the `Distributed` table, so each row lands on its yard's shard. The old server is
//! read over its native TCP port by the cluster server that runs the statement; nothing passes
//! through this process.
//!
//! It refuses to start unless both sides have applied the same migrations (same columns in the
//! same order), and per table it copies only into an empty table: a table already holding the
//! old one's row count is skipped (a second run after an interruption resumes), and a table
//! holding some other count is named as partly copied, for the operator to `TRUNCATE` and run
//! again.

use clickhouse::Client;

/// Where the old single-server database is, as the cluster's servers reach it.
#[derive(Debug, Clone)]
pub struct Source {
    /// `host:port` of the old server's native TCP port (9000 by default).
    pub address: String,
    /// The old database.
    pub database: String,
    /// The user on the old server.
    pub user: String,
    /// Its password.
    pub password: String,
}

/// What happened to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    /// The table.
    pub table: String,
    /// Rows in the old table.
    pub source_rows: u64,
    /// Rows in the cluster's table afterwards.
    pub copied_rows: u64,
    /// False when the table was already copied (skipped).
    pub copied_now: bool,
}

/// Why the copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// A name that cannot be put in a statement safely.
    #[error("{field}: {value:?} is not a valid {what}")]
    BadName {
        /// Which argument.
        field: &'static str,
        /// Its value.
        value: String,
        /// What it should be.
        what: &'static str,
    },
    /// The two sides are at different migrations.
    #[error(
        "the old database has migrations {source_versions:?}, the cluster {cluster_versions:?}: run `ingest migrate` on the one behind first"
    )]
    Versions {
        /// Applied on the old server.
        source_versions: Vec<u32>,
        /// Applied on the cluster.
        cluster_versions: Vec<u32>,
    },
    /// The cluster lacks a table the old database has.
    #[error("table {0} is not on the cluster: run `ingest migrate` there first")]
    MissingTable(String),
    /// A table on the cluster holds some rows, but not the old table's.
    #[error(
        "table {table} on the cluster holds {cluster_rows} rows, the old one {source_rows}: TRUNCATE it on the cluster (ON CLUSTER, the _local table) and run again"
    )]
    PartlyCopied {
        /// The table.
        table: String,
        /// Rows on the cluster.
        cluster_rows: u64,
        /// Rows on the old server.
        source_rows: u64,
    },
    /// After copying, the counts differ.
    #[error("table {table}: copied {cluster_rows} rows of {source_rows}")]
    CountMismatch {
        /// The table.
        table: String,
        /// Rows on the cluster.
        cluster_rows: u64,
        /// Rows on the old server.
        source_rows: u64,
    },
    /// ClickHouse refused a statement.
    #[error("clickhouse: {0}")]
    ClickHouse(#[from] clickhouse::error::Error),
}

fn check_name(field: &'static str, value: &str, extra: &str) -> Result<(), CopyError> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(c));
    if ok {
        Ok(())
    } else {
        Err(CopyError::BadName {
            field,
            value: value.to_owned(),
            what: if extra.is_empty() {
                "identifier (letters, digits, _)"
            } else {
                "host:port"
            },
        })
    }
}

/// A ClickHouse string literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

impl Source {
    fn remote_system_tables(&self) -> String {
        format!(
            "remote({}, 'system', 'tables', {}, {})",
            literal(&self.address),
            literal(&self.user),
            literal(&self.password)
        )
    }

    fn remote(&self, table: &str) -> String {
        format!(
            "remote({}, {}, {}, {}, {})",
            literal(&self.address),
            literal(&self.database),
            literal(table),
            literal(&self.user),
            literal(&self.password)
        )
    }
}

async fn count(client: &Client, from: &str) -> Result<u64, CopyError> {
    Ok(client
        .query(&format!("SELECT count() FROM {from}"))
        .fetch_one::<u64>()
        .await?)
}

async fn versions(client: &Client, from: &str) -> Result<Vec<u32>, CopyError> {
    Ok(client
        .query(&format!(
            "SELECT DISTINCT version FROM {from} ORDER BY version"
        ))
        .fetch_all::<u32>()
        .await?)
}

/// How long a copied table's count may take to reach every replica.
const REPLICATION_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The count of `from` once it reaches `expected` (a read may be answered by a replica that
/// has not fetched the new parts yet), or what it is after [`REPLICATION_WAIT`].
async fn settled_count(client: &Client, from: &str, expected: u64) -> Result<u64, CopyError> {
    let deadline = tokio::time::Instant::now() + REPLICATION_WAIT;
    loop {
        let n = count(client, from).await?;
        if n >= expected || tokio::time::Instant::now() >= deadline {
            return Ok(n);
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// Copies every table of `source` into `database` on the cluster `client` talks to (see the
/// module doc). Returns what happened per table, in name order.
pub async fn copy_from(
    client: &Client,
    database: &str,
    source: &Source,
) -> Result<Vec<TableCopy>, CopyError> {
    check_name("database", database, "")?;
    check_name("source database", &source.database, "")?;
    check_name("source address", &source.address, ".:-[]")?;
    let source_versions = versions(client, &source.remote("schema_migrations")).await?;
    let cluster_versions = versions(client, &format!("{database}.schema_migrations")).await?;
    if source_versions != cluster_versions {
        return Err(CopyError::Versions {
            source_versions,
            cluster_versions,
        });
    }
    let tables: Vec<String> = client
        .query(&format!(
            "SELECT name FROM {} WHERE database = ? AND engine LIKE '%MergeTree' \
             AND name != 'schema_migrations' ORDER BY name",
            source.remote_system_tables()
        ))
        .bind(&source.database)
        .fetch_all()
        .await?;
    let mut report = Vec::new();
    for table in tables {
        let exists: u64 = client
            .query("SELECT count() FROM system.tables WHERE database = ? AND name = ?")
            .bind(database)
            .bind(&table)
            .fetch_one()
            .await?;
        if exists == 0 {
            return Err(CopyError::MissingTable(table));
        }
        let source_rows = count(client, &source.remote(&table)).await?;
        let before = count(client, &format!("{database}.{table}")).await?;
        if before == source_rows {
            tracing::info!(%table, rows = source_rows, "already copied");
            report.push(TableCopy {
                table,
                source_rows,
                copied_rows: before,
                copied_now: false,
            });
            continue;
        }
        if before != 0 {
            return Err(CopyError::PartlyCopied {
                table,
                cluster_rows: before,
                source_rows,
            });
        }
        client
            .query(&format!(
                "INSERT INTO {database}.{table} SELECT * FROM {}",
                source.remote(&table)
            ))
            .execute()
            .await?;
        let after = settled_count(client, &format!("{database}.{table}"), source_rows).await?;
        if after != source_rows {
            return Err(CopyError::CountMismatch {
                table,
                cluster_rows: after,
                source_rows,
            });
        }
        tracing::info!(%table, rows = after, "copied");
        report.push(TableCopy {
            table,
            source_rows,
            copied_rows: after,
            copied_now: true,
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_break_a_statement_are_refused_by_field() {
        assert!(check_name("database", "feedlot_2", "").is_ok());
        assert!(check_name("source address", "ch-old.example:9000", ".:-[]").is_ok());
        let err = check_name("database", "feedlot; DROP", "")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("database:"), "{err}");
        assert!(check_name("source address", "a' OR 1", ".:-[]").is_err());
    }

    #[test]
    fn a_password_is_quoted_as_a_literal() {
        assert_eq!(literal(r"it's\x"), r"'it\'s\\x'");
    }
}
