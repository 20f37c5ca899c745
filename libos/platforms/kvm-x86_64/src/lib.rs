//! The `kvm-x86_64` platform: a PVH image under QEMU's `microvm` machine (KVM or TCG).
//!
//! Console: the 16550 UART at COM1 (port 0x3f8). Exit: QEMU's `isa-debug-exit` device at
//! port 0xf4, which makes QEMU exit with `(value << 1) | 1`. Time: the TSC, calibrated
//! against the PIT on first use; sleeping arms the local APIC timer and halts.
#![no_std]

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use unik_arch_x86_64::{cpu, ioapic, lapic, mmu, pit, pvh};
use unik_driver_uart16550::{Registers, Uart16550};
use unik_platform_api::{BootInfo, Clock, Console, Devices, MmioDevice, Platform, Shutdown, devices, memory};

/// The kvm-x86_64 platform.
pub struct KvmX86_64;

impl Platform for KvmX86_64 {
    const NAME: &'static str = "kvm-x86_64";
}

unik_platform_api::impl_processor!(KvmX86_64, unik_arch_x86_64::context);
unik_platform_api::export_platform!(KvmX86_64, unik_arch_x86_64::boot::cycles_since_entry);

/// COM1's registers in the I/O port space.
struct Com1;

impl Registers for Com1 {
    fn read(&self, offset: u8) -> u8 {
        cpu::inb(0x3f8 + u16::from(offset))
    }
    fn write(&self, offset: u8, value: u8) {
        cpu::outb(0x3f8 + u16::from(offset), value)
    }
}

static UART: Uart16550<Com1> = Uart16550::new(Com1);
static UART_READY: AtomicBool = AtomicBool::new(false);

impl Console for KvmX86_64 {
    fn write(bytes: &[u8]) {
        if !UART_READY.swap(true, Ordering::Relaxed) {
            UART.init();
        }
        UART.write(bytes);
    }
}

/// I/O port of QEMU's `isa-debug-exit` device, as `unik run` configures it.
const DEBUG_EXIT_PORT: u16 = 0xf4;
/// The device reports 7 bits of status: `(value << 1) | 1` is QEMU's exit status.
const LARGEST_REPORTABLE_STATUS: i32 = 127;

impl Shutdown for KvmX86_64 {
    fn exit(status: i32) -> ! {
        let reported = if (0..=LARGEST_REPORTABLE_STATUS).contains(&status) {
            status
        } else {
            Self::write(b"unik: an exit code outside 0..=127 cannot leave the VM; reports 127.\n");
            LARGEST_REPORTABLE_STATUS
        };
        cpu::outl(DEBUG_EXIT_PORT, reported as u32);
        // No debug-exit device (another VMM): stop here.
        cpu::halt_forever()
    }
}

/// TSC value at calibration; `now_nanos` counts from here.
static TSC_BASE: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per TSC tick, as a 32.32 fixed-point number; 0 before calibration.
static NANOS_PER_TSC_TICK: AtomicU64 = AtomicU64::new(0);
/// APIC timer ticks per nanosecond, as a 32.32 fixed-point number.
static APIC_TICKS_PER_NANO: AtomicU64 = AtomicU64::new(0);

fn calibrate() {
    let calibration = pit::calibrate();
    let nanos_per_tick = (1_000_000_000u128 << 32) / u128::from(calibration.tsc_hz.max(1));
    let apic_per_nano = (u128::from(calibration.lapic_hz) << 32) / 1_000_000_000;
    APIC_TICKS_PER_NANO.store(apic_per_nano as u64, Ordering::Relaxed);
    TSC_BASE.store(cpu::rdtsc(), Ordering::Relaxed);
    NANOS_PER_TSC_TICK.store(nanos_per_tick as u64, Ordering::Relaxed);
}

impl Clock for KvmX86_64 {
    fn wall_clock_nanos() -> Option<u64> {
        unik_arch_x86_64::rtc::unix_time().map(|seconds| seconds * 1_000_000_000)
    }

    fn now_nanos() -> u64 {
        if NANOS_PER_TSC_TICK.load(Ordering::Relaxed) == 0 {
            calibrate();
        }
        let ticks = cpu::rdtsc().wrapping_sub(TSC_BASE.load(Ordering::Relaxed));
        ((u128::from(ticks) * u128::from(NANOS_PER_TSC_TICK.load(Ordering::Relaxed))) >> 32) as u64
    }

    fn wait_until(deadline: u64) {
        let now = Self::now_nanos();
        if now >= deadline {
            return;
        }
        let per_nano = u128::from(APIC_TICKS_PER_NANO.load(Ordering::Relaxed));
        if per_nano == 0 {
            // No APIC timer could be set up: nothing would wake a halted CPU.
            core::hint::spin_loop();
            return;
        }
        let ticks = ((u128::from(deadline - now) * per_nano) >> 32).clamp(1, u128::from(u32::MAX));
        lapic::start_countdown(ticks as u32, true);
        cpu::wait_for_interrupt();
    }
}

impl BootInfo for KvmX86_64 {
    fn command_line() -> &'static str {
        devices::split_virtio_mmio_parameters(pvh::command_line()).0
    }

    fn free_memory() -> impl Iterator<Item = memory::Region> {
        pvh::free_memory()
    }

    fn initial_ramdisk() -> &'static [u8] {
        pvh::ramdisk()
    }
}

impl Devices for KvmX86_64 {
    fn virtio_mmio() -> impl Iterator<Item = MmioDevice> {
        let parameters = devices::split_virtio_mmio_parameters(pvh::command_line()).1;
        devices::virtio_mmio_parameters(parameters).filter(|device| mmu::map_device(device.registers.start))
    }

    fn enable_interrupt(interrupt: u32) -> bool {
        ioapic::route(interrupt)
    }
}
