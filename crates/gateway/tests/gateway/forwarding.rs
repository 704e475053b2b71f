//! What a forwarded request carries: the identity the gateway verified, never one a client
//! claims; the client's address; no header about the client's connection.

use uuid::Uuid;

use crate::support::{
    EchoCaller, Gateway, Instance, SERVICE_TOKEN, forged_token_for, rooms, token_for,
};

const IDENTITY_HEADERS: [&str; 4] = [
    "x-mybnb-gateway",
    "x-mybnb-user-id",
    "x-mybnb-username",
    "x-mybnb-client-addr",
];

async fn gateway_with_one_instance() -> (Gateway, Instance) {
    let instance = Instance::start("a").await;
    let gateway = Gateway::start(vec![rooms(vec![instance.url()])]).await;
    (gateway, instance)
}

#[tokio::test]
async fn a_valid_token_reaches_the_service_as_its_caller() {
    let (gateway, _instance) = gateway_with_one_instance().await;
    let user_id = Uuid::now_v7();

    let echo = gateway
        .echo(
            gateway
                .get("/rooms/mine")
                .bearer_auth(token_for(user_id, "김민지 host")),
        )
        .await;

    assert_eq!(
        echo.caller,
        Some(EchoCaller {
            user_id,
            username: "김민지 host".to_owned()
        })
    );
}

#[tokio::test]
async fn an_invalid_token_passes_no_identity() {
    let (gateway, _instance) = gateway_with_one_instance().await;

    for token in [
        forged_token_for(Uuid::now_v7(), "mallory"),
        "not-a-jwt".to_owned(),
    ] {
        let echo = gateway
            .echo(gateway.get("/rooms/mine").bearer_auth(&token))
            .await;
        assert_eq!(echo.caller, None, "with {token}");
        assert!(!echo.headers.contains_key("x-mybnb-user-id"));
        assert!(!echo.headers.contains_key("x-mybnb-username"));
    }
}

#[tokio::test]
async fn identity_headers_sent_by_a_client_are_never_believed_and_its_address_only_with_the_token()
{
    let (gateway, _instance) = gateway_with_one_instance().await;
    let claimed = Uuid::now_v7();
    // Even with the service token itself, which a client should never have.
    let claiming = |request: reqwest::RequestBuilder| {
        request
            .header("x-mybnb-gateway", SERVICE_TOKEN)
            .header("x-mybnb-user-id", claimed.to_string())
            .header("x-mybnb-username", "mallory")
            .header("x-mybnb-client-addr", "10.9.9.9:1")
    };

    let anonymous = gateway.echo(claiming(gateway.get("/rooms/mine"))).await;
    assert_eq!(anonymous.caller, None);
    assert!(!anonymous.headers.contains_key("x-mybnb-user-id"));
    assert!(!anonymous.headers.contains_key("x-mybnb-username"));
    // The client address is the one thing a holder of the service token may state: the web
    // pages do, for the browser they call the API for.
    let client = anonymous.client.expect("the gateway's word on the client");
    assert_eq!(client, "10.9.9.9:1".parse().expect("an address"));
    let guessing = gateway
        .echo(
            gateway
                .get("/rooms/mine")
                .header("x-mybnb-gateway", "a-guess-at-the-service-token")
                .header("x-mybnb-client-addr", "10.9.9.9:1"),
        )
        .await;
    let client = guessing.client.expect("the gateway's word on the client");
    assert!(client.ip().is_loopback(), "{client}");

    let user_id = Uuid::now_v7();
    let signed_in = gateway
        .echo(claiming(
            gateway
                .get("/rooms/mine")
                .bearer_auth(token_for(user_id, "minji")),
        ))
        .await;
    assert_eq!(
        signed_in.caller,
        Some(EchoCaller {
            user_id,
            username: "minji".to_owned()
        })
    );
    for name in IDENTITY_HEADERS {
        assert!(
            !signed_in.headers[name].contains("mallory")
                && !signed_in.headers[name].contains(&claimed.to_string()),
            "{name}: {}",
            signed_in.headers[name]
        );
    }
}

#[tokio::test]
async fn hop_by_hop_headers_are_dropped_both_ways() {
    let (gateway, _instance) = gateway_with_one_instance().await;

    let echo = gateway
        .echo(
            gateway
                .get("/rooms/abc")
                .header("connection", "x-client-hop")
                .header("x-client-hop", "1")
                .header("keep-alive", "timeout=5")
                .header("proxy-authorization", "Basic c2VjcmV0")
                .header("te", "trailers")
                .header("x-client-kept", "1"),
        )
        .await;
    for dropped in ["x-client-hop", "keep-alive", "proxy-authorization", "te"] {
        assert!(
            !echo.headers.contains_key(dropped),
            "{dropped} was forwarded: {:?}",
            echo.headers
        );
    }
    assert!(
        echo.headers
            .get("connection")
            .is_none_or(|value| !value.contains("x-client-hop"))
    );
    assert_eq!(echo.headers["x-client-kept"], "1");

    let response = gateway.get("/rooms/hop").send().await.expect("an answer");
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert!(!headers.contains_key("x-upstream-hop"), "{headers:?}");
    assert!(!headers.contains_key("keep-alive"), "{headers:?}");
    assert_eq!(headers["x-upstream-kept"], "1");
}

#[tokio::test]
async fn the_service_learns_the_clients_address_and_the_host_it_asked_for() {
    let (gateway, instance) = gateway_with_one_instance().await;

    let direct = gateway.echo(gateway.get("/rooms/abc")).await;
    assert_eq!(direct.headers["x-forwarded-for"], "127.0.0.1");
    assert_eq!(
        direct.headers["x-forwarded-host"],
        gateway.address.to_string()
    );
    assert_eq!(direct.headers["host"], instance.address.to_string());

    let proxied = gateway
        .echo(
            gateway
                .get("/rooms/abc")
                .header("x-forwarded-for", "203.0.113.7"),
        )
        .await;
    assert_eq!(proxied.headers["x-forwarded-for"], "203.0.113.7, 127.0.0.1");

    let proxied_twice = gateway
        .echo(
            gateway
                .get("/rooms/abc")
                .header("x-forwarded-for", "203.0.113.7")
                .header("x-forwarded-for", "198.51.100.1"),
        )
        .await;
    assert_eq!(
        proxied_twice.headers["x-forwarded-for"],
        "203.0.113.7, 198.51.100.1, 127.0.0.1"
    );
}
