//! Which identifications were deleted through `POST /api/v2/delete`, for the life of the
//! sandbox.

use std::collections::HashSet;
use std::sync::Mutex;

/// The scanRefs whose data was deleted. Fixtures themselves never change: a deleted
/// identification is answered from this set instead.
#[derive(Debug, Default)]
pub(crate) struct Deletions {
    deleted: Mutex<HashSet<String>>,
}

impl Deletions {
    /// Whether `scan_ref` was deleted.
    pub(crate) fn contains(&self, scan_ref: &str) -> bool {
        self.lock().contains(scan_ref)
    }

    /// Records the deletion of `scan_ref`; `false` when it was deleted before.
    pub(crate) fn delete(&self, scan_ref: &str) -> bool {
        self.lock().insert(scan_ref.to_owned())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.deleted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
