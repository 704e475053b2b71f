//! URLs as they may be logged: without the credentials they can carry.

/// Query parameters whose value is a credential (`?password=` on a PostgreSQL URL, …); a
/// parameter is one when its name contains any of these, ignoring case.
const SECRET_PARAMETERS: [&str; 4] = ["password", "passwd", "secret", "token"];

/// A URL with its credentials replaced, for logs and error messages: the password, a user name
/// without a password (NATS, for one, takes a token there), and the value of every query
/// parameter named like a credential.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "<unparseable url>".to_owned();
    };
    // These only fail for URLs that cannot have credentials, which this one has.
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("redacted"));
    } else if !parsed.username().is_empty() {
        let _ = parsed.set_username("redacted");
    }
    let secret = |name: &str| {
        let name = name.to_ascii_lowercase();
        SECRET_PARAMETERS.iter().any(|part| name.contains(part))
    };
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    if pairs.iter().any(|(name, _)| secret(name)) {
        let mut query = parsed.query_pairs_mut();
        query.clear();
        for (name, value) in &pairs {
            let shown = if secret(name) { "redacted" } else { value };
            query.append_pair(name, shown);
        }
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_the_authority_are_replaced() {
        assert_eq!(
            redact_url("postgres://mybnb:s3cret@db:5432/mybnb"),
            "postgres://mybnb:redacted@db:5432/mybnb"
        );
        assert_eq!(
            redact_url("nats://t0ken@nats:4222"),
            "nats://redacted@nats:4222"
        );
    }

    #[test]
    fn credentials_in_the_query_are_replaced_and_the_rest_kept() {
        let shown = redact_url(
            "postgres://db/mybnb?sslmode=require&password=s3cret&sslpassword=k3y&PGPASSWORD=x",
        );
        for secret in ["s3cret", "k3y", "=x"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("sslmode=require"), "{shown}");
        assert_eq!(redact_url("http://gateway:8080/"), "http://gateway:8080/");
        assert_eq!(redact_url("not a url"), "<unparseable url>");
    }
}
