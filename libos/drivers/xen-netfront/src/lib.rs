//! A Xen network front end (netfront), as a [`smoltcp::phy::Device`].
//!
//! The back end is netback in the domain that serves the vif (dom0, usually). The
//! front end finds its vif in xenstore (`device/vif/<n>/`: `backend`, `backend-id`,
//! `mac`), shares a transmit and a receive ring (one page each) and its packet pages
//! through the grant table, allocates an event channel for the back end, writes all of it
//! to xenstore, and switches to `Connected`; then waits for netback to connect too.
//!
//! - Receive: [`RX_BUFFERS`] granted pages stay posted on the receive ring; netback copies
//!   each packet into one (`request-rx-copy`) and answers with its length. A page goes
//!   back on the ring as soon as smoltcp is done with the packet.
//! - Transmit: [`TX_BUFFERS`] pages, granted read-only once; a frame is written into an
//!   idle page and its request published; the page is idle again when netback answers.
//! - No scatter-gather, no segmentation offload, no checksum offload
//!   (`feature-no-csum-offload`): one Ethernet frame per page, checksums computed by the
//!   stack in both directions.
//! - Events: the back end notifies through the event channel, which the platform routes
//!   to the CPU ([`XenBus::listen`]); the rings ask for a notification whenever the
//!   driver finds nothing more to take, so a halted CPU is always woken by new work.
//!
//! Finding the vif, granting pages and the state steps are `unik-xen-frontend`'s, shared
//! with blkfront.
#![no_std]

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, Ordering};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use unik_platform_api::{Clock, Console, NetworkDriver};
use unik_xen::XenBus;
use unik_xen::abi::{
    NETIF_RSP_NULL, NETRXF_EXTRA_INFO, NETRXF_MORE_DATA, NetifRxRequest, NetifRxResponse, NetifTxRequest,
    NetifTxResponse, XENBUS_STATE_CONNECTED, XENBUS_STATE_INIT_WAIT,
};
use unik_xen::grant::GrantRef;
use unik_xen::ring::FrontRing;
use unik_xen_frontend::{Device, PAGE_SIZE, Page, ProbeError};

/// Pages posted for received packets.
pub const RX_BUFFERS: usize = 64;
/// Pages for packets being sent.
pub const TX_BUFFERS: usize = 64;
/// The largest Ethernet frame (without FCS) sent or received: netback's MTU without
/// scatter-gather is 1500.
const MAX_FRAME: usize = 1514;

/// A packet page and the grant that shares it with the back end.
struct Buffer {
    page: Box<Page>,
    grant: GrantRef,
}

/// The rings, pages and event channel, shared by the tokens smoltcp holds together.
struct Queues {
    tx: FrontRing<NetifTxRequest, NetifTxResponse>,
    rx: FrontRing<NetifRxRequest, NetifRxResponse>,
    /// The ring pages, shared with the back end for as long as the driver lives.
    _ring_pages: [Box<Page>; 2],
    port: u32,
    notify: fn(u32),
    /// Receive pages at the back end, by request ID; `None` while lent to smoltcp.
    receiving: [Option<Buffer>; RX_BUFFERS],
    /// Transmit pages, by request ID, and which of them are idle.
    sending: Vec<Buffer>,
    idle: Vec<u16>,
    in_flight: [bool; TX_BUFFERS],
    /// Set while the fragments of a packet that arrived in several pieces are dropped.
    skipping_fragments: bool,
}

impl Queues {
    /// Puts receive page `id` back on the ring; [`Queues::publish_receives`] hands it to
    /// the back end.
    fn post_receive(&mut self, id: u16, buffer: Buffer) {
        let request = NetifRxRequest {
            id,
            _pad: 0,
            gref: buffer.grant,
        };
        self.receiving[usize::from(id)] = Some(buffer);
        // The ring has more slots than there are pages, so it always has room.
        self.rx.push(request);
    }

    /// Publishes the pages posted since the last call, notifying the back end if it asked:
    /// once per look for packets, not once per packet.
    fn publish_receives(&mut self) {
        if self.rx.publish() {
            (self.notify)(self.port);
        }
    }

    /// Takes back the transmit pages the back end is done with.
    fn reclaim_sent(&mut self) {
        while let Some(response) = self.tx.take_response() {
            // A NULL response fills the slot of an extra-info request (never sent here).
            let id = usize::from(response.id);
            if response.status != NETIF_RSP_NULL && id < TX_BUFFERS && self.in_flight[id] {
                self.in_flight[id] = false;
                self.idle.push(response.id);
            }
        }
    }
}

/// A connected Xen network interface on the platform `B`.
pub struct Netfront<B: XenBus> {
    queues: RefCell<Queues>,
    mac: [u8; 6],
    bus: PhantomData<B>,
}

impl<B: XenBus + Clock> Netfront<B> {
    /// Connects the domain's first vif; an image drives one NIC, so a second call finds
    /// none.
    pub fn probe() -> Result<Self, ProbeError> {
        static CLAIMED: AtomicBool = AtomicBool::new(false);
        if CLAIMED.swap(true, Ordering::AcqRel) {
            return Err(ProbeError::Absent);
        }
        Self::connect()
    }

    fn connect() -> Result<Self, ProbeError> {
        let device = Device::<B>::find("vif", 0)?;
        let mac = device
            .front_string("mac")
            .and_then(|text| parse_mac(&text))
            .ok_or(ProbeError::Failed("no usable mac"))?;
        device.await_back_state(XENBUS_STATE_INIT_WAIT)?;

        let mut ring_pages = [Page::new(), Page::new()];
        let tx_ring_ref = device.grant(&ring_pages[0], false)?;
        let rx_ring_ref = device.grant(&ring_pages[1], false)?;
        // SAFETY: two fresh pages, kept in `Queues` for as long as the rings, shared only
        // with the back end.
        let (tx, rx) = unsafe {
            (
                FrontRing::new(ring_pages[0].0.as_mut_ptr(), PAGE_SIZE),
                FrontRing::new(ring_pages[1].0.as_mut_ptr(), PAGE_SIZE),
            )
        };
        let port = device.event_channel()?;
        let sending = (0..TX_BUFFERS)
            .map(|_| {
                let page = Page::new();
                device.grant(&page, true).map(|grant| Buffer { page, grant })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut queues = Queues {
            tx,
            rx,
            _ring_pages: ring_pages,
            port,
            notify: unik_xen::evtchn_send::<B::Hypercall>,
            receiving: [const { None }; RX_BUFFERS],
            sending,
            idle: (0..TX_BUFFERS as u16).rev().collect(),
            in_flight: [false; TX_BUFFERS],
            skipping_fragments: false,
        };
        for id in 0..RX_BUFFERS as u16 {
            let page = Page::new();
            let grant = device.grant(&page, false)?;
            queues.post_receive(id, Buffer { page, grant });
        }
        queues.publish_receives();
        device.write_front(&[
            ("tx-ring-ref", u64::from(tx_ring_ref)),
            ("rx-ring-ref", u64::from(rx_ring_ref)),
            ("event-channel", u64::from(port)),
            ("request-rx-copy", 1),
            ("feature-rx-notify", 1),
            ("feature-no-csum-offload", 1),
            ("feature-sg", 0),
            ("feature-gso-tcpv4", 0),
            ("state", u64::from(XENBUS_STATE_CONNECTED)),
        ])?;
        device.await_back_state(XENBUS_STATE_CONNECTED)?;
        Ok(Netfront {
            queues: RefCell::new(queues),
            mac,
            bus: PhantomData,
        })
    }
}

impl<B: XenBus> Netfront<B> {
    /// The vif's MAC address (from xenstore: the `.xl` file's, or one `xl` made up).
    pub fn mac_address(&self) -> [u8; 6] {
        self.mac
    }
}

/// Parses `aa:bb:cc:dd:ee:ff`.
fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.trim_end_matches('\0').split(':');
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// A received frame, lent to smoltcp; its page goes back on the ring afterwards.
pub struct RxToken<'a> {
    queues: &'a RefCell<Queues>,
    id: u16,
    buffer: Option<Buffer>,
    frame: core::ops::Range<usize>,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let buffer = self.buffer.as_ref().expect("a token holds its page until dropped");
        f(&buffer.page.0[self.frame.clone()])
    }
}

impl Drop for RxToken<'_> {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            self.queues.borrow_mut().post_receive(self.id, buffer);
        }
    }
}

/// Room for one frame to send.
pub struct TxToken<'a> {
    queues: &'a RefCell<Queues>,
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, length: usize, f: F) -> R {
        let mut queues = self.queues.borrow_mut();
        queues.reclaim_sent();
        let length = length.min(MAX_FRAME);
        let Some(id) = queues.idle.pop() else {
            // Every page is in flight (smoltcp answered a received frame without asking
            // first): the frame is dropped, as a NIC drops what it cannot hold.
            let mut scratch = [0u8; MAX_FRAME];
            return f(&mut scratch[..length]);
        };
        let buffer = &mut queues.sending[usize::from(id)];
        let result = f(&mut buffer.page.0[..length]);
        let request = NetifTxRequest {
            gref: buffer.grant,
            offset: 0,
            flags: 0,
            id,
            size: length as u16,
        };
        queues.in_flight[usize::from(id)] = true;
        // The ring has more slots than there are pages, so it always has room.
        if queues.tx.push(request) && queues.tx.publish() {
            (queues.notify)(queues.port);
        }
        result
    }
}

impl<B: XenBus> phy::Device for Netfront<B> {
    type RxToken<'a>
        = RxToken<'a>
    where
        B: 'a;
    type TxToken<'a>
        = TxToken<'a>
    where
        B: 'a;

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        let mut queues = self.queues.borrow_mut();
        // Pages smoltcp gave back since the last look (the stack looks until there is
        // nothing, so every page given back is published before the CPU halts).
        queues.publish_receives();
        loop {
            let Some(response) = queues.rx.take_response() else {
                queues.publish_receives();
                return None;
            };
            let id = response.id;
            let Some(buffer) = queues.receiving.get_mut(usize::from(id)).and_then(Option::take) else {
                continue; // not a page of ours at the back end: ignore the response
            };
            let fragmented = response.flags & (NETRXF_MORE_DATA | NETRXF_EXTRA_INFO) != 0;
            let skipping = core::mem::replace(&mut queues.skipping_fragments, fragmented);
            let start = usize::from(response.offset);
            let length = usize::try_from(response.status).unwrap_or(0);
            // Errors, empty packets, packets in pieces (never negotiated) and answers
            // pointing outside the page: the page goes straight back.
            if skipping || fragmented || length == 0 || start + length > PAGE_SIZE {
                queues.post_receive(id, buffer);
                continue;
            }
            drop(queues);
            return Some((
                RxToken {
                    queues: &self.queues,
                    id,
                    buffer: Some(buffer),
                    frame: start..start + length.min(MAX_FRAME),
                },
                TxToken { queues: &self.queues },
            ));
        }
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        let mut queues = self.queues.borrow_mut();
        queues.reclaim_sent();
        (!queues.idle.is_empty()).then_some(TxToken { queues: &self.queues })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut capabilities = DeviceCapabilities::default();
        capabilities.medium = Medium::Ethernet;
        capabilities.max_transmission_unit = MAX_FRAME;
        capabilities.max_burst_size = Some(TX_BUFFERS / 2);
        capabilities
    }
}

/// The net component's view: the domain's first vif (its events are routed when it
/// connects and need no acknowledging).
impl<B: XenBus + Clock + Console> NetworkDriver<B> for Netfront<B> {
    fn open() -> Option<(Self, [u8; 6])> {
        let nic = ProbeError::device_or_report::<B, _>(Netfront::<B>::probe(), "the Xen vif")?;
        let mac = nic.mac_address();
        Some((nic, mac))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_parse_as_xl_writes_them() {
        assert_eq!(
            parse_mac("00:16:3e:0a:Bc:ff"),
            Some([0x00, 0x16, 0x3e, 0x0a, 0xbc, 0xff])
        );
        assert_eq!(
            parse_mac("00:16:3e:0a:bc:ff\0"),
            Some([0x00, 0x16, 0x3e, 0x0a, 0xbc, 0xff])
        );
        assert_eq!(parse_mac("00:16:3e:0a:bc"), None);
        assert_eq!(parse_mac("00:16:3e:0a:bc:ff:01"), None);
        assert_eq!(parse_mac("0:16:3e:0a:bc:ff"), None);
    }
}
