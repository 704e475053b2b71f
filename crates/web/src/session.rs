//! Who is logged in, kept in the browser: a cookie with the API's access token and, for the
//! pages' own use, the user's id and name. The API checks the token on every call, so the id and
//! name only decide what a page shows and asks for, never what anyone may do.

use std::time::Duration;

use axum_extra::extract::cookie::{Cookie, SameSite};
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use uuid::Uuid;

/// The names of our cookies, and whether they are always `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieNames {
    pub session: &'static str,
    pub nonce: &'static str,
    pub language: &'static str,
    /// `Secure` on every cookie, whatever the request came over.
    pub always_secure: bool,
}

impl CookieNames {
    /// Where the pages' public address is not known to be https: plain names, `Secure` when
    /// the page came over TLS.
    pub const PLAIN: CookieNames = CookieNames {
        session: "mybnb_session",
        nonce: "mybnb_csrf",
        language: "mybnb_lang",
        always_secure: false,
    };

    /// Where the pages' public address is https: `__Host-` names, which a browser takes only
    /// `Secure`, from a secure page, for `Path=/` and no `Domain` — so no plain-HTTP page and
    /// no other subdomain can set or shadow them.
    pub const HOST_ONLY: CookieNames = CookieNames {
        session: "__Host-mybnb_session",
        nonce: "__Host-mybnb_csrf",
        language: "__Host-mybnb_lang",
        always_secure: true,
    };
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: Uuid,
    pub username: String,
    pub token: String,
}

impl Session {
    /// The session in a cookie's value: `<user id>.<percent-encoded name>.<token>`.
    pub fn from_cookie(value: &str) -> Option<Session> {
        let mut parts = value.splitn(3, '.');
        let user_id = Uuid::parse_str(parts.next()?).ok()?;
        let username = percent_decode_str(parts.next()?).decode_utf8().ok()?;
        let token = parts.next().filter(|token| !token.is_empty())?;
        Some(Session {
            user_id,
            username: username.into_owned(),
            token: token.to_owned(),
        })
    }

    fn cookie_value(&self) -> String {
        format!(
            "{}.{}.{}",
            self.user_id,
            utf8_percent_encode(&self.username, NON_ALPHANUMERIC),
            self.token
        )
    }

    /// The cookie, named `name`, that keeps this session for as long as its token is valid.
    pub fn cookie(&self, name: &'static str, lifetime: Duration, secure: bool) -> Cookie<'static> {
        let mut cookie = cookie(name, self.cookie_value(), secure);
        cookie.set_max_age(::cookie::time::Duration::try_from(lifetime).ok());
        cookie
    }
}

/// A cookie of ours: sent back to every page, never readable by scripts, never sent along with
/// requests that other sites start (but for following a link), and only over TLS when the page
/// came over TLS.
pub fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_survives_its_cookie() {
        let session = Session {
            user_id: Uuid::now_v7(),
            username: "김.민준 kim".to_owned(),
            token: "header.claims.signature".to_owned(),
        };
        let cookie = session.cookie(CookieNames::PLAIN.session, Duration::from_secs(3600), true);
        let back = Session::from_cookie(cookie.value());
        let back = back.as_ref();
        assert_eq!(back.map(|s| s.user_id), Some(session.user_id));
        assert_eq!(back.map(|s| s.username.as_str()), Some("김.민준 kim"));
        assert_eq!(
            back.map(|s| s.token.as_str()),
            Some("header.claims.signature")
        );
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.secure(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        assert_eq!(cookie.max_age().map(|age| age.whole_seconds()), Some(3600));
    }

    #[test]
    fn a_mangled_cookie_is_no_session() {
        for value in [
            "",
            "nope",
            "not-a-uuid.name.token",
            &format!("{}.name.", Uuid::now_v7()),
        ] {
            assert!(Session::from_cookie(value).is_none(), "{value:?}");
        }
    }
}
