//! Notifications: what each event tells the applicant (written to the outbox in the event's
//! transaction), and their delivery by email (SMTP, `lettre`) or text message (a webhook
//! provider), tried again with backoff and left on the dead-letter list after the last try.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::Procedure;
use domain::dossier::{Action, Dossier};
use domain::notify::{Facts, Lang, Template};
use domain::user::{Role, User};
use lettre::AsyncTransport;
use store::{Contact, Notification, Outgoing};

use crate::{App, AppError, Result};

/// How many notifications a delivery round takes: few, so that a round of slow sends ends
/// well within its lease.
pub(crate) const ROUND: i64 = 10;
/// How long a claimed notification is held before another node may take it.
const LEASE_SECS: i64 = 300;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// The sender, e.g. `Cổng dịch vụ công <no-reply@dichvucong.example.gov.vn>`.
    pub from: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// `none` (a relay on the same network), `starttls` or `tls`.
    #[serde(default = "default_tls")]
    pub tls: String,
}

fn default_tls() -> String {
    "starttls".into()
}

/// A provider for text messages (SMS, chat apps) that takes a signed JSON POST.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    pub url: String,
    /// Signs each body: `X-Motcua-Signature: sha256=<HMAC-SHA256 hex>`.
    pub secret: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    pub smtp: Option<SmtpSettings>,
    pub webhook: Option<WebhookSettings>,
    /// Attempts before a notification goes to the dead-letter list.
    pub max_attempts: i32,
    /// The wait after the first failure; it doubles after each, up to `retry_max_ms`.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            smtp: None,
            webhook: None,
            max_attempts: 8,
            retry_base_ms: 30_000,
            retry_max_ms: 3_600_000,
        }
    }
}

/// The providers, built once.
pub(crate) struct Notifier {
    settings: NotifySettings,
    mailer: Option<(
        lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
        lettre::message::Mailbox,
    )>,
}

/// The wait before attempt `attempt + 1`, or None when `attempt` was the last.
pub fn backoff(attempt: i32, settings: &NotifySettings) -> Option<std::time::Duration> {
    if attempt >= settings.max_attempts {
        return None;
    }
    let doubled = settings
        .retry_base_ms
        .saturating_mul(1u64 << (attempt.clamp(1, 30) - 1));
    Some(std::time::Duration::from_millis(
        doubled.min(settings.retry_max_ms),
    ))
}

impl Notifier {
    pub(crate) fn new(settings: NotifySettings) -> Result<Self> {
        let mailer = match &settings.smtp {
            None => None,
            Some(smtp) => {
                let bad = |why: String| AppError::invalid("notify.smtp", why);
                let from = smtp
                    .from
                    .parse::<lettre::message::Mailbox>()
                    .map_err(|e| bad(format!("from '{}': {e}", smtp.from)))?;
                type Transport = lettre::AsyncSmtpTransport<lettre::Tokio1Executor>;
                let builder = match smtp.tls.as_str() {
                    "none" => Transport::builder_dangerous(&smtp.host),
                    "starttls" => Transport::starttls_relay(&smtp.host)
                        .map_err(|e| bad(format!("host: {e}")))?,
                    "tls" => Transport::relay(&smtp.host).map_err(|e| bad(format!("host: {e}")))?,
                    other => return Err(bad(format!("tls '{other}': use none, starttls or tls"))),
                };
                let mut builder = builder
                    .port(smtp.port)
                    .timeout(Some(std::time::Duration::from_secs(10)));
                if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
                    builder = builder.credentials(
                        lettre::transport::smtp::authentication::Credentials::new(
                            user.clone(),
                            password.clone(),
                        ),
                    );
                }
                Some((builder.build(), from))
            }
        };
        Ok(Self { settings, mailer })
    }
}

/// A time as people in Vietnam read it: `17:00 20/11/2026`.
pub fn vietnam_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&domain::calendar::vietnam_offset())
        .format("%H:%M %d/%m/%Y")
        .to_string()
}

/// The applicant's notice an action sends, if any.
fn applicant_template(action: Action) -> Option<Template> {
    Some(match action {
        Action::Receive => Template::Received,
        Action::RequestSupplement => Template::SupplementRequested,
        Action::RequestPayment => Template::PaymentRequested,
        Action::ConfirmPayment => Template::PaymentReceived,
        Action::Resolve => Template::ResultReady,
        Action::ApologizeAndExtend => Template::Apology,
        Action::Refuse => Template::Refused,
        _ => return None,
    })
}

impl App {
    /// Delivers notifications through these providers.
    pub fn with_notifications(mut self, settings: NotifySettings) -> Result<Self> {
        self.notifier = Arc::new(Notifier::new(settings)?);
        Ok(self)
    }

    /// The facts a dossier's message tells.
    pub(crate) async fn facts(&self, procedure: &Procedure, dossier: &Dossier) -> Result<Facts> {
        let agency = self
            .agency(&dossier.agency)
            .await?
            .map(|a| a.name)
            .unwrap_or_else(|| dossier.agency.to_string());
        Ok(Facts {
            code: dossier.code.clone(),
            procedure: procedure.name.clone(),
            agency,
            due: dossier.due_at.map(vietnam_time),
            link: Some(format!("{}/dossiers/{}", self.public_url, dossier.code)),
            ..Facts::default()
        })
    }

    /// What `action` tells the applicant of `next` (the dossier after it), to be written in
    /// the action's transaction.
    pub(crate) async fn applicant_notices(
        &self,
        procedure: &Procedure,
        next: &Dossier,
        action: Action,
        payload: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Vec<Outgoing>> {
        let Some(template) = applicant_template(action) else {
            return Ok(Vec::new());
        };
        let mut facts = self.facts(procedure, next).await?;
        facts.reason = payload
            .get("reason")
            .and_then(|r| r.as_str())
            .map(str::to_owned);
        facts.amount_vnd = payload.get("amount_vnd").and_then(|a| a.as_i64());
        Ok(vec![Outgoing {
            recipient: next.applicant.clone(),
            template,
            facts,
            dossier_code: Some(next.code.clone()),
            dedupe_key: None,
        }])
    }

    /// How the actor is reached.
    pub async fn contact(&self, actor: &User) -> Result<Contact> {
        Ok(self.store.contact(&actor.username).await?)
    }

    /// Sets how the actor is reached; an empty email or phone removes it.
    pub async fn set_contact(
        &self,
        actor: &User,
        email: &str,
        phone: &str,
        lang: &str,
    ) -> Result<Contact> {
        let mut errors = Vec::new();
        let email = email.trim();
        let phone: String = phone.chars().filter(|c| !c.is_whitespace()).collect();
        if !email.is_empty() && email.parse::<lettre::Address>().is_err() {
            errors.push(domain::InvalidField::bilingual(
                "email",
                format!("'{email}' is not an email address"),
                format!("'{email}' không phải địa chỉ thư điện tử"),
            ));
        }
        let digits = phone.strip_prefix('+').unwrap_or(&phone);
        let is_number =
            digits.chars().all(|c| c.is_ascii_digit()) && (9..=15).contains(&digits.len());
        if !phone.is_empty() && !is_number {
            errors.push(domain::InvalidField::bilingual(
                "phone",
                format!("'{phone}' is not a phone number (9 to 15 digits)"),
                format!("'{phone}' không phải số điện thoại (9 đến 15 chữ số)"),
            ));
        }
        let lang = Lang::from_code(lang);
        if lang.is_none() {
            errors.push(domain::InvalidField::bilingual(
                "lang",
                "choose vi or en",
                "hãy chọn vi hoặc en",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let contact = Contact {
            email: Some(email.to_owned()).filter(|e| !e.is_empty()),
            phone: Some(phone).filter(|p| !p.is_empty()),
            lang: lang.unwrap_or_default(),
        };
        self.store.set_contact(&actor.username, &contact).await?;
        Ok(contact)
    }

    fn administrator(actor: &User) -> Result<()> {
        if matches!(actor.role, Role::SystemAdmin) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "the dead-letter list is for system administrators, not the {} role",
                actor.role.code()
            )))
        }
    }

    /// Notifications that could not be delivered after every attempt.
    pub async fn dead_letters(&self, actor: &User) -> Result<Vec<Notification>> {
        Self::administrator(actor)?;
        Ok(self.store.dead_notifications(200).await?)
    }

    /// Sends a dead letter again.
    pub async fn requeue(&self, actor: &User, id: i64) -> Result<()> {
        Self::administrator(actor)?;
        if !self.store.requeue_notification(id, Utc::now()).await? {
            return Err(AppError::Conflict(format!(
                "notification {id} is not on the dead-letter list"
            )));
        }
        self.store
            .log_privileged(
                &actor.username,
                "notification_requeued",
                &serde_json::json!({ "notification": id }).to_string(),
                Utc::now(),
            )
            .await?;
        Ok(())
    }

    /// One delivery round: claims the notifications due and sends each. Returns how many
    /// were claimed.
    pub async fn deliver_due(&self) -> Result<usize> {
        let now = Utc::now();
        let claimed = self
            .store
            .claim_notifications(now, now + chrono::Duration::seconds(LEASE_SECS), ROUND)
            .await?;
        for n in &claimed {
            self.deliver(n).await?;
        }
        Ok(claimed.len())
    }

    async fn deliver(&self, n: &Notification) -> Result<()> {
        let message = domain::notify::render(n.template, n.lang, &n.facts);
        let sent = match n.channel.as_str() {
            "email" => match &self.notifier.mailer {
                None => {
                    return Ok(self
                        .store
                        .mark_skipped(n.id, "no SMTP server is configured")
                        .await?);
                }
                Some((mailer, from)) => self.send_email(mailer, from, n, &message).await,
            },
            "sms" => match &self.notifier.settings.webhook {
                None => {
                    return Ok(self
                        .store
                        .mark_skipped(n.id, "no text message provider is configured")
                        .await?);
                }
                Some(hook) => self.send_webhook(hook, n, &message).await,
            },
            other => Err(format!("unknown channel {other}")),
        };
        match sent {
            Ok(()) => self.store.mark_sent(n.id, Utc::now()).await?,
            Err(error) => {
                let retry = backoff(n.attempts, &self.notifier.settings)
                    .map(|wait| Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default());
                tracing::warn!(id = n.id, attempts = n.attempts, %error, dead = retry.is_none(), "notification not delivered");
                self.store.mark_failed(n.id, &error, retry).await?
            }
        }
        Ok(())
    }

    async fn send_email(
        &self,
        mailer: &lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
        from: &lettre::message::Mailbox,
        n: &Notification,
        message: &domain::notify::Message,
    ) -> std::result::Result<(), String> {
        let to = n
            .address
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("address: {e}"))?;
        let email = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(&message.subject)
            // One id per notification: a copy resent after a lost acknowledgement is
            // recognised as the same message.
            .message_id(Some(format!("<notification-{}@motcua>", n.id)))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| format!("message: {e}"))?;
        mailer
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }

    async fn send_webhook(
        &self,
        hook: &WebhookSettings,
        n: &Notification,
        message: &domain::notify::Message,
    ) -> std::result::Result<(), String> {
        let body = serde_json::json!({
            "id": format!("notification-{}", n.id),
            "to": n.address,
            "text": message.text,
        })
        .to_string();
        let signature = domain::text::hex(&crate::hmac_sha256(
            hook.secret.as_bytes(),
            &[body.as_bytes()],
        ));
        let answer = self
            .http
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("x-motcua-signature", format!("sha256={signature}"))
            .body(body)
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| format!("webhook: {e}"))?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("webhook answered {}", answer.status()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_then_stop() {
        let settings = NotifySettings {
            max_attempts: 5,
            retry_base_ms: 1000,
            retry_max_ms: 5000,
            ..NotifySettings::default()
        };
        let waits: Vec<Option<u64>> = (1..=5)
            .map(|attempt| backoff(attempt, &settings).map(|d| d.as_millis() as u64))
            .collect();
        assert_eq!(
            waits,
            [Some(1000), Some(2000), Some(4000), Some(5000), None],
            "doubling, capped, then dead"
        );
    }

    #[test]
    fn only_the_applicants_events_send_them_a_notice() {
        assert_eq!(
            applicant_template(Action::Receive),
            Some(Template::Received)
        );
        assert_eq!(applicant_template(Action::Refuse), Some(Template::Refused));
        assert_eq!(applicant_template(Action::CompleteStep), None);
        assert_eq!(applicant_template(Action::Refund), None);
        for action in Action::ALL {
            if let Some(template) = applicant_template(action) {
                assert!(template.for_applicant(), "{action:?}");
            }
        }
    }

    #[test]
    fn times_read_as_in_vietnam() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(vietnam_time(at), "17:00 20/11/2026");
    }
}
