//! Email destinations: SMTP with TLS through lettre (rustls, no OpenSSL).
//!
//! `SMTP_URL` chooses the TLS mode: `smtps://` is implicit TLS (port 465 by default) and `smtp://` is STARTTLS,
//! which is REQUIRED: a server that does not offer it is refused rather than sent the report in clear. The only
//! way to send without TLS is [`SmtpSecurity::PlaintextLoopback`], which tests use for a local SMTP sink and which
//! refuses any host that is not a loopback address, so it cannot leak mail across a network by mistake.
//!
//! Every message is multipart: a plain-text part and an HTML part (with an optional inline PNG chart the HTML
//! refers to as `cid:chart`), plus optional attachments such as a data-sync CSV.

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;
use tochen_config::SmtpConfig;
use url::Url;

/// The Content-ID of the inline chart; HTML bodies refer to it as `<img src="cid:chart">`.
pub const CHART_CID: &str = "chart";

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("smtp url is invalid: {0}; expected smtps://user:pass@host:465 or smtp://user:pass@host:587")]
    BadUrl(String),
    #[error("plain-text smtp is only allowed to a loopback host, not {0:?}")]
    PlaintextNotLoopback(String),
    #[error("email address {0:?} is invalid")]
    BadAddress(String),
    #[error("cannot build the email: {0}")]
    Build(String),
    #[error("smtp delivery failed: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpSecurity {
    /// Implicit TLS for `smtps://`, required STARTTLS for `smtp://`. The only mode production uses.
    #[default]
    Tls,
    /// No TLS at all; only to 127.0.0.1 / ::1 / localhost. For tests against a local sink.
    PlaintextLoopback,
}

/// A file attached to an email.
#[derive(Debug, Clone)]
pub struct EmailAttachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A localized message, ready to send.
#[derive(Debug, Clone, Default)]
pub struct EmailContent {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// A PNG shown inline in the HTML part as `cid:chart`.
    pub chart_png: Option<Vec<u8>>,
    pub attachments: Vec<EmailAttachment>,
}

/// Sends emails through one SMTP server. Cheap to clone.
#[derive(Clone)]
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl EmailSender {
    /// The production sender: TLS required.
    pub fn from_config(config: &SmtpConfig) -> Result<Self, EmailError> {
        Self::new(config.url.expose(), &config.from, SmtpSecurity::Tls)
    }

    pub fn new(url: &str, from: &str, security: SmtpSecurity) -> Result<Self, EmailError> {
        let parsed = Url::parse(url).map_err(|e| EmailError::BadUrl(e.to_string()))?;
        let host = parsed.host_str().ok_or_else(|| EmailError::BadUrl("no host".into()))?.to_owned();
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        type T = AsyncSmtpTransport<Tokio1Executor>;
        let mut builder = match (security, parsed.scheme()) {
            (SmtpSecurity::Tls, "smtps") => T::relay(&host)?.port(parsed.port().unwrap_or(465)),
            (SmtpSecurity::Tls, "smtp") => T::starttls_relay(&host)?.port(parsed.port().unwrap_or(587)),
            (SmtpSecurity::PlaintextLoopback, "smtp") => {
                let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
                if !loopback {
                    return Err(EmailError::PlaintextNotLoopback(host));
                }
                T::builder_dangerous(&host).port(parsed.port().unwrap_or(25))
            }
            (_, other) => return Err(EmailError::BadUrl(format!("scheme {other:?}"))),
        };
        if !parsed.username().is_empty() {
            let user = percent_decode(parsed.username());
            let pass = percent_decode(parsed.password().unwrap_or_default());
            builder = builder.credentials(Credentials::new(user, pass));
        }
        let transport = builder.timeout(Some(Duration::from_secs(30))).build();
        let from = from.parse().map_err(|_| EmailError::BadAddress(from.to_owned()))?;
        Ok(Self { transport, from })
    }

    /// Sends one message to `to`.
    #[tracing::instrument(skip(self, content), fields(subject = %content.subject))]
    pub async fn send(&self, to: &str, content: &EmailContent) -> Result<(), EmailError> {
        let to: Mailbox = to.parse().map_err(|_| EmailError::BadAddress(to.to_owned()))?;
        let message = build_message(self.from.clone(), to, content)?;
        self.transport.send(message).await?;
        Ok(())
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Builds `mixed(alternative(text, related(html, chart)), attachments...)`, leaving out the layers not needed.
pub fn build_message(from: Mailbox, to: Mailbox, content: &EmailContent) -> Result<Message, EmailError> {
    let html = SinglePart::html(content.html.clone());
    let html_part = match &content.chart_png {
        Some(png) => MultiPart::related().singlepart(html).singlepart(
            Attachment::new_inline(CHART_CID.to_owned())
                .body(png.clone(), ContentType::parse("image/png").expect("valid")),
        ),
        None => MultiPart::related().singlepart(html),
    };
    let alternative = MultiPart::alternative().singlepart(SinglePart::plain(content.text.clone())).multipart(html_part);
    let body = content.attachments.iter().try_fold(MultiPart::mixed().multipart(alternative), |mixed, a| {
        let ct = ContentType::parse(&a.content_type).map_err(|e| EmailError::Build(e.to_string()))?;
        Ok::<_, EmailError>(mixed.singlepart(Attachment::new(a.filename.clone()).body(a.bytes.clone(), ct)))
    })?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(content.subject.clone())
        .multipart(body)
        .map_err(|e| EmailError::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_is_refused_for_hosts_that_are_not_loopback() {
        let err = EmailSender::new("smtp://mail.example.com:25", "a@example.com", SmtpSecurity::PlaintextLoopback)
            .unwrap_err();
        assert!(matches!(err, EmailError::PlaintextNotLoopback(h) if h == "mail.example.com"));
        assert!(EmailSender::new("smtp://127.0.0.1:2525", "a@example.com", SmtpSecurity::PlaintextLoopback).is_ok());
        assert!(matches!(
            EmailSender::new("http://mail.example.com", "a@example.com", SmtpSecurity::Tls),
            Err(EmailError::BadUrl(_))
        ));
        assert!(
            EmailSender::new("smtps://u:p%40ss@mail.example.com", "tochen <r@example.com>", SmtpSecurity::Tls).is_ok()
        );
        assert_eq!(percent_decode("p%40ss+w"), "p@ss+w");
    }
}
