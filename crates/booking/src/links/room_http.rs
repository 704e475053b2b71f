//! The room context over HTTP, for when it runs in another process: its public room read.

use std::time::Duration;

use anyhow::Context;
use reqwest::StatusCode;
use serde::Deserialize;
use url::Url;
use uuid::Uuid;

use crate::domain::{Money, RoomSnapshot};
use crate::ports::{BoxFuture, RoomCatalog};

/// A room read is quick; one that is not is treated as the room service being unavailable.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

pub struct HttpRooms {
    client: reqwest::Client,
    base_url: String,
}

#[derive(Deserialize)]
struct RoomMessage {
    id: Uuid,
    name: String,
    host: Uuid,
    price: i64,
    capacity: u32,
}

impl HttpRooms {
    /// `base_url` is the room service's address, e.g. `http://room:8080`.
    pub fn new(client: reqwest::Client, base_url: &Url) -> Self {
        HttpRooms {
            client,
            base_url: base_url.as_str().trim_end_matches('/').to_owned(),
        }
    }
}

impl RoomCatalog for HttpRooms {
    fn snapshot(&self, room_id: Uuid) -> BoxFuture<'_, anyhow::Result<Option<RoomSnapshot>>> {
        Box::pin(async move {
            let response = self
                .client
                .get(format!("{}/rooms/{room_id}", self.base_url))
                .timeout(LOOKUP_TIMEOUT)
                .send()
                .await
                .context("asking the room service for a room")?;
            match response.status() {
                StatusCode::OK => {
                    let room: RoomMessage = response
                        .json()
                        .await
                        .context("reading the room service's answer")?;
                    Ok(Some(RoomSnapshot {
                        id: room.id,
                        name: room.name,
                        host_id: room.host,
                        price: Money::won(room.price)?,
                        capacity: room.capacity,
                    }))
                }
                StatusCode::NOT_FOUND => Ok(None),
                status => anyhow::bail!("the room service answered {status}"),
            }
        })
    }
}
