//! My trips: the stays I booked, from my page, with their payment and a way to cancel.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::layout::csrf_field;
use super::{Notice, failed};
use crate::WebState;
use crate::api::{ApiFailure, Stay};
use crate::format::{date, won};
use crate::visit::{NoFields, PageQuery, PathId, Submitted, Visit};

pub async fn page(
    State(web): State<WebState>,
    visit: Visit,
    PageQuery(query): PageQuery<Notice>,
) -> Response {
    let Some(session) = visit.session.clone() else {
        return visit.send_to_login();
    };
    let stays = match web.api.my_page(&session.token).await {
        Ok(page) => page.as_guest,
        Err(failure) => return failed(visit, failure),
    };
    let notice = query.text(&visit);
    let body = html! {
        p.hint { (visit.text("trips-eventually")) }
        @if stays.is_empty() {
            p #no-trips { (visit.text("trips-none")) " " a href="/" { (visit.text("nav-search")) } }
        }
        ul.trips {
            @for stay in &stays { (trip(&visit, stay)) }
        }
    };
    let title = visit.text("trips-title");
    visit.page(StatusCode::OK, &title, notice.as_deref(), body)
}

pub async fn cancel(
    State(web): State<WebState>,
    PathId(id): PathId,
    Submitted { visit, .. }: Submitted<NoFields>,
) -> Response {
    let Some(session) = visit.session.clone() else {
        return visit.send_to_login();
    };
    match web.api.cancel(&session.token, id).await {
        Ok(_) => visit.redirect("/trips?notice=cancelled"),
        Err(ApiFailure::Refused { status, .. }) if status == StatusCode::CONFLICT => {
            visit.refuse(status, "trips-not-cancellable")
        }
        Err(failure) => failed(visit, failure),
    }
}

fn trip(visit: &Visit, stay: &Stay) -> Markup {
    let nights = (stay.check_out - stay.check_in).num_days();
    let confirmed = stay.booking_status == "CONFIRMED";
    html! {
        li.trip data-booking=(stay.booking_id) {
            h2 { a href={ "/stays/" (stay.room_id) } { (stay.room_name) } }
            p {
                (date(visit.locale, stay.check_in)) " – " (date(visit.locale, stay.check_out))
                " · " (visit.locale.text_with("nights", &[("count", nights.into())]))
                " · " (won(visit.locale, stay.total_price))
            }
            p.status { (status(visit, stay)) }
            @if confirmed {
                form method="post" action={ "/trips/" (stay.booking_id) "/cancel" } {
                    (csrf_field(visit))
                    button.danger type="submit" { (visit.text("trips-cancel")) }
                }
            }
        }
    }
}

/// The stay's state in words: booked and paid, cancelled with the refund done or on its way.
pub(super) fn status(visit: &Visit, stay: &Stay) -> String {
    let id = match (stay.booking_status.as_str(), stay.payment_status.as_str()) {
        ("CONFIRMED", "APPROVED") => "status-paid",
        ("CONFIRMED", _) => "status-confirmed",
        (_, "CANCELLED") => "status-refunded",
        (_, "APPROVED") => "status-refund-pending",
        _ => "status-cancelled",
    };
    visit.text(id)
}
