//! Timestamps as Celery writes them (spec §1.6): `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`, which every
//! 5.x worker parses on every Python version.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Instants after Python's `datetime.max` are written as `datetime.max`: no worker can parse a
/// five-digit year.
pub fn format_iso8601(at: SystemTime) -> String {
    let at = at.min(python_datetime_max());
    let since_epoch = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since_epoch.as_secs() as i64;
    let micros = since_epoch.subsec_micros();
    let (days, secs_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}+00:00",
        secs_of_day / 3600,
        (secs_of_day % 3600) / 60,
        secs_of_day % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Python's `datetime.max`, 9999-12-31T23:59:59.999999 UTC: the latest timestamp a worker parses.
pub fn python_datetime_max() -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(253_402_300_799_999_999)
}

/// Seconds since the Unix epoch, as JS `Date.getTime() / 1000` gives them. Times before the epoch
/// and NaN become the epoch; values too large for a `SystemTime` become `datetime.max`.
pub fn from_unix_seconds(seconds: f64) -> SystemTime {
    match Duration::try_from_secs_f64(seconds) {
        Ok(since_epoch) => UNIX_EPOCH.checked_add(since_epoch).unwrap_or_else(python_datetime_max),
        Err(_) if seconds > 0.0 => python_datetime_max(),
        Err(_) => UNIX_EPOCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_python_isoformat_with_utc_offset() {
        let at = UNIX_EPOCH + Duration::from_micros(1_795_606_000_707_956);
        assert_eq!(format_iso8601(at), "2026-11-25T11:26:40.707956+00:00");
        assert_eq!(format_iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000000+00:00");
        let leap = from_unix_seconds(951_782_400.0); // 2000-02-29
        assert_eq!(format_iso8601(leap), "2000-02-29T00:00:00.000000+00:00");
    }

    #[test]
    fn out_of_range_instants_neither_panic_nor_leave_pythons_range() {
        assert_eq!(format_iso8601(python_datetime_max()), "9999-12-31T23:59:59.999999+00:00");
        // JS dates reach year 275760; Python stops at 9999.
        assert_eq!(format_iso8601(from_unix_seconds(8.64e12)), "9999-12-31T23:59:59.999999+00:00");
        assert_eq!(from_unix_seconds(f64::INFINITY), python_datetime_max());
        assert_eq!(from_unix_seconds(f64::NAN), UNIX_EPOCH);
        assert_eq!(from_unix_seconds(-1.0), UNIX_EPOCH);
    }
}
