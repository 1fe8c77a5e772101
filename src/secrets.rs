//! Server secrets in `<data_dir>/secrets/`: generated once (mode 0600), then reused.

use std::{fs, io::Write, path::Path};

use anyhow::Context;
use base64::{Engine, engine::general_purpose::STANDARD};

/// Reads `<dir>/<name>` (base64 of `len` random bytes), creating it on first use.
/// Errors when the file exists but is unreadable or too short.
pub fn load_or_create(dir: &Path, name: &str, len: usize) -> anyhow::Result<Vec<u8>> {
    create_private_dir(dir)?;
    let path = dir.join(name);
    if path.exists() {
        let text = fs::read_to_string(&path)
            .with_context(|| format!("reading secret {}", path.display()))?;
        let bytes = STANDARD
            .decode(text.trim())
            .with_context(|| format!("secret {} is not base64", path.display()))?;
        anyhow::ensure!(
            bytes.len() >= 32,
            "secret {} is shorter than 32 bytes",
            path.display()
        );
        return Ok(bytes);
    }
    let bytes: Vec<u8> = (0..len).map(|_| rand::random::<u8>()).collect();
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("creating secret {}", path.display()))?;
    writeln!(file, "{}", STANDARD.encode(&bytes))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing secret {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new secret");
    Ok(bytes)
}

/// Creates `dir` (and parents) readable only by the owner (0700). A folder that already exists
/// is left as it is when it is not ours (a packaged install's folder owned by another account,
/// say): its owner chose its mode; a folder of ours that others may read is tightened, with a
/// warning. Errors name the path.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let existed = dir.is_dir();
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta =
            fs::metadata(dir).with_context(|| format!("reading the mode of {}", dir.display()))?;
        let ours = meta.uid() == nix_uid();
        let open_to_others = meta.mode() & 0o077 != 0;
        if !existed || (ours && open_to_others) {
            if existed {
                tracing::warn!(path = %dir.display(), mode = format!("{:o}", meta.mode() & 0o777), "data folder is readable by others; restricting it to 0700");
            }
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .with_context(|| format!("restricting {} to mode 0700", dir.display()))?;
        } else if !ours && open_to_others {
            tracing::warn!(path = %dir.display(), "data folder belongs to another user and is readable by others; left unchanged");
        }
    }
    Ok(())
}

/// The effective user id of this process.
#[cfg(unix)]
fn nix_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // The owner of a file this process just created is its effective uid; /proc/self is owned
    // by it too, which needs no file of our own and no `unsafe` libc call.
    fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}
