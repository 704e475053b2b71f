//! The services (bounded contexts) a process can run, chosen with `--services`.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// A service that can be enabled in a process: a bounded context, or the gateway in front of
/// them.
///
/// The contexts are declared in the order they are wired: a context comes after those it calls
/// in-process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    Identity,
    Room,
    Payment,
    Booking,
    Notification,
    Mypage,
    Web,
    Gateway,
}

impl Service {
    /// What `all` runs in one process: every bounded context, and the web pages over them
    /// (the gateway runs alone, in front of them).
    pub const ALL_IN_ONE: [Service; 7] = [
        Service::Identity,
        Service::Room,
        Service::Payment,
        Service::Booking,
        Service::Notification,
        Service::Mypage,
        Service::Web,
    ];

    /// Whether every request to this context that carries an `Idempotency-Key` has its effect
    /// once, however often it is sent: booking keys its bookings by it and decides its other
    /// commands by compare-and-set; payment makes one payment per booking and refunds and voids
    /// by state. The others ignore the header, so the gateway never repeats their requests.
    pub fn honours_idempotency_keys(self) -> bool {
        matches!(self, Service::Booking | Service::Payment)
    }

    /// Whether this is a context with an API, a database and events of its own: every one but
    /// the web pages, which call the API, and the gateway.
    pub fn keeps_data(self) -> bool {
        !matches!(self, Service::Web | Service::Gateway)
    }

    /// Every service a process can run.
    pub fn all() -> impl Iterator<Item = Service> {
        Service::ALL_IN_ONE.into_iter().chain([Service::Gateway])
    }

    /// The path prefixes a context serves: the gateway routes a request to the context whose
    /// prefix matches it. The gateway itself owns none.
    pub fn paths(self) -> &'static [&'static str] {
        match self {
            Service::Identity => &["/users", "/auth"],
            Service::Room => &["/rooms"],
            Service::Booking => &["/bookings"],
            Service::Payment => &["/payments", "/internal/payments"],
            Service::Notification => &["/notifications"],
            Service::Mypage => &["/mypage"],
            Service::Web => mybnb_web::PATHS,
            Service::Gateway => &[],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Service::Identity => "identity",
            Service::Room => "room",
            Service::Booking => "booking",
            Service::Payment => "payment",
            Service::Notification => "notification",
            Service::Mypage => "mypage",
            Service::Web => "web",
            Service::Gateway => "gateway",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// The services one process runs: `all`, or a comma-separated list such as `identity,room`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSet(BTreeSet<Service>);

impl ServiceSet {
    /// Every context and the web pages, in one process.
    pub fn all() -> Self {
        ServiceSet(Service::ALL_IN_ONE.into_iter().collect())
    }

    pub fn contains(&self, service: Service) -> bool {
        self.0.contains(&service)
    }

    pub fn iter(&self) -> impl Iterator<Item = Service> + '_ {
        self.0.iter().copied()
    }
}

impl fmt::Display for ServiceSet {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Service::name).collect();
        formatter.write_str(&names.join(","))
    }
}

impl FromStr for ServiceSet {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let mut services = BTreeSet::new();
        for name in list.split(',').map(str::trim) {
            if name == "all" {
                return Ok(ServiceSet::all());
            }
            let service = Service::all()
                .find(|service| service.name() == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = Service::all().map(Service::name).collect();
                    format!(
                        "unknown service `{name}`; expected `all` or a comma-separated list of: {}",
                        known.join(", ")
                    )
                })?;
            services.insert(service);
        }
        if services.contains(&Service::Gateway) && services.len() > 1 {
            return Err(
                "the gateway runs alone: it owns the public paths the contexts serve".to_owned(),
            );
        }
        Ok(ServiceSet(services))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_means_every_service() {
        assert_eq!("all".parse::<ServiceSet>(), Ok(ServiceSet::all()));
    }

    #[test]
    fn a_list_names_its_services_only() {
        let set: ServiceSet = "room, identity".parse().expect("a valid list");
        assert!(set.contains(Service::Room) && set.contains(Service::Identity));
        let set: ServiceSet = "room".parse().expect("a valid list");
        assert!(!set.contains(Service::Identity));
    }

    #[test]
    fn all_means_the_contexts_and_the_gateway_runs_alone() {
        assert!(!ServiceSet::all().contains(Service::Gateway));
        assert!("gateway".parse::<ServiceSet>().is_ok());
        assert!("gateway,room".parse::<ServiceSet>().is_err());
    }

    #[test]
    fn unknown_or_empty_names_are_refused() {
        assert!("rooms".parse::<ServiceSet>().is_err());
        assert!("".parse::<ServiceSet>().is_err());
        assert!("room,".parse::<ServiceSet>().is_err());
    }
}
