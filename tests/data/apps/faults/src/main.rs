//! Commits the CPU fault named by its first argument; the VM must report it and fail.
#![no_std]
#![no_main]

use core::hint::black_box;
use unik::println;

/// A return instruction of the image's architecture, in read-only data.
#[cfg(target_arch = "x86_64")]
static RETURN_INSTRUCTION: [u8; 4] = [0xc3, 0, 0, 0];
#[cfg(target_arch = "aarch64")]
static RETURN_INSTRUCTION: [u8; 4] = 0xd65f_03c0u32.to_le_bytes();

// `faults_undefined_instruction`: an instruction every CPU of the architecture refuses
// (x86 `ud2`, which pushes no error code; arm64 `udf #0`), at an address the app prints.
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".global faults_undefined_instruction",
    "faults_undefined_instruction: ud2"
);
#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".global faults_undefined_instruction",
    "faults_undefined_instruction: udf #0"
);
unsafe extern "C" {
    fn faults_undefined_instruction();
}

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 64]);
    recurse(depth + 1) + frame[0]
}

#[unik::main]
fn main() -> i32 {
    let which = unik::args().next().unwrap_or("");
    println!("committing fault: {which}");
    // SAFETY (of sorts): every arm below is meant to fault; that is the test.
    match which {
        "null" => unsafe { core::ptr::read_volatile(black_box(core::ptr::null::<u64>())) as i32 },
        "write-text" => {
            let text = black_box(main as fn() -> i32 as *mut u8);
            unsafe { text.write_volatile(0xc3) };
            0
        }
        "execute-rodata" => {
            let code: extern "C" fn() = unsafe { core::mem::transmute(black_box(RETURN_INSTRUCTION.as_ptr())) };
            code();
            0
        }
        "stack-overflow" => recurse(black_box(0)) as i32,
        "undefined-instruction" => {
            println!(
                "undefined instruction at {:#018x}",
                faults_undefined_instruction as usize
            );
            unsafe { faults_undefined_instruction() };
            0
        }
        #[cfg(target_arch = "x86_64")]
        "triple-fault" => {
            // An empty IDT: the next exception cannot be delivered, and neither can the
            // double fault that follows. The VM dies without reporting a status.
            let empty = [0u16; 5];
            unsafe { core::arch::asm!("lidt [{}]", "ud2", in(reg) &empty) };
            0
        }
        _ => {
            println!("unknown fault `{which}`");
            2
        }
    }
}
