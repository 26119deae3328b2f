//! Retries: which failures are retried, and how long to wait.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::header::RETRY_AFTER;
use http::{HeaderMap, Method, StatusCode};

/// The [`RetryPolicy::on_retry`] hook.
type RetryHook = Arc<dyn Fn(&RetryEvent) + Send + Sync>;

/// When and how often failed requests are retried.
///
/// * **429** waits for `Retry-After` (seconds or an HTTP-date; [`default_retry_after`]
///   (15 s) when absent). A `Retry-After` longer than [`max_retry_after`] is not waited out: the
///   request fails with [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited) carrying it.
/// * **502, 503, 504** and failures to connect back off exponentially with ±20 % jitter
///   (503 honours a `Retry-After` too).
/// * Only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) are retried, unless a request
///   opts in ([`RequestBuilder::retry_non_idempotent`](crate::RequestBuilder::retry_non_idempotent)).
///   A failure to connect is retried for any method: nothing was sent.
/// * At most [`max_attempts`] attempts, and no wait that would end after the overall
///   [`deadline`] (counted from the first attempt).
///
/// Waiting uses `tokio::time`, so tests can drive it with `tokio::time::pause`.
///
/// [`default_retry_after`]: Self::default_retry_after
/// [`max_retry_after`]: Self::max_retry_after
/// [`max_attempts`]: Self::max_attempts
/// [`deadline`]: Self::deadline
///
/// ```
/// use std::time::Duration;
/// use byova_api::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_attempts(5)
///     .deadline(Some(Duration::from_secs(60)))
///     .on_retry(|event| eprintln!("retrying {} {}: {:?}", event.method, event.path, event.reason));
/// assert_eq!(policy.attempts(), 5);
/// ```
#[derive(Clone)]
pub struct RetryPolicy {
    max_attempts: u32,
    deadline: Option<Duration>,
    initial_backoff: Duration,
    max_backoff: Duration,
    default_retry_after: Duration,
    max_retry_after: Duration,
    on_retry: Option<RetryHook>,
}

impl Default for RetryPolicy {
    /// 4 attempts, 2 min deadline, backoff 500 ms doubling up to 8 s, 15 s default
    /// `Retry-After`, at most 2 min `Retry-After`.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            deadline: Some(Duration::from_secs(120)),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            default_retry_after: Duration::from_secs(15),
            max_retry_after: Duration::from_secs(120),
            on_retry: None,
        }
    }
}

impl RetryPolicy {
    /// No retries at all (a 401 still gets its one refresh and retry).
    #[must_use]
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Total attempts including the first (minimum 1).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The configured number of attempts.
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Overall time budget for retries, counted from the first attempt; `None` for no limit.
    /// A wait that would end after it is not started.
    #[must_use]
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Exponential backoff: the first wait and the longest.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Wait for a 429 without `Retry-After` (default 15 s).
    #[must_use]
    pub fn default_retry_after(mut self, wait: Duration) -> Self {
        self.default_retry_after = wait;
        self
    }

    /// Longest `Retry-After` that is waited out (default 2 min); longer ones fail the request.
    #[must_use]
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// A hook called before each retry's wait (for logs and metrics). Keep it quick.
    #[must_use]
    pub fn on_retry(mut self, hook: impl Fn(&RetryEvent) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(Arc::new(hook));
        self
    }

    pub(crate) fn deadline_budget(&self) -> Option<Duration> {
        self.deadline
    }

    pub(crate) fn notify(&self, event: &RetryEvent) {
        if let Some(hook) = &self.on_retry {
            hook(event);
        }
    }

    /// The wait before retry number `retry` (1-based) after a retryable status, or `None` when
    /// the status is not retried or its `Retry-After` exceeds the cap.
    pub(crate) fn delay_for_status(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        retry: u32,
    ) -> Option<(RetryReason, Duration)> {
        match status.as_u16() {
            429 => {
                let retry_after = parse_retry_after(headers, SystemTime::now());
                let wait = retry_after.unwrap_or(self.default_retry_after);
                (wait <= self.max_retry_after)
                    .then_some((RetryReason::RateLimited { retry_after }, wait))
            }
            502..=504 => {
                let backoff = self.backoff_for(retry);
                let wait = match parse_retry_after(headers, SystemTime::now()) {
                    Some(after) if after > self.max_retry_after => return None,
                    Some(after) => after.max(backoff),
                    None => backoff,
                };
                Some((RetryReason::Status(status), wait))
            }
            _ => None,
        }
    }

    /// Exponential backoff with ±20 % jitter for retry number `retry` (1-based).
    pub(crate) fn backoff_for(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(20);
        let base = self
            .initial_backoff
            .saturating_mul(1 << exp)
            .min(self.max_backoff);
        base.mul_f64(0.8 + 0.4 * fastrand::f64())
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("deadline", &self.deadline)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("default_retry_after", &self.default_retry_after)
            .field("max_retry_after", &self.max_retry_after)
            .field("on_retry", &self.on_retry.as_ref().map(|_| ".."))
            .finish()
    }
}

/// Whether a method may be retried without the caller opting in.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// Why a request is retried.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryReason {
    /// 429, with the `Retry-After` Webex sent (if any).
    RateLimited {
        /// The parsed `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// 502, 503 or 504.
    Status(StatusCode),
    /// The connection could not be established.
    Connect,
    /// The connection failed after the request was (maybe) sent.
    Transport,
}

/// What the [`RetryPolicy::on_retry`] hook sees before each retry.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RetryEvent {
    /// The attempt that failed (1-based).
    pub attempt: u32,
    /// Request method.
    pub method: Method,
    /// Request path (no query).
    pub path: String,
    /// Why it is retried.
    pub reason: RetryReason,
    /// How long the client waits before the next attempt.
    pub delay: Duration,
    /// The `TrackingID` of the failed attempt.
    pub tracking_id: String,
}

/// Parses `Retry-After`: delay-seconds or an HTTP-date (relative to `now`; past dates give 0).
pub(crate) fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, value.parse().unwrap());
        h
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            parse_retry_after(&headers("7"), now),
            Some(Duration::from_secs(7))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(42));
        assert_eq!(
            parse_retry_after(&headers(&date), now),
            Some(Duration::from_secs(42))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(42));
        assert_eq!(
            parse_retry_after(&headers(&past), now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after(&headers("soon"), now), None);
        assert_eq!(parse_retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let policy =
            RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_millis(1000));
        for _ in 0..100 {
            let first = policy.backoff_for(1);
            assert!(first >= Duration::from_millis(80) && first <= Duration::from_millis(120));
            let third = policy.backoff_for(3);
            assert!(third >= Duration::from_millis(320) && third <= Duration::from_millis(480));
            assert!(policy.backoff_for(30) <= Duration::from_millis(1200));
        }
    }

    #[test]
    fn long_retry_after_is_not_waited_out() {
        let policy = RetryPolicy::default().max_retry_after(Duration::from_secs(60));
        let status = StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(
            policy
                .delay_for_status(status, &headers("60"), 1)
                .map(|(_, d)| d),
            Some(Duration::from_secs(60))
        );
        assert_eq!(policy.delay_for_status(status, &headers("61"), 1), None);
        assert_eq!(
            policy.delay_for_status(status, &HeaderMap::new(), 1),
            Some((
                RetryReason::RateLimited { retry_after: None },
                Duration::from_secs(15)
            ))
        );
        assert_eq!(
            policy.delay_for_status(StatusCode::INTERNAL_SERVER_ERROR, &HeaderMap::new(), 1),
            None
        );
    }
}
