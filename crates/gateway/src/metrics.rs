//! What the gateway counts, besides every request (`mybnb_http_requests_total`).

use mybnb_platform::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabel {
    service: String,
}

#[derive(Clone)]
pub(crate) struct GatewayMetrics {
    retries: Family<ServiceLabel, Counter>,
    ejections: Family<ServiceLabel, Counter>,
}

impl GatewayMetrics {
    pub(crate) fn register(metrics: &Metrics) -> GatewayMetrics {
        let gateway = GatewayMetrics {
            retries: Family::default(),
            ejections: Family::default(),
        };
        metrics.register(
            "gateway_retries",
            "Requests sent to a second instance after the first could not be reached",
            gateway.retries.clone(),
        );
        metrics.register(
            "gateway_ejections",
            "Times an instance was taken out of its service's balancer",
            gateway.ejections.clone(),
        );
        gateway
    }

    pub(crate) fn retried(&self, service: &str) {
        self.retries
            .get_or_create(&ServiceLabel {
                service: service.to_owned(),
            })
            .inc();
    }

    pub(crate) fn ejected(&self, service: &str) {
        self.ejections
            .get_or_create(&ServiceLabel {
                service: service.to_owned(),
            })
            .inc();
    }
}
