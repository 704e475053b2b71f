//! The public API, as the pages call it: over HTTP, at the address given in the settings (the
//! process's own listener when it runs the contexts too, the gateway otherwise), with the
//! visitor's token, through the same typed client ([`mybnb_client`]) the test suites and the
//! bench speak. The pages know no more of mybnb than any other client does; what they add is
//! how a failure reads on a page ([`ApiFailure`]).

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::HeaderMap;
use mybnb_client::{ApiError, Client};
use mybnb_platform::auth::ServiceToken;
use mybnb_platform::forwarded::vouch;
use mybnb_platform::http::CLIENT_POOL_IDLE;
use reqwest::{Method, RequestBuilder, StatusCode};
use url::Url;
use uuid::Uuid;

pub use mybnb_client::{
    AccessToken, Availability, Credentials, MyPage, NewBooking, NewRoom, NewUser, NotificationPage,
    Problem, Room, RoomPage, Stay, User,
};

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

impl From<ApiError> for ApiFailure {
    fn from(error: ApiError) -> ApiFailure {
        match error {
            ApiError::Refused {
                status, problem, ..
            } if !status.is_server_error() => match problem {
                Some(problem) if problem.kind.as_deref() == Some(Problem::IN_PROGRESS) => {
                    ApiFailure::InProgress
                }
                problem => ApiFailure::Refused {
                    status,
                    detail: problem
                        .map(|problem| problem.message().to_owned())
                        .unwrap_or_default(),
                },
            },
            ApiError::Refused { status, .. } => {
                tracing::warn!(%status, "the API failed");
                ApiFailure::Unavailable
            }
            error => {
                tracing::warn!(%error, "the API did not answer as expected");
                ApiFailure::Unavailable
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiFailure>;

#[derive(Clone)]
pub struct Api {
    /// Each call bounded by the settings' timeout.
    calls: Client,
    /// The live notification stream, whose body has no end: bounded on connecting only.
    streams: Client,
    /// What bounds each call.
    timeout: Duration,
    /// Vouches for the browser's address, which identity limits attempts by.
    token: ServiceToken,
}

impl Api {
    /// `timeout` bounds each call but the live notification stream.
    pub fn new(base: Url, timeout: Duration, token: ServiceToken) -> anyhow::Result<Api> {
        let pool = || {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .pool_idle_timeout(CLIENT_POOL_IDLE)
        };
        Ok(Api {
            calls: Client::with_http(base.as_str(), pool().timeout(timeout).build()?)?,
            streams: Client::with_http(base.as_str(), pool().build()?)?,
            timeout,
            token,
        })
    }

    pub async fn sign_up(&self, new: &NewUser<'_>, client: Option<SocketAddr>) -> ApiResult<User> {
        let request = self.for_client(Method::POST, "/users", client).json(new);
        Ok(self.calls.json(request).await?)
    }

    pub async fn token(
        &self,
        credentials: &Credentials<'_>,
        client: Option<SocketAddr>,
    ) -> ApiResult<AccessToken> {
        let request = self.for_client(Method::POST, "/auth/token", client);
        Ok(self.calls.json(request.json(credentials)).await?)
    }

    /// A request that says, with the service token, that it is on behalf of the browser at
    /// `client`, so that identity counts that browser's attempts, not the web's.
    fn for_client(&self, method: Method, path: &str, client: Option<SocketAddr>) -> RequestBuilder {
        let request = self.calls.request(method, path, None);
        let Some(client) = client else {
            return request;
        };
        let mut headers = HeaderMap::new();
        vouch(&mut headers, &self.token, None, client);
        request.headers(headers)
    }

    pub async fn me(&self, token: &str) -> ApiResult<User> {
        Ok(self.calls.me(token).await?)
    }

    pub async fn search(&self, query: &[(&str, String)]) -> ApiResult<RoomPage> {
        Ok(self.calls.search(query).await?)
    }

    pub async fn room(&self, id: Uuid) -> ApiResult<Room> {
        Ok(self.calls.room(id).await?)
    }

    pub async fn availability(&self, id: Uuid, from: &str, to: &str) -> ApiResult<Availability> {
        Ok(self.calls.availability(id, from, to).await?)
    }

    pub async fn register_room(&self, token: &str, room: &NewRoom<'_>) -> ApiResult<Room> {
        Ok(self.calls.register_room(token, room).await?)
    }

    pub async fn delete_room(&self, token: &str, id: Uuid) -> ApiResult<()> {
        Ok(self.calls.delete_room(token, id).await?)
    }

    /// Books and pays; the key makes a repeated submission of the same form one booking. A
    /// repeat that arrives while the first is still being paid for waits for the first one's
    /// outcome, and answers with it.
    pub async fn book(&self, token: &str, key: &str, booking: &NewBooking) -> ApiResult<()> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            match self
                .calls
                .book(token, booking, Some(key))
                .await
                .map_err(ApiFailure::from)
            {
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
        Ok(self.calls.cancel(token, booking).await.map(drop)?)
    }

    pub async fn my_page(&self, token: &str) -> ApiResult<MyPage> {
        Ok(self.calls.my_page(token).await?)
    }

    /// The newest page of the caller's notifications.
    pub async fn notifications(&self, token: &str) -> ApiResult<NotificationPage> {
        Ok(self.calls.notifications(token, None).await?)
    }

    /// The caller's live notifications, as the API streams them; those after `after` first.
    pub async fn notification_stream(
        &self,
        token: &str,
        after: Option<&str>,
    ) -> ApiResult<reqwest::Response> {
        Ok(self.streams.notification_stream(token, after).await?)
    }
}
