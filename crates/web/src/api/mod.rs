//! The public API, as the pages call it: over HTTP, at the address given in the settings (the
//! process's own listener when it runs the contexts too, the gateway otherwise), with the
//! visitor's token. The pages know no more of mybnb than any other client does.

mod types;

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::HeaderMap;
use mybnb_platform::auth::ServiceToken;
use mybnb_platform::forwarded::vouch;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;
use uuid::Uuid;

pub use types::*;

/// What went wrong with a call, as far as a page needs to tell.
#[derive(Debug)]
pub enum ApiFailure {
    /// The API refused: 4xx, with its problem document's detail when it sent one.
    Refused { status: StatusCode, detail: String },
    /// The API, or something behind it, cannot answer now: a 5xx, a timeout, no connection.
    /// Pages say "try again shortly"; the cause goes to the log only.
    Unavailable,
    /// A request with the same idempotency key is still being handled.
    InProgress,
}

/// The problem type of [`ApiFailure::InProgress`].
const IN_PROGRESS: &str = "/problems/request-in-progress";

pub type ApiResult<T> = Result<T, ApiFailure>;

#[derive(Clone)]
pub struct Api {
    base: Url,
    http: reqwest::Client,
    timeout: Duration,
    /// Vouches for the browser's address, which identity limits attempts by.
    token: ServiceToken,
}

impl Api {
    /// `timeout` bounds each call but the live notification stream.
    pub fn new(base: Url, timeout: Duration, token: ServiceToken) -> anyhow::Result<Api> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Api {
            base,
            http,
            timeout,
            token,
        })
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> ApiResult<RequestBuilder> {
        let url = self.base.join(path).map_err(|error| {
            tracing::error!(%error, path, "building an API address");
            ApiFailure::Unavailable
        })?;
        let request = self.http.request(method, url);
        Ok(match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        })
    }

    async fn send(&self, request: RequestBuilder) -> ApiResult<reqwest::Response> {
        let response = request
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|error| {
                tracing::warn!(%error, "the API did not answer");
                ApiFailure::Unavailable
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status.is_server_error() {
            tracing::warn!(%status, url = %response.url(), "the API failed");
            return Err(ApiFailure::Unavailable);
        }
        let (kind, detail) = response
            .json::<Problem>()
            .await
            .map(|problem| (problem.kind, problem.detail.unwrap_or(problem.title)))
            .unwrap_or_default();
        if kind.as_deref() == Some(IN_PROGRESS) {
            return Err(ApiFailure::InProgress);
        }
        Err(ApiFailure::Refused { status, detail })
    }

    async fn json<T: DeserializeOwned>(&self, request: RequestBuilder) -> ApiResult<T> {
        self.send(request).await?.json().await.map_err(|error| {
            tracing::error!(%error, "the API answered something unexpected");
            ApiFailure::Unavailable
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, token: Option<&str>) -> ApiResult<T> {
        self.json(self.request(Method::GET, path, token)?).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &B,
    ) -> ApiResult<T> {
        self.json(self.request(Method::POST, path, token)?.json(body))
            .await
    }

    pub async fn sign_up(&self, new: &NewUser<'_>, client: Option<SocketAddr>) -> ApiResult<User> {
        let request = self.request(Method::POST, "/users", None)?;
        self.json(self.for_client(request, client).json(new)).await
    }

    pub async fn token(
        &self,
        credentials: &Credentials<'_>,
        client: Option<SocketAddr>,
    ) -> ApiResult<AccessToken> {
        let request = self.request(Method::POST, "/auth/token", None)?;
        self.json(self.for_client(request, client).json(credentials))
            .await
    }

    /// Says, with the service token, that the request is on behalf of the browser at `client`,
    /// so that identity counts that browser's attempts, not the web's.
    fn for_client(&self, request: RequestBuilder, client: Option<SocketAddr>) -> RequestBuilder {
        let Some(client) = client else {
            return request;
        };
        let mut headers = HeaderMap::new();
        vouch(&mut headers, &self.token, None, client);
        request.headers(headers)
    }

    pub async fn me(&self, token: &str) -> ApiResult<User> {
        self.get("/users/me", Some(token)).await
    }

    pub async fn search(&self, query: &[(&str, String)]) -> ApiResult<RoomPage> {
        self.json(self.request(Method::GET, "/rooms", None)?.query(query))
            .await
    }

    pub async fn room(&self, id: Uuid) -> ApiResult<Room> {
        self.get(&format!("/rooms/{id}"), None).await
    }

    pub async fn availability(&self, id: Uuid, from: &str, to: &str) -> ApiResult<Availability> {
        let request = self
            .request(Method::GET, &format!("/rooms/{id}/availability"), None)?
            .query(&[("from", from), ("to", to)]);
        self.json(request).await
    }

    pub async fn register_room(&self, token: &str, room: &NewRoom<'_>) -> ApiResult<Room> {
        self.post("/rooms", Some(token), room).await
    }

    pub async fn delete_room(&self, token: &str, id: Uuid) -> ApiResult<()> {
        self.send(self.request(Method::DELETE, &format!("/rooms/{id}"), Some(token))?)
            .await
            .map(drop)
    }

    /// Books and pays; the key makes a repeated submission of the same form one booking. A
    /// repeat that arrives while the first is still being paid for waits for the first one's
    /// outcome, and answers with it.
    pub async fn book(&self, token: &str, key: &str, booking: &NewBooking) -> ApiResult<()> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let request = self
                .request(Method::POST, "/bookings", Some(token))?
                .header("idempotency-key", key)
                .json(booking);
            match self.send(request).await {
                Err(ApiFailure::InProgress) if tokio::time::Instant::now() < deadline => {
                    // The first request has a payment call to finish; ask again in a moment.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(ApiFailure::InProgress) => return Err(ApiFailure::Unavailable),
                answer => return answer.map(drop),
            }
        }
    }

    pub async fn cancel(&self, token: &str, booking: Uuid) -> ApiResult<()> {
        let path = format!("/bookings/{booking}/cancel");
        self.send(self.request(Method::POST, &path, Some(token))?)
            .await
            .map(drop)
    }

    pub async fn my_page(&self, token: &str) -> ApiResult<MyPage> {
        self.get("/mypage", Some(token)).await
    }

    pub async fn notifications(&self, token: &str) -> ApiResult<Notifications> {
        self.get("/notifications", Some(token)).await
    }

    /// The caller's live notifications, as the API streams them; those after `after` first.
    pub async fn notification_stream(
        &self,
        token: &str,
        after: Option<&str>,
    ) -> ApiResult<reqwest::Response> {
        let mut request = self.request(Method::GET, "/notifications/stream", Some(token))?;
        if let Some(after) = after {
            request = request.header("last-event-id", after);
        }
        let response = request.send().await.map_err(|error| {
            tracing::warn!(%error, "the notification stream did not open");
            ApiFailure::Unavailable
        })?;
        match response.status() {
            status if status.is_success() => Ok(response),
            status if status.is_server_error() => Err(ApiFailure::Unavailable),
            status => Err(ApiFailure::Refused {
                status,
                detail: String::new(),
            }),
        }
    }
}
