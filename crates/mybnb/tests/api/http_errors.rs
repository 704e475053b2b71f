//! Requests the API cannot take: each is answered with the right 4xx as a problem document,
//! and none of them changes anything.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_problem, header, room};

/// Sends `body` as it is, with `content_type` when given.
async fn send_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
    token: Option<&str>,
) -> Response {
    let mut request = app.request(method, path, token).body(body);
    if let Some(content_type) = content_type {
        request = request.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    app.send(request).await
}

async fn post_json_text(app: &TestApp, path: &str, body: &str, token: Option<&str>) -> Response {
    send_raw(
        app,
        Method::POST,
        path,
        Some("application/json"),
        body.to_owned(),
        token,
    )
    .await
}

/// A room listing with one member replaced by `value`, or removed when `value` is `None`.
fn listing_with(member: &str, value: Option<Value>) -> Value {
    let mut listing = room("Edge case", 10_000);
    match value {
        Some(value) => listing[member] = value,
        None => {
            listing.as_object_mut().expect("an object").remove(member);
        }
    }
    listing
}

api_tests! {
    async fn malformed_json_is_a_bad_request(app) {
        let host = app.new_user("host").await;
        for body in [r#"{"name": "Half a room","#, "{name: 'single quotes'}", "not json at all", ""] {
            let response = post_json_text(&app, "/rooms", body, Some(&host.token)).await;
            assert_problem(response, StatusCode::BAD_REQUEST).await;
        }
        let sign_up = post_json_text(&app, "/users", r#"{"username": "halfway", "password": "#, None).await;
        assert_problem(sign_up, StatusCode::BAD_REQUEST).await;

        assert_eq!(app.room_count().await, 0);
        assert!(app.username_is_free("halfway").await);
    }

    /// Well-formed JSON of the wrong shape: wrong types, missing members, numbers out of range.
    async fn json_of_the_wrong_shape_is_unprocessable(app) {
        let host = app.new_user("host").await;
        let bodies = [
            listing_with("price", Some(json!("abc"))),
            listing_with("price", Some(json!(1e30))),
            listing_with("price", Some(json!(1.5))),
            listing_with("price", Some(Value::Null)),
            listing_with("price", None),
            listing_with("name", None),
            listing_with("name", Some(json!(5))),
            listing_with("address", Some(json!(["a", "list"]))),
            listing_with("capacity", Some(json!(-1))),
            listing_with("capacity", Some(json!(2.5))),
            listing_with("capacity", Some(json!(4_294_967_298_u64))),
            json!([]),
            json!("a string"),
        ];
        for body in bodies {
            let response = app.register_room_raw(&host.token, &body).await;
            assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        assert_eq!(app.room_count().await, 0);

        for body in [
            json!({ "username": "shape.one", "password": 12_345_678 }),
            json!({ "username": "shape.two" }),
            json!({ "username": "shape.three", "password": PASSWORD, "email": 5 }),
        ] {
            assert_problem(app.sign_up_raw(&body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        for username in ["shape.one", "shape.two", "shape.three"] {
            assert!(app.username_is_free(username).await, "{username} is still free");
        }
    }

    async fn bodies_over_64_kib_are_too_large(app) {
        let host = app.new_user("host").await;
        let mut listing = room("Long story", 10_000);
        listing["description"] = json!("a".repeat(70 * 1024));
        let response = app.register_room_raw(&host.token, &listing).await;
        assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
        assert_eq!(app.room_count().await, 0);

        let sign_up = json!({ "username": "verbose", "password": PASSWORD, "displayName": "d".repeat(70 * 1024) });
        assert_problem(app.sign_up_raw(&sign_up).await, StatusCode::PAYLOAD_TOO_LARGE).await;
        assert!(app.username_is_free("verbose").await);
    }

    async fn bodies_that_are_not_json_are_unsupported(app) {
        let host = app.new_user("host").await;
        let listing = room("Plain text room", 10_000).to_string();
        for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
            let response = send_raw(&app, Method::POST, "/rooms", content_type, listing.clone(), Some(&host.token)).await;
            assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
        }
        let sign_up = json!({ "username": "plain", "password": PASSWORD }).to_string();
        let response = send_raw(&app, Method::POST, "/users", Some("text/plain"), sign_up.clone(), None).await;
        assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
        assert_eq!(app.room_count().await, 0);
        assert!(app.username_is_free("plain").await);

        // JSON with a charset parameter is JSON.
        let with_charset = send_raw(&app, Method::POST, "/rooms", Some("application/json; charset=utf-8"), listing, Some(&host.token)).await;
        assert_eq!(with_charset.status(), StatusCode::CREATED);
    }

    async fn unknown_paths_are_not_found(app) {
        for (method, path) in [
            (Method::GET, "/nowhere"),
            (Method::POST, "/nowhere"),
            (Method::GET, "/rooms/a/b"),
            (Method::GET, "/users/me/extra"),
            // `/` itself is the web pages' home.
            (Method::GET, "/stays"),
        ] {
            let response = send_raw(&app, method.clone(), path, None, "", None).await;
            let problem = assert_problem(response, StatusCode::NOT_FOUND).await;
            assert!(problem.detail.is_some(), "{method} {path}");
        }
    }

    /// A 405 names the methods the resource does take; a refused PUT leaves the room as it was.
    async fn wrong_methods_are_not_allowed(app) {
        let host = app.new_user("host").await;
        let registered = app.register_room(&host.token, &room("Steady room", 55_000)).await;
        let id = registered.id;
        let room_path = format!("/rooms/{id}");
        let change = json!({ "price": 1 }).to_string();
        for (method, path, allowed) in [
            (Method::PUT, room_path.as_str(), ["GET", "DELETE"].as_slice()),
            (Method::PATCH, room_path.as_str(), &["GET", "DELETE"]),
            (Method::PUT, "/rooms", &["GET", "POST"]),
            (Method::DELETE, "/rooms", &["GET", "POST"]),
            (Method::DELETE, "/users", &["POST"]),
            (Method::GET, "/auth/token", &["POST"]),
            (Method::POST, "/health/ready", &["GET"]),
        ] {
            let response = send_raw(&app, method.clone(), path, Some("application/json"), change.clone(), Some(&host.token)).await;
            let allow = header(&response, reqwest::header::ALLOW).to_uppercase();
            assert_problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
            for method_allowed in allowed {
                assert!(allow.contains(method_allowed), "{method} {path}: Allow {allow:?} names {method_allowed}");
            }
        }
        assert_eq!(app.room(id).await, registered, "the room is unchanged");
        assert_eq!(app.me(&host.token).await.status(), StatusCode::OK, "the user still exists");
    }
}
