//! The real `dashboards` binary: `hash-token` prints what `[[web.users]]` wants, and
//! `dashboards serve` serves a yard only to the users of `DASHBOARDS_WEB_USERS_FILE`, and no
//! yard without users.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::io::Write;
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::support;

const BIN: &str = env!("CARGO_BIN_EXE_dashboards");

fn hash_token_cli(args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = StdCommand::new(BIN)
        .arg("hash-token")
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn hash_token_prints_the_sha256_and_generate_prints_a_token_that_hashes_to_it() {
    // `echo -n correct-horse-battery-staple | sha256sum`
    let out = hash_token_cli(&[], "correct-horse-battery-staple\n");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "87cbebfeebc05f7c54ac9336c4b4bbec831227a641951a4bde7edd56020f8590\n"
    );

    let out = hash_token_cli(&["--generate"], "");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{key} in {text}"))
            .to_owned()
    };
    let (token, hash) = (value("token"), value("token_sha256"));
    assert_eq!(token.len(), 64, "{text}");
    assert_eq!(hash, dashboards::web::auth::hash_token(&token));
    assert_ne!(value("token"), {
        let again = hash_token_cli(&["--generate"], "");
        String::from_utf8(again.stdout).unwrap()
    });

    let out = hash_token_cli(&[], "short\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 20"));
}

const SECRET: &str = "a-session-secret-of-32-characters-or-more";

/// `dashboards login-link --user yard-a-manager` over `config` and `users`: the printed link.
fn login_link_cli(config: &dashboards::Config, dir: &Path, users: &Path, base: &str) -> String {
    let path = dir.join("login-link.toml");
    std::fs::write(&path, toml::to_string(config).unwrap()).unwrap();
    let out = StdCommand::new(BIN)
        .arg("--config")
        .arg(&path)
        .args(["login-link", "--user", "yard-a-manager", "--minutes", "5"])
        .args(["--base", base, "--next", "/feedlots/yard-a/animals"])
        .env("DASHBOARDS_WEB_SESSION_SECRET", SECRET)
        .env("DASHBOARDS_WEB_USERS_FILE", users)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `dashboards serve` over `config` with `env`; its log goes to `dir/<name>.log`.
async fn spawn(
    config: &dashboards::Config,
    dir: &Path,
    name: &str,
    env: &[(&str, &Path)],
) -> Child {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, toml::to_string(config).unwrap()).unwrap();
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    let mut command = Command::new(BIN);
    command
        .arg("--config")
        .arg(&path)
        .arg("serve")
        .env("RUST_LOG", "info")
        .env("DASHBOARDS_WEB_SESSION_SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    for (key, value) in env {
        command.env(key, value);
    }
    let child = command.spawn().unwrap();
    let health = format!("http://{}/healthz", config.web.listen);
    assert!(
        testkit::wait_until(Duration::from_secs(60), || async {
            reqwest::get(&health).await.is_ok()
        })
        .await,
        "{name} did not start"
    );
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_a_yard_only_to_the_users_of_its_users_file_and_none_without_users() {
    let p = support::pipeline("auth_binary").await;
    // `dashboards serve` never migrates: it waits for the schema `ingest` applies.
    support::migrate(&p).await;
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://{}", p.config.web.listen);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // No users: every yard route refused, and the log says why.
    let mut closed = spawn(&p.config, dir.path(), "closed", &[]).await;
    let api = reqwest::get(format!("{base}/api/feedlots/yard-a/animals"))
        .await
        .unwrap();
    assert_eq!(api.status(), 401);
    let login = no_redirects
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}&next=%2F", support::TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401);
    closed.start_kill().unwrap();
    closed.wait().await.unwrap();
    let log = std::fs::read_to_string(dir.path().join("closed.log")).unwrap();
    assert!(log.contains("NO WEB USERS CONFIGURED"), "{log}");

    // A users file from the environment: its user reads its yard, by token or by session.
    let users = dir.path().join("users.toml");
    std::fs::write(
        &users,
        format!(
            "[[users]]\nname = \"yard-a-manager\"\ntoken_sha256 = \"{}\"\nfeedlots = [\"yard-a\"]\n",
            dashboards::web::auth::hash_token(support::TOKEN)
        ),
    )
    .unwrap();
    let _open = spawn(
        &p.config,
        dir.path(),
        "open",
        &[("DASHBOARDS_WEB_USERS_FILE", users.as_path())],
    )
    .await;
    let api = support::authed()
        .get(format!("{base}/api/feedlots/yard-a/animals"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    // `dashboards login-link` prints a one-time link the server accepts once.
    let link = login_link_cli(&p.config, dir.path(), &users, &base);
    assert!(
        link.starts_with(&format!("{base}/login?code=c1.yard-a-manager."))
            && !link.contains(support::TOKEN),
        "{link}"
    );
    let login = no_redirects.get(&link).send().await.unwrap();
    assert_eq!(login.status(), 303);
    let again = no_redirects.get(&link).send().await.unwrap();
    assert_eq!(again.status(), 401, "a login link works once");
    assert!(again.text().await.unwrap().contains("already used"));
    let cookie = login.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    for (path, status) in [
        ("/feedlots/yard-a/animals", 200),
        ("/feedlots/yard-b/animals", 403),
        ("/api/feedlots/yard-b/animals", 403),
    ] {
        let r = no_redirects
            .get(format!("{base}{path}"))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{path}");
    }
    let open_log = std::fs::read_to_string(dir.path().join("open.log")).unwrap();
    assert!(
        !open_log.contains(support::TOKEN),
        "the token is never logged"
    );
}
