import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrate } from "../../../src-main/services/storage/database.js";
import { MIGRATIONS } from "../../../src-main/services/storage/migrations/index.js";

const upTo = (version: number) => MIGRATIONS.filter((migration) => migration.version <= version);
const insertConversation = "INSERT INTO conversations (id, title, sampling, created_at, updated_at) VALUES (?, 'T', '{}', 'now', 'now')";

describe("migration 006: where a conversation was held", () => {
  it("applies to a fresh database, accepting only the app and the API", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db, upTo(6));
    expect(db.pragma("user_version", { simple: true })).toBe(6);
    db.prepare(insertConversation).run("a");
    expect(db.prepare("SELECT source FROM conversations WHERE id = 'a'").pluck().get()).toBe("app");
    db.prepare("UPDATE conversations SET source = 'api' WHERE id = 'a'").run();
    expect(() => db.prepare("UPDATE conversations SET source = 'web' WHERE id = 'a'").run()).toThrow(/CHECK/);
    db.close();
  });

  it("upgrades a version 5 database, its conversations held in the app", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db, upTo(5));
    db.prepare(insertConversation).run("old");
    migrate(db, upTo(6));
    expect(db.prepare("SELECT source FROM conversations WHERE id = 'old'").pluck().get()).toBe("app");
    db.close();
  });
});
