//! Which service a path goes to: the one whose prefix owns it.

use crate::support::{Gateway, Instance, rooms, users};

#[tokio::test]
async fn a_prefix_owns_itself_and_everything_below_it() {
    let (room, user) = (Instance::start("room").await, Instance::start("user").await);
    let gateway = Gateway::start(vec![rooms(vec![room.url()]), users(vec![user.url()])]).await;

    for (path, instance) in [
        ("/rooms", "room"),
        ("/rooms/", "room"),
        ("/rooms/abc", "room"),
        ("/rooms/abc/photos?page=2&size=10", "room"),
        ("/users/me", "user"),
    ] {
        let echo = gateway.echo(gateway.get(path)).await;
        assert_eq!(
            (echo.instance.as_str(), echo.uri.as_str()),
            (instance, path)
        );
    }
    let echo = gateway
        .echo(
            gateway
                .post("/rooms/abc")
                .json(&serde_json::json!({ "name": "loft" })),
        )
        .await;
    assert_eq!(echo.method, "POST");
    assert_eq!(echo.headers["content-type"], "application/json");
    assert_eq!(echo.body, r#"{"name":"loft"}"#);
}

#[tokio::test]
async fn a_path_that_only_starts_like_a_prefix_is_not_found() {
    let room = Instance::start("room").await;
    let gateway = Gateway::start(vec![rooms(vec![room.url()])]).await;

    for path in ["/roomsx", "/roomsx/abc", "/room", "/"] {
        let response = gateway.get(path).send().await.expect("an answer");
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    assert_eq!(room.served(), 0);
}
