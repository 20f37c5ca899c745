//! Uses the heap through `alloc`: Vec, String, Box and BTreeMap.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use unik::println;

#[unik::main]
fn main() -> i32 {
    let squares: Vec<u64> = (1..=10).map(|n| n * n).collect();
    println!("squares: {squares:?}");

    let mut greeting = String::from("Hello");
    greeting.push_str(", heap!");
    println!("{greeting}");

    let boxed: Box<[u8]> = alloc::vec![7u8; 4096].into_boxed_slice();
    println!(
        "boxed slice of {} bytes summing to {}",
        boxed.len(),
        boxed.iter().map(|&b| u64::from(b)).sum::<u64>()
    );

    let mut counts = BTreeMap::new();
    for word in "the quick brown fox jumps over the lazy dog the end".split(' ') {
        *counts.entry(word).or_insert(0u32) += 1;
    }
    println!("word counts: {counts:?}");

    // A larger allocation than any single block so far: 8 MiB, touched end to end.
    let mut big = Vec::<u8>::with_capacity(8 << 20);
    big.resize(8 << 20, 1);
    println!(
        "big vector of {} MiB summing to {}",
        big.len() >> 20,
        big.iter().map(|&b| u64::from(b)).sum::<u64>()
    );
    0
}
