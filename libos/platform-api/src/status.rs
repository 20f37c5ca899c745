//! Exit statuses the library OS itself reports (the application chooses all others).

/// Status after a panic, as with Rust's std.
pub const PANIC: i32 = 101;
/// Status after a CPU fault (bad memory access, invalid instruction, ...): `EX_SOFTWARE`.
pub const FAULT: i32 = 70;
