//! The protocol stack around one NIC: smoltcp's interface and sockets, the addressing
//! (static or DHCP), listeners with a backlog, and sockets their owners let go of.
//!
//! Generic over the NIC so the unit tests can feed it frames by hand.

use crate::config::Addressing;
use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::task::Waker;
use smoltcp::iface::{Config, Interface, PollIngressSingleResult, PollResult, SocketHandle, SocketSet};
use smoltcp::phy::Device;
use smoltcp::socket::{dhcpv4, dns, tcp, udp};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, IpCidr, IpListenEndpoint, Ipv4Cidr};

/// Receive and send buffer of each TCP socket.
const TCP_BUFFER: usize = 16 * 1024;
/// Packets and payload bytes each UDP socket buffers in each direction.
const UDP_PACKETS: usize = 32;
const UDP_BUFFER: usize = 32 * 1024;
/// DNS queries in flight at once.
const DNS_QUERIES: usize = 4;
/// How long a socket its owner closed may take to finish closing before it is reset.
const ORPHAN_LIFETIME: Duration = Duration::from_secs(30);
/// Without acknowledgement for this long, a closing connection is given up.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// Rounds of receiving and sending one poll does at most.
const MAX_ROUNDS: usize = 16;
/// First local port handed out for outgoing connections and port-0 binds.
const EPHEMERAL_PORTS: core::ops::RangeInclusive<u16> = 49152..=65535;

/// A NIC the stack can drive: a smoltcp device that may need its interrupt acknowledged.
pub trait Nic: Device {
    /// Re-arms the NIC's interrupt before the stack looks for work (see
    /// `unik_platform_api::NetworkDriver::acknowledge_interrupt`).
    fn acknowledge_interrupt(&mut self) {}
}

/// A listening port: sockets waiting for connections, and those not yet accepted.
struct Listener {
    endpoint: IpListenEndpoint,
    backlog: usize,
    /// Sockets in `Listen` state or later, in arrival order, not yet accepted.
    pending: Vec<SocketHandle>,
    acceptor: Option<Waker>,
}

/// The interface's address, once it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterfaceAddress {
    /// Address and prefix length.
    pub address: Ipv4Cidr,
    /// The default gateway, if any.
    pub gateway: Option<Ipv4Addr>,
}

/// One NIC's protocol stack.
pub struct Stack<D: Nic> {
    device: D,
    interface: Interface,
    pub(crate) sockets: SocketSet<'static>,
    dhcp: Option<SocketHandle>,
    address: Option<InterfaceAddress>,
    address_waiters: Vec<Waker>,
    listeners: Vec<Option<Listener>>,
    /// Sockets whose owner closed them, and when to stop waiting for the close to finish.
    orphans: Vec<(SocketHandle, Instant)>,
    next_port: u16,
    /// Whether the last [`Stack::poll`] did anything a socket's readiness may depend on.
    active: bool,
    /// The DNS server: the one configured, else DHCP's.
    dns_configured: Option<Ipv4Addr>,
    dns_server: Option<Ipv4Addr>,
    /// The resolver's socket, made by the first query.
    dns: Option<SocketHandle>,
}

impl<D: Nic> Stack<D> {
    /// A stack on `device` (whose Ethernet address is `mac`), addressed as `addressing`
    /// says. `seed` randomises initial sequence numbers and DHCP transaction IDs.
    pub fn new(mut device: D, mac: [u8; 6], addressing: Addressing, seed: u64, now: Instant) -> Self {
        let mut config = Config::new(EthernetAddress(mac).into());
        config.random_seed = seed;
        let interface = Interface::new(config, &mut device, now);
        let mut stack = Stack {
            device,
            interface,
            sockets: SocketSet::new(Vec::new()),
            dhcp: None,
            address: None,
            address_waiters: Vec::new(),
            listeners: Vec::new(),
            orphans: Vec::new(),
            active: false,
            dns_configured: None,
            dns_server: None,
            dns: None,
            next_port: *EPHEMERAL_PORTS.start() + (seed % 1024) as u16,
        };
        match addressing {
            Addressing::Dhcp => stack.dhcp = Some(stack.sockets.add(dhcpv4::Socket::new())),
            Addressing::Static { address, gateway } => stack.configure(Some(InterfaceAddress { address, gateway })),
        }
        stack
    }

    /// Sets (or with `None` clears) the interface's address and default route.
    fn configure(&mut self, address: Option<InterfaceAddress>) {
        self.interface.update_ip_addrs(|addresses| {
            addresses.clear();
            if let Some(address) = address {
                let _ = addresses.push(IpCidr::Ipv4(address.address));
            }
        });
        self.interface.routes_mut().remove_default_ipv4_route();
        if let Some(gateway) = address.and_then(|address| address.gateway) {
            let _ = self.interface.routes_mut().add_default_ipv4_route(gateway);
        }
        self.address = address;
        self.address_waiters.drain(..).for_each(Waker::wake);
    }

    /// The interface's address, or `None` (registering `waker`) while it has none.
    pub fn address(&mut self, waker: &Waker) -> Option<InterfaceAddress> {
        if self.address.is_none() && !self.address_waiters.iter().any(|known| known.will_wake(waker)) {
            self.address_waiters.push(waker.clone());
        }
        self.address
    }

    /// Does all the work that has arrived: received frames, timers, DHCP, sends, the
    /// listeners' backlogs and orphaned sockets. Returns when it wants to run next;
    /// [`Stack::was_active`] tells whether it did anything.
    pub fn poll(&mut self, now: Instant) -> Option<Instant> {
        self.device.acknowledge_interrupt();
        let address = self.address;
        let mut active = false;
        // Until neither direction has work (what is sent may come straight back, as on
        // a loopback device), within a bound that keeps a flood from starving the tasks.
        for _ in 0..MAX_ROUNDS {
            let mut worked = false;
            loop {
                match self
                    .interface
                    .poll_ingress_single(now, &mut self.device, &mut self.sockets)
                {
                    PollIngressSingleResult::None => break,
                    // A listening socket may have taken a connection: let the next SYN
                    // find another one listening.
                    PollIngressSingleResult::SocketStateChanged => self.refill_listeners(),
                    PollIngressSingleResult::PacketProcessed => {}
                }
                worked = true;
            }
            let sent = self.interface.poll_egress(now, &mut self.device, &mut self.sockets);
            if !worked && sent == PollResult::None {
                break;
            }
            active = true;
        }
        self.interface.poll_maintenance(now);
        self.poll_dhcp();
        self.active = active || self.address != address;
        self.refill_listeners();
        self.wake_acceptors();
        self.reap_orphans(now);
        self.interface.poll_at(now, &self.sockets)
    }

    /// Whether the last [`Stack::poll`] received or sent anything or changed the address:
    /// the readiness of a socket may have changed.
    pub fn was_active(&self) -> bool {
        self.active
    }

    /// Uses `server` for DNS whatever DHCP says (`None`: DHCP's).
    pub fn configure_dns(&mut self, server: Option<Ipv4Addr>) {
        self.dns_configured = server;
        if server.is_some() {
            self.set_dns_server(server);
        }
    }

    fn set_dns_server(&mut self, server: Option<Ipv4Addr>) {
        self.dns_server = server;
        if let Some(handle) = self.dns {
            let servers: Vec<_> = server.into_iter().map(Into::into).collect();
            self.sockets.get_mut::<dns::Socket>(handle).update_servers(&servers);
        }
    }

    /// Starts looking up `name`'s IPv4 address.
    pub fn start_query(&mut self, name: &str) -> Result<dns::QueryHandle, crate::Error> {
        let server = self.dns_server.ok_or(crate::Error::Unreachable)?;
        let handle = match self.dns {
            Some(handle) => handle,
            None => {
                let slots: Vec<Option<dns::DnsQuery>> = (0..DNS_QUERIES).map(|_| None).collect();
                let handle = self.sockets.add(dns::Socket::new(&[server.into()], slots));
                *self.dns.insert(handle)
            }
        };
        let socket = self.sockets.get_mut::<dns::Socket>(handle);
        socket
            .start_query(self.interface.context(), name, smoltcp::wire::DnsQueryType::A)
            .map_err(|error| match error {
                dns::StartQueryError::NoFreeSlot => crate::Error::TimedOut,
                dns::StartQueryError::InvalidName | dns::StartQueryError::NameTooLong => crate::Error::InvalidInput,
            })
    }

    /// The answer to query `query`: `None` (registering `waker`) while it is pending.
    pub fn query_result(&mut self, query: dns::QueryHandle, waker: &Waker) -> Option<Result<Ipv4Addr, crate::Error>> {
        let socket = self.sockets.get_mut::<dns::Socket>(self.dns?);
        match socket.get_query_result(query) {
            Ok(addresses) => Some(
                addresses
                    .iter()
                    .find_map(|address| match address {
                        smoltcp::wire::IpAddress::Ipv4(address) => Some(*address),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    })
                    .ok_or(crate::Error::NameNotFound),
            ),
            Err(dns::GetQueryResultError::Pending) => {
                socket.register_query_waker(query, waker);
                None
            }
            Err(dns::GetQueryResultError::Failed) => Some(Err(crate::Error::NameNotFound)),
        }
    }

    /// Gives up query `query` (its asker went away).
    pub fn cancel_query(&mut self, query: dns::QueryHandle) {
        if let Some(handle) = self.dns {
            self.sockets.get_mut::<dns::Socket>(handle).cancel_query(query);
        }
    }

    /// Whether listener `id` holds a connection that [`Stack::accept`] would take.
    pub fn has_connection(&self, id: usize) -> bool {
        self.listeners.get(id).and_then(Option::as_ref).is_some_and(|listener| {
            listener.pending.iter().any(|handle| {
                !matches!(
                    self.sockets.get::<tcp::Socket>(*handle).state(),
                    tcp::State::Listen | tcp::State::SynReceived
                )
            })
        })
    }

    fn poll_dhcp(&mut self) {
        let Some(handle) = self.dhcp else {
            return;
        };
        let change = match self.sockets.get_mut::<dhcpv4::Socket>(handle).poll() {
            None => return,
            Some(dhcpv4::Event::Configured(config)) => {
                let server = config.dns_servers.first().copied();
                let address = InterfaceAddress {
                    address: config.address,
                    gateway: config.router,
                };
                if self.dns_configured.is_none() {
                    self.set_dns_server(server);
                }
                Some(address)
            }
            Some(dhcpv4::Event::Deconfigured) => None,
        };
        self.configure(change);
    }

    fn new_tcp_socket() -> tcp::Socket<'static> {
        tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
            tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
        )
    }

    /// Makes sure each listener has a socket in `Listen` state while its backlog has room.
    fn refill_listeners(&mut self) {
        for listener in self.listeners.iter_mut().flatten() {
            let listening = listener
                .pending
                .iter()
                .any(|handle| self.sockets.get::<tcp::Socket>(*handle).state() == tcp::State::Listen);
            if !listening && listener.pending.len() < listener.backlog {
                let mut socket = Self::new_tcp_socket();
                if socket.listen(listener.endpoint).is_ok() {
                    listener.pending.push(self.sockets.add(socket));
                }
            }
        }
    }

    fn wake_acceptors(&mut self) {
        for listener in self.listeners.iter_mut().flatten() {
            let ready = listener.pending.iter().any(|handle| {
                !matches!(
                    self.sockets.get::<tcp::Socket>(*handle).state(),
                    tcp::State::Listen | tcp::State::SynReceived
                )
            });
            if ready && let Some(waker) = listener.acceptor.take() {
                waker.wake();
            }
        }
    }

    /// Starts listening on `endpoint`; the listener's ID.
    pub fn listen(&mut self, endpoint: IpListenEndpoint, backlog: usize) -> Result<usize, crate::Error> {
        let port = endpoint.port;
        if port == 0 {
            return Err(crate::Error::InvalidInput);
        }
        if self
            .listeners
            .iter()
            .flatten()
            .any(|listener| listener.endpoint.port == port)
        {
            return Err(crate::Error::AddressInUse);
        }
        let listener = Listener {
            endpoint,
            backlog: backlog.max(1),
            pending: Vec::new(),
            acceptor: None,
        };
        let id = match self.listeners.iter().position(Option::is_none) {
            Some(id) => {
                self.listeners[id] = Some(listener);
                id
            }
            None => {
                self.listeners.push(Some(listener));
                self.listeners.len() - 1
            }
        };
        self.refill_listeners();
        Ok(id)
    }

    /// An established connection of listener `id`, or `None` (registering `waker`).
    pub fn accept(&mut self, id: usize, waker: &Waker) -> Option<SocketHandle> {
        let listener = self.listeners.get_mut(id)?.as_mut()?;
        // Handshakes that failed (reset, timed out) leave closed sockets behind.
        let sockets = &mut self.sockets;
        listener.pending.retain(|handle| {
            let closed = sockets.get::<tcp::Socket>(*handle).state() == tcp::State::Closed;
            if closed {
                sockets.remove(*handle);
            }
            !closed
        });
        let position = listener.pending.iter().position(|handle| {
            !matches!(
                self.sockets.get::<tcp::Socket>(*handle).state(),
                tcp::State::Listen | tcp::State::SynReceived
            )
        });
        match position {
            Some(position) => {
                let handle = listener.pending.remove(position);
                self.refill_listeners();
                Some(handle)
            }
            None => {
                listener.acceptor = Some(waker.clone());
                None
            }
        }
    }

    /// Stops listener `id`, resetting the connections nobody accepted.
    pub fn unlisten(&mut self, id: usize) {
        if let Some(listener) = self.listeners.get_mut(id).and_then(Option::take) {
            for handle in listener.pending {
                self.sockets.remove(handle);
            }
        }
    }

    /// A local port for an outgoing connection or a port-0 bind.
    pub fn ephemeral_port(&mut self) -> u16 {
        let port = self.next_port;
        self.next_port = if port >= *EPHEMERAL_PORTS.end() {
            *EPHEMERAL_PORTS.start()
        } else {
            port + 1
        };
        port
    }

    /// A TCP socket connecting from an ephemeral port to `remote`.
    pub fn connect(&mut self, remote: smoltcp::wire::IpEndpoint) -> Result<SocketHandle, crate::Error> {
        let mut socket = Self::new_tcp_socket();
        let port = self.ephemeral_port();
        socket
            .connect(self.interface.context(), remote, port)
            .map_err(|_| crate::Error::Unreachable)?;
        Ok(self.sockets.add(socket))
    }

    /// A UDP socket bound to `port` (an ephemeral one for 0).
    pub fn bind_udp(&mut self, port: u16) -> Result<SocketHandle, crate::Error> {
        let port = if port == 0 { self.ephemeral_port() } else { port };
        let in_use = self.sockets.iter().any(|(_, socket)| match socket {
            smoltcp::socket::Socket::Udp(socket) => socket.endpoint().port == port,
            _ => false,
        });
        if in_use {
            return Err(crate::Error::AddressInUse);
        }
        let buffer = || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; UDP_PACKETS], vec![0; UDP_BUFFER]);
        let mut socket = udp::Socket::new(buffer(), buffer());
        socket.bind(port).map_err(|_| crate::Error::InvalidInput)?;
        Ok(self.sockets.add(socket))
    }

    /// Lets go of a TCP socket: it finishes closing on its own (reset at once when it
    /// holds received data nobody will read, as Linux does), then is removed.
    pub fn release_tcp(&mut self, handle: SocketHandle, now: Instant) {
        let socket = self.sockets.get_mut::<tcp::Socket>(handle);
        if socket.recv_queue() > 0 {
            socket.abort();
        } else {
            socket.close();
            socket.set_timeout(Some(CLOSE_TIMEOUT));
        }
        self.orphans.push((handle, now + ORPHAN_LIFETIME));
    }

    /// Lets go of a UDP socket: it stops receiving, and is removed once the datagrams
    /// already queued are sent.
    pub fn release_udp(&mut self, handle: SocketHandle, now: Instant) {
        self.orphans.push((handle, now + ORPHAN_LIFETIME));
    }

    fn reap_orphans(&mut self, now: Instant) {
        let sockets = &mut self.sockets;
        self.orphans.retain(|&(handle, give_up)| {
            let done = match sockets.get_mut::<smoltcp::socket::Socket>(handle) {
                smoltcp::socket::Socket::Tcp(socket) => {
                    let done = matches!(socket.state(), tcp::State::Closed | tcp::State::TimeWait);
                    if !done && now >= give_up {
                        // Removed at the next poll, after the reset has gone out.
                        socket.abort();
                    }
                    done
                }
                smoltcp::socket::Socket::Udp(socket) => socket.send_queue() == 0 || now >= give_up,
                _ => true,
            };
            if done {
                sockets.remove(handle);
            }
            !done
        });
    }

    /// The NIC (tests read what the stack sent).
    #[cfg(test)]
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }
}
