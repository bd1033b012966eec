import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrate } from "../../../src-main/services/storage/database.js";
import { MIGRATIONS } from "../../../src-main/services/storage/migrations/index.js";

const upTo = (version: number) => MIGRATIONS.filter((migration) => migration.version <= version);
const found = (db: BetterSqlite3.Database, query: string) =>
  db.prepare("SELECT m.id FROM messages_search JOIN messages m ON m.rowid = messages_search.rowid WHERE messages_search MATCH ? ORDER BY m.id").pluck().all(query);

function addConversation(db: BetterSqlite3.Database) {
  db.prepare("INSERT INTO conversations (id, title, sampling, created_at, updated_at) VALUES ('c', 'T', '{}', 'now', 'now')").run();
  return db.prepare("INSERT INTO messages (id, conversation_id, role, text, status, created_at, updated_at) VALUES (?, 'c', 'user', ?, ?, 'now', 'now')");
}

describe("migration 004: full-text search", () => {
  it("indexes finished messages by trigrams: Chinese substrings and English words, updated and deleted with them", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db, upTo(4));
    const add = addConversation(db);
    add.run("zh", "小蓝住在青草谷", "complete");
    add.run("en", "The capital of Zorbia is Quellon", "complete");
    add.run("live", "still streaming Quellon", "streaming");
    expect(found(db, '"青草谷"')).toEqual(["zh"]);
    expect(found(db, '"quellon"')).toEqual(["en"]);
    // A streaming answer joins the index when it finishes, with its final text.
    db.prepare("UPDATE messages SET text = 'finished Quellon answer', status = 'complete' WHERE id = 'live'").run();
    expect(found(db, '"quellon"')).toEqual(["en", "live"]);
    db.prepare("UPDATE messages SET text = 'no longer about it' WHERE id = 'en'").run();
    expect(found(db, '"quellon"')).toEqual(["live"]);
    db.prepare("DELETE FROM messages WHERE id = 'live'").run();
    expect(found(db, '"quellon"')).toEqual([]);
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.exec("INSERT INTO messages_search (messages_search) VALUES ('integrity-check')");
    db.close();
  });

  it("upgrades a version 3 database, indexing the messages already there", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db, upTo(3));
    addConversation(db).run("old", "一条旧消息 with words", "complete");
    migrate(db, upTo(4));
    expect(found(db, '"旧消息"')).toEqual(["old"]);
    db.close();
  });
});
