//! The manifest settings reader on arbitrary TOML: the text of a package's
//! `[package.metadata]` table, as cargo hands it to unik (as JSON) after parsing the manifest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|text: &str| {
    let Ok(table) = text.parse::<toml::Table>() else {
        return;
    };
    let Ok(metadata) = serde_json::to_value(table) else {
        return;
    };
    let manifest = Path::new("fuzz/Cargo.toml");
    if let Ok((settings, _warnings)) = unik_project::settings::read(&metadata, manifest) {
        // Accepted settings are usable: the targets exist and the memory is in range.
        for name in &settings.targets {
            // An unknown name is the project's error to give (`Project::targets`), naming the known ones.
            let Ok(target) = unik_targets::find(name) else {
                continue;
            };
            if let Some(memory) = settings.memory {
                let _ = target.check_memory(memory);
            }
            if let Some(line) = &settings.cmdline {
                let _ = target.check_command_line(line);
            }
        }
        if let Some(line) = &settings.cmdline {
            // The guest splits it without trouble, into no more words than bytes.
            assert!(unik_args::Words::new(line).count() <= line.len());
        }
    }
});
