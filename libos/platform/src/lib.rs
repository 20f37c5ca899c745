//! Names the platform this build is for as [`Current`], its network driver as [`Nic`] and
//! its disk driver as [`Disk`]: the only place in the library OS where a platform is chosen. Portable crates
//! call `Current`'s trait functions and never look at the target themselves.
#![no_std]
#![forbid(unsafe_code)]

pub use unik_platform_api::*;

/// The platform this image is built for.
#[cfg(unik_platform = "kvm-x86_64")]
pub use unik_platform_kvm_x86_64::KvmX86_64 as Current;

/// The platform this image is built for.
#[cfg(unik_platform = "xen-x86_64")]
pub use unik_platform_xen_x86_64::XenX86_64 as Current;

/// The platform this image is built for.
#[cfg(unik_platform = "kvm-arm64")]
pub use unik_platform_kvm_arm64::KvmArm64 as Current;

/// The platform this image is built for.
#[cfg(unik_platform = "xen-arm64")]
pub use unik_platform_xen_arm64::XenArm64 as Current;

/// The platform this image is built for (the host, in unit tests).
#[cfg(not(unik_platform))]
pub use unik_platform_host::Host as Current;

/// The NIC driver of the platform this image is built for: Xen's netfront on xen-x86_64
/// and xen-arm64; virtio-net elsewhere (it finds no device where the platform reports no
/// virtio-mmio transports).
#[cfg(any(unik_platform = "xen-x86_64", unik_platform = "xen-arm64"))]
pub type Nic = unik_driver_xen_netfront::Netfront<Current>;

/// The NIC driver of the platform this image is built for: Xen's netfront on xen-x86_64
/// and xen-arm64; virtio-net elsewhere (it finds no device where the platform reports no
/// virtio-mmio transports).
#[cfg(not(any(unik_platform = "xen-x86_64", unik_platform = "xen-arm64")))]
pub type Nic = unik_driver_virtio_net::VirtioNet;

/// The disk driver of the platform this image is built for: virtio-blk on kvm-x86_64 and
/// kvm-arm64 (and the host, where it finds no device); Xen's blkfront on xen-x86_64 and
/// xen-arm64.
#[cfg(not(any(unik_platform = "xen-x86_64", unik_platform = "xen-arm64")))]
pub type Disk = unik_driver_virtio_blk::VirtioBlk;

/// The disk driver of the platform this image is built for: virtio-blk on kvm-x86_64 and
/// kvm-arm64 (and the host, where it finds no device); Xen's blkfront on xen-x86_64 and
/// xen-arm64.
#[cfg(any(unik_platform = "xen-x86_64", unik_platform = "xen-arm64"))]
pub type Disk = unik_driver_xen_blkfront::Blkfront<Current>;
