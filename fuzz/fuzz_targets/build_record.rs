//! The build record reader (`<image>.json`) on arbitrary text: an accepted record writes
//! back to JSON that reads as the same record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use unik_linker::BuildRecord;

fuzz_target!(|text: &str| {
    let path = Path::new("fuzz/hello.json");
    if let Ok(record) = BuildRecord::parse(text, path) {
        let again = BuildRecord::parse(&record.to_json(), path).expect("a written record reads back");
        assert_eq!(again, record);
        let _ = record.needs(unik_linker::record::Device::Nic);
    }
});
