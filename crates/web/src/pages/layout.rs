//! The frame around every page: the header with its navigation and language switch, a notice
//! when a form has just done something, and the page's own content.

use maud::{DOCTYPE, Markup, html};

use crate::i18n::Locale;
use crate::visit::Visit;

pub fn page(visit: &Visit, title: &str, notice: Option<&str>, content: Markup) -> Markup {
    let text = |id: &str| visit.text(id);
    html! {
        (DOCTYPE)
        html lang=(visit.locale.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · mybnb" }
                link rel="stylesheet" href="/assets/style.css";
            }
            body {
                a.skip href="#main" { (text("skip-to-content")) }
                header.site {
                    a.brand href="/" { "mybnb" }
                    nav aria-label=(text("nav-label")) {
                        ul {
                            li { a href="/" { (text("nav-search")) } }
                            @if let Some(session) = &visit.session {
                                li { a href="/trips" { (text("nav-trips")) } }
                                li { a href="/host" { (text("nav-host")) } }
                                li { a href="/inbox" { (text("nav-inbox")) } }
                                li.who { span #who { (session.username) } }
                                li {
                                    form method="post" action="/logout" {
                                        (csrf_field(visit))
                                        button.link type="submit" { (text("nav-logout")) }
                                    }
                                }
                            } @else {
                                li { a href="/login" { (text("nav-login")) } }
                                li { a href="/signup" { (text("nav-signup")) } }
                            }
                        }
                    }
                    form.language method="post" action="/language" {
                        (csrf_field(visit))
                        input type="hidden" name="back" value=(visit.here);
                        @for locale in Locale::ALL {
                            button type="submit" name="language" value=(locale.tag())
                                lang=(locale.tag())
                                aria-pressed=(if locale == visit.locale { "true" } else { "false" }) {
                                (locale.endonym())
                            }
                        }
                    }
                }
                main #main {
                    h1 { (title) }
                    @if let Some(notice) = notice {
                        p.notice role="status" { (notice) }
                    }
                    (content)
                }
            }
        }
    }
}

/// The hidden field every form carries.
pub fn csrf_field(visit: &Visit) -> Markup {
    html! { input type="hidden" name="csrf" value=(visit.csrf); }
}

/// A labelled text input that shows back what was typed, with the error about it, if any.
pub struct Field<'a> {
    pub name: &'a str,
    pub label: String,
    pub value: &'a str,
    pub kind: &'a str,
    pub required: bool,
    pub error: Option<String>,
    /// Extra attributes such as `min` or `autocomplete`.
    pub attributes: &'a [(&'a str, &'a str)],
}

impl<'a> Field<'a> {
    pub fn new(name: &'a str, label: String, value: &'a str) -> Field<'a> {
        Field {
            name,
            label,
            value,
            kind: "text",
            required: false,
            error: None,
            attributes: &[],
        }
    }

    pub fn kind(mut self, kind: &'a str) -> Self {
        self.kind = kind;
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn error(mut self, error: Option<String>) -> Self {
        self.error = error;
        self
    }

    pub fn attributes(mut self, attributes: &'a [(&'a str, &'a str)]) -> Self {
        self.attributes = attributes;
        self
    }

    pub fn render(&self) -> Markup {
        let id = format!("field-{}", self.name);
        let error_id = format!("{id}-error");
        // maud has no way to spread attributes, so the few extras are written out here.
        let attribute = |name: &str| {
            self.attributes
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| *value)
        };
        html! {
            div.field {
                label for=(id) { (self.label) }
                input id=(id) name=(self.name) type=(self.kind) value=(self.value)
                    required[self.required]
                    min=[attribute("min")] max=[attribute("max")] step=[attribute("step")]
                    autocomplete=[attribute("autocomplete")] inputmode=[attribute("inputmode")]
                    aria-invalid=[self.error.as_ref().map(|_| "true")]
                    aria-describedby=[self.error.as_ref().map(|_| error_id.as_str())];
                @if let Some(error) = &self.error {
                    p.field-error id=(error_id) { (error) }
                }
            }
        }
    }
}
