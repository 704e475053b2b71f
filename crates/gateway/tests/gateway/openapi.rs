//! `/openapi.json` at the gateway: every service's document in one.

use crate::support::{Gateway, Instance, rooms, users};

#[tokio::test]
async fn the_document_merges_every_services_own() {
    // Each instance documents the path named after it.
    let (room, user) = (
        Instance::start("rooms").await,
        Instance::start("users").await,
    );
    let gateway = Gateway::start(vec![rooms(vec![room.url()]), users(vec![user.url()])]).await;

    let response = gateway
        .get("/openapi.json")
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    let document: serde_json::Value = response.json().await.expect("a JSON document");

    let paths = document["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/rooms"), "{document}");
    assert!(paths.contains_key("/users"), "{document}");
    assert_eq!(document["openapi"], "3.1.0");
}
