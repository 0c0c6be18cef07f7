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

/// Reads the ISO 8601 timestamps Celery writes (`eta`, `expires`, `date_done`): a `T` or space
/// between date and time, any fraction, and `Z`, `±HH:MM` or no offset (naive times are UTC, the
/// default worker timezone).
pub fn parse_iso8601(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let (date, rest) = (text.get(..10)?, text.get(10..)?);
    let mut date_parts = date.split('-');
    let year: i64 = date_parts.next()?.parse().ok()?;
    let month: u32 = date_parts.next()?.parse().ok()?;
    let day: u32 = date_parts.next()?.parse().ok()?;
    let rest = rest.strip_prefix(['T', ' ']).unwrap_or(rest);
    let (clock, offset_secs) = match rest.find(['Z', 'z', '+', '-']) {
        Some(at) => (&rest[..at], parse_offset(&rest[at..])?),
        None => (rest, 0),
    };
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut hms_parts = hms.split(':');
    let hour: i64 = hms_parts.next().filter(|h| !h.is_empty()).map_or(Some(0), |h| h.parse().ok())?;
    let minute: i64 = hms_parts.next().map_or(Some(0), |m| m.parse().ok())?;
    let second: i64 = hms_parts.next().map_or(Some(0), |s| s.parse().ok())?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let micros: u64 = format!("{:0<6}", &fraction[..fraction.len().min(6)]).parse().ok()?;
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    let since_epoch = Duration::from_secs(u64::try_from(secs).ok()?) + Duration::from_micros(micros);
    UNIX_EPOCH.checked_add(since_epoch)
}

fn parse_offset(text: &str) -> Option<i64> {
    if text.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = digits[2..].parse().ok()?;
    Some(sign * (hours * 3600 + minutes * 60))
}

/// A proleptic Gregorian date to days since 1970-01-01 (the inverse of `civil_from_days`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
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

/// Milliseconds since the Unix epoch (JS `Date.getTime()`), exactly: `.123` stays `.123000`,
/// where going through fractional seconds could land a microsecond early.
pub fn from_unix_millis(ms: f64) -> SystemTime {
    let micros = (ms * 1000.0).round();
    if micros.is_nan() || micros <= 0.0 {
        return UNIX_EPOCH;
    }
    match u64::try_from(micros as u128).ok().and_then(|m| UNIX_EPOCH.checked_add(Duration::from_micros(m))) {
        Some(at) => at.min(python_datetime_max()),
        None => python_datetime_max(),
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
    fn parses_what_celery_and_javascript_write() {
        let at = UNIX_EPOCH + Duration::from_micros(1_795_606_000_707_956);
        assert_eq!(parse_iso8601("2026-11-25T11:26:40.707956+00:00"), Some(at));
        assert_eq!(parse_iso8601(&format_iso8601(at)), Some(at));
        let millis = UNIX_EPOCH + Duration::from_millis(1_795_606_000_707);
        assert_eq!(parse_iso8601("2026-11-25T11:26:40.707Z"), Some(millis));
        assert_eq!(parse_iso8601("2026-11-25T12:26:40.707+01:00"), Some(millis));
        assert_eq!(parse_iso8601("2026-11-25 11:26:40.707"), Some(millis));
        assert_eq!(parse_iso8601("2000-02-29T00:00:00"), Some(from_unix_seconds(951_782_400.0)));
        assert_eq!(parse_iso8601("2026-11-25T11:26:40-05:30"), Some(from_unix_seconds(1_795_606_000.0 + 19_800.0)));
        for bad in ["", "soon", "2026-13-01T00:00:00", "2026-11-25Tab:00:00", "2026-11-25T00:00:00+5"] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn javascript_milliseconds_keep_their_exact_instant() {
        // 1_795_606_000_123 ms: through f64 seconds this was written .122999.
        assert_eq!(format_iso8601(from_unix_millis(1_795_606_000_123.0)), "2026-11-25T11:26:40.123000+00:00");
        assert_eq!(format_iso8601(from_unix_millis(1_100_000_000_123.0)), "2004-11-09T11:33:20.123000+00:00");
        assert_eq!(from_unix_millis(f64::NAN), UNIX_EPOCH);
        assert_eq!(from_unix_millis(-5.0), UNIX_EPOCH);
        assert_eq!(from_unix_millis(8.64e15), python_datetime_max());
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
