//! The host platform: implements the platform traits on top of std, for unit tests of
//! portable library-OS crates on the development machine. Never part of an image.
#![deny(unsafe_code)]

use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use unik_platform_api::{
    BootInfo, Clock, Console, Devices, MmioDevice, Platform, Processor, Shutdown, TlsLayout, memory,
};

/// The host platform.
pub struct Host;

impl Platform for Host {
    const NAME: &'static str = "host";
}

impl Console for Host {
    fn write(bytes: &[u8]) {
        let _ = std::io::stdout().write_all(bytes);
    }
}

impl Shutdown for Host {
    fn exit(status: i32) -> ! {
        let _ = std::io::stdout().flush();
        std::process::exit(status)
    }
}

fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

impl Clock for Host {
    fn now_nanos() -> u64 {
        origin().elapsed().as_nanos() as u64
    }

    fn wall_clock_nanos() -> Option<u64> {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        u64::try_from(since_epoch.as_nanos()).ok()
    }

    fn wait_until(deadline: u64) {
        let now = Self::now_nanos();
        if deadline > now {
            std::thread::sleep(Duration::from_nanos(deadline - now));
        }
    }
}

impl BootInfo for Host {
    /// The `UNIK_HOST_CMDLINE` environment variable, so tests can supply a command line.
    fn command_line() -> &'static str {
        static LINE: OnceLock<String> = OnceLock::new();
        LINE.get_or_init(|| std::env::var("UNIK_HOST_CMDLINE").unwrap_or_default())
    }

    /// The host heap belongs to std: nothing to hand out.
    fn free_memory() -> impl Iterator<Item = memory::Region> {
        std::iter::empty()
    }

    /// Unit tests give the file component their archives directly.
    fn initial_ramdisk() -> &'static [u8] {
        &[]
    }
}

/// The host has no devices for the library OS's drivers.
impl Devices for Host {
    fn virtio_mmio() -> impl Iterator<Item = MmioDevice> {
        std::iter::empty()
    }

    fn enable_interrupt(_interrupt: u32) -> bool {
        false
    }
}

/// Host builds run under std's threads: the library OS's own threads and thread-local
/// storage exist only in images, and the host's random numbers come from the OS.
impl Processor for Host {
    const TLS_LAYOUT: TlsLayout = TlsLayout::BlockBelowPointer;
    const LINUX_MACHINE: &'static str = std::env::consts::ARCH;

    fn set_thread_pointer(_pointer: usize) {
        panic!("the host platform keeps std's thread pointer");
    }

    #[allow(unsafe_code)]
    unsafe fn new_context(_stack_top: usize, _entry: extern "C" fn(usize) -> !, _argument: usize) -> usize {
        panic!("the host platform has no library-OS threads");
    }

    #[allow(unsafe_code)]
    unsafe fn switch_context(_save: *mut usize, _resume: usize) {
        panic!("the host platform has no library-OS threads");
    }

    fn hardware_random(buffer: &mut [u8]) -> bool {
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .and_then(|mut file| file.read_exact(buffer))
            .is_ok()
    }

    /// The host's own `AT_HWCAP`, read from the auxiliary vector the kernel gave this
    /// process (`/proc/self/auxv`: pairs of native-endian words).
    fn linux_hardware_capabilities() -> u64 {
        const AT_HWCAP: u64 = 16;
        let auxv = std::fs::read("/proc/self/auxv").unwrap_or_default();
        let word = |bytes: &[u8]| u64::from_ne_bytes(bytes.try_into().unwrap_or_default());
        auxv.chunks_exact(16)
            .find(|pair| word(&pair[..8]) == AT_HWCAP)
            .map_or(0, |pair| word(&pair[8..]))
    }

    fn set_guard_page(_address: usize, _guarded: bool) -> bool {
        false
    }
}
