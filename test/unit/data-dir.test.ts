import { join, resolve } from "node:path";
import { homedir } from "node:os";
import { describe, expect, it } from "vitest";
import { dataPaths, defaultDataDir, resolveDataDir } from "../../src-main/services/data-dir.js";

describe("the data directory", () => {
  it("takes --data-dir first, in both spellings", () => {
    expect(resolveDataDir(["--data-dir", "/tmp/a"], { BILLA_DATA_DIR: "/tmp/b" })).toBe(resolve("/tmp/a"));
    expect(resolveDataDir(["--data-dir=/tmp/a"], { BILLA_DATA_DIR: "/tmp/b" })).toBe(resolve("/tmp/a"));
  });

  it("then BILLA_DATA_DIR", () => {
    expect(resolveDataDir([], { BILLA_DATA_DIR: "/tmp/b" })).toBe(resolve("/tmp/b"));
  });

  it("says what to do when --data-dir has no folder", () => {
    expect(() => resolveDataDir(["--data-dir"], {})).toThrow(/needs a folder/);
  });

  it("defaults to the folder Electron's userData uses on each OS", () => {
    expect(defaultDataDir("linux", {})).toBe(join(homedir(), ".config", "BiLLa Desktop"));
    expect(defaultDataDir("linux", { XDG_CONFIG_HOME: "/x" })).toBe(join("/x", "BiLLa Desktop"));
    expect(defaultDataDir("darwin", {})).toBe(join(homedir(), "Library", "Application Support", "BiLLa Desktop"));
    expect(defaultDataDir("win32", { APPDATA: "C:\\Users\\u\\AppData\\Roaming" })).toBe(join("C:\\Users\\u\\AppData\\Roaming", "BiLLa Desktop"));
  });

  it("keeps database, models and logs inside it", () => {
    const paths = dataPaths("/data");
    for (const path of [paths.database, paths.models, paths.logFile]) expect(path.startsWith("/data/")).toBe(true);
  });
});
