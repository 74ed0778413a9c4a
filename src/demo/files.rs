//! The demo's files: config, database, backups and release notes.

use chrono::{Duration as Days, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use rusqlite::Connection;
use std::io::Write;
use std::path::Path;

pub fn write_all(dir: &Path) -> std::io::Result<()> {
    for sub in ["logs", "backups", "data", "state", "releases"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    // A fresh start: the orders service is broken until someone redeploys it.
    let _ = std::fs::remove_file(dir.join("state/orders"));
    std::fs::write(dir.join("releases/2.4.0.txt"), "release 2.4.0 (previous, known good)\n")?;
    std::fs::write(dir.join("releases/2.4.1.txt"), "release 2.4.1 (current)\n")?;
    let database = dir.join("data/app.db");
    if !database.exists() {
        make_database(&database).map_err(std::io::Error::other)?;
    }
    make_backups(dir, &database).map_err(std::io::Error::other)
}

fn make_database(path: &Path) -> rusqlite::Result<()> {
    let connection = Connection::open(path)?;
    connection.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
         CREATE TABLE deals (id INTEGER PRIMARY KEY, user_id INTEGER, amount_cents INTEGER, status TEXT);
         CREATE TABLE trades (id INTEGER PRIMARY KEY, deal_id INTEGER, at TEXT);",
    )?;
    let transaction = connection.unchecked_transaction()?;
    for id in 1..=120 {
        transaction.execute("INSERT INTO users (id, email) VALUES (?1, ?2)", (id, format!("user{id}@example.test")))?;
    }
    for id in 1..=340 {
        let status = if id % 7 == 0 { "open" } else { "closed" };
        transaction.execute(
            "INSERT INTO deals (id, user_id, amount_cents, status) VALUES (?1, ?2, ?3, ?4)",
            (id, id % 120 + 1, id * 1375, status),
        )?;
    }
    for id in 1..=1200 {
        transaction
            .execute("INSERT INTO trades (id, deal_id, at) VALUES (?1, ?2, datetime('now'))", (id, id % 340 + 1))?;
    }
    transaction.commit()
}

/// Nine daily gzipped SQLite backups (one corrupt, two past retention), a weekly config folder and tar.gz archives.
fn make_backups(dir: &Path, database: &Path) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let backups = dir.join("backups");
    let source = Connection::open(database)?;
    let snapshot = dir.join("state/snapshot.db");
    let _ = std::fs::remove_file(&snapshot);
    source.backup(rusqlite::MAIN_DB, &snapshot, None)?;
    let bytes = std::fs::read(&snapshot)?;
    std::fs::remove_file(&snapshot)?;
    let today = Utc::now().date_naive();
    for days_ago in 1..=9 {
        let day = today - Days::days(days_ago);
        let path = backups.join(format!("app_db_{}_030000.db.gz", day.format("%Y%m%d")));
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(&bytes)?;
        let mut gz = encoder.finish()?;
        if days_ago == 2 {
            // The night the disk filled up: the file stops half way.
            gz.truncate(gz.len() / 2);
        }
        std::fs::write(path, gz)?;
    }
    let weekly = backups.join((today - Days::days(3)).format("%Y%m%d").to_string());
    std::fs::create_dir_all(&weekly)?;
    std::fs::write(weekly.join("firstwatch.toml"), "# configuration snapshot\n")?;
    std::fs::write(weekly.join("nginx.conf"), "server { listen 80; }\n")?;
    std::fs::write(weekly.join("MANIFEST"), "firstwatch.toml\nnginx.conf\n")?;
    make_archives(&backups, &weekly)
}

/// Two weekly tar.gz archives of the config folder; the older one has a damaged header.
fn make_archives(backups: &Path, weekly: &Path) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if let Some(root) = backups.parent() {
        // Where the demo's archive restores to, so a restore can be tried without harm.
        std::fs::create_dir_all(root.join("restored"))?;
    }
    let today = Utc::now().date_naive();
    for weeks_ago in [0, 1] {
        let day = today - Days::days(2 + 7 * weeks_ago);
        let path = backups.join(format!("backup_{}.tar.gz", day.format("%Y%m%d")));
        let encoder = GzEncoder::new(Vec::new(), Compression::default());
        let mut archive = tar::Builder::new(encoder);
        archive.append_dir_all("config", weekly)?;
        let mut bytes = archive.into_inner()?.finish()?;
        if weeks_ago == 1 {
            // Bytes flipped in the middle, as a bad disk would leave them.
            let middle = bytes.len() / 2;
            for byte in &mut bytes[middle..middle + 16] {
                *byte ^= 0x5a;
            }
        }
        std::fs::write(path, bytes)?;
    }
    Ok(())
}

/// The demo config, one fragment per tab; every check points at the demo's own service on `port`.
pub fn config_text(port: u16) -> String {
    const FRAGMENTS: &[&str] = &[
        include_str!("config/settings.toml"),
        include_str!("config/checks.toml"),
        include_str!("config/schedule.toml"),
        include_str!("config/logs.toml"),
        include_str!("config/backups.toml"),
        include_str!("config/incident.toml"),
        include_str!("config/gpu.toml"),
        include_str!("config/fleet.toml"),
    ];
    let url = format!("http://127.0.0.1:{port}");
    let mut text = String::from("# The demo environment's config, written by `firstwatch demo`.\n");
    for fragment in FRAGMENTS {
        text.push('\n');
        text.push_str(&fragment.replace("{url}", &url).replace("{port}", &port.to_string()));
    }
    text
}
