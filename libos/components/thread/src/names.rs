//! Thread names as Linux keeps them (at most 15 bytes), for `pthread_setname_np` and
//! for fault reports.

use crate::ThreadId;
use alloc::vec::Vec;
use spinning_top::Spinlock;

/// A name's bytes and its terminating zero (Linux's `TASK_COMM_LEN`).
pub const NAME_CAPACITY: usize = 16;

static NAMES: Spinlock<Vec<(ThreadId, [u8; NAME_CAPACITY])>> = Spinlock::new(Vec::new());

/// Names thread `id` (replacing its name); `false` for a name longer than 15 bytes.
pub fn set_name(id: ThreadId, name: &[u8]) -> bool {
    if name.len() >= NAME_CAPACITY {
        return false;
    }
    let mut stored = [0; NAME_CAPACITY];
    stored[..name.len()].copy_from_slice(name);
    let mut names = NAMES.lock();
    names.retain(|(named, _)| *named != id);
    names.push((id, stored));
    true
}

/// Thread `id`'s name and its terminating zero (all zero if it has none).
pub fn name_of(id: ThreadId) -> [u8; NAME_CAPACITY] {
    let names = NAMES.lock();
    names
        .iter()
        .find(|(named, _)| *named == id)
        .map_or([0; NAME_CAPACITY], |(_, stored)| *stored)
}

/// Forgets the name of thread `id`, which has ended.
pub fn forget_name(id: ThreadId) {
    NAMES.lock().retain(|(named, _)| *named != id);
}

/// Calls `with` on thread `id`'s name (empty if it has none, or if the names are locked:
/// fault reports never wait).
pub(crate) fn with_name(id: ThreadId, with: impl FnOnce(&[u8])) {
    let Some(names) = NAMES.try_lock() else {
        return with(b"");
    };
    let stored = names
        .iter()
        .find(|(named, _)| *named == id)
        .map_or(&[0; NAME_CAPACITY], |(_, stored)| stored);
    let end = stored.iter().position(|&byte| byte == 0).unwrap_or(NAME_CAPACITY - 1);
    with(&stored[..end]);
}
