// The check the vitest config runs before any test (test/support/fresh-build.ts), on a project tree of its own.
import { mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { staleBuildOutputs } from "../support/fresh-build.js";
import { makeTempDir } from "../support/temp-dir.js";

const project = makeTempDir("billa-fresh-build-");
afterAll(() => project.remove());

/** Writes `path` in the project with its modification time `seconds` after the epoch. */
function file(path: string, seconds: number): void {
  const full = join(project.path, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, "");
  utimesSync(full, seconds, seconds);
}

describe("the stale-build check", () => {
  it("passes a build newer than its sources, and names each output older than its source or missing", () => {
    const SOURCE_TIME = 1_000_000;
    const BUILD_TIME = 2_000_000;
    for (const source of ["src-main/services/a.ts", "src-main/transports/electron/preload.cts", "src-main/contract/api.ts", "src-renderer/src/app.svelte", "src-renderer/index.html"]) {
      file(source, SOURCE_TIME);
    }
    for (const output of ["build/main/services/a.js", "build/main/transports/electron/preload.cjs", "build/main/contract/api.js", "build/renderer/index.html", "build/renderer/assets/index-1.js"]) {
      file(output, BUILD_TIME);
    }
    expect(staleBuildOutputs(project.path)).toEqual([]);

    file("src-main/services/a.ts", BUILD_TIME + 1);
    expect(staleBuildOutputs(project.path)).toEqual(["build/main/services/a.js is older than src-main/services/a.ts"]);
    file("src-main/services/a.ts", SOURCE_TIME);

    rmSync(join(project.path, "build/main/transports/electron/preload.cjs"));
    expect(staleBuildOutputs(project.path)).toEqual(["build/main/transports/electron/preload.cjs is missing (from src-main/transports/electron/preload.cts)"]);
    file("build/main/transports/electron/preload.cjs", BUILD_TIME);

    // The renderer bundle is made from src-renderer and from the contract it imports.
    file("src-renderer/src/app.svelte", BUILD_TIME + 1);
    expect(staleBuildOutputs(project.path)).toEqual(["build/renderer is older than src-renderer/src/app.svelte"]);
    file("src-renderer/src/app.svelte", SOURCE_TIME);
    file("src-main/contract/api.ts", BUILD_TIME + 1);
    expect(staleBuildOutputs(project.path)).toEqual(["build/main/contract/api.js is older than src-main/contract/api.ts", "build/renderer is older than src-main/contract/api.ts"]);
    file("src-main/contract/api.ts", SOURCE_TIME);

    rmSync(join(project.path, "build/renderer"), { recursive: true });
    expect(staleBuildOutputs(project.path)).toEqual(["build/renderer/index.html is missing"]);
  });
});
