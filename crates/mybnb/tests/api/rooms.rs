//! Rooms: `POST /rooms`, `GET /rooms/{id}`, `DELETE /rooms/{id}`, and who may do what.

use mybnb_client::Room;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{assert_problem, room};

/// Listings refused with 422.
fn invalid_listings() -> Vec<(&'static str, Value)> {
    let with = |field: &str, value: Value| {
        let mut listing = room("Valid name", 50_000);
        listing[field] = value;
        listing
    };
    vec![
        ("an empty name", with("name", json!(""))),
        ("a blank name", with("name", json!("   "))),
        (
            "a name of 101 characters",
            with("name", json!("n".repeat(101))),
        ),
        (
            "a name of two lines",
            with("name", json!("Loft\r\nClick http://evil.example")),
        ),
        (
            "a city with a line separator",
            with("city", json!("Seoul\u{2028}Busan")),
        ),
        ("an empty address", with("address", json!(""))),
        ("a blank address", with("address", json!(" \t "))),
        (
            "an address of two lines",
            with("address", json!("1 Test-ro\nJongno-gu")),
        ),
        ("a price of 0", with("price", json!(0))),
        ("a negative price", with("price", json!(-1))),
        (
            "a price over 100,000,000",
            with("price", json!(100_000_001)),
        ),
        ("a capacity of 0", with("capacity", json!(0))),
        ("a capacity of 51", with("capacity", json!(51))),
    ]
}

api_tests! {
    /// The caller becomes the host; absent optional fields take their defaults.
    async fn registering_a_room_makes_the_caller_its_host(app) {
        let host = app.new_user("host").await;
        let response = app
            .register_room_raw(&host.token, &room("Seaside loft", 90_000))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .expect("a Location header")
            .to_owned();
        let registered: Room = response.json().await.expect("a room: id a UUID, createdAt RFC 3339");
        assert_eq!(location, format!("/rooms/{}", registered.id));
        assert_eq!(registered.name, "Seaside loft");
        assert_eq!(registered.address, "1 Test-ro, Jongno-gu");
        assert_eq!(registered.price, 90_000);
        assert_eq!(registered.capacity, 2, "the default capacity");
        assert_eq!((&registered.city, &registered.description), (&None, &None), "{registered:?}");
        assert_eq!(registered.host, host.id);
        assert_eq!(registered.host_name, host.username);
        assert!(registered.created_at.is_some(), "{registered:?}");

        let read = app.get(&location).await;
        assert_eq!(read.status(), StatusCode::OK);
        let read: Room = read.json().await.expect("a room as JSON");
        assert_eq!(read, registered, "the room reads back as registered");
    }

    async fn every_field_is_kept(app) {
        let host = app.new_user("host").await;
        let listing = json!({
            "name": "Hanok with a garden",
            "address": "12 Bukchon-ro 11-gil",
            "city": "Seoul",
            "description": "Quiet courtyard near Gyeongbokgung.\nBreakfast included.",
            "price": 120_000,
            "capacity": 4,
        });
        let registered = app.register_room(&host.token, &listing).await;
        assert_eq!(
            (registered.name.as_str(), registered.address.as_str(), registered.city.as_deref()),
            ("Hanok with a garden", "12 Bukchon-ro 11-gil", Some("Seoul"))
        );
        assert_eq!(registered.description.as_deref(), listing["description"].as_str());
        assert_eq!((registered.price, registered.capacity), (120_000, 4));
        assert_eq!(app.room(registered.id).await, registered);
    }

    async fn values_at_the_limits_are_accepted(app) {
        let host = app.new_user("host").await;
        let mut cheapest = room(&"n".repeat(100), 1);
        cheapest["capacity"] = json!(1);
        let mut dearest = room("Penthouse", 100_000_000);
        dearest["capacity"] = json!(50);
        for listing in [cheapest, dearest] {
            let registered = app.register_room(&host.token, &listing).await;
            assert_eq!(json!(registered.price), listing["price"]);
            assert_eq!(json!(registered.capacity), listing["capacity"]);
        }
        assert_eq!(app.room_count().await, 2);
    }

    async fn invalid_listings_are_refused_and_change_nothing(app) {
        let host = app.new_user("host").await;
        for (case, listing) in invalid_listings() {
            let response = app.register_room_raw(&host.token, &listing).await;
            let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert!(problem.detail.is_some(), "{case}: {problem}");
        }
        assert_eq!(app.room_count().await, 0, "no refused listing was stored");
    }

    async fn registering_needs_a_token(app) {
        let response = app.post_json("/rooms", &room("No host", 10_000), None).await;
        assert_problem(response, StatusCode::UNAUTHORIZED).await;
        let forged = app.post_json("/rooms", &room("No host", 10_000), Some("not-a-token")).await;
        assert_problem(forged, StatusCode::UNAUTHORIZED).await;
        assert_eq!(app.room_count().await, 0);
    }

    async fn unknown_and_malformed_ids_are_not_found(app) {
        let unknown = app.get_room(Uuid::now_v7()).await;
        assert_problem(unknown, StatusCode::NOT_FOUND).await;
        for malformed in ["not-a-uuid", "123", "%20"] {
            assert_problem(app.get_room(malformed).await, StatusCode::NOT_FOUND).await;
        }
        let host = app.new_user("host").await;
        let delete_unknown = app.delete_room(Uuid::now_v7(), &host.token).await;
        assert_problem(delete_unknown, StatusCode::NOT_FOUND).await;
        let delete_malformed = app.delete_room("not-a-uuid", &host.token).await;
        assert_problem(delete_malformed, StatusCode::NOT_FOUND).await;
    }

    /// Once deleted, a room is gone from reads and searches, and cannot be deleted again.
    async fn the_host_deletes_a_room(app) {
        let host = app.new_user("host").await;
        let kept = app.register_room(&host.token, &room("Kept room", 40_000)).await;
        let doomed = app.register_room(&host.token, &room("Doomed room", 40_000)).await;
        let doomed_id = doomed.id;

        let response = app.delete_room(doomed_id, &host.token).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(response.bytes().await.expect("a body").is_empty(), "a 204 has no body");

        assert_problem(app.get_room(doomed_id).await, StatusCode::NOT_FOUND).await;
        let page = app.search(&[]).await;
        assert_eq!(page.ids(), vec![kept.id]);
        assert_eq!(page.total, 1);
        assert_eq!(app.search(&[("q", "doomed")]).await.total, 0);

        let again = app.delete_room(doomed_id, &host.token).await;
        assert_problem(again, StatusCode::NOT_FOUND).await;
    }

    async fn only_the_host_may_delete_a_room(app) {
        let host = app.new_user("host").await;
        let guest = app.new_user("guest").await;
        let registered = app.register_room(&host.token, &room("Guarded room", 70_000)).await;
        let id = registered.id;

        assert_problem(app.delete_room(id, &guest.token).await, StatusCode::FORBIDDEN).await;
        let anonymous = app.send(app.request(Method::DELETE, &format!("/rooms/{id}"), None)).await;
        assert_problem(anonymous, StatusCode::UNAUTHORIZED).await;

        assert_eq!(app.room(id).await, registered, "the room survives");
        assert_eq!(app.search(&[("q", "guarded")]).await.total, 1);
    }
}
