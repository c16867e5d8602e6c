//! The migrations' DDL for a ClickHouse cluster.
//!
//! The migration files are written for one server (`CREATE TABLE IF NOT EXISTS t (...) ENGINE =
//! ReplacingMergeTree(v) ...`, `ALTER TABLE t ...`). On a cluster each table becomes two, both
//! created `ON CLUSTER` so every server has them:
//!
//! - `t_local`: the data, `Replicated…MergeTree` under the ZooKeeper path
//!   `/clickhouse/tables/{shard}/DB/t_local` with replica `{replica}` (each server's macros), so
//!   the two replicas of a shard hold the same rows and an identical insert block is stored
//!   once (insert deduplication);
//! - `t`: a `Distributed` table over `t_local`, sharded by `cityHash64(feedlot_id)`, so every
//!   read and write uses the same name as on one server and a yard's rows (all versions of a
//!   key) live on one shard, where `FINAL` settles them.
//!
//! `ALTER TABLE t` is applied to `t_local` (replicated: once per shard, through ZooKeeper), and
//! `t` is made again over it: 18.16 refuses an `ALTER … ON CLUSTER` of a non-replicated table
//! on a cluster whose shards replicate internally, and a `Distributed` table holds no rows of
//! its own (inserts are synchronous), so dropping and re-creating it loses nothing; reads and
//! writes through it fail for that moment, so run migrations at deploy time.
//!
//! `CREATE VIEW IF NOT EXISTS v AS SELECT …` becomes one view `DB.v` created `ON CLUSTER` on
//! every server, over the same names (the `Distributed` tables, or other views), each table it
//! reads qualified with `DB` so it does not depend on the database the statement runs in.
//!
//! `DROP TABLE IF EXISTS t` (a view, to make it again) drops `DB.t` and `DB.t_local` `ON
//! CLUSTER`: for a view the second is no table, and for a table the two are its cluster form.
//!
//! A table of no yard (no `feedlot_id`: the dashboards' sign-in state, listed in
//! [`EVERYWHERE`]) becomes one `Replicated…MergeTree` table created `ON CLUSTER` under one
//! ZooKeeper path for all shards, `/clickhouse/tables/all/DB/t`: every server holds all of it.
//!
//! Anything else in a migration is refused by name, so a new kind of statement gets its cluster
//! form before it ships.

/// Why a migration statement has no cluster form.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterDdlError {
    /// A statement this rewriter does not know.
    #[error("no cluster form for the statement starting `{0}`")]
    Unsupported(String),
    /// A table without the `feedlot_id` column it is sharded by.
    #[error("table `{0}` has no feedlot_id column to shard by")]
    NoShardKey(String),
}

/// Tables that are no yard's (the dashboards' sign-in state and user settings): on a cluster
/// each is one replicated table with a full copy on every server, under one ZooKeeper path for
/// all shards (like `schema_migrations`), read and written on whichever server a client talks
/// to. An `ALTER` of one has no cluster form yet.
pub const EVERYWHERE: [&str; 3] = [
    "web_login_codes_used",
    "web_session_revocations",
    "web_user_settings",
];

/// The suffix of a `Distributed` table's local (data) table.
pub const LOCAL_SUFFIX: &str = "_local";

/// The statements that create `database` on every server of `cluster`.
pub fn create_database(database: &str, cluster: &str) -> String {
    format!("CREATE DATABASE IF NOT EXISTS {database} ON CLUSTER {cluster}")
}

/// The applied-migrations table: one replicated table with a copy on every server (the same
/// ZooKeeper path for all shards), so any server can say which migrations ran.
pub fn create_migrations_table(database: &str, cluster: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {database}.schema_migrations ON CLUSTER {cluster} \
         (version UInt32, name String, applied_at DateTime) \
         ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/schema_migrations', \
         '{{replica}}') ORDER BY version"
    )
}

/// The cluster form of one single-server migration statement.
pub fn rewrite(
    statement: &str,
    database: &str,
    cluster: &str,
) -> Result<Vec<String>, ClusterDdlError> {
    let trimmed = statement.trim();
    if let Some(rest) = trimmed.strip_prefix("CREATE TABLE IF NOT EXISTS ") {
        return create_table(rest, database, cluster);
    }
    if let Some(rest) = trimmed.strip_prefix("CREATE VIEW IF NOT EXISTS ") {
        let (view, select) = split_name(rest);
        let select = select
            .strip_prefix("AS")
            .filter(|s| s.starts_with(char::is_whitespace))
            .ok_or_else(|| unsupported(trimmed))?;
        let select = qualify_tables(select.trim_start(), database);
        return Ok(vec![format!(
            "CREATE VIEW IF NOT EXISTS {database}.{view} ON CLUSTER {cluster} AS {select}"
        )]);
    }
    if let Some(rest) = trimmed.strip_prefix("DROP TABLE IF EXISTS ") {
        let (name, rest) = split_name(rest);
        if !rest.is_empty() {
            return Err(unsupported(trimmed));
        }
        return Ok(vec![
            format!("DROP TABLE IF EXISTS {database}.{name} ON CLUSTER {cluster}"),
            format!("DROP TABLE IF EXISTS {database}.{name}{LOCAL_SUFFIX} ON CLUSTER {cluster}"),
        ]);
    }
    if let Some(rest) = trimmed.strip_prefix("ALTER TABLE ") {
        let (table, change) = split_name(rest);
        if EVERYWHERE.contains(&table) {
            return Err(unsupported(trimmed));
        }
        return Ok(vec![
            format!("ALTER TABLE {database}.{table}{LOCAL_SUFFIX} ON CLUSTER {cluster} {change}"),
            format!("DROP TABLE IF EXISTS {database}.{table} ON CLUSTER {cluster}"),
            distributed(table, database, cluster),
        ]);
    }
    Err(unsupported(trimmed))
}

/// The `Distributed` table `table` over `table_local`, sharded by feedlot.
fn distributed(table: &str, database: &str, cluster: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {database}.{table} ON CLUSTER {cluster} \
         AS {database}.{table}{LOCAL_SUFFIX} \
         ENGINE = Distributed({cluster}, {database}, {table}{LOCAL_SUFFIX}, cityHash64(feedlot_id))"
    )
}

fn unsupported(statement: &str) -> ClusterDdlError {
    ClusterDdlError::Unsupported(statement.chars().take(60).collect())
}

/// `select` with each table it reads (the name after `FROM` or `JOIN`, not `ARRAY JOIN`'s
/// column) qualified with `database`, so a view reads the same tables on every server whatever
/// database its `ON CLUSTER` statement runs in. Quoted text is left as it is; a subquery
/// (`FROM (`) or a qualified name (`FROM db.t`) is not a table name to qualify.
fn qualify_tables(select: &str, database: &str) -> String {
    let mut out = String::with_capacity(select.len() + 64);
    // The last two words outside quotes, upper case.
    let (mut before_last, mut last) = (String::new(), String::new());
    let mut chars = select.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' || c == '"' || c == '`' {
            // Copy the quoted text up to its closing quote (a backslash escapes the next char).
            out.push(c);
            let mut escaped = false;
            for (_, q) in chars.by_ref() {
                out.push(q);
                if escaped {
                    escaped = false;
                } else if q == '\\' {
                    escaped = true;
                } else if q == c {
                    break;
                }
            }
            before_last = std::mem::take(&mut last);
            continue;
        }
        if !(c.is_ascii_alphanumeric() || c == '_') {
            out.push(c);
            if !c.is_whitespace() {
                before_last = std::mem::take(&mut last);
            }
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if d.is_ascii_alphanumeric() || d == '_' {
                end = j + d.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let word = &select[i..end];
        let follows_table_keyword = last == "FROM" || (last == "JOIN" && before_last != "ARRAY");
        let qualified_or_call = matches!(chars.peek(), Some((_, '.' | '(')));
        let starts_with_digit = c.is_ascii_digit();
        if follows_table_keyword && !qualified_or_call && !starts_with_digit {
            out.push_str(database);
            out.push('.');
        }
        out.push_str(word);
        before_last = std::mem::replace(&mut last, word.to_ascii_uppercase());
    }
    out
}

/// `name rest` → (`name`, `rest`).
fn split_name(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (&text[..end], text[end..].trim_start())
}

fn create_table(rest: &str, database: &str, cluster: &str) -> Result<Vec<String>, ClusterDdlError> {
    let (table, body) = split_name(rest);
    let engine_at = body.find("ENGINE = ").ok_or_else(|| unsupported(rest))?;
    let (columns, engine_clause) = body.split_at(engine_at);
    let has_feedlot = columns
        .lines()
        .any(|l| l.split_whitespace().next() == Some("feedlot_id"));
    let everywhere = EVERYWHERE.contains(&table);
    if !has_feedlot && !everywhere {
        return Err(ClusterDdlError::NoShardKey(table.to_owned()));
    }
    let engine_clause = &engine_clause["ENGINE = ".len()..];
    let (engine, after_engine) = split_name(engine_clause);
    if !engine.ends_with("MergeTree") {
        return Err(unsupported(rest));
    }
    let (args, tail) = match after_engine.strip_prefix('(') {
        Some(inside) => {
            let close = inside.find(')').ok_or_else(|| unsupported(rest))?;
            (inside[..close].trim(), &inside[close + 1..])
        }
        None => ("", after_engine),
    };
    let replicated_args = |path: String| {
        if args.is_empty() {
            path
        } else {
            format!("{path}, {args}")
        }
    };
    if everywhere {
        let path = format!("'/clickhouse/tables/all/{database}/{table}', '{{replica}}'");
        return Ok(vec![format!(
            "CREATE TABLE IF NOT EXISTS {database}.{table} ON CLUSTER {cluster}\n{columns}\
             ENGINE = Replicated{engine}({args}){tail}",
            args = replicated_args(path)
        )]);
    }
    let local = format!("{table}{LOCAL_SUFFIX}");
    let path = format!("'/clickhouse/tables/{{shard}}/{database}/{local}', '{{replica}}'");
    let replicated_args = replicated_args(path);
    Ok(vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {database}.{local} ON CLUSTER {cluster}\n{columns}\
             ENGINE = Replicated{engine}({replicated_args}){tail}"
        ),
        distributed(table, database, cluster),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::MIGRATIONS;
    use crate::schema::migrate::statements;

    #[test]
    fn a_table_becomes_a_replicated_local_table_and_a_distributed_one_by_feedlot() {
        let sql = "CREATE TABLE IF NOT EXISTS weighings\n(\n    event_id UUID,\n    feedlot_id \
                   String,\n    ingested_at DateTime\n)\nENGINE = ReplacingMergeTree(ingested_at)\n\
                   PARTITION BY toYYYYMM(captured_at)\nORDER BY (feedlot_id, event_id)";
        let out = rewrite(sql, "feedlot", "yards").unwrap();
        assert_eq!(out.len(), 2);
        assert!(
            out[0].starts_with(
                "CREATE TABLE IF NOT EXISTS feedlot.weighings_local ON CLUSTER yards\n("
            ),
            "{}",
            out[0]
        );
        assert!(out[0].contains(
            "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/feedlot/weighings_local', \
             '{replica}', ingested_at)\nPARTITION BY toYYYYMM(captured_at)\nORDER BY (feedlot_id, event_id)"
        ), "{}", out[0]);
        assert_eq!(
            out[1],
            "CREATE TABLE IF NOT EXISTS feedlot.weighings ON CLUSTER yards AS \
             feedlot.weighings_local ENGINE = Distributed(yards, feedlot, weighings_local, \
             cityHash64(feedlot_id))"
        );
    }

    #[test]
    fn an_alter_applies_to_both_tables_and_unknown_statements_are_refused() {
        let out = rewrite(
            "ALTER TABLE shipments ADD COLUMN eids Array(String) AFTER currency",
            "db",
            "c",
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                "ALTER TABLE db.shipments_local ON CLUSTER c ADD COLUMN eids Array(String) AFTER currency",
                "DROP TABLE IF EXISTS db.shipments ON CLUSTER c",
                "CREATE TABLE IF NOT EXISTS db.shipments ON CLUSTER c AS db.shipments_local \
                 ENGINE = Distributed(c, db, shipments_local, cityHash64(feedlot_id))",
            ]
        );
        let err = rewrite("DROP TABLE x", "db", "c").unwrap_err().to_string();
        assert!(err.contains("DROP TABLE x"), "{err}");
        let no_key =
            "CREATE TABLE IF NOT EXISTS t\n(\n    a UInt8\n)\nENGINE = MergeTree ORDER BY a";
        assert!(matches!(
            rewrite(no_key, "db", "c"),
            Err(ClusterDdlError::NoShardKey(_))
        ));
    }

    #[test]
    fn a_table_of_no_yard_is_one_replicated_table_on_every_server() {
        let sql = "CREATE TABLE IF NOT EXISTS web_user_settings\n(\n    user String,\n    \
                   set_at_ms UInt64\n)\nENGINE = ReplacingMergeTree(set_at_ms)\nORDER BY user";
        assert_eq!(
            rewrite(sql, "db", "c").unwrap(),
            vec![
                "CREATE TABLE IF NOT EXISTS db.web_user_settings ON CLUSTER c\n(\n    user \
                 String,\n    set_at_ms UInt64\n)\nENGINE = ReplicatedReplacingMergeTree(\
                 '/clickhouse/tables/all/db/web_user_settings', '{replica}', set_at_ms)\n\
                 ORDER BY user"
            ]
        );
        assert!(
            rewrite(
                "ALTER TABLE web_user_settings ADD COLUMN x UInt8",
                "db",
                "c"
            )
            .is_err()
        );
    }

    #[test]
    fn a_view_is_created_on_every_server_over_the_tables_of_its_database() {
        let sql = "CREATE VIEW IF NOT EXISTS lot_day_measures AS\nSELECT\n    feedlot_id,\n    \
                   if(x > 0, 'FROM lots', 'open') AS status\nFROM lot_day_facts FINAL";
        assert_eq!(
            rewrite(sql, "feedlot", "yards").unwrap(),
            vec![
                "CREATE VIEW IF NOT EXISTS feedlot.lot_day_measures ON CLUSTER yards AS SELECT\n    \
                 feedlot_id,\n    if(x > 0, 'FROM lots', 'open') AS status\nFROM \
                 feedlot.lot_day_facts FINAL"
            ]
        );
        // Subqueries, joins, already qualified names and ARRAY JOIN's columns.
        let sql = "CREATE VIEW IF NOT EXISTS v AS SELECT a FROM (SELECT a, l FROM t FINAL \
                   ARRAY JOIN lots AS l) ANY LEFT JOIN other.u USING a LEFT ARRAY JOIN x AS y \
                   WHERE a IN (SELECT a FROM w) AND b = 'it''s' JOIN z USING a";
        assert_eq!(
            rewrite(sql, "db", "c").unwrap(),
            vec![
                "CREATE VIEW IF NOT EXISTS db.v ON CLUSTER c AS SELECT a FROM (SELECT a, l FROM \
                 db.t FINAL ARRAY JOIN lots AS l) ANY LEFT JOIN other.u USING a LEFT ARRAY JOIN \
                 x AS y WHERE a IN (SELECT a FROM db.w) AND b = 'it''s' JOIN db.z USING a"
            ]
        );
        // The fact views (migration 7) read the Distributed tables, and each other, in `db`.
        let views = MIGRATIONS.iter().find(|m| m.name == "fact_views").unwrap();
        let out: Vec<String> = statements(views.sql)
            .flat_map(|s| rewrite(&s, "db", "c").unwrap())
            .collect();
        let starts = [
            ("db.lot_day_measures", "FROM db.lot_day_facts FINAL"),
            ("db.closeouts", "FROM db.lot_day_measures\n"),
            ("db.pen_day_measures", "FROM db.pen_day_facts FINAL"),
        ];
        assert_eq!(out.len(), starts.len());
        for (sql, (view, from)) in out.iter().zip(starts) {
            let head = format!("CREATE VIEW IF NOT EXISTS {view} ON CLUSTER c AS SELECT");
            assert!(sql.starts_with(&head) && sql.contains(from), "{sql}");
            assert_eq!(sql.matches("FROM ").count(), 1, "{sql}");
        }
        assert!(rewrite("CREATE VIEW IF NOT EXISTS v SELECT 1", "db", "c").is_err());
        assert!(rewrite("CREATE MATERIALIZED VIEW v AS SELECT 1", "db", "c").is_err());
    }

    #[test]
    fn a_drop_removes_the_name_and_its_local_table_on_every_server() {
        assert_eq!(
            rewrite("DROP TABLE IF EXISTS lot_day_measures", "db", "c").unwrap(),
            [
                "DROP TABLE IF EXISTS db.lot_day_measures ON CLUSTER c",
                "DROP TABLE IF EXISTS db.lot_day_measures_local ON CLUSTER c",
            ]
        );
        assert!(rewrite("DROP TABLE IF EXISTS a, b", "db", "c").is_err());
    }

    #[test]
    fn every_migration_has_a_cluster_form() {
        for m in MIGRATIONS {
            for statement in statements(m.sql) {
                let out = rewrite(&statement, "db", "c")
                    .unwrap_or_else(|e| panic!("migration {}: {e}", m.version));
                assert!(out.iter().all(|s| s.contains("ON CLUSTER c")));
            }
        }
    }
}
