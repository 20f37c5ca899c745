//! Pipes and Unix-domain socket pairs inside the program: `pipe2` gives a one-way
//! channel, `socketpair(AF_UNIX, SOCK_STREAM)` two connected ends (tokio's signal driver
//! and many event loops wake themselves through one). Bytes stay in memory; each
//! direction holds [`CAPACITY`] bytes, as a Linux pipe does by default.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::any::Any;
use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::Waker;
use spinning_top::Spinlock;

use crate::descriptor::{self, File, Readiness, Watchers};
use crate::errno::{EFAULT, EINVAL, fail};
use crate::wait::{enable_waiting, wait_for_any};

/// Bytes one direction holds before writers wait.
const CAPACITY: usize = 64 * 1024;

/// One direction: its bytes and whether each side still has an end open.
struct Channel {
    bytes: Spinlock<VecDeque<u8>>,
    reader_open: AtomicBool,
    writer_open: AtomicBool,
    watchers: Watchers,
}

impl Channel {
    fn new() -> Arc<Channel> {
        Arc::new(Channel {
            bytes: Spinlock::new(VecDeque::new()),
            reader_open: AtomicBool::new(true),
            writer_open: AtomicBool::new(true),
            watchers: Watchers::new(),
        })
    }
}

/// An end: a pipe's read or write end, or one end of a socket pair (both).
struct End {
    incoming: Option<Arc<Channel>>,
    outgoing: Option<Arc<Channel>>,
    socket: bool,
}

impl End {
    fn channels(&self) -> impl Iterator<Item = &Arc<Channel>> {
        self.incoming.iter().chain(self.outgoing.iter())
    }

    /// Takes what has arrived: `Some(0)` at the end, `None` while the writer may write.
    fn try_read(&self, buffer: &mut [u8]) -> Option<usize> {
        let channel = self.incoming.as_ref()?;
        let mut bytes = channel.bytes.lock();
        if bytes.is_empty() {
            return (!channel.writer_open.load(Ordering::Acquire)).then_some(0);
        }
        let count = buffer.len().min(bytes.len());
        for (slot, byte) in buffer.iter_mut().zip(bytes.drain(..count)) {
            *slot = byte;
        }
        drop(bytes);
        channel.watchers.wake_all();
        Some(count)
    }

    /// Puts what fits: `None` while the channel is full.
    fn try_write(&self, data: &[u8]) -> Option<Result<usize, c_int>> {
        let Some(channel) = self.outgoing.as_ref() else {
            return Some(Err(libc::EBADF));
        };
        if !channel.reader_open.load(Ordering::Acquire) {
            // No signal is ever delivered: the writer gets the error instead of SIGPIPE.
            return Some(Err(libc::EPIPE));
        }
        let mut bytes = channel.bytes.lock();
        let room = CAPACITY - bytes.len();
        if room == 0 {
            return None;
        }
        let count = room.min(data.len());
        bytes.extend(&data[..count]);
        drop(bytes);
        channel.watchers.wake_all();
        Some(Ok(count))
    }
}

impl Drop for End {
    fn drop(&mut self) {
        if let Some(incoming) = &self.incoming {
            incoming.reader_open.store(false, Ordering::Release);
            incoming.watchers.wake_all();
        }
        if let Some(outgoing) = &self.outgoing {
            outgoing.writer_open.store(false, Ordering::Release);
            outgoing.watchers.wake_all();
        }
    }
}

impl File for End {
    fn read(&self, buffer: &mut [u8], nonblocking: bool) -> Result<usize, c_int> {
        if self.incoming.is_none() {
            return Err(libc::EBADF);
        }
        if buffer.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(count) = self.try_read(buffer) {
                return Ok(count);
            }
            if nonblocking {
                return Err(libc::EAGAIN);
            }
            wait_for_any(&[self], &mut || self.readiness() & libc::EPOLLIN as u32 != 0, u64::MAX);
        }
    }

    fn write(&self, data: &[u8], nonblocking: bool) -> Result<usize, c_int> {
        if data.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(result) = self.try_write(data) {
                return result;
            }
            if nonblocking {
                return Err(libc::EAGAIN);
            }
            let ready = libc::EPOLLOUT as u32 | libc::EPOLLERR as u32;
            wait_for_any(&[self], &mut || self.readiness() & ready != 0, u64::MAX);
        }
    }

    fn readiness(&self) -> Readiness {
        let mut ready = 0;
        let mut closed_directions = 0;
        if let Some(incoming) = &self.incoming {
            let ended = !incoming.writer_open.load(Ordering::Acquire);
            if ended || !incoming.bytes.lock().is_empty() {
                ready |= libc::EPOLLIN as u32;
            }
            if ended {
                ready |= libc::EPOLLRDHUP as u32;
                closed_directions += 1;
            }
        }
        if let Some(outgoing) = &self.outgoing {
            if !outgoing.reader_open.load(Ordering::Acquire) {
                // A write fails at once (EPIPE); a pipe's write end also reports an error
                // (`EPOLLERR`), a socket only the hang-up, as on Linux.
                ready |= libc::EPOLLOUT as u32;
                if !self.socket {
                    ready |= libc::EPOLLERR as u32;
                }
                closed_directions += 1;
            } else if outgoing.bytes.lock().len() < CAPACITY {
                ready |= libc::EPOLLOUT as u32;
            }
        }
        let directions = self.channels().count();
        if closed_directions == directions {
            ready |= libc::EPOLLHUP as u32;
        }
        ready
    }

    fn watch(&self, waker: &Waker) {
        self.channels().for_each(|channel| channel.watchers.add(waker));
    }

    fn unwatch(&self, waker: &Waker) {
        self.channels().for_each(|channel| channel.watchers.remove(waker));
    }

    fn mode(&self) -> libc::mode_t {
        if self.socket {
            libc::S_IFSOCK | 0o777
        } else {
            libc::S_IFIFO | 0o600
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Installs the two ends and writes their descriptors to `fds`.
///
/// # Safety
/// `fds` must be writable for two `c_int`s.
unsafe fn install_pair(first: End, second: End, nonblocking: bool, fds: *mut c_int) -> c_int {
    if fds.is_null() {
        return fail(EFAULT);
    }
    enable_waiting();
    let first = descriptor::install(Arc::new(first), nonblocking);
    let second = descriptor::install(Arc::new(second), nonblocking);
    // SAFETY: the caller's guarantee.
    unsafe {
        fds.write(first);
        fds.add(1).write(second);
    }
    0
}

/// `pipe2(2)`: `fds[0]` reads what `fds[1]` writes (`O_NONBLOCK`; `O_CLOEXEC` means
/// nothing here).
///
/// # Safety
/// `fds` must be writable for two `c_int`s.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pipe2(fds: *mut c_int, flags: c_int) -> c_int {
    if flags & !(libc::O_NONBLOCK | libc::O_CLOEXEC) != 0 {
        return fail(EINVAL);
    }
    let channel = Channel::new();
    let reader = End {
        incoming: Some(channel.clone()),
        outgoing: None,
        socket: false,
    };
    let writer = End {
        incoming: None,
        outgoing: Some(channel),
        socket: false,
    };
    // SAFETY: forwarded.
    unsafe { install_pair(reader, writer, flags & libc::O_NONBLOCK != 0, fds) }
}

/// `pipe(2)`.
///
/// # Safety
/// As for [`pipe2`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn pipe(fds: *mut c_int) -> c_int {
    // SAFETY: forwarded.
    unsafe { pipe2(fds, 0) }
}

/// `socketpair(2)`: two connected `AF_UNIX` stream sockets (`SOCK_NONBLOCK`;
/// `SOCK_CLOEXEC` means nothing here). Datagram and sequenced-packet pairs are not
/// provided (`EPROTONOSUPPORT`).
///
/// # Safety
/// `fds` must be writable for two `c_int`s.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn socketpair(domain: c_int, kind: c_int, _protocol: c_int, fds: *mut c_int) -> c_int {
    if domain != libc::AF_UNIX {
        return fail(libc::EAFNOSUPPORT);
    }
    if kind & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != libc::SOCK_STREAM {
        return fail(libc::EPROTONOSUPPORT);
    }
    let (there, back) = (Channel::new(), Channel::new());
    let first = End {
        incoming: Some(back.clone()),
        outgoing: Some(there.clone()),
        socket: true,
    };
    let second = End {
        incoming: Some(there),
        outgoing: Some(back),
        socket: true,
    };
    // SAFETY: forwarded.
    unsafe { install_pair(first, second, kind & libc::SOCK_NONBLOCK != 0, fds) }
}
