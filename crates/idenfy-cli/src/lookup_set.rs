//! Which (endpoint, scanRef) lookups a bulk run has met: those already done in the output of an
//! earlier run, and those read from the input. It holds a million of them in 16 MB.
//!
//! Each lookup is kept as a 128-bit fingerprint: SipHash-1-3 keyed with 128 random bits drawn
//! from the operating system for each run. Two different lookups share a fingerprint with a
//! probability of about n²/2¹²⁹ (10⁻²⁷ for a million scanRefs), far below that of a memory error
//! changing a scanRef; and since the key is secret and new each run, an input cannot be made to
//! collide on purpose. A collision is the one way a scanRef could be taken for another and
//! skipped, so the fingerprint is 128 bits rather than 64 (where the odds for a million would be
//! 10⁻⁸ a run). Duplicates that are skipped are counted in the run's summary.
//!
//! The fingerprints sit in one sorted vector (binary search) with a small hash set in front of
//! it for the latest ones, merged into the vector in place when it fills: 16 bytes a lookup,
//! where a hash set of the same fingerprints would take up to 35. Growing the vector by exactly
//! what each merge adds costs no doubling: large blocks are moved by the system (`mremap`), not
//! copied.

use std::collections::HashSet;
use std::hash::Hasher as _;

use idenfy_hyper::ScanRef;
use idenfy_hyper::core::Endpoint;
use siphasher::sip128::{Hasher128 as _, SipHasher13};

/// The most fingerprints held in the hash set before it is merged into the sorted vector: about
/// 600 KB of table. A million lookups take some sixty merges, each a pass over the vector.
const RECENT_MAX: usize = 16 * 1024;

/// What meeting a lookup in the input means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First time: look it up.
    New,
    /// The output already has its successful line: skip it, it is done.
    AlreadyDone,
    /// It was earlier in the input: skip it, it has been dealt with.
    Duplicate,
}

/// The set; see the module's documentation.
#[derive(Debug)]
pub struct LookupSet {
    key: (u64, u64),
    /// Sorted by fingerprint. The lowest bit of each entry is a flag: the lookup is done in the
    /// output and has not been met in the input yet. The fingerprint is the other 127 bits.
    sorted: Vec<u128>,
    /// The latest entries, in the same form.
    recent: HashSet<u128>,
}

impl LookupSet {
    /// An empty set with a fresh random key.
    ///
    /// # Errors
    /// When the operating system gives no randomness.
    pub fn new() -> Result<Self, getrandom::Error> {
        let mut key = [0u8; 16];
        getrandom::fill(&mut key)?;
        let (k0, k1) = key.split_at(8);
        let k0 = u64::from_le_bytes(k0.try_into().unwrap_or_default());
        let k1 = u64::from_le_bytes(k1.try_into().unwrap_or_default());
        Ok(Self::with_key(k0, k1))
    }

    /// An empty set with a given key, whose fingerprints are the same from run to run: for
    /// tests and fuzzing, never for a real run (an input could then be made to collide).
    pub fn with_key(k0: u64, k1: u64) -> Self {
        LookupSet {
            key: (k0, k1),
            sorted: Vec::new(),
            recent: HashSet::new(),
        }
    }

    /// How many lookups the set holds.
    pub fn len(&self) -> usize {
        self.sorted.len() + self.recent.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records a lookup whose successful line is in the output; `false` when it was already
    /// there (a second line for it).
    pub fn insert_done(&mut self, endpoint: Endpoint, scan_ref: &ScanRef) -> bool {
        let fingerprint = self.fingerprint(endpoint, scan_ref);
        if self.find(fingerprint).is_some() {
            return false;
        }
        self.insert(fingerprint, true);
        true
    }

    /// Records a lookup met in the input and says what to do with it.
    pub fn claim(&mut self, endpoint: Endpoint, scan_ref: &ScanRef) -> Claim {
        let fingerprint = self.fingerprint(endpoint, scan_ref);
        match self.find(fingerprint) {
            None => {
                self.insert(fingerprint, false);
                Claim::New
            }
            Some(Found::Recent) => {
                if self.recent.remove(&(fingerprint | 1)) {
                    self.recent.insert(fingerprint);
                    Claim::AlreadyDone
                } else {
                    Claim::Duplicate
                }
            }
            Some(Found::Sorted(index)) => {
                let entry = &mut self.sorted[index];
                if *entry & 1 == 1 {
                    *entry &= !1;
                    Claim::AlreadyDone
                } else {
                    Claim::Duplicate
                }
            }
        }
    }

    /// The fingerprint of (endpoint, scanRef), its lowest bit clear. `0xFF` never occurs in
    /// UTF-8, so the endpoint's name and the scanRef cannot run into each other.
    fn fingerprint(&self, endpoint: Endpoint, scan_ref: &ScanRef) -> u128 {
        let mut hasher = SipHasher13::new_with_keys(self.key.0, self.key.1);
        hasher.write(endpoint.name().as_bytes());
        hasher.write_u8(0xFF);
        hasher.write(scan_ref.as_str().as_bytes());
        hasher.finish128().as_u128() & !1
    }

    fn find(&self, fingerprint: u128) -> Option<Found> {
        if self.recent.contains(&fingerprint) || self.recent.contains(&(fingerprint | 1)) {
            return Some(Found::Recent);
        }
        self.sorted
            .binary_search_by_key(&fingerprint, |entry| entry & !1)
            .ok()
            .map(Found::Sorted)
    }

    fn insert(&mut self, fingerprint: u128, done: bool) {
        self.recent.insert(fingerprint | u128::from(done));
        if self.recent.len() >= RECENT_MAX {
            self.merge_recent();
        }
    }

    /// Moves the recent fingerprints into the sorted vector: one exact reservation (no
    /// doubling), then a merge from the back, in place.
    fn merge_recent(&mut self) {
        let mut recent: Vec<u128> = self.recent.drain().collect();
        recent.sort_unstable();
        let old_len = self.sorted.len();
        self.sorted.reserve_exact(recent.len());
        self.sorted.resize(old_len + recent.len(), 0);
        let (mut old, mut new, mut out) = (old_len, recent.len(), self.sorted.len());
        while new > 0 {
            out -= 1;
            if old > 0 && self.sorted[old - 1] > recent[new - 1] {
                old -= 1;
                self.sorted[out] = self.sorted[old];
            } else {
                new -= 1;
                self.sorted[out] = recent[new];
            }
        }
    }
}

enum Found {
    Recent,
    Sorted(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_ref(text: &str) -> ScanRef {
        text.parse().unwrap()
    }

    #[test]
    fn claims_new_duplicate_and_done_across_merges() {
        let mut set = LookupSet::new().unwrap();
        let count = 3 * RECENT_MAX + 17;
        for i in 0..count {
            assert!(set.insert_done(Endpoint::Status, &scan_ref(&format!("done-{i}"))));
        }
        assert!(!set.insert_done(Endpoint::Status, &scan_ref("done-5")));
        for i in 0..count {
            let done = scan_ref(&format!("done-{i}"));
            let fresh = scan_ref(&format!("fresh-{i}"));
            assert_eq!(
                set.claim(Endpoint::Status, &done),
                Claim::AlreadyDone,
                "{i}"
            );
            assert_eq!(set.claim(Endpoint::Status, &fresh), Claim::New, "{i}");
        }
        for i in (0..count).step_by(7) {
            let done = scan_ref(&format!("done-{i}"));
            let fresh = scan_ref(&format!("fresh-{i}"));
            assert_eq!(set.claim(Endpoint::Status, &done), Claim::Duplicate, "{i}");
            assert_eq!(set.claim(Endpoint::Status, &fresh), Claim::Duplicate, "{i}");
        }
        assert_eq!(set.len(), 2 * count);
        assert!(set.sorted.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn the_endpoint_is_part_of_the_key() {
        let mut set = LookupSet::new().unwrap();
        let a = scan_ref("a");
        assert!(set.insert_done(Endpoint::Status, &a));
        assert_eq!(set.claim(Endpoint::FullStatus, &a), Claim::New);
        assert_eq!(set.claim(Endpoint::Status, &a), Claim::AlreadyDone);
    }

    #[test]
    fn fingerprints_depend_on_the_key() {
        let a = scan_ref("a");
        let one = LookupSet::with_key(1, 2).fingerprint(Endpoint::Status, &a);
        let other = LookupSet::with_key(1, 3).fingerprint(Endpoint::Status, &a);
        assert_ne!(one, other);
        assert_eq!(
            one,
            LookupSet::with_key(1, 2).fingerprint(Endpoint::Status, &a)
        );
    }
}
