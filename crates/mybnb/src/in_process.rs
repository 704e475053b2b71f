//! In-process links between contexts that share this process: booking calls the room and
//! payment services directly, through the same ports its HTTP adapters implement.

use std::sync::Arc;

use mybnb_booking::domain::{Money, RoomSnapshot};
use mybnb_booking::ports::{
    BoxFuture, PaymentFailure, PaymentGateway, PaymentOrder, PaymentState, RoomCatalog,
};
use mybnb_events::CorrelationId;
use mybnb_payment::domain::PaymentError;
use mybnb_payment::service::PaymentService;
use mybnb_room::domain::{RoomError, RoomId};
use mybnb_room::service::RoomService;
use uuid::Uuid;

pub struct InProcessRooms(pub Arc<RoomService>);

impl RoomCatalog for InProcessRooms {
    fn snapshot(&self, room_id: Uuid) -> BoxFuture<'_, anyhow::Result<Option<RoomSnapshot>>> {
        Box::pin(async move {
            match self.0.get(RoomId(room_id)).await {
                Ok(room) => Ok(Some(RoomSnapshot {
                    id: room.id.0,
                    name: room.listing.name().to_owned(),
                    host_id: room.host.id,
                    price: Money::won(room.listing.price().won())?,
                    capacity: room.listing.capacity().guests(),
                })),
                Err(RoomError::NotFound(_)) => Ok(None),
                Err(error) => Err(error.into()),
            }
        })
    }
}

pub struct InProcessPayments(pub Arc<PaymentService>);

fn payment_order(
    order: PaymentOrder,
) -> Result<mybnb_payment::domain::PaymentOrder, PaymentFailure> {
    mybnb_payment::domain::PaymentOrder::parse(
        order.booking_id,
        order.guest_id,
        order.host_id,
        order.amount.as_won(),
    )
    .map_err(failure)
}

fn state(payment: &mybnb_payment::domain::Payment) -> PaymentState {
    PaymentState::from_status(payment.id, payment.status)
}

fn failure(error: PaymentError) -> PaymentFailure {
    match error {
        PaymentError::Unavailable => PaymentFailure::Unavailable,
        other => PaymentFailure::Unexpected(other.into()),
    }
}

impl PaymentGateway for InProcessPayments {
    fn charge(
        &self,
        order: PaymentOrder,
        correlation_id: CorrelationId,
    ) -> BoxFuture<'_, Result<PaymentState, PaymentFailure>> {
        Box::pin(async move {
            let payment = self
                .0
                .charge(payment_order(order)?, &correlation_id)
                .await
                .map_err(failure)?;
            Ok(state(&payment))
        })
    }

    fn status(
        &self,
        booking_id: Uuid,
    ) -> BoxFuture<'_, Result<Option<PaymentState>, PaymentFailure>> {
        Box::pin(async move {
            match self.0.find(booking_id).await {
                Ok(payment) => Ok(Some(state(&payment))),
                Err(PaymentError::NotFound(_)) => Ok(None),
                Err(error) => Err(failure(error)),
            }
        })
    }

    fn void(
        &self,
        order: PaymentOrder,
        correlation_id: CorrelationId,
    ) -> BoxFuture<'_, Result<(), PaymentFailure>> {
        Box::pin(async move {
            self.0
                .void(payment_order(order)?, &correlation_id)
                .await
                .map_err(failure)?;
            Ok(())
        })
    }
}
