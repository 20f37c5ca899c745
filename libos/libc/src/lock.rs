//! Advisory file locks: `flock(2)`, which std's `File::lock` family and crates such as
//! redb, fs2 and fd-lock take, held by open file descriptions as on Linux. (`fcntl`'s
//! POSIX record locks belong to the process, so the one process a unikernel runs never
//! conflicts with itself over them: `io::record_lock` grants them.)
//!
//! A `flock` lock belongs to the open file description that took it (shared by `dup`) and
//! ends with `LOCK_UN` or when the description's last descriptor closes. Two descriptions
//! of one file (two `open` calls) exclude each other as on Linux: a conflicting request
//! waits, or fails with `EWOULDBLOCK` under `LOCK_NB`. A wait no other thread can end is a
//! deadlock, reported instead of hanging (as a futex wait is).

use alloc::vec::Vec;
use core::ffi::c_int;
use core::sync::atomic::{AtomicPtr, Ordering};
use spinning_top::Spinlock;
use unik_fs::NodeId;
use unik_platform::{Console, Current, Shutdown, status};

use crate::descriptor;
use crate::errno::{EBADF, EINVAL, fail};
use crate::file::OpenFile;
use crate::futex::WaitQueue;

/// A `flock` lock: the file, the description holding it (its [`OpenFile`]'s address) and
/// whether it excludes every other holder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Held {
    node: NodeId,
    owner: usize,
    exclusive: bool,
}

/// The locks held, and the threads waiting for one (keyed by file).
struct Locks {
    held: Vec<Held>,
    waiting: WaitQueue,
}

static LOCKS: Spinlock<Locks> = Spinlock::new(Locks {
    held: Vec::new(),
    waiting: WaitQueue::new(),
});

impl Locks {
    /// Whether `owner` may hold `node` in this mode now: no other description holds it
    /// exclusively, nor (for an exclusive request) at all.
    fn grantable(&self, node: NodeId, owner: usize, exclusive: bool) -> bool {
        !self
            .held
            .iter()
            .any(|held| held.node == node && held.owner != owner && (exclusive || held.exclusive))
    }

    /// Drops `owner`'s lock on `node`, if it holds one; the threads waiting for the file.
    fn release(&mut self, node: NodeId, owner: usize) -> Vec<unik_thread::ThreadId> {
        let before = self.held.len();
        self.held.retain(|held| !(held.node == node && held.owner == owner));
        if self.held.len() == before {
            return Vec::new();
        }
        self.waiting.take(node, usize::MAX)
    }
}

/// Wakes `threads`, which wait for a lock that may now be free.
fn wake(threads: Vec<unik_thread::ThreadId>) {
    threads.into_iter().for_each(unik_thread::unpark);
}

/// Called when an open file description closes: what ends its locks. Stored by the first
/// `flock`, so programs that never lock carry none of this module (see `file::OpenFile`).
static RELEASE_ON_CLOSE: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// The function that ends the locks of a closing description, if any `flock` ran.
pub(crate) fn release_on_close() -> Option<fn(NodeId, usize)> {
    let pointer = RELEASE_ON_CLOSE.load(Ordering::Acquire);
    // SAFETY: only `flock` stores, a `fn(NodeId, usize)` cast to a pointer.
    (!pointer.is_null()).then(|| unsafe { core::mem::transmute::<*mut (), fn(NodeId, usize)>(pointer) })
}

/// Ends `owner`'s lock on `node` (if it holds one) and wakes the threads waiting for it.
fn release_closed(node: NodeId, owner: usize) {
    let woken = LOCKS.lock().release(node, owner);
    wake(woken);
}

/// `LOCK_MAND`: a mandatory lock, which Linux (since 5.15) accepts and ignores.
const LOCK_MAND: c_int = 32;

/// `flock(2)`: `LOCK_SH`, `LOCK_EX` or `LOCK_UN`, with `LOCK_NB` not to wait. On files and
/// directories; other objects (sockets, pipes), which Linux also locks, give `EINVAL`:
/// nothing would end their lock when they close.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn flock(fd: c_int, operation: c_int) -> c_int {
    // Linux's order: the descriptor (`EBADF`), then the operation (`EINVAL`).
    let found = owner_of(fd);
    if found == Err(EBADF) {
        return fail(EBADF);
    }
    if operation & LOCK_MAND != 0 {
        return 0;
    }
    let nonblocking = operation & libc::LOCK_NB != 0;
    let exclusive = match operation & !libc::LOCK_NB {
        libc::LOCK_SH => false,
        libc::LOCK_EX => true,
        libc::LOCK_UN => {
            return found.map_or_else(fail, |(node, owner)| {
                release_closed(node, owner);
                0
            });
        }
        _ => return fail(EINVAL),
    };
    let (node, owner) = match found {
        Ok(found) => found,
        Err(code) => return fail(code),
    };
    // Opaque to the optimiser, as `descriptor::install_waiting` explains.
    RELEASE_ON_CLOSE.store(
        core::hint::black_box(release_closed as fn(NodeId, usize) as *mut ()),
        Ordering::Release,
    );
    // Converting a lock first lets go of the old one, as Linux does: two holders of a
    // shared lock that both ask for it exclusively then cannot wait for each other.
    release_closed(node, owner);
    let me = unik_thread::current();
    loop {
        {
            let mut locks = LOCKS.lock();
            if locks.grantable(node, owner, exclusive) {
                locks.held.push(Held { node, owner, exclusive });
                return 0;
            }
            if nonblocking {
                return fail(libc::EWOULDBLOCK);
            }
            locks.waiting.add(node, me);
        }
        if !unik_thread::scheduler_running() {
            Current::write(
                b"unik: deadlock: the only thread waits for a file lock that another open of the file holds\n",
            );
            Current::exit(status::FAULT);
        }
        unik_thread::park(u64::MAX);
        LOCKS.lock().waiting.remove(node, me);
    }
}

/// The file `fd` names and the description that would hold its lock.
fn owner_of(fd: c_int) -> Result<(NodeId, usize), c_int> {
    let open = descriptor::open(fd)?;
    let file = open.downcast::<OpenFile>().ok_or(EINVAL)?;
    Ok((file.node, file as *const OpenFile as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locks(held: &[Held]) -> Locks {
        Locks {
            held: held.to_vec(),
            waiting: WaitQueue::new(),
        }
    }

    const SHARED_BY_1: Held = Held {
        node: 7,
        owner: 1,
        exclusive: false,
    };

    #[test]
    fn shared_locks_share_and_exclusive_ones_exclude() {
        let shared = locks(&[SHARED_BY_1]);
        assert!(shared.grantable(7, 2, false), "a second shared holder");
        assert!(!shared.grantable(7, 2, true), "exclusive while another shares");
        assert!(shared.grantable(7, 1, true), "the holder itself may convert");
        assert!(shared.grantable(8, 2, true), "another file is free");
        let exclusive = locks(&[Held {
            exclusive: true,
            ..SHARED_BY_1
        }]);
        assert!(!exclusive.grantable(7, 2, false));
        assert!(exclusive.grantable(7, 1, false));
    }

    #[test]
    fn releasing_wakes_the_waiters_for_that_file_only() {
        let mut table = locks(&[SHARED_BY_1]);
        table.waiting.add(7, 10);
        table.waiting.add(8, 11);
        assert_eq!(
            table.release(7, 2),
            Vec::<u32>::new(),
            "not its holder: nothing changes"
        );
        assert_eq!(table.release(7, 1), [10]);
        assert!(table.held.is_empty());
        assert!(table.waiting.contains(8, 11));
    }
}
