//! Email destinations: SMTP through lettre (rustls, no OpenSSL), to any relay.
//!
//! `SMTP_TLS` (see `tochen_config::SmtpTls`) decides how the connection is protected, and no mode ever falls back
//! to clear text on its own:
//! - `required` (default): `smtps://` is implicit TLS (port 465 by default), `smtp://` is STARTTLS (587), which is
//!   REQUIRED: a relay that does not offer it is refused rather than sent the report in clear.
//! - `starttls`: the same mandatory STARTTLS, spelled out (an `smtps://` URL is a configuration error).
//! - `none`: no TLS at all (port 25 by default), only to a loopback or private address (checked when the sender is
//!   built, a name by resolving it), for a relay on the same host or in the compose network.
//!
//! The relay's certificate is checked against the operating system's certificate store, the built-in webpki
//! roots AND the CA certificates of `SMTP_CA_FILE` (a company CA).
//!
//! Every message is multipart: a plain-text part and an HTML part (with an optional inline PNG chart the HTML
//! refers to as `cid:chart`), plus optional attachments such as a data-sync CSV.

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::OnceLock;
use std::time::Duration;
use tochen_config::{smtp_default_port, SmtpConfig, SmtpTls};
use url::Url;

/// The Content-ID of the inline chart; HTML bodies refer to it as `<img src="cid:chart">`.
pub const CHART_CID: &str = "chart";

/// How long one SMTP step (connect, a reply) may take.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("smtp url is invalid: {0}; expected smtps://user:pass@host:465 or smtp://user:pass@host:587")]
    BadUrl(String),
    #[error(
        "SMTP_TLS=none sends in clear and is only allowed to a loopback or private address, but {0}; \
         use SMTP_TLS=required"
    )]
    PlaintextNotPrivate(String),
    #[error("SMTP_TLS={0} cannot be used with an smtps:// url; use smtp:// or SMTP_TLS=required")]
    TlsModeMismatch(&'static str),
    #[error("the tls settings for the smtp relay cannot be built: {0}; check SMTP_CA_FILE")]
    TlsSetup(String),
    #[error("email address {0:?} is invalid")]
    BadAddress(String),
    #[error("cannot build the email: {0}")]
    Build(String),
    #[error("{}", SmtpFailure::of(.0))]
    Smtp(#[from] lettre::transport::smtp::Error),
}

/// Which SMTP step failed, for `check-config --smtp` and for the messages of failed deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpStep {
    Connect,
    Ehlo,
    Tls,
    Auth,
    Send,
    Quit,
}

impl SmtpStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Ehlo => "ehlo",
            Self::Tls => "tls",
            Self::Auth => "auth",
            Self::Send => "send",
            Self::Quit => "quit",
        }
    }
}

/// What went wrong talking to the relay, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpFailure {
    pub step: SmtpStep,
    /// Will fail the same way again until someone changes the configuration or the relay (5xx, TLS, auth).
    pub permanent: bool,
    /// `step: what happened — what to do`.
    pub message: String,
}

impl std::fmt::Display for SmtpFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl SmtpFailure {
    fn new(step: SmtpStep, permanent: bool, what: impl std::fmt::Display, hint: &str) -> Self {
        let message = if hint.is_empty() {
            format!("{}: {what}", step.as_str())
        } else {
            format!("{}: {what} — {hint}", step.as_str())
        };
        Self { step, permanent, message }
    }

    /// Sorts a lettre error: which step, whether it is permanent, and a hint. `during` is the step that was under
    /// way when the error is not self-explanatory (a sending transport does every step in one call).
    pub fn classify(e: &lettre::transport::smtp::Error, during: SmtpStep) -> Self {
        if let Some(tls) = rustls_error(e) {
            return Self::new(SmtpStep::Tls, true, tls, tls_hint(tls));
        }
        let text = source_text(e);
        if e.is_client() {
            if text.contains("STARTTLS") {
                return Self::new(
                    SmtpStep::Tls,
                    true,
                    "the relay does not offer STARTTLS",
                    "use smtps:// if it listens with implicit TLS (port 465), or SMTP_TLS=none if it is on a \
                     private network",
                );
            }
            if text.contains("authentication") {
                return Self::new(
                    SmtpStep::Auth,
                    true,
                    "the relay offers no authentication mechanism tochen supports (PLAIN, LOGIN)",
                    "remove the user and password from SMTP_URL if the relay needs none",
                );
            }
            return Self::new(during, true, text, "");
        }
        if let Some(code) = e.status() {
            let reply = format!("{code} {text}").trim().to_owned();
            let auth = during == SmtpStep::Auth || matches!(code.to_string().as_str(), "535" | "534" | "530" | "454");
            return match (e.is_permanent(), auth) {
                (true, true) => Self::new(
                    SmtpStep::Auth,
                    true,
                    format!("the relay refused the login: {reply}"),
                    "check the user and password in SMTP_URL (percent-encode special characters)",
                ),
                (true, false) => Self::new(during, true, format!("the relay refused: {reply}"), ""),
                (false, _) => {
                    Self::new(during, false, format!("the relay answered: {reply}"), "tochen tries again later")
                }
            };
        }
        if e.is_timeout() {
            return Self::new(during, false, "timed out", "check the host and port in SMTP_URL and the firewall");
        }
        if during == SmtpStep::Connect {
            return Self::new(
                SmtpStep::Connect,
                false,
                text,
                "check the host and port in SMTP_URL and that the relay is running",
            );
        }
        Self::new(during, false, text, "")
    }

    /// The failure of a sending transport (which connects, greets, upgrades, logs in and sends in one call).
    pub fn of(e: &lettre::transport::smtp::Error) -> Self {
        let during = if e.is_permanent() || e.is_transient() { SmtpStep::Send } else { SmtpStep::Connect };
        Self::classify(e, during)
    }
}

/// The rustls error behind a lettre error, if the TLS handshake is what failed (lettre wraps it in an I/O error).
fn rustls_error(e: &lettre::transport::smtp::Error) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if let Some(tls) = tls.downcast_ref::<rustls::Error>() {
                return Some(tls);
            }
        }
        next = err.source();
    }
    None
}

/// The text of the innermost cause (lettre's own prefix such as "Connection error" says little).
fn source_text(e: &lettre::transport::smtp::Error) -> String {
    std::error::Error::source(e).map(|s| s.to_string()).unwrap_or_else(|| e.to_string())
}

fn tls_hint(e: &rustls::Error) -> &'static str {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            "the relay's certificate is for another name: put the name it is issued to in SMTP_URL"
        }
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "the relay's certificate has expired: renew it on the relay"
        }
        rustls::Error::InvalidCertificate(_) => {
            "set SMTP_CA_FILE to the PEM file of the CA that signed the relay's certificate (tochen trusts the \
             system store, the built-in public roots and that file)"
        }
        _ => "check the port: smtps:// expects implicit TLS (usually 465), smtp:// STARTTLS (usually 587)",
    }
}

/// What [`EmailSender::probe`] found: the steps that passed, and the one that failed, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpProbe {
    pub passed: Vec<String>,
    pub failed: Option<SmtpFailure>,
}

impl SmtpProbe {
    /// The passed steps when all did, else the failure.
    pub fn result(self) -> Result<Vec<String>, SmtpFailure> {
        match self.failed {
            None => Ok(self.passed),
            Some(f) => Err(f),
        }
    }
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

/// Where and how to reach the relay.
#[derive(Clone)]
struct Relay {
    host: String,
    port: u16,
    /// Implicit TLS (`smtps://`).
    implicit: bool,
    /// `None` for `SMTP_TLS=none`.
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
}

/// Sends emails through one SMTP server. Cheap to clone.
#[derive(Clone)]
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    relay: Relay,
    from: Mailbox,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender")
            .field("host", &self.relay.host)
            .field("port", &self.relay.port)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// The operating system's CA certificates that rustls can use, read once.
fn native_roots() -> &'static [Vec<u8>] {
    static ROOTS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        if !found.errors.is_empty() {
            tracing::debug!(errors = found.errors.len(), "some system CA certificates could not be read");
        }
        found
            .certs
            .into_iter()
            .filter(|c| rustls::RootCertStore::empty().add(c.clone()).is_ok())
            .map(|c| c.to_vec())
            .collect()
    })
}

/// TLS settings for `host`: the built-in webpki roots, the system store and `extra` (DER CA certificates).
fn tls_parameters(host: &str, extra: &[Vec<u8>]) -> Result<TlsParameters, EmailError> {
    let mut builder = TlsParameters::builder(host.to_owned()).certificate_store(CertificateStore::WebpkiRoots);
    for der in native_roots().iter().chain(extra) {
        let cert = Certificate::from_der(der.clone()).map_err(|e| EmailError::TlsSetup(e.to_string()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| EmailError::TlsSetup(source_text(&e)))
}

impl EmailSender {
    /// The production sender: `SMTP_URL`, `SMTP_FROM`, `SMTP_TLS` and `SMTP_CA_FILE`.
    /// The sender of a configured relay, or `None` when there is none or it cannot be used (said in the log once,
    /// at start-up): every component that sends email builds it this way.
    pub fn configured(config: Option<&SmtpConfig>) -> Option<Self> {
        match Self::from_config(config?) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!(error = %e, "email destinations are disabled: SMTP_URL cannot be used");
                None
            }
        }
    }

    pub fn from_config(config: &SmtpConfig) -> Result<Self, EmailError> {
        let extra = config.ca_file.as_ref().map(|c| c.certs.as_slice()).unwrap_or_default();
        Self::new(config.url.expose(), &config.from, config.tls, extra)
    }

    /// A sender to `url` with TLS per `tls`, trusting `extra_roots` (DER) besides the system and built-in roots.
    pub fn new(url: &str, from: &str, tls: SmtpTls, extra_roots: &[Vec<u8>]) -> Result<Self, EmailError> {
        let parsed = Url::parse(url).map_err(|e| EmailError::BadUrl(e.to_string()))?;
        let host = parsed.host_str().ok_or_else(|| EmailError::BadUrl("no host".into()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let scheme = parsed.scheme();
        if !matches!(scheme, "smtp" | "smtps") {
            return Err(EmailError::BadUrl(format!("scheme {scheme:?}")));
        }
        let implicit = scheme == "smtps";
        if implicit && tls != SmtpTls::Required {
            return Err(EmailError::TlsModeMismatch(tls.as_str()));
        }
        let port = parsed.port().unwrap_or(smtp_default_port(scheme, tls));
        let params = match tls {
            SmtpTls::None => {
                tochen_config::check_plaintext_host(&host, port).map_err(EmailError::PlaintextNotPrivate)?;
                None
            }
            SmtpTls::Required | SmtpTls::StartTls => Some(tls_parameters(&host, extra_roots)?),
        };
        let mode = match &params {
            None => Tls::None,
            Some(p) if implicit => Tls::Wrapper(p.clone()),
            Some(p) => Tls::Required(p.clone()),
        };
        let credentials = (!parsed.username().is_empty()).then(|| {
            Credentials::new(percent_decode(parsed.username()), percent_decode(parsed.password().unwrap_or_default()))
        });
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host).port(port).tls(mode);
        if let Some(c) = &credentials {
            builder = builder.credentials(c.clone());
        }
        let transport = builder.timeout(Some(TIMEOUT)).build();
        let from = from.parse().map_err(|_| EmailError::BadAddress(from.to_owned()))?;
        let relay = Relay { host, port, implicit, tls: params, credentials };
        Ok(Self { transport, relay, from })
    }

    /// Sends one message to `to`.
    #[tracing::instrument(skip(self, content), fields(subject = %content.subject))]
    pub async fn send(&self, to: &str, content: &EmailContent) -> Result<(), EmailError> {
        let to: Mailbox = to.parse().map_err(|_| EmailError::BadAddress(to.to_owned()))?;
        let message = build_message(self.from.clone(), to, content)?;
        self.transport.send(message).await?;
        Ok(())
    }

    /// Tries the relay step by step without sending anything: connect, EHLO, TLS per the mode, AUTH when
    /// credentials are given, QUIT. Says which steps passed and, if one failed, which and why.
    pub async fn probe(&self) -> SmtpProbe {
        let mut passed = Vec::new();
        let failed = self.probe_steps(&mut passed).await.err();
        SmtpProbe { passed, failed }
    }

    async fn probe_steps(&self, done: &mut Vec<String>) -> Result<(), SmtpFailure> {
        let r = &self.relay;
        let target = format!("{}:{}", r.host, r.port);
        match tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect((r.host.as_str(), r.port))).await {
            Ok(Ok(_)) => done.push(format!("connect: {target} reached")),
            Ok(Err(e)) => {
                return Err(SmtpFailure::new(
                    SmtpStep::Connect,
                    false,
                    format!("cannot reach {target}: {e}"),
                    "check the host and port in SMTP_URL and that the relay is running",
                ))
            }
            Err(_) => {
                return Err(SmtpFailure::new(
                    SmtpStep::Connect,
                    false,
                    format!("no answer from {target} in {}s", TIMEOUT.as_secs()),
                    "check the host and port in SMTP_URL and the firewall",
                ))
            }
        }
        let hello = ClientId::default();
        let wrapper = r.tls.clone().filter(|_| r.implicit);
        let mut conn =
            AsyncSmtpConnection::connect_tokio1((r.host.as_str(), r.port), Some(TIMEOUT), &hello, wrapper, None)
                .await
                .map_err(|e| SmtpFailure::classify(&e, SmtpStep::Ehlo))?;
        if r.implicit {
            done.push("tls: implicit TLS, certificate trusted".to_owned());
        }
        done.push("ehlo: the relay greeted".to_owned());
        match (&r.tls, r.implicit) {
            (Some(params), false) => {
                conn.starttls(params.clone(), &hello).await.map_err(|e| SmtpFailure::classify(&e, SmtpStep::Tls))?;
                done.push("tls: STARTTLS, certificate trusted".to_owned());
            }
            (None, _) => done.push("tls: none (SMTP_TLS=none)".to_owned()),
            (Some(_), true) => {}
        }
        match &r.credentials {
            Some(c) => {
                conn.auth(&[Mechanism::Plain, Mechanism::Login], c)
                    .await
                    .map_err(|e| SmtpFailure::classify(&e, SmtpStep::Auth))?;
                done.push("auth: logged in".to_owned());
            }
            None => done.push("auth: skipped (no user in SMTP_URL)".to_owned()),
        }
        conn.quit().await.map_err(|e| SmtpFailure::classify(&e, SmtpStep::Quit))?;
        done.push("quit: done, no mail sent".to_owned());
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
    fn plaintext_is_refused_for_public_hosts_and_smtps_needs_required() {
        let err = EmailSender::new("smtp://203.0.113.7:25", "a@example.com", SmtpTls::None, &[]).unwrap_err();
        assert!(matches!(&err, EmailError::PlaintextNotPrivate(h) if h.contains("203.0.113.7")), "{err}");
        assert!(EmailSender::new("smtp://127.0.0.1:2525", "a@example.com", SmtpTls::None, &[]).is_ok());
        assert!(EmailSender::new("smtp://10.1.2.3", "a@example.com", SmtpTls::None, &[]).is_ok());
        assert!(EmailSender::new("smtp://localhost", "a@example.com", SmtpTls::None, &[]).is_ok());
        assert!(matches!(
            EmailSender::new("smtps://127.0.0.1", "a@example.com", SmtpTls::None, &[]),
            Err(EmailError::TlsModeMismatch("none"))
        ));
        assert!(matches!(
            EmailSender::new("http://mail.example.com", "a@example.com", SmtpTls::Required, &[]),
            Err(EmailError::BadUrl(_))
        ));
        let sender =
            EmailSender::new("smtps://u:p%40ss@mail.example.com", "tochen <r@example.com>", SmtpTls::Required, &[])
                .unwrap();
        assert_eq!(sender.relay.port, 465);
        assert_eq!(
            EmailSender::new("smtp://mail.example.com", "a@b.c", SmtpTls::StartTls, &[]).unwrap().relay.port,
            587
        );
        assert_eq!(percent_decode("p%40ss+w"), "p@ss+w");
    }

    #[test]
    fn a_ca_that_is_not_a_certificate_is_a_setup_error() {
        let err =
            EmailSender::new("smtp://mail.example.com", "a@b.c", SmtpTls::Required, &[b"junk".to_vec()]).unwrap_err();
        assert!(matches!(err, EmailError::TlsSetup(_)), "{err}");
    }
}
