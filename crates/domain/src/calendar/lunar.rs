//! The Vietnamese lunisolar calendar, computed for UTC+7.
//!
//! Tết and Hùng Kings' day are lunar dates. The Vietnamese calendar is the Chinese one
//! computed at Hanoi's meridian (UTC+7) instead of Beijing's (UTC+8); the two differ in some
//! years (Tết 1985 fell a month apart, Tết 2007 a day apart), so crates for the Chinese calendar
//! give wrong holidays. This is Hồ Ngọc Đức's published algorithm (new moons and solar
//! longitude after Jean Meeus, "Astronomical Algorithms"), valid for 1800–2199.

use std::f64::consts::PI;

use chrono::NaiveDate;

/// The time zone of the Vietnamese calendar, in hours east of UTC.
pub const VIETNAM_UTC_OFFSET: f64 = 7.0;

/// Mean length of a lunation (synodic month), in days.
const SYNODIC_MONTH: f64 = 29.530588853;
/// Julian day of the new moon of 1 January 1900, the epoch of the lunation count.
const EPOCH_NEW_MOON: f64 = 2415021.076998695;

fn julian_day(date: NaiveDate) -> i64 {
    // Days from 1 January 4713 BC (proleptic Julian), noon; chrono counts from 1 January 1 CE.
    i64::from(chrono::Datelike::num_days_from_ce(&date)) + 1_721_425
}

fn date_of_julian_day(jd: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((jd - 1_721_425) as i32).expect("a date in range")
}

/// Julian day (TT) of the k-th new moon after 1 January 1900.
fn new_moon(k: f64) -> f64 {
    let t = k / 1236.85;
    let (t2, t3) = (t * t, t * t * t);
    let dr = PI / 180.0;
    let mut jd = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3;
    jd += 0.00033 * ((166.56 + 132.87 * t - 0.009173 * t2) * dr).sin();
    let m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3;
    let mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3;
    let f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3;
    let mut c1 = (0.1734 - 0.000393 * t) * (m * dr).sin() + 0.0021 * (2.0 * dr * m).sin();
    c1 = c1 - 0.4068 * (mpr * dr).sin() + 0.0161 * (dr * 2.0 * mpr).sin();
    c1 -= 0.0004 * (dr * 3.0 * mpr).sin();
    c1 = c1 + 0.0104 * (dr * 2.0 * f).sin() - 0.0051 * (dr * (m + mpr)).sin();
    c1 = c1 - 0.0074 * (dr * (m - mpr)).sin() + 0.0004 * (dr * (2.0 * f + m)).sin();
    c1 = c1 - 0.0004 * (dr * (2.0 * f - m)).sin() - 0.0006 * (dr * (2.0 * f + mpr)).sin();
    c1 = c1 + 0.0010 * (dr * (2.0 * f - mpr)).sin() + 0.0005 * (dr * (2.0 * mpr + m)).sin();
    let delta_t = if t < -11.0 {
        0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    } else {
        -0.000278 + 0.000265 * t + 0.000262 * t2
    };
    jd + c1 - delta_t
}

/// The sun's apparent longitude at a Julian day, in radians within [0, 2π).
fn sun_longitude(jdn: f64) -> f64 {
    let t = (jdn - 2451545.0) / 36525.0;
    let t2 = t * t;
    let dr = PI / 180.0;
    let m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2;
    let l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2;
    let dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * (dr * m).sin()
        + (0.019993 - 0.000101 * t) * (dr * 2.0 * m).sin()
        + 0.000290 * (dr * 3.0 * m).sin();
    let l = (l0 + dl) * dr;
    l - 2.0 * PI * (l / (2.0 * PI)).floor()
}

/// The local day (Julian day number) of the k-th new moon.
fn new_moon_day(k: i64, tz: f64) -> i64 {
    (new_moon(k as f64) + 0.5 + tz / 24.0).floor() as i64
}

/// Which twelfth of the ecliptic the sun is in at the start of a local day (0–11).
fn sun_sector(day: i64, tz: f64) -> i64 {
    (sun_longitude(day as f64 - 0.5 - tz / 24.0) / PI * 6.0).floor() as i64
}

/// The local day on which the 11th lunar month (the one holding the winter solstice) of
/// `year` begins.
fn month_11(year: i32, tz: f64) -> i64 {
    let last_day = NaiveDate::from_ymd_opt(year, 12, 31).expect("a valid date");
    let off = julian_day(last_day) - 2415021;
    let k = (off as f64 / SYNODIC_MONTH).floor() as i64;
    let new_moon = new_moon_day(k, tz);
    if sun_sector(new_moon, tz) >= 9 {
        new_moon_day(k - 1, tz)
    } else {
        new_moon
    }
}

/// How many months after month 11 the leap month comes, in a year that has one.
fn leap_month_offset(a11: i64, tz: f64) -> i64 {
    let k = ((a11 as f64 - EPOCH_NEW_MOON) / SYNODIC_MONTH + 0.5).floor() as i64;
    let mut i = 1;
    let mut arc = sun_sector(new_moon_day(k + i, tz), tz);
    loop {
        let last = arc;
        i += 1;
        arc = sun_sector(new_moon_day(k + i, tz), tz);
        if arc == last || i >= 14 {
            return i - 1;
        }
    }
}

/// The solar date of a lunar date (not in a leap month) in the Vietnamese calendar.
pub fn to_solar(lunar_day: u32, lunar_month: u32, lunar_year: i32) -> NaiveDate {
    let tz = VIETNAM_UTC_OFFSET;
    let (a11, b11) = if lunar_month < 11 {
        (month_11(lunar_year - 1, tz), month_11(lunar_year, tz))
    } else {
        (month_11(lunar_year, tz), month_11(lunar_year + 1, tz))
    };
    let k = (0.5 + (a11 as f64 - EPOCH_NEW_MOON) / SYNODIC_MONTH).floor() as i64;
    let mut off = i64::from(lunar_month) - 11;
    if off < 0 {
        off += 12;
    }
    if b11 - a11 > 365 && off >= leap_month_offset(a11, tz) {
        // A leap month comes before this month in the lunar year.
        off += 1;
    }
    let month_start = new_moon_day(k + off, tz);
    date_of_julian_day(month_start + i64::from(lunar_day) - 1)
}

/// Tết: the first day of the first lunar month of `year`.
pub fn tet(year: i32) -> NaiveDate {
    to_solar(1, 1, year)
}

/// Hùng Kings' Commemoration Day: the 10th day of the 3rd lunar month.
pub fn hung_kings_day(year: i32) -> NaiveDate {
    to_solar(10, 3, year)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn julian_days() {
        assert_eq!(julian_day(d(2000, 1, 1)), 2451545);
        assert_eq!(date_of_julian_day(2451545), d(2000, 1, 1));
    }

    // Expected dates cross-checked with the Python package `holidays` (class Vietnam).
    #[test]
    fn tet_2024_to_2035() {
        let expected = [
            d(2024, 2, 10),
            d(2025, 1, 29),
            d(2026, 2, 17),
            d(2027, 2, 6),
            d(2028, 1, 26),
            d(2029, 2, 13),
            d(2030, 2, 2),
            d(2031, 1, 23),
            d(2032, 2, 11),
            d(2033, 1, 31),
            d(2034, 2, 19),
            d(2035, 2, 8),
        ];
        for (year, day) in (2024..).zip(expected) {
            assert_eq!(tet(year), day, "Tết {year}");
        }
    }

    #[test]
    fn hung_kings_day_2024_to_2035() {
        let expected = [
            d(2024, 4, 18),
            d(2025, 4, 7),
            d(2026, 4, 26),
            d(2027, 4, 16),
            d(2028, 4, 4),
            d(2029, 4, 23),
            d(2030, 4, 12),
            d(2031, 4, 1),
            d(2032, 4, 19),
            d(2033, 4, 9),
            d(2034, 4, 28),
            d(2035, 4, 17),
        ];
        for (year, day) in (2024..).zip(expected) {
            assert_eq!(hung_kings_day(year), day, "Hùng Kings' day {year}");
        }
    }

    #[test]
    fn differs_from_the_chinese_calendar_where_it_should() {
        // Computed at UTC+7, not UTC+8: Vietnam's Tết was on 21 January 1985 (China: 20
        // February) and on 17 February 2007 (China: 18 February), and will be on 2 February
        // 2030 (China: 3 February; the new moon is at 23:07 in Hanoi, 00:07 in Beijing).
        assert_eq!(tet(1985), d(1985, 1, 21));
        assert_eq!(tet(2007), d(2007, 2, 17));
        assert_eq!(tet(2030), d(2030, 2, 2));
    }
}
