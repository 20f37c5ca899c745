//! Entropy: the processor's generator (RDRAND, RNDR) when it has one; otherwise a ChaCha20
//! stream seeded from the jitter of the platform clock, the only hardware source such a
//! machine offers (weaker: the documentation says so; never a constant).

use core::ffi::{c_int, c_uint, c_void};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use spinning_top::Spinlock;
use unik_platform::{Clock, Current, Processor};

use crate::errno::{EFAULT, EIO, fail, fail_size};

/// The fallback generator, seeded on first use.
static FALLBACK: Spinlock<Option<ChaCha20Rng>> = Spinlock::new(None);

/// 32 bytes from the low bits of clock readings taken around uneven amounts of work.
fn clock_jitter_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    let mut previous = Current::now_nanos();
    for round in 0..8 {
        for (index, byte) in seed.iter_mut().enumerate() {
            let mut spin = (previous as usize ^ index ^ round) & 0x3f;
            while spin > 0 {
                core::hint::spin_loop();
                spin -= 1;
            }
            let now = Current::now_nanos();
            *byte = byte.rotate_left(3) ^ (now.wrapping_sub(previous) as u8) ^ (now as u8);
            previous = now;
        }
    }
    seed
}

/// Fills `buffer` with random bytes.
pub fn fill(buffer: &mut [u8]) {
    if Current::hardware_random(buffer) {
        return;
    }
    let mut fallback = FALLBACK.lock();
    fallback
        .get_or_insert_with(|| ChaCha20Rng::from_seed(clock_jitter_seed()))
        .fill_bytes(buffer);
}

/// `getrandom(2)` (std seeds `HashMap`'s `RandomState` from it); never blocks.
///
/// # Safety
/// `buffer` must be writable for `length` bytes.
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn getrandom(buffer: *mut c_void, length: usize, _flags: c_uint) -> isize {
    if buffer.is_null() && length != 0 {
        return fail_size(EFAULT);
    }
    let length = length.min(isize::MAX as usize);
    if length != 0 {
        // SAFETY: the caller's guarantee.
        fill(unsafe { core::slice::from_raw_parts_mut(buffer.cast(), length) });
    }
    length as isize
}

/// `getentropy(3)`: at most 256 bytes.
///
/// # Safety
/// As for [`getrandom`].
#[cfg_attr(unik_platform, unsafe(no_mangle))]
pub unsafe extern "C" fn getentropy(buffer: *mut c_void, length: usize) -> c_int {
    if length > 256 {
        return fail(EIO);
    }
    // SAFETY: forwarded.
    if unsafe { getrandom(buffer, length, 0) } < 0 {
        -1
    } else {
        0
    }
}
