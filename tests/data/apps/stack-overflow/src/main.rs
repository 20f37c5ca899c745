//! A std program that overflows a stack on purpose: a spawned thread's, named `deep`
//! (`thread`), or the main thread's (`main`). The VM must report a stack overflow, naming
//! the thread, and end with status 70; before overflowing it prints the guard sizes the
//! C library reports, as a program sizing its stacks would read them.
use std::hint::black_box;

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 64]);
    recurse(depth + 1) + frame[0]
}

/// `pthread_attr_t`: 56 bytes on Linux x86_64 and arm64; a little more room here.
type Attributes = [u64; 8];

unsafe extern "C" {
    fn pthread_self() -> usize;
    fn pthread_getattr_np(thread: usize, attributes: *mut Attributes) -> i32;
    fn pthread_attr_init(attributes: *mut Attributes) -> i32;
    fn pthread_attr_getguardsize(attributes: *const Attributes, size: *mut usize) -> i32;
}

/// The guard size of the running thread's stack, and of a fresh attribute object.
fn guard_sizes() -> (usize, usize) {
    let (mut running, mut fresh) = ([0u64; 8], [0u64; 8]);
    let (mut of_running, mut of_fresh) = (0, 0);
    // SAFETY: the attribute objects are writable and large enough.
    unsafe {
        assert_eq!(pthread_getattr_np(pthread_self(), &mut running), 0);
        assert_eq!(pthread_attr_getguardsize(&running, &mut of_running), 0);
        assert_eq!(pthread_attr_init(&mut fresh), 0);
        assert_eq!(pthread_attr_getguardsize(&fresh, &mut of_fresh), 0);
    }
    (of_running, of_fresh)
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    match mode.as_str() {
        "thread" => {
            let deep = std::thread::Builder::new()
                .name("deep".into())
                .stack_size(64 << 10)
                .spawn(|| {
                    let (running, fresh) = guard_sizes();
                    println!("guard of this thread: {running}, of a new attribute object: {fresh}");
                    recurse(black_box(0))
                })
                .unwrap();
            let _ = deep.join();
            println!("the thread ended without a fault");
        }
        "main" => {
            println!("guard of the main thread: {}", guard_sizes().0);
            recurse(black_box(0));
        }
        _ => println!("usage: stack-overflow thread|main"),
    }
}
