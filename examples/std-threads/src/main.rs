//! std threads on unik: a shared counter behind a `Mutex`, a `Condvar` handshake, scoped
//! threads and thread-locals.
use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

const THREADS: u64 = 4;
const INCREMENTS: u64 = 100_000;

thread_local! {
    static CALLS: Cell<u64> = const { Cell::new(0) };
}

fn main() {
    // Four threads increment one counter; each also counts in a thread-local.
    let counter = Arc::new(Mutex::new(0u64));
    let workers: Vec<_> = (0..THREADS)
        .map(|index| {
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                for step in 0..INCREMENTS {
                    *counter.lock().unwrap() += 1;
                    CALLS.with(|calls| calls.set(calls.get() + 1));
                    if step % 10_000 == 0 {
                        thread::yield_now();
                    }
                }
                (index, CALLS.with(Cell::get))
            })
        })
        .collect();
    for worker in workers {
        let (index, calls) = worker.join().unwrap();
        println!("thread {index} incremented {calls} times");
    }
    println!("total: {}", *counter.lock().unwrap());
    println!("main thread's own count: {}", CALLS.with(Cell::get));

    // A Condvar handshake: the main thread waits until the other says it is ready, then
    // answers; the other waits for the answer.
    let state = Arc::new((Mutex::new(0u32), Condvar::new()));
    let partner = {
        let state = Arc::clone(&state);
        thread::spawn(move || {
            let (stage, changed) = &*state;
            thread::sleep(Duration::from_millis(10));
            *stage.lock().unwrap() = 1;
            changed.notify_all();
            let answered = changed.wait_while(stage.lock().unwrap(), |stage| *stage < 2).unwrap();
            *answered
        })
    };
    let (stage, changed) = &*state;
    let ready = changed.wait_while(stage.lock().unwrap(), |stage| *stage < 1).unwrap();
    println!("partner ready: stage {}", *ready);
    drop(ready);
    *stage.lock().unwrap() = 2;
    changed.notify_all();
    println!("partner saw stage {}", partner.join().unwrap());

    // Scoped threads borrow from the stack.
    let numbers: Vec<u64> = (1..=1000).collect();
    let (low, high) = numbers.split_at(500);
    let (a, b) = thread::scope(|scope| {
        let a = scope.spawn(|| low.iter().sum::<u64>());
        let b = scope.spawn(|| high.iter().sum::<u64>());
        (a.join().unwrap(), b.join().unwrap())
    });
    println!("scoped sums: {a} + {b} = {}", a + b);
}
