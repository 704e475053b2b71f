//! `GET /insights/rooms[?hostId=]`: each room's figures. An internal dashboard's API, so it
//! asks for no token; put it behind your gateway's access rules.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::insights::{Insights, RoomInsight};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoomsQuery {
    host_id: Option<Uuid>,
}

#[derive(Debug, Serialize)]
struct RoomsPage {
    items: Vec<RoomInsight>,
}

pub fn router(insights: Arc<Insights>) -> Router {
    Router::new()
        .route("/insights/rooms", get(rooms))
        .with_state(insights)
}

async fn rooms(
    State(insights): State<Arc<Insights>>,
    Query(query): Query<RoomsQuery>,
) -> Result<axum::Json<RoomsPage>, StatusCode> {
    match insights.rooms(query.host_id).await {
        Ok(items) => Ok(axum::Json(RoomsPage { items })),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "reading the insights failed");
            Err(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}
