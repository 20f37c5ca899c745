//! An ordinary std program: nothing in the code names unik; the manifest depends on it.
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn main() {
    println!("Hello from std!");

    let args: Vec<String> = std::env::args().collect();
    println!(
        "{} argument(s) after the program name: {:?}",
        args.len() - 1,
        &args[1..]
    );

    let mut counts: HashMap<&str, usize> = HashMap::new();
    for word in "the quick brown fox jumps over the lazy dog the end".split(' ') {
        *counts.entry(word).or_default() += 1;
    }
    let mut common: Vec<_> = counts.into_iter().filter(|(_, n)| *n > 1).collect();
    common.sort();
    println!("repeated words: {common:?}");

    let squares: Vec<u64> = (1..=10).map(|n| n * n).collect();
    let total: u64 = squares.iter().sum();
    println!(
        "sum of the first ten squares: {total} ({:.2} on average)",
        total as f64 / squares.len() as f64
    );

    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    let slept = start.elapsed();
    println!("slept at least 20 ms: {}", slept >= Duration::from_millis(20));
}
