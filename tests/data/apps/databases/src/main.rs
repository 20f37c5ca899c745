//! Databases on the `/data` volume through their own C code: SQLite (rusqlite) with the
//! rollback journal (files, `fsync`, `fcntl` locks, recursive mutexes) and with the
//! write-ahead log (its index a shared file mapping), and LMDB (heed: the whole database
//! a shared mapping read while `pwrite` changes the file, robust process-shared mutexes,
//! `fstatfs`, `uname`). Each boot adds a row named by its argument to each SQLite
//! database in a committed transaction, adds one in a transaction it rolls back, lists
//! every row and checks the database's integrity; and counts itself in LMDB.

use heed::types::{Str, U64};
use rusqlite::{Connection, Result};

fn main() -> Result<()> {
    let note = std::env::args().nth(1).unwrap_or_else(|| "unnamed".to_string());
    for (path, journal) in [("/data/app.db", "delete"), ("/data/wal.db", "wal")] {
        keep(path, journal, &note)?;
    }
    count_in_lmdb(&note).expect("LMDB");
    Ok(())
}

/// Counts this boot in an LMDB environment at `/data/lmdb`, with a thousand keys written
/// in the same transaction; prints the count, the keys, and this boot's note.
fn count_in_lmdb(note: &str) -> heed::Result<()> {
    std::fs::create_dir_all("/data/lmdb")?;
    // SAFETY: no other program opens the environment (heed's one requirement).
    let environment = unsafe {
        heed::EnvOpenOptions::new()
            .map_size(4 << 20)
            .max_dbs(1)
            .open("/data/lmdb")?
    };
    let mut writing = environment.write_txn()?;
    let boots: heed::Database<Str, U64<heed::byteorder::LE>> =
        environment.create_database(&mut writing, Some("boots"))?;
    let count = boots.get(&writing, "count")?.unwrap_or(0) + 1;
    boots.put(&mut writing, "count", &count)?;
    for key in 0..1000u64 {
        boots.put(&mut writing, &format!("key-{key:04}"), &(key * count))?;
    }
    boots.put(&mut writing, &format!("note-{note}"), &count)?;
    writing.commit()?;
    let reading = environment.read_txn()?;
    println!(
        "/data/lmdb: boot {}, {} entries, key-0999 = {}, note-{note} = {:?}",
        boots.get(&reading, "count")?.unwrap_or(0),
        boots.len(&reading)?,
        boots.get(&reading, "key-0999")?.unwrap_or(0),
        boots.get(&reading, &format!("note-{note}"))?
    );
    Ok(())
}

/// One boot's work on the database at `path` with journal mode `journal`.
fn keep(path: &str, journal: &str, note: &str) -> Result<()> {
    let mut db = Connection::open(path)?;
    let mode: String = db.query_row(&format!("PRAGMA journal_mode = {journal}"), [], |row| row.get(0))?;
    println!("{path}: journal {mode}");
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS boots (id INTEGER PRIMARY KEY, note TEXT NOT NULL, at INTEGER NOT NULL);
         CREATE INDEX IF NOT EXISTS boots_by_note ON boots (note);",
    )?;
    let kept = db.transaction()?;
    kept.execute("INSERT INTO boots (note, at) VALUES (?1, unixepoch())", [note])?;
    kept.commit()?;
    let dropped = db.transaction()?;
    dropped.execute("INSERT INTO boots (note, at) VALUES ('rolled back', 0)", [])?;
    dropped.rollback()?;

    let mut rows = db.prepare("SELECT id, note, at > 1700000000 FROM boots ORDER BY id")?;
    let rows = rows.query_map([], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, bool>(2)?))
    })?;
    for row in rows {
        let (id, note, dated) = row?;
        println!("{id} {note} (dated by the wall clock: {dated})");
    }
    let found: i64 = db.query_row("SELECT count(*) FROM boots WHERE note = ?1", [note], |row| row.get(0))?;
    let integrity: String = db.query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
    println!("rows named {note}: {found}; integrity: {integrity}");
    Ok(())
}
