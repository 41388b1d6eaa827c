//! Statistics counters, kept by the events themselves: each event adds to a few counters keyed
//! by day (in Vietnam), agency, procedure and channel. The same function gives the additions
//! when an event is written and when the whole log is replayed to check the counters, so the
//! two can only disagree if the stored data was changed.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::vietnam_offset;
use crate::dossier::record::Satisfaction;
use crate::dossier::timeliness::{Timeliness, judge};
use crate::dossier::{Action, EventRecord, Status};
use crate::{AgencyCode, Channel, ProcedureCode};

/// What a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Submitted,
    Received,
    /// Received and submitted online: the share the national index scores.
    ReceivedOnline,
    Refused,
    Withdrawn,
    Stopped,
    ResolvedEarly,
    ResolvedOnTime,
    ResolvedLate,
    /// Resolved where the procedure states no processing time to judge against.
    ResolvedUndated,
    Returned,
    SupplementRequested,
    PaymentConfirmed,
    Apologized,
    TransferredIn,
    TransferredOut,
    RatedSatisfied,
    RatedDissatisfied,
    /// Held now and being processed (received, in progress, waiting for payment). A stock,
    /// not a flow: its counters are keyed by the dossier's due day ([`NO_DEADLINE`] without
    /// one), so whether it is overdue is a comparison with today.
    InProgress,
    /// Held now and waiting for the applicant's supplement: the legal clock is paused.
    AwaitingSupplement,
}

impl Metric {
    pub const ALL: [Metric; 20] = [
        Metric::Submitted,
        Metric::Received,
        Metric::ReceivedOnline,
        Metric::Refused,
        Metric::Withdrawn,
        Metric::Stopped,
        Metric::ResolvedEarly,
        Metric::ResolvedOnTime,
        Metric::ResolvedLate,
        Metric::ResolvedUndated,
        Metric::Returned,
        Metric::SupplementRequested,
        Metric::PaymentConfirmed,
        Metric::Apologized,
        Metric::TransferredIn,
        Metric::TransferredOut,
        Metric::RatedSatisfied,
        Metric::RatedDissatisfied,
        Metric::InProgress,
        Metric::AwaitingSupplement,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Metric::Submitted => "submitted",
            Metric::Received => "received",
            Metric::ReceivedOnline => "received_online",
            Metric::Refused => "refused",
            Metric::Withdrawn => "withdrawn",
            Metric::Stopped => "stopped",
            Metric::ResolvedEarly => "resolved_early",
            Metric::ResolvedOnTime => "resolved_on_time",
            Metric::ResolvedLate => "resolved_late",
            Metric::ResolvedUndated => "resolved_undated",
            Metric::Returned => "returned",
            Metric::SupplementRequested => "supplement_requested",
            Metric::PaymentConfirmed => "payment_confirmed",
            Metric::Apologized => "apologized",
            Metric::TransferredIn => "transferred_in",
            Metric::TransferredOut => "transferred_out",
            Metric::RatedSatisfied => "rated_satisfied",
            Metric::RatedDissatisfied => "rated_dissatisfied",
            Metric::InProgress => "in_progress",
            Metric::AwaitingSupplement => "awaiting_supplement",
        }
    }

    /// Counts dossiers held now (keyed by due day) rather than events of a day.
    pub fn is_stock(self) -> bool {
        matches!(self, Metric::InProgress | Metric::AwaitingSupplement)
    }

    /// The stock a dossier in `status` is part of, if any.
    pub fn stock_of(status: Status) -> Option<Self> {
        match status {
            Status::Received | Status::InProgress | Status::PaymentRequested => {
                Some(Metric::InProgress)
            }
            Status::SupplementRequested => Some(Metric::AwaitingSupplement),
            _ => None,
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == code)
    }
}

/// The day a stock counter uses for a dossier with no deadline.
pub const NO_DEADLINE: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();

/// The key of one counter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CounterKey {
    pub day: NaiveDate,
    pub agency: AgencyCode,
    pub procedure: ProcedureCode,
    pub channel: Channel,
    pub metric: Metric,
}

/// What the counters need to know about a dossier just before an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub procedure: ProcedureCode,
    pub channel: Channel,
    /// The agency holding the dossier: events count there.
    pub holder: AgencyCode,
    pub due_at: Option<DateTime<Utc>>,
    pub supplement_requests: u32,
    /// An apology moved the appointment: the dossier was late, and a resolution by the new
    /// date does not make it on time.
    pub apologized: bool,
}

impl Tally {
    /// The tally after an event with this payload: a new due time, holder or supplement count.
    fn after(&self, payload: &serde_json::Value) -> Self {
        let mut next = self.clone();
        if let Some(due) = payload
            .get("due_at")
            .and_then(|v| v.as_str())
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
        {
            next.due_at = Some(due.to_utc());
        }
        if let Some(to) = payload
            .get("to_agency")
            .and_then(|v| v.as_str())
            .and_then(|a| AgencyCode::parse(a).ok())
        {
            next.holder = to;
        }
        next
    }

    /// The tally before an action on `dossier` (its stored state).
    pub fn of(dossier: &crate::dossier::Dossier) -> Self {
        Self {
            procedure: dossier.procedure.clone(),
            channel: dossier.channel,
            holder: dossier.agency.clone(),
            due_at: dossier.due_at,
            supplement_requests: dossier.state.supplement_requests,
            apologized: dossier.state.apologized,
        }
    }
}

/// What an event adds to the counters, given the dossier just before it: one to each counter
/// of what happened, and the dossier's move between stocks (minus one, plus one).
pub fn deltas(event: &EventRecord, before: &Tally) -> Vec<(CounterKey, i64)> {
    let payload: serde_json::Value = serde_json::from_str(&event.payload).unwrap_or_default();
    let mut out: Vec<(CounterKey, i64)> = flows(event, &payload, before)
        .into_iter()
        .map(|key| (key, 1))
        .collect();
    let after = before.after(&payload);
    let stock = |tally: &Tally, status: Status| {
        Metric::stock_of(status).map(|metric| CounterKey {
            day: tally.due_at.map(vietnam_day).unwrap_or(NO_DEADLINE),
            agency: tally.holder.clone(),
            procedure: tally.procedure.clone(),
            channel: tally.channel,
            metric,
        })
    };
    let (left, entered) = (
        stock(before, event.from_status),
        stock(&after, event.to_status),
    );
    if left != entered {
        out.extend(left.map(|key| (key, -1)));
        out.extend(entered.map(|key| (key, 1)));
    }
    out
}

fn vietnam_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&vietnam_offset()).date_naive()
}

/// The counters of what happened that an event adds one to.
fn flows(event: &EventRecord, payload: &serde_json::Value, before: &Tally) -> Vec<CounterKey> {
    let text = |key: &str| payload.get(key).and_then(|v| v.as_str());
    let day = vietnam_day(event.at);
    let key = |agency: &AgencyCode, metric| CounterKey {
        day,
        agency: agency.clone(),
        procedure: before.procedure.clone(),
        channel: before.channel,
        metric,
    };
    let here = |metric| vec![key(&before.holder, metric)];
    let moved = || {
        text("to_agency")
            .and_then(|a| AgencyCode::parse(a).ok())
            .filter(|to| *to != before.holder)
    };
    match event.action {
        Action::Submit => here(Metric::Submitted),
        Action::Receive if before.channel == Channel::Online => vec![
            key(&before.holder, Metric::Received),
            key(&before.holder, Metric::ReceivedOnline),
        ],
        Action::Receive => here(Metric::Received),
        Action::Refuse => here(Metric::Refused),
        Action::Withdraw => here(Metric::Withdrawn),
        Action::Stop => here(Metric::Stopped),
        Action::Return => here(Metric::Returned),
        Action::RequestSupplement => here(Metric::SupplementRequested),
        Action::ConfirmPayment => here(Metric::PaymentConfirmed),
        Action::ApologizeAndExtend => here(Metric::Apologized),
        Action::Rate => match text("satisfaction").and_then(Satisfaction::from_code) {
            Some(Satisfaction::Dissatisfied) => here(Metric::RatedDissatisfied),
            Some(_) => here(Metric::RatedSatisfied),
            None => Vec::new(),
        },
        Action::Resolve => {
            let metric = match before.due_at {
                None => Metric::ResolvedUndated,
                Some(_) if before.apologized => Metric::ResolvedLate,
                Some(due) => match judge(due, event.at, before.supplement_requests) {
                    Timeliness::Early => Metric::ResolvedEarly,
                    Timeliness::OnTime => Metric::ResolvedOnTime,
                    Timeliness::Late => Metric::ResolvedLate,
                },
            };
            // Resolved where it was handled; a hand-back to the receiving one-stop shop is
            // not a transfer of work.
            here(metric)
        }
        Action::Transfer | Action::CompleteStep => match moved() {
            Some(to) => vec![
                key(&before.holder, Metric::TransferredOut),
                key(&to, Metric::TransferredIn),
            ],
            None => Vec::new(),
        },
        Action::Supplement | Action::RequestPayment | Action::Refund => Vec::new(),
    }
}

/// Replays a dossier's events to get every counter addition, as the writes made them.
/// `procedure` and `channel` are the dossier's (they never change).
pub fn replay(
    procedure: &ProcedureCode,
    channel: Channel,
    events: &[EventRecord],
) -> Vec<(CounterKey, i64)> {
    let Some(first) = events.first() else {
        return Vec::new();
    };
    let Some(holder) = first
        .agency
        .as_deref()
        .and_then(|a| AgencyCode::parse(a).ok())
    else {
        return Vec::new();
    };
    let mut tally = Tally {
        procedure: procedure.clone(),
        channel,
        holder,
        due_at: None,
        supplement_requests: 0,
        apologized: false,
    };
    let mut out = Vec::new();
    for event in events {
        out.extend(deltas(event, &tally));
        let payload: serde_json::Value = serde_json::from_str(&event.payload).unwrap_or_default();
        tally = tally.after(&payload);
        if event.action == Action::RequestSupplement {
            tally.supplement_requests += 1;
        }
        if event.action == Action::ApologizeAndExtend {
            tally.apologized = true;
        }
    }
    out
}

/// Counter additions summed by key; counters that come to zero are left out.
pub fn totals(additions: impl IntoIterator<Item = (CounterKey, i64)>) -> BTreeMap<CounterKey, i64> {
    let mut out = BTreeMap::new();
    for (key, value) in additions {
        *out.entry(key).or_insert(0) += value;
    }
    out.retain(|_, value| *value != 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dossier::Status;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(2026, 11, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
            .and_local_timezone(vietnam_offset())
            .unwrap()
            .to_utc()
    }

    fn event(action: Action, when: DateTime<Utc>, payload: serde_json::Value) -> EventRecord {
        moving(
            action,
            when,
            payload,
            (Status::InProgress, Status::InProgress),
        )
    }

    fn moving(
        action: Action,
        when: DateTime<Utc>,
        payload: serde_json::Value,
        (from_status, to_status): (Status, Status),
    ) -> EventRecord {
        EventRecord {
            dossier_code: "d".into(),
            sequence: 0,
            at: when,
            actor: "x".into(),
            agency: Some("001.00.00.H31".into()),
            action,
            from_status,
            to_status,
            payload: payload.to_string(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn a_transferred_dossier_counts_where_it_was_at_each_step() {
        use Status::*;
        let due = at(20, 17).to_rfc3339();
        let later = at(23, 17).to_rfc3339();
        let events = [
            moving(
                Action::Submit,
                at(10, 9),
                serde_json::json!({}),
                (Draft, Submitted),
            ),
            moving(
                Action::Receive,
                at(10, 10),
                serde_json::json!({"due_at": due}),
                (Submitted, Received),
            ),
            moving(
                Action::CompleteStep,
                at(12, 9),
                serde_json::json!({"to_agency": "000.00.03.H31"}),
                (Received, InProgress),
            ),
            moving(
                Action::RequestSupplement,
                at(13, 9),
                serde_json::json!({}),
                (InProgress, SupplementRequested),
            ),
            moving(
                Action::Supplement,
                at(16, 9),
                serde_json::json!({"due_at": later}),
                (SupplementRequested, InProgress),
            ),
            moving(
                Action::Resolve,
                at(19, 9),
                serde_json::json!({"to_agency": "001.00.00.H31"}),
                (InProgress, Resolved),
            ),
            moving(
                Action::Return,
                at(19, 15),
                serde_json::json!({}),
                (Resolved, Returned),
            ),
            moving(
                Action::Rate,
                at(19, 16),
                serde_json::json!({"satisfaction": "satisfied"}),
                (Returned, Returned),
            ),
        ];
        let procedure = ProcedureCode::parse("1.010824").unwrap();
        let additions = replay(&procedure, Channel::InPerson, &events);
        let counted: Vec<(u32, &str, &str, i64)> = additions
            .iter()
            .map(|(k, v)| {
                use chrono::Datelike;
                (k.day.day(), k.agency.as_str(), k.metric.code(), *v)
            })
            .collect();
        let ward = "001.00.00.H31";
        let department = "000.00.03.H31";
        assert_eq!(
            counted,
            [
                (10, ward, "submitted", 1),
                (10, ward, "received", 1),
                // From here on it is held, counted by its due day.
                (20, ward, "in_progress", 1),
                (12, ward, "transferred_out", 1),
                (12, department, "transferred_in", 1),
                (20, ward, "in_progress", -1),
                (20, department, "in_progress", 1),
                (13, department, "supplement_requested", 1),
                (20, department, "in_progress", -1),
                (20, department, "awaiting_supplement", 1),
                // The supplement moves the deadline by the paused days.
                (20, department, "awaiting_supplement", -1),
                (23, department, "in_progress", 1),
                (19, department, "resolved_early", 1),
                (23, department, "in_progress", -1),
                (19, ward, "returned", 1),
                (19, ward, "rated_satisfied", 1),
            ]
        );
        let held: i64 = totals(additions.iter().cloned())
            .iter()
            .filter(|(k, _)| k.metric.is_stock())
            .map(|(_, v)| v)
            .sum();
        assert_eq!(held, 0, "a returned dossier is held nowhere");
    }

    #[test]
    fn a_second_supplement_request_makes_it_late() {
        let tally = Tally {
            procedure: ProcedureCode::parse("1.000001").unwrap(),
            channel: Channel::Online,
            holder: AgencyCode::parse("001.00.00.H31").unwrap(),
            due_at: Some(at(20, 17)),
            supplement_requests: 2,
            apologized: false,
        };
        let resolved = deltas(
            &event(Action::Resolve, at(11, 9), serde_json::json!({})),
            &tally,
        );
        assert_eq!(resolved[0].0.metric, Metric::ResolvedLate);
        let on_the_day = Tally {
            supplement_requests: 0,
            ..tally.clone()
        };
        let resolved = deltas(
            &event(Action::Resolve, at(20, 16), serde_json::json!({})),
            &on_the_day,
        );
        assert_eq!(resolved[0].0.metric, Metric::ResolvedOnTime);
        let apologized = Tally {
            apologized: true,
            ..on_the_day.clone()
        };
        let resolved = deltas(
            &event(Action::Resolve, at(12, 9), serde_json::json!({})),
            &apologized,
        );
        assert_eq!(
            resolved[0].0.metric,
            Metric::ResolvedLate,
            "an apology's new date does not make a late dossier on time"
        );
        for m in Metric::ALL {
            assert_eq!(Metric::from_code(m.code()), Some(m));
        }
    }
}
