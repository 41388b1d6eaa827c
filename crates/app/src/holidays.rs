//! The holiday calendar in the browser: a system administrator, while elevated, adds or removes
//! a day off or a make-up working day of a year. Deadlines are counted on the new calendar from
//! the moment it is saved; due dates already set stay as they were computed.

use chrono::{Datelike, NaiveDate, Weekday};
use domain::InvalidField;
use domain::calendar::{Holiday, YearDecree, statutory_days_off};
use domain::user::{Role, User};
use serde_json::json;

use crate::{App, AppError, Result};

/// A year of the calendar as the page shows it.
#[derive(Debug, Clone)]
pub struct CalendarYear {
    pub year: i32,
    /// Whether an announced decree sets the year; else the Labour Code's defaults apply.
    pub decreed: bool,
    pub days_off: Vec<Holiday>,
    pub working_weekend_days: Vec<NaiveDate>,
}

/// One change to a year's calendar, as typed.
#[derive(Debug, Clone)]
pub enum CalendarChange {
    DayOff { date: String, name: String },
    WorkingDay { date: String },
    Remove { date: String },
}

fn weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

fn day_of(raw: &str) -> Result<NaiveDate> {
    crate::editing::parse_day(raw)
        .filter(|d| (1900..=2199).contains(&d.year()))
        .ok_or_else(|| {
            AppError::Invalid(vec![InvalidField::bilingual(
                "date",
                "give the day as dd/mm/yyyy, between 1900 and 2199",
                "nhập ngày theo dạng ngày/tháng/năm, từ năm 1900 đến 2199",
            )])
        })
}

impl App {
    /// A year of the calendar in force.
    pub async fn calendar_year(&self, year: i32) -> Result<CalendarYear> {
        let decree = self
            .store
            .decrees()
            .await?
            .into_iter()
            .find(|d| d.year == year);
        Ok(match decree {
            Some(d) => CalendarYear {
                year,
                decreed: true,
                days_off: d.days_off,
                working_weekend_days: d.working_weekend_days,
            },
            None => CalendarYear {
                year,
                decreed: false,
                days_off: statutory_days_off(year),
                working_weekend_days: Vec::new(),
            },
        })
    }

    /// Applies one change to a year (privileged: it moves every deadline counted after it).
    /// A year without a decree starts from the Labour Code's days off.
    pub async fn change_calendar(&self, actor: &User, change: CalendarChange) -> Result<i32> {
        if actor.role != Role::SystemAdmin {
            return Err(AppError::Forbidden(
                "only system administrators change the holiday calendar".into(),
            ));
        }
        let date = match &change {
            CalendarChange::DayOff { date, .. }
            | CalendarChange::WorkingDay { date }
            | CalendarChange::Remove { date } => day_of(date)?,
        };
        let year = self.calendar_year(date.year()).await?;
        let mut decree = YearDecree {
            year: year.year,
            days_off: year.days_off,
            working_weekend_days: year.working_weekend_days,
        };
        let refuse = |en: &str, vi: &str| {
            Err(AppError::Invalid(vec![InvalidField::bilingual(
                "date", en, vi,
            )]))
        };
        let (action, detail) = match &change {
            CalendarChange::DayOff { name, .. } => {
                let name = name.trim();
                if name.is_empty() || name.chars().count() > 200 {
                    return Err(AppError::Invalid(vec![InvalidField::bilingual(
                        "name",
                        "give the name of the day off (at most 200 characters)",
                        "nhập tên ngày nghỉ (tối đa 200 ký tự)",
                    )]));
                }
                if weekend(date) {
                    return refuse(
                        "that day is a Saturday or Sunday, off already",
                        "ngày này là thứ Bảy hoặc Chủ nhật, vốn đã là ngày nghỉ",
                    );
                }
                if decree.days_off.iter().any(|h| h.date == date) {
                    return refuse("that day is a day off already", "ngày này đã là ngày nghỉ");
                }
                decree.days_off.push(Holiday {
                    date,
                    name: name.to_owned(),
                });
                (
                    "calendar_day_off_added",
                    json!({ "date": date, "name": name }),
                )
            }
            CalendarChange::WorkingDay { .. } => {
                if !weekend(date) {
                    return refuse(
                        "a make-up working day is a Saturday or a Sunday",
                        "ngày làm bù phải là thứ Bảy hoặc Chủ nhật",
                    );
                }
                if decree.working_weekend_days.contains(&date) {
                    return refuse(
                        "that day is a working day already",
                        "ngày này đã là ngày làm bù",
                    );
                }
                decree.working_weekend_days.push(date);
                ("calendar_working_day_added", json!({ "date": date }))
            }
            CalendarChange::Remove { .. } => {
                let before = decree.days_off.len() + decree.working_weekend_days.len();
                decree.days_off.retain(|h| h.date != date);
                decree.working_weekend_days.retain(|d| *d != date);
                if decree.days_off.len() + decree.working_weekend_days.len() == before {
                    return refuse(
                        "that day is neither a day off nor a make-up working day",
                        "ngày này không phải ngày nghỉ hay ngày làm bù",
                    );
                }
                ("calendar_day_removed", json!({ "date": date }))
            }
        };
        decree.days_off.sort_by_key(|h| h.date);
        decree.working_weekend_days.sort();
        self.privileged(actor, action, detail, false).await?;
        self.store
            .put_decrees(std::slice::from_ref(&decree))
            .await?;
        self.refresh_index().await?;
        Ok(decree.year)
    }
}
