use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use proptest::prelude::*;

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// An instant given in Vietnamese local time.
fn vn(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    vietnam_offset()
        .with_ymd_and_hms(y, m, day, h, min, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn statutory_rules_agree_with_the_announced_years() {
    let official = official_decrees();
    for decree in &official {
        let announced: HashSet<NaiveDate> = decree.days_off.iter().map(|h| h.date).collect();
        for holiday in statutory_days_off(decree.year) {
            // Make-up days are where governments choose differently (2024 and 2025 moved them
            // next to Tết); every holiday itself must be in the announcement.
            if holiday.name.ends_with("(observed)") && decree.year != 2026 {
                continue;
            }
            assert!(
                announced.contains(&holiday.date),
                "{} {} is in the {} announcement",
                holiday.date,
                holiday.name,
                decree.year
            );
        }
    }
}

#[test]
fn decrees_override_the_rules() {
    let calendar = Calendar::vietnam();
    assert!(
        calendar.is_working_day(d(2025, 4, 26)),
        "a make-up Saturday"
    );
    assert!(!calendar.is_working_day(d(2025, 5, 2)), "a swapped day off");
    assert!(
        calendar.is_working_day(d(2025, 2, 3)),
        "2025 made up Tết's Saturday on 27 January"
    );
    assert!(!calendar.is_working_day(d(2025, 1, 27)));
    assert!(
        !calendar.is_working_day(d(2026, 11, 24)),
        "Vietnam Cultural Day, announced for 2026"
    );
    // Without a decree, the rules: in 2027 Tết is Saturday 6 February.
    assert!(
        !calendar.is_working_day(d(2027, 2, 5)),
        "Lunar New Year's Eve"
    );
    assert!(
        !calendar.is_working_day(d(2027, 2, 9)),
        "Fourth Day of Lunar New Year"
    );
    assert!(
        !calendar.is_working_day(d(2027, 2, 10)),
        "made up for the Saturday"
    );
    assert!(
        !calendar.is_working_day(d(2027, 2, 11)),
        "made up for the Sunday"
    );
    assert!(calendar.is_working_day(d(2027, 2, 12)));
}

#[test]
fn non_working_weekdays_of_2026() {
    let days: Vec<(NaiveDate, String)> = Calendar::vietnam()
        .non_working_weekdays(2026)
        .into_iter()
        .map(|h| (h.date, h.name))
        .collect();
    let dates: Vec<NaiveDate> = days.iter().map(|(date, _)| *date).collect();
    assert_eq!(
        dates,
        [
            d(2026, 1, 1),
            d(2026, 2, 16),
            d(2026, 2, 17),
            d(2026, 2, 18),
            d(2026, 2, 19),
            d(2026, 2, 20),
            d(2026, 4, 27),
            d(2026, 4, 30),
            d(2026, 5, 1),
            d(2026, 8, 31),
            d(2026, 9, 1),
            d(2026, 9, 2),
            d(2026, 11, 24),
        ]
    );
    assert_eq!(days[1].1, "Lunar New Year's Eve");
}

#[test]
fn national_day_joins_the_weekend() {
    assert_eq!(
        national_day_companion(2024),
        d(2024, 9, 3),
        "Monday 2nd → Tuesday 3rd"
    );
    assert_eq!(
        national_day_companion(2025),
        d(2025, 9, 1),
        "Tuesday 2nd → Monday 1st"
    );
    assert_eq!(
        national_day_companion(2027),
        d(2027, 9, 3),
        "Thursday 2nd → Friday 3rd"
    );
}

#[test]
fn working_day_deadlines() {
    let calendar = Calendar::vietnam();
    let hours = OfficeHours::default();
    let due = |at, n| calendar.due_at(at, n, TimeUnit::WorkingDays, &hours);
    // Received Friday 25 April 2025: the next working day is the make-up Saturday.
    assert_eq!(due(vn(2025, 4, 25, 10, 0), 1), vn(2025, 4, 26, 17, 0));
    // Received Tuesday 29 April 2025: 30/4, 1/5, the swapped 2/5 and the weekend are off.
    assert_eq!(due(vn(2025, 4, 29, 10, 0), 2), vn(2025, 5, 6, 17, 0));
    // Received on a Sunday: counting starts on Monday.
    // (Monday 23 counts as the day of reception; Tuesday 24 is a day off in 2026.)
    assert_eq!(due(vn(2026, 11, 22, 9, 0), 1), vn(2026, 11, 25, 17, 0));
    // Ten working days across Tết 2026 (16–20 February off).
    assert_eq!(due(vn(2026, 2, 12, 9, 0), 10), vn(2026, 3, 5, 17, 0));
}

#[test]
fn cutoff_moves_reception_to_the_next_working_day() {
    let calendar = Calendar::vietnam();
    let hours = OfficeHours {
        cutoff: Some(NaiveTime::from_hms_opt(15, 0, 0).unwrap()),
        ..OfficeHours::default()
    };
    // Friday 20 November 2026 at 16:00 counts from Monday 23; Tuesday 24 is a day off.
    let due = calendar.due_at(vn(2026, 11, 20, 16, 0), 1, TimeUnit::WorkingDays, &hours);
    assert_eq!(due, vn(2026, 11, 25, 17, 0));
    let before = calendar.due_at(vn(2026, 11, 20, 14, 59), 1, TimeUnit::WorkingDays, &hours);
    assert_eq!(before, vn(2026, 11, 23, 17, 0));
}

#[test]
fn other_units() {
    let calendar = Calendar::vietnam();
    let hours = OfficeHours::default();
    // Two calendar days from Friday 24 April 2026 end on Sunday; Monday 27 is Hùng Kings' day
    // observed; so Tuesday.
    assert_eq!(
        calendar.due_at(vn(2026, 4, 24, 9, 0), 2, TimeUnit::Days, &hours),
        vn(2026, 4, 28, 17, 0)
    );
    // One month from 31 January 2026 is Saturday 28 February; so Monday 2 March.
    assert_eq!(
        calendar.due_at(vn(2026, 1, 31, 9, 0), 1, TimeUnit::Months, &hours),
        vn(2026, 3, 2, 17, 0)
    );
    // Two working hours from Friday 16:30: half an hour on Friday, then Monday from 8:00.
    assert_eq!(
        calendar.due_at(vn(2026, 11, 20, 16, 30), 2, TimeUnit::WorkingHours, &hours),
        vn(2026, 11, 23, 9, 30)
    );
    // Working hours skip lunch.
    assert_eq!(
        calendar.due_at(vn(2026, 11, 23, 11, 0), 2, TimeUnit::WorkingHours, &hours),
        vn(2026, 11, 23, 14, 0)
    );
    assert_eq!(
        calendar.due_at(vn(2026, 11, 21, 9, 0), 5, TimeUnit::Hours, &hours),
        vn(2026, 11, 21, 14, 0)
    );
}

#[test]
fn decree_files_are_checked() {
    let stray = r#"{"years":{"2025":{"days_off":[{"date":"2024-12-31","name":"x"}]}}}"#;
    assert_eq!(parse_decrees(stray).unwrap_err().field, "years.2025");
    let weekday = r#"{"years":{"2025":{"days_off":[],"weekend_workdays":["2025-04-28"]}}}"#;
    assert_eq!(
        parse_decrees(weekday).unwrap_err().field,
        "years.2025.weekend_workdays"
    );
    assert!(parse_decrees("[]").is_err());
}

fn calendar() -> &'static Calendar {
    static CALENDAR: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
    CALENDAR.get_or_init(Calendar::vietnam)
}

proptest! {
    #[test]
    fn a_due_date_is_a_working_day_and_never_moves_earlier(
        minutes in 0i64..(12 * 366 * 24 * 60),
        n in 0u32..80,
        unit in prop::sample::select(vec![TimeUnit::WorkingDays, TimeUnit::Days, TimeUnit::Months]),
    ) {
        let calendar = calendar();
        let hours = OfficeHours::default();
        let received = vn(2024, 1, 1, 0, 0) + Duration::minutes(minutes);
        let due = calendar.due_at(received, n, unit, &hours);
        let next = calendar.due_at(received, n + 1, unit, &hours);
        let due_day = due.with_timezone(&vietnam_offset()).date_naive();
        prop_assert!(calendar.is_working_day(due_day), "{due_day} is a working day");
        prop_assert!(next >= due, "n + 1 is never earlier");
        if unit == TimeUnit::WorkingDays {
            prop_assert!(next > due, "one more working day is later");
        }
        if n >= 1 {
            prop_assert!(due > received);
        }
    }

    #[test]
    fn working_hours_never_end_outside_office_hours(
        minutes in 0i64..(3 * 366 * 24 * 60),
        n in 1u32..40,
    ) {
        let calendar = calendar();
        let hours = OfficeHours::default();
        let received = vn(2024, 1, 1, 0, 0) + Duration::minutes(minutes);
        let due = calendar.due_at(received, n, TimeUnit::WorkingHours, &hours);
        let local = due.with_timezone(&vietnam_offset());
        prop_assert!(calendar.is_working_day(local.date_naive()));
        let t = local.time();
        prop_assert!((t > hours.open && t <= hours.lunch_start) || (t > hours.lunch_end && t <= hours.close), "{t}");
        prop_assert!(due > received);
    }
}
