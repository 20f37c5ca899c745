//! Shared request/response rings (`io/ring.h`), from the front end's side.
//!
//! One page shared with the back end: four indices (`req_prod`, `req_event`, `rsp_prod`,
//! `rsp_event`), padding to [`SRING_HEADER`] bytes, then a power-of-two number of slots,
//! each holding a request until the back end overwrites it with the response. Indices
//! grow without bound and wrap at `u32::MAX`; a slot is `index % size`.
//!
//! Notifications are held off as the header describes: the front end notifies after
//! publishing requests only if the back end asked (`req_event`) for the range just
//! published, and before it stops reading responses it asks (`rsp_event`) to be notified
//! of the next one, then looks once more, so a response published in between is never
//! left unseen.

use crate::abi::SRING_HEADER;
use core::marker::PhantomData;
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicU32, Ordering, fence};

/// The indices at the start of the shared page.
#[repr(C)]
struct Indices {
    req_prod: u32,
    req_event: u32,
    rsp_prod: u32,
    rsp_event: u32,
}

/// The front end of a shared ring of `Req` requests and `Rsp` responses.
pub struct FrontRing<Req: Copy, Rsp: Copy> {
    page: *mut u8,
    size: u32,
    /// Requests written to slots but maybe not yet published.
    req_prod_pvt: u32,
    /// Responses consumed.
    rsp_cons: u32,
    slots: PhantomData<(Req, Rsp)>,
}

// SAFETY: the ring owns its page (see `FrontRing::new`); moving it to another CPU moves
// that ownership.
unsafe impl<Req: Copy, Rsp: Copy> Send for FrontRing<Req, Rsp> {}

impl<Req: Copy, Rsp: Copy> FrontRing<Req, Rsp> {
    const SLOT: usize = if size_of::<Req>() > size_of::<Rsp>() {
        size_of::<Req>()
    } else {
        size_of::<Rsp>()
    };

    /// Initialises the ring on `page` (`SHARED_RING_INIT` and `FRONT_RING_INIT`): no
    /// requests, no responses, both event indices at 1.
    ///
    /// # Safety
    /// `page` points to `page_size` bytes (more than [`SRING_HEADER`]), aligned for
    /// `Req`, `Rsp` and `u32`, shared with at most the back end and used by nothing else
    /// while the ring lives.
    pub unsafe fn new(page: *mut u8, page_size: usize) -> Self {
        let slots = (page_size - SRING_HEADER) / Self::SLOT;
        let size = 1u32 << (usize::BITS - 1 - slots.leading_zeros()).min(31);
        // SAFETY: the caller's contract: the page is ours to initialise.
        unsafe { core::ptr::write_bytes(page, 0, SRING_HEADER) };
        let ring = FrontRing {
            page,
            size,
            req_prod_pvt: 0,
            rsp_cons: 0,
            slots: PhantomData,
        };
        ring.index(offset_of!(Indices, req_event)).store(1, Ordering::Relaxed);
        ring.index(offset_of!(Indices, rsp_event)).store(1, Ordering::Relaxed);
        ring
    }

    /// Slots in the ring.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// One of the shared indices, accessed atomically as the back end changes them.
    fn index(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: the header is inside the page, `u32`-aligned, and lives as long as
        // `self`; Xen rings are only ever accessed with aligned 32-bit accesses.
        unsafe { AtomicU32::from_ptr(self.page.add(offset).cast()) }
    }

    fn slot(&self, index: u32) -> *mut u8 {
        let slot = (index & (self.size - 1)) as usize;
        // SAFETY: `slot < size`, and `size` slots fit in the page after the header.
        unsafe { self.page.add(SRING_HEADER + slot * Self::SLOT) }
    }

    /// Requests written whose responses have not been consumed.
    pub fn in_flight(&self) -> u32 {
        self.req_prod_pvt.wrapping_sub(self.rsp_cons)
    }

    /// Whether every slot holds a request or an unconsumed response.
    pub fn is_full(&self) -> bool {
        self.in_flight() >= self.size
    }

    /// Writes `request` to the next free slot, unpublished until [`FrontRing::publish`];
    /// `false` (and nothing written) when the ring is full.
    pub fn push(&mut self, request: Req) -> bool {
        if self.is_full() {
            return false;
        }
        // SAFETY: the slot is inside the page and aligned for `Req` (slots are multiples
        // of its size, after a 64-byte header); the back end does not touch a slot
        // until its request is published.
        unsafe { self.slot(self.req_prod_pvt).cast::<Req>().write_volatile(request) };
        self.req_prod_pvt = self.req_prod_pvt.wrapping_add(1);
        true
    }

    /// Publishes the pushed requests; `true` if the back end asked to be notified of
    /// them (`RING_PUSH_REQUESTS_AND_CHECK_NOTIFY`).
    pub fn publish(&mut self) -> bool {
        let req_prod = self.index(offset_of!(Indices, req_prod));
        let old = req_prod.load(Ordering::Relaxed);
        let new = self.req_prod_pvt;
        // The requests before the index that publishes them.
        fence(Ordering::SeqCst);
        req_prod.store(new, Ordering::Relaxed);
        // The index before reading what the back end asked for.
        fence(Ordering::SeqCst);
        let event = self.index(offset_of!(Indices, req_event)).load(Ordering::Relaxed);
        new.wrapping_sub(event) < new.wrapping_sub(old)
    }

    /// The next response, if the back end has published one. When there is none, asks
    /// to be notified of the next and looks once more (`RING_FINAL_CHECK_FOR_RESPONSES`).
    pub fn take_response(&mut self) -> Option<Rsp> {
        if !self.has_response() {
            self.index(offset_of!(Indices, rsp_event))
                .store(self.rsp_cons.wrapping_add(1), Ordering::Relaxed);
            // The request for a notification before the last look.
            fence(Ordering::SeqCst);
            if !self.has_response() {
                return None;
            }
        }
        // The index before the response it covers.
        fence(Ordering::SeqCst);
        // SAFETY: as in `push`; the back end published this slot's response and does not
        // touch the slot again until a new request is published in it.
        let response = unsafe { self.slot(self.rsp_cons).cast::<Rsp>().read_volatile() };
        self.rsp_cons = self.rsp_cons.wrapping_add(1);
        Some(response)
    }

    fn has_response(&self) -> bool {
        self.index(offset_of!(Indices, rsp_prod)).load(Ordering::Relaxed) != self.rsp_cons
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::abi::{NetifRxRequest, NetifRxResponse, NetifTxRequest, NetifTxResponse};
    use std::boxed::Box;

    #[repr(C, align(4096))]
    struct Page([u8; 4096]);

    /// The back end's view of a ring: reads requests and writes responses in place.
    struct Back<'a> {
        page: &'a mut Page,
        req_cons: u32,
        rsp_prod: u32,
        size: u32,
        slot: usize,
    }

    impl Back<'_> {
        fn word(&self, index: usize) -> u32 {
            u32::from_ne_bytes(self.page.0[index * 4..index * 4 + 4].try_into().unwrap())
        }

        fn set_word(&mut self, index: usize, value: u32) {
            self.page.0[index * 4..index * 4 + 4].copy_from_slice(&value.to_ne_bytes());
        }

        fn next_request<T: Copy>(&mut self) -> Option<T> {
            if self.word(0) == self.req_cons {
                return None;
            }
            let at = SRING_HEADER + (self.req_cons & (self.size - 1)) as usize * self.slot;
            self.req_cons = self.req_cons.wrapping_add(1);
            // SAFETY: a whole slot of the page, written by the front end as a `T`.
            Some(unsafe { self.page.0.as_ptr().add(at).cast::<T>().read_unaligned() })
        }

        /// Writes a response and publishes it; whether the front end asked to be notified.
        fn respond<T: Copy>(&mut self, response: T) -> bool {
            let at = SRING_HEADER + (self.rsp_prod & (self.size - 1)) as usize * self.slot;
            // SAFETY: as above.
            unsafe { self.page.0.as_mut_ptr().add(at).cast::<T>().write_unaligned(response) };
            let old = self.rsp_prod;
            self.rsp_prod = self.rsp_prod.wrapping_add(1);
            self.set_word(2, self.rsp_prod);
            let event = self.word(3);
            self.rsp_prod.wrapping_sub(event) < self.rsp_prod.wrapping_sub(old)
        }
    }

    fn ring<Req: Copy, Rsp: Copy>(page: &mut Page) -> FrontRing<Req, Rsp> {
        page.0.fill(0xAA);
        // SAFETY: a page-aligned, exclusively borrowed page.
        unsafe { FrontRing::new(page.0.as_mut_ptr(), 4096) }
    }

    #[test]
    fn netif_rings_have_the_sizes_linux_netback_expects() {
        let mut page = Box::new(Page([0; 4096]));
        assert_eq!(ring::<NetifTxRequest, NetifTxResponse>(&mut page).size(), 256);
        assert_eq!(ring::<NetifRxRequest, NetifRxResponse>(&mut page).size(), 256);
        assert_eq!(&page.0[..16], [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn requests_and_responses_cross_the_ring_with_held_off_notifications() {
        let mut page = Box::new(Page([0; 4096]));
        let mut front = ring::<NetifTxRequest, NetifTxResponse>(&mut page);
        let front_page = front.page;
        // SAFETY: the test plays both ends on one thread, as two views of one page.
        let mut back = Back {
            page: unsafe { &mut *front_page.cast::<Page>() },
            req_cons: 0,
            rsp_prod: 0,
            size: 256,
            slot: 12,
        };
        let request = |id| NetifTxRequest {
            gref: 100 + u32::from(id),
            offset: 0,
            flags: 0,
            id,
            size: 60,
        };
        assert!(front.push(request(0)) && front.push(request(1)));
        assert!(
            front.publish(),
            "the back end's initial req_event asks for the first request"
        );
        assert_eq!(back.next_request::<NetifTxRequest>(), Some(request(0)));
        assert_eq!(back.next_request::<NetifTxRequest>(), Some(request(1)));
        assert_eq!(back.next_request::<NetifTxRequest>(), None);
        // The back end has not asked again (req_event still 1): no notification.
        assert!(front.push(request(2)));
        assert!(!front.publish());
        back.set_word(1, 4); // req_event: notify me of request index 3 onwards
        assert!(front.push(request(3)));
        assert!(front.publish());

        // Responses: the front end asked for the first (rsp_event 1).
        assert!(back.respond(NetifTxResponse { id: 0, status: 0 }));
        assert_eq!(front.take_response(), Some(NetifTxResponse { id: 0, status: 0 }));
        assert!(!back.respond(NetifTxResponse { id: 1, status: 0 }), "not asked for");
        assert_eq!(front.take_response(), Some(NetifTxResponse { id: 1, status: 0 }));
        // Finding none re-arms rsp_event, so the next response notifies.
        assert_eq!(front.take_response(), None);
        assert!(back.respond(NetifTxResponse { id: 2, status: -1 }));
        assert_eq!(front.take_response(), Some(NetifTxResponse { id: 2, status: -1 }));
        assert_eq!(front.in_flight(), 1);
    }

    #[test]
    fn a_full_ring_refuses_requests_and_indices_wrap() {
        let mut page = Box::new(Page([0; 4096]));
        let mut front = ring::<NetifRxRequest, NetifRxResponse>(&mut page);
        // Start the indices just below the wrap, as after a long life.
        let start = u32::MAX - 10;
        front.req_prod_pvt = start;
        front.rsp_cons = start;
        for i in 0..4 {
            front.index(i * 4).store(start, Ordering::Relaxed);
        }
        for id in 0..256 {
            assert!(front.push(NetifRxRequest { id, _pad: 0, gref: 0 }));
        }
        assert!(front.is_full());
        assert!(!front.push(NetifRxRequest::default()));
        front.publish();
        assert_eq!(front.index(0).load(Ordering::Relaxed), start.wrapping_add(256));
        // The back end answers the first request in its slot; one slot frees up.
        let response = NetifRxResponse {
            id: 0,
            offset: 0,
            flags: 0,
            status: 60,
        };
        // SAFETY: the slot of index `start`, written as the back end would.
        unsafe { front.slot(start).cast::<NetifRxResponse>().write(response) };
        front.index(8).store(start.wrapping_add(1), Ordering::Relaxed);
        assert_eq!(front.take_response(), Some(response));
        assert!(!front.is_full());
    }
}
