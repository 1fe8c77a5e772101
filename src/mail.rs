//! Outgoing e-mail with lettre: SMTP (STARTTLS, implicit TLS, or plain for a local relay) when
//! `[smtp] host` is set, else a development spool folder, `<data>/mail-spool/`, that receives
//! each message as an `.eml` file (lettre's file transport) for the operator to read.
//!
//! Services hand a [`Mail`] to [`Mailer::send`]; it never blocks a request on the SMTP dialogue
//! when called through [`Mailer::send_later`].

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::authentication::Credentials,
};

use crate::config::{Config, SmtpSecurity};

/// One plain-text message.
#[derive(Clone, Debug)]
pub struct Mail {
    /// Recipient address (already validated by `domain::Email`).
    pub to: String,
    /// Recipient name for the `To:` header (encoded by lettre; control characters are refused
    /// by the display-name rule before it gets here).
    pub to_name: Option<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body (UTF-8).
    pub body: String,
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Spool(AsyncFileTransport<Tokio1Executor>),
}

/// Sends mail. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    description: Arc<str>,
}

impl Mailer {
    /// Builds the transport of `[smtp]`. Errors: an unparsable `from`, a spool folder that
    /// cannot be created (the message names the path), a bad SMTP host name.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let smtp = &config.smtp;
        let from: Mailbox = smtp
            .from
            .parse()
            .with_context(|| format!("[smtp] from = {:?} is not an e-mail address", smtp.from))?;
        let (transport, description) = match &smtp.host {
            Some(host) => {
                let (builder, default_port, mode) = match smtp.security {
                    SmtpSecurity::Starttls => (
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
                        587,
                        "STARTTLS",
                    ),
                    SmtpSecurity::Tls => (
                        AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
                        465,
                        "implicit TLS",
                    ),
                    SmtpSecurity::None => (
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                        25,
                        "no encryption",
                    ),
                };
                let port = smtp.port.unwrap_or(default_port);
                let mut builder = builder
                    .port(port)
                    .timeout(Some(Duration::from_secs(smtp.timeout_secs.max(1))));
                if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
                    builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
                }
                (
                    Transport::Smtp(builder.build()),
                    format!("SMTP {host}:{port} ({mode})"),
                )
            }
            None => {
                let dir = spool_dir(config);
                crate::secrets::create_private_dir(&dir)
                    .with_context(|| format!("cannot create the mail spool {}", dir.display()))?;
                (
                    Transport::Spool(AsyncFileTransport::new(&dir)),
                    format!("spool folder {} (no [smtp] host set)", dir.display()),
                )
            }
        };
        Ok(Self {
            transport,
            from,
            description: description.into(),
        })
    }

    /// Where mail goes, for the start-up log: `SMTP host:port (STARTTLS)` or `spool folder …`.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Whether mail leaves the machine (SMTP), rather than landing in the spool folder.
    pub fn is_smtp(&self) -> bool {
        matches!(self.transport, Transport::Smtp(_))
    }

    /// Sends `mail` now. Returns the outcome for people: the server's reply (`250 …`) or the
    /// spool file's id. Errors: a bad address, the SMTP dialogue failing (the message says
    /// where: connection, TLS, authentication, a refused recipient), the spool not writable.
    pub async fn send(&self, mail: &Mail) -> anyhow::Result<String> {
        let to = Mailbox::new(
            mail.to_name.clone(),
            mail.to
                .parse()
                .with_context(|| format!("{:?} is not an e-mail address", mail.to))?,
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .context("building the message")?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                let response = smtp.send(message).await.context("SMTP")?;
                let text: Vec<&str> = response.message().collect();
                Ok(format!("{} {}", response.code(), text.join(" ")))
            }
            Transport::Spool(spool) => {
                let id = spool
                    .send(message)
                    .await
                    .context("writing to the mail spool")?;
                Ok(format!("spooled as {id}.eml"))
            }
        }
    }

    /// Sends `mail` in the background (the caller does not wait for the SMTP dialogue); a
    /// failure is logged with `what`.
    pub fn send_later(&self, mail: Mail, what: &'static str) {
        let mailer = self.clone();
        tokio::spawn(async move {
            match mailer.send(&mail).await {
                Ok(outcome) => tracing::info!(what, %outcome, "mail sent"),
                Err(err) => tracing::warn!(what, error = format!("{err:#}"), "mail not sent"),
            }
        });
    }
}

/// `<data>/mail-spool`.
pub fn spool_dir(config: &Config) -> PathBuf {
    config.data_dir.join("mail-spool")
}
