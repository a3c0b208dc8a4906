//! Email goes through a real SMTP conversation with a local sink started by the test.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use tochen_config::SmtpTls;
use tochen_delivery::email::{EmailAttachment, EmailContent, EmailSender, SmtpStep};
use tochen_testkit::smtp_sink::{SinkOptions, SmtpSink, TestPki};

#[tokio::test]
async fn a_report_email_arrives_with_text_html_inline_chart_and_csv() {
    let sink = SmtpSink::start().await;
    let url = format!("smtp://{}", sink.addr);
    let sender = EmailSender::new(&url, "tochen <reports@tochen.test>", SmtpTls::None, &[]).unwrap();
    let png = vec![0x89, b'P', b'N', b'G', 13, 10, 26, 10, 1, 2, 3];
    let content = EmailContent {
        subject: "Bloom Coffee: week 47 — Wöchentlicher Bericht".into(),
        text: "Views 12,480".into(),
        html: "<p>Views <b>12,480</b></p><img src=\"cid:chart\">".into(),
        chart_png: Some(png.clone()),
        attachments: vec![EmailAttachment {
            filename: "export.csv".into(),
            content_type: "text/csv".into(),
            bytes: b"post_id,views\np1,10\n".to_vec(),
        }],
    };
    sender.send("client@example.com", &content).await.unwrap();

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.from, "reports@tochen.test");
    assert_eq!(m.to, ["client@example.com"]);
    let data = m.data.replace("\r\n", "\n");
    for needle in [
        "multipart/mixed",
        "multipart/alternative",
        "multipart/related",
        "text/plain",
        "text/html",
        "Content-ID: <chart>",
        "image/png",
        "filename=\"export.csv\"",
        "text/csv",
    ] {
        assert!(data.contains(needle), "missing {needle:?} in\n{data}");
    }
    assert!(data.contains(&B64.encode(&png)), "the chart bytes are in the message");
    let subject = data.lines().find(|l| l.starts_with("Subject: ")).unwrap();
    assert!(subject.is_ascii() && subject.contains("=?utf-8?"), "a non-ascii subject is encoded: {subject}");
}

#[tokio::test]
async fn tls_is_required_by_default_so_a_plain_server_is_refused() {
    let sink = SmtpSink::start().await;
    let url = format!("smtp://localhost:{}", sink.addr.port());
    for mode in [SmtpTls::Required, SmtpTls::StartTls] {
        let sender = EmailSender::new(&url, "reports@tochen.test", mode, &[]).unwrap();
        let err = sender.send("client@example.com", &short()).await.unwrap_err().to_string();
        assert!(err.starts_with("tls: the relay does not offer STARTTLS"), "no STARTTLS offered: must not send: {err}");
    }
    assert!(sink.messages().is_empty());
}

fn short() -> EmailContent {
    EmailContent { subject: "s".into(), text: "t".into(), html: "<p>t</p>".into(), ..Default::default() }
}

#[tokio::test]
async fn smtp_tls_none_never_upgrades_even_when_the_relay_offers_starttls() {
    let pki = TestPki::new();
    let sink = SmtpSink::start_with(SinkOptions::starttls(&pki)).await;
    let sender = EmailSender::new(&format!("smtp://{}", sink.addr), "r@tochen.test", SmtpTls::None, &[]).unwrap();
    sender.send("client@example.com", &short()).await.unwrap();
    assert!(!sink.messages()[0].tls);
}

#[tokio::test]
async fn the_probe_walks_every_step_and_names_the_one_that_failed() {
    let pki = TestPki::new();
    let ca = vec![rustls_pki_der(&pki.ca_pem)];
    let sink = SmtpSink::start_with(SinkOptions::starttls(&pki).login("u", "right")).await;
    let port = sink.addr.port();
    let good =
        EmailSender::new(&format!("smtp://u:right@localhost:{port}"), "r@t.test", SmtpTls::Required, &ca).unwrap();
    let steps = good.probe().await.result().unwrap();
    assert_eq!(
        steps.iter().map(|s| s.split(':').next().unwrap()).collect::<Vec<_>>(),
        ["connect", "ehlo", "tls", "auth", "quit"]
    );
    assert!(sink.messages().is_empty(), "a probe sends nothing");

    let wrong_password =
        EmailSender::new(&format!("smtp://u:wrong@localhost:{port}"), "r@t.test", SmtpTls::Required, &ca).unwrap();
    let failure = wrong_password.probe().await.result().unwrap_err();
    assert_eq!((failure.step, failure.permanent), (SmtpStep::Auth, true));
    assert!(failure.message.contains("535") && failure.message.contains("SMTP_URL"), "{failure}");

    let untrusted = EmailSender::new(&format!("smtp://localhost:{port}"), "r@t.test", SmtpTls::Required, &[]).unwrap();
    let failure = untrusted.probe().await.result().unwrap_err();
    assert_eq!(failure.step, SmtpStep::Tls);
    assert!(failure.message.contains("UnknownIssuer") && failure.message.contains("SMTP_CA_FILE"), "{failure}");

    let wrong_name = EmailSender::new(&format!("smtp://127.0.0.1:{port}"), "r@t.test", SmtpTls::Required, &ca).unwrap();
    let failure = wrong_name.probe().await.result().unwrap_err();
    assert_eq!(failure.step, SmtpStep::Tls, "{failure}");
    assert!(failure.message.contains("another name"), "{failure}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let nobody = EmailSender::new(&format!("smtp://{closed}"), "r@t.test", SmtpTls::None, &[]).unwrap();
    let failure = nobody.probe().await.result().unwrap_err();
    assert_eq!((failure.step, failure.permanent), (SmtpStep::Connect, false));
}

/// The DER of the first certificate in `pem`.
fn rustls_pki_der(pem: &str) -> Vec<u8> {
    use base64::engine::general_purpose::STANDARD;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}
