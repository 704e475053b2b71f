//! The public API as the benchmarks' clients use it: sign up and sign in, register rooms. Both
//! the all-in-one server and the gateway of the distributed topology answer it.

use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// Where the API is, and the client that reaches it.
#[derive(Clone)]
pub struct Api {
    pub base_url: String,
    pub client: reqwest::Client,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// POSTs `body`; a 503 (an instance behind the gateway not taking requests yet) is tried
    /// again, for up to 10 s.
    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> anyhow::Result<Value> {
        let mut attempts = 0;
        loop {
            let mut request = self.client.post(self.url(path)).json(&body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await?;
            let status = response.status();
            if status == reqwest::StatusCode::SERVICE_UNAVAILABLE && attempts < 100 {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            let body: Value = response.json().await?;
            if !status.is_success() {
                bail!("POST {path} answered {status}: {body}");
            }
            return Ok(body);
        }
    }

    /// Signs up a user and returns their access token.
    pub async fn user(&self, username: &str) -> anyhow::Result<String> {
        let credentials = json!({ "username": username, "password": "benchmark password" });
        self.post("/users", None, credentials.clone()).await?;
        let token = self.post("/auth/token", None, credentials).await?;
        token["accessToken"]
            .as_str()
            .map(str::to_owned)
            .context("no accessToken in the token answer")
    }

    /// Registers `count` rooms as one host and returns their ids.
    pub async fn rooms(&self, host_token: &str, count: usize) -> anyhow::Result<Vec<String>> {
        let mut ids = Vec::with_capacity(count);
        for index in 0..count {
            let room = json!({
                "name": format!("Bench room {index}"),
                "address": format!("{index} Bench-ro"),
                "city": "Seoul",
                "price": 50_000 + 100 * index,
                "capacity": 4,
            });
            let room = self.post("/rooms", Some(host_token), room).await?;
            ids.push(room["id"].as_str().context("no room id")?.to_owned());
        }
        Ok(ids)
    }
}
