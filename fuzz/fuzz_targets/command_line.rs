//! The boot command line as the guest reads it (the loader or hypervisor passes it): split
//! into words, the library OS's `unik.*` parameters, QEMU's trailing
//! `virtio_mmio.device=` words, and the network settings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unik_platform_api::devices::{parse_virtio_mmio_parameter, split_virtio_mmio_parameters};

fuzz_target!(|line: &str| {
    let words: Vec<&str> = unik_args::Words::new(line).collect();
    for word in &words {
        // Every word is a piece of the line.
        let start = word.as_ptr() as usize - line.as_ptr() as usize;
        assert!(start + word.len() <= line.len());
        if !word.contains('"') {
            assert!(!word.contains(|c: char| c.is_ascii_whitespace()) || line.contains('"'));
        }
        let _ = unik_args::is_library_os_parameter(word);
    }
    let _ = unik_args::parameter_in(line, "time");
    let (application, parameters) = split_virtio_mmio_parameters(line);
    assert_eq!(application.len() + parameters.len(), line.len());
    for word in parameters.split_ascii_whitespace() {
        if let Some(device) = parse_virtio_mmio_parameter(word) {
            assert!(device.registers.start <= device.registers.end);
        }
    }
    let _ = unik_net::config::addressing(line, (None, None));
    let _ = unik_net::config::addressing(line, (Some("10.0.2.15/24"), Some("10.0.2.2")));
    let _ = unik_net::config::dns_server(line, None);
});
