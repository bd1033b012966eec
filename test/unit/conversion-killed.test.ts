// `billa convert` killed with SIGKILL while it writes (a crash, a power cut, the task manager): no file that looks
// like a model may be left, and the next conversion into the folder cleans up what the dead process left.
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticCheckpoint, type SyntheticCheckpoint } from "../../bench/support/synthetic-billa.js";
import { DEMO } from "../support/demo.js";
import { BILLA } from "../support/billa-cli.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir("billa-killed-");
let checkpoint: SyntheticCheckpoint;
const outDir = join(temp.path, "out");
const outFile = join(outDir, "billa.gguf");

beforeAll(async () => {
  // Large enough that writing its Q4_K_M takes seconds here, so the kill lands while the file is being written.
  checkpoint = await writeSyntheticCheckpoint(temp.path, {
    shape: { hidden: 1024, layers: 4, heads: 16, intermediate: 2816, vocab: 8000, originalRows: 6000 },
    shardCount: 3,
    tokenizerDir: DEMO.released,
  });
  await mkdir(outDir);
}, 120_000);
afterAll(() => temp.remove());

function convert(): ReturnType<typeof spawn> {
  return spawn(process.execPath, [BILLA, "--data-dir", join(temp.path, "data"), "convert", "--model_dir", checkpoint.modelDir, "--meta_llama_pth_file", checkpoint.originalFile, "--outfile", outFile, "--outtype", "q4_k_m"], {
    stdio: "ignore",
  });
}

/** The conversion's temporary file, once it holds at least `bytes`. */
async function partialOfAtLeast(bytes: number, child: ReturnType<typeof spawn>): Promise<string> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`billa convert ended (${child.exitCode}) before its file reached ${bytes} bytes`);
    const partial = readdirSync(outDir).find((name) => name.startsWith(".billa.gguf.partial-"));
    if (partial && statSync(join(outDir, partial)).size >= bytes) return partial;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("billa convert killed mid-write", () => {
  it.each([
    ["at the start of the file", 64 * 1024],
    ["in the middle", 16 * 1024 * 1024],
  ])("%s leaves no file that looks like a model", async (_, bytes) => {
    const child = convert();
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const partial = await partialOfAtLeast(bytes, child);
    child.kill("SIGKILL");
    await exited;

    const left = readdirSync(outDir);
    expect(left.filter((name) => name.endsWith(".gguf"))).toEqual([]);
    // Only the dead writer's hidden temporary file remains, under a name no loader takes for a model.
    expect(left).toContain(partial);
    expect(left.every((name) => /^\.billa\.gguf\.partial-\d+-[0-9a-f]{8}$/.test(name))).toBe(true);
  }, 120_000);

  it("the next conversion into the folder removes what killed runs left, and finishes", async () => {
    expect(readdirSync(outDir).length).toBeGreaterThan(0);
    const child = convert();
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(0);
    expect(readdirSync(outDir)).toEqual(["billa.gguf"]);
    expect((await readGgufFileInfo(outFile, { logWarnings: false })).tensorInfo).toHaveLength(checkpoint.ggufTensorCount);
  }, 120_000);
});
