//! On time, early or late, as the national service-quality index judges a dossier.
//!
//! Processing ends at the first of resolved, returned, stopped or refused. Time spent waiting
//! for the citizen's supplement does not count: the deadline moves on by the working days the
//! dossier waited. A second supplement request makes the dossier late whatever the dates.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, vietnam_offset};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    /// Trước hạn: finished on a day before the due day.
    Early,
    /// Đúng hạn: finished on the due day, by the due time.
    OnTime,
    /// Trễ hạn.
    Late,
}

pub fn judge(
    due_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    supplement_requests: u32,
) -> Timeliness {
    let day = |t: DateTime<Utc>| t.with_timezone(&vietnam_offset()).date_naive();
    if supplement_requests >= 2 || ended_at > due_at {
        Timeliness::Late
    } else if day(ended_at) < day(due_at) {
        Timeliness::Early
    } else {
        Timeliness::OnTime
    }
}

/// The deadline after a pause for a supplement: moved on by the working days between the day
/// the supplement was requested and the day it arrived.
pub fn extend_for_pause(
    calendar: &Calendar,
    due_at: DateTime<Utc>,
    paused_at: DateTime<Utc>,
    resumed_at: DateTime<Utc>,
) -> DateTime<Utc> {
    let day = |t: DateTime<Utc>| t.with_timezone(&vietnam_offset()).date_naive();
    let (from, to) = (day(paused_at), day(resumed_at));
    let mut waited = 0;
    let mut d = from + Duration::days(1);
    while d <= to {
        if calendar.is_working_day(d) {
            waited += 1;
        }
        d += Duration::days(1);
    }
    let mut due_day = day(due_at);
    for _ in 0..waited {
        due_day = calendar.next_working_day(due_day);
    }
    due_at + (due_day - day(due_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn vn(m: u32, d: u32, h: u32) -> DateTime<Utc> {
        vietnam_offset()
            .with_ymd_and_hms(2026, m, d, h, 0, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn judged_as_the_national_index_does() {
        let due = vn(11, 25, 17);
        assert_eq!(judge(due, vn(11, 23, 10), 0), Timeliness::Early);
        assert_eq!(judge(due, vn(11, 25, 16), 0), Timeliness::OnTime);
        assert_eq!(judge(due, vn(11, 25, 17), 1), Timeliness::OnTime);
        assert_eq!(judge(due, vn(11, 26, 9), 0), Timeliness::Late);
        assert_eq!(
            judge(due, vn(11, 23, 10), 2),
            Timeliness::Late,
            "a second supplement request"
        );
    }

    #[test]
    fn a_pause_moves_the_deadline_by_the_working_days_waited() {
        let calendar = Calendar::vietnam();
        // Paused Friday 20 November 2026, supplemented Wednesday 25: Monday 23 and Wednesday 25
        // are working days (Tuesday 24 is a day off in 2026), so two days are added to the due
        // Thursday 26: Friday 27, then Monday 30.
        let due = extend_for_pause(&calendar, vn(11, 26, 17), vn(11, 20, 10), vn(11, 25, 9));
        assert_eq!(due, vn(11, 30, 17));
        // Supplemented the same day: nothing waited.
        assert_eq!(
            extend_for_pause(&calendar, vn(11, 26, 17), vn(11, 20, 10), vn(11, 20, 16)),
            vn(11, 26, 17)
        );
    }
}
