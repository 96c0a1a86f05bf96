//! Random numbers for retry jitter, with no dependency and no lock.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

/// SplitMix64 over an atomic counter: statistically fine for spreading
/// retries, not for anything secret.
pub(crate) struct Jitter {
    state: AtomicU64,
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl Jitter {
    /// Seeded from std's per-process random hasher keys.
    pub(crate) fn new() -> Self {
        Self {
            state: AtomicU64::new(RandomState::new().hash_one(0x0001_DEF7_u64)),
        }
    }

    pub(crate) fn next_u64(&self) -> u64 {
        let mut z = self
            .state
            .fetch_add(GOLDEN_GAMMA, Ordering::Relaxed)
            .wrapping_add(GOLDEN_GAMMA);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::Jitter;

    #[test]
    fn values_spread_over_the_range() {
        let jitter = Jitter::new();
        let values: Vec<u64> = (0..1000).map(|_| jitter.next_u64()).collect();
        let high = values.iter().filter(|v| **v > u64::MAX / 2).count();
        assert!(
            (350..650).contains(&high),
            "{high} of 1000 above the middle"
        );
    }
}
