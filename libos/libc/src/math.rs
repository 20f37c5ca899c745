//! The C math library (`libm`): what std's float methods (`powf`, `sin`, `exp`, …) and C
//! code in crates call on the musl targets, from the `libm` crate (a port of musl's own).
//! Each is its own symbol: an image holds only the functions its program calls.

/// Defines each C function `name(arguments) -> ret` as the `libm` function of the same
/// name.
macro_rules! from_libm {
    ($($name:ident($($argument:ident: $kind:ty),*) -> $ret:ty;)*) => {$(
        #[doc = concat!("`", stringify!($name), "(3)`.")]
        #[cfg_attr(unik_platform, unsafe(no_mangle))]
        pub extern "C" fn $name($($argument: $kind),*) -> $ret {
            libm::$name($($argument),*)
        }
    )*};
}

from_libm! {
    acos(x: f64) -> f64;
    acosf(x: f32) -> f32;
    acosh(x: f64) -> f64;
    asin(x: f64) -> f64;
    asinf(x: f32) -> f32;
    asinh(x: f64) -> f64;
    atan(x: f64) -> f64;
    atanf(x: f32) -> f32;
    atan2(y: f64, x: f64) -> f64;
    atan2f(y: f32, x: f32) -> f32;
    atanh(x: f64) -> f64;
    cbrt(x: f64) -> f64;
    cbrtf(x: f32) -> f32;
    ceil(x: f64) -> f64;
    ceilf(x: f32) -> f32;
    cos(x: f64) -> f64;
    cosf(x: f32) -> f32;
    cosh(x: f64) -> f64;
    coshf(x: f32) -> f32;
    erf(x: f64) -> f64;
    erfc(x: f64) -> f64;
    exp(x: f64) -> f64;
    expf(x: f32) -> f32;
    exp2(x: f64) -> f64;
    exp2f(x: f32) -> f32;
    expm1(x: f64) -> f64;
    expm1f(x: f32) -> f32;
    fabs(x: f64) -> f64;
    fabsf(x: f32) -> f32;
    fdim(x: f64, y: f64) -> f64;
    floor(x: f64) -> f64;
    floorf(x: f32) -> f32;
    fma(x: f64, y: f64, z: f64) -> f64;
    fmaf(x: f32, y: f32, z: f32) -> f32;
    fmax(x: f64, y: f64) -> f64;
    fmaxf(x: f32, y: f32) -> f32;
    fmin(x: f64, y: f64) -> f64;
    fminf(x: f32, y: f32) -> f32;
    fmod(x: f64, y: f64) -> f64;
    fmodf(x: f32, y: f32) -> f32;
    hypot(x: f64, y: f64) -> f64;
    hypotf(x: f32, y: f32) -> f32;
    ldexp(x: f64, n: i32) -> f64;
    ldexpf(x: f32, n: i32) -> f32;
    lgamma(x: f64) -> f64;
    log(x: f64) -> f64;
    logf(x: f32) -> f32;
    log10(x: f64) -> f64;
    log10f(x: f32) -> f32;
    log1p(x: f64) -> f64;
    log1pf(x: f32) -> f32;
    log2(x: f64) -> f64;
    log2f(x: f32) -> f32;
    nextafter(x: f64, y: f64) -> f64;
    pow(x: f64, y: f64) -> f64;
    powf(x: f32, y: f32) -> f32;
    rint(x: f64) -> f64;
    round(x: f64) -> f64;
    roundf(x: f32) -> f32;
    sin(x: f64) -> f64;
    sinf(x: f32) -> f32;
    sinh(x: f64) -> f64;
    sinhf(x: f32) -> f32;
    sqrt(x: f64) -> f64;
    sqrtf(x: f32) -> f32;
    tan(x: f64) -> f64;
    tanf(x: f32) -> f32;
    tanh(x: f64) -> f64;
    tanhf(x: f32) -> f32;
    tgamma(x: f64) -> f64;
    trunc(x: f64) -> f64;
    truncf(x: f32) -> f32;
}
