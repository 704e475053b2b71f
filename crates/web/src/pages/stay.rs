//! A room's page: its details, a two-month availability calendar, and the form to book and pay.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::layout::{Field, csrf_field};
use super::{alert, failed};
use crate::WebState;
use crate::api::{ApiFailure, NewBooking, Room};
use crate::calendar::Month;
use crate::format::{date, won};
use crate::visit::{PageQuery, PathId, Submitted, Visit};

/// The booking form's fields as typed, and the month the calendar shows.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StayForm {
    check_in: String,
    check_out: String,
    guests: String,
    month: String,
    /// The idempotency key of this booking attempt, so that a double-click books once. A form
    /// that comes back after a definite answer gets a new one; one that comes back when the
    /// outcome is unknown (payment slow or down) keeps it, so that trying again cannot book
    /// twice.
    key: String,
}

pub async fn page(
    State(web): State<WebState>,
    visit: Visit,
    PathId(id): PathId,
    PageQuery(form): PageQuery<StayForm>,
) -> Response {
    let form = StayForm {
        key: String::new(),
        ..form
    };
    show(&web, visit, id, &form, StatusCode::OK, None).await
}

pub async fn book(
    State(web): State<WebState>,
    PathId(id): PathId,
    Submitted { visit, form }: Submitted<StayForm>,
) -> Response {
    let Some(session) = visit.session.clone() else {
        return visit.send_to_login();
    };
    let booking = match parse(&form) {
        Ok((check_in, check_out, guests)) => NewBooking {
            room_id: id,
            check_in,
            check_out,
            guests: Some(guests),
        },
        Err(text_id) => {
            let message = visit.text(text_id);
            return show(
                &web,
                visit,
                id,
                &form,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&message),
            )
            .await;
        }
    };
    let form = match form.key.trim() {
        "" => StayForm {
            key: Uuid::new_v4().to_string(),
            ..form
        },
        _ => form,
    };
    match web
        .api
        .book(&session.token, form.key.trim(), &booking)
        .await
    {
        Ok(_) => visit.redirect("/trips?notice=booked"),
        Err(ApiFailure::Refused { status, detail }) => {
            let message = match status {
                StatusCode::UNAUTHORIZED => return visit.with_session(None).send_to_login(),
                StatusCode::NOT_FOUND => return visit.refuse(status, "refused-not-found"),
                StatusCode::CONFLICT => visit.text("book-taken"),
                StatusCode::PAYMENT_REQUIRED => visit.text("book-declined"),
                StatusCode::TOO_MANY_REQUESTS => visit.text("try-again-shortly"),
                _ => format!("{} {detail}", visit.text("book-invalid")),
            };
            let form = StayForm {
                key: String::new(),
                ..form
            };
            show(&web, visit, id, &form, status, Some(&message)).await
        }
        Err(ApiFailure::Unavailable | ApiFailure::InProgress) => {
            let message = visit.text("try-again-shortly");
            show(
                &web,
                visit,
                id,
                &form,
                StatusCode::SERVICE_UNAVAILABLE,
                Some(&message),
            )
            .await
        }
    }
}

/// The dates and guests, or the text saying what is wrong with them.
fn parse(form: &StayForm) -> Result<(NaiveDate, NaiveDate, u32), &'static str> {
    let check_in = form
        .check_in
        .trim()
        .parse::<NaiveDate>()
        .map_err(|_| "error-date")?;
    let check_out = form
        .check_out
        .trim()
        .parse::<NaiveDate>()
        .map_err(|_| "error-date")?;
    if check_out <= check_in {
        return Err("error-check-out-after");
    }
    let guests = match form.guests.trim() {
        "" => 1,
        guests => guests
            .parse::<u32>()
            .ok()
            .filter(|guests| *guests > 0)
            .ok_or("error-guests")?,
    };
    Ok((check_in, check_out, guests))
}

async fn show(
    web: &WebState,
    visit: Visit,
    id: Uuid,
    form: &StayForm,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let today = Utc::now().date_naive();
    let month = Month::parse(form.month.trim())
        .or_else(|| form.check_in.trim().parse().ok().map(Month::of))
        .unwrap_or_else(|| Month::of(today));
    let (from, to) = (
        month.first().to_string(),
        month.next().next().first().to_string(),
    );
    let (room, taken) = futures_util::join!(web.api.room(id), web.api.availability(id, &from, &to));
    let room = match room {
        Ok(room) => room,
        Err(failure) => return failed(visit, failure),
    };
    let taken = taken.map(|availability| {
        availability
            .taken_nights
            .into_iter()
            .collect::<BTreeSet<_>>()
    });
    let body = html! {
        (details(&visit, &room))
        (booking_form(&visit, &room, form, error, today))
        section aria-labelledby="calendar-heading" {
            h2 #calendar-heading { (visit.text("calendar-title")) }
            @match &taken {
                Ok(taken) => {
                    p.legend {
                        span.day.free { (visit.text("calendar-free")) }
                        " "
                        span.day.taken { (visit.text("calendar-taken")) }
                    }
                    div.months {
                        (month_table(&visit, month, taken, today))
                        (month_table(&visit, month.next(), taken, today))
                    }
                    nav.pager aria-label=(visit.text("calendar-months")) {
                        a href={ "/stays/" (id) "?month=" (month.previous().key()) } { (visit.text("calendar-earlier")) }
                        a href={ "/stays/" (id) "?month=" (month.next().key()) } { (visit.text("calendar-later")) }
                    }
                }
                Err(_) => p.error role="alert" { (visit.text("try-again-shortly")) }
            }
        }
    };
    let title = room.name.clone();
    visit.page(status, &title, None, body)
}

fn details(visit: &Visit, room: &Room) -> Markup {
    html! {
        dl.details {
            dt { (visit.text("room-price")) } dd.price { (won(visit.locale, room.price)) " " (visit.text("per-night")) }
            dt { (visit.text("room-capacity")) } dd { (visit.locale.text_with("sleeps", &[("count", room.capacity.into())])) }
            @if let Some(city) = &room.city { dt { (visit.text("field-city")) } dd { (city) } }
            dt { (visit.text("field-address")) } dd { (room.address) }
            dt { (visit.text("room-host")) } dd { (room.host_name) }
        }
        @if let Some(description) = &room.description {
            p.description { (description) }
        }
    }
}

fn booking_form(
    visit: &Visit,
    room: &Room,
    form: &StayForm,
    error: Option<&str>,
    today: NaiveDate,
) -> Markup {
    let today = today.to_string();
    let dates = [("min", today.as_str())];
    let capacity = room.capacity.to_string();
    let guests = [
        ("min", "1"),
        ("max", capacity.as_str()),
        ("inputmode", "numeric"),
    ];
    let guests_value = if form.guests.is_empty() {
        "1"
    } else {
        form.guests.as_str()
    };
    let key = match form.key.as_str() {
        "" => Uuid::new_v4().to_string(),
        key => key.to_owned(),
    };
    html! {
        section.book aria-labelledby="book-heading" {
            h2 #book-heading { (visit.text("book-title")) }
            (alert(error))
            @if visit.session.is_some() {
                form.stack method="post" action={ "/stays/" (room.id) "/book" } {
                    (csrf_field(visit))
                    input type="hidden" name="key" value=(key);
                    (Field::new("checkIn", visit.text("field-check-in"), &form.check_in).kind("date").required().attributes(&dates).render())
                    (Field::new("checkOut", visit.text("field-check-out"), &form.check_out).kind("date").required().attributes(&dates).render())
                    (Field::new("guests", visit.text("field-guests"), guests_value).kind("number").attributes(&guests).render())
                    button type="submit" { (visit.text("book-submit")) }
                }
            } @else {
                p { a href={ "/login?next=/stays/" (room.id) } { (visit.text("book-log-in")) } }
            }
        }
    }
}

fn month_table(
    visit: &Visit,
    month: Month,
    taken: &BTreeSet<NaiveDate>,
    today: NaiveDate,
) -> Markup {
    let caption = visit.locale.text_with(
        "calendar-month",
        &[
            ("year", month.year().into()),
            ("month", month.number().into()),
        ],
    );
    html! {
        table.calendar {
            caption { (caption) }
            thead { tr { @for day in WEEKDAYS { th scope="col" { (visit.text(day)) } } } }
            tbody {
                @for week in month.weeks() {
                    tr {
                        @for day in week {
                            @match day {
                                Some(day) => {
                                    @let state = if day < today { "past" } else if taken.contains(&day) { "taken" } else { "free" };
                                    @let label = format!("{}, {}", date(visit.locale, day), visit.text(&format!("calendar-{state}")));
                                    td class={ "day " (state) } data-date=(day) aria-label=(label) { (day.format("%-d")) }
                                }
                                None => td {}
                            }
                        }
                    }
                }
            }
        }
    }
}

const WEEKDAYS: [&str; 7] = [
    "day-sun", "day-mon", "day-tue", "day-wed", "day-thu", "day-fri", "day-sat",
];
