//! The Kubernetes manifests (`deploy/k8s`) against the settings this binary knows, so that an
//! added or renamed setting cannot drift from them unnoticed: every key is configured (or left
//! unset on purpose), nothing there is a variable the binary would refuse, secrets stay in the
//! Secret, every service has a Deployment the binary would accept, and every URL in the
//! ConfigMap names a Service and one of its ports.
//!
//! Plain text scanning of files we write ourselves, in their layout; `scripts/validate-k8s`
//! checks them against the Kubernetes schemas.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mybnb::services::Service;
use mybnb::settings::{is_secret, keys};

/// Optional keys the manifests leave unset on purpose (the binary's default is right there);
/// they appear only as a comment line `# MYBNB_KEY: ...` saying why.
const LEFT_UNSET: &[&str] = &[
    "identity_database_url",
    "room_database_url",
    "booking_database_url",
    "payment_database_url",
    "notification_database_url",
    "mypage_database_url",
    "smtp_url",
    "payment_network_concurrency",
    "payment_breaker_slow_call_ms",
    "reconcile_stale_after_ms",
    "web_public_url",
];

/// Keys each Deployment sets in its own `env` rather than the shared ConfigMap.
const PER_DEPLOYMENT: &[&str] = &["services"];

/// `MYBNB_*` variables that are not keys but that mybnb reads (the config file's path).
const NOT_KEYS: &[&str] = &["MYBNB_CONFIG"];

fn directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/k8s")
}

fn read(name: &str) -> String {
    let path = directory().join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

fn variable(key: &str) -> String {
    format!("MYBNB_{}", key.to_uppercase())
}

fn key_of(variable: &str) -> String {
    variable.trim_start_matches("MYBNB_").to_lowercase()
}

/// The manifests, by file name; the `.yaml` files of the directory.
fn manifests() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(directory()).expect("deploy/k8s is there") {
        let name = entry.expect("a directory entry").file_name();
        let name = name.to_string_lossy().into_owned();
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            let text = read(&name);
            files.insert(name, text);
        }
    }
    files
}

/// The entries of a top-level map such as `data:`, in order: `(name, value)` for each set,
/// and the names of the `# MYBNB_KEY: ...` comment lines.
struct Block {
    set: Vec<(String, String)>,
    commented: Vec<String>,
}

fn block(file: &str, map: &str) -> Block {
    let text = read(file);
    let mut lines = text.lines().skip_while(|line| *line != map);
    assert!(lines.next().is_some(), "{file}: no top-level `{map}`");
    let mut block = Block {
        set: Vec::new(),
        commented: Vec::new(),
    };
    for line in lines.take_while(|line| line.is_empty() || line.starts_with(' ')) {
        let line = line.trim();
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim();
            if comment.starts_with("MYBNB_")
                && let Some((name, _)) = comment.split_once(':')
            {
                block.commented.push(name.to_owned());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            let value = value.trim().trim_matches('"');
            block.set.push((name.trim().to_owned(), value.to_owned()));
        }
    }
    block
}

/// A Deployment's document, found by its `kind`.
struct Deployment {
    file: String,
    text: String,
}

impl Deployment {
    fn all() -> Vec<Deployment> {
        let mut deployments = Vec::new();
        for (file, text) in manifests() {
            for document in text.split("\n---\n") {
                if document.lines().any(|line| line == "kind: Deployment") {
                    deployments.push(Deployment {
                        file: file.clone(),
                        text: document.to_owned(),
                    });
                }
            }
        }
        assert!(!deployments.is_empty(), "no Deployment in deploy/k8s");
        deployments
    }

    fn trimmed_lines(&self) -> impl Iterator<Item = &str> {
        self.text.lines().map(str::trim)
    }

    /// The value of `field: value` (the first such line).
    fn field(&self, field: &str) -> Option<&str> {
        self.trimmed_lines().find_map(|line| {
            line.strip_prefix(field)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(|value| value.trim().trim_matches('"'))
        })
    }

    /// The variables of its `env`: `- name: X` followed by `value: Y`.
    fn env(&self) -> BTreeMap<String, String> {
        let lines: Vec<&str> = self.trimmed_lines().collect();
        let mut env = BTreeMap::new();
        for pair in lines.windows(2) {
            if let (Some(name), Some(value)) = (
                pair[0].strip_prefix("- name: MYBNB_"),
                pair[1].strip_prefix("value: "),
            ) {
                env.insert(format!("MYBNB_{name}"), value.trim_matches('"').to_owned());
            }
        }
        env
    }
}

fn config() -> Block {
    block("configmap.yaml", "data:")
}

fn secret() -> Block {
    block("secret.example.yaml", "stringData:")
}

fn fail_with(problems: &[String], hint: &str) {
    assert!(
        problems.is_empty(),
        "deploy/k8s has drifted from mybnb::settings::keys():\n  {}\n{hint}",
        problems.join("\n  ")
    );
}

#[test]
fn every_setting_is_configured_or_deliberately_left_unset() {
    let (config, secret) = (config(), secret());
    let deployments = Deployment::all();
    let mut problems = Vec::new();
    for key in LEFT_UNSET.iter().chain(PER_DEPLOYMENT) {
        if !keys().contains(key) {
            problems.push(format!(
                "`{key}` is listed in this test but is no setting (renamed?)"
            ));
        }
    }
    let mut seen: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (place, block) in [
        ("configmap.yaml", &config),
        ("secret.example.yaml", &secret),
    ] {
        for (name, _) in &block.set {
            seen.entry(name.clone()).or_default().push(place);
        }
    }
    for (name, places) in &seen {
        if places.len() > 1 {
            problems.push(format!(
                "{name} is set more than once: in {}",
                places.join(", ")
            ));
        }
    }
    for key in keys() {
        let name = variable(key);
        let set_in = |block: &Block| block.set.iter().any(|(set, _)| *set == name);
        let commented_in = |block: &Block| block.commented.contains(&name);
        let (home, home_file) = if is_secret(key) {
            (&secret, "secret.example.yaml")
        } else {
            (&config, "configmap.yaml")
        };
        if is_secret(key) && (set_in(&config) || commented_in(&config)) {
            problems.push(format!(
                "{name} is a secret: it belongs in secret.example.yaml, not configmap.yaml"
            ));
        } else if !is_secret(key) && (set_in(&secret) || commented_in(&secret)) {
            problems.push(format!(
                "{name} is not secret: it belongs in configmap.yaml, not secret.example.yaml"
            ));
        }
        if PER_DEPLOYMENT.contains(&key) {
            for deployment in deployments.iter().filter(|d| !d.env().contains_key(&name)) {
                problems.push(format!(
                    "{name} is not set in the env of the Deployment in {}",
                    deployment.file
                ));
            }
            continue;
        }
        if set_in(home) {
            continue;
        }
        if commented_in(home) {
            if !LEFT_UNSET.contains(&key) {
                problems.push(format!(
                    "{name} is only a comment in {home_file}, but it is not optional here: set it \
                     (or add `{key}` to LEFT_UNSET in this test if its default is right)"
                ));
            }
        } else {
            problems.push(format!(
                "{name} is missing from {home_file}: set it, or add a comment line \
                 `# {name}: ...` saying why it stays unset (and list it in LEFT_UNSET)"
            ));
        }
    }
    fail_with(
        &problems,
        "Every settings key must reach the pods: see deploy/k8s/configmap.yaml.",
    );
}

#[test]
fn every_mybnb_variable_in_the_manifests_is_a_setting() {
    let known: BTreeSet<String> = keys()
        .iter()
        .map(|key| variable(key))
        .chain(NOT_KEYS.iter().map(|name| (*name).to_owned()))
        .collect();
    let mut problems = Vec::new();
    // Every mention counts, comments too: a stale name in a comment misleads as much.
    for (file, text) in manifests() {
        for (number, line) in text.lines().enumerate() {
            for (start, _) in line.match_indices("MYBNB_") {
                let name: String = line[start..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                // `MYBNB_*` (a pattern, not a name) is fine.
                if name != "MYBNB_" && !known.contains(&name) {
                    problems.push(format!(
                        "{file}:{}: {name} is no setting (`{}` is not in keys()); mybnb would \
                         refuse to start with it",
                        number + 1,
                        key_of(&name)
                    ));
                }
            }
        }
    }
    fail_with(&problems, "Rename it to the current key, or remove it.");
}

#[test]
fn each_service_has_a_deployment_the_binary_accepts() {
    let config = config();
    let value = |name: &str| -> &str {
        config
            .set
            .iter()
            .find(|(set, _)| set == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or_else(|| panic!("configmap.yaml sets no {name}"))
    };
    let millis = |name: &str| -> u64 {
        value(name)
            .parse()
            .unwrap_or_else(|_| panic!("{name} in configmap.yaml is not a number"))
    };
    let drain_and_shutdown = millis("MYBNB_DRAIN_DELAY_MS") + millis("MYBNB_SHUTDOWN_TIMEOUT_MS");
    let data_dir = value("MYBNB_DATA_DIR");
    let port = value("MYBNB_LISTEN")
        .rsplit_once(':')
        .map(|(_, port)| port)
        .expect("MYBNB_LISTEN is an address and port");

    let mut problems = Vec::new();
    let mut services: BTreeMap<String, String> = BTreeMap::new();
    for deployment in Deployment::all() {
        let file = &deployment.file;
        match deployment.env().get("MYBNB_SERVICES") {
            Some(service) => {
                if let Some(other) = services.insert(service.clone(), file.clone()) {
                    problems.push(format!("{file} and {other} both run `{service}`"));
                }
            }
            None => problems.push(format!("{file}: the Deployment sets no MYBNB_SERVICES")),
        }
        // Service links would add MYBNB_<SERVICE>_SERVICE_HOST and the like for the mybnb-*
        // Services: unknown MYBNB_* variables, which stop mybnb at start.
        if deployment.field("enableServiceLinks") != Some("false") {
            problems.push(format!(
                "{file}: `enableServiceLinks: false` is missing (Kubernetes would add MYBNB_*_SERVICE_HOST \
                 variables, which mybnb refuses)"
            ));
        }
        for reference in ["name: mybnb-config", "name: mybnb-secrets"] {
            if !deployment.trimmed_lines().any(|line| line == reference) {
                problems.push(format!("{file}: envFrom lacks `{reference}`"));
            }
        }
        match deployment
            .field("terminationGracePeriodSeconds")
            .and_then(|seconds| seconds.parse::<u64>().ok())
        {
            Some(seconds) if seconds * 1000 > drain_and_shutdown => {}
            other => problems.push(format!(
                "{file}: terminationGracePeriodSeconds ({other:?}) must exceed \
                 MYBNB_DRAIN_DELAY_MS + MYBNB_SHUTDOWN_TIMEOUT_MS ({drain_and_shutdown} ms)"
            )),
        }
        if deployment.field("mountPath") != Some(data_dir) {
            problems.push(format!(
                "{file}: the writable volume must be mounted at MYBNB_DATA_DIR ({data_dir})"
            ));
        }
        if deployment.field("containerPort") != Some(port) {
            problems.push(format!(
                "{file}: containerPort must be the port of MYBNB_LISTEN ({port})"
            ));
        }
    }
    for service in Service::all() {
        if !services.contains_key(service.name()) {
            problems.push(format!(
                "no Deployment runs `{service}` (MYBNB_SERVICES: {service})"
            ));
        }
    }
    for service in services.keys() {
        if !Service::all().any(|known| known.name() == service) {
            problems.push(format!("MYBNB_SERVICES `{service}` is no service"));
        }
    }
    assert!(
        problems.is_empty(),
        "deploy/k8s Deployments:\n  {}",
        problems.join("\n  ")
    );
}

/// The Services of the manifests: each one's name and the ports it exposes.
fn services() -> BTreeMap<String, Vec<String>> {
    let mut services = BTreeMap::new();
    for (_, text) in manifests() {
        for document in text.split("\n---\n") {
            if !document.lines().any(|line| line == "kind: Service") {
                continue;
            }
            let lines: Vec<&str> = document.lines().map(str::trim).collect();
            let name = lines
                .iter()
                .find_map(|line| line.strip_prefix("name: "))
                .expect("a Service has a name");
            let ports = lines
                .iter()
                .filter_map(|line| line.strip_prefix("port: "))
                .map(str::to_owned)
                .collect();
            services.insert(name.to_owned(), ports);
        }
    }
    services
}

#[test]
fn every_url_in_the_config_names_a_service_and_its_port() {
    let services = services();
    let mut problems = Vec::new();
    for (name, value) in &config().set {
        if !(name.ends_with("_URL") || name.ends_with("_URLS")) {
            continue;
        }
        for url in value.split(',').map(str::trim) {
            let Some(address) = url.strip_prefix("http://") else {
                continue;
            };
            let address = address.trim_end_matches('/');
            let (host, port) = address.split_once(':').unwrap_or((address, "80"));
            match services.get(host) {
                Some(ports) if ports.iter().any(|exposed| exposed == port) => {}
                Some(ports) => problems.push(format!(
                    "{name}: the Service {host} exposes port(s) {ports:?}, not {port}"
                )),
                None => problems.push(format!("{name}: no Service is named {host}")),
            }
        }
    }
    // The gateway reaches every context; the pages reach the API through the gateway.
    for service in Service::ALL_IN_ONE {
        let name = variable(&format!("gateway_{}_urls", service.name()));
        let expected = format!("http://mybnb-{}:", service.name());
        if !config()
            .set
            .iter()
            .any(|(set, value)| *set == name && value.starts_with(&expected))
        {
            problems.push(format!("{name} must point at the Service mybnb-{service}"));
        }
    }
    let web_api = config()
        .set
        .into_iter()
        .find(|(set, _)| set == "MYBNB_WEB_API_URL")
        .map(|(_, value)| value);
    if !web_api
        .as_deref()
        .is_some_and(|url| url.starts_with("http://mybnb-gateway"))
    {
        problems.push(format!(
            "MYBNB_WEB_API_URL ({web_api:?}) must point at the gateway's Service: the pages call \
             the API as any client does"
        ));
    }
    assert!(
        problems.is_empty(),
        "deploy/k8s URLs:\n  {}",
        problems.join("\n  ")
    );
}
