//! The `kvm-arm64` platform: an arm64 Image under QEMU's `virt` machine (TCG, or KVM on an
//! arm64 host).
//!
//! Console: the PL011 UART at `virt`'s fixed address. Exit: semihosting `SYS_EXIT`, which
//! makes QEMU exit with the status (`unik run` starts QEMU with `-semihosting`); without a
//! semihosting host, the status line and PSCI `SYSTEM_OFF` through `hvc`. Time: the generic timer, its
//! interrupt through the GICv3. Memory, command line and virtio-mmio devices: the device
//! tree; device interrupts through the GICv3.
#![no_std]

use core::sync::atomic::{AtomicBool, Ordering};
use unik_arch_aarch64::mmio::Mmio32;
use unik_arch_aarch64::{boot, cpu, devicetree, gic, mmu, psci, semihosting, timer};
use unik_driver_pl011::{Pl011, Registers};
use unik_platform_api::{BootInfo, Clock, Console, Devices, MmioDevice, Platform, Shutdown, memory, status};

/// The kvm-arm64 platform.
pub struct KvmArm64;

impl Platform for KvmArm64 {
    const NAME: &'static str = "kvm-arm64";
}

unik_platform_api::impl_processor!(KvmArm64, unik_arch_aarch64::context);
unik_platform_api::export_platform!(KvmArm64, unik_arch_aarch64::boot::cycles_since_entry);

/// The PL011's registers.
struct Uart(Mmio32);

impl Registers for Uart {
    fn read(&self, offset: usize) -> u32 {
        self.0.read(offset)
    }
    fn write(&self, offset: usize, value: u32) {
        self.0.write(offset, value)
    }
}

/// Where the machine's PL011 is: a fact of QEMU's `virt` memory map (`VIRT_UART`, the
/// same in every versioned `virt` machine, which keep their layout for migration), which
/// Cloud Hypervisor's arm64 machine shares. A console needs no device-tree walk: hello
/// world's image is a third smaller without it.
const UART: usize = 0x0900_0000;
/// Bytes of the PL011's register block.
const UART_SIZE: u64 = 0x1000;

/// Whether the PL011 is mapped and set up: once, on first use.
static UART_READY: AtomicBool = AtomicBool::new(false);

fn uart() -> Pl011<Uart> {
    // SAFETY: the machine's PL011 (see `UART`), which only this platform drives; mapped
    // as a device before any access below.
    let uart = Pl011::new(Uart(unsafe { Mmio32::new(UART) }));
    if !UART_READY.load(Ordering::Relaxed) {
        if !mmu::map_device(UART as u64..UART as u64 + UART_SIZE) {
            cpu::halt_forever();
        }
        uart.init();
        UART_READY.store(true, Ordering::Relaxed);
    }
    uart
}

impl Console for KvmArm64 {
    fn write(bytes: &[u8]) {
        uart().write(bytes);
    }
}

/// Without a semihosting host: say the status on the console and power off.
fn power_off(status: i32) -> ! {
    status::report_line(status, KvmArm64::write);
    uart().flush();
    // KVM implements PSCI on `hvc`, and so does QEMU for a guest it enters at EL1.
    psci::system_off(psci::Conduit::Hvc)
}

impl Shutdown for KvmArm64 {
    fn exit(status: i32) -> ! {
        uart().flush();
        semihosting::exit(status, power_off)
    }
}

impl Clock for KvmArm64 {
    fn now_nanos() -> u64 {
        timer::now_nanos()
    }

    /// The PL031 real-time clock the device tree names (QEMU's virt machine has one): its
    /// data register counts Unix seconds.
    fn wall_clock_nanos() -> Option<u64> {
        let registers = devicetree::device("arm,pl031")?;
        if !mmu::map_device(registers.clone()) {
            return None;
        }
        // SAFETY: the device tree's PL031, just mapped as device memory; only read here.
        let rtc = unsafe { Mmio32::new(registers.start as usize) };
        // RTCDR (offset 0): the counter, which QEMU starts at the host's Unix time.
        Some(u64::from(rtc.read(0)) * 1_000_000_000)
    }

    fn wait_until(deadline: u64) {
        timer::wait_until(deadline)
    }
}

impl BootInfo for KvmArm64 {
    fn command_line() -> &'static str {
        devicetree::command_line()
    }

    fn free_memory() -> impl Iterator<Item = memory::Region> {
        boot::free_memory()
    }

    fn initial_ramdisk() -> &'static [u8] {
        boot::initial_ramdisk()
    }
}

impl Devices for KvmArm64 {
    fn virtio_mmio() -> impl Iterator<Item = MmioDevice> {
        devicetree::virtio_mmio()
            .map(|(device, _)| device)
            .filter(|device| mmu::map_device(device.registers.clone()))
    }

    fn enable_interrupt(interrupt: u32) -> bool {
        gic::enable_shared_interrupt(interrupt, devicetree::virtio_mmio_interrupt_is_edge(interrupt))
    }
}
