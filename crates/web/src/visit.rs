//! One request to a page, as the pages see it: the visitor's language, session and form nonce,
//! and the answers a page gives — a rendered page, a redirect, a refusal — with the cookies that
//! go with them. Form submissions come as [`Submitted`], which refuses any without a valid
//! anti-forgery token before a handler runs.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Form, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::{ACCEPT, ACCEPT_LANGUAGE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use maud::Markup;
use mybnb_platform::http::ApiError;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::WebState;
use crate::csrf::fresh_nonce;
use crate::i18n::Locale;
use crate::pages::layout;
use crate::session::{CookieNames, Session, cookie};

pub struct Visit {
    pub locale: Locale,
    pub session: Option<Session>,
    /// The path and query of this page, for coming back to it.
    pub here: String,
    /// Whether this request reads a page (rather than submits a form).
    reads: bool,
    /// The anti-forgery token for this visitor's forms.
    pub csrf: String,
    /// Whether cookies need `Secure`: always where the public address is https, else when the
    /// page came over TLS (as the proxy in front says).
    secure: bool,
    /// What our cookies are called here.
    names: CookieNames,
    /// The browser's address: the connection's, or the one the gateway vouched for.
    pub client: Option<SocketAddr>,
    nonce: String,
    jar: CookieJar,
    wants_html: bool,
}

impl FromRequestParts<WebState> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let names = state.cookies;
        let secure = names.always_secure || forwarded_over_tls(&parts.headers);
        let locale = jar
            .get(names.language)
            .and_then(|chosen| Locale::from_tag(chosen.value()))
            .unwrap_or_else(|| {
                let accepted = parts
                    .headers
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("");
                Locale::negotiate(accepted)
            });
        let session = jar
            .get(names.session)
            .and_then(|value| Session::from_cookie(value.value()));
        let (nonce, jar) = match jar.get(names.nonce).map(|nonce| nonce.value().to_owned()) {
            Some(nonce) if !nonce.is_empty() => (nonce, jar),
            _ => {
                let nonce = fresh_nonce();
                let jar = jar.add(cookie(names.nonce, nonce.clone(), secure));
                (nonce, jar)
            }
        };
        let csrf = state.csrf.token(
            &nonce,
            session.as_ref().map(|session| session.token.as_str()),
        );
        let wants_html = parts
            .headers
            .get(ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_none_or(|accept| accept.contains("text/html") || accept.contains("*/*"));
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |path| path.as_str().to_owned());
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(client)| *client);
        let reads = parts.method == Method::GET || parts.method == Method::HEAD;
        Ok(Visit {
            reads,
            client,
            locale,
            session,
            here,
            csrf,
            secure,
            names,
            nonce,
            jar,
            wants_html,
        })
    }
}

/// The page a form at `path` is on: `/stays/{id}/book` is on `/stays/{id}`, the forms under
/// `/trips` and `/host` on those pages, any other on the home page.
pub(crate) fn form_page(path: &str) -> String {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    match segments.as_slice() {
        ["stays", id, ..] => format!("/stays/{id}"),
        [section @ ("trips" | "host"), ..] => format!("/{section}"),
        _ => "/".to_owned(),
    }
}

/// Whether the proxy in front of us received the request over TLS. Trusting the header is safe
/// for this: a visitor can only make their own cookies stricter, or weaker over plain HTTP,
/// where `Secure` cookies would not be sent back anyway.
fn forwarded_over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .and_then(|protos| protos.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

impl Visit {
    pub fn text(&self, id: &str) -> String {
        self.locale.text(id)
    }

    /// A page in the site's layout.
    pub fn page(
        self,
        status: StatusCode,
        title: &str,
        notice: Option<&str>,
        body: Markup,
    ) -> Response {
        let html = layout::page(&self, title, notice, body);
        (status, self.jar, html).into_response()
    }

    /// Sends the browser on to `to` after a form, with this visit's cookies.
    pub fn redirect(self, to: &str) -> Response {
        (self.jar, Redirect::to(to)).into_response()
    }

    /// Sends the visitor to log in, and back here after: to this page, or, from a form, to the
    /// page the form is on (a form's own address only takes a POST).
    pub fn send_to_login(self) -> Response {
        let back = if self.reads {
            self.here.clone()
        } else {
            form_page(&self.here)
        };
        let back = percent_encoding::utf8_percent_encode(&back, percent_encoding::NON_ALPHANUMERIC);
        let to = format!("/login?next={back}");
        self.redirect(&to)
    }

    /// Replaces the session with `session`, kept for `lifetime`, or ends it; either way the
    /// forms' nonce starts afresh.
    pub fn with_session(mut self, session: Option<(&Session, Duration)>) -> Visit {
        self.jar = match session {
            Some((session, lifetime)) => {
                let kept = session.cookie(self.names.session, lifetime, self.secure);
                self.jar.add(kept)
            }
            None => self.jar.remove(Cookie::build(self.names.session).path("/")),
        };
        self.jar = self
            .jar
            .add(cookie(self.names.nonce, fresh_nonce(), self.secure));
        self
    }

    /// Keeps the visitor's choice of language.
    pub fn with_language(mut self, locale: Locale) -> Visit {
        let mut chosen = cookie(self.names.language, locale.tag().to_owned(), self.secure);
        chosen.set_max_age(::cookie::time::Duration::days(365));
        self.jar = self.jar.add(chosen);
        self.locale = locale;
        self
    }

    /// Says no: a page for a browser, problem+json for anything else.
    pub fn refuse(self, status: StatusCode, text_id: &str) -> Response {
        let message = self.text(text_id);
        if self.wants_html {
            let body = maud::html! { p.error role="alert" { (message) } p { a href="/" { (self.text("nav-search")) } } };
            let title = self.text("refused-title");
            return self.page(status, &title, None, body);
        }
        // The same problem documents as the API's.
        let problem = match status {
            StatusCode::BAD_REQUEST => ApiError::bad_request(message),
            StatusCode::UNAUTHORIZED => ApiError::unauthorized(message),
            StatusCode::PAYMENT_REQUIRED => ApiError::payment_required(message),
            StatusCode::FORBIDDEN => ApiError::forbidden(message),
            StatusCode::NOT_FOUND => ApiError::not_found(message),
            StatusCode::CONFLICT => ApiError::conflict(message),
            StatusCode::TOO_MANY_REQUESTS => ApiError::too_many_requests(60),
            StatusCode::SERVICE_UNAVAILABLE => ApiError::service_unavailable(message, 1),
            _ => ApiError::validation(message),
        };
        problem.into_response()
    }
}

/// The id in a page's address (`/stays/{id}`): an address whose id is not one is a page that
/// does not exist, and gets the same 404 page as an id of nothing.
pub struct PathId(pub uuid::Uuid);

impl FromRequestParts<WebState> for PathId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Response> {
        match Path::<uuid::Uuid>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(PathId(id)),
            Err(_) => {
                let Ok(visit) = Visit::from_request_parts(parts, state).await;
                Err(visit.refuse(StatusCode::NOT_FOUND, "refused-not-found"))
            }
        }
    }
}

/// A page's query, `T`; one that does not fit it (a field given twice, say) gets the "that form
/// was incomplete" page rather than axum's plain-text refusal.
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<WebState> for PageQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(query)) => Ok(PageQuery(query)),
            Err(_) => {
                let Ok(visit) = Visit::from_request_parts(parts, state).await;
                Err(visit.refuse(StatusCode::BAD_REQUEST, "refused-form"))
            }
        }
    }
}

/// A form as submitted, with a valid anti-forgery token: the fields are `T`, all text, so that a
/// page can show back what was typed whatever it was.
pub struct Submitted<T> {
    pub visit: Visit,
    pub form: T,
}

/// The fields of a form that has none but its token.
#[derive(Deserialize)]
pub struct NoFields {}

#[derive(Deserialize)]
struct Signed<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: T,
}

impl<T: DeserializeOwned + Send> FromRequest<WebState> for Submitted<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let Ok(visit) = Visit::from_request_parts(&mut parts, state).await;
        let request = Request::from_parts(parts, body);
        let signed = match Form::<Signed<T>>::from_request(request, state).await {
            Ok(Form(signed)) => signed,
            Err(_) => return Err(visit.refuse(StatusCode::BAD_REQUEST, "refused-form")),
        };
        let session = visit.session.as_ref().map(|session| session.token.as_str());
        if !state.csrf.admits(&visit.nonce, session, &signed.csrf) {
            tracing::warn!(path = %visit.here, "a form without a valid anti-forgery token");
            return Err(visit.refuse(StatusCode::FORBIDDEN, "refused-forgery"));
        }
        Ok(Submitted {
            visit,
            form: signed.fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::form_page;

    #[test]
    fn a_form_leads_back_to_its_page() {
        assert_eq!(form_page("/stays/0193/book"), "/stays/0193");
        assert_eq!(form_page("/trips/0193/cancel"), "/trips");
        assert_eq!(form_page("/host/rooms/0193/delete"), "/host");
        assert_eq!(form_page("/host/rooms"), "/host");
        assert_eq!(form_page("/logout"), "/");
    }
}
