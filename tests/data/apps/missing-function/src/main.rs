//! A std program that calls a C library function the library OS does not provide: the
//! build fails and names the function and its caller (a CLI test of the error).

unsafe extern "C" {
    fn sethostname(name: *const u8, length: usize) -> i32;
}

fn main() {
    let name = b"unik";
    // SAFETY: a valid buffer of `name.len()` bytes.
    let status = unsafe { sethostname(name.as_ptr(), name.len()) };
    println!("sethostname: {status}");
}
