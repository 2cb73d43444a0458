//! Freshness: the gate every check but staleness passes through (a stale
//! or down source makes the result unknown), and the staleness check
//! itself, which judges a source's age.

use super::{Evaluation, Facts, Freshness, Judge, Unknown};

/// The rule's source must be fresh; a source that is down or stale makes
/// the result unknown.
pub(super) fn gate(source: &str, f: &Facts<'_>) -> Result<(), Unknown> {
    match f.freshness.get(source) {
        Some(fr) if fr.is_fresh(f.now) => Ok(()),
        Some(Freshness {
            down: Some(failures),
            last_success,
            ..
        }) => Err(Unknown::SourceDown {
            source: source.to_owned(),
            failures: *failures,
            last_success: *last_success,
        }),
        fr => Err(Unknown::StaleSource {
            source: source.to_owned(),
            last_success: fr.and_then(|s| s.last_success),
        }),
    }
}

/// A source's data age in seconds against the levels. A source not polled
/// yet (the daemon just started) has no age to judge; one that is down and
/// never succeeded is as stale as can be.
pub(super) fn staleness(
    judge: &Judge<'_>,
    f: &Facts<'_>,
    source: &str,
) -> Result<Evaluation, Unknown> {
    let fr = f.freshness.get(source);
    if fr.is_some_and(|s| s.last_success.is_none() && s.down.is_none()) {
        return Err(Unknown::StaleSource {
            source: source.to_owned(),
            last_success: None,
        });
    }
    Ok(judge.points(age(f, source)))
}

/// Seconds since the source's data was current; never polled is as stale
/// as can be.
fn age(f: &Facts<'_>, source: &str) -> f64 {
    f.freshness
        .get(source)
        .and_then(|s| s.last_success)
        .map_or(f64::INFINITY, |t| (f.now - t).num_seconds().max(0) as f64)
}
