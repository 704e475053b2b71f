//! Bodies of the notification API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{Notification, NotificationPage};

/// One notification, in the history and on the live stream alike.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationItem {
    /// Sorts by creation.
    pub id: Uuid,
    /// `PAYMENT_APPROVED` and `PAYMENT_CANCELLED` (to the guest), `BOOKING_CONFIRMED` and
    /// `BOOKING_CANCELLED` (to the host).
    #[serde(rename = "type")]
    #[schema(example = "BOOKING_CONFIRMED")]
    pub kind: String,
    pub booking_id: Uuid,
    /// What happened, in a sentence with the details.
    #[schema(
        example = "Your room \"Hanok with a garden\" is booked from 2026-12-24 to 2026-12-27 (3 nights, 360,000 won). Booking 01936f0e-8c4a-7b1e-9d2f-3a5b6c7d8e9f."
    )]
    pub message: String,
    pub created_at: DateTime<Utc>,
}

impl From<Notification> for NotificationItem {
    fn from(notification: Notification) -> Self {
        NotificationItem {
            id: notification.id,
            kind: notification.kind.as_str().to_owned(),
            booking_id: notification.booking_id,
            message: notification.message,
            created_at: notification.created_at,
        }
    }
}

/// Which page of the history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Page size, 20 by default; sizes above 100 are lowered to 100.
    #[param(minimum = 1)]
    pub size: Option<u32>,
}

/// One page of the caller's notifications, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<NotificationItem>,
    /// The caller's notifications in all.
    pub total: u64,
    pub page: u32,
    pub size: u32,
}

impl From<NotificationPage> for NotificationList {
    fn from(page: NotificationPage) -> Self {
        NotificationList {
            items: page
                .notifications
                .into_iter()
                .map(NotificationItem::from)
                .collect(),
            total: page.total,
            page: page.page.number(),
            size: page.page.size(),
        }
    }
}
