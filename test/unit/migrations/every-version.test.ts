// From every earlier schema version (and from an empty file), opening with this version's migrations
// yields exactly the schema a fresh database gets; a database from a newer version is refused.
import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrate } from "../../../src-main/services/storage/database.js";
import { MIGRATIONS } from "../../../src-main/services/storage/migrations/index.js";

function schemaOf(db: BetterSqlite3.Database): string[] {
  return db.prepare("SELECT type || ' ' || name || ': ' || COALESCE(sql, '') FROM sqlite_master ORDER BY type, name").pluck().all() as string[];
}

describe("every migration path", () => {
  const newest = MIGRATIONS.at(-1)!.version;
  const fresh = new BetterSqlite3(":memory:");
  migrate(fresh);
  const expected = schemaOf(fresh);

  it("numbers the migrations in increasing order, once each", () => {
    const versions = MIGRATIONS.map((migration) => migration.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    expect(versions[0]).toBe(1);
  });

  for (const version of [0, ...MIGRATIONS.slice(0, -1).map((migration) => migration.version)]) {
    it(`upgrades a version ${version} database to version ${newest} with the fresh schema`, () => {
      const db = new BetterSqlite3(":memory:");
      migrate(db, MIGRATIONS.filter((migration) => migration.version <= version));
      expect(db.pragma("user_version", { simple: true })).toBe(version);
      migrate(db);
      expect(db.pragma("user_version", { simple: true })).toBe(newest);
      expect(schemaOf(db)).toEqual(expected);
      db.close();
    });
  }

  it("refuses a database written by a newer version", () => {
    const db = new BetterSqlite3(":memory:");
    db.pragma(`user_version = ${newest + 1}`);
    expect(() => migrate(db)).toThrow(/newer BiLLa Desktop/);
    db.close();
  });
});
