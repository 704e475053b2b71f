//! The OpenAPI 3.1 document of everything this process serves, generated from the handlers'
//! annotations and served at `/openapi.json`.

use axum::Router;
use utoipa::Modify;
use utoipa::openapi::path::{HttpMethod, OperationBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, InfoBuilder, OpenApi, ResponseBuilder};
use utoipa_axum::router::OpenApiRouter;

struct BearerAuth;

impl Modify for BearerAuth {
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
    }
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
    BearerAuth.modify(&mut document);
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
    router.route(
        "/openapi.json",
        axum::routing::get(move || async move { axum::Json(document) }),
    )
}
