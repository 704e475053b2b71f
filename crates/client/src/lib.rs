//! A typed client of mybnb's public HTTP API — the one the API, web, browser and distributed
//! suites, the bench and the web pages speak — against any base URL: one all-in-one process,
//! one context's process, or the gateway in front of many.
//!
//! Each call sends a typed request body ([`types`]) and answers a typed body, or an
//! [`ApiError`]: a refusal with its RFC 9457 [`Problem`], or a transport failure. Tests assert
//! on fields, not on indexed JSON. For what a typed call cannot send — malformed bodies, odd
//! headers, other methods — [`Client::request`] hands out a `reqwest::RequestBuilder` with the
//! base URL and the token already set.
//!
//! [`metric`] and [`metric_sum`] read samples out of `/metrics`.
//!
//! [`fixtures`] holds what every suite shares: the password of the users they make, the dates
//! bookings take, and how long to wait for what happens by events.

pub mod fixtures;
pub mod types;

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;
use uuid::Uuid;

pub use fixtures::{PASSWORD, SETTLED_WITHIN, day};
pub use types::*;

/// How a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API answered with a status that is not a success.
    #[error("{status}: {body}")]
    Refused {
        status: StatusCode,
        /// The problem document, when the body was one.
        problem: Option<Box<Problem>>,
        /// The body as sent.
        body: String,
    },
    /// The API was not reached, or did not answer in time.
    #[error("the API did not answer: {0}")]
    Transport(#[from] reqwest::Error),
    /// The API answered a success with a body that is not what the call expects.
    #[error("the API answered {status} with an unexpected body ({reason}): {body}")]
    Unexpected {
        status: StatusCode,
        reason: String,
        body: String,
    },
    /// The path does not make a URL with the base.
    #[error("{path} is not a path under the API's base: {reason}")]
    Path { path: String, reason: String },
}

impl ApiError {
    /// The status of a refusal; `None` when the API was not reached.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Refused { status, .. } | ApiError::Unexpected { status, .. } => Some(*status),
            ApiError::Transport(error) => error.status(),
            ApiError::Path { .. } => None,
        }
    }

    /// The problem document of a refusal that sent one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ApiError::Refused { problem, .. } => problem.as_deref(),
            _ => None,
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The public API at one base URL. Cheap to clone: clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    base: Url,
    http: reqwest::Client,
}

/// The bound on one request (body included) of [`Client::new`]'s connection pool.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long [`Client::new`]'s pool keeps an idle connection: less than a mybnb listener's
/// default `http_header_timeout_ms` (20 s), after which the listener closes it.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(15);

impl Client {
    /// A client of the API at `base` (`http://127.0.0.1:8080`, a gateway, …) with a pool of its
    /// own that goes through no proxy and bounds each request by [`REQUEST_TIMEOUT`].
    pub fn new(base: &str) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .build()?;
        Client::with_http(base, http)
    }

    /// A client of the API at `base` that sends through `http`, for pool, timeout and redirect
    /// settings of the caller's choice.
    pub fn with_http(base: &str, http: reqwest::Client) -> anyhow::Result<Client> {
        Ok(Client {
            base: Url::parse(base)?,
            http,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The connection pool.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `path` (with its query, if any) under the base URL.
    pub fn url(&self, path: &str) -> ApiResult<Url> {
        self.base.join(path).map_err(|error| ApiError::Path {
            path: path.to_owned(),
            reason: error.to_string(),
        })
    }

    /// The escape hatch: a request to `path` with the base URL and, when given, the bearer
    /// token set; anything else (body, headers) is the caller's. A path that makes no URL
    /// sends to the base URL's `/` with the path as text, so the request still fails loudly
    /// at the server.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let url = match self.url(path) {
            Ok(url) => url.to_string(),
            Err(_) => format!("{}{path}", self.base.as_str().trim_end_matches('/')),
        };
        let request = self.http.request(method, url);
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends `request`; a success as it is, anything else as [`ApiError::Refused`].
    pub async fn send(&self, request: RequestBuilder) -> ApiResult<Response> {
        let response = request.send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await?;
        let problem = serde_json::from_str(&body).ok();
        Err(ApiError::Refused {
            status,
            problem,
            body,
        })
    }

    /// Sends `request` and reads the success's body as `T`.
    pub async fn json<T: DeserializeOwned>(&self, request: RequestBuilder) -> ApiResult<T> {
        let response = self.send(request).await?;
        let status = response.status();
        let body = response.text().await?;
        serde_json::from_str(&body).map_err(|error| ApiError::Unexpected {
            status,
            reason: error.to_string(),
            body,
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, token: Option<&str>) -> ApiResult<T> {
        self.json(self.request(Method::GET, path, token)).await
    }

    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &B,
    ) -> ApiResult<T> {
        self.json(self.request(Method::POST, path, token).json(body))
            .await
    }

    /// `POST /users`.
    pub async fn sign_up(&self, new: &NewUser<'_>) -> ApiResult<User> {
        self.post("/users", None, new).await
    }

    /// `POST /auth/token`.
    pub async fn token(&self, credentials: &Credentials<'_>) -> ApiResult<AccessToken> {
        self.post("/auth/token", None, credentials).await
    }

    /// Signs `username` up with `password` and takes a token for them.
    pub async fn sign_up_with_token(
        &self,
        username: &str,
        password: &str,
    ) -> ApiResult<(User, AccessToken)> {
        let user = self
            .sign_up(&NewUser {
                username,
                password,
                ..NewUser::default()
            })
            .await?;
        let token = self.token(&Credentials { username, password }).await?;
        Ok((user, token))
    }

    /// `GET /users/me`.
    pub async fn me(&self, token: &str) -> ApiResult<User> {
        self.get("/users/me", Some(token)).await
    }

    /// `POST /rooms`, as the holder of `token`.
    pub async fn register_room(&self, token: &str, room: &NewRoom<'_>) -> ApiResult<Room> {
        self.post("/rooms", Some(token), room).await
    }

    /// `GET /rooms/{id}`.
    pub async fn room(&self, id: Uuid) -> ApiResult<Room> {
        self.get(&format!("/rooms/{id}"), None).await
    }

    /// `GET /rooms` with `query` (`q`, `city`, `checkIn`, `checkOut`, `guests`, `minPrice`,
    /// `maxPrice`, `host`, `page`, `size`).
    pub async fn search<V: Serialize>(&self, query: &[(&str, V)]) -> ApiResult<RoomPage> {
        self.json(self.request(Method::GET, "/rooms", None).query(query))
            .await
    }

    /// `GET /rooms/{id}/availability?from&to`.
    pub async fn availability(&self, id: Uuid, from: &str, to: &str) -> ApiResult<Availability> {
        let request = self
            .request(Method::GET, &format!("/rooms/{id}/availability"), None)
            .query(&[("from", from), ("to", to)]);
        self.json(request).await
    }

    /// `DELETE /rooms/{id}`, as the holder of `token`.
    pub async fn delete_room(&self, token: &str, id: Uuid) -> ApiResult<()> {
        let path = format!("/rooms/{id}");
        self.send(self.request(Method::DELETE, &path, Some(token)))
            .await
            .map(drop)
    }

    /// `POST /bookings` as the holder of `token`, with the `Idempotency-Key` when given.
    pub async fn book(
        &self,
        token: &str,
        booking: &NewBooking,
        idempotency_key: Option<&str>,
    ) -> ApiResult<Booking> {
        let mut request = self
            .request(Method::POST, "/bookings", Some(token))
            .json(booking);
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        self.json(request).await
    }

    /// `GET /bookings/{id}`, as the holder of `token`.
    pub async fn booking(&self, token: &str, id: Uuid) -> ApiResult<Booking> {
        self.get(&format!("/bookings/{id}"), Some(token)).await
    }

    /// `GET /bookings`: the bookings of the holder of `token`, as guest, in every status.
    pub async fn bookings(&self, token: &str) -> ApiResult<Vec<Booking>> {
        let list: BookingList = self.get("/bookings", Some(token)).await?;
        Ok(list.items)
    }

    /// `POST /bookings/{id}/cancel`, as the holder of `token`.
    pub async fn cancel(&self, token: &str, id: Uuid) -> ApiResult<Booking> {
        let path = format!("/bookings/{id}/cancel");
        self.json(self.request(Method::POST, &path, Some(token)))
            .await
    }

    /// `GET /payments?bookingId=`, as the holder of `token`.
    pub async fn payments(&self, token: &str, booking_id: Uuid) -> ApiResult<Vec<Payment>> {
        let request = self
            .request(Method::GET, "/payments", Some(token))
            .query(&[("bookingId", booking_id)]);
        let list: PaymentList = self.json(request).await?;
        Ok(list.items)
    }

    /// One page of `GET /notifications`, as the holder of `token`; the API's default page
    /// when `page` is `None`.
    pub async fn notifications(
        &self,
        token: &str,
        page: Option<(u32, u32)>,
    ) -> ApiResult<NotificationPage> {
        let mut request = self.request(Method::GET, "/notifications", Some(token));
        if let Some((page, size)) = page {
            request = request.query(&[("page", page), ("size", size)]);
        }
        self.json(request).await
    }

    /// The whole notification history of the holder of `token`, newest first, read a hundred
    /// at a time.
    pub async fn all_notifications(&self, token: &str) -> ApiResult<Vec<Notification>> {
        const SIZE: u32 = 100;
        let mut all = Vec::new();
        for page in 1.. {
            let found = self.notifications(token, Some((page, SIZE))).await?;
            let last = found.items.len() < SIZE as usize;
            all.extend(found.items);
            if last || all.len() as u64 >= found.total {
                break;
            }
        }
        Ok(all)
    }

    /// Opens `GET /notifications/stream` as the holder of `token`, sending `last_event_id`
    /// when given. The answer's body has no end: send it through a pool without a
    /// whole-request timeout ([`Client::with_http`]) and bound each read instead.
    pub async fn notification_stream(
        &self,
        token: &str,
        last_event_id: Option<&str>,
    ) -> ApiResult<Response> {
        let mut request = self.request(Method::GET, "/notifications/stream", Some(token));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        self.send(request).await
    }

    /// `GET /mypage`, as the holder of `token`.
    pub async fn my_page(&self, token: &str) -> ApiResult<MyPage> {
        self.get("/mypage", Some(token)).await
    }

    /// `GET /health/ready`: the report of a process ready for traffic (`ready` or
    /// `degraded`); one that is not answers 503 with a problem whose `checks` say why.
    pub async fn readiness(&self) -> ApiResult<Readiness> {
        self.get("/health/ready", None).await
    }

    /// Whether `GET /health/ready` answers 200.
    pub async fn is_ready(&self) -> bool {
        let request = self.request(Method::GET, "/health/ready", None);
        matches!(request.send().await, Ok(response) if response.status() == StatusCode::OK)
    }

    /// `GET /health/live` succeeds.
    pub async fn live(&self) -> ApiResult<()> {
        self.send(self.request(Method::GET, "/health/live", None))
            .await
            .map(drop)
    }

    /// `GET /metrics`: Prometheus text.
    pub async fn metrics(&self) -> ApiResult<String> {
        let response = self
            .send(self.request(Method::GET, "/metrics", None))
            .await?;
        Ok(response.text().await?)
    }
}

/// The value of the sample `name` whose labels include `labels`, in Prometheus text.
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let (found, value) = match rest.strip_prefix('{') {
            Some(labelled) => labelled.rsplit_once("} ")?,
            None => ("", rest.strip_prefix(' ')?),
        };
        let found: Vec<&str> = found.split(',').collect();
        let matches = labels
            .iter()
            .all(|(key, value)| found.contains(&format!("{key}=\"{value}\"").as_str()));
        matches.then(|| value.trim().parse().ok()).flatten()
    })
}

/// The sum of the samples `name` whose labels contain every one of `labels` (written as in
/// the text: `route="/internal/payments"`), in Prometheus text: a counter over all statuses,
/// say. 0 when none matches.
pub fn metric_sum(text: &str, name: &str, labels: &[&str]) -> u64 {
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_samples_are_summed() {
        let text = "# HELP x\n\
            mybnb_events_handled_total{subscriber=\"payment\"} 7\n\
            mybnb_events_handled_total{subscriber=\"notification\"} 5\n\
            mybnb_events_handled_total_other 100\n";
        let handled = "mybnb_events_handled_total";
        assert_eq!(metric_sum(text, handled, &["subscriber=\"payment\""]), 7);
        assert_eq!(metric_sum(text, handled, &[]), 12);
        assert_eq!(metric_sum(text, "absent", &[]), 0);
    }

    #[test]
    fn a_labelled_sample_is_found_by_a_subset_of_its_labels() {
        let text = "# TYPE x counter\nx_total{a=\"1\",b=\"2\"} 3\nx_total{a=\"2\"} 5\ny 7\n";
        assert_eq!(metric(text, "x_total", &[("b", "2")]), Some(3.0));
        assert_eq!(metric(text, "x_total", &[("a", "2")]), Some(5.0));
        assert_eq!(metric(text, "y", &[]), Some(7.0));
        assert_eq!(metric(text, "z", &[]), None);
    }

    #[test]
    fn paths_join_the_base_whatever_its_form() -> anyhow::Result<()> {
        let client = Client::new("http://127.0.0.1:8080")?;
        assert_eq!(
            client.url("/rooms?q=a")?.as_str(),
            "http://127.0.0.1:8080/rooms?q=a"
        );
        Ok(())
    }

    #[test]
    fn a_problem_document_reads_with_or_without_detail() -> anyhow::Result<()> {
        let problem: Problem = serde_json::from_str(
            r#"{"type":"/problems/x","title":"Nope","status":409,"detail":"taken"}"#,
        )?;
        assert_eq!((problem.status, problem.message()), (409, "taken"));
        let bare: Problem = serde_json::from_str(r#"{"title":"Nope","status":400}"#)?;
        assert_eq!(bare.message(), "Nope");
        Ok(())
    }
}
