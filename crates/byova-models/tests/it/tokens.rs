//! Token expiry rules.

use std::time::Duration;

use byova_models::OAuthTokens;
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2025-03-01 08:00 UTC);

#[test]
fn expiry_with_buffer_matches_the_python_rule() {
    // Python: expired once elapsed >= expires_in - buffer.
    let tokens = OAuthTokens::new("a", 3600, T0);
    let buffer = Duration::from_secs(60);
    assert!(!tokens.is_expired_at(T0 + Duration::from_secs(3539), buffer));
    assert!(tokens.is_expired_at(T0 + Duration::from_secs(3540), buffer));
    assert_eq!(
        tokens.remaining_at(T0 + Duration::from_secs(3000)),
        Duration::from_secs(600)
    );
    assert_eq!(
        tokens.remaining_at(T0 + Duration::from_secs(4000)),
        Duration::ZERO
    );
}

#[test]
fn real_clock_helpers_agree() {
    let fresh = OAuthTokens::new("a", 3600, OffsetDateTime::now_utc());
    assert!(!fresh.is_expired(Duration::from_secs(60)));
    let old = OAuthTokens::new(
        "a",
        3600,
        OffsetDateTime::now_utc() - Duration::from_secs(7200),
    );
    assert!(old.is_expired(Duration::ZERO));
    assert!(!old.can_refresh(Duration::ZERO));
    let refreshable = old.with_refresh_token("r", Some(90 * 24 * 3600));
    assert!(refreshable.can_refresh(Duration::from_secs(60)));
}

#[test]
fn refresh_token_expiry() {
    let tokens = OAuthTokens::new("a", 1_209_600, T0).with_refresh_token("r", Some(7_776_000));
    assert_eq!(
        tokens.refresh_token_expires_at(),
        Some(datetime!(2025-05-30 08:00 UTC))
    );
    assert!(tokens.can_refresh_at(datetime!(2025-05-29 08:00 UTC), Duration::from_secs(3600)));
    assert!(!tokens.can_refresh_at(datetime!(2025-05-30 07:30 UTC), Duration::from_secs(3600)));
    let none = OAuthTokens::new("a", 60, T0);
    assert_eq!(none.refresh_token_expires_at(), None);
}

#[test]
fn inherit_keeps_a_new_refresh_token() {
    let old = OAuthTokens::new("a", 60, T0).with_refresh_token("old", Some(1000));
    let mut new = OAuthTokens::new("b", 60, T0).with_refresh_token("new", Some(5));
    new.inherit_refresh_token(&old);
    assert_eq!(new.refresh_token.as_ref().map(|t| t.expose()), Some("new"));
    assert_eq!(new.refresh_token_expires_in, Some(5));
}
