//! How the interface gets its IPv4 address: the boot command line (`unik.ip=10.0.2.15/24
//! unik.gateway=10.0.2.2`), else the address `unik build` baked in from the manifest
//! (`[package.metadata.unik.net]`), else DHCP. The DNS server likewise: `unik.dns=`, else
//! the manifest's, else the one DHCP gives.

use core::net::Ipv4Addr;
use smoltcp::wire::Ipv4Cidr;

/// The boot parameter naming a static address and prefix length.
pub const ADDRESS_PARAMETER: &str = "unik.ip=";
/// The boot parameter naming the default gateway of a static address.
pub const GATEWAY_PARAMETER: &str = "unik.gateway=";

/// The boot parameter naming the DNS server, instead of DHCP's or the manifest's.
pub const DNS_PARAMETER: &str = "unik.dns=";

/// The DNS server the command line names, else the build-time one (`built_in`, from the
/// manifest); `None`: DHCP's.
pub fn dns_server(command_line: &str, built_in: Option<&str>) -> Result<Option<Ipv4Addr>, InvalidParameter> {
    let (text, name) = match command_line
        .split_ascii_whitespace()
        .find_map(|word| word.strip_prefix(DNS_PARAMETER))
    {
        Some(text) => (Some(text), DNS_PARAMETER),
        None => (built_in, "UNIK_NET_DNS"),
    };
    match text.filter(|text| !text.is_empty()) {
        Some(text) => text.parse().map(Some).map_err(|_| InvalidParameter(name)),
        None => Ok(None),
    }
}

/// How to address the interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addressing {
    /// Ask a DHCP server.
    Dhcp,
    /// A fixed address, and a gateway for what lies outside its subnet.
    Static {
        /// Address and prefix length.
        address: Ipv4Cidr,
        /// The default route, if any.
        gateway: Option<Ipv4Addr>,
    },
}

/// A problem with the configured values, named by the parameter they came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidParameter(pub &'static str);

/// Parses `A.B.C.D/N` (the prefix length defaults to 24 when `/N` is left out).
pub fn parse_cidr(text: &str) -> Option<Ipv4Cidr> {
    let (address, prefix) = text.split_once('/').unwrap_or((text, "24"));
    let prefix: u8 = prefix.parse().ok().filter(|prefix| *prefix <= 32)?;
    Some(Ipv4Cidr::new(address.parse().ok()?, prefix))
}

/// The addressing the command line asks for, else the build-time one (`built_in`: the
/// address and the gateway as the manifest gave them), else DHCP.
pub fn addressing(command_line: &str, built_in: (Option<&str>, Option<&str>)) -> Result<Addressing, InvalidParameter> {
    let parameter = |prefix: &str| {
        command_line
            .split_ascii_whitespace()
            .find_map(|word| word.strip_prefix(prefix))
    };
    let (address, gateway, names) = match parameter(ADDRESS_PARAMETER) {
        Some(address) => (
            Some(address),
            parameter(GATEWAY_PARAMETER),
            (ADDRESS_PARAMETER, GATEWAY_PARAMETER),
        ),
        None => (built_in.0, built_in.1, ("UNIK_NET_IP", "UNIK_NET_GATEWAY")),
    };
    let Some(address) = address.filter(|address| !address.is_empty()) else {
        return Ok(Addressing::Dhcp);
    };
    let address = parse_cidr(address).ok_or(InvalidParameter(names.0))?;
    let gateway = match gateway.filter(|gateway| !gateway.is_empty()) {
        Some(gateway) => Some(gateway.parse().map_err(|_| InvalidParameter(names.1))?),
        None => None,
    };
    Ok(Addressing::Static { address, gateway })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dhcp_unless_an_address_is_given() {
        assert_eq!(addressing("a b", (None, None)), Ok(Addressing::Dhcp));
        assert_eq!(addressing("", (Some(""), None)), Ok(Addressing::Dhcp));
    }

    #[test]
    fn the_command_line_wins_over_the_built_in_address() {
        let built_in = (Some("192.168.1.9/16"), Some("192.168.0.1"));
        assert_eq!(
            addressing("x unik.ip=10.0.2.15/24 unik.gateway=10.0.2.2", built_in),
            Ok(Addressing::Static {
                address: Ipv4Cidr::new(Ipv4Addr::new(10, 0, 2, 15), 24),
                gateway: Some(Ipv4Addr::new(10, 0, 2, 2)),
            })
        );
        assert_eq!(
            addressing("", built_in),
            Ok(Addressing::Static {
                address: Ipv4Cidr::new(Ipv4Addr::new(192, 168, 1, 9), 16),
                gateway: Some(Ipv4Addr::new(192, 168, 0, 1)),
            })
        );
        assert_eq!(
            addressing("unik.ip=10.1.1.1", built_in),
            Ok(Addressing::Static {
                address: Ipv4Cidr::new(Ipv4Addr::new(10, 1, 1, 1), 24),
                gateway: None,
            })
        );
    }

    #[test]
    fn the_dns_server_comes_from_the_command_line_then_the_manifest() {
        let server = |a, b, c, d| Ok(Some(Ipv4Addr::new(a, b, c, d)));
        assert_eq!(dns_server("unik.dns=10.0.2.2", Some("9.9.9.9")), server(10, 0, 2, 2));
        assert_eq!(dns_server("", Some("9.9.9.9")), server(9, 9, 9, 9));
        assert_eq!(dns_server("", None), Ok(None));
        assert_eq!(dns_server("unik.dns=nine", None), Err(InvalidParameter(DNS_PARAMETER)));
    }

    #[test]
    fn bad_values_name_their_parameter() {
        assert_eq!(
            addressing("unik.ip=10.0.2/24", (None, None)),
            Err(InvalidParameter(ADDRESS_PARAMETER))
        );
        assert_eq!(
            addressing("unik.ip=10.0.2.1/33", (None, None)),
            Err(InvalidParameter(ADDRESS_PARAMETER))
        );
        assert_eq!(
            addressing("unik.ip=10.0.2.1/8 unik.gateway=x", (None, None)),
            Err(InvalidParameter(GATEWAY_PARAMETER))
        );
        assert_eq!(
            addressing("", (Some("nope"), None)),
            Err(InvalidParameter("UNIK_NET_IP"))
        );
    }
}
