//! The working-day calendar that legal deadlines are counted on.
//!
//! A day is a working day unless it is a Saturday or Sunday or a day off, and a weekend day the
//! government declared a working day (a make-up Saturday) is one. Days off come from the
//! government's announcement for the year when there is one (an editable table of decrees:
//! [`YearDecree`]); for other years they are computed from the Labour Code's rules: New Year;
//! Tết (the last day of the lunar year and the first four of the new one); Hùng Kings' day
//! (10/3 lunar); 30 April; 1 May; 2 September and an adjacent day; and a holiday that falls on a
//! weekend is made up on the next working day.

pub mod lunar;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, Months, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};
use serde::Deserialize;

use crate::{InvalidField, TimeUnit};

/// The announced days off for 2024–2026 as shipped with motcua.
const OFFICIAL_DECREES: &str = include_str!("vn-days-off-2024-2026.json");

/// Years the calendar covers (the lunar algorithm is valid for 1800–2199).
const FIRST_YEAR: i32 = 1900;
const LAST_YEAR: i32 = 2199;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
}

/// What the government announced for one year: its days off (including swapped days) and the
/// weekend days that are working days instead.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct YearDecree {
    pub year: i32,
    pub days_off: Vec<Holiday>,
    pub working_weekend_days: Vec<NaiveDate>,
}

/// Vietnam's time zone: UTC+7, with no daylight saving.
pub fn vietnam_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// Office hours, for deadlines in working hours and for the instant a deadline day ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficeHours {
    pub open: NaiveTime,
    pub lunch_start: NaiveTime,
    pub lunch_end: NaiveTime,
    pub close: NaiveTime,
    /// A dossier received at or after this time counts as received the next working day.
    pub cutoff: Option<NaiveTime>,
}

impl Default for OfficeHours {
    fn default() -> Self {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("a valid time");
        Self {
            open: t(8, 0),
            lunch_start: t(12, 0),
            lunch_end: t(13, 0),
            close: t(17, 0),
            cutoff: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Calendar {
    days_off: HashMap<NaiveDate, String>,
    working_weekend_days: HashSet<NaiveDate>,
}

impl Default for Calendar {
    fn default() -> Self {
        Self::vietnam()
    }
}

impl Calendar {
    /// The statutory rules for every year, overridden by the given decrees for their years.
    pub fn new(decrees: &[YearDecree]) -> Self {
        let decreed: BTreeMap<i32, &YearDecree> = decrees.iter().map(|d| (d.year, d)).collect();
        let mut days_off = HashMap::new();
        let mut working_weekend_days = HashSet::new();
        for year in FIRST_YEAR..=LAST_YEAR {
            let holidays = match decreed.get(&year) {
                Some(decree) => {
                    working_weekend_days.extend(decree.working_weekend_days.iter().copied());
                    decree.days_off.clone()
                }
                None => statutory_days_off(year),
            };
            days_off.extend(holidays.into_iter().map(|h| (h.date, h.name)));
        }
        Self {
            days_off,
            working_weekend_days,
        }
    }

    /// The statutory rules with the official announcements shipped for 2024–2026.
    pub fn vietnam() -> Self {
        Self::new(&official_decrees())
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.working_weekend_days.contains(&date) {
            return true;
        }
        !is_weekend(date) && !self.days_off.contains_key(&date)
    }

    /// The days off of a year that fall on weekdays, by date, with their names.
    pub fn non_working_weekdays(&self, year: i32) -> Vec<Holiday> {
        let mut list: Vec<Holiday> = self
            .days_off
            .iter()
            .filter(|(date, _)| date.year() == year && !is_weekend(**date))
            .map(|(date, name)| Holiday {
                date: *date,
                name: name.clone(),
            })
            .collect();
        list.sort_by_key(|h| h.date);
        list
    }

    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date + Duration::days(1);
        while !self.is_working_day(day) {
            day += Duration::days(1);
        }
        day
    }

    /// `date` if it is a working day, else the next one.
    pub fn this_or_next_working_day(&self, date: NaiveDate) -> NaiveDate {
        if self.is_working_day(date) {
            date
        } else {
            self.next_working_day(date)
        }
    }

    /// When a deadline of `amount` `unit`s for something received at `received` ends.
    ///
    /// Working days count from the day of reception — or the next working day when it was
    /// received on a day off or after the cut-off — and the deadline is the close of office on
    /// the last of them. Calendar days and months end on a day off are carried to the next
    /// working day (Civil Code 2015, art. 148). Working hours are counted inside office hours.
    pub fn due_at(
        &self,
        received: DateTime<Utc>,
        amount: u32,
        unit: TimeUnit,
        hours: &OfficeHours,
    ) -> DateTime<Utc> {
        let local = received.with_timezone(&vietnam_offset());
        let day = local.date_naive();
        let after_cutoff = hours.cutoff.is_some_and(|c| local.time() >= c);
        let close = |d: NaiveDate| self.local_instant(d, hours.close);
        match unit {
            TimeUnit::WorkingDays => {
                let mut start = self.this_or_next_working_day(day);
                if after_cutoff && start == day {
                    start = self.next_working_day(day);
                }
                let mut due = start;
                for _ in 0..amount {
                    due = self.next_working_day(due);
                }
                close(due)
            }
            TimeUnit::Days => {
                let start = if after_cutoff {
                    day + Duration::days(1)
                } else {
                    day
                };
                close(self.this_or_next_working_day(start + Duration::days(i64::from(amount))))
            }
            TimeUnit::Months => {
                let end = day.checked_add_months(Months::new(amount)).unwrap_or(day);
                close(self.this_or_next_working_day(end))
            }
            TimeUnit::Hours => received + Duration::hours(i64::from(amount)),
            TimeUnit::WorkingHours => self.add_working_hours(local.naive_local(), amount, hours),
        }
    }

    fn local_instant(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        vietnam_offset()
            .from_local_datetime(&date.and_time(time))
            .single()
            .expect("a fixed offset has no gaps")
            .with_timezone(&Utc)
    }

    fn add_working_hours(
        &self,
        start: chrono::NaiveDateTime,
        amount: u32,
        hours: &OfficeHours,
    ) -> DateTime<Utc> {
        let mut remaining = Duration::hours(i64::from(amount));
        let mut day = start.date();
        let mut at = start.time();
        loop {
            if self.is_working_day(day) {
                for (from, to) in [
                    (hours.open, hours.lunch_start),
                    (hours.lunch_end, hours.close),
                ] {
                    let begin = at.max(from);
                    if begin >= to {
                        continue;
                    }
                    let available = to - begin;
                    if remaining <= available {
                        return self.local_instant(day, begin + remaining);
                    }
                    remaining -= available;
                }
            }
            day += Duration::days(1);
            at = NaiveTime::MIN;
        }
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The days off the Labour Code gives in `year`, with make-up days for those on weekends.
pub fn statutory_days_off(year: i32) -> Vec<Holiday> {
    let d = |m, day| NaiveDate::from_ymd_opt(year, m, day).expect("a valid date");
    let named = |date: NaiveDate, name: &str| Holiday {
        date,
        name: name.to_owned(),
    };
    let tet = lunar::tet(year);
    let mut days = vec![
        named(d(1, 1), "New Year's Day"),
        named(tet - Duration::days(1), "Lunar New Year's Eve"),
        named(tet, "Lunar New Year"),
        named(tet + Duration::days(1), "Second Day of Lunar New Year"),
        named(tet + Duration::days(2), "Third Day of Lunar New Year"),
        named(tet + Duration::days(3), "Fourth Day of Lunar New Year"),
        named(lunar::hung_kings_day(year), "Hung Kings' Commemoration Day"),
        named(d(4, 30), "Liberation Day/Reunification Day"),
        named(d(5, 1), "International Labor Day"),
        named(d(9, 2), "National Day"),
        named(national_day_companion(year), "National Day"),
    ];
    // A holiday on a weekend is made up on the next day that is neither a weekend nor a holiday.
    let taken: HashSet<NaiveDate> = days.iter().map(|h| h.date).collect();
    let mut made_up = HashSet::new();
    let mut observed = Vec::new();
    let mut on_weekends: Vec<&Holiday> = days.iter().filter(|h| is_weekend(h.date)).collect();
    on_weekends.sort_by_key(|h| h.date);
    for holiday in on_weekends {
        let mut day = holiday.date + Duration::days(1);
        while is_weekend(day) || taken.contains(&day) || made_up.contains(&day) {
            day += Duration::days(1);
        }
        made_up.insert(day);
        observed.push(named(day, &format!("{} (observed)", holiday.name)));
    }
    days.extend(observed);
    days.retain(|h| h.date.year() == year);
    days.sort_by_key(|h| h.date);
    days
}

/// The day next to 2 September that is also off: the one that joins the weekend.
fn national_day_companion(year: i32) -> NaiveDate {
    let national_day = NaiveDate::from_ymd_opt(year, 9, 2).expect("a valid date");
    match national_day.weekday() {
        Weekday::Mon | Weekday::Thu | Weekday::Sun => national_day + Duration::days(1),
        _ => national_day - Duration::days(1),
    }
}

#[derive(Deserialize)]
struct DecreeFile {
    years: BTreeMap<String, DecreeYear>,
}

#[derive(Deserialize)]
struct DecreeYear {
    days_off: Vec<DecreeDay>,
    #[serde(default)]
    weekend_workdays: Vec<NaiveDate>,
}

#[derive(Deserialize)]
struct DecreeDay {
    date: NaiveDate,
    name: String,
}

/// Reads decrees in the shape of the shipped file: `{"years": {"2025": {"days_off":
/// [{"date", "name"}], "weekend_workdays": ["2025-04-26"]}}}`.
pub fn parse_decrees(json: &str) -> Result<Vec<YearDecree>, InvalidField> {
    let file: DecreeFile = serde_json::from_str(json)
        .map_err(|e| InvalidField::new("decrees", format!("not a decree file: {e}")))?;
    file.years
        .into_iter()
        .map(|(year, y)| {
            let year: i32 = year
                .parse()
                .map_err(|_| InvalidField::new("years", format!("'{year}' is not a year")))?;
            let stray = y
                .days_off
                .iter()
                .map(|d| d.date)
                .chain(y.weekend_workdays.iter().copied())
                .find(|d| d.year() != year);
            if let Some(date) = stray {
                return Err(InvalidField::new(
                    format!("years.{year}"),
                    format!("{date} is not in {year}"),
                ));
            }
            if let Some(date) = y.weekend_workdays.iter().find(|d| !is_weekend(**d)) {
                return Err(InvalidField::new(
                    format!("years.{year}.weekend_workdays"),
                    format!("{date} is not a Saturday or Sunday"),
                ));
            }
            Ok(YearDecree {
                year,
                days_off: y
                    .days_off
                    .into_iter()
                    .map(|d| Holiday {
                        date: d.date,
                        name: d.name,
                    })
                    .collect(),
                working_weekend_days: y.weekend_workdays,
            })
        })
        .collect()
}

/// The official announcements shipped with motcua (2024–2026).
pub fn official_decrees() -> Vec<YearDecree> {
    parse_decrees(OFFICIAL_DECREES).expect("the shipped decree file is valid")
}

#[cfg(test)]
mod tests;
