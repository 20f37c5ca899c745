//! The descriptor table: what each file descriptor from 3 up refers to (0, 1 and 2 are the
//! console, see [`crate::io`]).
//!
//! A descriptor names an *open file description* ([`Open`]: the object and its
//! `O_NONBLOCK` flag), which `dup` shares, as on Linux. The object is any [`File`]: a
//! socket, an eventfd, an epoll instance, an end of a socket pair or pipe, a copy of a
//! console descriptor. The table holds them as trait objects, so an image holds the code
//! of an object only if the program can make one: a program that never calls `socket` has
//! no socket code behind `read` and `close`.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use core::task::Waker;
use spinning_top::Spinlock;

use crate::errno::{EBADF, EINVAL, ENODEV, ESPIPE};

/// Readiness as `poll` and `epoll` report it: `EPOLLIN`, `EPOLLOUT`, `EPOLLERR`,
/// `EPOLLHUP` and `EPOLLRDHUP` (the same bits as `POLLIN`, `POLLOUT`, …).
pub(crate) type Readiness = u32;

/// An object a descriptor refers to.
pub(crate) trait File: Any + Send + Sync {
    /// Reads into `buffer`; with `nonblocking`, `EAGAIN` instead of waiting.
    fn read(&self, buffer: &mut [u8], nonblocking: bool) -> Result<usize, c_int>;
    /// Writes from `bytes`; with `nonblocking`, `EAGAIN` instead of waiting.
    fn write(&self, bytes: &[u8], nonblocking: bool) -> Result<usize, c_int>;
    /// What a read or a write could do now without waiting.
    fn readiness(&self) -> Readiness;
    /// Has `waker` woken whenever the readiness may have changed, until [`File::unwatch`].
    fn watch(&self, waker: &Waker);
    /// Stops waking `waker`.
    fn unwatch(&self, waker: &Waker);
    /// The file type bits of `st_mode` (`S_IFSOCK`, `S_IFIFO`, …) and its permissions.
    fn mode(&self) -> libc::mode_t;
    /// Fills `status` for `fstat` (all zeroes on entry): by default the mode alone.
    fn status(&self, status: &mut libc::stat) -> Result<(), c_int> {
        status.st_mode = self.mode();
        status.st_blksize = 4096;
        Ok(())
    }
    /// Moves the file offset (`lseek`): the new offset. Only files have one (`ESPIPE`).
    fn seek(&self, _offset: i64, _whence: c_int) -> Result<u64, c_int> {
        Err(ESPIPE)
    }
    /// Reads at `offset` without moving the file offset (`pread`).
    fn read_at(&self, _buffer: &mut [u8], _offset: u64) -> Result<usize, c_int> {
        Err(ESPIPE)
    }
    /// Writes at `offset` without moving the file offset (`pwrite`).
    fn write_at(&self, _bytes: &[u8], _offset: u64) -> Result<usize, c_int> {
        Err(ESPIPE)
    }
    /// Makes what was written durable (`fsync`); `EINVAL` for what cannot be synced.
    fn sync(&self) -> Result<(), c_int> {
        Err(EINVAL)
    }
    /// Sets the file's length (`ftruncate`).
    fn set_len(&self, _length: u64) -> Result<(), c_int> {
        Err(EINVAL)
    }
    /// Maps `length` bytes from `offset` shared (`mmap` with `MAP_SHARED`): the memory, the
    /// file's bytes for as long as it is mapped. Only files can (`ENODEV`).
    fn map_shared(&self, _offset: u64, _length: usize, _writable: bool) -> Result<*mut c_void, c_int> {
        Err(ENODEV)
    }
    /// Ends one shared mapping [`File::map_shared`] gave at `address`.
    fn unmap_shared(&self, _address: *mut c_void) {}
    /// Writes what the shared mapping at `address` holds to the file (`msync`); with
    /// `durable`, as `fsync` then.
    fn sync_shared(&self, _address: *mut c_void, _durable: bool) -> Result<(), c_int> {
        Ok(())
    }
    /// The object itself, for the calls that take only one kind (`accept`, `epoll_ctl`).
    fn as_any(&self) -> &dyn Any;
}

/// Reads `file` at `offset` into `bytes` until they are full or it has no more (a short
/// read is not the end); how many bytes it read.
pub(crate) fn read_fully(file: &dyn File, bytes: &mut [u8], offset: u64) -> usize {
    let mut done = 0;
    while done < bytes.len() {
        match file.read_at(&mut bytes[done..], offset + done as u64) {
            Ok(0) | Err(_) => break,
            Ok(count) => done += count,
        }
    }
    done
}

/// An open file description: the object, and whether calls on it wait.
pub(crate) struct Open {
    pub(crate) file: Arc<dyn File>,
    nonblocking: AtomicBool,
}

impl Open {
    /// Whether calls on it fail with `EAGAIN` instead of waiting (`O_NONBLOCK`).
    pub(crate) fn nonblocking(&self) -> bool {
        self.nonblocking.load(Ordering::Relaxed)
    }

    pub(crate) fn set_nonblocking(&self, on: bool) {
        self.nonblocking.store(on, Ordering::Relaxed);
    }

    /// The object as a `T`, if it is one.
    pub(crate) fn downcast<T: File>(&self) -> Option<&T> {
        self.file.as_any().downcast_ref()
    }
}

/// The first descriptor the table hands out (0, 1 and 2 are the console's).
pub(crate) const FIRST: c_int = 3;

/// The descriptions by descriptor, from [`FIRST`] up (a plain vector: a program holds few
/// descriptors, and a map's code would be in every std image).
static TABLE: Spinlock<Vec<Option<Arc<Open>>>> = Spinlock::new(Vec::new());

/// Descriptor `fd`'s slot in the table.
fn slot(fd: c_int) -> Option<usize> {
    usize::try_from(fd.checked_sub(FIRST)?).ok()
}

/// What descriptor `fd` refers to (from 3 up).
pub(crate) fn get(fd: c_int) -> Option<Arc<Open>> {
    TABLE.lock().get(slot(fd)?)?.clone()
}

/// What descriptor `fd` refers to, or `EBADF`.
pub(crate) fn open(fd: c_int) -> Result<Arc<Open>, c_int> {
    get(fd).ok_or(EBADF)
}

/// Gives `file` a new description and the lowest free descriptor (from 3 up).
pub(crate) fn install(file: Arc<dyn File>, nonblocking: bool) -> c_int {
    install_from(file, nonblocking, FIRST)
}

/// Gives `file` a new description and the lowest free descriptor at or above `from`.
pub(crate) fn install_from(file: Arc<dyn File>, nonblocking: bool, from: c_int) -> c_int {
    let open = Arc::new(Open {
        file,
        nonblocking: AtomicBool::new(nonblocking),
    });
    insert(open, from)
}

/// Gives `open` the lowest free descriptor at or above `from`.
pub(crate) fn insert(open: Arc<Open>, from: c_int) -> c_int {
    let mut table = TABLE.lock();
    let start = slot(from.max(FIRST)).unwrap_or(0);
    if table.len() < start {
        table.resize(start, None);
    }
    let free = match table[start..].iter().position(Option::is_none) {
        Some(at) => start + at,
        None => {
            table.push(None);
            table.len() - 1
        }
    };
    table[free] = Some(open);
    free as c_int + FIRST
}

/// A second descriptor for `fd`'s description, at or above `from`.
pub(crate) fn duplicate(fd: c_int, from: c_int) -> Result<c_int, c_int> {
    if from < 0 {
        return Err(EINVAL);
    }
    Ok(insert(open(fd)?, from))
}

/// Closes `fd`; the object goes when its last descriptor (and last user) does.
pub(crate) fn close(fd: c_int) -> Result<(), c_int> {
    // Dropped after the table's lock: an object's drop may reach the table.
    let removed = slot(fd).and_then(|at| TABLE.lock().get_mut(at)?.take());
    removed.map(drop).ok_or(EBADF)
}

/// Wakers to wake when an object's readiness may have changed (see [`File::watch`]).
#[derive(Default)]
pub(crate) struct Watchers(Spinlock<Vec<Waker>>);

impl Watchers {
    pub(crate) const fn new() -> Watchers {
        Watchers(Spinlock::new(Vec::new()))
    }

    pub(crate) fn add(&self, waker: &Waker) {
        let mut wakers = self.0.lock();
        if !wakers.iter().any(|known| known.will_wake(waker)) {
            wakers.push(waker.clone());
        }
    }

    pub(crate) fn remove(&self, waker: &Waker) {
        self.0.lock().retain(|known| !known.will_wake(waker));
    }

    pub(crate) fn wake_all(&self) {
        // Cloned out of the lock: a woken waiter may come back to add or remove itself.
        let wakers = self.0.lock().clone();
        wakers.iter().for_each(Waker::wake_by_ref);
    }
}

/// How `poll` waits for descriptors that are not the console: installed by the first
/// object that can be waited for ([`install_waiting`]), so that a program with only the
/// console has no waiting code. It runs `ready` until it says yes, waking when one of
/// `files` may have changed, or until `deadline` (in `Clock::now_nanos` time) passes.
pub(crate) type WaitForAny = fn(files: &[&dyn File], ready: &mut dyn FnMut() -> bool, deadline: u64);

static WAIT_FOR_ANY: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Makes `wait` the way `poll` waits (the first object that can be waited for calls it).
pub(crate) fn install_waiting(wait: WaitForAny) {
    // Opaque to the optimiser: seeing the one value ever stored, it would call `wait`
    // directly from `poll` and keep it in every image.
    WAIT_FOR_ANY.store(core::hint::black_box(wait as *mut ()), Ordering::Release);
}

/// The installed [`WaitForAny`], if any object that can be waited for was ever made.
pub(crate) fn waiting() -> Option<WaitForAny> {
    let pointer = WAIT_FOR_ANY.load(Ordering::Acquire);
    // SAFETY: only `install_waiting` stores, a `WaitForAny` cast to a pointer.
    (!pointer.is_null()).then(|| unsafe { core::mem::transmute::<*mut (), WaitForAny>(pointer) })
}
