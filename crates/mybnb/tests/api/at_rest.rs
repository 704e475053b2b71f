//! What mybnb keeps on disk is its user's alone: a data directory it creates is `0700`, and
//! every file in it — the databases with their WAL and shared-memory files, the event log, the
//! generated secrets — `0600`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::helpers::{Backend, Storage, spawn_app_on};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_data_directory_and_every_file_in_it_are_private() {
    let Some(storage) = Storage::create(Backend::Sqlite).await else {
        return;
    };
    let data = storage.data_dir().join("not-there-yet");
    let app = spawn_app_on(&storage, |settings| settings.data_dir = data.clone()).await;
    // A booking writes to several databases and the event log, so their WAL files exist.
    let listing = app.listing(10_000).await;
    let guest = app.new_user("guest").await;
    app.book(&guest.token, &listing.stay(3, 1)).await;

    assert_eq!(mode(&data), 0o700, "the data directory");
    let files: Vec<_> = std::fs::read_dir(&data)
        .expect("the data directory is listed")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    let wal = files
        .iter()
        .filter(|file| file.to_string_lossy().ends_with("-wal"));
    assert!(wal.count() >= 2, "databases in WAL mode: {files:?}");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
}
