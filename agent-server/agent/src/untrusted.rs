//! Numbers from outside — the LLM's tool arguments, a provider's `Retry-After`, an API caller's
//! timeout — are attacker input: `Duration::from_secs_f64` panics on a negative, NaN, infinite
//! or huge value, and `Instant + Duration` can overflow. Every such number becomes a duration
//! here, or nothing.

use std::time::Duration;

/// The longest wait anything in Berth takes from outside: a day.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// `secs` as a duration of at most `max`; `None` for a negative, NaN or infinite value.
pub fn seconds(secs: f64, max: Duration) -> Option<Duration> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(secs).map_or(max, |d| d.min(max)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_numbers_become_bounded_durations_or_nothing() {
        assert_eq!(seconds(1.5, MAX_WAIT), Some(Duration::from_millis(1500)));
        assert_eq!(seconds(0.0, MAX_WAIT), Some(Duration::ZERO));
        assert_eq!(seconds(1e20, MAX_WAIT), Some(MAX_WAIT));
        assert_eq!(seconds(1e300, MAX_WAIT), Some(MAX_WAIT));
        assert_eq!(seconds(f64::MAX, MAX_WAIT), Some(MAX_WAIT));
        for bad in [-1.0, -0.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(seconds(bad, MAX_WAIT), None, "{bad}");
        }
    }
}
