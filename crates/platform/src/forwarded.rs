//! What mybnb's gateway tells the service it forwards a request to: the caller it has already
//! authenticated and the client's address, vouched for by the service token.
//!
//! Both sides of the exchange live here. The gateway calls [`vouch`] on each request it
//! forwards. Every service runs [`trust_gateway`] first, which turns a vouched-for request into
//! the same [`Caller`] and `ConnectInfo` a direct request gives, and strips these headers from
//! every other request, so a client cannot claim to be anyone by sending them.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use uuid::Uuid;

use crate::auth::{Caller, ServiceToken};

/// The service token: the request comes from the gateway.
const VOUCHED_BY: &str = "x-mybnb-gateway";
const USER_ID: &str = "x-mybnb-user-id";
/// Percent-encoded: a username may hold characters a header cannot.
const USERNAME: &str = "x-mybnb-username";
const CLIENT_ADDR: &str = "x-mybnb-client-addr";
const HEADERS: [&str; 4] = [VOUCHED_BY, USER_ID, USERNAME, CLIENT_ADDR];

/// Replaces whatever the client sent in these headers with what the gateway vouches for.
pub fn vouch(
    headers: &mut HeaderMap,
    token: &ServiceToken,
    caller: Option<&Caller>,
    client: SocketAddr,
) {
    for name in HEADERS {
        headers.remove(name);
    }
    // The token is printable ASCII (checked with the settings), so this cannot fail.
    if let Ok(secret) = HeaderValue::from_str(token.secret()) {
        headers.insert(VOUCHED_BY, secret);
    }
    if let Some(caller) = caller {
        let username = utf8_percent_encode(&caller.username, NON_ALPHANUMERIC).to_string();
        for (name, value) in [(USER_ID, caller.user_id.to_string()), (USERNAME, username)] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
    }
    if let Ok(value) = HeaderValue::from_str(&client.to_string()) {
        headers.insert(CLIENT_ADDR, value);
    }
}

/// The client address another of mybnb's own services vouched for with the service token — the
/// web pages, calling the API for a browser — or `None` when the headers carry no valid vouch.
/// The gateway passes such an address on instead of the calling service's own, so that what is
/// limited per client (identity's attempts) counts browsers, not the web process.
pub fn vouched_client(headers: &HeaderMap, token: &ServiceToken) -> Option<SocketAddr> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    text(VOUCHED_BY)
        .filter(|presented| token.admits(presented))
        .and(text(CLIENT_ADDR))
        .and_then(|addr| addr.parse().ok())
}

/// Middleware: believes the gateway's headers when they carry the service token, and drops them
/// in any case.
pub async fn trust_gateway(
    State(token): State<ServiceToken>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if text(VOUCHED_BY).is_some_and(|presented| token.admits(presented)) {
        let user_id = text(USER_ID).and_then(|id| Uuid::parse_str(id).ok());
        let username = text(USERNAME)
            .and_then(|name| percent_decode_str(name).decode_utf8().ok())
            .map(|name| name.into_owned());
        let client = text(CLIENT_ADDR).and_then(|addr| addr.parse::<SocketAddr>().ok());
        if let (Some(user_id), Some(username)) = (user_id, username) {
            request
                .extensions_mut()
                .insert(Caller { user_id, username });
        }
        if let Some(client) = client {
            request.extensions_mut().insert(ConnectInfo(client));
        }
    }
    let headers = request.headers_mut();
    for name in HEADERS {
        headers.remove(name);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use secrecy::SecretString;
    use tower::ServiceExt;

    use super::*;

    fn token(secret: &str) -> ServiceToken {
        ServiceToken::new(SecretString::from(secret.to_owned()))
    }

    /// Answers with the caller the request was believed to come from, if any.
    fn service(token: ServiceToken) -> Router {
        Router::new()
            .route(
                "/",
                get(|request: Request| async move {
                    let caller = request.extensions().get::<Caller>().cloned();
                    let leaked = HEADERS
                        .iter()
                        .any(|name| request.headers().contains_key(*name));
                    format!(
                        "{}|{leaked}",
                        caller.map_or("nobody".to_owned(), |caller| caller.username)
                    )
                }),
            )
            .layer(axum::middleware::from_fn_with_state(token, trust_gateway))
    }

    async fn answer(router: Router, headers: HeaderMap) -> String {
        let mut request = Request::new(Body::empty());
        *request.headers_mut() = headers;
        let response = router.oneshot(request).await.expect("infallible");
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .expect("a small body");
        String::from_utf8_lossy(&body).into_owned()
    }

    fn vouched(by: &ServiceToken) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let caller = Caller {
            user_id: Uuid::now_v7(),
            username: "김민지 host".to_owned(),
        };
        vouch(&mut headers, by, Some(&caller), ([127, 0, 0, 1], 9).into());
        headers
    }

    #[tokio::test]
    async fn the_gateways_word_is_believed_and_not_passed_on() {
        let gateway = token("the-service-token-shared-by-mybnb");
        assert_eq!(
            answer(service(gateway.clone()), vouched(&gateway)).await,
            "김민지 host|false"
        );
    }

    #[tokio::test]
    async fn headers_without_the_token_are_dropped_unbelieved() {
        let impostor = token("a-guess-at-the-service-token-xxxx");
        let service_token = token("the-service-token-shared-by-mybnb");
        assert_eq!(
            answer(service(service_token), vouched(&impostor)).await,
            "nobody|false"
        );
    }

    #[test]
    fn a_vouched_client_address_counts_only_with_the_token() {
        let shared = token("the-service-token-shared-by-mybnb");
        let impostor = token("a-guess-at-the-service-token-xxxx");
        let client: SocketAddr = ([127, 0, 0, 1], 9).into();
        assert_eq!(vouched_client(&vouched(&shared), &shared), Some(client));
        assert_eq!(vouched_client(&vouched(&impostor), &shared), None);
        assert_eq!(vouched_client(&HeaderMap::new(), &shared), None);
    }
}
