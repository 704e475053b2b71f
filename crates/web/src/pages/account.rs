//! Signing up, logging in and logging out.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{Field, csrf_field};
use super::{alert, local_path};
use crate::WebState;
use crate::api::{ApiFailure, Credentials, NewUser};
use crate::session::Session;
use crate::visit::{NoFields, PageQuery, Submitted, Visit};

#[derive(Debug, Default, Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    next: String,
}

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

pub async fn sign_up_page(visit: Visit, PageQuery(next): PageQuery<Next>) -> Response {
    let form = AccountForm {
        next: next.next.unwrap_or_default(),
        ..AccountForm::default()
    };
    sign_up_form(visit, StatusCode::OK, &form, None)
}

pub async fn log_in_page(visit: Visit, PageQuery(next): PageQuery<Next>) -> Response {
    let form = AccountForm {
        next: next.next.unwrap_or_default(),
        ..AccountForm::default()
    };
    log_in_form(visit, StatusCode::OK, &form, None)
}

pub async fn sign_up(
    State(web): State<WebState>,
    Submitted { visit, form }: Submitted<AccountForm>,
) -> Response {
    let display_name = Some(form.display_name.trim()).filter(|name| !name.is_empty());
    let new = NewUser {
        username: form.username.trim(),
        password: &form.password,
        display_name,
        email: None,
    };
    match web.api.sign_up(&new, visit.client).await {
        Ok(_) => start_session(&web, visit, &form).await,
        Err(failure) => {
            let (status, message) = match failure {
                ApiFailure::Refused { status, .. } if status == StatusCode::CONFLICT => {
                    (status, visit.text("signup-taken"))
                }
                ApiFailure::Refused { status, .. } if status == StatusCode::TOO_MANY_REQUESTS => {
                    (status, visit.text("too-many-attempts"))
                }
                ApiFailure::Refused { status, detail } => {
                    (status, format!("{} {detail}", visit.text("signup-invalid")))
                }
                ApiFailure::Unavailable | ApiFailure::InProgress => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    visit.text("try-again-shortly"),
                ),
            };
            sign_up_form(visit, status, &form, Some(&message))
        }
    }
}

pub async fn log_in(
    State(web): State<WebState>,
    Submitted { visit, form }: Submitted<AccountForm>,
) -> Response {
    start_session(&web, visit, &form).await
}

pub async fn log_out(Submitted { visit, .. }: Submitted<NoFields>) -> Response {
    visit.with_session(None).redirect("/?notice=logged-out")
}

/// Logs in with the form's credentials and goes on to where the visitor was headed.
async fn start_session(web: &WebState, visit: Visit, form: &AccountForm) -> Response {
    let credentials = Credentials {
        username: form.username.trim(),
        password: &form.password,
    };
    let session = async {
        let token = web.api.token(&credentials, visit.client).await?;
        let user = web.api.me(&token.access_token).await?;
        let session = Session {
            user_id: user.id,
            username: user.username,
            token: token.access_token,
        };
        Ok::<_, ApiFailure>((session, Duration::from_secs(token.expires_in)))
    }
    .await;
    match session {
        Ok((session, lifetime)) => {
            let next = local_path(&form.next).to_owned();
            visit
                .with_session(Some((&session, lifetime)))
                .redirect(&next)
        }
        Err(failure) => {
            let (status, message) = match failure {
                ApiFailure::Refused { status, .. } if status == StatusCode::TOO_MANY_REQUESTS => {
                    (status, visit.text("too-many-attempts"))
                }
                ApiFailure::Refused { .. } => {
                    (StatusCode::UNAUTHORIZED, visit.text("login-failed"))
                }
                ApiFailure::Unavailable | ApiFailure::InProgress => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    visit.text("try-again-shortly"),
                ),
            };
            log_in_form(visit, status, form, Some(&message))
        }
    }
}

fn sign_up_form(
    visit: Visit,
    status: StatusCode,
    form: &AccountForm,
    error: Option<&str>,
) -> Response {
    let body = html! {
        (alert(error))
        form.stack method="post" action="/signup" {
            (csrf_field(&visit))
            input type="hidden" name="next" value=(form.next);
            (Field::new("username", visit.text("field-username"), &form.username)
                .required().attributes(&[("autocomplete", "username")]).render())
            (Field::new("password", visit.text("field-password"), "")
                .kind("password").required().attributes(&[("autocomplete", "new-password")]).render())
            p.hint { (visit.text("password-hint")) }
            (Field::new("display_name", visit.text("field-display-name"), &form.display_name)
                .attributes(&[("autocomplete", "nickname")]).render())
            button type="submit" { (visit.text("signup-submit")) }
        }
        p { (visit.text("signup-have-account")) " " a href="/login" { (visit.text("nav-login")) } }
    };
    let title = visit.text("signup-title");
    visit.page(status, &title, None, body)
}

fn log_in_form(
    visit: Visit,
    status: StatusCode,
    form: &AccountForm,
    error: Option<&str>,
) -> Response {
    let body: Markup = html! {
        (alert(error))
        form.stack method="post" action="/login" {
            (csrf_field(&visit))
            input type="hidden" name="next" value=(form.next);
            (Field::new("username", visit.text("field-username"), &form.username)
                .required().attributes(&[("autocomplete", "username")]).render())
            (Field::new("password", visit.text("field-password"), "")
                .kind("password").required().attributes(&[("autocomplete", "current-password")]).render())
            button type="submit" { (visit.text("login-submit")) }
        }
        p { (visit.text("login-no-account")) " " a href="/signup" { (visit.text("nav-signup")) } }
    };
    let title = visit.text("login-title");
    visit.page(status, &title, None, body)
}
