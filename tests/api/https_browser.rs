//! The proof in a real browser: headless Chromium that trusts the server's local CA (an NSS
//! database made with `certutil`, the way a Linux user would trust it) and resolves a made-up
//! name to 127.0.0.1 (`--host-resolver-rules`). `https://<name>:<port>/` is a secure context
//! where `crypto.subtle` works; `http://<name>:<port>/` is not, and shows the banner that points
//! to the HTTPS address and the /ca page.

use std::process::Command;

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

use crate::{
    browser::{WAIT, chromedriver_with, find},
    helpers::{Backend, spawn_app_with},
};

const NAME: &str = "echochat.test";

/// A HOME whose NSS database (`~/.pki/nssdb`, where Chromium on Linux keeps user-trusted CAs)
/// trusts `ca_pem` for web sites; `None` (skip, outside CI) without `certutil`.
fn home_trusting(ca_pem: &str) -> Option<tempfile::TempDir> {
    let Some(certutil) = ["/usr/bin/certutil", "/usr/local/bin/certutil"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install libnss3-tools"
        );
        eprintln!("skipped: install libnss3-tools (certutil) to run the HTTPS browser test");
        return None;
    };
    let home = tempfile::tempdir().expect("home");
    let db = home.path().join(".pki/nssdb");
    std::fs::create_dir_all(&db).expect("nssdb folder");
    let ca_file = home.path().join("echochat-ca.crt");
    std::fs::write(&ca_file, ca_pem).expect("CA file");
    let db_arg = format!("sql:{}", db.display());
    let run = |args: &[&str]| {
        let out = Command::new(certutil)
            .args(args)
            .output()
            .expect("certutil runs");
        assert!(out.status.success(), "certutil {args:?}: {out:?}");
    };
    run(&["-N", "-d", &db_arg, "--empty-password"]);
    run(&[
        "-A",
        "-d",
        &db_arg,
        "-t",
        "C,,",
        "-n",
        "EchoChat local CA",
        "-i",
        &ca_file.display().to_string(),
    ]);
    Some(home)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_on_a_lan_name_is_a_secure_context_and_plain_http_shows_the_banner() {
    if find("chromedriver").is_none() || find("chromium").is_none() {
        assert!(std::env::var("CI").is_err(), "CI must install chromium");
        eprintln!("skipped: install Debian's chromium and chromium-driver");
        return;
    }
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.tls.names = vec![NAME.to_owned()];
    })
    .await;
    let ca_pem = std::fs::read_to_string(app.config.data_dir.join("tls/ca.crt")).expect("CA");
    let Some(home) = home_trusting(&ca_pem) else {
        return;
    };
    let Some(driver) = chromedriver_with(&[("HOME", home.path())]).await else {
        return;
    };
    let profile = tempfile::tempdir().expect("profile");
    let caps = json!({
        "goog:chromeOptions": {
            "binary": find("chromium").expect("chromium"),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage", "--disable-component-update", "--no-first-run",
                     format!("--host-resolver-rules=MAP {NAME} 127.0.0.1"),
                     format!("--user-data-dir={}", profile.path().display())]
        }
    });
    let caps = caps
        .as_object()
        .expect("object")
        .clone()
        .into_iter()
        .collect();
    let c = ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("browser session");

    let tls_port = app.tls_addr.expect("HTTPS listener").port();
    let https = format!("https://{NAME}:{tls_port}/login");
    c.goto(&https).await.expect("HTTPS page");
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("login-form"))
        .await
        .expect(
            "the login page over HTTPS (a certificate error would show Chromium's interstitial)",
        );
    assert_eq!(c.current_url().await.expect("url").as_str(), https);
    let secure = c
        .execute("return window.isSecureContext", vec![])
        .await
        .expect("script");
    assert_eq!(secure, json!(true), "HTTPS on {NAME} is a secure context");
    let digest = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             crypto.subtle.digest('SHA-256', new TextEncoder().encode('echochat'))
               .then((d) => done(new Uint8Array(d).length), (e) => done(String(e)));",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(digest, json!(32), "crypto.subtle.digest works");

    let http_port = app.addr.port();
    c.goto(&format!("http://{NAME}:{http_port}/login"))
        .await
        .expect("HTTP page");
    let banner_ca = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#https-banner a#https-banner-ca[href='/ca']"))
        .await
        .expect("the banner with a link to /ca");
    assert!(banner_ca.is_displayed().await.expect("displayed"));
    let link = c
        .find(Locator::Id("https-banner-link"))
        .await
        .expect("HTTPS link");
    assert_eq!(
        link.attr("href").await.expect("href").as_deref(),
        Some(https.as_str()),
        "the banner points to the same page over HTTPS"
    );
    let insecure = c
        .execute(
            "return [window.isSecureContext, typeof crypto.subtle]",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(
        insecure,
        json!([false, "undefined"]),
        "plain HTTP on {NAME} is not a secure context"
    );
    c.close().await.ok();
}
