//! The RSS/Atom parser on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|xml: &str| {
    if let Ok(feed) = pantau::platforms::news::parse_feed(xml) {
        for item in &feed.items {
            let _ = pantau::platforms::news::to_mention(item, "outlet", feed.title.as_deref(), chrono::Utc::now());
        }
    }
});
