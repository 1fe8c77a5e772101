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
    writeln!(file, "{}", STANDARD.encode(&bytes))?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "generated a new secret");
    Ok(bytes)
}

/// Creates `dir` (and parents) readable only by the owner.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
