//! A package that does not depend on unik (a CLI test of the error).
fn main() {}
