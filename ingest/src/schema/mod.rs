//! The ClickHouse schema: numbered migrations under `ingest/migrations/`, applied in order and
//! recorded in `schema_migrations`, so `ingest migrate` (and every start) is idempotent.

mod migrate;

pub use migrate::{MIGRATIONS, Migration, applied_versions, migrate};
