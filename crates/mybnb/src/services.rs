//! The services (bounded contexts) a process can run, chosen with `--services`.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// A context that can be enabled in a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
///
/// Declared in the order they are wired: a context comes after those it calls in-process.
pub enum Service {
    Identity,
    Room,
    Payment,
    Booking,
    Notification,
    Mypage,
}

impl Service {
    pub const ALL: [Service; 6] = [
        Service::Identity,
        Service::Room,
        Service::Payment,
        Service::Booking,
        Service::Notification,
        Service::Mypage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::Identity => "identity",
            Service::Room => "room",
            Service::Booking => "booking",
            Service::Payment => "payment",
            Service::Notification => "notification",
            Service::Mypage => "mypage",
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
    pub fn all() -> Self {
        ServiceSet(Service::ALL.into_iter().collect())
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
            let service = Service::ALL
                .into_iter()
                .find(|service| service.name() == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = Service::ALL.iter().map(|s| s.name()).collect();
                    format!(
                        "unknown service `{name}`; expected `all` or a comma-separated list of: {}",
                        known.join(", ")
                    )
                })?;
            services.insert(service);
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
    fn unknown_or_empty_names_are_refused() {
        assert!("rooms".parse::<ServiceSet>().is_err());
        assert!("".parse::<ServiceSet>().is_err());
        assert!("room,".parse::<ServiceSet>().is_err());
    }
}
