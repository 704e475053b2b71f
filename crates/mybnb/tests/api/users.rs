//! Signing up: `POST /users`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use mybnb_client::User;

use crate::helpers::{PASSWORD, assert_problem};

/// Bodies refused with 422, each with a username that would otherwise be valid and free.
fn invalid_sign_ups() -> Vec<(&'static str, Value)> {
    vec![
        (
            "a password of 7 characters",
            json!({ "username": "short.pw", "password": "1234567" }),
        ),
        (
            "a password of 129 characters",
            json!({ "username": "long.pw", "password": "p".repeat(129) }),
        ),
        (
            "a password that is the username",
            json!({ "username": "same.name", "password": "Same.Name" }),
        ),
        (
            "a display name of 65 characters",
            json!({ "username": "long.name", "password": PASSWORD, "displayName": "d".repeat(65) }),
        ),
        (
            "a blank display name",
            json!({ "username": "blank.name", "password": PASSWORD, "displayName": "   " }),
        ),
        (
            "a display name with a line separator",
            json!({ "username": "two.lines", "password": PASSWORD, "displayName": "Kim\u{2028}Admin" }),
        ),
        (
            "an e-mail without @",
            json!({ "username": "bad.mail", "password": PASSWORD, "email": "not-an-address" }),
        ),
        (
            "an e-mail with two @",
            json!({ "username": "two.at", "password": PASSWORD, "email": "a@b@example.com" }),
        ),
    ]
}

api_tests! {
    /// A new user gets an id, a lowercase username, the username as display name, no e-mail.
    async fn signing_up_returns_the_new_user(app) {
        let response = app
            .sign_up_raw(&json!({ "username": "Kim.Host", "password": PASSWORD }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.expect("a user as JSON");
        // What the body leaves out, read as it is: no typed field would notice an extra member.
        assert!(body.get("password").is_none() && body.get("passwordHash").is_none(), "{body}");
        let user: User = serde_json::from_value(body).expect("a user: id a UUID, createdAt RFC 3339");
        assert_eq!(user.username, "kim.host");
        assert_eq!(user.display_name.as_deref(), Some("kim.host"));
        assert_eq!(user.email, None, "no e-mail was given: {user:?}");
        assert!(user.created_at.is_some(), "{user:?}");
    }

    async fn display_name_and_email_are_kept(app) {
        let body = json!({
            "username": "lee",
            "password": PASSWORD,
            "displayName": "Lee Ji-eun",
            "email": "lee@example.com",
        });
        let response = app.sign_up_raw(&body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let user: User = response.json().await.expect("a user as JSON");
        assert_eq!(user.display_name.as_deref(), Some("Lee Ji-eun"));
        assert_eq!(user.email.as_deref(), Some("lee@example.com"));

        let token = app.token("lee", PASSWORD).await;
        let me: User = app.me(&token).await.json().await.expect("a user as JSON");
        assert_eq!(me, user, "/users/me shows the user as signed up");
    }

    /// Usernames are case-insensitive: a name differing only in case is taken, and the first
    /// user's password is untouched by the refused attempt.
    async fn a_taken_username_is_refused_whatever_its_case(app) {
        app.sign_up("park").await;
        let again = json!({ "username": "park", "password": "another password" });
        assert_problem(app.sign_up_raw(&again).await, StatusCode::CONFLICT).await;
        let shouting = json!({ "username": "PARK", "password": "another password" });
        assert_problem(app.sign_up_raw(&shouting).await, StatusCode::CONFLICT).await;

        assert_eq!(app.token_raw("park", PASSWORD).await.status(), StatusCode::OK);
        let refused = app.token_raw("park", "another password").await;
        assert_problem(refused, StatusCode::UNAUTHORIZED).await;
    }

    async fn malformed_usernames_are_refused(app) {
        for username in ["ab", &"k".repeat(33), "-kim", ".kim", "_kim", "kim host", "kim@host", "kim/host", ""] {
            let body = json!({ "username": username, "password": PASSWORD });
            let problem = assert_problem(app.sign_up_raw(&body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert!(
                problem.message().contains("username"),
                "the problem names the field for {username:?}: {problem}"
            );
        }
    }

    /// Each refused sign-up leaves its username free.
    async fn invalid_sign_ups_are_refused_and_change_nothing(app) {
        for (case, body) in invalid_sign_ups() {
            let response = app.sign_up_raw(&body).await;
            assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
            let username = body["username"].as_str().expect("a username");
            assert!(app.username_is_free(username).await, "{case}: {username} is still free");
        }
    }

    /// The limits are inclusive.
    async fn values_at_the_limits_are_accepted(app) {
        let bodies = [
            json!({ "username": "abc", "password": PASSWORD }),
            json!({ "username": "k".repeat(32), "password": PASSWORD }),
            json!({ "username": "9lives", "password": PASSWORD }),
            json!({ "username": "a.b_c-d", "password": PASSWORD }),
            json!({ "username": "eight.pw", "password": "12345678" }),
            json!({ "username": "long.pw", "password": "p".repeat(128) }),
            json!({ "username": "long.name", "password": PASSWORD, "displayName": "d".repeat(64) }),
            // Letters are not only ASCII ones.
            json!({ "username": "김민수", "password": PASSWORD }),
        ];
        for body in bodies {
            let response = app.sign_up_raw(&body).await;
            let status = response.status();
            let text = response.text().await.expect("a body");
            assert_eq!(status, StatusCode::CREATED, "{body}: {text}");
        }
        let token = app.token("long.pw", &"p".repeat(128)).await;
        assert_eq!(app.me(&token).await.status(), StatusCode::OK);
    }
}
