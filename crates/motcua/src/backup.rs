//! `motcua backup` and `motcua restore`: the database and the attachments folder, with a
//! manifest that lets a restore prove the copy is whole before it replaces anything.
//!
//! SQLite is copied online with `VACUUM INTO` (one consistent snapshot while the server goes on
//! writing); PostgreSQL with `pg_dump --format=custom`, restored by `pg_restore` in one
//! transaction. The master key is never in a backup: it is kept apart, and the manifest holds
//! only its SHA-256 so a restore can say whether the key at hand is the right one.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;

const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "motcua.db";
const POSTGRES_FILE: &str = "motcua.pgdump";
const FILES: &str = "files";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// Raised when the layout of a backup changes.
    pub format: u32,
    pub motcua_version: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// sqlite or postgres.
    pub backend: String,
    /// The database file in the backup and its SHA-256.
    pub database_file: String,
    pub database_sha256: String,
    pub database_bytes: u64,
    /// Read from the copy (SQLite); a PostgreSQL dump is not opened.
    pub counts: Option<store::sqlite::SnapshotCounts>,
    pub files: u64,
    pub files_bytes: u64,
    /// SHA-256 of the master key the data was sealed under (of its canonical base64), if
    /// there is one yet.
    pub master_key_sha256: Option<String>,
}

pub async fn backup(config: &Config, output: &Path, pg_bin: Option<&Path>) -> anyhow::Result<()> {
    if output.exists() && std::fs::read_dir(output)?.next().is_some() {
        bail!(
            "{} is not empty: a backup goes into a new folder",
            output.display()
        );
    }
    std::fs::create_dir_all(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    let url = config.database_url();
    // The database first, then the files: every file the snapshot names is already written.
    let (backend, database_file, counts) = if is_sqlite(&url) {
        let copy = output.join(SQLITE_FILE);
        store::sqlite::snapshot(&url, &copy)
            .await
            .with_context(|| format!("cannot copy the database {}", store::redact(&url)))?;
        let counts = store::sqlite::check_copy(&copy).await?;
        ("sqlite", SQLITE_FILE, Some(counts))
    } else {
        let file = output.join(POSTGRES_FILE);
        let mut dump = Command::new(pg_tool(pg_bin, "pg_dump"));
        dump.args(["--format=custom", "--no-owner", "--file"])
            .arg(&file)
            .arg(&url);
        run_tool(dump, "pg_dump")?;
        ("postgres", POSTGRES_FILE, None)
    };
    let (files, files_bytes) = copy_tree(&config.files_folder(), &output.join(FILES))?;
    if let Some(c) = counts
        && c.attachments > 0
        && files == 0
    {
        bail!(
            "the database records {} attachments but {} holds no file: is this the server's \
             data folder (--data-dir) or files.folder?",
            c.attachments,
            config.files_folder().display()
        );
    }
    let database = output.join(database_file);
    let manifest = Manifest {
        format: 1,
        motcua_version: env!("CARGO_PKG_VERSION").into(),
        created_at: chrono::Utc::now(),
        backend: backend.into(),
        database_file: database_file.into(),
        database_sha256: sha256_file(&database)?,
        database_bytes: std::fs::metadata(&database)?.len(),
        counts,
        files,
        files_bytes,
        master_key_sha256: master_key_fingerprint(config)?,
    };
    std::fs::write(output.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)?;
    println!(
        "backup in {}: {backend} database {} bytes{}, {files} attachment files ({files_bytes} bytes); \
         the master key is not in it: keep it apart",
        output.display(),
        manifest.database_bytes,
        counts
            .map(|c| format!(" ({} dossiers, {} events)", c.dossiers, c.events))
            .unwrap_or_default(),
    );
    Ok(())
}

pub async fn restore(
    config: &Config,
    from: &Path,
    force: bool,
    pg_bin: Option<&Path>,
) -> anyhow::Result<()> {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(from.join(MANIFEST)).with_context(|| {
            format!(
                "{} holds no {MANIFEST}: not a motcua backup",
                from.display()
            )
        })?)
        .with_context(|| format!("{MANIFEST} in {} cannot be read", from.display()))?;
    if manifest.format != 1 {
        bail!(
            "backup format {} is not known to this motcua",
            manifest.format
        );
    }
    let database = from.join(&manifest.database_file);
    let sha256 =
        sha256_file(&database).with_context(|| format!("cannot read {}", database.display()))?;
    if sha256 != manifest.database_sha256 {
        bail!(
            "{} has changed since the backup (SHA-256 {sha256}, the manifest says {}): not restored",
            database.display(),
            manifest.database_sha256
        );
    }
    check_master_key(config, &manifest)?;
    let url = config.database_url();
    let sqlite = match (manifest.backend.as_str(), is_sqlite(&url)) {
        ("sqlite", true) => {
            let counts = store::sqlite::check_copy(&database).await?;
            if Some(counts) != manifest.counts {
                bail!(
                    "{} does not hold what the manifest counts",
                    database.display()
                );
            }
            let target = store::sqlite::database_file(&url)?;
            if target.exists() && !force {
                bail!(
                    "{} exists: stop the server, and restore with --force to replace it (the \
                     old database is kept beside it as .before-restore)",
                    target.display()
                );
            }
            Some(target)
        }
        ("postgres", false) => None,
        (backend, _) => bail!(
            "this backup is of a {backend} database, and the configured database {} is not: \
             restore it into the same kind",
            store::redact(&url)
        ),
    };
    // The attachments first, into a folder beside the real one, checked against the manifest;
    // the database last, so a failure leaves the database as it was.
    let files_folder = config.files_folder();
    let staged_files = sibling(&files_folder, "restoring");
    if staged_files.exists() {
        std::fs::remove_dir_all(&staged_files)?;
    }
    let (files, files_bytes) = copy_tree(&from.join(FILES), &staged_files)?;
    if (files, files_bytes) != (manifest.files, manifest.files_bytes) {
        bail!(
            "the backup holds {files} attachment files ({files_bytes} bytes), the manifest says \
             {} ({} bytes): not restored",
            manifest.files,
            manifest.files_bytes
        );
    }
    match sqlite {
        Some(target) => replace_sqlite(&target, &database)?,
        None => {
            // One transaction that stops at the first error: a database that is not empty
            // refuses the dump and keeps what it had.
            let mut load = Command::new(pg_tool(pg_bin, "pg_restore"));
            load.args([
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                "--dbname",
            ])
            .arg(&url)
            .arg(&database);
            if let Err(e) = run_tool(load, "pg_restore") {
                std::fs::remove_dir_all(&staged_files)?;
                return Err(e);
            }
        }
    }
    set_aside(&files_folder)?;
    std::fs::rename(&staged_files, &files_folder)?;
    println!(
        "restored the {} backup of {} into {}, with {files} attachment files; \
         `motcua audit verify` and `motcua stats verify` check it",
        manifest.backend,
        manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        store::redact(&url),
    );
    Ok(())
}

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Puts the copy in place: written and synced beside the database under a temporary name,
/// the old database and its write-ahead log set aside (kept, not deleted), then renamed into
/// place, so the database is at every moment either the old one or the whole restored one.
fn replace_sqlite(target: &Path, copy: &Path) -> anyhow::Result<()> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let staging = sibling(target, "restoring");
    std::fs::copy(copy, &staging).with_context(|| format!("cannot write {}", staging.display()))?;
    std::fs::File::open(&staging)?.sync_all()?;
    for side in ["-wal", "-shm"] {
        set_aside(&PathBuf::from(format!("{}{side}", target.display())))?;
    }
    set_aside(target)?;
    std::fs::rename(&staging, target)?;
    if let Some(parent) = target.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// `path` with `.suffix` added to its name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}.{suffix}", path.display()))
}

/// Moves what is at `path` to `path.before-restore`, replacing an older one.
fn set_aside(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let aside = sibling(path, "before-restore");
    if aside.is_dir() {
        std::fs::remove_dir_all(&aside)?;
    } else if aside.exists() {
        std::fs::remove_file(&aside)?;
    }
    std::fs::rename(path, &aside).with_context(|| format!("cannot set {} aside", path.display()))
}

fn check_master_key(config: &Config, manifest: &Manifest) -> anyhow::Result<()> {
    let Some(expected) = &manifest.master_key_sha256 else {
        return Ok(());
    };
    match master_key_fingerprint(config)? {
        None => bail!(
            "the data was sealed under a master key (SHA-256 {expected}) and none is configured \
             or in {}: put it there first, or a new one would be made and the sealed data lost",
            master_key_path(config).display()
        ),
        Some(actual) if &actual != expected => bail!(
            "the configured master key is not the one this backup was made under (SHA-256 \
             {actual}, the manifest says {expected}): its sealed data could not be read"
        ),
        Some(_) => Ok(()),
    }
}

/// The SHA-256 of the master key as configured, inline or in its file; None when there is no
/// key yet. Hashed in its canonical form, so spacing in the file does not matter.
fn master_key_fingerprint(config: &Config) -> anyhow::Result<Option<String>> {
    let text = match &config.security.master_key {
        Some(inline) => inline.clone(),
        None => {
            let path = master_key_path(config);
            if !path.exists() {
                return Ok(None);
            }
            std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read the master key file {}", path.display()))?
        }
    };
    let key = app::MasterKey::from_base64(&text).map_err(|e| anyhow::anyhow!(e))?;
    Ok(Some(sha256_hex(key.to_base64().as_bytes())))
}

fn master_key_path(config: &Config) -> PathBuf {
    config
        .security
        .master_key_file
        .clone()
        .unwrap_or_else(|| config.server.data_dir.join("master.key"))
}

fn pg_tool(dir: Option<&Path>, name: &str) -> PathBuf {
    dir.map(|d| d.join(name)).unwrap_or_else(|| name.into())
}

fn run_tool(mut command: Command, name: &str) -> anyhow::Result<()> {
    let output = command.output().with_context(|| {
        format!("cannot run {name}: install the PostgreSQL client tools, or name their folder with --pg-bin")
    })?;
    if !output.status.success() {
        bail!(
            "{name} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies a folder tree (files and subfolders); a missing source is an empty tree. Returns
/// the number of files and their bytes. An upload being written (the object store's `name#N`
/// staging file, renamed when whole) or a file removed meanwhile is left out.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<(u64, u64)> {
    if !from.exists() {
        return Ok((0, 0));
    }
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let (mut files, mut bytes) = (0, 0);
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            let (f, b) = copy_tree(&entry.path(), &target)?;
            files += f;
            bytes += b;
        } else if !entry.file_name().to_string_lossy().contains('#') {
            match std::fs::copy(entry.path(), &target) {
                Ok(n) => {
                    bytes += n;
                    files += 1;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("cannot copy {}", entry.path().display()));
                }
            }
        }
    }
    Ok((files, bytes))
}
