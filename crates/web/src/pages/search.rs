//! The home page: search rooms by words, city, dates, guests and price, and the results.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::Field;
use super::{alert, failed, notice};
use crate::WebState;
use crate::api::{ApiFailure, Room, RoomPage};
use crate::format::won;
use crate::visit::{PageQuery, Visit};

/// A field's name and the text that says what is wrong with it.
type FieldError = (&'static str, &'static str);

/// The search form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchForm {
    q: String,
    city: String,
    check_in: String,
    check_out: String,
    guests: String,
    min_price: String,
    max_price: String,
    page: String,
    notice: Option<String>,
}

impl SearchForm {
    fn asked(&self) -> bool {
        [
            &self.q,
            &self.city,
            &self.check_in,
            &self.check_out,
            &self.guests,
            &self.min_price,
            &self.max_price,
        ]
        .iter()
        .any(|field| !field.trim().is_empty())
    }

    /// The API's query, or the fields that are not what they should be, by name.
    fn query(&self) -> Result<Vec<(&'static str, String)>, Vec<FieldError>> {
        let mut query = Vec::new();
        let mut errors = Vec::new();
        for (name, value) in [("q", &self.q), ("city", &self.city)] {
            if !value.trim().is_empty() {
                query.push((name, value.trim().to_owned()));
            }
        }
        for (name, value) in [("checkIn", &self.check_in), ("checkOut", &self.check_out)] {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match value.parse::<NaiveDate>() {
                Ok(date) => query.push((name, date.to_string())),
                Err(_) => errors.push((name, "error-date")),
            }
        }
        if self.check_in.trim().is_empty() != self.check_out.trim().is_empty() {
            errors.push(("checkOut", "error-both-dates"));
        }
        for (name, value, error) in [
            ("guests", &self.guests, "error-guests"),
            ("minPrice", &self.min_price, "error-price"),
            ("maxPrice", &self.max_price, "error-price"),
            ("page", &self.page, "error-page"),
        ] {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match value.parse::<u32>() {
                Ok(number) if number > 0 || name.ends_with("Price") => {
                    query.push((name, number.to_string()))
                }
                _ => errors.push((name, error)),
            }
        }
        if errors.is_empty() {
            Ok(query)
        } else {
            Err(errors)
        }
    }
}

pub async fn page(
    State(web): State<WebState>,
    visit: Visit,
    PageQuery(form): PageQuery<SearchForm>,
) -> Response {
    let notice = notice(&visit, form.notice.as_deref());
    let title = visit.text("search-title");
    if !form.asked() && form.page.is_empty() {
        let body = search_form(&visit, &form, &[], None);
        return visit.page(StatusCode::OK, &title, notice.as_deref(), body);
    }
    let query = match form.query() {
        Ok(query) => query,
        Err(errors) => {
            let body = search_form(&visit, &form, &errors, None);
            return visit.page(StatusCode::UNPROCESSABLE_ENTITY, &title, None, body);
        }
    };
    match web.api.search(&query).await {
        Ok(results) => {
            let body = html! {
                (search_form(&visit, &form, &[], None))
                (result_list(&visit, &form, &results))
            };
            visit.page(StatusCode::OK, &title, notice.as_deref(), body)
        }
        Err(ApiFailure::Refused { status, detail })
            if status == StatusCode::UNPROCESSABLE_ENTITY =>
        {
            let body = search_form(&visit, &form, &[], Some(&detail));
            visit.page(status, &title, None, body)
        }
        Err(failure) => failed(visit, failure),
    }
}

fn search_form(
    visit: &Visit,
    form: &SearchForm,
    errors: &[(&str, &str)],
    problem: Option<&str>,
) -> Markup {
    let error = |name: &str| {
        errors
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, id)| visit.text(id))
    };
    let number = [("min", "1"), ("inputmode", "numeric")];
    // Any whole won: a step counts from `min`, and the API takes any whole number.
    let price = [("min", "0"), ("step", "1"), ("inputmode", "numeric")];
    html! {
        (alert(problem))
        form.search method="get" action="/" role="search" {
            (Field::new("q", visit.text("field-words"), &form.q).kind("search").render())
            (Field::new("city", visit.text("field-city"), &form.city).render())
            (Field::new("checkIn", visit.text("field-check-in"), &form.check_in).kind("date").error(error("checkIn")).render())
            (Field::new("checkOut", visit.text("field-check-out"), &form.check_out).kind("date").error(error("checkOut")).render())
            (Field::new("guests", visit.text("field-guests"), &form.guests).kind("number").attributes(&number).error(error("guests")).render())
            (Field::new("minPrice", visit.text("field-min-price"), &form.min_price).kind("number").attributes(&price).error(error("minPrice")).render())
            (Field::new("maxPrice", visit.text("field-max-price"), &form.max_price).kind("number").attributes(&price).error(error("maxPrice")).render())
            button type="submit" { (visit.text("search-submit")) }
        }
    }
}

fn result_list(visit: &Visit, form: &SearchForm, results: &RoomPage) -> Markup {
    let found = visit
        .locale
        .text_with("search-found", &[("count", results.total.into())]);
    let stay_query = stay_query(form);
    let pages = results.total.div_ceil(u64::from(results.size.max(1)));
    html! {
        section aria-labelledby="results-heading" {
            h2 #results-heading { (found) }
            @if results.items.is_empty() {
                p { (visit.text("search-none")) }
            }
            ul.rooms {
                @for room in &results.items {
                    li.room { (room_card(visit, room, &stay_query)) }
                }
            }
            @if pages > 1 {
                nav.pager aria-label=(visit.text("pager-label")) {
                    @if results.page > 1 {
                        a rel="prev" href=(page_link(form, results.page - 1)) { (visit.text("pager-previous")) }
                    }
                    span { (results.page) " / " (pages) }
                    @if u64::from(results.page) < pages {
                        a rel="next" href=(page_link(form, results.page + 1)) { (visit.text("pager-next")) }
                    }
                }
            }
        }
    }
}

fn room_card(visit: &Visit, room: &Room, stay_query: &str) -> Markup {
    html! {
        h3 { a href={ "/stays/" (room.id) (stay_query) } { (room.name) } }
        p.where { @if let Some(city) = &room.city { (city) " · " } (room.address) }
        p.facts {
            strong.price { (won(visit.locale, room.price)) } " " (visit.text("per-night"))
            " · " (visit.locale.text_with("sleeps", &[("count", room.capacity.into())]))
        }
    }
}

/// Carries the dates and guests from the search to the room page's booking form.
fn stay_query(form: &SearchForm) -> String {
    let pairs: Vec<(&str, &str)> = [
        ("checkIn", &form.check_in),
        ("checkOut", &form.check_out),
        ("guests", &form.guests),
    ]
    .into_iter()
    .filter(|(_, value)| !value.trim().is_empty())
    .map(|(name, value)| (name, value.trim()))
    .collect();
    encode(&pairs)
}

fn page_link(form: &SearchForm, page: u32) -> String {
    let page = page.to_string();
    let pairs: Vec<(&str, &str)> = [
        ("q", form.q.as_str()),
        ("city", &form.city),
        ("checkIn", &form.check_in),
        ("checkOut", &form.check_out),
        ("guests", &form.guests),
        ("minPrice", &form.min_price),
        ("maxPrice", &form.max_price),
        ("page", &page),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .collect();
    format!("/{}", encode(&pairs))
}

/// `?a=1&b=2`, or nothing when there are no pairs.
fn encode(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut query = url::form_urlencoded::Serializer::new(String::from("?"));
    query.extend_pairs(pairs);
    query.finish()
}
