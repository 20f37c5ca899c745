//! Waiting for descriptors: `epoll` (level- and edge-triggered, one-shot), `eventfd`, and
//! the waiting behind `poll` — what event loops such as mio (under tokio) are made of.
//!
//! Objects tell their watchers when their readiness *may* have changed ([`File::watch`]):
//! sockets whenever the network stack received or sent anything, eventfds and pipes when
//! written, read or closed. A waiter then asks each object again ([`File::readiness`]),
//! so a spurious wake costs a scan, never a wrong answer. An edge-triggered interest is
//! reported when its readiness gains a bit or its object woke it since the last report:
//! at least every edge Linux reports, sometimes one more, which epoll's users must
//! already accept.

use alloc::sync::{Arc, Weak};
use alloc::task::Wake;
use alloc::vec::Vec;
use core::any::Any;
use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::Waker;
use libc::epoll_event;
use spinning_top::Spinlock;

use crate::descriptor::{self, File, Open, Readiness, Watchers};
use crate::errno::{EBADF, EFAULT, EINVAL, fail};
use crate::wait::{Notify, deadline_after, enable_waiting, wait_for_any, wait_on};

/// The interest bits `epoll_ctl` takes besides the readiness ones.
const FLAGS: u32 = (libc::EPOLLET | libc::EPOLLONESHOT | libc::EPOLLEXCLUSIVE | libc::EPOLLWAKEUP) as u32;
/// Reported whether asked for or not.
const ALWAYS: u32 = (libc::EPOLLERR | libc::EPOLLHUP) as u32;

/// Marks its interest as woken and wakes the epoll instance's waiters.
struct InterestWaker {
    woken: AtomicBool,
    epoll: Arc<Notify>,
}

impl Wake for InterestWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.epoll.wake_by_ref();
    }
}

/// One descriptor an epoll instance watches.
struct Interest {
    fd: c_int,
    open: Weak<Open>,
    /// `EPOLLIN`, `EPOLLOUT`, … and the flags (`EPOLLET`, `EPOLLONESHOT`); a one-shot
    /// interest that fired keeps only its flags until `EPOLL_CTL_MOD`.
    events: u32,
    data: u64,
    /// The readiness found at the last scan (edges are rises from it).
    last: Readiness,
    flag: Arc<InterestWaker>,
    waker: Waker,
}

impl Interest {
    /// This interest's report now, if any.
    fn report(&mut self, open: &Open) -> Option<epoll_event> {
        let woken = self.flag.woken.swap(false, Ordering::AcqRel);
        let wanted = self.events & !FLAGS;
        if wanted == 0 && self.events & libc::EPOLLONESHOT as u32 != 0 {
            return None;
        }
        let ready = open.file.readiness() & (wanted | ALWAYS);
        let edge_triggered = self.events & libc::EPOLLET as u32 != 0;
        let rose = ready & !self.last != 0;
        self.last = ready;
        if ready == 0 || (edge_triggered && !woken && !rose) {
            return None;
        }
        if self.events & libc::EPOLLONESHOT as u32 != 0 {
            self.events &= FLAGS;
        }
        Some(epoll_event {
            events: ready,
            u64: self.data,
        })
    }
}

/// An epoll instance.
pub(crate) struct Epoll {
    interests: Spinlock<Vec<Interest>>,
    /// Where the next scan starts, so that a full event array does not starve the
    /// interests at the end.
    next: Spinlock<usize>,
    notify: Arc<Notify>,
}

impl Epoll {
    /// Up to `room` reports.
    fn collect(&self, room: usize) -> Vec<epoll_event> {
        let mut interests = self.interests.lock();
        interests.retain(|interest| interest.open.strong_count() > 0);
        let count = interests.len();
        let mut next = self.next.lock();
        let start = if count == 0 { 0 } else { *next % count };
        let mut reports = Vec::new();
        for step in 0..count {
            if reports.len() == room {
                *next = (start + step) % count;
                return reports;
            }
            let interest = &mut interests[(start + step) % count];
            let Some(open) = interest.open.upgrade() else { continue };
            reports.extend(interest.report(&open));
        }
        *next = start + 1;
        reports
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        for interest in self.interests.get_mut().drain(..) {
            if let Some(open) = interest.open.upgrade() {
                open.file.unwatch(&interest.waker);
            }
        }
    }
}

impl File for Epoll {
    fn read(&self, _buffer: &mut [u8], _nonblocking: bool) -> Result<usize, c_int> {
        Err(EINVAL)
    }

    fn write(&self, _bytes: &[u8], _nonblocking: bool) -> Result<usize, c_int> {
        Err(EINVAL)
    }

    /// Readable when an interest would be reported (nested epoll instances).
    fn readiness(&self) -> Readiness {
        let interests = self.interests.lock();
        let any = interests.iter().any(|interest| {
            interest
                .open
                .upgrade()
                .is_some_and(|open| open.file.readiness() & (interest.events & !FLAGS | ALWAYS) != 0)
        });
        if any { libc::EPOLLIN as u32 } else { 0 }
    }

    fn watch(&self, waker: &Waker) {
        self.notify.waiters.add(waker);
    }

    fn unwatch(&self, waker: &Waker) {
        self.notify.waiters.remove(waker);
    }

    fn mode(&self) -> libc::mode_t {
        0o600
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `epoll_create1(2)` (`EPOLL_CLOEXEC` means nothing: nothing is executed).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn epoll_create1(flags: c_int) -> c_int {
    if flags & !libc::EPOLL_CLOEXEC != 0 {
        return fail(EINVAL);
    }
    enable_waiting();
    let epoll = Epoll {
        interests: Spinlock::new(Vec::new()),
        next: Spinlock::new(0),
        notify: Arc::new(Notify::default()),
    };
    descriptor::install(Arc::new(epoll), false)
}

/// `epoll_create(2)`: the size is a hint from older kernels, only checked.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn epoll_create(size: c_int) -> c_int {
    if size <= 0 {
        return fail(EINVAL);
    }
    epoll_create1(0)
}

/// `epoll_ctl(2)`: adds, changes or removes the interest in `fd`.
///
/// # Safety
/// `event` must be null or readable (it may be null only for `EPOLL_CTL_DEL`).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn epoll_ctl(epfd: c_int, operation: c_int, fd: c_int, event: *mut epoll_event) -> c_int {
    let result = (|| {
        let instance = descriptor::open(epfd)?;
        let epoll = instance.downcast::<Epoll>().ok_or(EINVAL)?;
        let target = descriptor::open(fd).map_err(|_| EBADF)?;
        if fd == epfd {
            return Err(EINVAL);
        }
        // SAFETY: the caller's guarantee; read unaligned (the struct is packed on x86_64).
        let wanted = (!event.is_null()).then(|| unsafe { event.read_unaligned() });
        let mut interests = epoll.interests.lock();
        let position = interests.iter().position(|interest| {
            interest.fd == fd && interest.open.upgrade().is_some_and(|open| Arc::ptr_eq(&open, &target))
        });
        let changed = match (operation, position, wanted) {
            (libc::EPOLL_CTL_ADD, Some(_), _) => Err(libc::EEXIST),
            (libc::EPOLL_CTL_ADD, None, Some(wanted)) => {
                let flag = Arc::new(InterestWaker {
                    woken: AtomicBool::new(true),
                    epoll: epoll.notify.clone(),
                });
                let waker = Waker::from(flag.clone());
                target.file.watch(&waker);
                interests.push(Interest {
                    fd,
                    open: Arc::downgrade(&target),
                    events: wanted.events,
                    data: wanted.u64,
                    last: 0,
                    flag,
                    waker,
                });
                Ok(())
            }
            (libc::EPOLL_CTL_MOD, Some(at), Some(wanted)) => {
                let interest = &mut interests[at];
                interest.events = wanted.events;
                interest.data = wanted.u64;
                interest.last = 0;
                interest.flag.woken.store(true, Ordering::Release);
                Ok(())
            }
            (libc::EPOLL_CTL_DEL, Some(at), _) => {
                let interest = interests.remove(at);
                target.file.unwatch(&interest.waker);
                Ok(())
            }
            (libc::EPOLL_CTL_MOD | libc::EPOLL_CTL_DEL, None, _) => Err(libc::ENOENT),
            (libc::EPOLL_CTL_ADD | libc::EPOLL_CTL_MOD, _, None) => Err(EFAULT),
            _ => Err(EINVAL),
        };
        drop(interests);
        if changed.is_ok() {
            // The change may make something reportable at once: the waiters look again.
            epoll.notify.wake_by_ref();
        }
        changed
    })();
    match result {
        Ok(()) => 0,
        Err(code) => fail(code),
    }
}

/// `epoll_wait(2)`: up to `room` reports into `events`, waiting up to `timeout_ms`
/// milliseconds (negative: without limit; 0: not at all) for the first.
///
/// # Safety
/// `events` must be writable for `room` entries.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn epoll_wait(epfd: c_int, events: *mut epoll_event, room: c_int, timeout_ms: c_int) -> c_int {
    let Ok(instance) = descriptor::open(epfd) else {
        return fail(EBADF);
    };
    let Some(epoll) = instance.downcast::<Epoll>() else {
        return fail(EINVAL);
    };
    let room = match usize::try_from(room) {
        Ok(room) if room > 0 => room,
        _ => return fail(EINVAL),
    };
    if events.is_null() {
        return fail(EFAULT);
    }
    let mut reports = Vec::new();
    if timeout_ms == 0 {
        unik_task::poll_once(async {});
        reports = epoll.collect(room);
    } else {
        wait_on(
            &epoll.notify,
            &mut || {
                reports = epoll.collect(room);
                !reports.is_empty()
            },
            deadline_after(timeout_ms),
        );
    }
    for (at, report) in reports.iter().enumerate() {
        // SAFETY: the caller's guarantee; `at < room`.
        unsafe { events.add(at).write_unaligned(*report) };
    }
    reports.len() as c_int
}

/// `epoll_pwait(2)`: [`epoll_wait`]; the signal mask does not matter, as no signal is
/// ever delivered.
///
/// # Safety
/// As for [`epoll_wait`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn epoll_pwait(
    epfd: c_int,
    events: *mut epoll_event,
    room: c_int,
    timeout_ms: c_int,
    _mask: *const libc::sigset_t,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { epoll_wait(epfd, events, room, timeout_ms) }
}

/// An eventfd: a counter that writes add to and reads take.
struct EventFd {
    counter: Spinlock<u64>,
    semaphore: bool,
    watchers: Watchers,
}

/// The largest value an eventfd's counter holds.
const EVENTFD_MAX: u64 = u64::MAX - 1;

impl File for EventFd {
    fn read(&self, buffer: &mut [u8], nonblocking: bool) -> Result<usize, c_int> {
        if buffer.len() < 8 {
            return Err(EINVAL);
        }
        loop {
            {
                let mut counter = self.counter.lock();
                if *counter > 0 {
                    let taken = if self.semaphore { 1 } else { *counter };
                    *counter -= taken;
                    drop(counter);
                    buffer[..8].copy_from_slice(&taken.to_ne_bytes());
                    self.watchers.wake_all();
                    return Ok(8);
                }
            }
            if nonblocking {
                return Err(libc::EAGAIN);
            }
            wait_for_any(&[self], &mut || *self.counter.lock() > 0, u64::MAX);
        }
    }

    fn write(&self, bytes: &[u8], nonblocking: bool) -> Result<usize, c_int> {
        let Some(value) = bytes.get(..8) else {
            return Err(EINVAL);
        };
        let value = u64::from_ne_bytes(value.try_into().unwrap_or_default());
        if value == u64::MAX {
            return Err(EINVAL);
        }
        loop {
            {
                let mut counter = self.counter.lock();
                if EVENTFD_MAX - *counter >= value {
                    *counter += value;
                    drop(counter);
                    self.watchers.wake_all();
                    return Ok(8);
                }
            }
            if nonblocking {
                return Err(libc::EAGAIN);
            }
            wait_for_any(&[self], &mut || EVENTFD_MAX - *self.counter.lock() >= value, u64::MAX);
        }
    }

    fn readiness(&self) -> Readiness {
        let counter = *self.counter.lock();
        let mut ready = 0;
        if counter > 0 {
            ready |= libc::EPOLLIN as u32;
        }
        if counter < EVENTFD_MAX {
            ready |= libc::EPOLLOUT as u32;
        }
        ready
    }

    fn watch(&self, waker: &Waker) {
        self.watchers.add(waker);
    }

    fn unwatch(&self, waker: &Waker) {
        self.watchers.remove(waker);
    }

    fn mode(&self) -> libc::mode_t {
        0o600
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `eventfd(2)`: a counter starting at `initial` (`EFD_SEMAPHORE`: reads take one at a
/// time; `EFD_NONBLOCK`).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn eventfd(initial: libc::c_uint, flags: c_int) -> c_int {
    if flags & !(libc::EFD_SEMAPHORE | libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) != 0 {
        return fail(EINVAL);
    }
    enable_waiting();
    let eventfd = EventFd {
        counter: Spinlock::new(u64::from(initial)),
        semaphore: flags & libc::EFD_SEMAPHORE != 0,
        watchers: Watchers::new(),
    };
    descriptor::install(Arc::new(eventfd), flags & libc::EFD_NONBLOCK != 0)
}

#[cfg(test)]
mod tests {
    //! epoll over eventfds and pipes, on the host (the objects are the library OS's own;
    //! nothing waits, so no executor runs).
    use super::*;
    use crate::io::{close, read, write};

    fn wait_now(epfd: c_int) -> Vec<(u32, u64)> {
        let mut events = [epoll_event { events: 0, u64: 0 }; 8];
        // SAFETY: room for 8 events.
        let count = unsafe { epoll_wait(epfd, events.as_mut_ptr(), 8, 0) };
        assert!(count >= 0, "epoll_wait failed");
        events[..count as usize]
            .iter()
            .map(|event| (event.events, event.u64))
            .collect()
    }

    fn add(epfd: c_int, fd: c_int, events: c_int, data: u64) -> c_int {
        let mut event = epoll_event {
            events: events as u32,
            u64: data,
        };
        // SAFETY: a live event.
        unsafe { epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, &mut event) }
    }

    fn signal(fd: c_int, value: u64) -> isize {
        // SAFETY: 8 readable bytes.
        unsafe { write(fd, value.to_ne_bytes().as_ptr().cast(), 8) }
    }

    fn drain(fd: c_int) -> isize {
        let mut bytes = [0u8; 8];
        // SAFETY: 8 writable bytes.
        unsafe { read(fd, bytes.as_mut_ptr().cast(), 8) }
    }

    const IN: u32 = libc::EPOLLIN as u32;
    const OUT: u32 = libc::EPOLLOUT as u32;

    #[test]
    fn level_triggered_interests_are_reported_while_ready() {
        let epfd = epoll_create1(0);
        let eventfd = eventfd(0, libc::EFD_NONBLOCK);
        assert_eq!(add(epfd, eventfd, libc::EPOLLIN, 7), 0);
        assert_eq!(wait_now(epfd), []);
        assert_eq!(signal(eventfd, 3), 8);
        assert_eq!(wait_now(epfd), [(IN, 7)]);
        assert_eq!(wait_now(epfd), [(IN, 7)], "still readable");
        assert_eq!(drain(eventfd), 8);
        assert_eq!(wait_now(epfd), []);
        assert_eq!(drain(eventfd), -1, "empty and non-blocking: EAGAIN");
        assert_eq!(crate::errno::get(), libc::EAGAIN);
        assert_eq!(add(epfd, eventfd, libc::EPOLLIN, 7), -1);
        assert_eq!(crate::errno::get(), libc::EEXIST);
        close(eventfd);
        close(epfd);
    }

    #[test]
    fn edge_triggered_interests_are_reported_once_per_change() {
        let epfd = epoll_create1(0);
        let eventfd = eventfd(0, libc::EFD_NONBLOCK);
        assert_eq!(add(epfd, eventfd, libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLET, 1), 0);
        assert_eq!(wait_now(epfd), [(OUT, 1)], "writable from the start");
        assert_eq!(wait_now(epfd), [], "no change since");
        signal(eventfd, 1);
        assert_eq!(wait_now(epfd), [(IN | OUT, 1)]);
        assert_eq!(wait_now(epfd), []);
        signal(eventfd, 1);
        assert_eq!(wait_now(epfd), [(IN | OUT, 1)], "a second write is a second edge");
        close(eventfd);
        close(epfd);
    }

    #[test]
    fn one_shot_interests_wait_for_a_modification() {
        let epfd = epoll_create1(0);
        let eventfd = eventfd(1, libc::EFD_NONBLOCK);
        assert_eq!(add(epfd, eventfd, libc::EPOLLIN | libc::EPOLLONESHOT, 5), 0);
        assert_eq!(wait_now(epfd), [(IN, 5)]);
        assert_eq!(wait_now(epfd), [], "disarmed");
        let mut event = epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLONESHOT) as u32,
            u64: 6,
        };
        // SAFETY: a live event.
        assert_eq!(unsafe { epoll_ctl(epfd, libc::EPOLL_CTL_MOD, eventfd, &mut event) }, 0);
        assert_eq!(wait_now(epfd), [(IN, 6)]);
        // SAFETY: deleting needs no event.
        assert_eq!(
            unsafe { epoll_ctl(epfd, libc::EPOLL_CTL_DEL, eventfd, core::ptr::null_mut()) },
            0
        );
        // SAFETY: as above.
        assert_eq!(
            unsafe { epoll_ctl(epfd, libc::EPOLL_CTL_DEL, eventfd, core::ptr::null_mut()) },
            -1
        );
        assert_eq!(crate::errno::get(), libc::ENOENT);
        close(eventfd);
        close(epfd);
    }

    #[test]
    fn socket_pairs_carry_bytes_both_ways_and_report_the_peer_closing() {
        let mut fds = [0; 2];
        // SAFETY: room for two descriptors.
        assert_eq!(
            unsafe {
                crate::pipe::socketpair(
                    libc::AF_UNIX,
                    libc::SOCK_STREAM | libc::SOCK_NONBLOCK,
                    0,
                    fds.as_mut_ptr(),
                )
            },
            0
        );
        let [a, b] = fds;
        let epfd = epoll_create1(0);
        add(epfd, b, libc::EPOLLIN | libc::EPOLLRDHUP, 2);
        // SAFETY: readable bytes.
        assert_eq!(unsafe { write(a, b"ping".as_ptr().cast(), 4) }, 4);
        assert_eq!(wait_now(epfd), [(IN, 2)]);
        let mut buffer = [0u8; 16];
        // SAFETY: writable bytes.
        assert_eq!(unsafe { read(b, buffer.as_mut_ptr().cast(), 16) }, 4);
        assert_eq!(&buffer[..4], b"ping");
        // SAFETY: as above.
        assert_eq!(unsafe { read(b, buffer.as_mut_ptr().cast(), 16) }, -1);
        assert_eq!(crate::errno::get(), libc::EAGAIN);
        // SAFETY: as above.
        assert_eq!(unsafe { write(b, b"pong".as_ptr().cast(), 4) }, 4);
        // SAFETY: as above.
        assert_eq!(unsafe { read(a, buffer.as_mut_ptr().cast(), 16) }, 4);
        close(a);
        let closed = IN | libc::EPOLLRDHUP as u32 | libc::EPOLLHUP as u32;
        assert_eq!(wait_now(epfd), [(closed, 2)]);
        // SAFETY: as above.
        assert_eq!(unsafe { read(b, buffer.as_mut_ptr().cast(), 16) }, 0, "end of stream");
        // SAFETY: as above.
        assert_eq!(unsafe { write(b, b"x".as_ptr().cast(), 1) }, -1);
        assert_eq!(crate::errno::get(), libc::EPIPE);
        close(b);
        close(epfd);
    }

    #[test]
    fn a_duplicate_shares_the_object_and_keeps_it_open() {
        let mut fds = [0; 2];
        // SAFETY: room for two descriptors.
        assert_eq!(unsafe { crate::pipe::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK) }, 0);
        let [reader, writer] = fds;
        let copy = crate::io::dup(writer);
        assert!(copy > writer);
        close(writer);
        // SAFETY: readable bytes.
        assert_eq!(unsafe { write(copy, b"still".as_ptr().cast(), 5) }, 5);
        close(copy);
        let mut buffer = [0u8; 8];
        // SAFETY: writable bytes.
        assert_eq!(unsafe { read(reader, buffer.as_mut_ptr().cast(), 8) }, 5);
        // SAFETY: as above.
        assert_eq!(
            unsafe { read(reader, buffer.as_mut_ptr().cast(), 8) },
            0,
            "every writer closed"
        );
        close(reader);
    }
}
