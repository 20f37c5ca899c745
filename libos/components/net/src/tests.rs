//! Unit tests: the stack's ARP and ICMP answers on hand-made frames, and the socket API
//! end to end over smoltcp's loopback device, run by the real executor.

extern crate std;

use super::*;
use crate::stack::Nic;
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, Icmpv4Packet,
    Icmpv4Repr, IpProtocol, Ipv4Cidr, Ipv4Packet, Ipv4Repr,
};
use unik_task::{block_on, spawn};

/// A NIC whose wire is two queues the test reads and writes.
#[derive(Default)]
struct WireNic {
    incoming: VecDeque<Vec<u8>>,
    outgoing: Vec<Vec<u8>>,
}

struct Rx(Vec<u8>);
struct Tx<'a>(&'a mut Vec<Vec<u8>>);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, length: usize, f: F) -> R {
        let mut frame = vec![0; length];
        let result = f(&mut frame);
        self.0.push(frame);
        result
    }
}

impl phy::Device for WireNic {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(Rx, Tx<'_>)> {
        let frame = self.incoming.pop_front()?;
        Some((Rx(frame), Tx(&mut self.outgoing)))
    }

    fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.outgoing))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut capabilities = DeviceCapabilities::default();
        capabilities.medium = Medium::Ethernet;
        capabilities.max_transmission_unit = 1514;
        capabilities
    }
}

impl Nic for WireNic {}

const OURS: [u8; 6] = [2, 0, 0, 0, 0, 1];
const PEER: [u8; 6] = [2, 0, 0, 0, 0, 2];
const OUR_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

fn wired_stack() -> Stack<WireNic> {
    let addressing = Addressing::Static {
        address: Ipv4Cidr::new(OUR_IP, 24),
        gateway: None,
    };
    Stack::new(WireNic::default(), OURS, addressing, 1, Instant::ZERO)
}

fn ethernet_frame(
    destination: [u8; 6],
    ethertype: EthernetProtocol,
    payload_length: usize,
    fill: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    let header = EthernetRepr {
        src_addr: EthernetAddress(PEER),
        dst_addr: EthernetAddress(destination),
        ethertype,
    };
    let mut bytes = vec![0; header.buffer_len() + payload_length];
    let mut frame = EthernetFrame::new_unchecked(&mut bytes);
    header.emit(&mut frame);
    fill(frame.payload_mut());
    bytes
}

fn arp_request() -> Vec<u8> {
    let request = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: EthernetAddress(PEER),
        source_protocol_addr: PEER_IP,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: OUR_IP,
    };
    ethernet_frame([0xff; 6], EthernetProtocol::Arp, request.buffer_len(), |payload| {
        request.emit(&mut ArpPacket::new_unchecked(payload))
    })
}

#[test]
fn answers_arp_requests_for_its_address() {
    let mut stack = wired_stack();
    stack.device_mut().incoming.push_back(arp_request());
    stack.poll(Instant::from_millis(1));

    let sent = core::mem::take(&mut stack.device_mut().outgoing);
    let reply = sent
        .iter()
        .find_map(|bytes| {
            let frame = EthernetFrame::new_checked(bytes.as_slice()).ok()?;
            (frame.ethertype() == EthernetProtocol::Arp).then_some(())?;
            ArpRepr::parse(&ArpPacket::new_checked(frame.payload()).ok()?).ok()
        })
        .expect("an ARP reply");
    assert_eq!(
        reply,
        ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Reply,
            source_hardware_addr: EthernetAddress(OURS),
            source_protocol_addr: OUR_IP,
            target_hardware_addr: EthernetAddress(PEER),
            target_protocol_addr: PEER_IP,
        }
    );
}

#[test]
fn answers_pings() {
    let mut stack = wired_stack();
    let payload = b"unik ping payload";
    let echo = Icmpv4Repr::EchoRequest {
        ident: 0x1234,
        seq_no: 7,
        data: payload,
    };
    let ip = Ipv4Repr {
        src_addr: PEER_IP,
        dst_addr: OUR_IP,
        next_header: IpProtocol::Icmp,
        payload_len: echo.buffer_len(),
        hop_limit: 64,
    };
    let checksums = smoltcp::phy::ChecksumCapabilities::default();
    let request = ethernet_frame(
        OURS,
        EthernetProtocol::Ipv4,
        ip.buffer_len() + echo.buffer_len(),
        |bytes| {
            let mut packet = Ipv4Packet::new_unchecked(bytes);
            ip.emit(&mut packet, &checksums);
            echo.emit(&mut Icmpv4Packet::new_unchecked(packet.payload_mut()), &checksums);
        },
    );
    // The stack learns the peer's MAC from the ARP request, then answers the ping.
    stack.device_mut().incoming.extend([arp_request(), request]);
    stack.poll(Instant::from_millis(1));

    let sent = core::mem::take(&mut stack.device_mut().outgoing);
    let reply = sent.iter().find_map(|bytes| {
        let frame = EthernetFrame::new_checked(bytes.as_slice()).ok()?;
        (frame.ethertype() == EthernetProtocol::Ipv4).then_some(())?;
        assert_eq!(frame.dst_addr(), EthernetAddress(PEER));
        let packet = Ipv4Packet::new_checked(frame.payload()).ok()?;
        assert_eq!((packet.src_addr(), packet.dst_addr()), (OUR_IP, PEER_IP));
        let icmp = Icmpv4Packet::new_checked(packet.payload()).ok()?;
        match Icmpv4Repr::parse(&icmp, &checksums).ok()? {
            Icmpv4Repr::EchoReply { ident, seq_no, data } => Some((ident, seq_no, data.to_vec())),
            _ => None,
        }
    });
    assert_eq!(reply, Some((0x1234, 7, payload.to_vec())));
}

// The socket API runs on the one global stack (over loopback, 10.0.0.1/24): its tests run
// one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn socket_count() -> usize {
    with_stack(|stack| stack.sockets.iter().count()).unwrap()
}

#[test]
fn tcp_echo_over_several_connections_at_once() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let listener = TcpListener::bind(7000).unwrap();
    assert_eq!(TcpListener::bind(7000).unwrap_err(), Error::AddressInUse);
    let before = socket_count();
    block_on(async {
        spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                spawn(async move {
                    let mut buffer = [0; 64];
                    while let Ok(n @ 1..) = stream.read(&mut buffer).await {
                        stream.write_all(&buffer[..n]).await.unwrap();
                    }
                });
            }
        });
        let mut clients = Vec::new();
        for i in 0..8u8 {
            clients.push(TcpStream::connect("10.0.0.1:7000").await.unwrap());
            assert_eq!(
                clients[usize::from(i)].peer_addr().unwrap(),
                "10.0.0.1:7000".parse().unwrap()
            );
        }
        for (i, client) in clients.iter_mut().enumerate() {
            let message = [b'a' + i as u8; 10];
            client.write_all(&message).await.unwrap();
            let mut echoed = [0; 10];
            let mut got = 0;
            while got < echoed.len() {
                got += client.read(&mut echoed[got..]).await.unwrap();
            }
            assert_eq!(echoed, message);
        }
        for client in clients {
            client.shutdown(Shutdown::Write).unwrap();
            let mut rest = [0; 4];
            assert_eq!(client.read(&mut rest).await, Ok(0), "the server closes after our FIN");
        }
        // Let the closes finish.
        unik_task::sleep(core::time::Duration::from_millis(50)).await;
    });
    // Every connection's sockets are gone again: only the listener's spare one remains.
    assert!(
        socket_count() <= before + 1,
        "{} sockets, {before} before",
        socket_count()
    );
}

#[test]
fn refused_and_timed_out_operations_are_errors() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    block_on(async {
        assert_eq!(
            TcpStream::connect("10.0.0.1:1").await.unwrap_err(),
            Error::ConnectionRefused
        );
        let listener = TcpListener::bind(7001).unwrap();
        let client = TcpStream::connect(("10.0.0.1".parse::<Ipv4Addr>().unwrap(), 7001))
            .await
            .unwrap();
        let (_server, _) = listener.accept().await.unwrap();
        client.set_read_timeout(Some(core::time::Duration::from_millis(20)));
        assert_eq!(client.read(&mut [0; 4]).await, Err(Error::TimedOut));
    });
    assert_eq!(TcpListener::bind(0).unwrap_err(), Error::InvalidInput);
    assert_eq!(TcpListener::bind("not an address").unwrap_err(), Error::InvalidInput);
}

#[test]
fn udp_round_trip() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = UdpSocket::bind(7002).unwrap();
    assert_eq!(UdpSocket::bind(7002).unwrap_err(), Error::AddressInUse);
    let client = UdpSocket::bind(0).unwrap();
    block_on(async {
        spawn(async move {
            let mut buffer = [0; 32];
            let (n, peer) = server.recv_from(&mut buffer).await.unwrap();
            server.send_to(&buffer[..n], peer).await.unwrap();
        });
        client.send_to(b"ping", "10.0.0.1:7002").await.unwrap();
        let mut buffer = [0; 2];
        let (n, peer) = client.recv_from(&mut buffer).await.unwrap();
        // The datagram did not fit: the rest is dropped.
        assert_eq!((n, &buffer), (2, b"pi"));
        assert_eq!(peer, "10.0.0.1:7002".parse().unwrap());
    });
}

#[test]
fn a_burst_of_connections_is_all_accepted() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let listener = TcpListener::bind(7003).unwrap();
    static ACCEPTED: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
    block_on(async {
        spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                ACCEPTED.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
                core::mem::forget(stream);
            }
        });
        static CONNECTED: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
        for _ in 0..50 {
            spawn(async {
                let stream = TcpStream::connect("10.0.0.1:7003").await.unwrap();
                CONNECTED.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
                core::mem::forget(stream);
            });
        }
        while CONNECTED.load(core::sync::atomic::Ordering::SeqCst) < 50 {
            unik_task::sleep(core::time::Duration::from_millis(5)).await;
        }
    });
    assert_eq!(ACCEPTED.load(core::sync::atomic::Ordering::SeqCst), 50);
}
