//! `echochat`: parse the command line, set up logging, dispatch.

use clap::Parser;
use echochat::{
    VERSION, build_app,
    cli::{Cli, Command},
    config::Config,
    http, install_crypto_provider, realtime, telemetry,
};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    install_crypto_provider();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Openapi) => {
            println!("{}", http::openapi_json());
            std::process::ExitCode::SUCCESS
        }
        Some(Command::Asyncapi) => {
            println!("{}", realtime::schema::asyncapi_json());
            std::process::ExitCode::SUCCESS
        }
        Some(Command::SmtpTest { ref to }) => match smtp_test(&cli, to).await {
            Ok(outcome) => {
                println!("sent: {outcome}");
                std::process::ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("echochat smtp-test: not sent: {err:#}");
                std::process::ExitCode::FAILURE
            }
        },
        Some(Command::Admin { ref command }) => echochat::admin_cli::run(&cli, command).await,
        Some(Command::Doctor) => echochat::doctor::run(&cli).await,
        Some(Command::Serve) | None => {
            telemetry::init();
            match serve(&cli).await {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(err) => {
                    tracing::error!("{err:#}");
                    eprintln!("echochat: {err:#}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
    }
}

async fn serve(cli: &Cli) -> anyhow::Result<()> {
    let loaded = Config::load(cli.overrides())?;
    tracing::info!(version = VERSION, "EchoChat starting");
    tracing::info!(sources = %loaded.sources.join(" < "), "configuration loaded");
    for key in &loaded.unknown_keys {
        tracing::warn!(key = %key, "unknown configuration key ignored");
    }
    // Handlers are installed before start-up, so a SIGTERM during start-up is a clean stop too.
    let signal = shutdown_signal()?;
    let app = build_app(loaded.config).await?;
    app.run_until_stopped(signal).await
}

/// `echochat smtp-test --to ADDRESS`: one test mail through the configured transport.
async fn smtp_test(cli: &Cli, to: &str) -> anyhow::Result<String> {
    let loaded = Config::load(cli.overrides())?;
    let to = echochat::domain::Email::parse(to).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    let mailer = echochat::mail::Mailer::from_config(&loaded.config)?;
    println!("delivery: {}", mailer.describe());
    mailer
        .send(&echochat::mail::Mail {
            to: to.as_str().to_owned(),
            to_name: None,
            subject: "EchoChat SMTP test".into(),
            body: format!(
                "This is a test message from EchoChat {}. If you can read it, e-mail works.\n",
                echochat::VERSION
            ),
        })
        .await
}

/// Completes on Ctrl-C or SIGTERM.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::spawn(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        let _ = tx.send(());
    });
    Ok(async move {
        let _ = rx.await;
    })
}
