//! A minimal SMTP server for tests: it listens on 127.0.0.1:0, speaks just enough plain-text SMTP for a real
//! client (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and records every message it accepts.
//!
//! It offers no STARTTLS and no AUTH, so only a client explicitly allowed to send in clear to a loopback address
//! can talk to it; that is the point: production transports require TLS, and the test opts out on purpose.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One accepted message: the envelope and the raw DATA (dot-unstuffed, CRLF line ends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpMessage {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
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
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the smtp sink");
        let addr = listener.local_addr().expect("sink address");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let store = messages.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(stream, store, rcpt_reply).await;
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

async fn session(stream: TcpStream, store: Arc<Mutex<Vec<SmtpMessage>>>, rcpt_reply: &str) -> std::io::Result<()> {
    let rcpt_reply = format!("{rcpt_reply}\r\n");
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP tochen-testkit\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n"
        } else if upper.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&cmd[10..]);
            to.clear();
            b"250 2.1.0 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&cmd[8..]));
            rcpt_reply.as_bytes()
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            store.lock().expect("sink lock").push(SmtpMessage {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            b"250 2.0.0 queued\r\n"
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 ok\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 5.5.2 command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}
