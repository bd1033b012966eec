import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { APP_ROOT, DEMO_DIR } from "../../src-main/services/app-root.js";
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

describe("billa convert, restore and inspect", () => {
  const released = join(DEMO_DIR, "billa-demo");
  const original = join(DEMO_DIR, "llama-original", "consolidated.00.pth");

  it("converts the demo with BiLLa's flag names and inspects the result as JSON", async () => {
    const outfile = join(dataDir.path, "demo.gguf");
    const { stdout, stderr } = await run(process.execPath, [
      billa, "--data-dir", dataDir.path, "convert", "--model_dir", released, "--meta_llama_pth_file", original, "--outfile", outfile, "--outtype", "q8_0",
    ]);
    expect(stdout).toContain(`Wrote ${outfile}`);
    expect(stderr).toMatch(/verifying/); // plain progress lines when not on a terminal
    const inspected = JSON.parse((await run(process.execPath, [billa, "--data-dir", dataDir.path, "inspect", outfile, "--json"])).stdout) as {
      kind: string;
      metadata: Record<string, unknown>;
      tensors: { name: string; type: string }[];
    };
    expect(inspected.kind).toBe("gguf");
    expect(inspected.metadata["general.file_type"]).toBe(7);
    expect(inspected.tensors.find((tensor) => tensor.name === "blk.0.attn_q.weight")?.type).toBe("Q8_0");
  });

  it("restores into a new folder", async () => {
    const out = join(dataDir.path, "restored");
    const { stdout } = await run(process.execPath, [billa, "--data-dir", dataDir.path, "restore", "--model_dir", released, "--meta_llama_pth_file", original, "--out", out]);
    expect(stdout).toContain(`Wrote ${out}`);
    expect(existsSync(join(out, "model.safetensors"))).toBe(true);
  });

  it("fails with a one-line reason and a non-zero exit code", async () => {
    const failure = run(process.execPath, [
      billa, "--data-dir", dataDir.path, "convert", "--model_dir", join(DEMO_DIR, "llama-original"), "--outfile", join(dataDir.path, "x.gguf"),
    ]);
    await expect(failure).rejects.toMatchObject({ code: 1 });
    const { stderr } = (await failure.catch((error: { stderr: string }) => error)) as { stderr: string };
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/^billa: .*config\.json/);
  });
});
