//! What operators and tools rely on: health, readiness, metrics, request ids, stopping.

use mybnb_client::Readiness;
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{assert_problem, header, room, spawn_app_unready};

/// The value of the sample `name{labels…}` in OpenMetrics `text` whose labels include `wanted`.
fn sample(text: &str, name: &str, wanted: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix('{')?;
        let (labels, value) = rest.rsplit_once("} ")?;
        let labels: Vec<&str> = labels.split(',').collect();
        let matches = wanted
            .iter()
            .all(|(key, value)| labels.contains(&format!("{key}=\"{value}\"").as_str()));
        matches.then(|| value.trim().parse().ok()).flatten()
    })
}

fn request_id(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

api_tests! {
    async fn the_process_is_live_and_ready(app) {
        assert_eq!(app.get("/health/live").await.status(), StatusCode::OK);
        let response = app.get("/health/ready").await;
        assert_eq!(response.status(), StatusCode::OK);
        let report: Readiness = response.json().await.expect("a report as JSON");
        assert_eq!(report.status, "ready", "{report:?}");
        for component in ["identity.database", "room.database"] {
            assert!(report.checks.contains_key(component), "{component} is checked: {report:?}");
        }
        assert!(report.checks.values().all(|check| check == "ready"), "{report:?}");
    }

    /// Requests are counted and timed by route template and status, never by concrete path.
    async fn metrics_count_requests_by_route_template(app) {
        let unknown_rooms = [Uuid::now_v7().to_string(), Uuid::now_v7().to_string()];
        for id in &unknown_rooms {
            assert_eq!(app.get_room(id).await.status(), StatusCode::NOT_FOUND);
        }
        app.search(&[("q", "anything")]).await;

        let response = app.get("/metrics").await;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = header(&response, reqwest::header::CONTENT_TYPE);
        assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
        let text = response.text().await.expect("metrics text");

        let by_room = [("method", "GET"), ("route", "/rooms/{id}"), ("status", "404")];
        assert_eq!(sample(&text, "mybnb_http_requests_total", &by_room), Some(2.0), "{text}");
        let search = [("method", "GET"), ("route", "/rooms"), ("status", "200")];
        assert_eq!(sample(&text, "mybnb_http_requests_total", &search), Some(1.0), "{text}");
        assert!(text.contains("# TYPE mybnb_http_request_duration_seconds histogram"), "{text}");
        assert_eq!(sample(&text, "mybnb_http_request_duration_seconds_count", &by_room), Some(2.0), "{text}");
        let mut bucket = by_room.to_vec();
        bucket.push(("le", "+Inf"));
        assert_eq!(sample(&text, "mybnb_http_request_duration_seconds_bucket", &bucket), Some(2.0), "{text}");
        for id in &unknown_rooms {
            assert!(!text.contains(id.as_str()), "no series names a concrete path");
        }
        assert!(text.trim_end().ends_with("# EOF"), "OpenMetrics text ends with # EOF");
    }

    async fn every_response_carries_a_request_id(app) {
        let first = app.get("/health/live").await;
        let second = app.get("/nowhere").await;
        let first_id = request_id(&first).expect("a generated request id");
        let second_id = request_id(&second).expect("a generated request id on a 404");
        assert!(!first_id.is_empty());
        assert_ne!(first_id, second_id, "each request gets its own id");

        let host = app.new_user("host").await;
        let cases = [
            app.request(Method::GET, "/health/live", None),
            app.request(Method::GET, "/nowhere", None),
            app.request(Method::GET, "/users/me", None),
            app.request(Method::POST, "/rooms", Some(&host.token)).json(&room("Traced", 1_000)),
            app.request(Method::POST, "/rooms", Some(&host.token)).json(&json!({ "name": "" })),
        ];
        for (number, request) in cases.into_iter().enumerate() {
            let sent = format!("test-request-{number}");
            let response = request
                .header("x-request-id", &sent)
                .send()
                .await
                .expect("the request is answered");
            assert_eq!(request_id(&response), Some(sent.clone()), "echoed ({})", response.status());
        }
    }

    /// The application stops when asked, reports a clean stop, and takes no more connections.
    async fn the_application_stops_cleanly(app) {
        let url = app.url("/health/live");
        let client = app.api.http().clone();
        assert_eq!(client.get(&url).send().await.expect("answered").status(), StatusCode::OK);
        app.stop().await.expect("a clean stop");
        assert!(client.get(&url).send().await.is_err(), "the listener is closed");
    }
}

/// While a context's database is unreachable the process is live but not ready, says why, and
/// its routes answer 503 with `Retry-After` rather than failing on the way.
#[tokio::test]
async fn a_process_whose_database_is_unreachable_is_live_but_not_ready() {
    let app = spawn_app_unready(|settings| {
        // Port 1 on the loopback refuses connections.
        settings.database_url = Some("postgres://postgres@127.0.0.1:1/nothing".to_owned().into());
    })
    .await;
    assert_eq!(app.get("/health/live").await.status(), StatusCode::OK);

    let problem = assert_problem(
        app.get("/health/ready").await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    for component in ["identity.database", "room.database"] {
        let check = problem.extensions["checks"][component].as_str();
        assert!(
            check.is_some_and(|check| check != "ready"),
            "{component}: {problem}"
        );
    }

    for response in [
        app.sign_up_raw(&json!({ "username": "early", "password": "early bird" }))
            .await,
        app.search_raw(&[]).await,
    ] {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .cloned();
        assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
        assert!(retry_after.is_some(), "a 503 says when to retry");
    }
}
