//! Secrets a process needs (the token-signing secret, the service token): from the settings
//! when given (every process of a distributed deployment must share them), otherwise generated
//! once and kept in the data directory, readable by its owner only.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice, SecretString};

const GENERATED_BYTES: usize = 32;

/// The configured secret, or the one kept in `data_dir/file_name` (generated if missing).
pub fn load_or_generate(
    configured: Option<&SecretString>,
    data_dir: &Path,
    file_name: &str,
) -> anyhow::Result<SecretSlice<u8>> {
    if let Some(secret) = configured {
        return Ok(SecretSlice::from(
            secret.expose_secret().as_bytes().to_vec(),
        ));
    }
    let path = data_dir.join(file_name);
    match fs::read(&path) {
        Ok(secret) => {
            tighten_permissions(&path)?;
            if secret.len() < mybnb_platform::auth::MIN_SECRET_BYTES {
                anyhow::bail!(
                    "{} holds fewer than {} bytes; delete it to have a new one generated",
                    path.display(),
                    mybnb_platform::auth::MIN_SECRET_BYTES
                );
            }
            Ok(SecretSlice::from(secret))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => generate(&path),
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

fn generate(path: &Path) -> anyhow::Result<SecretSlice<u8>> {
    // Hex, so that the secret can also be sent in a header.
    let mut bytes = [0u8; GENERATED_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let secret: Vec<u8> = bytes
        .iter()
        .flat_map(|byte| format!("{byte:02x}").into_bytes())
        .collect();
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(&secret)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a secret");
    Ok(SecretSlice::from(secret))
}

fn tighten_permissions(path: &Path) -> anyhow::Result<()> {
    let metadata = fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if metadata.permissions().mode() & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "a secret was readable by others; making it owner-only");
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    Ok(())
}
