//! The published contract (`docs/asyncapi.json`) is the one the code publishes. After changing
//! an event, regenerate it with `MYBNB_WRITE_ASYNCAPI=1 cargo test -p mybnb-events`.

use std::path::PathBuf;

fn document_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/asyncapi.json")
}

#[test]
fn the_published_asyncapi_document_matches_the_events() {
    let generated = mybnb_events::catalogue::asyncapi();
    let text = serde_json::to_string_pretty(&generated).expect("a JSON document") + "\n";
    let path = document_path();
    if std::env::var_os("MYBNB_WRITE_ASYNCAPI").is_some() {
        std::fs::write(&path, &text).expect("writing docs/asyncapi.json");
    }
    let published = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        published == text,
        "docs/asyncapi.json differs from the events in code; regenerate it with \
         `MYBNB_WRITE_ASYNCAPI=1 cargo test -p mybnb-events`"
    );
}

#[test]
fn every_event_has_a_channel_a_message_and_a_payload_schema() {
    let document = mybnb_events::catalogue::asyncapi();
    let channels = document["channels"].as_object().expect("channels");
    assert_eq!(channels.len(), 7);
    for (name, channel) in channels {
        assert_eq!(channel["address"], format!("mybnb.events.{name}"));
        let message = &document["components"]["messages"][name];
        assert_eq!(message["name"], name.as_str());
        let schema = &document["components"]["schemas"][name];
        assert!(
            schema["properties"].is_object(),
            "{name} has a payload schema: {schema}"
        );
    }
    let cancelled = &document["components"]["schemas"]["PaymentCancelled"];
    assert!(
        document["components"]["schemas"]["CancellationReason"].is_object(),
        "nested schemas are included: {cancelled}"
    );
}
