//! Times in RFC 3339, UTC, to the second (`2026-11-27T00:08:12Z`), for records people and
//! tools read back.

use std::time::{SystemTime, UNIX_EPOCH};

/// `time` in RFC 3339, UTC, to the second. Times before 1970 are written as 1970-01-01.
pub fn format_utc(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let days = seconds / 86_400;
    let of_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(seconds: u64) -> String {
        format_utc(UNIX_EPOCH + Duration::from_secs(seconds))
    }

    #[test]
    fn known_instants() {
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(at(1_735_689_600), "2025-01-01T00:00:00Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
        assert_eq!(
            format_utc(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn agrees_with_http_dates_for_a_year_of_days() {
        for day in 0..400u64 {
            let seconds = 1_700_000_000 + day * 86_400 + 12_345;
            let time = UNIX_EPOCH + Duration::from_secs(seconds);
            let http = httpdate::fmt_http_date(time);
            let ours = format_utc(time);
            // "Tue, 14 Nov 2023 22:13:20 GMT" against "2023-11-14T22:13:20Z".
            let day_of_month = &ours[8..10];
            assert!(http.contains(&format!(" {day_of_month} ")), "{http} {ours}");
            assert!(http.contains(&ours[..4]), "{http} {ours}");
            assert!(http.contains(&ours[11..19]), "{http} {ours}");
        }
    }
}
