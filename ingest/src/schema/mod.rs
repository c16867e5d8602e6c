//! The ClickHouse schema: numbered migrations under `ingest/migrations/`, applied in order and
//! recorded in `schema_migrations`, so `ingest migrate` (and every start) is idempotent.

//! With a cluster configured the same migrations are applied `ON CLUSTER` in their replicated,
//! distributed form ([`cluster`]).

pub mod cluster;
pub mod copy;
mod migrate;

pub use migrate::{MIGRATIONS, Migration, applied_versions, migrate, migrate_on};
