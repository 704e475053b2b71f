//! The pages, one module each, and what they share: the routes, and how a failed API call
//! turns into what the visitor sees.

mod account;
mod host;
mod inbox;
mod language;
pub(crate) mod layout;
mod search;
mod stay;
mod trips;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use crate::WebState;
use crate::api::ApiFailure;
use crate::visit::{Visit, form_page};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/", get(search::page))
        .route("/signup", get(account::sign_up_page).post(account::sign_up))
        .route("/login", get(account::log_in_page).post(account::log_in))
        .route("/logout", get(back_to_form).post(account::log_out))
        .route("/language", get(back_to_form).post(language::choose))
        .route("/stays/{id}", get(stay::page))
        .route("/stays/{id}/book", get(back_to_form).post(stay::book))
        .route("/trips", get(trips::page))
        .route("/trips/{id}/cancel", get(back_to_form).post(trips::cancel))
        .route("/host", get(host::page))
        .route("/host/rooms", get(back_to_form).post(host::register))
        .route(
            "/host/rooms/{id}/delete",
            get(back_to_form).post(host::delete),
        )
        .route("/inbox", get(inbox::page))
        .route("/inbox/stream", get(inbox::stream))
}

/// What a page answers when the API call it needed failed in a way the page has no better words
/// for: an expired session goes to log in again; an outage says to try again shortly.
fn failed(visit: Visit, failure: ApiFailure) -> Response {
    match failure {
        ApiFailure::Refused { status, .. } if status == StatusCode::UNAUTHORIZED => {
            visit.with_session(None).send_to_login()
        }
        ApiFailure::Refused { status, .. } if status == StatusCode::NOT_FOUND => {
            visit.refuse(StatusCode::NOT_FOUND, "refused-not-found")
        }
        ApiFailure::Refused { status, .. } => visit.refuse(status, "refused-generic"),
        ApiFailure::Unavailable | ApiFailure::InProgress => {
            visit.refuse(StatusCode::SERVICE_UNAVAILABLE, "try-again-shortly")
        }
    }
}

/// The notices a form may leave for the page it leads to, as `?notice=<id>`; others are ignored.
const NOTICES: [&str; 5] = [
    "logged-out",
    "booked",
    "cancelled",
    "room-registered",
    "room-deleted",
];

fn notice(visit: &Visit, id: Option<&str>) -> Option<String> {
    id.filter(|id| NOTICES.contains(id))
        .map(|id| visit.text(&format!("notice-{id}")))
}

/// A page's query when all it takes is a notice.
#[derive(Debug, Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

impl Notice {
    fn text(&self, visit: &Visit) -> Option<String> {
        notice(visit, self.notice.as_deref())
    }
}

/// A form's own address opened as a page — reloaded after the form came back with an error, or
/// typed in: on to the page the form is on.
async fn back_to_form(visit: Visit) -> Response {
    let to = form_page(&visit.here);
    visit.redirect(&to)
}

/// An alert above a form.
fn alert(message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message {
            p.error role="alert" { (message) }
        }
    }
}

/// Keeps redirects on this site: a local path, not `//elsewhere` or an absolute URL.
fn local_path(path: &str) -> &str {
    // Control characters (a decoded `%0D`, say) cannot go into a `Location` header.
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.contains(char::is_control);
    if local { path } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::{NOTICES, local_path};
    use crate::i18n::Locale;

    #[test]
    fn every_notice_and_calendar_state_has_its_texts() {
        let ids = NOTICES
            .iter()
            .map(|id| format!("notice-{id}"))
            .chain(["past", "taken", "free"].map(|state| format!("calendar-{state}")));
        for id in ids {
            for locale in Locale::ALL {
                assert_ne!(locale.text(&id), id, "{id} in {locale:?}");
            }
        }
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/trips?x=1"), "/trips?x=1");
        assert_eq!(local_path("//evil.example/"), "/");
        assert_eq!(local_path("https://evil.example/"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(local_path(""), "/");
        assert_eq!(local_path("/\r\nSet-Cookie: x=1"), "/");
    }
}
