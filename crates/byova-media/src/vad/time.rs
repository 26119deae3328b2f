//! Conversions between sample counts and audio time.

use std::time::Duration;

/// Duration of `samples` samples at `rate` Hz (exact to the nanosecond, rounded down).
pub(super) fn samples_to_duration(samples: u64, rate: u32) -> Duration {
    let nanos = u128::from(samples) * 1_000_000_000 / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Number of whole samples at `rate` Hz in `duration` (rounded to the nearest sample).
pub(super) fn duration_to_samples(duration: Duration, rate: u32) -> u64 {
    let samples = (duration.as_nanos() * u128::from(rate) + 500_000_000) / 1_000_000_000;
    u64::try_from(samples).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(samples_to_duration(8000, 8000), Duration::from_secs(1));
        assert_eq!(samples_to_duration(1, 8000), Duration::from_micros(125));
        assert_eq!(samples_to_duration(1, 16_000), Duration::from_nanos(62_500));
        assert_eq!(samples_to_duration(5, 0), Duration::from_secs(5));
        assert_eq!(duration_to_samples(Duration::from_millis(20), 8000), 160);
        assert_eq!(duration_to_samples(Duration::from_nanos(62_500), 8000), 1);
        assert_eq!(duration_to_samples(Duration::from_nanos(62_499), 8000), 0);
        assert_eq!(duration_to_samples(Duration::MAX, 48_000), u64::MAX);
    }
}
