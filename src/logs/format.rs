//! One line as the `debug` package (4.x, Node) prints it: with colors, `  <namespace> <message>
//! +<time since the namespace's previous line>` in the namespace's color; without,
//! `<ISO date> <namespace> <message>` (no date with `DEBUG_HIDE_DATE`).

/// How the `debug` package prints one namespace (its instance's `color` and `useColors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceStyle {
    pub name: String,
    /// A color number: 0-7 as a basic ANSI color, higher ones from the 256-color palette.
    pub color: u32,
    pub use_colors: bool,
}

/// The line for `message`, logged at `now_ms` (milliseconds since the Unix epoch), `diff_ms` after
/// the namespace's previous line, ending with a newline.
pub fn line(
    style: &NamespaceStyle,
    hide_date: bool,
    now_ms: u64,
    diff_ms: u64,
    message: &str,
) -> String {
    if !style.use_colors {
        let date = if hide_date {
            String::new()
        } else {
            iso_date(now_ms) + " "
        };
        return format!("{date}{} {message}\n", style.name);
    }
    let color_code = if style.color < 8 {
        format!("\x1b[3{}", style.color)
    } else {
        format!("\x1b[38;5;{}", style.color)
    };
    let prefix = format!("  {color_code};1m{} \x1b[0m", style.name);
    // As `debug`, every line of a multi-line message carries the prefix.
    let message = message.replace('\n', &format!("\n{prefix}"));
    format!(
        "{prefix}{message} {color_code}m+{}\x1b[0m\n",
        humanize(diff_ms)
    )
}

/// `new Date(ms).toISOString()`: `2024-01-31T12:34:56.789Z`.
pub fn iso_date(ms: u64) -> String {
    const MS_PER_DAY: u64 = 86_400_000;
    let (year, month, day) = civil_from_days(ms / MS_PER_DAY);
    let in_day = ms % MS_PER_DAY;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    )
}

/// The Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`, for dates
/// after the epoch).
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

/// A duration as the `ms` package's short form, which `debug` uses: `850ms`, `3s`, `2m`, `5h`,
/// `1d` (rounded half up).
pub fn humanize(ms: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
    ];
    for (size, unit) in UNITS {
        if ms >= size {
            return format!("{}{unit}", (ms + size / 2) / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(color: u32, use_colors: bool) -> NamespaceStyle {
        NamespaceStyle {
            name: "engine:socket".into(),
            color,
            use_colors,
        }
    }

    #[test]
    fn iso_dates_match_javascripts() {
        assert_eq!(iso_date(0), "1970-01-01T00:00:00.000Z");
        // new Date(1733499915858).toISOString()
        assert_eq!(iso_date(1_733_499_915_858), "2024-12-06T15:45:15.858Z");
        // A leap day: new Date(1709208000001).toISOString()
        assert_eq!(iso_date(1_709_208_000_001), "2024-02-29T12:00:00.001Z");
        assert_eq!(iso_date(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn durations_read_as_the_ms_package_writes_them() {
        assert_eq!(humanize(0), "0ms");
        assert_eq!(humanize(999), "999ms");
        assert_eq!(humanize(1000), "1s");
        assert_eq!(humanize(1499), "1s");
        assert_eq!(humanize(1500), "2s");
        assert_eq!(humanize(90_000), "2m");
        assert_eq!(humanize(3_600_000), "1h");
        assert_eq!(humanize(200_000_000), "2d");
    }

    #[test]
    fn without_colors_a_line_is_date_namespace_message() {
        assert_eq!(
            line(&style(6, false), false, 0, 5, "got pong"),
            "1970-01-01T00:00:00.000Z engine:socket got pong\n"
        );
        assert_eq!(
            line(&style(6, false), true, 0, 5, "got pong"),
            "engine:socket got pong\n"
        );
    }

    #[test]
    fn with_colors_a_line_carries_the_namespace_color_and_the_time_since_the_previous_one() {
        assert_eq!(
            line(&style(6, true), false, 0, 5, "got pong"),
            "  \x1b[36;1mengine:socket \x1b[0mgot pong \x1b[36m+5ms\x1b[0m\n"
        );
        assert_eq!(
            line(&style(170, true), false, 0, 2000, "a\nb"),
            "  \x1b[38;5;170;1mengine:socket \x1b[0ma\n  \x1b[38;5;170;1mengine:socket \x1b[0mb \x1b[38;5;170m+2s\x1b[0m\n"
        );
    }
}
