//! Every webhook and API parser on arbitrary bytes, as they arrive after signature checking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let _ = pantau::platforms::meta::parse(body, chrono::Utc::now());
    let _ = pantau::platforms::x::parse(body);
    let _ = pantau::platforms::x::mentions_page(body, "1");
    let _ = pantau::platforms::telegram::parse(body);
    if let Ok(input) = serde_json::from_slice::<pantau::ingest::MentionInput>(body) {
        let _ = input.into_new();
    }
});
