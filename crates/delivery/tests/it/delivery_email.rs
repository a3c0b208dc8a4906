//! Email goes through a real SMTP conversation with a local sink started by the test.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use tochen_delivery::email::{EmailAttachment, EmailContent, EmailSender, SmtpSecurity};
use tochen_testkit::smtp_sink::SmtpSink;

#[tokio::test]
async fn a_report_email_arrives_with_text_html_inline_chart_and_csv() {
    let sink = SmtpSink::start().await;
    let url = format!("smtp://{}", sink.addr);
    let sender = EmailSender::new(&url, "tochen <reports@tochen.test>", SmtpSecurity::PlaintextLoopback).unwrap();
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
    let sender = EmailSender::new(&url, "reports@tochen.test", SmtpSecurity::Tls).unwrap();
    let content = EmailContent { subject: "s".into(), text: "t".into(), html: "<p>t</p>".into(), ..Default::default() };
    assert!(sender.send("client@example.com", &content).await.is_err(), "no STARTTLS offered: must not send");
    assert!(sink.messages().is_empty());
}
