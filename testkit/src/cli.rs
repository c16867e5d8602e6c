//! Running a real binary as a user would, for command-line tests.

use std::process::{Command, Output};

/// Runs `bin` with `args`, the variables in `env` and none of the caller's variables that
/// start with `env_prefix` (so a developer's `EDGE_…`, `INGEST_…` settings cannot change a
/// test), without Rust backtraces; waits for it to exit.
pub fn run(bin: &str, env_prefix: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(bin);
    if !env_prefix.is_empty() {
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with(env_prefix)) {
            command.env_remove(name);
        }
    }
    match command
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_BACKTRACE", "0")
        .output()
    {
        Ok(output) => output,
        Err(error) => panic!("cannot run {bin}: {error}"),
    }
}

/// Output bytes as text (lossy).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
