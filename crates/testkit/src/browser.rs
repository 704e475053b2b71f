//! A headless Chromium for the web pages' end-to-end tests, driven through chromedriver as a
//! user would drive it: open a page, fill a form, click, wait until the answer shows, take a
//! screenshot for a person to look at later.
//!
//! [`Browser::start`] starts a chromedriver of the test's own on a free loopback port; each
//! [`Browser::open`] is a new session — a Chromium window with a fresh profile, so cookies
//! are its own — and several may be open at once (two users in two windows). The helpers on
//! [`Page`] find elements by CSS selector and wait for them by polling, up to [`WAIT_WITHIN`].
//!
//! The programs are `$CHROMEDRIVER`, else `/usr/bin/chromedriver`, and `$CHROMIUM`, else
//! `/usr/bin/chromium` (`scripts/ensure-chromium` installs Debian's `chromium` and
//! `chromium-driver`). Without them, a test fails saying how to install them, or is skipped
//! loudly when `MYBNB_SKIP_EXTERNAL=1`.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, bail};
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use crate::eventually::POLL_EVERY;

/// How long the helpers on [`Page`] wait for an element or a text before they fail: a bound on
/// a page that never shows it, not a timing assertion.
pub const WAIT_WITHIN: Duration = Duration::from_secs(15);

/// How long chromedriver may take to say it is ready.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// A desktop window, and a phone's (an iPhone 12 to 15's viewport in CSS pixels).
const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);

/// Chromium's arguments for every session, besides its window size, language and profile.
const CHROMIUM_ARGUMENTS: [&str; 9] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Log lines kept to explain a chromedriver that would not start.
const LOG_TAIL: usize = 40;

const CHROMEDRIVER: (&str, &str) = ("CHROMEDRIVER", "/usr/bin/chromedriver");
const CHROMIUM: (&str, &str) = ("CHROMIUM", "/usr/bin/chromium");

/// A running chromedriver; it, and every Chromium it started, is killed when dropped.
pub struct Browser {
    chromium: PathBuf,
    /// `http://127.0.0.1:<port>`, where chromedriver takes WebDriver commands.
    webdriver: String,
    child: Child,
    /// The sessions' profiles, removed once their Chromium is gone (when the browser is
    /// dropped), so that no Chromium still writes into a removed directory.
    profiles: Mutex<Vec<tempfile::TempDir>>,
    /// How many screenshots each directory holds, shared by the pages that write there.
    screenshots: Arc<Mutex<HashMap<PathBuf, usize>>>,
}

/// How [`Browser::open_with`] opens a page: where its screenshots go, its window's size, and
/// the language it asks web pages for.
#[derive(Debug, Clone)]
pub struct PageOptions {
    screenshots: PathBuf,
    window: (u32, u32),
    language: Option<String>,
}

impl PageOptions {
    /// A desktop window (1280×900) in Chromium's own language, saving its screenshots in
    /// `screenshots`.
    pub fn new(screenshots: impl Into<PathBuf>) -> PageOptions {
        PageOptions {
            screenshots: screenshots.into(),
            window: DESKTOP,
            language: None,
        }
    }

    /// A phone-sized window (390×844) instead, for the narrow layout.
    pub fn phone(self) -> PageOptions {
        PageOptions {
            window: PHONE,
            ..self
        }
    }

    /// Chromium in `language` (such as `"ko"` or `"en"`): its interface, and the
    /// `Accept-Language` it sends, by which the web pages choose theirs.
    pub fn language(self, language: &str) -> PageOptions {
        PageOptions {
            language: Some(language.to_owned()),
            ..self
        }
    }
}

impl Browser {
    /// Starts chromedriver on a free 127.0.0.1 port and returns once its `/status` says it is
    /// ready for sessions. `None` only when chromedriver or Chromium is missing and
    /// `MYBNB_SKIP_EXTERNAL=1` (a `SKIPPED:` line says so); without it a missing program is a
    /// failure.
    pub async fn start() -> Option<Browser> {
        let (chromedriver, chromium) = match (find(CHROMEDRIVER), find(CHROMIUM)) {
            (Ok(chromedriver), Ok(chromium)) => (chromedriver, chromium),
            (chromedriver, chromium) => {
                let missing: Vec<String> = [chromedriver.err(), chromium.err()]
                    .into_iter()
                    .flatten()
                    .collect();
                return skip_or_fail(&missing.join("; "));
            }
        };
        let (child, port) = launch(&chromedriver)
            .await
            .unwrap_or_else(|error| panic!("starting {}: {error:#}", chromedriver.display()));
        Some(Browser {
            chromium,
            webdriver: format!("http://127.0.0.1:{port}"),
            child,
            profiles: Mutex::new(Vec::new()),
            screenshots: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// A new page in a desktop window, with a fresh profile, saving its screenshots in
    /// `screenshots` (see [`Page::screenshot`]).
    pub async fn open(&self, screenshots: impl Into<PathBuf>) -> anyhow::Result<Page> {
        self.open_with(PageOptions::new(screenshots)).await
    }

    /// A new page as `options` say: a new WebDriver session, with a Chromium of its own and a
    /// fresh profile.
    ///
    /// The first page to save screenshots in a directory removes the numbered ones an earlier
    /// run left there; pages that share a directory number theirs in one sequence.
    pub async fn open_with(&self, options: PageOptions) -> anyhow::Result<Page> {
        let profile = tempfile::Builder::new()
            .prefix("mybnb-chromium-")
            .tempdir()
            .context("a profile directory for Chromium")?;
        let (width, height) = options.window;
        let mut arguments: Vec<String> = CHROMIUM_ARGUMENTS.map(str::to_owned).to_vec();
        arguments.push(format!("--window-size={width},{height}"));
        arguments.push(format!("--user-data-dir={}", profile.path().display()));
        if let Some(language) = &options.language {
            arguments.push(format!("--lang={language}"));
        }
        let mut chrome_options = json!({
            "binary": self.chromium,
            "args": arguments,
        });
        if options.window == PHONE {
            // A window is at least 500 pixels wide; a phone's narrower screen is emulated.
            chrome_options["mobileEmulation"] = json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 3.0 },
            });
        }
        if let Some(language) = &options.language {
            chrome_options["prefs"] = json!({ "intl.accept_languages": language });
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".to_owned(), chrome_options);

        self.profiles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(profile);
        self.clear_old_screenshots(&options.screenshots).await?;
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.webdriver)
            .await
            .with_context(|| {
                format!(
                    "opening a Chromium session ({}) through chromedriver at {}",
                    self.chromium.display(),
                    self.webdriver
                )
            })?;
        Ok(Page {
            client,
            screenshots: options.screenshots,
            taken: self.screenshots.clone(),
        })
    }

    /// Removes the numbered screenshots (`01-….png`) an earlier run left in `directory`, the
    /// first time a page of this browser is opened with it.
    async fn clear_old_screenshots(&self, directory: &Path) -> anyhow::Result<()> {
        let first = {
            let mut taken = self
                .screenshots
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let first = !taken.contains_key(directory);
            taken.entry(directory.to_owned()).or_insert(0);
            first
        };
        if !first || !tokio::fs::try_exists(directory).await.unwrap_or(false) {
            return Ok(());
        }
        let mut entries = tokio::fs::read_dir(directory)
            .await
            .with_context(|| format!("reading {}", directory.display()))?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name();
            if name.to_str().is_some_and(is_numbered_png) {
                tokio::fs::remove_file(entry.path())
                    .await
                    .with_context(|| format!("removing {}", entry.path().display()))?;
            }
        }
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver leads a process group of its own, with the Chromiums it started; they
        // outlive a killed chromedriver, so the whole group is killed.
        if let Some(pid) = self.child.id().and_then(|id| i32::try_from(id).ok()) {
            // Fails only when they have exited already.
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
        // Fails only when it has exited already; `kill_on_drop` reaps it.
        let _ = self.child.start_kill();
    }
}

/// One browser window: a WebDriver session. Its helpers take a CSS selector, wait up to
/// [`WAIT_WITHIN`] for what they need (an element that appears, a click that stops being
/// intercepted), and fail naming what they looked for and on which page.
pub struct Page {
    client: Client,
    screenshots: PathBuf,
    taken: Arc<Mutex<HashMap<PathBuf, usize>>>,
}

impl Page {
    /// The WebDriver client, for what the helpers do not cover (cookies, scripts, the URL).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Loads `url` and returns once the page has loaded.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// Waits until an element matches `css`.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<()> {
        self.until(&format!("waiting for `{css}`"), async |client| {
            client.find(Locator::Css(css)).await.map(|_| Ok(()))
        })
        .await
    }

    /// Waits until the element matching `css` shows text containing `needle`; returns its
    /// whole text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> anyhow::Result<String> {
        self.until(
            &format!("waiting for `{css}` to show {needle:?}"),
            async |client| {
                let text = client.find(Locator::Css(css)).await?.text().await?;
                Ok(if text.contains(needle) {
                    Ok(text)
                } else {
                    Err(format!("its text is {text:?}"))
                })
            },
        )
        .await
    }

    /// The text of the element matching `css`, once there is one. What is shown after an
    /// action (a submitted form) is better awaited with [`Page::wait_for_text`], which cannot
    /// read the page before.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        self.until(&format!("reading the text of `{css}`"), async |client| {
            client.find(Locator::Css(css)).await?.text().await.map(Ok)
        })
        .await
    }

    /// Empties the field matching `css`, then types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) -> anyhow::Result<()> {
        self.until(&format!("filling `{css}` with {text:?}"), async |client| {
            let field = client.find(Locator::Css(css)).await?;
            field.clear().await?;
            field.send_keys(text).await.map(Ok)
        })
        .await
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.until(&format!("clicking `{css}`"), async |client| {
            client.find(Locator::Css(css)).await?.click().await.map(Ok)
        })
        .await
    }

    /// Chooses the option whose value is `value` in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, value: &str) -> anyhow::Result<()> {
        self.until(&format!("choosing {value:?} in `{css}`"), async |client| {
            let select = client.find(Locator::Css(css)).await?;
            select.select_by_value(value).await.map(Ok)
        })
        .await
    }

    /// Saves what the window shows as a PNG in the page's screenshot directory (made if
    /// need be), named `NN-<name>.png`, numbered in the order taken (from `01`); returns its
    /// path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self
            .client
            .screenshot()
            .await
            .with_context(|| format!("taking screenshot {name:?}"))?;
        let number = {
            let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
            let count = taken.entry(self.screenshots.clone()).or_insert(0);
            *count += 1;
            *count
        };
        tokio::fs::create_dir_all(&self.screenshots)
            .await
            .with_context(|| format!("making {}", self.screenshots.display()))?;
        let path = self.screenshots.join(format!("{number:02}-{name}.png"));
        tokio::fs::write(&path, png)
            .await
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Ends the session, closing its Chromium.
    pub async fn close(self) -> anyhow::Result<()> {
        self.client
            .close()
            .await
            .context("closing the Chromium session")
    }

    /// Asks `probe` until it answers `Ok(Ok(_))`, for at most [`WAIT_WITHIN`]. An answer
    /// `Ok(Err(reason))`, or an error that passes (no such element yet, a stale or covered
    /// one), is asked again; any other error fails at once. Failures name `what` and the page.
    async fn until<T>(
        &self,
        what: &str,
        mut probe: impl AsyncFnMut(&Client) -> Result<Result<T, String>, CmdError>,
    ) -> anyhow::Result<T> {
        let deadline = Instant::now() + WAIT_WITHIN;
        let mut poll = tokio::time::interval(POLL_EVERY);
        poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            poll.tick().await;
            let reason = match probe(&self.client).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(reason)) => reason,
                Err(error) if passes(&error) => error.to_string(),
                Err(error) => {
                    return Err(anyhow::Error::new(error)
                        .context(format!("{what} on {}", self.location().await)));
                }
            };
            if Instant::now() >= deadline {
                bail!(
                    "{what} on {}: not within {WAIT_WITHIN:?}; last seen: {reason}",
                    self.location().await
                );
            }
        }
    }

    /// The page's URL, for a failure's message.
    async fn location(&self) -> String {
        match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(error) => format!("a page whose URL is unknown ({error})"),
        }
    }
}

/// Whether a WebDriver error may pass by itself while the page loads or changes: an element
/// not there yet, replaced, hidden, disabled or covered for now.
fn passes(error: &CmdError) -> bool {
    matches!(
        error,
        CmdError::Standard(error) if matches!(
            error.error,
            ErrorStatus::NoSuchElement
                | ErrorStatus::StaleElementReference
                | ErrorStatus::ElementNotInteractable
                | ErrorStatus::ElementClickIntercepted
                | ErrorStatus::InvalidElementState
        )
    )
}

/// `NN-<anything>.png`, as [`Page::screenshot`] names its files.
fn is_numbered_png(name: &str) -> bool {
    name.ends_with(".png")
        && name.split_once('-').is_some_and(|(number, _)| {
            !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
        })
}

/// `$<variable>` if set, else `fallback`; the path if it is a file, else what was looked at.
fn find((variable, fallback): (&str, &str)) -> Result<PathBuf, String> {
    match std::env::var_os(variable) {
        Some(configured) => {
            let configured = PathBuf::from(configured);
            if configured.is_file() {
                Ok(configured)
            } else {
                Err(format!(
                    "${variable} ({}) is not a file",
                    configured.display()
                ))
            }
        }
        None => {
            let fallback = PathBuf::from(fallback);
            if fallback.is_file() {
                Ok(fallback)
            } else {
                Err(format!("no {} (nor ${variable})", fallback.display()))
            }
        }
    }
}

fn skip_or_fail(missing: &str) -> Option<Browser> {
    let test = crate::current_test();
    crate::skip_or_fail(
        &format!(
            "SKIPPED: {test} needs Chromium and chromedriver, and {missing}; \
             MYBNB_SKIP_EXTERNAL=1 lets it pass untested"
        ),
        &format!(
            "{test} needs Chromium and chromedriver, and {missing}. Install them with \
             `scripts/ensure-chromium`, point CHROMIUM and CHROMEDRIVER at the programs, or set MYBNB_SKIP_EXTERNAL=1 to skip \
             such tests"
        ),
    )
}

/// Starts chromedriver on a port it picks itself (so no other process can take it between our
/// choosing it and its binding it), in a process group of its own; returns the child and its
/// port once `/status` says it is ready.
async fn launch(chromedriver: &Path) -> anyhow::Result<(Child, u16)> {
    let mut child = Command::new(chromedriver)
        .arg("--port=0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .context("spawning chromedriver")?;

    // Its output is read to its end (else it would block on a full pipe); the port it says it
    // listens on is passed on, and its last lines kept to explain a failure.
    let (port_tx, mut port_rx) = watch::channel(None::<u16>);
    let tail = Arc::new(Mutex::new(VecDeque::with_capacity(LOG_TAIL)));
    let stdout = child
        .stdout
        .take()
        .context("chromedriver's output is not piped")?;
    let stderr = child
        .stderr
        .take()
        .context("chromedriver's errors are not piped")?;
    tokio::spawn(read_log(stdout, Some(port_tx), tail.clone()));
    tokio::spawn(read_log(stderr, None, tail.clone()));

    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .context("an HTTP client for chromedriver's /status")?;
    let ready = async {
        let port = port_rx
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|port| *port)
            .context("chromedriver stopped logging before it said its port")?;
        let status = format!("http://127.0.0.1:{port}/status");
        let mut poll = tokio::time::interval(POLL_EVERY);
        poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            poll.tick().await;
            if is_ready(&http, &status).await {
                return Ok::<_, anyhow::Error>(port);
            }
        }
    };
    let outcome = tokio::time::timeout(READY_WITHIN, async {
        tokio::select! {
            port = ready => port,
            status = child.wait() => match status {
                Ok(status) => Err(anyhow::anyhow!("chromedriver exited ({status})")),
                Err(error) => Err(anyhow::Error::new(error).context("waiting for chromedriver")),
            },
        }
    })
    .await;
    let failure = match outcome {
        Ok(Ok(port)) => return Ok((child, port)),
        Ok(Err(error)) => error,
        Err(_) => anyhow::anyhow!("chromedriver was not ready within {READY_WITHIN:?}"),
    };
    let _ = child.kill().await;
    let log = tail
        .lock()
        .map(|lines| lines.iter().cloned().collect::<Vec<_>>().join("\n"))
        .unwrap_or_default();
    bail!("{failure:#}; its output ends:\n{log}")
}

/// Reads chromedriver's `output` to its end, keeping its last lines in `tail` and sending the
/// port of its `… started successfully on port 12345.` line to `port`.
async fn read_log(
    output: impl AsyncRead + Unpin,
    port: Option<watch::Sender<Option<u16>>>,
    tail: Arc<Mutex<VecDeque<String>>>,
) {
    let mut lines = BufReader::new(output).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(port) = &port
            && let Some(number) = line.split("started successfully on port ").nth(1)
            && let Ok(number) = number.trim().trim_end_matches('.').parse()
        {
            let _ = port.send(Some(number));
        }
        if let Ok(mut kept) = tail.lock() {
            if kept.len() == LOG_TAIL {
                kept.pop_front();
            }
            kept.push_back(line);
        }
    }
}

/// Whether chromedriver's `/status` answers `"ready": true`.
async fn is_ready(http: &reqwest::Client, status: &str) -> bool {
    let Ok(response) = http.get(status).send().await else {
        return false;
    };
    response
        .json::<serde_json::Value>()
        .await
        .is_ok_and(|body| body["value"]["ready"] == json!(true))
}
