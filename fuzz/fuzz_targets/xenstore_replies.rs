//! The xenstore client against a hostile daemon: requests go out over the store page's
//! rings as in a guest, and whatever the input says comes back — any bytes, in any
//! slices, with the daemon's ring indices set to any value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use unik_xen::Hypercall;
use unik_xen::abi::{HYPERVISOR_SCHED_OP, XENSTORE_RING_SIZE, XenstoreDomainInterface};
use unik_xen::xenstore::{Store, StoreError};

/// The daemon's side: the store page, and the rest of the input to answer with.
struct Daemon {
    page: Box<XenstoreDomainInterface>,
    script: Vec<u8>,
}

thread_local! {
    static DAEMON: RefCell<Option<Daemon>> = const { RefCell::new(None) };
}

impl Daemon {
    /// One turn (each time the client yields): take the requests, then act out the next
    /// step of the script — a slice of response bytes, or a raw index value.
    fn turn(&mut self) {
        let page = &mut self.page;
        page.req_cons = page.req_prod;
        let Some((&step, rest)) = self.script.split_first() else {
            return;
        };
        self.script = rest.to_vec();
        match step % 8 {
            // A lying producer index: bytes the daemon never wrote.
            0 => {
                if let Some(value) = self.script.first_chunk::<4>() {
                    page.rsp_prod = u32::from_le_bytes(*value);
                    self.script.drain(..4);
                }
            }
            // A lying consumer index on the request ring.
            1 => {
                if let Some(value) = self.script.first_chunk::<4>() {
                    page.req_cons = u32::from_le_bytes(*value);
                    self.script.drain(..4);
                }
            }
            // Up to 64 response bytes, as far as the ring has room.
            _ => {
                let count = usize::from(step / 8).min(self.script.len());
                for byte in self.script.drain(..count).collect::<Vec<_>>() {
                    if page.rsp_prod.wrapping_sub(page.rsp_cons) as usize >= XENSTORE_RING_SIZE {
                        break;
                    }
                    page.rsp[page.rsp_prod as usize % XENSTORE_RING_SIZE] = byte;
                    page.rsp_prod = page.rsp_prod.wrapping_add(1);
                }
            }
        }
    }
}

/// Hypercalls: a yield is the daemon's turn; event sends do nothing.
struct FuzzedXen;

impl Hypercall for FuzzedXen {
    unsafe fn call(op: u32, _args: [u64; 5]) -> i64 {
        if op == HYPERVISOR_SCHED_OP {
            DAEMON.with_borrow_mut(|daemon| daemon.as_mut().map(Daemon::turn));
        }
        0
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&requests, script)) = input.split_first() else {
        return;
    };
    // SAFETY: all-zero bytes are a valid store page (empty rings).
    let mut page: Box<XenstoreDomainInterface> = Box::new(unsafe { std::mem::zeroed() });
    let interface: *mut XenstoreDomainInterface = &mut *page;
    DAEMON.set(Some(Daemon {
        page,
        script: script.to_vec(),
    }));
    // SAFETY: the page lives in DAEMON until the end of this run; only this thread uses it.
    let store = unsafe { Store::new(interface, 1) }.waiting_at_most(16);
    let mut out = [0u8; 96];
    for request in 0..requests % 4 + 1 {
        let answer = match request % 3 {
            0 => store.read::<FuzzedXen>("device/vif/0/backend", &mut out),
            1 => store.directory::<FuzzedXen>("device/vif", &mut out),
            _ => store.write::<FuzzedXen>("device/vif/0/state", b"4").map(|()| 0),
        };
        match answer {
            Ok(len) => assert!(len <= out.len()),
            Err(StoreError::NoAnswer) => break,
            Err(_) => {}
        }
    }
    DAEMON.set(None);
});
