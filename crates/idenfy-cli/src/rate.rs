//! `--rate N`: at most N lookups started per second, across all workers, evenly spaced (no
//! bursts), so that an export stays under the account's rate limit instead of collecting 429s.
//! A lookup's own retries (by the client, with backoff) are not counted.

use std::time::{Duration, Instant};

/// When the next lookup may start.
#[derive(Debug, Clone)]
pub struct Pacer {
    spacing: Duration,
    next: Option<Instant>,
}

impl Pacer {
    /// `per_second` lookups a second; `None` for no limit.
    pub fn new(per_second: Option<f64>) -> Self {
        Pacer {
            spacing: per_second
                .filter(|rate| rate.is_finite() && *rate > 0.0)
                // A spacing no `Duration` holds (a rate the command line refuses) is no limit
                // the process could keep anyway; it must not panic.
                .and_then(|rate| Duration::try_from_secs_f64(1.0 / rate).ok())
                .unwrap_or(Duration::ZERO),
            next: None,
        }
    }

    /// Takes the slot for a lookup starting at `now`, or says when the next slot is.
    pub fn try_start(&mut self, now: Instant) -> Result<(), Instant> {
        if self.spacing.is_zero() {
            return Ok(());
        }
        match self.next {
            Some(next) if next > now => Err(next),
            // A pause (no lookup to start) does not save up slots for a burst later.
            _ => {
                self.next = Some(now + self.spacing);
                Ok(())
            }
        }
    }
}

/// A [`Pacer`] shared by tasks that each send several requests (the lookups of an archive's
/// bundles, the deletions of a concurrent run): every request waits for its own slot, so
/// `--rate` bounds what the account sees whichever task sends it.
#[derive(Debug, Clone)]
pub struct SharedPacer {
    pacer: std::sync::Arc<std::sync::Mutex<Pacer>>,
}

impl SharedPacer {
    /// `per_second` requests a second; `None` for no limit.
    pub fn new(per_second: Option<f64>) -> Self {
        SharedPacer {
            pacer: std::sync::Arc::new(std::sync::Mutex::new(Pacer::new(per_second))),
        }
    }

    /// Waits until a request may start, and takes its slot.
    pub async fn wait_turn(&self) {
        loop {
            // The lock is never held across the sleep.
            let next = match self.pacer.lock() {
                Ok(mut pacer) => pacer.try_start(Instant::now()),
                // A task that panicked holding it left the pacer as it was: still usable.
                Err(poisoned) => poisoned.into_inner().try_start(Instant::now()),
            };
            match next {
                Ok(()) => return,
                Err(at) => tokio::time::sleep_until(at.into()).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_starts_evenly_and_saves_nothing_up() {
        let start = Instant::now();
        let mut pacer = Pacer::new(Some(4.0));
        assert_eq!(pacer.try_start(start), Ok(()));
        let next = start + Duration::from_millis(250);
        assert_eq!(pacer.try_start(start), Err(next));
        assert_eq!(pacer.try_start(next - Duration::from_millis(1)), Err(next));
        assert_eq!(pacer.try_start(next), Ok(()));
        // After a long pause, still one at a time.
        let later = start + Duration::from_secs(10);
        assert_eq!(pacer.try_start(later), Ok(()));
        assert!(pacer.try_start(later).is_err());
    }

    #[test]
    fn a_rate_too_small_for_a_duration_does_not_panic() {
        let mut pacer = Pacer::new(Some(1e-300));
        assert_eq!(pacer.try_start(Instant::now()), Ok(()));
    }

    #[test]
    fn no_rate_means_no_wait() {
        let mut pacer = Pacer::new(None);
        let now = Instant::now();
        for _ in 0..100 {
            assert_eq!(pacer.try_start(now), Ok(()));
        }
    }
}
