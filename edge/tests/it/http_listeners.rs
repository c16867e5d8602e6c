//! The gateway's HTTP listeners, against a running gateway: `/metrics` only on the ops listener
//! (`http.ops_listen`), never on the public one; the chute pages refused without a records API
//! token (Bearer, or the token as the Basic password a browser sends); the public listener over
//! HTTPS with a configured certificate (a client trusting it gets the pages, plain HTTP to the
//! port gets nothing); a TLS config with one path only refused naming the missing field.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use edge::api::{ApiToken, Role};
use edge::config::Config;
use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;

use crate::support::{Chute, config, start};

fn with_token(mut config: Config) -> Config {
    config.api.tokens = vec![ApiToken {
        token: "crew-1".into(),
        user: "sam".into(),
        role: Role::Operator,
    }];
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_only_on_the_ops_listener_and_the_chute_pages_need_a_token() {
    let chute = Chute::new().await;
    let data = tempfile::tempdir().unwrap();
    let nowhere = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let (public, ops) = (testkit::free_port().unwrap(), testkit::free_port().unwrap());
    let mut config = with_token(config(&chute, data.path(), &nowhere, "t"));
    config.http.listen = format!("127.0.0.1:{public}");
    config.http.ops_listen = format!("127.0.0.1:{ops}");
    let gateway = start(config).await;
    let public = format!("http://127.0.0.1:{public}");
    let ops = format!("http://127.0.0.1:{ops}");
    let client = reqwest::Client::new();
    let get = |url: String| client.get(url).send();

    // /metrics: on the ops listener only.
    let response = get(format!("{public}/metrics")).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = get(format!("{ops}/metrics")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(text.contains("edge_outbox_depth"), "{text}");
    // /healthz on both; the ops listener serves nothing else.
    for base in [&public, &ops] {
        let status = get(format!("{base}/healthz")).await.unwrap().status();
        assert!(status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE);
    }
    for path in ["/chute", "/api/v1/records/arrival"] {
        let status = get(format!("{ops}{path}")).await.unwrap().status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }

    // The chute pages: refused without a token (with a Basic challenge for the browser).
    for path in ["/chute", "/chute/animals/982000001088420"] {
        let response = get(format!("{public}{path}")).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Basic "), "{challenge}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("EID") && !body.contains("Waiting"), "{body}");
    }
    for (user, password) in [("chute", "crew-2"), ("sam", "")] {
        let response = client
            .get(format!("{public}/chute"))
            .basic_auth(user, Some(password))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{password:?}");
    }
    let response = client
        .get(format!("{public}/chute"))
        .bearer_auth("crew-2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // With the token: as the Basic password (what a browser sends) or as a Bearer token.
    let page = client
        .get(format!("{public}/chute"))
        .basic_auth("chute", Some("crew-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Waiting for the first animal")
    );
    let page = client
        .get(format!("{public}/chute"))
        .bearer_auth("crew-1")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_certificate_the_public_listener_speaks_https_only() {
    let dir = tempfile::tempdir().unwrap();
    let issued =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".into()])
            .unwrap();
    let cert_pem = issued.cert.pem();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, &cert_pem).unwrap();
    std::fs::write(&key_path, issued.signing_key.serialize_pem()).unwrap();

    let chute = Chute::new().await;
    let data = tempfile::tempdir().unwrap();
    let nowhere = format!("127.0.0.1:{}", testkit::free_port().unwrap());
    let port = testkit::free_port().unwrap();
    let mut config = with_token(config(&chute, data.path(), &nowhere, "t"));
    config.http.listen = format!("127.0.0.1:{port}");
    config.http.tls_cert_path = Some(cert_path);
    config.http.tls_key_path = Some(key_path);
    let gateway = start(config).await;

    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let page = trusting
            .get(format!("https://{host}:{port}/chute"))
            .basic_auth("chute", Some("crew-1"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{host}");
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("Waiting for the first animal")
        );
    }
    // Still refused without the token, over TLS too.
    let status = trusting
        .get(format!("https://localhost:{port}/chute"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A client that does not trust the certificate, and plain HTTP to the TLS port, get nothing.
    let untrusting = reqwest::Client::builder()
        .tls_certs_only([])
        .build()
        .unwrap();
    let refused = untrusting
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let plain = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP to the TLS port: {plain:?}");
    gateway.shutdown();
    gateway.wait().await.unwrap();
}

#[tokio::test]
async fn a_tls_config_with_only_one_path_does_not_start_and_names_the_missing_field() {
    let chute = Chute::new().await;
    let data = tempfile::tempdir().unwrap();
    for (cert, key, missing) in [
        (Some("/nonexistent/cert.pem"), None, "http.tls_key_path"),
        (None, Some("/nonexistent/key.pem"), "http.tls_cert_path"),
    ] {
        let mut config = config(&chute, data.path(), "127.0.0.1:9", "t");
        config.http.tls_cert_path = cert.map(Into::into);
        config.http.tls_key_path = key.map(Into::into);
        let err = edge::Gateway::start(config, CancellationToken::new())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("`{missing}`")), "{err}");
    }
}
