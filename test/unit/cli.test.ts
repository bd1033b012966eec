import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { APP_ROOT } from "../../src-main/services/app-root.js";
import { makeTempDir } from "../support/temp-dir.js";

const run = promisify(execFile);
const billa = join(APP_ROOT, "scripts", "billa.js");
const dataDir = makeTempDir();
afterAll(() => dataDir.remove());

describe("the billa command", () => {
  it("prints the system info as JSON with os, cpu, ram and gpu", async () => {
    const { stdout } = await run(process.execPath, [billa, "--data-dir", dataDir.path, "info"]);
    const info = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(info)).toEqual(expect.arrayContaining(["os", "cpu", "ram", "gpu"]));
    expect(info["os"]).toMatchObject({ platform: process.platform, arch: process.arch });
    expect(existsSync(join(dataDir.path, "models"))).toBe(true);
  });

  it("takes its data folder from BILLA_DATA_DIR too", async () => {
    const other = makeTempDir();
    try {
      await run(process.execPath, [billa, "info"], { env: { ...process.env, BILLA_DATA_DIR: other.path } });
      expect(existsSync(join(other.path, "models"))).toBe(true);
    } finally {
      other.remove();
    }
  });

  it("lists its commands in --help", async () => {
    const { stdout } = await run(process.execPath, [billa, "--help"]);
    expect(stdout).toContain("Usage: billa");
    expect(stdout).toContain("info");
  });

  it("fails with a clear message on an unknown command", async () => {
    await expect(run(process.execPath, [billa, "--data-dir", dataDir.path, "frobnicate"])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("unknown command"),
    });
  });
});
