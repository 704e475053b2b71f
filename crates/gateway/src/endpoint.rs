//! One instance of a service, as a tower service the balancer picks among: it sends each
//! request to the instance's origin over a shared pool of keep-alive connections.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::{Request, Response, Uri};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

/// A request ready to forward: its body is read in full, so it can be sent again.
pub(crate) type Forwarded = Request<Full<Bytes>>;

pub(crate) type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// An instance's base URL, as configured (`http://10.0.0.5:8080/`): its key in the balancer.
pub(crate) type Instance = Arc<str>;

#[derive(Clone)]
pub(crate) struct Endpoint {
    instance: Instance,
    client: HttpClient,
}

impl Endpoint {
    pub(crate) fn new(instance: Instance, client: HttpClient) -> Self {
        Endpoint { instance, client }
    }
}

/// An instance that did not answer: no connection, or the connection broke before a response.
#[derive(Debug)]
pub(crate) struct UpstreamFailure {
    pub(crate) instance: Instance,
    pub(crate) error: hyper_util::client::legacy::Error,
}

impl UpstreamFailure {
    /// The request never reached the instance, so sending it elsewhere cannot repeat it.
    pub(crate) fn never_sent(&self) -> bool {
        self.error.is_connect()
    }
}

impl fmt::Display for UpstreamFailure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} did not answer: {}",
            self.instance, self.error
        )
    }
}

impl std::error::Error for UpstreamFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl tower::Service<Forwarded> for Endpoint {
    type Response = Response<Incoming>;
    type Error = UpstreamFailure;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The connection pool has no limit to wait for; the balancer's load is what spreads
        // requests.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Forwarded) -> Self::Future {
        let (client, instance) = (self.client.clone(), self.instance.clone());
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |path| path.as_str());
        let target = format!("{}{}", instance.trim_end_matches('/'), path);
        Box::pin(async move {
            // The base was checked as a URL with the settings, and the path came from one.
            if let Ok(uri) = target.parse::<Uri>() {
                *request.uri_mut() = uri;
            }
            client
                .request(request)
                .await
                .map_err(|error| UpstreamFailure { instance, error })
        })
    }
}
