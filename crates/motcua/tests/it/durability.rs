//! Nothing acknowledged is lost: the real `motcua serve` process killed with SIGKILL while a
//! client submits, and a backup restored elsewhere.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use crate::dossiers::pension_application;
use crate::support::{Db, database_url, free_port, motcua, on_both_backends};

/// Runs a one-off command and returns its standard output; panics with its errors if it fails.
fn run(data_dir: &Path, db_url: &str, args: &[&str]) -> String {
    let output = motcua(data_dir, db_url)
        .args(args)
        .output()
        .expect("motcua runs");
    assert!(
        output.status.success(),
        "motcua {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `motcua serve --demo` as its own process, answering on /readyz.
async fn start(data_dir: &Path, db_url: &str, addr: &str) -> Child {
    let mut child = motcua(data_dir, db_url)
        .args(["serve", "--demo", "--addr", addr])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server starts");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("http://{addr}/readyz")).send().await
            && r.status().is_success()
        {
            return child;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server exited before it was ready: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "the server was not ready in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sigkill(child: &mut Child) {
    child.kill().expect("SIGKILL is sent"); // std's kill is SIGKILL on Unix
    child.wait().expect("the killed server is reaped");
}

/// Submits from eight clients at once until `stop`, so a kill finds writes in flight and
/// waiting in a group commit. Each attempt has its own Idempotency-Key and is retried with it
/// until answered, so every key ends acknowledged. Returns the acknowledged codes.
async fn submit_until(
    base: String,
    token: String,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<String> {
    let clients: Vec<_> = (0..8)
        .map(|client| {
            tokio::spawn(submit_from(
                client,
                base.clone(),
                token.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await.expect("a client ends"));
    }
    acknowledged
}

async fn submit_from(
    client_number: usize,
    base: String,
    token: String,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let mut acknowledged = Vec::new();
    let mut attempt = 0u64;
    while !*stop.borrow() {
        attempt += 1;
        let key = format!("durability-{client_number}-{attempt}");
        loop {
            let answer = client
                .post(format!("{base}/api/v1/dossiers"))
                .bearer_auth(&token)
                .header("Idempotency-Key", &key)
                .json(&pension_application())
                .send()
                .await;
            match answer {
                Ok(r) if r.status().is_success() => {
                    // Killed between the headers and the body: not acknowledged, try again.
                    let Ok(body) = r.json::<serde_json::Value>().await else {
                        continue;
                    };
                    let code = body["dossier"]["code"].as_str().expect("a code");
                    acknowledged.push(code.to_owned());
                    break;
                }
                // A 4xx is a bug in this test or the server, not a crash: stop loudly.
                Ok(r) if r.status().is_client_error() => {
                    panic!(
                        "submission {key}: {} {}",
                        r.status(),
                        r.text().await.unwrap()
                    )
                }
                // Killed mid-request, refused while down, or a 5xx while stopping: try again.
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
    acknowledged
}

/// Every dossier the citizen has, through the API.
async fn dossier_codes(base: &str, token: &str) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut codes = Vec::new();
    loop {
        let page: serde_json::Value = client
            .get(format!(
                "{base}/api/v1/dossiers?limit=100&offset={}",
                codes.len()
            ))
            .bearer_auth(token)
            .send()
            .await
            .expect("the list answers")
            .json()
            .await
            .expect("a JSON list");
        let items = page["items"].as_array().expect("items");
        if items.is_empty() {
            return codes;
        }
        codes.extend(
            items
                .iter()
                .map(|d| d["code"].as_str().expect("a code").to_owned()),
        );
    }
}

on_both_backends!(acknowledged_submissions_survive_sigkill);
async fn acknowledged_submissions_survive_sigkill(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(db, dir.path()).await;
    let addr = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{addr}");
    let mut server = start(dir.path(), &url, &addr).await;
    let token = run(
        dir.path(),
        &url,
        &["token", "--user", "demo-citizen", "--days", "1"],
    )
    .trim()
    .to_owned();
    let before = dossier_codes(&base, &token).await.len();

    let seed: u64 = rand::rng().random();
    eprintln!("durability: kill moments from seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let clients = tokio::spawn(submit_until(base.clone(), token.clone(), stopped));
    let kills = 4;
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(rng.random_range(300..1200))).await;
        sigkill(&mut server);
        server = start(dir.path(), &url, &addr).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(true).unwrap();
    let acknowledged = clients.await.expect("the clients end");

    let stored = dossier_codes(&base, &token).await;
    eprintln!(
        "durability: {} submissions acknowledged across {kills} kills; {} stored",
        acknowledged.len(),
        stored.len() - before
    );
    let acknowledged_set: BTreeSet<_> = acknowledged.iter().cloned().collect();
    let stored_set: BTreeSet<_> = stored.iter().cloned().collect();
    assert!(
        acknowledged.len() >= 20,
        "only {} submissions in the run: the test proved little",
        acknowledged.len()
    );
    assert_eq!(
        acknowledged_set.len(),
        acknowledged.len(),
        "two keys were answered with the same dossier"
    );
    let lost: Vec<_> = acknowledged_set.difference(&stored_set).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    // Every key was retried until answered, so the citizen has exactly one dossier per key.
    assert_eq!(
        stored.len().checked_sub(before),
        Some(acknowledged.len()),
        "a retried submission was stored twice, or one was stored without its key"
    );

    sigkill(&mut server);
    let audit = run(dir.path(), &url, &["audit", "verify"]);
    assert!(audit.starts_with("intact: "), "{audit}");
    let stats = run(dir.path(), &url, &["stats", "verify"]);
    assert!(stats.contains("every counter matches"), "{stats}");
}

on_both_backends!(a_backup_taken_while_serving_restores_whole);
async fn a_backup_taken_while_serving_restores_whole(db: Db) {
    use crate::dossiers::{PDF, read_column, token, upload};
    let t = crate::support::spawn(db, true).await;
    let citizen = token(&t, "demo-citizen").await;
    let file = upload(&t, &citizen, "giay-to.pdf", PDF).await;
    let mut before = BTreeSet::new();
    for _ in 0..10 {
        let (status, body) = crate::dossiers::post(
            &t,
            "/api/v1/dossiers",
            &citizen,
            pension_application(),
            None,
        )
        .await;
        assert_eq!(status, 201, "{body}");
        before.insert(body["dossier"]["code"].as_str().unwrap().to_owned());
    }
    // The backup is taken while a client goes on submitting.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let client = tokio::spawn(submit_until(t.base.clone(), citizen.clone(), stopped));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let backup_dir = tempfile::tempdir().unwrap();
    let backup = backup_dir.path().join("b1");
    let pg_bin = std::env::var("PG_BIN").unwrap_or("/usr/lib/postgresql/15/bin".into());
    let said = run(
        &t.data_dir,
        &t.database_url,
        &[
            "backup",
            "--output",
            backup.to_str().unwrap(),
            "--pg-bin",
            &pg_bin,
        ],
    );
    assert!(said.starts_with("backup in "), "{said}");
    stop.send(true).unwrap();
    let during = client.await.unwrap();
    assert!(
        !during.is_empty(),
        "nothing was submitted during the backup"
    );

    // Into a new place: another data folder and database, with the master key kept apart.
    let target = tempfile::tempdir().unwrap();
    let target_url = database_url(db, target.path()).await;
    std::fs::copy(
        t.data_dir.join("master.key"),
        target.path().join("master.key"),
    )
    .unwrap();
    let restore = |from: &Path, force: bool| {
        let mut args = vec!["restore", from.to_str().unwrap(), "--pg-bin", &pg_bin];
        if force {
            args.push("--force");
        }
        motcua(target.path(), &target_url)
            .args(&args)
            .output()
            .expect("motcua runs")
    };

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["files"], 1, "{manifest}");

    // A changed backup is refused before anything is replaced.
    let damaged = backup_dir.path().join("damaged");
    copy_folder(&backup, &damaged);
    let db_file = if db == Db::Sqlite {
        "motcua.db"
    } else {
        "motcua.pgdump"
    };
    let mut bytes = std::fs::read(damaged.join(db_file)).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(damaged.join(db_file), bytes).unwrap();
    let refused = restore(&damaged, false);
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("has changed since the backup"), "{why}");
    assert!(
        !target.path().join("files").exists(),
        "a refused restore wrote attachments"
    );

    let restored = restore(&backup, false);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let codes: BTreeSet<String> = read_column(&target_url, "SELECT code FROM dossiers")
        .await
        .into_iter()
        .collect();
    let demo: BTreeSet<String> = read_column(&t.database_url, "SELECT code FROM dossiers")
        .await
        .into_iter()
        .filter(|c| !before.contains(c) && !during.contains(c))
        .collect();
    assert!(
        before.is_subset(&codes),
        "dossiers from before the backup are missing"
    );
    assert!(
        codes
            .iter()
            .all(|c| before.contains(c) || during.contains(c) || demo.contains(c)),
        "the restore holds a dossier that was never submitted"
    );
    if db == Db::Sqlite {
        assert_eq!(manifest["counts"]["dossiers"], codes.len());
    }
    // The attachment came back byte for byte.
    let stored = read_column(
        &target_url,
        &format!("SELECT sha256 FROM attachments WHERE id = '{file}'"),
    )
    .await;
    assert_eq!(stored.len(), 1, "the attachment's record was not restored");
    let restored_files: Vec<_> = walk(&target.path().join("files"));
    assert!(
        restored_files
            .iter()
            .any(|f| std::fs::read(f).unwrap() == PDF),
        "the attachment's bytes were not restored: {restored_files:?}"
    );
    let audit = run(target.path(), &target_url, &["audit", "verify"]);
    assert!(audit.starts_with("intact: "), "{audit}");
    let stats = run(target.path(), &target_url, &["stats", "verify"]);
    assert!(stats.contains("every counter matches"), "{stats}");

    // A second restore over it is refused without --force (SQLite) or by the database
    // (PostgreSQL, not empty), and what is there stays.
    let again = restore(&backup, false);
    assert!(!again.status.success());
    let why = String::from_utf8_lossy(&again.stderr);
    let expected = if db == Db::Sqlite {
        "restore with --force"
    } else {
        "pg_restore failed"
    };
    assert!(why.contains(expected), "{why}");
    let after = read_column(&target_url, "SELECT code FROM dossiers").await;
    assert_eq!(after.len(), codes.len());

    // A backup made under another master key is refused: its secrets could not be read.
    std::fs::write(
        target.path().join("master.key"),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    )
    .unwrap();
    let wrong_key = restore(&backup, true);
    assert!(!wrong_key.status.success());
    let why = String::from_utf8_lossy(&wrong_key.stderr);
    assert!(
        why.contains("is not the one this backup was made under"),
        "{why}"
    );
    // And without any key, it says where to put it instead of going on.
    std::fs::remove_file(target.path().join("master.key")).unwrap();
    let no_key = restore(&backup, true);
    assert!(!no_key.status.success());
    let why = String::from_utf8_lossy(&no_key.stderr);
    assert!(why.contains("put it there first"), "{why}");
    if db == Db::Sqlite {
        // A forced restore keeps the database it replaces beside it.
        std::fs::copy(
            t.data_dir.join("master.key"),
            target.path().join("master.key"),
        )
        .unwrap();
        let forced = restore(&backup, true);
        assert!(
            forced.status.success(),
            "{}",
            String::from_utf8_lossy(&forced.stderr)
        );
        assert!(target.path().join("motcua.db.before-restore").exists());
        let audit = run(target.path(), &target_url, &["audit", "verify"]);
        assert!(audit.starts_with("intact: "), "{audit}");
    }
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn walk(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        if entry.file_type().unwrap().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}
