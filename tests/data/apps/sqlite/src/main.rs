//! Databases on the `/data` volume, through rusqlite and SQLite's own C code: one with the
//! rollback journal (files, `fsync`, `fcntl` locks, recursive mutexes), one with the
//! write-ahead log (its index a shared file mapping). Each boot adds a row named by its
//! argument to each in a committed transaction, adds one in a transaction it rolls back,
//! lists every row and checks the database's integrity.

use rusqlite::{Connection, Result};

fn main() -> Result<()> {
    let note = std::env::args().nth(1).unwrap_or_else(|| "unnamed".to_string());
    for (path, journal) in [("/data/app.db", "delete"), ("/data/wal.db", "wal")] {
        keep(path, journal, &note)?;
    }
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
