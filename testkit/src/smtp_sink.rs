//! A minimal SMTP server for tests: it listens on 127.0.0.1:0, speaks just enough SMTP for a real client
//! (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and records every message it accepts.
//!
//! By default it offers no STARTTLS and no AUTH, so only a client explicitly allowed to send in clear
//! (`SMTP_TLS=none`) can talk to it. [`SmtpSink::start_with`] adds STARTTLS with a certificate from a
//! [`TestPki`] the test made, implicit TLS (`smtps://`), and AUTH PLAIN with one user, which must then log in
//! before sending.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// One accepted message: the envelope and the raw DATA (dot-unstuffed, CRLF line ends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpMessage {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
    /// It came over TLS (STARTTLS or implicit).
    pub tls: bool,
    /// The user that logged in with AUTH, if any.
    pub user: Option<String>,
}

/// A certificate authority made by the test and a server certificate it signed for `localhost` only (so a client
/// that connects to 127.0.0.1 meets a certificate for another name).
pub struct TestPki {
    /// The CA certificate, PEM: what `SMTP_CA_FILE` points to.
    pub ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

impl TestPki {
    pub fn new() -> Self {
        let ca_key = rcgen::KeyPair::generate().expect("ca key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "tochen test CA");
        ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let ca = ca_params.self_signed(&ca_key).expect("ca certificate");
        let key = rcgen::KeyPair::generate().expect("server key");
        let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        let cert = params.signed_by(&key, &ca, &ca_key).expect("server certificate");
        let chain = vec![cert.der().clone()];
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("tls versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server tls config");
        Self { ca_pem: ca.pem(), server: Arc::new(server) }
    }

    /// Writes the CA certificate into `dir` and returns its path (for `SMTP_CA_FILE`).
    pub fn write_ca(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("relay-ca.pem");
        std::fs::write(&path, &self.ca_pem).expect("write the ca file");
        path
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

/// How a sink protects and guards itself.
#[derive(Clone, Default)]
pub struct SinkOptions {
    /// Offer STARTTLS with this certificate (or speak TLS from the first byte when `implicit_tls`).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub implicit_tls: bool,
    /// Offer AUTH PLAIN (after TLS when TLS is offered) and require this user and password before MAIL.
    pub login: Option<(String, String)>,
}

impl SinkOptions {
    pub fn starttls(pki: &TestPki) -> Self {
        Self { tls: Some(pki.server.clone()), ..Self::default() }
    }

    pub fn implicit_tls(pki: &TestPki) -> Self {
        Self { tls: Some(pki.server.clone()), implicit_tls: true, ..Self::default() }
    }

    pub fn login(mut self, user: &str, password: &str) -> Self {
        self.login = Some((user.to_owned(), password.to_owned()));
        self
    }
}

/// A running sink. Dropping it leaves the listener task running until the test's runtime ends.
pub struct SmtpSink {
    pub addr: SocketAddr,
    messages: Arc<Mutex<Vec<SmtpMessage>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::start_answering_rcpt("250 2.1.5 ok").await
    }

    /// A sink that answers every `RCPT TO` with `reply` (e.g. `550 5.1.1 no such user` or `451 4.3.0 try later`),
    /// to test how a sender treats permanent and transient refusals.
    pub async fn start_refusing(reply: &'static str) -> Self {
        Self::start_answering_rcpt(reply).await
    }

    async fn start_answering_rcpt(rcpt_reply: &'static str) -> Self {
        Self::listen(SinkOptions::default(), rcpt_reply).await
    }

    /// A sink with TLS and/or AUTH as `options` say.
    pub async fn start_with(options: SinkOptions) -> Self {
        Self::listen(options, "250 2.1.5 ok").await
    }

    async fn listen(options: SinkOptions, rcpt_reply: &'static str) -> Self {
        let options = Arc::new(options);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the smtp sink");
        let addr = listener.local_addr().expect("sink address");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let store = messages.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (store, options) = (store.clone(), options.clone());
                tokio::spawn(async move {
                    let _ = session(stream, store, &options, rcpt_reply).await;
                });
            }
        });
        Self { addr, messages }
    }

    /// Messages accepted so far, oldest first.
    pub fn messages(&self) -> Vec<SmtpMessage> {
        self.messages.lock().expect("sink lock").clone()
    }
}

fn address(arg: &str) -> String {
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg[start..].find('>').map_or(arg.len(), |i| start + i);
    arg[start..end].to_owned()
}

/// Where one connection stands.
#[derive(Default)]
struct Conversation {
    tls: bool,
    user: Option<String>,
    from: String,
    to: Vec<String>,
}

/// How a stretch of conversation ended.
enum Next {
    Closed,
    StartTls,
}

async fn session(
    stream: TcpStream,
    store: Arc<Mutex<Vec<SmtpMessage>>>,
    options: &SinkOptions,
    rcpt_reply: &str,
) -> std::io::Result<()> {
    let mut conv = Conversation::default();
    if let (true, Some(config)) = (options.implicit_tls, &options.tls) {
        let tls = TlsAcceptor::from(config.clone()).accept(stream).await?;
        conv.tls = true;
        let mut tls = BufReader::new(tls);
        tls.write_all(b"220 sink.test ESMTP tochen-testkit\r\n").await?;
        talk(&mut tls, &mut conv, &store, options, rcpt_reply).await?;
        return Ok(());
    }
    let mut plain = BufReader::new(stream);
    plain.write_all(b"220 sink.test ESMTP tochen-testkit\r\n").await?;
    if let Next::StartTls = talk(&mut plain, &mut conv, &store, options, rcpt_reply).await? {
        let config = options.tls.clone().expect("STARTTLS is only offered with a certificate");
        let tls = TlsAcceptor::from(config).accept(plain.into_inner()).await?;
        // RFC 3207: everything learnt before TLS is forgotten.
        conv = Conversation { tls: true, ..Conversation::default() };
        talk(&mut BufReader::new(tls), &mut conv, &store, options, rcpt_reply).await?;
    }
    Ok(())
}

async fn talk<S>(
    io: &mut BufReader<S>,
    conv: &mut Conversation,
    store: &Mutex<Vec<SmtpMessage>>,
    options: &SinkOptions,
    rcpt_reply: &str,
) -> std::io::Result<Next>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let rcpt_reply = format!("{rcpt_reply}\r\n");
    let offer_tls = options.tls.is_some() && !conv.tls;
    // AUTH is offered only where it is safe: after TLS when the sink has TLS.
    let offer_auth = options.login.is_some() && (conv.tls || options.tls.is_none());
    let mut line = String::new();
    loop {
        line.clear();
        if io.read_line(&mut line).await? == 0 {
            return Ok(Next::Closed);
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            let mut lines = vec!["250-sink.test", "250-8BITMIME", "250-SMTPUTF8"];
            if offer_tls {
                lines.push("250-STARTTLS");
            }
            if offer_auth {
                lines.push("250-AUTH PLAIN");
            }
            lines.push("250 SIZE 10485760");
            lines.iter().map(|l| format!("{l}\r\n")).collect()
        } else if upper.starts_with("HELO") {
            "250 sink.test\r\n".into()
        } else if upper == "STARTTLS" && offer_tls {
            io.write_all(b"220 2.0.0 ready to start TLS\r\n").await?;
            io.flush().await?;
            return Ok(Next::StartTls);
        } else if upper.starts_with("AUTH PLAIN") && offer_auth {
            let initial = cmd.get(10..).map(str::trim).unwrap_or_default().to_owned();
            let answer = if initial.is_empty() {
                io.write_all(b"334 \r\n").await?;
                line.clear();
                io.read_line(&mut line).await?;
                line.trim().to_owned()
            } else {
                initial
            };
            let decoded = B64.decode(answer).unwrap_or_default();
            let parts: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
            let (user, password) = options.login.clone().unwrap_or_default();
            if parts.len() == 3 && parts[1] == user.as_bytes() && parts[2] == password.as_bytes() {
                conv.user = Some(user);
                "235 2.7.0 authentication successful\r\n".into()
            } else {
                "535 5.7.8 authentication credentials invalid\r\n".into()
            }
        } else if upper.starts_with("MAIL FROM:") {
            if options.login.is_some() && conv.user.is_none() {
                "530 5.7.0 authentication required\r\n".into()
            } else {
                conv.from = address(&cmd[10..]);
                conv.to.clear();
                "250 2.1.0 ok\r\n".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            conv.to.push(address(&cmd[8..]));
            rcpt_reply.clone()
        } else if upper == "DATA" {
            io.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if io.read_line(&mut line).await? == 0 {
                    return Ok(Next::Closed);
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            store.lock().expect("sink lock").push(SmtpMessage {
                from: std::mem::take(&mut conv.from),
                to: std::mem::take(&mut conv.to),
                data,
                tls: conv.tls,
                user: conv.user.clone(),
            });
            "250 2.0.0 queued\r\n".into()
        } else if upper == "RSET" || upper == "NOOP" {
            "250 ok\r\n".into()
        } else if upper == "QUIT" {
            io.write_all(b"221 bye\r\n").await?;
            io.flush().await?;
            return Ok(Next::Closed);
        } else {
            "502 5.5.2 command not implemented\r\n".into()
        };
        io.write_all(reply.as_bytes()).await?;
        io.flush().await?;
    }
}
