//! A std program that makes a system call itself, with inline assembly, as rustix's raw
//! backend would: nothing answers it in a unikernel, so the build refuses it (a CLI test).

fn main() {
    let pid: usize;
    // SAFETY: `getpid` takes no arguments and touches no memory.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::asm!("syscall", inlateout("rax") 39usize => pid, out("rcx") _, out("r11") _);
    }
    // SAFETY: as above.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        core::arch::asm!("svc #0", in("x8") 172usize, lateout("x0") pid);
    }
    println!("pid {pid}");
}
