//! The program as a process: exit (with `atexit` handlers), abort, its ids, `sysconf`,
//! `getauxval`, `uname` and the host name, and the unwinder std's backtraces ask (none:
//! images are built with `panic = "abort"`, and there is no unwind information to walk).

use alloc::vec::Vec;
use core::ffi::{c_int, c_long, c_ulong, c_void};
use spinning_top::Spinlock;
use unik_platform::{Current, Processor, Shutdown, status};

use crate::errno::{EINVAL, fail};

/// The machine's name (`uname`'s nodename, `gethostname`).
const HOST_NAME: &str = "unik";

/// What `uname` says, beyond the machine: the C library is Linux's ABI, so programs built
/// for Linux that read `sysname` take their Linux paths; the release is that of the
/// kernel whose calls it answers as documented (Debian 12's), marked as unik's.
const SYSTEM: [&str; 3] = ["Linux", "6.1.0-unik", "#1 unik"];

/// Copies `text` and a NUL into `field`, cut to fit.
fn copy_field(field: &mut [core::ffi::c_char], text: &str) {
    let length = text.len().min(field.len() - 1);
    for (slot, &byte) in field.iter_mut().zip(&text.as_bytes()[..length]) {
        *slot = byte as core::ffi::c_char;
    }
    field[length] = 0;
}

/// `uname(2)`: `Linux`, the host name, a release and version marked as unik's, and the
/// processor's architecture (see [`SYSTEM`]).
///
/// # Safety
/// `name` must be null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn uname(name: *mut libc::utsname) -> c_int {
    // SAFETY: the caller's guarantee.
    let Some(name) = (unsafe { name.as_mut() }) else {
        return fail(crate::errno::EFAULT);
    };
    let [system, release, version] = SYSTEM;
    copy_field(&mut name.sysname, system);
    copy_field(&mut name.nodename, HOST_NAME);
    copy_field(&mut name.release, release);
    copy_field(&mut name.version, version);
    copy_field(&mut name.machine, <Current as Processor>::LINUX_MACHINE);
    copy_field(&mut name.domainname, "(none)");
    0
}

/// `gethostname(2)`: `ENAMETOOLONG` when the name and its NUL do not fit.
///
/// # Safety
/// `name` must be writable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn gethostname(name: *mut core::ffi::c_char, length: usize) -> c_int {
    if length <= HOST_NAME.len() {
        return fail(libc::ENAMETOOLONG);
    }
    // SAFETY: the caller's guarantee; `length` exceeds the name.
    copy_field(unsafe { core::slice::from_raw_parts_mut(name, length) }, HOST_NAME);
    0
}

/// `atexit`/`__cxa_atexit` handlers, run newest first.
type ExitHandler = (unsafe extern "C" fn(*mut c_void), usize);
static AT_EXIT: Spinlock<Vec<ExitHandler>> = Spinlock::new(Vec::new());

/// The handle of the program's one "shared object" (`__cxa_atexit` compares it).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub static __dso_handle: usize = 0;

/// `__cxa_atexit`: runs `function(argument)` at `exit`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn __cxa_atexit(
    function: unsafe extern "C" fn(*mut c_void),
    argument: *mut c_void,
    _dso: *mut c_void,
) -> c_int {
    AT_EXIT.lock().push((function, argument as usize));
    0
}

unsafe extern "C" fn call_plain(function: *mut c_void) {
    // SAFETY: `atexit` stores an `extern "C" fn()` here.
    let function: extern "C" fn() = unsafe { core::mem::transmute(function) };
    function();
}

/// `atexit(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn atexit(function: extern "C" fn()) -> c_int {
    __cxa_atexit(call_plain, function as *mut c_void, core::ptr::null_mut())
}

/// `exit(3)`: the main thread's thread-local destructors, the `atexit` handlers, then the
/// VM ends with `status`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn exit(status: c_int) -> ! {
    crate::thread::run_thread_destructors(unik_thread::current());
    loop {
        let next = AT_EXIT.lock().pop();
        let Some((function, argument)) = next else { break };
        // SAFETY: registered with this argument.
        unsafe { function(argument as *mut c_void) };
    }
    Current::exit(status)
}

/// `_exit(2)`: ends the VM with `status` at once.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn _exit(status: c_int) -> ! {
    Current::exit(status)
}

/// `_Exit(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn _Exit(status: c_int) -> ! {
    Current::exit(status)
}

/// `abort(3)`: ends the VM with [`status::PANIC`], as a panicking Rust program ends (std
/// images are built with `panic = "abort"`: every std panic, whose message std has
/// printed, arrives here, as does `std::process::abort`).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn abort() -> ! {
    Current::exit(status::PANIC)
}

/// `getpid(2)`: the VM runs one program.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn getpid() -> libc::pid_t {
    1
}

/// `getppid(2)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn getppid() -> libc::pid_t {
    0
}

/// `getuid(2)`: the program is the VM's only user, root.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn getuid() -> libc::uid_t {
    0
}

/// `geteuid(2)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn geteuid() -> libc::uid_t {
    0
}

/// `getgid(2)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn getgid() -> libc::gid_t {
    0
}

/// `getegid(2)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn getegid() -> libc::gid_t {
    0
}

/// `sysconf(3)`.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn sysconf(name: c_int) -> c_long {
    match name {
        libc::_SC_PAGESIZE => crate::memory::PAGE_SIZE as c_long,
        libc::_SC_NPROCESSORS_ONLN | libc::_SC_NPROCESSORS_CONF => 1,
        libc::_SC_CLK_TCK => 100,
        libc::_SC_OPEN_MAX => 1024,
        libc::_SC_GETPW_R_SIZE_MAX | libc::_SC_GETGR_R_SIZE_MAX => 1024,
        _ => fail(EINVAL).into(),
    }
}

/// `AT_RANDOM`'s 16 bytes, filled on first use.
static AUX_RANDOM: Spinlock<Option<[u8; 16]>> = Spinlock::new(None);

/// `getauxval(3)`: the page size, `AT_RANDOM`, the processor's features (`AT_HWCAP`, from
/// the platform as Linux would report them; `AT_HWCAP2`: none), and zero with `ENOENT`
/// for the rest, which callers read as "not provided" (`AT_MINSIGSTKSZ`: the default).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn getauxval(kind: c_ulong) -> c_ulong {
    match kind {
        libc::AT_PAGESZ => crate::memory::PAGE_SIZE as c_ulong,
        libc::AT_HWCAP => Current::linux_hardware_capabilities() as c_ulong,
        libc::AT_HWCAP2 => 0,
        libc::AT_RANDOM => {
            let mut random = AUX_RANDOM.lock();
            let bytes = random.get_or_insert_with(|| {
                let mut bytes = [0; 16];
                crate::random::fill(&mut bytes);
                bytes
            });
            bytes.as_ptr() as c_ulong
        }
        _ => {
            crate::errno::set(libc::ENOENT);
            0
        }
    }
}

/// `pause(2)`: nothing delivers signals, so it never returns.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn pause() -> c_int {
    loop {
        unik_thread::park(u64::MAX);
    }
}

/// `_Unwind_Backtrace`: there is no unwind information to walk; the walk ends at once
/// (`_URC_END_OF_STACK`).
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn _Unwind_Backtrace(_trace: *mut c_void, _argument: *mut c_void) -> c_int {
    5
}

/// Defines unwinder queries that answer 0: never called, since the walk ends at once.
macro_rules! unwind_queries {
    ($($name:ident),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: never reached (no frames are walked).")]
        #[cfg_attr(unik_platform, unsafe(no_mangle))]
        pub extern "C" fn $name(_context: *mut c_void) -> usize {
            0
        }
    )*};
}

unwind_queries!(
    _Unwind_GetIP,
    _Unwind_GetCFA,
    _Unwind_GetDataRelBase,
    _Unwind_GetTextRelBase,
    _Unwind_GetRegionStart,
    _Unwind_GetLanguageSpecificData,
    _Unwind_FindEnclosingFunction
);

/// `_Unwind_GetIPInfo`: never reached.
///
/// # Safety
/// `before` must be null or writable.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn _Unwind_GetIPInfo(_context: *mut c_void, before: *mut c_int) -> usize {
    if !before.is_null() {
        // SAFETY: a caller passes a writable flag.
        unsafe { before.write(0) };
    }
    0
}

/// `_Unwind_SetGR`: never reached.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn _Unwind_SetGR(_context: *mut c_void, _index: c_int, _value: usize) {}

/// `_Unwind_SetIP`: never reached.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub extern "C" fn _Unwind_SetIP(_context: *mut c_void, _value: usize) {}
