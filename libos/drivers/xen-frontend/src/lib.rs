//! The xenbus handshake of Xen's split-driver front ends (netfront, blkfront).
//!
//! The toolstack writes a device's front-end directory (`device/<kind>/<id>/` under this
//! domain) with `backend` (the back end's directory, in the driver domain) and
//! `backend-id`; each side then publishes what the other needs in its own directory and
//! steps through the `state` node (`io/xenbus.h`). A [`Device`] is one such device found
//! in xenstore: its nodes read and written, the back end's state waited for.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::marker::PhantomData;
use unik_platform_api::{Clock, Console};
use unik_xen::XenBus;
use unik_xen::abi::XENBUS_STATE_CLOSING;
use unik_xen::grant::GrantRef;
use unik_xen::xenstore::{Store, StoreError};

/// How long the back end may take to reach each state of the handshake.
const HANDSHAKE_TIMEOUT_NS: u64 = 10_000_000_000;
/// How often the handshake looks at the back end's state.
const HANDSHAKE_POLL_NS: u64 = 1_000_000;
/// Room for a node's value (paths, numbers, MAC addresses).
const VALUE_BYTES: usize = 256;

/// Bytes in a page shared with a back end.
pub const PAGE_SIZE: usize = 4096;

/// A page to share with a back end (a ring, a buffer): page-aligned, on the heap.
#[repr(C, align(4096))]
pub struct Page(pub [u8; PAGE_SIZE]);

impl Page {
    /// A zeroed page.
    pub fn new() -> Box<Page> {
        Box::new(Page([0; PAGE_SIZE]))
    }

    /// The page's guest frame number (the library OS identity-maps RAM, so it is the
    /// page's address shifted by 12).
    pub fn frame(&self) -> u64 {
        self as *const Page as u64 >> 12
    }
}

/// Why a device could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeError {
    /// The domain has no such device (or no xenstore): not an error, there is just none.
    Absent,
    /// The device exists but could not be connected; what went wrong.
    Failed(&'static str),
}

impl ProbeError {
    /// The device, if there is one and it connected; a failure is reported on the
    /// console of `B` as `unik: <what> cannot be used: <reason>`.
    pub fn device_or_report<B: Console, T>(result: Result<T, ProbeError>, what: &str) -> Option<T> {
        match result {
            Ok(device) => Some(device),
            Err(ProbeError::Absent) => None,
            Err(ProbeError::Failed(reason)) => {
                for part in [
                    b"unik: ".as_slice(),
                    what.as_bytes(),
                    b" cannot be used: ",
                    reason.as_bytes(),
                    b"\n",
                ] {
                    B::write(part);
                }
                None
            }
        }
    }
}

/// A split-driver device of this domain, as xenstore describes it.
pub struct Device<B: XenBus> {
    store: Store,
    id: u32,
    front: String,
    back: String,
    backend_id: u16,
    bus: PhantomData<B>,
}

impl<B: XenBus + Clock> Device<B> {
    /// Device `index` of `kind` (`vif`, `vbd`), counted in the order of the devices'
    /// numeric IDs (for disks, the order of their virtual device numbers: xvda first).
    pub fn find(kind: &str, index: usize) -> Result<Self, ProbeError> {
        let store = B::store().ok_or(ProbeError::Absent)?;
        let directory = ["device/", kind].concat();
        let mut names = [0u8; VALUE_BYTES * 4];
        let length = match store.directory::<B::Hypercall>(&directory, &mut names) {
            Ok(length) => length,
            Err(StoreError::NotFound) => return Err(ProbeError::Absent),
            Err(_) => return Err(ProbeError::Failed("cannot list the devices in xenstore")),
        };
        let mut devices: Vec<(u32, &str)> = names[..length]
            .split(|&b| b == 0)
            .filter_map(|name| {
                let name = core::str::from_utf8(name).ok()?;
                Some((name.parse().ok()?, name))
            })
            .collect();
        devices.sort_unstable();
        let (id, name) = *devices.get(index).ok_or(ProbeError::Absent)?;
        let front = [directory.as_str(), "/", name].concat();
        let mut device = Device {
            store,
            id,
            front,
            back: String::new(),
            backend_id: 0,
            bus: PhantomData,
        };
        let backend_id = device
            .front_number("backend-id")
            .ok_or(ProbeError::Failed("no backend-id"))?;
        device.backend_id = u16::try_from(backend_id).map_err(|_| ProbeError::Failed("bad backend-id"))?;
        device.back = device
            .read(&device.front_path("backend"))
            .ok_or(ProbeError::Failed("no backend path"))?;
        Ok(device)
    }

    /// The device's ID (its directory's name: for a disk, its virtual device number).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The domain that serves the device.
    pub fn backend_id(&self) -> u16 {
        self.backend_id
    }

    fn front_path(&self, key: &str) -> String {
        [self.front.as_str(), "/", key].concat()
    }

    fn back_path(&self, key: &str) -> String {
        [self.back.as_str(), "/", key].concat()
    }

    fn read(&self, path: &str) -> Option<String> {
        let mut value = [0u8; VALUE_BYTES];
        let length = self.store.read::<B::Hypercall>(path, &mut value).ok()?;
        let text = core::str::from_utf8(&value[..length]).ok()?;
        Some(String::from(text.trim_end_matches('\0')))
    }

    /// Front-end node `key` (written by the toolstack or by this driver).
    pub fn front_string(&self, key: &str) -> Option<String> {
        self.read(&self.front_path(key))
    }

    /// Front-end node `key`, as a decimal number.
    pub fn front_number(&self, key: &str) -> Option<u64> {
        self.front_string(key)?.parse().ok()
    }

    /// Back-end node `key` (what the back end publishes: features, the disk's size).
    pub fn back_string(&self, key: &str) -> Option<String> {
        self.read(&self.back_path(key))
    }

    /// Back-end node `key`, as a decimal number.
    pub fn back_number(&self, key: &str) -> Option<u64> {
        self.back_string(key)?.parse().ok()
    }

    /// Whether the back end offers feature `key` (a node that reads `1`).
    pub fn back_feature(&self, key: &str) -> bool {
        self.back_number(key) == Some(1)
    }

    /// Writes each `(key, value)` of `nodes` to the front end's directory, in order (the
    /// `state` last, so the back end sees the rest first).
    pub fn write_front(&self, nodes: &[(&str, u64)]) -> Result<(), ProbeError> {
        for (key, value) in nodes {
            let mut result = Ok(());
            unik_platform_api::hex::write_decimal(*value, |digits| {
                result = self.store.write::<B::Hypercall>(&self.front_path(key), digits);
            });
            result.map_err(|_| ProbeError::Failed("cannot write the device's xenstore nodes"))?;
        }
        Ok(())
    }

    /// Grants the back end access to `page` (read-only if `readonly`), for as long as the
    /// driver lives.
    pub fn grant(&self, page: &Page, readonly: bool) -> Result<GrantRef, ProbeError> {
        B::grant_table()
            .ok_or(ProbeError::Failed("no grant table"))?
            .grant(self.backend_id, page.frame(), readonly)
            .ok_or(ProbeError::Failed("grant table full"))
    }

    /// A new event channel for the back end to bind, its events routed to this CPU so
    /// that they end a [`Clock::wait_until`].
    pub fn event_channel(&self) -> Result<u32, ProbeError> {
        let port = unik_xen::alloc_unbound::<B::Hypercall>(self.backend_id)
            .map_err(|_| ProbeError::Failed("cannot allocate an event channel"))?;
        if !B::listen(port) {
            return Err(ProbeError::Failed("cannot route the event channel"));
        }
        Ok(port)
    }

    /// Writes string node `key` to the front end's directory.
    pub fn write_front_string(&self, key: &str, value: &str) -> Result<(), ProbeError> {
        self.store
            .write::<B::Hypercall>(&self.front_path(key), value.as_bytes())
            .map_err(|_| ProbeError::Failed("cannot write the device's xenstore nodes"))
    }

    /// Waits until the back end's state reaches `wanted` (`XENBUS_STATE_*`); an error if
    /// it closes instead or takes longer than 10 s.
    pub fn await_back_state(&self, wanted: u32) -> Result<(), ProbeError> {
        let path = self.back_path("state");
        let deadline = B::now_nanos() + HANDSHAKE_TIMEOUT_NS;
        loop {
            let state = self.read(&path).and_then(|text| text.parse().ok()).unwrap_or(0u32);
            if state >= XENBUS_STATE_CLOSING {
                return Err(ProbeError::Failed("the back end is closing the device"));
            }
            if state >= wanted {
                return Ok(());
            }
            let now = B::now_nanos();
            if now >= deadline {
                return Err(ProbeError::Failed(
                    "the back end did not reach the next state within 10 s",
                ));
            }
            B::wait_until(now + HANDSHAKE_POLL_NS);
        }
    }
}
