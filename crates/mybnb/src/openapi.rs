//! The OpenAPI 3.1 document of everything this process serves, generated from the handlers'
//! annotations and served at `/openapi.json`. What holds for every operation is added here,
//! once: the security schemes, and the 503 that the deadline and the start-up gate answer.

use axum::Router;
use mybnb_platform::http::ProblemDocument;
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, InfoBuilder, OpenApi, Ref, ResponseBuilder};
use utoipa::{Modify, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;

/// `bearer`: a user's access token. `service`: the credential mybnb's services present to each
/// other's `/internal/…` operations, sent the same way.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, document: &mut OpenApi) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "service",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The service token (`service_token`), held by mybnb's services only",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every operation can answer 503: while its context is starting (`refuse_until_started`),
/// and when a request outlives `request_timeout_ms` (the deadline every route is behind).
/// Operations that document their own 503 keep it.
struct Unavailable;

impl Modify for Unavailable {
    fn modify(&self, document: &mut OpenApi) {
        let components = document.components.get_or_insert_with(Default::default);
        components
            .schemas
            .entry(ProblemDocument::name().into_owned())
            .or_insert_with(ProblemDocument::schema);
        let unavailable = ResponseBuilder::new()
            .description(
                "Unavailable: the service is starting or shutting down, or the request took \
                 too long. Retry after `Retry-After` seconds",
            )
            .content(
                "application/problem+json",
                Content::new(Some(Ref::from_schema_name(ProblemDocument::name()))),
            )
            .build();
        for item in document.paths.paths.values_mut() {
            for operation in operations(item) {
                operation
                    .responses
                    .responses
                    .entry("503".to_owned())
                    .or_insert_with(|| unavailable.clone().into());
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// Finishes the API's document and adds the route that serves it.
pub fn serve_document(api: OpenApiRouter) -> Router {
    let (router, mut document) = api.split_for_parts();
    document.info = InfoBuilder::new()
        .title("mybnb")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "A lodging-sharing platform. Errors are RFC 9457 problem documents \
             (application/problem+json).",
        ))
        .build();
    SecuritySchemes.modify(&mut document);
    document.paths.add_path_operation(
        "/openapi.json",
        vec![HttpMethod::Get],
        OperationBuilder::new()
            .tag("operations")
            .summary(Some("This document"))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The OpenAPI 3.1 document of the API")
                    .content("application/json", Content::default()),
            ),
    );
    Unavailable.modify(&mut document);
    router.route(
        "/openapi.json",
        axum::routing::get(move || async move { axum::Json(document) }),
    )
}
