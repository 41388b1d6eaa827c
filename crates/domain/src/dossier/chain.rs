//! The dossier event log as a hash chain: each event stores the hash of the one before it, and
//! the dossier keeps the hash and count of its last event, so an edited, deleted, reordered or
//! truncated history is detected.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Action, Status};

/// The hash that precedes a dossier's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event as stored: what happened, who did it, and the chain links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub dossier_code: String,
    /// 1 for a dossier's first event, then 2, 3…
    pub sequence: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub agency: Option<String>,
    pub action: Action,
    pub from_status: Status,
    pub to_status: Status,
    /// Action details (reason, new due date, documents…), as JSON text.
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

impl EventRecord {
    /// SHA-256 over the previous hash and every field but the hash itself, each
    /// length-prefixed so that no two different events share an encoding.
    pub fn compute_hash(&self) -> String {
        let at = self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let fields: [&[u8]; 10] = [
            self.prev_hash.as_bytes(),
            self.dossier_code.as_bytes(),
            &self.sequence.to_be_bytes(),
            at.as_bytes(),
            self.actor.as_bytes(),
            self.agency.as_deref().unwrap_or("\u{0}").as_bytes(),
            self.action.code().as_bytes(),
            self.from_status.code().as_bytes(),
            self.to_status.code().as_bytes(),
            self.payload.as_bytes(),
        ];
        digest_fields(&fields)
    }

    /// Fills in the links to `prev_hash` and the event's own hash.
    pub fn sealed(mut self, prev_hash: &str) -> Self {
        self.prev_hash = prev_hash.to_owned();
        self.hash = self.compute_hash();
        self
    }
}

/// SHA-256 over fields, each length-prefixed so that no two different lists of fields share
/// an encoding. Every hash chain (dossier events, privileged actions) links this way.
pub fn digest_fields(fields: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for field in fields {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field);
    }
    crate::text::hex(&hasher.finalize())
}

/// The first place where a dossier's history does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dossier {dossier_code}, event {sequence}: {reason}")]
pub struct ChainError {
    pub dossier_code: String,
    pub sequence: u64,
    pub reason: String,
}

/// Checks one dossier's events, in stored order, against the head the dossier recorded
/// (the hash of its last event and how many events it has).
pub fn verify_chain(
    dossier_code: &str,
    events: &[EventRecord],
    head_hash: &str,
    event_count: u64,
) -> Result<(), ChainError> {
    let fail = |sequence, reason: String| ChainError {
        dossier_code: dossier_code.to_owned(),
        sequence,
        reason,
    };
    let mut prev = GENESIS;
    for (i, event) in events.iter().enumerate() {
        let expected = i as u64 + 1;
        if event.sequence != expected {
            return Err(fail(
                expected,
                format!(
                    "found event {} in its place (missing or reordered)",
                    event.sequence
                ),
            ));
        }
        if event.dossier_code != dossier_code {
            return Err(fail(
                expected,
                format!("belongs to dossier {}", event.dossier_code),
            ));
        }
        if event.prev_hash != prev {
            return Err(fail(
                expected,
                "does not link to the event before it".into(),
            ));
        }
        if event.compute_hash() != event.hash {
            return Err(fail(
                expected,
                "its content was changed after it was written".into(),
            ));
        }
        if i > 0 && events[i - 1].to_status != event.from_status {
            return Err(fail(
                expected,
                "starts from a status the event before did not leave".into(),
            ));
        }
        prev = &event.hash;
    }
    let count = events.len() as u64;
    if count != event_count || prev != head_hash {
        return Err(fail(
            count + 1,
            format!(
                "the dossier records {event_count} events ending in {head_hash:.12}…; the log has {count} ending in {prev:.12}… (truncated or extended)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<EventRecord> {
        let statuses = [
            Status::Draft,
            Status::Submitted,
            Status::Received,
            Status::InProgress,
            Status::Resolved,
            Status::Returned,
        ];
        let actions = [
            Action::Submit,
            Action::Receive,
            Action::CompleteStep,
            Action::Resolve,
            Action::Return,
        ];
        let mut prev = GENESIS.to_owned();
        (0..n)
            .map(|i| {
                let i = i as usize % actions.len();
                let e = EventRecord {
                    dossier_code: "000.00.00.H31-261122-0001".into(),
                    sequence: i as u64 + 1,
                    at: DateTime::from_timestamp(1_800_000_000 + i as i64 * 60, 0).unwrap(),
                    actor: "demo-reception".into(),
                    agency: Some("000.00.00.H31".into()),
                    action: actions[i],
                    from_status: statuses[i],
                    to_status: statuses[i + 1],
                    payload: "{}".into(),
                    prev_hash: String::new(),
                    hash: String::new(),
                }
                .sealed(&prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(events: &[EventRecord], head: &EventRecord, count: u64) -> Result<(), ChainError> {
        verify_chain("000.00.00.H31-261122-0001", events, &head.hash, count)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let events = chain(5);
        assert_eq!(verify(&events, &events[4], 5), Ok(()));
        assert_eq!(verify_chain("x", &[], GENESIS, 0), Ok(()));
    }

    #[test]
    fn tampering_is_found_and_located() {
        let events = chain(5);
        let head = events[4].clone();

        let mut edited = events.clone();
        edited[2].actor = "someone-else".into();
        assert_eq!(verify(&edited, &head, 5).unwrap_err().sequence, 3);

        let mut deleted = events.clone();
        deleted.remove(1);
        assert_eq!(verify(&deleted, &head, 5).unwrap_err().sequence, 2);

        let mut reordered = events.clone();
        reordered.swap(1, 2);
        assert_eq!(verify(&reordered, &head, 5).unwrap_err().sequence, 2);

        let truncated = &events[..4];
        let err = verify(truncated, &head, 5).unwrap_err();
        assert_eq!(err.sequence, 5);
        assert!(err.reason.contains("truncated"));

        // Re-sealing an edited event does not help: the next one no longer links to it.
        let mut resealed = events.clone();
        resealed[1].payload = r#"{"reason":"forged"}"#.into();
        resealed[1] = resealed[1].clone().sealed(&events[0].hash);
        assert_eq!(verify(&resealed, &head, 5).unwrap_err().sequence, 3);
    }
}
