//! The size-report baseline reader (`--baseline FILE`) on arbitrary text, compared with a
//! real report as `unik size-report --baseline` does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::LazyLock;
use unik_report::Report;

static REFERENCE: LazyLock<Report> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../tests/data/golden/size/hello.json")).expect("the golden report reads")
});

fuzz_target!(|text: &str| {
    if let Ok(baseline) = unik_report::parse_baseline(text, Path::new("fuzz/baseline.json"), &REFERENCE) {
        let (_, growth) = unik_report::compare(&REFERENCE, &baseline);
        assert!(!growth.is_nan(), "a growth of NaN passes every limit");
        let _ = unik_report::table(&baseline, 10);
        let _ = unik_report::largest_in_file(&baseline, 3);
    }
});
