//! A std program meeting what unik does not provide, and ending in the ways std ends:
//! files that are not there and a read-only root fail with an error (no crash), processes
//! are unsupported, the environment comes from the command line, `process::exit` and
//! panics end the VM with their status.
use std::io::ErrorKind;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    match std::fs::File::open("/etc/hostname") {
        Ok(_) => println!("open: unexpectedly succeeded"),
        Err(error) => println!("open: {error}"),
    }
    let read_only = std::fs::write("/hostname", "vm").unwrap_err();
    println!("write to /: {}", read_only.kind() == ErrorKind::ReadOnlyFilesystem);
    match std::process::Command::new("ls").spawn() {
        Ok(_) => println!("spawn: unexpectedly succeeded"),
        Err(error) => println!("spawn: {error}"),
    }
    println!("GREETING={:?}", std::env::var("GREETING").ok());
    println!(
        "pid {} on {} CPU(s)",
        std::process::id(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    match mode.as_str() {
        "exit" => {
            println!("exiting with 3");
            std::process::exit(3)
        }
        "panic" => panic!("on purpose: {}", 6 * 7),
        _ => println!("returning from main"),
    }
}
