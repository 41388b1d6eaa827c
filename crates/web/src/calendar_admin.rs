//! The holiday calendar page: the days off and make-up working days of a year, and, for a
//! system administrator holding an elevation, forms that add or remove one.

use app::{CalendarChange, CalendarYear};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::Datelike;
use domain::InvalidField;
use serde::Deserialize;

use crate::AppState;
use crate::forms::{FieldErrors, system_admin_only};
use crate::i18n::Lang;
use crate::pages::{PageError, render};
use crate::session::SignedIn;

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/calendar", get(calendar_page).post(change))
}

#[derive(Template)]
#[template(path = "admin_calendar.html")]
struct CalendarPage {
    lang: Lang,
    path: String,
    year: i32,
    decreed: bool,
    /// Day, weekday, name.
    days_off: Vec<(String, String, String)>,
    working_days: Vec<(String, String)>,
    /// Which form the errors belong to, and what was typed there.
    form: String,
    date: String,
    name: String,
    errors: Vec<(String, String)>,
    date_error: String,
    name_error: String,
    /// The three forms: the change each makes, and its heading.
    forms: Vec<(&'static str, &'static str)>,
    saved: bool,
}

fn weekday(lang: Lang, day: chrono::NaiveDate) -> &'static str {
    let key = match day.weekday() {
        chrono::Weekday::Mon => "calendar-mon",
        chrono::Weekday::Tue => "calendar-tue",
        chrono::Weekday::Wed => "calendar-wed",
        chrono::Weekday::Thu => "calendar-thu",
        chrono::Weekday::Fri => "calendar-fri",
        chrono::Weekday::Sat => "calendar-sat",
        chrono::Weekday::Sun => "calendar-sun",
    };
    lang.t(key)
}

fn page(lang: Lang, year: CalendarYear) -> CalendarPage {
    CalendarPage {
        lang,
        path: "/admin/calendar".into(),
        year: year.year,
        decreed: year.decreed,
        days_off: year
            .days_off
            .iter()
            .map(|h| {
                (
                    lang.date(h.date),
                    weekday(lang, h.date).to_owned(),
                    h.name.clone(),
                )
            })
            .collect(),
        working_days: year
            .working_weekend_days
            .iter()
            .map(|d| (lang.date(*d), weekday(lang, *d).to_owned()))
            .collect(),
        form: String::new(),
        date: String::new(),
        name: String::new(),
        errors: Vec::new(),
        date_error: String::new(),
        name_error: String::new(),
        forms: vec![
            ("day_off", lang.t("calendar-add-day-off")),
            ("working_day", lang.t("calendar-add-working-day")),
            ("remove", lang.t("calendar-remove")),
        ],
        saved: false,
    }
}

#[derive(Deserialize)]
struct YearQuery {
    year: Option<i32>,
    saved: Option<String>,
}

async fn calendar_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Query(q): Query<YearQuery>,
) -> Result<Response, PageError> {
    system_admin_only(lang, &signed, "manage the calendar")?;
    let year = q
        .year
        .filter(|y| (1900..=2199).contains(y))
        .unwrap_or_else(|| app::today().year());
    let shown = state
        .app
        .calendar_year(year)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let mut page = page(lang, shown);
    page.saved = q.saved.is_some();
    Ok(render(&page))
}

#[derive(Deserialize)]
struct ChangeForm {
    change: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    name: String,
    year: Option<i32>,
}

async fn change(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    axum::Form(form): axum::Form<ChangeForm>,
) -> Result<Response, PageError> {
    system_admin_only(lang, &signed, "manage the calendar")?;
    let change = match form.change.as_str() {
        "day_off" => CalendarChange::DayOff {
            date: form.date.clone(),
            name: form.name.clone(),
        },
        "working_day" => CalendarChange::WorkingDay {
            date: form.date.clone(),
        },
        "remove" => CalendarChange::Remove {
            date: form.date.clone(),
        },
        other => {
            return Err(PageError::new(
                lang,
                app::AppError::invalid("change", format!("no calendar change '{other}'")),
            ));
        }
    };
    let errors: Vec<InvalidField> = match state.app.change_calendar(&signed.user, change).await {
        Ok(year) => {
            return Ok(
                Redirect::to(&format!("/admin/calendar?year={year}&saved=1")).into_response(),
            );
        }
        Err(app::AppError::Invalid(errors)) => errors,
        Err(e) => return Err(PageError::new(lang, e)),
    };
    let year = form
        .year
        .filter(|y| (1900..=2199).contains(y))
        .unwrap_or_else(|| app::today().year());
    let shown = state
        .app
        .calendar_year(year)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let mut page = page(lang, shown);
    page.errors = FieldErrors::new(lang, &errors).summary(&format!("{}-", form.change));
    let found = FieldErrors::new(lang, &errors);
    page.date_error = found.of("date");
    page.name_error = found.of("name");
    page.form = form.change;
    page.date = form.date;
    page.name = form.name;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}
