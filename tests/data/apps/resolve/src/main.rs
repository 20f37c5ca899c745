//! Resolves each name on the command line with std (`ToSocketAddrs`, that is
//! `getaddrinfo`) and prints `NAME -> ADDRESS` or `NAME: ERROR`.

use std::net::ToSocketAddrs;

fn main() {
    for name in std::env::args().skip(1) {
        match (name.as_str(), 80).to_socket_addrs() {
            Ok(addresses) => {
                let addresses: Vec<String> = addresses.map(|address| address.ip().to_string()).collect();
                println!("{name} -> {}", addresses.join(" "));
            }
            Err(error) => println!("{name}: {error}"),
        }
    }
}
