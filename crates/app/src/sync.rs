//! The sync feed to the National Public Service Portal: every status change of every dossier,
//! once, in commit order, in the portal's dossier-sync shape; resumable from a cursor.

use chrono::{DateTime, Utc};
use domain::sync::SyncRecord;
use domain::user::{Role, User};
use serde::Serialize;

use crate::{App, AppError, Result};

/// The most records one page holds.
pub const MAX_SYNC_PAGE: i64 = 5000;

/// A page of the feed and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncPage {
    pub records: Vec<SyncRecord>,
    /// Pass it back to continue; the same cursor when nothing new was there.
    pub cursor: String,
    /// Whether more changes wait after this page.
    pub more: bool,
}

fn portal_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&domain::calendar::vietnam_offset())
        .format("%Y%m%d%H%M%S")
        .to_string()
}

impl App {
    /// The changes after `cursor` (empty or "0" for the start), for the national portal's
    /// sync client; it names applicants across every agency, so a system administrator reads
    /// it only under an elevation, each page read logged, and auditors read dossiers through
    /// their own subtree instead.
    pub async fn sync_feed(&self, actor: &User, cursor: &str, limit: i64) -> Result<SyncPage> {
        match actor.role {
            Role::ExchangeClient => {}
            Role::SystemAdmin => {
                self.privileged(
                    actor,
                    "sync_feed_read",
                    serde_json::json!({ "cursor": cursor, "limit": limit }),
                    false,
                )
                .await?
            }
            role => {
                return Err(AppError::Forbidden(format!(
                    "the national sync feed is for its exchange client, not the {} role",
                    role.code()
                )));
            }
        }
        self.sync_page(cursor, limit).await
    }

    /// The feed without a role check, for the operator's `motcua export dossiers`.
    pub async fn sync_page(&self, cursor: &str, limit: i64) -> Result<SyncPage> {
        let after: i64 = match cursor.trim() {
            "" => 0,
            raw => raw.parse().ok().filter(|n| *n >= 0).ok_or_else(|| {
                AppError::invalid(
                    "cursor",
                    format!("'{raw}' is not a cursor this feed gave (a whole number from 0)"),
                )
            })?,
        };
        if !(1..=MAX_SYNC_PAGE).contains(&limit) {
            return Err(AppError::invalid(
                "limit",
                format!("a page holds from 1 to {MAX_SYNC_PAGE} records"),
            ));
        }
        let top = self.store.number_feed().await?;
        let changes = self.store.feed_after(after, limit).await?;
        let last = changes.last().map_or(after, |c| c.number);
        let mut records = Vec::with_capacity(changes.len());
        for change in changes {
            let (event, dossier) = (&change.event, &change.dossier);
            // Ratings and form edits leave the status as it was: the portal is not told.
            if event.from_status == event.to_status {
                continue;
            }
            let Some(status) = event.to_status.national_code() else {
                continue;
            };
            let procedure = self
                .procedure_on(&dossier.procedure, dossier.procedure_version)
                .await?;
            let sector = procedure.as_ref().and_then(|p| p.sectors.first());
            let received = dossier.received_at.filter(|r| *r <= event.at);
            records.push(SyncRecord {
                ma_ho_so: dossier.code.clone(),
                ma_tthc: dossier.procedure.to_string(),
                ten_tthc: procedure
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                ma_linh_vuc: sector.and_then(|s| s.code.clone()).unwrap_or_default(),
                ten_linh_vuc: sector.map(|s| s.name.clone()).unwrap_or_default(),
                chu_ho_so: change
                    .applicant_name
                    .clone()
                    .unwrap_or_else(|| dossier.applicant.clone()),
                loai_doi_tuong: 1,
                ma_co_quan: dossier.agency.to_string(),
                don_vi_xu_ly: event.agency.clone().unwrap_or_default(),
                ngay_nop_ho_so: portal_time(dossier.submitted_at),
                ngay_tiep_nhan: received.map(portal_time).unwrap_or_default(),
                ngay_hen_tra: received
                    .and(dossier.due_at)
                    .map(portal_time)
                    .unwrap_or_default(),
                ngay_tra: if event.to_status == domain::dossier::Status::Returned {
                    portal_time(event.at)
                } else {
                    String::new()
                },
                trang_thai_ho_so: status,
                kenh_thuc_hien: match dossier.channel {
                    domain::Channel::InPerson => 1,
                    domain::Channel::Online => 2,
                    domain::Channel::Postal => 3,
                },
                cursor: change.number.to_string(),
            });
        }
        Ok(SyncPage {
            records,
            cursor: last.to_string(),
            more: last < top,
        })
    }
}
