//! The served OpenAPI document agrees with the contract and with the routes actually served.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, room};

/// An operation: path, method, the credential it needs (`bearer`: a user's token, `service`:
/// the service token), whether it takes a JSON body, and the statuses it documents besides the
/// shared ones.
type Documented = (
    &'static str,
    &'static str,
    Option<&'static str>,
    bool,
    &'static [&'static str],
);

/// Every operation of the API.
#[rustfmt::skip]
const OPERATIONS: [Documented; 22] = [
    ("/users",                                "post",   None,            true,  &["201", "409", "429"]),
    ("/auth/token",                           "post",   None,            true,  &["200", "401", "429"]),
    ("/users/me",                             "get",    Some("bearer"),  false, &["200", "401"]),
    ("/rooms",                                "post",   Some("bearer"),  true,  &["201", "401"]),
    ("/rooms",                                "get",    None,            false, &["200", "422"]),
    ("/rooms/{id}",                           "get",    None,            false, &["200", "404"]),
    ("/rooms/{id}",                           "delete", Some("bearer"),  false, &["204", "401", "403", "404"]),
    ("/rooms/{id}/availability",              "get",    None,            false, &["200", "404", "422"]),
    ("/bookings",                             "post",   Some("bearer"),  true,  &["201", "401", "402", "403", "404", "409"]),
    ("/bookings",                             "get",    Some("bearer"),  false, &["200", "401"]),
    ("/bookings/{id}",                        "get",    Some("bearer"),  false, &["200", "401", "404"]),
    ("/bookings/{id}/cancel",                 "post",   Some("bearer"),  false, &["200", "401", "404", "409"]),
    ("/payments",                             "get",    Some("bearer"),  false, &["200", "401", "404", "422"]),
    ("/internal/payments",                    "post",   Some("service"), true,  &["200", "401", "409"]),
    ("/internal/payments/{bookingId}",        "get",    Some("service"), false, &["200", "401", "404"]),
    ("/internal/payments/{bookingId}/void",   "post",   Some("service"), true,  &["200", "401", "404", "409"]),
    ("/notifications",                        "get",    Some("bearer"),  false, &["200", "401", "422"]),
    ("/mypage",                               "get",    Some("bearer"),  false, &["200", "401"]),
    ("/health/live",                          "get",    None,            false, &["200"]),
    ("/health/ready",                         "get",    None,            false, &["200"]),
    ("/metrics",                              "get",    None,            false, &["200"]),
    ("/openapi.json",                         "get",    None,            false, &["200"]),
];

/// What every operation with a JSON body answers for a body it cannot take.
const BODY_ERRORS: [&str; 4] = ["400", "413", "415", "422"];

async fn document(app: &TestApp) -> Value {
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("the document is JSON")
}

/// Follows `$ref`s to `#/components/schemas/…`.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .expect("a reference to a component schema");
            resolve(document, &document["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn json_schema<'a>(document: &'a Value, content: &'a Value) -> &'a Value {
    resolve(document, &content["content"]["application/json"]["schema"])
}

api_tests! {
    async fn the_document_lists_every_operation_with_its_statuses(app) {
        let document = document(&app).await;
        let version = document["openapi"].as_str().expect("an openapi version");
        assert!(version.starts_with("3.1"), "OpenAPI 3.1, not {version}");

        let schemes = &document["components"]["securitySchemes"];
        for (path, method, credential, json_body, statuses) in OPERATIONS {
            let operation = &document["paths"][path][method];
            assert!(operation.is_object(), "{method} {path} is documented");
            let documented: Vec<&String> = operation["responses"]
                .as_object()
                .map(|responses| responses.keys().collect())
                .unwrap_or_default();
            let body_errors = if json_body { &BODY_ERRORS[..] } else { &[] };
            // Every operation may be refused while starting or when it outlives its deadline.
            for status in statuses.iter().chain(body_errors).chain(&["503"]) {
                assert!(documented.iter().any(|code| code == status), "{method} {path} documents {status}: {documented:?}");
            }
            assert_eq!(operation["requestBody"].is_object(), json_body, "{method} {path}: a JSON body");
            let required: Vec<&str> = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|requirement| requirement.as_object())
                .flat_map(|requirement| requirement.keys().map(String::as_str))
                .collect();
            assert_eq!(required, credential.into_iter().collect::<Vec<_>>(), "{method} {path}: its credential");
            for scheme in required {
                assert!(
                    schemes[scheme]["scheme"].as_str().is_some_and(|kind| kind.eq_ignore_ascii_case("bearer")),
                    "{method} {path}: the scheme {scheme} is defined, as a bearer token"
                );
            }
        }
        // And whatever else is documented: bodies' errors and problem documents alike.
        for (path, operations) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in operations.as_object().into_iter().flatten() {
                let responses = operation["responses"].as_object();
                if operation["requestBody"]["content"]["application/json"].is_object() {
                    for status in BODY_ERRORS {
                        assert!(responses.is_some_and(|responses| responses.contains_key(status)), "{method} {path} documents {status}");
                    }
                }
                for (status, response) in responses.into_iter().flatten() {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert!(
                            response["content"]["application/problem+json"].is_object(),
                            "{method} {path} {status} is a problem document: {response}"
                        );
                    }
                }
            }
        }
    }

    /// Request bodies, search parameters and the room's shape are documented as served.
    async fn the_document_describes_the_bodies_and_parameters(app) {
        let document = document(&app).await;
        let paths = &document["paths"];

        let sign_up = json_schema(&document, &paths["/users"]["post"]["requestBody"]);
        assert_eq!(names(&sign_up["required"]), ["password", "username"]);
        for member in ["username", "password", "displayName", "email"] {
            assert!(sign_up["properties"][member].is_object(), "sign-up documents {member}");
        }

        let listing = json_schema(&document, &paths["/rooms"]["post"]["requestBody"]);
        assert_eq!(names(&listing["required"]), ["address", "name", "price"]);
        let room = json_schema(&document, &paths["/rooms"]["post"]["responses"]["201"]);
        for member in ["id", "name", "address", "city", "description", "price", "capacity", "host", "hostName", "createdAt"] {
            assert!(room["properties"][member].is_object(), "a room documents {member}: {room}");
        }
        assert!(
            paths["/rooms"]["post"]["responses"]["201"]["headers"]["Location"].is_object(),
            "the 201 documents its Location"
        );

        let page = json_schema(&document, &paths["/rooms"]["get"]["responses"]["200"]);
        assert_eq!(names(&page["required"]), ["items", "page", "size", "total"]);
        let parameters: Vec<String> = paths["/rooms"]["get"]["parameters"]
            .as_array()
            .expect("search parameters")
            .iter()
            .filter(|parameter| parameter["in"] == "query")
            .filter_map(|parameter| parameter["name"].as_str().map(str::to_owned))
            .collect();
        for name in ["q", "city", "minPrice", "maxPrice", "guests", "page", "size"] {
            assert!(parameters.iter().any(|parameter| parameter == name), "{name} in {parameters:?}");
        }

        let token = json_schema(&document, &paths["/auth/token"]["post"]["responses"]["200"]);
        assert_eq!(names(&token["required"]), ["accessToken", "expiresIn", "tokenType"]);
    }

    /// Every documented operation is served: none answers 404 for its path or 405.
    async fn every_documented_operation_is_served(app) {
        let host = app.new_user("host").await;
        let registered = app.register_room(&host.token, &room("Documented room", 10_000)).await;
        let id = registered.id.to_string();
        let id = id.as_str();
        let document = document(&app).await;
        let paths = document["paths"].as_object().expect("paths");
        assert!(!paths.is_empty());
        for (path, operations) in paths {
            for method in operations.as_object().expect("operations").keys() {
                let Ok(method) = method.to_uppercase().parse::<Method>() else {
                    continue;
                };
                let concrete = path.replace("{id}", id);
                // No token and no body: enough to reach the route, never enough to change it.
                let response = app
                    .request(method.clone(), &concrete, None)
                    .send()
                    .await
                    .expect("the request is answered");
                let status = response.status();
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                assert_ne!(status, StatusCode::NOT_FOUND, "{method} {path}");
                assert!(!status.is_server_error(), "{method} {path}: {status}");
            }
        }
        assert_eq!(app.get_room(id).await.status(), StatusCode::OK, "the room is still there");
    }
}
