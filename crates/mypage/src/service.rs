//! Applying events to my page, and rebuilding it from the whole history.

use mybnb_bus::{EventBus, Rejected};
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use mybnb_events::payment::{PaymentApproved, PaymentCancelled};
use mybnb_events::{EventEnvelope, Incoming};
use mybnb_platform::inbox::Handling;
use uuid::Uuid;

use crate::domain::{MyPage, StayUpdate};
use crate::store::SqlMyPageRepository;

/// The name my page subscribes and records handled events under.
pub const CONSUMER: &str = "mypage";

mybnb_events::incoming! {
    /// The events my page is built from.
    pub enum MyPageIncoming {
        BookingConfirmed(BookingConfirmed),
        BookingCancelled(BookingCancelled),
        PaymentApproved(PaymentApproved),
        PaymentCancelled(PaymentCancelled),
    }
}

/// What my page subscribes to.
pub const SUBSCRIBES_TO: &[&str] = MyPageIncoming::EVENT_TYPES;

/// Events read from the history per round of a rebuild.
const REPLAY_PAGE: usize = 1_000;

pub struct MyPageService {
    stays: SqlMyPageRepository,
}

impl MyPageService {
    pub fn new(stays: SqlMyPageRepository) -> Self {
        MyPageService { stays }
    }

    pub async fn page(&self, user_id: Uuid) -> anyhow::Result<MyPage> {
        self.stays.page(user_id).await
    }

    /// Applies one event, exactly once (the inbox), in any order relative to the others.
    #[tracing::instrument(skip_all, fields(event_id = %envelope.id))]
    pub async fn handle(&self, envelope: &EventEnvelope) -> anyhow::Result<()> {
        let update = match MyPageIncoming::decode(envelope).map_err(Rejected::from)? {
            MyPageIncoming::BookingConfirmed(event) => StayUpdate::from(event),
            MyPageIncoming::BookingCancelled(event) => StayUpdate::from(event),
            MyPageIncoming::PaymentApproved(event) => StayUpdate::from(event),
            MyPageIncoming::PaymentCancelled(event) => StayUpdate::from(event),
        };
        let handling = Handling {
            consumer: CONSUMER,
            event_id: envelope.id,
        };
        self.stays.apply(&update, &handling).await
    }

    /// Throws my page away and builds it again from every event `bus` holds; returns how many
    /// events were applied. Events the live subscriber delivers meanwhile are applied once: the
    /// inbox is rebuilt along with the rows. An event my page cannot read is skipped and
    /// logged, as the live subscriber sets it aside.
    pub async fn rebuild(&self, bus: &dyn EventBus) -> anyhow::Result<u64> {
        // Read the whole history once before throwing anything away: a history that cannot
        // be read (a bus away, an unreadable event) leaves my page as it was.
        let mut after = 0;
        loop {
            let page = bus.history(SUBSCRIBES_TO, after, REPLAY_PAGE).await?;
            match page.last() {
                Some(last) if page.len() == REPLAY_PAGE => after = last.position,
                _ => break,
            }
        }
        self.stays.clear(CONSUMER).await?;
        let (mut after, mut applied) = (0, 0);
        loop {
            let page = bus.history(SUBSCRIBES_TO, after, REPLAY_PAGE).await?;
            for recorded in &page {
                after = recorded.position;
                match self.handle(&recorded.envelope).await {
                    Ok(()) => applied += 1,
                    Err(error) if error.chain().any(|cause| cause.is::<Rejected>()) => {
                        tracing::warn!(
                            event_id = %recorded.envelope.id,
                            error = format!("{error:#}"),
                            "an event my page cannot read is skipped"
                        );
                    }
                    Err(error) => return Err(error),
                }
            }
            if page.len() < REPLAY_PAGE {
                return Ok(applied);
            }
        }
    }
}
