//! The payment context over HTTP, for when it runs in another process: its internal API,
//! authenticated with the service token. Only the fields booking needs are read.

use anyhow::Context;
use mybnb_events::CorrelationId;
use mybnb_events::payment::PaymentStatus;
use mybnb_platform::auth::ServiceToken;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use crate::ports::{BoxFuture, PaymentFailure, PaymentGateway, PaymentOrder, PaymentState};

pub struct HttpPayments {
    client: reqwest::Client,
    base_url: String,
    service_token: ServiceToken,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderMessage {
    booking_id: Uuid,
    guest_id: Uuid,
    host_id: Uuid,
    amount: i64,
}

#[derive(Deserialize)]
struct PaymentMessage {
    id: Uuid,
    status: PaymentStatus,
}

impl From<PaymentOrder> for OrderMessage {
    fn from(order: PaymentOrder) -> Self {
        OrderMessage {
            booking_id: order.booking_id,
            guest_id: order.guest_id,
            host_id: order.host_id,
            amount: order.amount.as_won(),
        }
    }
}

impl PaymentMessage {
    fn state(&self) -> PaymentState {
        PaymentState::from_status(self.id, self.status)
    }
}

impl HttpPayments {
    /// `base_url` is the payment service's address, e.g. `http://payment:8080`.
    pub fn new(client: reqwest::Client, base_url: &Url, service_token: ServiceToken) -> Self {
        HttpPayments {
            client,
            base_url: base_url.as_str().trim_end_matches('/').to_owned(),
            service_token,
        }
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Option<PaymentMessage>, PaymentFailure> {
        let response = request
            .header(
                reqwest::header::AUTHORIZATION,
                self.service_token.authorization(),
            )
            .send()
            .await
            .map_err(|error| {
                if error.is_connect() {
                    PaymentFailure::Unreachable(error.to_string())
                } else {
                    PaymentFailure::Unavailable
                }
            })?;
        match response.status() {
            StatusCode::OK => Ok(Some(
                response
                    .json()
                    .await
                    .context("reading the payment service's answer")?,
            )),
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_server_error() => Err(PaymentFailure::Unavailable),
            status => Err(anyhow::anyhow!("the payment service answered {status}").into()),
        }
    }
}

impl PaymentGateway for HttpPayments {
    fn charge(
        &self,
        order: PaymentOrder,
        correlation_id: CorrelationId,
    ) -> BoxFuture<'_, Result<PaymentState, PaymentFailure>> {
        Box::pin(async move {
            // Payment makes one payment per booking, whatever the number of asks: saying so lets
            // a gateway ask another payment instance when the first breaks off.
            let request = self
                .client
                .post(format!("{}/internal/payments", self.base_url))
                .header("idempotency-key", order.booking_id.to_string())
                .header("x-request-id", correlation_id.as_str())
                .json(&OrderMessage::from(order));
            let payment = self
                .send(request)
                .await?
                .context("the payment service lost a payment it was asked to make")?;
            Ok(payment.state())
        })
    }

    fn status(
        &self,
        booking_id: Uuid,
    ) -> BoxFuture<'_, Result<Option<PaymentState>, PaymentFailure>> {
        Box::pin(async move {
            let request = self
                .client
                .get(format!("{}/internal/payments/{booking_id}", self.base_url));
            Ok(self.send(request).await?.map(|payment| payment.state()))
        })
    }

    fn void(
        &self,
        order: PaymentOrder,
        correlation_id: CorrelationId,
    ) -> BoxFuture<'_, Result<(), PaymentFailure>> {
        Box::pin(async move {
            let request = self
                .client
                .post(format!(
                    "{}/internal/payments/{}/void",
                    self.base_url, order.booking_id
                ))
                .header("idempotency-key", order.booking_id.to_string())
                .header("x-request-id", correlation_id.as_str())
                .json(&OrderMessage::from(order));
            // The void endpoint always answers the payment; a 404 means a wrong address.
            self.send(request)
                .await?
                .context("the payment service has no void endpoint at this address")?;
            Ok(())
        })
    }
}
