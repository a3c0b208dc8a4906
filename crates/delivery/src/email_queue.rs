//! Email as a job: an automation run queues one `email.deliver` job per address instead of talking SMTP itself.
//!
//! A slow or refusing mail server then neither holds up the run nor fails the Telegram and webhook deliveries of
//! the same result, and a transient refusal is retried by the job runner with its backoff. The chart and the
//! attachments are written under the data directory first and the job names them by path (relative to it), so
//! the payload stays small and the bytes survive restarts.
//!
//! What the SMTP server answers decides the job's fate: a 5xx reply (no such mailbox, message refused, login
//! refused), a TLS failure (an untrusted or wrong certificate, no STARTTLS) will be the same next time, so it fails
//! the job at once; a 4xx reply, a timeout or a connection that cannot be made is transient and retried. A problem
//! on our side (an invalid address, a missing file) is permanent too. A permanent failure of an email an
//! automation run queued is written into that run's history ([`record_failure`]).

use super::email::{EmailAttachment, EmailContent, EmailError, EmailSender, SmtpFailure};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tochen_domain::ids::{AutomationId, DestinationId, JobId, TenantId};
use tochen_domain::jobs::{InsertOpts, JobArgs, EMAIL_DELIVER};
use tochen_store::{NewJob, Store, StoreError};

/// How many times the runner tries one email.
pub const MAX_ATTEMPTS: i64 = 8;

/// The payload of an `email.deliver` job: one at a time per destination, [`MAX_ATTEMPTS`] attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailJob {
    pub destination_id: DestinationId,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The inline chart (`cid:chart`), relative to the data directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_path: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<QueuedAttachment>,
    /// The automation run that queued it, whose history records a permanent failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunRef>,
}

/// One run of one automation (a row of its run history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRef {
    pub automation_id: AutomationId,
    pub run_id: String,
}

impl JobArgs for EmailJob {
    const KIND: &'static str = EMAIL_DELIVER;

    fn insert_opts(&self) -> InsertOpts {
        InsertOpts {
            concurrency_key: Some(format!("email:{}", self.destination_id)),
            max_attempts: Some(MAX_ATTEMPTS),
            ..Default::default()
        }
    }
}

/// A file attached to a queued email, stored under the data directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedAttachment {
    pub filename: String,
    pub content_type: String,
    pub path: String,
}

/// Why a queued email was not sent, sorted for the job runner.
#[derive(Debug, thiserror::Error)]
pub enum EmailJobError {
    /// Will fail the same way again.
    #[error("{0}")]
    Permanent(String),
    /// Worth another attempt later.
    #[error("{0}")]
    Transient(String),
}

fn write_file(data_dir: &Path, tenant: TenantId, name: &str, bytes: &[u8]) -> std::io::Result<String> {
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect();
    let relative = format!("email/{tenant}/{}-{safe}", uuid::Uuid::now_v7().simple());
    let full = data_dir.join(&relative);
    if let Some(dir) = full.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(full, bytes)?;
    Ok(relative)
}

/// Writes the chart and attachments under `data_dir` and queues one `email.deliver` job to `to`; `run` is the
/// automation run it belongs to, if any.
pub async fn queue(
    store: &Store,
    data_dir: &Path,
    tenant: TenantId,
    destination: DestinationId,
    to: &str,
    content: &EmailContent,
    run: Option<&RunRef>,
) -> Result<Option<JobId>, String> {
    let chart_path = match &content.chart_png {
        Some(png) => Some(write_file(data_dir, tenant, "chart.png", png).map_err(|e| e.to_string())?),
        None => None,
    };
    let mut attachments = Vec::new();
    for a in &content.attachments {
        let path = write_file(data_dir, tenant, &a.filename, &a.bytes).map_err(|e| e.to_string())?;
        attachments.push(QueuedAttachment { filename: a.filename.clone(), content_type: a.content_type.clone(), path });
    }
    let payload = EmailJob {
        destination_id: destination,
        to: to.to_owned(),
        subject: content.subject.clone(),
        text: content.text.clone(),
        html: content.html.clone(),
        chart_path,
        attachments,
        run: run.cloned(),
    };
    let job = NewJob::new(&payload).tenant(tenant);
    store.enqueue(&job).await.map_err(|e| e.to_string())
}

/// Sends a queued email: reads its files back and talks SMTP once.
#[tracing::instrument(skip(sender, data_dir, job), fields(to = %job.to))]
pub async fn deliver(sender: &EmailSender, data_dir: &Path, job: &EmailJob) -> Result<(), EmailJobError> {
    let read = |p: &str| {
        std::fs::read(data_dir.join(p))
            .map_err(|e| EmailJobError::Permanent(format!("email file {p:?} cannot be read: {e}")))
    };
    let chart_png = job.chart_path.as_deref().map(read).transpose()?;
    let mut attachments = Vec::new();
    for a in &job.attachments {
        attachments.push(EmailAttachment {
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            bytes: read(&a.path)?,
        });
    }
    let content = EmailContent {
        subject: job.subject.clone(),
        text: job.text.clone(),
        html: job.html.clone(),
        chart_png,
        attachments,
    };
    sender.send(&job.to, &content).await.map_err(classify)
}

/// 5xx, TLS and login failures and our own mistakes are permanent; 4xx, timeouts and connection failures are
/// transient.
pub fn classify(e: EmailError) -> EmailJobError {
    match &e {
        EmailError::Smtp(smtp) => {
            let failure = SmtpFailure::of(smtp);
            if failure.permanent {
                EmailJobError::Permanent(failure.message)
            } else {
                EmailJobError::Transient(failure.message)
            }
        }
        EmailError::BadUrl(_)
        | EmailError::PlaintextNotPrivate(_)
        | EmailError::TlsModeMismatch(_)
        | EmailError::TlsSetup(_)
        | EmailError::BadAddress(_)
        | EmailError::Build(_) => EmailJobError::Permanent(e.to_string()),
    }
}

/// Records a permanent failure of `job` in the history of the automation run that queued it (if any): the run
/// turns failed, its error naming the destination, the address and why.
pub async fn record_failure(store: &Store, tenant: TenantId, job: &EmailJob, error: &str) -> Result<(), StoreError> {
    let Some(run) = &job.run else { return Ok(()) };
    let name = match store.destination(tenant, job.destination_id).await {
        Ok(d) => d.name,
        Err(StoreError::NotFound(_)) => String::new(),
        Err(e) => return Err(e),
    };
    let what = if name.is_empty() { format!("email to {}", job.to) } else { format!("{name} (email to {})", job.to) };
    store.record_run_delivery_failure(tenant, run.automation_id, &run.run_id, &format!("{what}: {error}")).await
}
