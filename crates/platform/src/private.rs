//! What only the process's own user may read: the data directory (`0700`) and the files in it
//! (`0600`) — databases with their WAL and shared-memory files, the embedded event log,
//! generated secrets, the logs `mybnb dev up` keeps. SQLite gives a database's WAL and
//! shared-memory files the database file's permissions, so creating that file private is
//! enough for its companions.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of a private directory.
pub const DIR_MODE: u32 = 0o700;
/// The mode of a private file.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (with its missing parents) readable by its owner only, or makes an existing
/// one so, with the files directly in it (those an earlier version left readable). A directory
/// or file the process does not own (a volume mounted for it, a shared directory) keeps its
/// mode, with a warning: the files the process creates are private all the same.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    if let Err(error) = restrict(dir, DIR_MODE) {
        tracing::warn!(%error, dir = %dir.display(), "the data directory stays readable by others");
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file()
            && let Err(error) = restrict(&entry.path(), FILE_MODE)
        {
            let file = entry.path();
            tracing::warn!(%error, file = %file.display(), "a file stays readable by others");
        }
    }
    Ok(())
}

/// Creates `path` empty and readable by its owner only when it is missing; makes it so when
/// it exists.
pub fn private_file(path: &Path) -> io::Result<()> {
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .open(path)?;
    restrict(path, FILE_MODE)
}

/// Sets `mode` on `path` unless its group and others have no access already.
fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    if fs::metadata(path)?.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).map_or(0, |metadata| metadata.permissions().mode() & 0o777)
    }

    #[test]
    fn a_new_directory_and_file_are_private_and_an_old_one_is_made_so() -> io::Result<()> {
        let root = tempfile::tempdir()?;
        let dir = root.path().join("data/deeper");
        private_dir(&dir)?;
        assert_eq!(mode(&dir), DIR_MODE);
        let file = dir.join("room.db");
        private_file(&file)?;
        assert_eq!(mode(&file), FILE_MODE);

        let old = dir.join("old.db");
        fs::write(&old, b"left by an earlier version")?;
        fs::set_permissions(&old, fs::Permissions::from_mode(0o644))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))?;
        private_dir(&dir)?;
        assert_eq!((mode(&dir), mode(&old)), (DIR_MODE, FILE_MODE));
        assert_eq!(
            fs::read(&old)?,
            b"left by an earlier version",
            "the content stays"
        );
        Ok(())
    }
}
