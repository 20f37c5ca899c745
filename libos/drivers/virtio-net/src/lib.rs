//! A virtio-net NIC on a virtio-mmio transport, as a [`smoltcp::phy::Device`].
//!
//! The [`virtio-drivers`](https://crates.io/crates/virtio-drivers) crate does the virtio
//! part (feature negotiation, virtqueues, legacy and modern transports); this crate owns
//! the packet buffers, which never move and are never allocated per packet:
//! [`QUEUE_SIZE`] receive buffers stay queued at the device, and up to [`QUEUE_SIZE`]
//! transmit buffers are in flight. Transmission does not wait for the device: a sent
//! buffer is reclaimed when the device reports it used.
//!
//! DMA and the transports come from `unik-driver-virtio`.
#![no_std]

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::sync::atomic::{AtomicBool, Ordering};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use unik_driver_virtio::IdentityHal;
use unik_platform_api::{Devices, MmioDevice, NetworkDriver};
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::DeviceType;
use virtio_drivers::transport::mmio::MmioTransport;

/// Descriptors per virtqueue, and so buffers per direction.
pub const QUEUE_SIZE: usize = 64;
/// Bytes per buffer: the virtio-net header, an Ethernet header and a 1500-byte payload fit.
const BUFFER_SIZE: usize = 2048;
/// The largest Ethernet frame (without FCS) sent or received.
const MAX_FRAME: usize = 1514;

type Raw = VirtIONetRaw<IdentityHal, MmioTransport<'static>, QUEUE_SIZE>;
type Buffer = Box<[u8; BUFFER_SIZE]>;

fn new_buffer() -> Buffer {
    Box::new([0; BUFFER_SIZE])
}

/// The driver's state, shared by the receive and transmit tokens smoltcp holds together.
struct Queues {
    raw: Raw,
    /// Receive buffers at the device, by the token `receive_begin` gave for them.
    receiving: [Option<Buffer>; QUEUE_SIZE],
    /// Transmit buffers at the device, by token.
    sending: [Option<(Buffer, usize)>; QUEUE_SIZE],
    /// Transmit buffers not in use.
    idle: Vec<Buffer>,
}

impl Queues {
    /// Hands `buffer` to the device for a packet to arrive in.
    fn queue_receive(&mut self, mut buffer: Buffer) {
        // SAFETY: the buffer is kept in `receiving` and not touched until the device
        // returns its token.
        if let Ok(token) = unsafe { self.raw.receive_begin(&mut buffer[..]) }
            && let Some(slot) = self.receiving.get_mut(usize::from(token))
        {
            *slot = Some(buffer);
        }
    }

    /// Takes back the transmit buffers the device is done with.
    fn reclaim_sent(&mut self) {
        while let Some(token) = self.raw.poll_transmit() {
            let Some((buffer, length)) = self.sending.get_mut(usize::from(token)).and_then(Option::take) else {
                break;
            };
            // SAFETY: the same buffer (and length) `transmit_begin` was given with `token`.
            let _ = unsafe { self.raw.transmit_complete(token, &buffer[..length]) };
            self.idle.push(buffer);
        }
    }
}

/// A virtio-net NIC.
pub struct VirtioNet {
    queues: RefCell<Queues>,
    mac: [u8; 6],
}

impl VirtioNet {
    /// The first network device among `transports` (as `Devices::virtio_mmio` gives them:
    /// mapped), initialised with its receive queue filled, and the interrupt it raises;
    /// `None` if there is none, it fails to start, or a NIC was already claimed (an image
    /// drives one NIC, and a device must never have two drivers).
    pub fn probe(transports: impl Iterator<Item = MmioDevice>) -> Option<(VirtioNet, u32)> {
        static CLAIMED: AtomicBool = AtomicBool::new(false);
        if CLAIMED.load(Ordering::Acquire) {
            return None;
        }
        let found = Self::probe_unclaimed(transports);
        CLAIMED.store(found.is_some(), Ordering::Release);
        found
    }

    fn probe_unclaimed(transports: impl Iterator<Item = MmioDevice>) -> Option<(VirtioNet, u32)> {
        // SAFETY: `CLAIMED` (in `probe`) keeps a second driver off the device.
        for (transport, interrupt) in unsafe { unik_driver_virtio::transports(transports, DeviceType::Network) } {
            let Ok(raw) = Raw::new(transport) else {
                continue;
            };
            let mac = raw.mac_address();
            let mut queues = Queues {
                raw,
                receiving: [const { None }; QUEUE_SIZE],
                sending: [const { None }; QUEUE_SIZE],
                idle: (0..QUEUE_SIZE).map(|_| new_buffer()).collect(),
            };
            for _ in 0..QUEUE_SIZE {
                queues.queue_receive(new_buffer());
            }
            queues.raw.enable_interrupts();
            return Some((
                VirtioNet {
                    queues: RefCell::new(queues),
                    mac,
                },
                interrupt,
            ));
        }
        None
    }

    /// The NIC's MAC address.
    pub fn mac_address(&self) -> [u8; 6] {
        self.mac
    }

    /// Acknowledges the device's interrupt, so it can raise the next one. Call before
    /// looking for work, so that work arriving after the look raises a new interrupt.
    pub fn acknowledge_interrupt(&self) {
        self.queues.borrow_mut().raw.ack_interrupt();
    }
}

/// A received frame, lent to smoltcp; its buffer goes back to the device afterwards.
pub struct RxToken<'a> {
    queues: &'a RefCell<Queues>,
    buffer: Option<Buffer>,
    frame: core::ops::Range<usize>,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let buffer = self.buffer.as_ref().expect("a token holds its buffer until dropped");
        f(&buffer[self.frame.clone()])
    }
}

impl Drop for RxToken<'_> {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            self.queues.borrow_mut().queue_receive(buffer);
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
        let mut buffer = queues.idle.pop().unwrap_or_else(new_buffer);
        let header = queues.raw.fill_buffer_header(&mut buffer[..]).unwrap_or(0);
        let length = length.min(BUFFER_SIZE - header);
        let result = f(&mut buffer[header..header + length]);
        let total = header + length;
        // SAFETY: the buffer is kept in `sending` until the device returns its token.
        match unsafe { queues.raw.transmit_begin(&buffer[..total]) } {
            Ok(token) => match queues.sending.get_mut(usize::from(token)) {
                Some(slot) => *slot = Some((buffer, total)),
                None => core::mem::forget(buffer), // the device holds it; never reused
            },
            // The queue is full (smoltcp asked without a free slot): the frame is dropped,
            // as a NIC drops what it cannot hold; TCP retransmits.
            Err(_) => queues.idle.push(buffer),
        }
        result
    }
}

impl phy::Device for VirtioNet {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        let mut queues = self.queues.borrow_mut();
        let token = queues.raw.poll_receive()?;
        let mut buffer = queues.receiving.get_mut(usize::from(token))?.take()?;
        // SAFETY: the same buffer `receive_begin` was given with `token`.
        let frame = match unsafe { queues.raw.receive_complete(token, &mut buffer[..]) } {
            Ok((header, length)) => header..header + length.min(MAX_FRAME),
            Err(_) => 0..0,
        };
        drop(queues);
        Some((
            RxToken {
                queues: &self.queues,
                buffer: Some(buffer),
                frame,
            },
            TxToken { queues: &self.queues },
        ))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        let mut queues = self.queues.borrow_mut();
        queues.reclaim_sent();
        (!queues.idle.is_empty() && queues.raw.can_send()).then_some(TxToken { queues: &self.queues })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut capabilities = DeviceCapabilities::default();
        capabilities.medium = Medium::Ethernet;
        capabilities.max_transmission_unit = MAX_FRAME;
        capabilities.max_burst_size = Some(QUEUE_SIZE / 2);
        capabilities
    }
}

/// The net component's view: the first virtio-net device among the platform's
/// virtio-mmio transports, its interrupt routed by the platform.
impl<P: Devices> NetworkDriver<P> for VirtioNet {
    fn open() -> Option<(Self, [u8; 6])> {
        let (nic, interrupt) = VirtioNet::probe(P::virtio_mmio())?;
        P::enable_interrupt(interrupt);
        let mac = nic.mac_address();
        Some((nic, mac))
    }

    fn acknowledge_interrupt(&mut self) {
        VirtioNet::acknowledge_interrupt(self)
    }
}
