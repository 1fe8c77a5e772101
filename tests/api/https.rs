//! HTTPS next to HTTP (docs/https.md): the local CA and its files, serving with it, the cookie
//! prefixes and the Origin check over TLS, the CA download, re-issue before expiry, operator
//! certificate files reloaded on change, HSTS only in `files` mode, and the errors at start.

use std::{path::Path, time::Duration};

use echochat::{build_app, config::TlsMode, tls::ca};
use rcgen::{CertificateParams, Issuer, KeyPair};
use serde_json::{Value, json};
use tokio::{io::AsyncReadExt, net::TcpStream};

use crate::{
    both_backends,
    helpers::{Backend, PASSWORD, TestApp, call, spawn_app_with, spawn_ready_app, test_config},
};

/// A client that trusts exactly the PEM certificate `ca_pem` (no system roots) and records the
/// server's certificate.
fn client_trusting(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("PEM")])
        .tls_info(true)
        .build()
        .expect("client")
}

fn https_url(app: &TestApp, path: &str) -> String {
    let port = app.tls_addr.expect("HTTPS listener").port();
    format!("https://localhost:{port}{path}")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn cert_der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    CertificateDer::from_pem_slice(pem.as_bytes())
        .expect("PEM certificate")
        .to_vec()
}

/// The DER certificate the server presented on `resp`'s connection.
fn served_cert(resp: &reqwest::Response) -> Vec<u8> {
    resp.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .expect("TLS info")
        .to_vec()
}

/// The `Set-Cookie` headers of a response.
fn set_cookies(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect()
}

fn cookie_value(cookies: &[String], name: &str) -> String {
    cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("{name} in {cookies:#?}"))
        .to_owned()
}

async fn local_ca_flow(backend: Backend) {
    let mut app = spawn_ready_app(backend).await;
    let tls_dir = app.config.data_dir.join("tls");
    for file in ["ca.key", "ca.crt", "server.key", "server.crt"] {
        assert!(tls_dir.join(file).is_file(), "{file} exists");
    }
    #[cfg(unix)]
    {
        assert_eq!(mode(&tls_dir.join("ca.key")), 0o600, "ca.key is private");
        assert_eq!(
            mode(&tls_dir.join("server.key")),
            0o600,
            "server.key is private"
        );
        assert_eq!(mode(&tls_dir), 0o700, "the tls folder is private");
    }
    let ca_pem = read(&tls_dir.join("ca.crt"));
    let server = ca::describe(&cert_der(&read(&tls_dir.join("server.crt")))).expect("X.509");
    for name in ["localhost", "127.0.0.1", "::1"] {
        assert!(server.names.contains(name), "{name} in {:?}", server.names);
    }

    // Trusting the CA, HTTPS works; without it, the handshake fails.
    let trusting = client_trusting(&ca_pem);
    let resp = trusting
        .get(https_url(&app, "/api/v1/health"))
        .send()
        .await
        .expect("HTTPS with the CA trusted");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers().get("strict-transport-security").is_none(),
        "no HSTS for the local CA"
    );
    assert_eq!(
        served_cert(&resp),
        cert_der(&read(&tls_dir.join("server.crt")))
    );
    let untrusting = reqwest::Client::new();
    let err = untrusting
        .get(https_url(&app, "/api/v1/health"))
        .send()
        .await
        .expect_err("an unknown CA is refused");
    assert!(err.is_connect(), "{err:?}");

    // The CA download is the file; the JSON route names the same fingerprint.
    let resp = call(app.http.get(app.url("/ca.crt"))).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-x509-ca-cert");
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"echochat-ca.crt\""
    );
    assert_eq!(resp.text().await.expect("text"), ca_pem);
    let fingerprint = ca::fingerprint_sha256(&cert_der(&ca_pem));
    let info = call(trusting.get(https_url(&app, "/api/v1/server/tls"))).await;
    let info: Value = info.json().await.expect("json");
    assert_eq!(info["mode"], "self-signed");
    assert_eq!(info["ca_fingerprint_sha256"], fingerprint.as_str());
    assert_eq!(
        info["https_port"],
        app.tls_addr.expect("tls").port(),
        "{info}"
    );
    let page = call(app.http.get(app.url("/ca"))).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("/ca.crt"));

    // Cookies: __Host- and Secure over TLS, plain names over HTTP.
    let login = json!({"username": "admin", "password": PASSWORD});
    let resp = call(
        trusting
            .post(https_url(&app, "/api/v1/auth/login"))
            .json(&login),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let tls_cookies = set_cookies(resp.headers());
    assert_eq!(tls_cookies.len(), 2, "{tls_cookies:#?}");
    for cookie in &tls_cookies {
        assert!(cookie.starts_with("__Host-echochat_"), "{cookie}");
        assert!(cookie.contains("; Secure"), "{cookie}");
        assert!(
            cookie.contains("; Path=/;") || cookie.ends_with("; Path=/"),
            "{cookie}"
        );
        assert!(!cookie.contains("Domain"), "{cookie}");
    }
    let resp = call(app.http.post(app.url("/api/v1/auth/login")).json(&login)).await;
    let http_cookies = set_cookies(resp.headers());
    assert_eq!(http_cookies.len(), 2, "{http_cookies:#?}");
    for cookie in &http_cookies {
        assert!(cookie.starts_with("echochat_"), "{cookie}");
        assert!(!cookie.contains("Secure"), "{cookie}");
    }

    // The prefixed cookie authenticates over TLS; an unprefixed one does not (anyone in the
    // domain, or a plain-HTTP page, could have set it).
    let access = cookie_value(&tls_cookies, "__Host-echochat_access");
    let me = call(
        trusting
            .get(https_url(&app, "/api/v1/users/me"))
            .header("cookie", format!("__Host-echochat_access={access}")),
    )
    .await;
    assert_eq!(me.status(), 200);
    let me = call(
        trusting
            .get(https_url(&app, "/api/v1/users/me"))
            .header("cookie", format!("echochat_access={access}")),
    )
    .await;
    assert_eq!(me.status(), 401, "an unprefixed cookie is ignored over TLS");

    // Origin over TLS is https://<host>: a cookie refresh from it passes, from http:// it does not.
    let refresh = cookie_value(&tls_cookies, "__Host-echochat_refresh");
    let port = app.tls_addr.expect("tls").port();
    let wrong = call(
        trusting
            .post(https_url(&app, "/api/v1/auth/refresh"))
            .header("cookie", format!("__Host-echochat_refresh={refresh}"))
            .header("origin", format!("http://localhost:{port}"))
            .json(&json!({})),
    )
    .await;
    assert_eq!(wrong.status(), 403, "http:// is another origin");
    let right = call(
        trusting
            .post(https_url(&app, "/api/v1/auth/refresh"))
            .header("cookie", format!("__Host-echochat_refresh={refresh}"))
            .header("origin", format!("https://localhost:{port}"))
            .json(&json!({})),
    )
    .await;
    assert_eq!(right.status(), 200, "the TLS origin is our own");
    assert!(
        set_cookies(right.headers())
            .iter()
            .all(|c| c.starts_with("__Host-"))
    );

    // A restart on the same data folder keeps the CA.
    app.restart().await;
    assert_eq!(
        read(&tls_dir.join("ca.crt")),
        ca_pem,
        "same CA after restart"
    );
    let resp = trusting
        .get(https_url(&app, "/api/v1/health"))
        .send()
        .await
        .expect("HTTPS after restart");
    assert_eq!(resp.status(), 200);
}
both_backends!(local_ca_serves_https_with_prefixed_cookies => super::local_ca_flow);

/// Signs a server certificate with the app's CA that expires in `days` days.
fn write_server_cert_expiring_in(tls_dir: &Path, days: i64) {
    let ca_key = KeyPair::from_pem(&read(&tls_dir.join("ca.key"))).expect("CA key");
    let issuer = Issuer::from_ca_cert_pem(&read(&tls_dir.join("ca.crt")), ca_key).expect("CA");
    let old = ca::describe(&cert_der(&read(&tls_dir.join("server.crt")))).expect("X.509");
    let mut params =
        CertificateParams::new(old.names.iter().cloned().collect::<Vec<_>>()).expect("names");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(80);
    params.not_after = now + time::Duration::days(days);
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &issuer).expect("signed");
    std::fs::write(tls_dir.join("server.crt"), cert.pem()).expect("write cert");
    std::fs::write(tls_dir.join("server.key"), key.serialize_pem()).expect("write key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_certificate_close_to_expiry_is_issued_again_at_start() {
    let mut app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let tls_dir = app.config.data_dir.join("tls");
    app.stop().await;
    write_server_cert_expiring_in(&tls_dir, 10);
    let expiring = read(&tls_dir.join("server.crt"));
    app.restart().await;
    let now = read(&tls_dir.join("server.crt"));
    assert_ne!(now, expiring, "issued again");
    let cert = ca::describe(&cert_der(&now)).expect("X.509");
    let days_left = (cert.not_after - time::OffsetDateTime::now_utc().unix_timestamp()) / 86_400;
    assert!((85..=90).contains(&days_left), "{days_left} days left");
    let resp = client_trusting(&read(&tls_dir.join("ca.crt")))
        .get(https_url(&app, "/api/v1/health"))
        .send()
        .await
        .expect("HTTPS");
    assert_eq!(
        served_cert(&resp),
        cert_der(&now),
        "the new certificate is served"
    );

    // One with 60 days left is kept.
    app.stop().await;
    write_server_cert_expiring_in(&tls_dir, 60);
    let fine = read(&tls_dir.join("server.crt"));
    app.restart().await;
    assert_eq!(read(&tls_dir.join("server.crt")), fine, "kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_folder_that_cannot_be_created_is_a_clear_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A regular file where the folder should be (chmod would not stop root, who runs the tests).
    std::fs::write(dir.path().join("tls"), "not a folder").expect("file");
    let mut config = test_config(dir.path());
    config.tls.mode = TlsMode::SelfSigned;
    let err = match build_app(config).await {
        Ok(_) => panic!("start-up must fail"),
        Err(err) => format!("{err:#}"),
    };
    let path = dir.path().join("tls").display().to_string();
    assert!(err.contains(&path), "{err}");
    assert!(err.contains("TLS certificate directory"), "{err}");
}

/// A self-signed certificate for `localhost` and its key, as PEM (what an operator might bring).
fn operator_cert() -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    let cert = params.self_signed(&key).expect("cert");
    (cert.pem(), key.serialize_pem())
}

async fn files_mode_flow(backend: Backend) {
    let certs = tempfile::tempdir().expect("tempdir");
    let cert_file = certs.path().join("cert.pem");
    let key_file = certs.path().join("key.pem");
    let (first_cert, first_key) = operator_cert();
    std::fs::write(&cert_file, &first_cert).expect("cert");
    std::fs::write(&key_file, &first_key).expect("key");
    let (cf, kf) = (cert_file.clone(), key_file.clone());
    let app = spawn_app_with(backend, move |config| {
        config.tls.mode = TlsMode::Files;
        config.tls.cert_file = Some(cf);
        config.tls.key_file = Some(kf);
    })
    .await;
    assert!(
        !app.config.data_dir.join("tls").exists(),
        "no local CA in files mode"
    );

    let resp = client_trusting(&first_cert)
        .get(https_url(&app, "/api/v1/health"))
        .send()
        .await
        .expect("HTTPS with the operator certificate");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["strict-transport-security"],
        "max-age=31536000",
        "HSTS in files mode over TLS"
    );
    let plain = call(app.http.get(app.url("/api/v1/health"))).await;
    assert!(
        plain.headers().get("strict-transport-security").is_none(),
        "never HSTS over plain HTTP"
    );
    let resp = call(app.http.get(app.url("/ca.crt"))).await;
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "not_found");
    let info = app.get_public_json("/api/v1/server/tls").await;
    assert_eq!(info["mode"], "files");
    assert!(info.get("ca_fingerprint_sha256").is_none(), "{info}");

    // New files: new handshakes get the new certificate, within the poll interval.
    let (second_cert, second_key) = operator_cert();
    std::fs::write(certs.path().join("key.tmp"), &second_key).expect("key");
    std::fs::write(certs.path().join("cert.tmp"), &second_cert).expect("cert");
    std::fs::rename(certs.path().join("key.tmp"), &key_file).expect("swap key");
    std::fs::rename(certs.path().join("cert.tmp"), &cert_file).expect("swap cert");
    let second = client_trusting(&second_cert);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        match second.get(https_url(&app, "/api/v1/health")).send().await {
            Ok(resp) => {
                assert_eq!(served_cert(&resp), cert_der(&second_cert));
                break;
            }
            Err(err) => assert!(
                tokio::time::Instant::now() < deadline,
                "the new certificate is served within 15 s: {err:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Existing trust in the old certificate no longer helps.
    let err = client_trusting(&first_cert)
        .get(https_url(&app, "/api/v1/health"))
        .send()
        .await
        .expect_err("the old certificate is gone");
    assert!(err.is_connect(), "{err:?}");
}
both_backends!(files_mode_serves_and_reloads_the_operator_certificate => super::files_mode_flow);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_operator_files_are_a_start_up_error_naming_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert_file = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");
    let (cert, _) = operator_cert();
    let (_, other_key) = operator_cert();
    std::fs::write(&cert_file, cert).expect("cert");
    std::fs::write(&key_file, other_key).expect("key");
    let mut config = test_config(dir.path());
    config.tls.mode = TlsMode::Files;
    config.tls.cert_file = Some(cert_file.clone());
    config.tls.key_file = Some(key_file.clone());
    let err = match build_app(config.clone()).await {
        Ok(_) => panic!("a key of another certificate must be refused"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains(&cert_file.display().to_string()), "{err}");
    assert!(err.contains("cannot be used with the certificate"), "{err}");

    std::fs::write(&cert_file, "garbage").expect("cert");
    let err = match build_app(config.clone()).await {
        Ok(_) => panic!("garbage must be refused"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains(&cert_file.display().to_string()), "{err}");

    config.tls.key_file = None;
    let err = match build_app(config).await {
        Ok(_) => panic!("files mode needs both files"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains("key_file"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_tls_off_there_is_no_https_listener_and_no_ca() {
    let app = spawn_app_with(Backend::Sqlite, |config| config.tls.mode = TlsMode::Off).await;
    assert!(app.tls_addr.is_none());
    let resp = call(app.http.get(app.url("/ca.crt"))).await;
    assert_eq!(resp.status(), 404);
    let info = app.get_public_json("/api/v1/server/tls").await;
    assert_eq!(info, json!({"mode": "off"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_handshake_that_never_comes_is_dropped_after_the_header_read_timeout() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.http.header_read_timeout_secs = 1;
    })
    .await;
    let mut silent = TcpStream::connect(app.tls_addr.expect("tls"))
        .await
        .expect("connect");
    let start = tokio::time::Instant::now();
    let mut buf = [0_u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
        .await
        .expect("closed within 5 s");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "closed without an answer: {read:?}"
    );
    assert!(start.elapsed() >= Duration::from_millis(900));
}
