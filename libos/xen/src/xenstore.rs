//! The xenstore client (`io/xs_wire.h`): requests and responses over the store page's two
//! rings, with the daemon notified through the store's event channel.
//!
//! Requests are synchronous: write the request, notify, and wait for the response with the
//! request's ID, yielding the vCPU to the hypervisor between looks (xenstore is used to
//! set devices up, not on any fast path). Watch events that arrive meanwhile are skipped.
//! No allocation: responses land in the caller's buffer.

use crate::Hypercall;
use crate::abi::*;
use core::ptr::{addr_of, addr_of_mut};
use core::sync::atomic::{AtomicU32, Ordering, fence};

/// How often a request waits for the daemon (yielding in between) before giving up.
pub const WAIT_ATTEMPTS: u32 = 2_000_000;

/// Why a xenstore request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The daemon answered `ENOENT`: no such node.
    NotFound,
    /// The daemon answered `EACCES`: this domain may not.
    Denied,
    /// The daemon answered another error (its name, as far as it fits).
    Daemon([u8; 12]),
    /// The request or its response does not fit (4096 bytes, or the caller's buffer).
    TooLong,
    /// The daemon did not answer.
    NoAnswer,
    /// This domain has no store page (a dom0 before its toolstack runs).
    NoStore,
    /// The daemon's ring indices say more than a ring holds: the page is corrupt.
    BadRing,
}

/// A connection to xenstore through the store page.
pub struct Store {
    interface: *mut XenstoreDomainInterface,
    port: u32,
    attempts: u32,
}

// SAFETY: shared memory driven by one CPU; the platform serialises requests.
unsafe impl Send for Store {}
unsafe impl Sync for Store {}

static NEXT_REQUEST_ID: AtomicU32 = AtomicU32::new(1);

impl Store {
    /// The store at `interface` (the page `HVM_PARAM_STORE_PFN` names, mapped), notified
    /// through event channel `port` (`HVM_PARAM_STORE_EVTCHN`).
    ///
    /// # Safety
    /// `interface` must point to the mapped store page, used by nothing else.
    pub const unsafe fn new(interface: *mut XenstoreDomainInterface, port: u32) -> Store {
        Store {
            interface,
            port,
            attempts: WAIT_ATTEMPTS,
        }
    }

    /// The same store, giving up on the daemon after `attempts` looks instead of
    /// [`WAIT_ATTEMPTS`] (for tests and fuzzing, where a silent daemon is expected).
    pub const fn waiting_at_most(self, attempts: u32) -> Store {
        Store { attempts, ..self }
    }

    /// Reads node `path` (relative paths are under `/local/domain/<this domain>/`) into
    /// `out`; the value's length.
    #[inline(never)] // A component boundary: see unik-catalog's analysis.
    pub fn read<H: Hypercall>(&self, path: &str, out: &mut [u8]) -> Result<usize, StoreError> {
        self.request::<H>(XS_READ, &[path.as_bytes(), b"\0"], Some(out))
    }

    /// Writes `value` to node `path`, creating it if need be.
    pub fn write<H: Hypercall>(&self, path: &str, value: &[u8]) -> Result<(), StoreError> {
        self.request::<H>(XS_WRITE, &[path.as_bytes(), b"\0", value], None)
            .map(|_| ())
    }

    /// The names of `path`'s children, each followed by a NUL, into `out`; their length.
    pub fn directory<H: Hypercall>(&self, path: &str, out: &mut [u8]) -> Result<usize, StoreError> {
        self.request::<H>(XS_DIRECTORY, &[path.as_bytes(), b"\0"], Some(out))
    }

    /// Sends a request made of `parts` and waits for its answer, copied into `out` (`None`:
    /// only its success matters).
    fn request<H: Hypercall>(&self, kind: u32, parts: &[&[u8]], out: Option<&mut [u8]>) -> Result<usize, StoreError> {
        let length: usize = parts.iter().map(|part| part.len()).sum();
        if length > XENSTORE_PAYLOAD_MAX {
            return Err(StoreError::TooLong);
        }
        let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
        let header = XsdSockmsg {
            kind,
            req_id: id,
            tx_id: 0,
            len: length as u32,
        };
        self.send::<H>(&header_bytes(&header))?;
        for part in parts {
            self.send::<H>(part)?;
        }
        crate::evtchn_send::<H>(self.port);
        loop {
            let mut raw = [0u8; 16];
            self.receive::<H>(&mut raw)?;
            let word = |i: usize| u32::from_le_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
            let (kind, req_id, len) = (word(0), word(4), word(12) as usize);
            if len > XENSTORE_PAYLOAD_MAX {
                return Err(StoreError::TooLong);
            }
            let mut payload = [0u8; XENSTORE_PAYLOAD_MAX];
            self.receive::<H>(&mut payload[..len])?;
            if kind == XS_WATCH_EVENT || req_id != id {
                continue;
            }
            let payload = &payload[..len];
            if kind == XS_ERROR {
                let name = payload.split(|&b| b == 0).next().unwrap_or_default();
                return Err(match name {
                    b"ENOENT" => StoreError::NotFound,
                    b"EACCES" => StoreError::Denied,
                    other => {
                        let mut kept = [0u8; 12];
                        let n = other.len().min(kept.len());
                        kept[..n].copy_from_slice(&other[..n]);
                        StoreError::Daemon(kept)
                    }
                });
            }
            if let Some(out) = out {
                out.get_mut(..len).ok_or(StoreError::TooLong)?.copy_from_slice(payload);
            }
            return Ok(len);
        }
    }

    /// Waits (yielding, and nudging the daemon) until `ready` holds.
    fn wait<H: Hypercall>(&self, ready: impl Fn() -> bool) -> Result<(), StoreError> {
        for _ in 0..self.attempts {
            if ready() {
                return Ok(());
            }
            crate::evtchn_send::<H>(self.port);
            crate::sched_yield::<H>();
        }
        Err(StoreError::NoAnswer)
    }

    /// Copies `bytes` into the request ring, as room frees up.
    fn send<H: Hypercall>(&self, mut bytes: &[u8]) -> Result<(), StoreError> {
        let ring = self.interface;
        // SAFETY (all accesses below): `new`'s contract; the daemon moves `req_cons`, this
        // side `req_prod`, so indices are read volatile and published after a fence.
        let indices = move || unsafe {
            (
                addr_of!((*ring).req_cons).read_volatile(),
                addr_of!((*ring).req_prod).read_volatile(),
            )
        };
        while !bytes.is_empty() {
            self.wait::<H>(|| {
                let (consumer, producer) = indices();
                (producer.wrapping_sub(consumer) as usize) < XENSTORE_RING_SIZE
            })?;
            let (consumer, mut producer) = indices();
            fence(Ordering::SeqCst);
            let room = XENSTORE_RING_SIZE - producer.wrapping_sub(consumer) as usize;
            let count = room.min(bytes.len());
            for &byte in &bytes[..count] {
                let index = producer as usize % XENSTORE_RING_SIZE;
                unsafe { addr_of_mut!((*ring).req[index]).write_volatile(byte) };
                producer = producer.wrapping_add(1);
            }
            fence(Ordering::SeqCst);
            unsafe { addr_of_mut!((*ring).req_prod).write_volatile(producer) };
            bytes = &bytes[count..];
        }
        Ok(())
    }

    /// Fills `out` from the response ring, as bytes arrive.
    fn receive<H: Hypercall>(&self, out: &mut [u8]) -> Result<(), StoreError> {
        let ring = self.interface;
        // SAFETY (all accesses below): as in `send`, with the roles of the indices swapped.
        let indices = move || unsafe {
            (
                addr_of!((*ring).rsp_cons).read_volatile(),
                addr_of!((*ring).rsp_prod).read_volatile(),
            )
        };
        let mut filled = 0;
        while filled < out.len() {
            self.wait::<H>(|| {
                let (consumer, producer) = indices();
                producer != consumer
            })?;
            let (mut consumer, producer) = indices();
            check_indices(consumer, producer)?;
            fence(Ordering::SeqCst);
            while consumer != producer && filled < out.len() {
                let index = consumer as usize % XENSTORE_RING_SIZE;
                out[filled] = unsafe { addr_of!((*ring).rsp[index]).read_volatile() };
                consumer = consumer.wrapping_add(1);
                filled += 1;
            }
            fence(Ordering::SeqCst);
            unsafe { addr_of_mut!((*ring).rsp_cons).write_volatile(consumer) };
            crate::evtchn_send::<H>(self.port);
        }
        Ok(())
    }
}

/// A ring holds at most [`XENSTORE_RING_SIZE`] bytes between its consumer and producer;
/// indices further apart are corrupt (reading on would take stale bytes forever).
fn check_indices(consumer: u32, producer: u32) -> Result<(), StoreError> {
    match producer.wrapping_sub(consumer) as usize <= XENSTORE_RING_SIZE {
        true => Ok(()),
        false => Err(StoreError::BadRing),
    }
}

fn header_bytes(header: &XsdSockmsg) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    for (i, word) in [header.kind, header.req_id, header.tx_id, header.len]
        .into_iter()
        .enumerate()
    {
        bytes[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::boxed::Box;
    use std::collections::BTreeMap;
    use std::string::String;
    use std::vec::Vec;

    /// The store page, shared with a fake daemon that runs whenever the client yields.
    static mut PAGE: Option<Box<XenstoreDomainInterface>> = None;
    static DAEMON: std::sync::Mutex<Option<Daemon>> = std::sync::Mutex::new(None);
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// A xenstored holding a few nodes; answers one complete request per turn, after a
    /// watch event, byte by byte in small slices to exercise the rings' wrapping.
    struct Daemon {
        nodes: BTreeMap<String, Vec<u8>>,
        pending: Vec<u8>,
        outgoing: Vec<u8>,
    }

    fn page() -> *mut XenstoreDomainInterface {
        // SAFETY: tests run one at a time (SERIAL); the box lives for the test.
        unsafe { &mut **(*addr_of_mut!(PAGE)).as_mut().unwrap() as *mut _ }
    }

    fn daemon_turn() {
        let mut guard = DAEMON.lock().unwrap();
        let daemon = guard.as_mut().unwrap();
        let ring = page();
        unsafe {
            // Take at most 7 request bytes per turn.
            let (mut cons, prod) = ((*ring).req_cons, (*ring).req_prod);
            let mut taken = 0;
            while cons != prod && taken < 7 {
                daemon.pending.push((*ring).req[cons as usize % XENSTORE_RING_SIZE]);
                cons = cons.wrapping_add(1);
                taken += 1;
            }
            (*ring).req_cons = cons;
            if daemon.pending.len() >= 16 {
                let word = |i: usize| u32::from_le_bytes(daemon.pending[i..i + 4].try_into().unwrap());
                let (kind, id, len) = (word(0), word(4), word(12) as usize);
                if daemon.pending.len() >= 16 + len {
                    let payload: Vec<u8> = daemon.pending.drain(..16 + len).skip(16).collect();
                    let mut parts = payload.splitn(2, |&b| b == 0);
                    let path = String::from_utf8(parts.next().unwrap().to_vec()).unwrap();
                    let (answer_kind, answer) = match kind {
                        XS_READ => match daemon.nodes.get(&path) {
                            Some(value) => (XS_READ, value.clone()),
                            None => (XS_ERROR, b"ENOENT\0".to_vec()),
                        },
                        XS_WRITE => {
                            daemon.nodes.insert(path, parts.next().unwrap_or_default().to_vec());
                            (XS_WRITE, b"OK\0".to_vec())
                        }
                        _ => (XS_ERROR, b"EINVAL\0".to_vec()),
                    };
                    // A watch event first, which the client must skip.
                    let event = b"some/path\0token\0";
                    let header = XsdSockmsg {
                        kind: XS_WATCH_EVENT,
                        req_id: 0,
                        tx_id: 0,
                        len: event.len() as u32,
                    };
                    daemon.outgoing.extend(header_bytes(&header));
                    daemon.outgoing.extend(event);
                    let header = XsdSockmsg {
                        kind: answer_kind,
                        req_id: id,
                        tx_id: 0,
                        len: answer.len() as u32,
                    };
                    daemon.outgoing.extend(header_bytes(&header));
                    daemon.outgoing.extend(answer);
                }
            }
            // Give at most 5 response bytes per turn.
            let (cons, mut prod) = ((*ring).rsp_cons, (*ring).rsp_prod);
            let mut given = 0;
            while !daemon.outgoing.is_empty() && (prod.wrapping_sub(cons) as usize) < XENSTORE_RING_SIZE && given < 5 {
                (*ring).rsp[prod as usize % XENSTORE_RING_SIZE] = daemon.outgoing.remove(0);
                prod = prod.wrapping_add(1);
                given += 1;
            }
            (*ring).rsp_prod = prod;
        }
    }

    /// Hypercalls: a yield lets the daemon run; anything else (event sends) does nothing.
    struct FakeXen;
    impl Hypercall for FakeXen {
        unsafe fn call(op: u32, _args: [u64; 5]) -> i64 {
            if op == HYPERVISOR_SCHED_OP {
                daemon_turn();
            }
            0
        }
    }

    fn with_store(test: impl FnOnce(&Store)) {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let mut fresh: Box<XenstoreDomainInterface> = Box::new(unsafe { core::mem::zeroed() });
        // Start near the index wrap-around, as a long-lived connection would be.
        for index in [
            &mut fresh.req_cons,
            &mut fresh.req_prod,
            &mut fresh.rsp_cons,
            &mut fresh.rsp_prod,
        ] {
            *index = u32::MAX - 20;
        }
        unsafe { *addr_of_mut!(PAGE) = Some(fresh) };
        let mut nodes = BTreeMap::new();
        nodes.insert(String::from("name"), b"hello".to_vec());
        nodes.insert(String::from("big"), vec![b'x'; 3000]);
        *DAEMON.lock().unwrap() = Some(Daemon {
            nodes,
            pending: Vec::new(),
            outgoing: Vec::new(),
        });
        test(&unsafe { Store::new(page(), 3) });
    }

    use std::vec;

    #[test]
    fn a_producer_index_past_the_ring_is_an_error_not_an_endless_read() {
        // Found by the `xenstore-replies` fuzz target: the client read stale bytes forever.
        with_store(|store| {
            let ring = page();
            unsafe { (*ring).rsp_prod = (*ring).rsp_cons.wrapping_add(1 << 31) };
            let mut out = [0u8; 64];
            assert_eq!(store.read::<FakeXen>("name", &mut out), Err(StoreError::BadRing));
        });
    }

    #[test]
    fn reads_writes_and_errors_over_wrapping_rings() {
        with_store(|store| {
            let mut out = [0u8; 4096];
            let n = store.read::<FakeXen>("name", &mut out).unwrap();
            assert_eq!(&out[..n], b"hello");
            // Larger than either ring: it streams through.
            let n = store.read::<FakeXen>("big", &mut out).unwrap();
            assert_eq!(&out[..n], &[b'x'; 3000][..]);
            assert_eq!(store.read::<FakeXen>("missing", &mut out), Err(StoreError::NotFound));
            store.write::<FakeXen>("device/vif/0/state", b"1").unwrap();
            let n = store.read::<FakeXen>("device/vif/0/state", &mut out).unwrap();
            assert_eq!(&out[..n], b"1");
            assert_eq!(store.read::<FakeXen>("big", &mut [0u8; 10]), Err(StoreError::TooLong));
            let n = store.read::<FakeXen>("name", &mut out).unwrap();
            assert_eq!(&out[..n], b"hello", "the connection survives a refused answer");
        });
    }
}
