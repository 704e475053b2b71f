//! The language switch: keeps the visitor's choice in a cookie and shows the same page again.

use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::local_path;
use crate::i18n::Locale;
use crate::visit::Submitted;

#[derive(Debug, Deserialize)]
pub struct Choice {
    #[serde(default)]
    language: String,
    #[serde(default)]
    back: String,
}

pub async fn choose(Submitted { visit, form }: Submitted<Choice>) -> Response {
    match Locale::from_tag(&form.language) {
        Some(locale) => {
            let back = local_path(&form.back).to_owned();
            visit.with_language(locale).redirect(&back)
        }
        None => visit.refuse(StatusCode::UNPROCESSABLE_ENTITY, "refused-language"),
    }
}
