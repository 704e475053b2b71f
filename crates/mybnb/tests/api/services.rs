//! One binary, many roles: a process serves only the contexts it was asked to run.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PASSWORD, assert_problem, room};
use crate::tokens::{claims, now, sign};

fn room_only(settings: &mut mybnb::Settings) {
    settings.services = "room".parse().expect("a valid service list");
}

api_tests! {
    /// A room-only process has no identity routes, yet takes tokens signed with the shared
    /// secret, as another process's identity context would issue them.
    async fn a_room_only_process_serves_rooms_alone(app with room_only) {
        let sign_up = app.sign_up_raw(&json!({ "username": "nobody", "password": PASSWORD })).await;
        assert_problem(sign_up, StatusCode::NOT_FOUND).await;
        assert_problem(app.get("/users/me").await, StatusCode::NOT_FOUND).await;

        let host_id = Uuid::now_v7().to_string();
        let token = sign(&claims(&host_id, "remote.host", now() + 600), &app.jwt_secret);
        let registered = app.register_room(&token, &room("Remote room", 20_000)).await;
        assert_eq!(registered.host.to_string(), host_id);
        assert_eq!(registered.host_name, "remote.host");
        assert_eq!(app.room_count().await, 1);

        let report = app.readiness().await;
        // The room context's own database, and the bus its outbox is relayed to: the embedded
        // log, or NATS (whose absence degrades the process but does not stop it: events wait
        // in the outbox while it is away).
        let bus = match app.storage().backend {
            crate::helpers::Backend::Sqlite => "events.database",
            crate::helpers::Backend::Postgres => "events.bus",
        };
        let expected = [bus, "room.database"].map(|check| (check.to_owned(), "ready".to_owned()));
        assert_eq!(report.checks, expected.into_iter().collect::<std::collections::BTreeMap<_, _>>());
        let document: Value = app.get("/openapi.json").await.json().await.expect("a document");
        assert!(document["paths"]["/rooms"].is_object());
        assert!(document["paths"]["/users"].is_null(), "identity is not documented here");
    }
}
