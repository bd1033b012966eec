// Which llama.cpp binary runs: the threaded build (`npm run build:llama`) when this computer has one, else
// node-llama-cpp's prebuilt, with the reason, as `billa info` (system.info) reports it. The threaded build is hidden
// from a child process by mounting an empty folder over node-llama-cpp's local builds in a mount namespace of its
// own (root only), so the prebuilt path is tested even where the build exists; the threaded path runs where it does.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { SystemInfo } from "../../src-main/contract/api.js";
import { threadedBuildFolder } from "../../src-main/services/runtime/threaded-build.js";
import { BILLA } from "../support/billa-cli.js";
import { makeTempDir } from "../support/temp-dir.js";

const run = promisify(execFile);
const LOCAL_BUILDS = join(dirname(fileURLToPath(import.meta.resolve("node-llama-cpp"))), "..", "llama", "localBuilds");
const built = (await threadedBuildFolder()) !== null;
const isRoot = process.getuid?.() === 0;

async function billaInfo(hideLocalBuilds: boolean): Promise<SystemInfo["llama"]> {
  const temp = makeTempDir("billa-llama-build-");
  try {
    const info = [process.execPath, BILLA, "--data-dir", temp.path, "info"];
    // Where no local build was ever made (a fresh install) there is nothing to hide.
    const { stdout } = hideLocalBuilds && existsSync(LOCAL_BUILDS)
      ? await run("unshare", ["--mount", "--propagation", "private", "sh", "-c", `mount -t tmpfs tmpfs "$0" && exec "$@"`, LOCAL_BUILDS, ...info])
      : await run(info[0]!, info.slice(1));
    return (JSON.parse(stdout) as SystemInfo).llama;
  } finally {
    temp.remove();
  }
}

describe("the llama.cpp binary", () => {
  it.runIf(isRoot)("is node-llama-cpp's prebuilt where there is no threaded build, which billa info says, with the way to make one", async () => {
    expect(await billaInfo(true)).toEqual({ build: "prebuilt", reason: "not-built", threads: expect.any(Number) });
  });

  it.runIf(built)("is the threaded build where npm run build:llama made one", async () => {
    expect(await billaInfo(false)).toMatchObject({ build: "threaded", reason: "threaded" });
  });

  it.skipIf(built)("is the prebuilt here, where no threaded build was made", async () => {
    expect(await billaInfo(false)).toMatchObject({ build: "prebuilt", reason: "not-built" });
  });
});
