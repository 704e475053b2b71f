//! Tokens: `POST /auth/token`, `GET /users/me`, what a token must be to be accepted, and the
//! per-address limit on sign-up and token requests.

use std::net::{IpAddr, Ipv4Addr};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mybnb_client::{AccessToken, User};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PASSWORD, TestApp, assert_problem};
use crate::tokens::{ALG_NONE_HEADER, claims, now, sign};

async fn assert_unauthorized(app: &TestApp, token: &str, case: &str) {
    let response = app.me(token).await;
    let www_authenticate = response
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .cloned();
    let problem = assert_problem(response, StatusCode::UNAUTHORIZED).await;
    assert!(
        www_authenticate.is_some(),
        "{case}: a 401 carries WWW-Authenticate: {problem}"
    );
}

fn limit_to_three_per_minute(settings: &mut mybnb::Settings) {
    settings.identity.auth_rate_limit_per_minute = 3.try_into().expect("non-zero");
}

api_tests! {
    /// The token is an HS256 JWT for the user, with the documented claims and lifetime.
    async fn a_token_is_issued_for_the_right_password(app) {
        let user = app.sign_up("choi").await;
        let response = app.token_raw("choi", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: AccessToken = response.json().await.expect("a token as JSON");
        assert_eq!(body.token_type, "Bearer");
        assert_eq!(body.expires_in, 3600, "the default lifetime is an hour");

        let token = &body.access_token;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&["mybnb"]);
        let decoded = jsonwebtoken::decode::<Value>(
            token,
            &DecodingKey::from_secret(app.jwt_secret.as_bytes()),
            &validation,
        )
        .expect("the token is signed with the configured secret");
        let claims = decoded.claims;
        assert_eq!(claims["sub"], json!(user.id), "the token's claims are JSON by definition");
        assert_eq!(claims["name"], "choi");
        let lifetime = claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat");
        assert_eq!(lifetime, 3600);
    }

    /// The username is case-insensitive at sign-in too.
    async fn me_shows_the_token_holder(app) {
        let user = app.sign_up("jung").await;
        let token = app.token("JUNG", PASSWORD).await;
        let response = app.me(&token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let me: User = response.json().await.expect("a user as JSON");
        assert_eq!(me, user);
    }

    /// A wrong password and an unknown user are answered alike.
    async fn wrong_credentials_are_refused_alike(app) {
        app.sign_up("kang").await;
        let wrong_password = assert_problem(
            app.token_raw("kang", "not the password").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        let unknown_user =
            assert_problem(app.token_raw("nobody", PASSWORD).await, StatusCode::UNAUTHORIZED).await;
        assert_eq!(wrong_password, unknown_user);
        let malformed_username =
            assert_problem(app.token_raw("-x", PASSWORD).await, StatusCode::UNAUTHORIZED).await;
        assert_eq!(malformed_username, unknown_user);
    }

    async fn me_needs_a_valid_bearer_token(app) {
        let response = app.get("/users/me").await;
        assert_problem(response, StatusCode::UNAUTHORIZED).await;

        assert_unauthorized(&app, "garbage", "a token that is no JWT").await;
        assert_unauthorized(&app, "", "an empty token").await;
        let token = app.new_user("yoon").await.token;
        let basic = app
            .send(app.request(Method::GET, "/users/me", None).header("authorization", format!("Basic {token}")))
            .await;
        assert_problem(basic, StatusCode::UNAUTHORIZED).await;
        let mut tampered = token.clone();
        tampered.push('x');
        assert_unauthorized(&app, &tampered, "a token with a changed signature").await;
    }

    /// Tokens signed with the secret but otherwise wrong are refused; the same forgery with
    /// the right claims is accepted, which shows the refusals are about the claims.
    async fn forged_tokens_are_refused(app) {
        let user = app.new_user("han").await;
        let in_an_hour = now() + 3600;

        let genuine = sign(&claims(&user.id.to_string(), &user.username, in_an_hour), &app.jwt_secret);
        assert_eq!(app.me(&genuine).await.status(), StatusCode::OK, "a well-made token works");

        let expired = sign(&claims(&user.id.to_string(), &user.username, now() - 5), &app.jwt_secret);
        assert_unauthorized(&app, &expired, "an expired token").await;

        let other_secret = format!("{}-but-another", app.jwt_secret);
        let wrong_key = sign(&claims(&user.id.to_string(), &user.username, in_an_hour), &other_secret);
        assert_unauthorized(&app, &wrong_key, "a token signed with another secret").await;

        let mut other_issuer = claims(&user.id.to_string(), &user.username, in_an_hour);
        other_issuer["iss"] = json!("someone-else");
        assert_unauthorized(&app, &sign(&other_issuer, &app.jwt_secret), "another issuer").await;

        let mut no_expiry = claims(&user.id.to_string(), &user.username, in_an_hour);
        no_expiry.as_object_mut().expect("an object").remove("exp");
        assert_unauthorized(&app, &sign(&no_expiry, &app.jwt_secret), "no expiry").await;

        let stranger = sign(&claims(&Uuid::now_v7().to_string(), "ghost", in_an_hour), &app.jwt_secret);
        assert_unauthorized(&app, &stranger, "a token for a user who does not exist").await;
    }

    /// `alg: none` with the genuine claims of a real token, and no signature.
    async fn unsigned_tokens_are_refused(app) {
        let token = app.new_user("seo").await.token;
        let payload = token.split('.').nth(1).expect("a JWT has a payload");
        assert_unauthorized(&app, &format!("{ALG_NONE_HEADER}.{payload}."), "alg none").await;
        assert_unauthorized(&app, &format!("{ALG_NONE_HEADER}.{payload}"), "alg none, 2 parts").await;
    }

    /// Sign-up and token requests share a per-address allowance; other routes and other
    /// addresses are not limited by it.
    async fn sign_up_and_token_requests_are_rate_limited(app with limit_to_three_per_minute) {
        app.sign_up("alice").await;
        let token = app.token("alice", PASSWORD).await;
        assert_problem(app.token_raw("alice", "wrong password").await, StatusCode::UNAUTHORIZED).await;

        let limited = app.sign_up_raw(&json!({ "username": "bob", "password": PASSWORD })).await;
        let retry_after = limited
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        assert_problem(limited, StatusCode::TOO_MANY_REQUESTS).await;
        assert!(retry_after.is_some_and(|seconds| seconds >= 1), "Retry-After: {retry_after:?}");
        assert_problem(app.token_raw("alice", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS).await;

        assert_eq!(app.me(&token).await.status(), StatusCode::OK, "/users/me is not limited");

        // Another client address has its own allowance, and the limited sign-up did not
        // take the name.
        let from_elsewhere = reqwest::Client::builder()
            .no_proxy()
            .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
            .build()
            .expect("a client bound to 127.0.0.2");
        let response = from_elsewhere
            .post(app.url("/users"))
            .json(&json!({ "username": "bob", "password": PASSWORD }))
            .send()
            .await
            .expect("the request is answered");
        assert_eq!(response.status(), StatusCode::CREATED);
    }
}
