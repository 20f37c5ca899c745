//! The guest's network under `unik run`: QEMU's user-mode network (slirp) behind the
//! target's NIC, with host ports forwarded to guest ports (`--publish`, as `docker run -p`).

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// A transport protocol of a port forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// The name QEMU and users write (`tcp`, `udp`).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// One forwarded port: `[HOST_ADDRESS:]HOST_PORT:GUEST_PORT[/tcp|/udp]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortForward {
    /// TCP or UDP (default TCP).
    pub protocol: Protocol,
    /// The host address to listen on (default 127.0.0.1: only this machine reaches it).
    pub host_address: Ipv4Addr,
    /// The host port.
    pub host_port: u16,
    /// The guest port.
    pub guest_port: u16,
}

/// Why a `--publish` value was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "--publish {value:?}: {problem}; write HOST_PORT:GUEST_PORT, optionally with an address first (0.0.0.0:8080:80) and /udp after"
)]
pub struct BadPortForward {
    /// The value given.
    pub value: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl FromStr for PortForward {
    type Err = BadPortForward;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let bad = |problem| BadPortForward {
            value: value.to_string(),
            problem,
        };
        let (ports, protocol) = match value.rsplit_once('/') {
            Some((ports, "tcp")) => (ports, Protocol::Tcp),
            Some((ports, "udp")) => (ports, Protocol::Udp),
            Some(_) => return Err(bad("the protocol must be tcp or udp")),
            None => (value, Protocol::Tcp),
        };
        let ipv6_address = ports
            .rsplitn(3, ':')
            .nth(2)
            .is_some_and(|address| address.parse::<std::net::Ipv6Addr>().is_ok());
        if ports.starts_with('[') || ipv6_address {
            return Err(bad(
                "IPv6 host addresses are not supported (the guest network is IPv4): give an IPv4 address such as 127.0.0.1, or none",
            ));
        }
        let parts: Vec<&str> = ports.split(':').collect();
        let (host_address, host_port, guest_port) = match parts[..] {
            [host, guest] => (Ipv4Addr::LOCALHOST, host, guest),
            [address, host, guest] => (
                address
                    .parse()
                    .map_err(|_| bad("the host address is not an IPv4 address"))?,
                host,
                guest,
            ),
            _ => return Err(bad("expected two ports separated by a colon")),
        };
        let port = |text: &str| text.parse::<u16>().ok().filter(|port| *port != 0);
        Ok(PortForward {
            protocol,
            host_address,
            host_port: port(host_port).ok_or_else(|| bad("the host port is not a number in 1..=65535"))?,
            guest_port: port(guest_port).ok_or_else(|| bad("the guest port is not a number in 1..=65535"))?,
        })
    }
}

impl fmt::Display for PortForward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}:{} -> guest port {}",
            self.protocol.name(),
            self.host_address,
            self.host_port,
            self.guest_port
        )
    }
}

/// The guest's network: a NIC on QEMU's user-mode network, and the ports forwarded to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Network {
    /// Host ports forwarded to the guest.
    pub publish: Vec<PortForward>,
}

/// QEMU's ID for the network backend.
const NETDEV_ID: &str = "unik-net0";

impl Network {
    /// The QEMU arguments attaching `nic_device` to a user-mode network with the forwards.
    pub fn qemu_args(&self, nic_device: &str) -> [String; 4] {
        let mut netdev = format!("user,id={NETDEV_ID}");
        for forward in &self.publish {
            netdev += &format!(
                ",hostfwd={}:{}:{}-:{}",
                forward.protocol.name(),
                forward.host_address,
                forward.host_port,
                forward.guest_port
            );
        }
        [
            "-netdev".into(),
            netdev,
            "-device".into(),
            format!("{nic_device},netdev={NETDEV_ID}"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_docker_users_write() {
        let forward: PortForward = "8080:80".parse().unwrap();
        assert_eq!(
            forward,
            PortForward {
                protocol: Protocol::Tcp,
                host_address: Ipv4Addr::LOCALHOST,
                host_port: 8080,
                guest_port: 80
            }
        );
        assert_eq!(forward.to_string(), "tcp 127.0.0.1:8080 -> guest port 80");
        let forward: PortForward = "0.0.0.0:7000:7/udp".parse().unwrap();
        assert_eq!(forward.protocol, Protocol::Udp);
        assert_eq!(forward.host_address, Ipv4Addr::UNSPECIFIED);
        assert_eq!("1:2/tcp".parse::<PortForward>().unwrap().guest_port, 2);
    }

    #[test]
    fn refuses_malformed_forwards_saying_why() {
        const IPV6: &str = "IPv6 host addresses are not supported (the guest network is IPv4): give an IPv4 address such as 127.0.0.1, or none";
        for (value, problem) in [
            ("8080", "expected two ports separated by a colon"),
            ("a:b:c:d", "expected two ports separated by a colon"),
            ("[::1]:8080:80", IPV6),
            ("::1:8080:80", IPV6),
            ("8080:0", "the guest port is not a number in 1..=65535"),
            ("70000:80", "the host port is not a number in 1..=65535"),
            ("8080:80/sctp", "the protocol must be tcp or udp"),
            ("localhost:8080:80", "the host address is not an IPv4 address"),
        ] {
            let error = value.parse::<PortForward>().unwrap_err();
            assert_eq!(error.problem, problem, "{value}");
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("--publish {value:?}: {problem}; "))
            );
        }
    }

    #[test]
    fn qemu_arguments_carry_every_forward() {
        let network = Network {
            publish: vec!["8080:80".parse().unwrap(), "0.0.0.0:7000:7/udp".parse().unwrap()],
        };
        assert_eq!(
            network.qemu_args("virtio-net-device"),
            [
                "-netdev",
                "user,id=unik-net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:0.0.0.0:7000-:7",
                "-device",
                "virtio-net-device,netdev=unik-net0"
            ]
        );
    }
}
