//! Entropy: the processor's generator (RDRAND, RNDR) when it has one; otherwise a ChaCha20
//! stream seeded from the jitter of the platform clock, the only hardware source such a
//! machine offers (weaker: say so in the image's documentation, never a constant).

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use spinning_top::Spinlock;
use unik_platform::{Clock, Current, Processor};

use crate::errno::{EFAULT, fail_size};

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

/// Fills `length` bytes at `buffer` with random bytes (std seeds `HashMap`'s hasher and
/// `RandomState` from this); how many.
///
/// # Safety
/// `buffer` must be writable for `length` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_read_entropy(buffer: *mut u8, length: usize, _flags: u32) -> isize {
    if buffer.is_null() {
        return fail_size(EFAULT);
    }
    let length = length.min(isize::MAX as usize);
    // SAFETY: the caller's guarantee.
    fill(unsafe { core::slice::from_raw_parts_mut(buffer, length) });
    length as isize
}
