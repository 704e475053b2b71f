//! The host's dashboard: register a room, see one's rooms and delete them, and the bookings made
//! in them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use mybnb_platform::paging::Page;
use serde::Deserialize;

use super::layout::{Field, csrf_field};
use super::trips::status;
use super::{Notice, alert, failed};
use crate::WebState;
use crate::api::{ApiFailure, NewRoom, Room, Stay};
use crate::format::{date, won};
use crate::session::Session;
use crate::visit::{NoFields, PageQuery, PathId, Submitted, Visit};

/// The new-room form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RoomForm {
    name: String,
    address: String,
    city: String,
    price: String,
    capacity: String,
    description: String,
}

pub async fn page(
    State(web): State<WebState>,
    visit: Visit,
    PageQuery(query): PageQuery<Notice>,
) -> Response {
    let notice = query.text(&visit);
    dashboard(
        &web,
        visit,
        &RoomForm::default(),
        StatusCode::OK,
        None,
        notice.as_deref(),
    )
    .await
}

pub async fn register(
    State(web): State<WebState>,
    Submitted { visit, form }: Submitted<RoomForm>,
) -> Response {
    let Some(session) = visit.session.clone() else {
        return visit.send_to_login();
    };
    let (price, capacity) = match (
        form.price.trim().parse::<i64>(),
        form.capacity.trim().parse::<u32>(),
    ) {
        (Ok(price), Ok(capacity)) => (price, capacity),
        _ => {
            let message = visit.text("host-numbers");
            return dashboard(
                &web,
                visit,
                &form,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&message),
                None,
            )
            .await;
        }
    };
    let optional = |text: &str| {
        Some(text.trim())
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let (city, description) = (optional(&form.city), optional(&form.description));
    let room = NewRoom {
        name: form.name.trim(),
        address: form.address.trim(),
        price,
        capacity: Some(capacity),
        city: city.as_deref(),
        description: description.as_deref(),
    };
    match web.api.register_room(&session.token, &room).await {
        Ok(_) => visit.redirect("/host?notice=room-registered"),
        Err(ApiFailure::Refused { status, detail })
            if status == StatusCode::UNPROCESSABLE_ENTITY =>
        {
            let message = format!("{} {detail}", visit.text("host-invalid"));
            dashboard(&web, visit, &form, status, Some(&message), None).await
        }
        Err(ApiFailure::Unavailable) => {
            let message = visit.text("try-again-shortly");
            dashboard(
                &web,
                visit,
                &form,
                StatusCode::SERVICE_UNAVAILABLE,
                Some(&message),
                None,
            )
            .await
        }
        Err(failure) => failed(visit, failure),
    }
}

pub async fn delete(
    State(web): State<WebState>,
    PathId(id): PathId,
    Submitted { visit, .. }: Submitted<NoFields>,
) -> Response {
    let Some(session) = visit.session.clone() else {
        return visit.send_to_login();
    };
    match web.api.delete_room(&session.token, id).await {
        Ok(()) => visit.redirect("/host?notice=room-deleted"),
        Err(ApiFailure::Refused { status, .. }) if status == StatusCode::FORBIDDEN => {
            visit.refuse(status, "host-not-yours")
        }
        Err(failure) => failed(visit, failure),
    }
}

async fn dashboard(
    web: &WebState,
    visit: Visit,
    form: &RoomForm,
    status: StatusCode,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let Some(session) = visit.session.clone() else {
        return visit.send_to_login();
    };
    let (rooms, page) = match load(web, &session).await {
        Ok(loaded) => loaded,
        Err(failure) => return failed(visit, failure),
    };
    let body = html! {
        section aria-labelledby="rooms-heading" {
            h2 #rooms-heading { (visit.text("host-rooms")) }
            @if rooms.is_empty() { p #no-rooms { (visit.text("host-no-rooms")) } }
            ul.rooms { @for room in &rooms { (hosted_room(&visit, room)) } }
        }
        section aria-labelledby="bookings-heading" {
            h2 #bookings-heading { (visit.text("host-bookings")) }
            p.hint { (visit.text("trips-eventually")) }
            @if page.is_empty() { p { (visit.text("host-no-bookings")) } }
            ul.trips { @for stay in &page { (booking(&visit, stay)) } }
        }
        section aria-labelledby="register-heading" {
            h2 #register-heading { (visit.text("host-register")) }
            (room_form(&visit, form, error))
        }
    };
    let title = visit.text("host-title");
    visit.page(status, &title, notice, body)
}

async fn load(web: &WebState, session: &Session) -> Result<(Vec<Room>, Vec<Stay>), ApiFailure> {
    let query = [
        ("host", session.user_id.to_string()),
        ("size", Page::MAX_SIZE.to_string()),
    ];
    let (rooms, page) =
        futures_util::join!(web.api.search(&query), web.api.my_page(&session.token));
    Ok((rooms?.items, page?.as_host))
}

fn hosted_room(visit: &Visit, room: &Room) -> Markup {
    html! {
        li.room data-room=(room.id) {
            h3 { a href={ "/stays/" (room.id) } { (room.name) } }
            p { (won(visit.locale, room.price)) " " (visit.text("per-night")) " · " (room.address) }
            form method="post" action={ "/host/rooms/" (room.id) "/delete" } {
                (csrf_field(visit))
                button.danger type="submit" aria-label={ (visit.text("host-delete")) " " (room.name) } {
                    (visit.text("host-delete"))
                }
            }
        }
    }
}

fn booking(visit: &Visit, stay: &Stay) -> Markup {
    html! {
        li.trip data-booking=(stay.booking_id) {
            h3 { (stay.room_name) }
            p {
                (date(visit.locale, stay.check_in)) " – " (date(visit.locale, stay.check_out))
                " · " (won(visit.locale, stay.total_price))
            }
            p.status { (status(visit, stay)) }
        }
    }
}

fn room_form(visit: &Visit, form: &RoomForm, error: Option<&str>) -> Markup {
    // Any whole won: a step of 1,000 would count from the minimum of 1, and refuse 80,000.
    let price = [("min", "1"), ("step", "1"), ("inputmode", "numeric")];
    let capacity = [("min", "1"), ("max", "50"), ("inputmode", "numeric")];
    let capacity_value = if form.capacity.is_empty() {
        "2"
    } else {
        form.capacity.as_str()
    };
    html! {
        (alert(error))
        form.stack method="post" action="/host/rooms" {
            (csrf_field(visit))
            (Field::new("name", visit.text("field-room-name"), &form.name).required().render())
            (Field::new("address", visit.text("field-address"), &form.address).required().render())
            (Field::new("city", visit.text("field-city"), &form.city).render())
            (Field::new("price", visit.text("field-price"), &form.price).kind("number").required().attributes(&price).render())
            (Field::new("capacity", visit.text("field-capacity"), capacity_value).kind("number").required().attributes(&capacity).render())
            div.field {
                label for="field-description" { (visit.text("field-description")) }
                textarea #field-description name="description" rows="4" { (form.description) }
            }
            button type="submit" { (visit.text("host-register-submit")) }
        }
    }
}
