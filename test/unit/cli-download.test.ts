// `billa download` as a user runs it, against the loopback fake of the Hugging Face Hub: a clean download that
// converts and answers its golden prompts, a process killed in the middle of a shard and run again (continued with
// Range from N > 0), a dropped connection, a damaged file, 404 and 403, and where the endpoint comes from.
import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../../src-main/services/create-services.js";
import { WORK_FOLDER } from "../../src-main/services/download/download-folder.js";
import { formatBytes } from "../../src-main/transports/cli/job-progress.js";
import { BILLA } from "../support/billa-cli.js";
import { DEMO, golden } from "../support/demo.js";
import { DEMO_RELEASE_BYTES, DEMO_RELEASE_NAMES, differencesFromDemo, fileSize, rangeStarts } from "../support/download-api.js";
import { demoReleaseFiles, FakeHub } from "../support/fake-hub.js";
import { goldenMatches } from "../support/greedy.js";
import { makeTempDir } from "../support/temp-dir.js";

const run = promisify(execFile);
const SFT = "Neutralzz/BiLLa-7B-SFT";
const GATED = "Neutralzz/BiLLa-7B-LLM";
const SHARD = "pytorch_model-2-of-3.bin";
const temp = makeTempDir("billa-cli-download-");
const dataDir = join(temp.path, "data");
let hub: FakeHub;
let count = 0;
const freshFolder = () => join(temp.path, `release-${++count}`);

/** Environment of a user who set HF_ENDPOINT (or not), without the test runner's own variables leaking in. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { HF_ENDPOINT: _endpoint, HF_TOKEN: _token, ...rest } = process.env;
  return { ...rest, ...extra };
}

function billaDownload(args: string[], extraEnv: NodeJS.ProcessEnv = { HF_ENDPOINT: "" }) {
  return run(process.execPath, [BILLA, "--data-dir", dataDir, "download", ...args], { env: env(extraEnv) });
}

async function failure(promise: Promise<unknown>): Promise<{ code: number; stderr: string; stdout: string }> {
  return (await promise.then(
    () => {
      throw new Error("billa download was expected to fail");
    },
    (error: unknown) => error,
  )) as { code: number; stderr: string; stdout: string };
}

beforeAll(async () => {
  hub = await FakeHub.start();
  hub.addRepo(SFT, demoReleaseFiles());
  hub.addRepo(GATED, demoReleaseFiles(), { gatedFor: "hf_granted" });
});
afterEach(() => {
  hub.clearFaults();
  hub.log.splice(0);
});
afterAll(async () => {
  await hub?.close();
  temp.remove();
});

describe("billa download", () => {
  it("downloads the release from HF_ENDPOINT with plain progress lines, and the result converts and answers every golden prompt", async () => {
    const out = freshFolder();
    const { stdout, stderr } = await billaDownload([SFT, "--out", out], { HF_ENDPOINT: hub.endpoint });
    expect(differencesFromDemo(out)).toEqual([]);
    const total = formatBytes(DEMO_RELEASE_BYTES);
    expect(stderr).toContain(`Downloading ${SFT} (commit `);
    expect(stderr).toMatch(new RegExp(`^Downloading ${SFT} \\(commit [0-9a-f]{7}\\) from ${hub.endpoint} into ${out}: ${DEMO_RELEASE_NAMES.length} files, ${total.replace(".", "\\.")}\\.$`, "m"));
    expect(stderr).toContain(`${SHARD}: downloaded and checked (${formatBytes(fileSize(SHARD))})`);
    expect(stderr).toContain(`100% ${total} of ${total}, 8/8 files`);
    expect(stderr).not.toContain("\x1b["); // no terminal codes in a pipe
    expect(stdout).toContain(`Downloaded ${DEMO_RELEASE_NAMES.length} files (${total}) into ${out}, each checked against the Hub's checksums.`);
    expect(stdout).toContain("Meta's original LLaMA cannot be downloaded");

    const gguf = join(temp.path, "cli-downloaded.gguf");
    await run(process.execPath, [BILLA, "--data-dir", dataDir, "convert", "--model_dir", out, "--meta_llama_pth_file", DEMO.originalPth, "--outfile", gguf, "--outtype", "q8_0"]);
    expect(await goldenMatches(gguf)).toEqual(golden.cases.map((c) => c.id));
  });

  it("killed in the middle of a shard, the same command run again continues it with Range from N > 0: less than 1.2× the release in all", async () => {
    const out = freshFolder();
    const stallAt = 1_300_000;
    const stalled = hub.stallOnce(SHARD, stallAt);
    const child = spawn(process.execPath, [BILLA, "--data-dir", dataDir, "download", SFT, "--out", out, "--endpoint", hub.endpoint], { env: env(), stdio: "ignore" });
    await stalled;
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the other transfers write what they have
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    expect(readdirSync(out)).not.toContain(SHARD);
    const firstRun = hub.log.length;

    await billaDownload([SFT, "--out", out, "--endpoint", hub.endpoint]);
    expect(differencesFromDemo(out)).toEqual([]);
    const resumed = rangeStarts(hub.log.slice(firstRun), SHARD);
    expect(resumed.length).toBeGreaterThan(0);
    expect(Math.min(...resumed)).toBeGreaterThan(0);
    expect(hub.bytesSent()).toBeLessThan(1.2 * DEMO_RELEASE_BYTES);
    console.log(`killed at byte ${stallAt} of ${SHARD}; the second run asked from byte ${Math.min(...resumed)}; ${hub.bytesSent()} bytes sent in all for the release's ${DEMO_RELEASE_BYTES}`);
  });

  it("rides out a dropped connection and a damaged byte, saying so", async () => {
    const out = freshFolder();
    hub.dropOnce(SHARD, 1_000_000);
    hub.corruptOnce("pytorch_model-1-of-3.bin", 777);
    const { stderr } = await billaDownload([SFT, "--out", out, "--endpoint", hub.endpoint, "--parallel", "2"]);
    expect(differencesFromDemo(out)).toEqual([]);
    expect(stderr).toMatch(/^warning: pytorch_model-1-of-3\.bin arrived damaged: its sha256 is [0-9a-f]{64}, the Hub's [0-9a-f]{64}\. It was set aside and is downloaded once more\.$/m);
    expect(hub.bytesSent(SHARD)).toBeLessThan(1.2 * fileSize(SHARD));
  });

  it("exits non-zero when a file fails its check twice, leaving nothing under its name", async () => {
    const out = freshFolder();
    hub.corruptOnce(SHARD, 1);
    hub.corruptOnce(SHARD, 2);
    const failed = await failure(billaDownload([SFT, "--out", out, "--endpoint", hub.endpoint]));
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(new RegExp(`^billa: ${SHARD.replace(/\./g, "\\.")} failed its checksum twice`, "m"));
    expect(readdirSync(out)).not.toContain(SHARD);
  });

  it("404 and 403 fail with a clear message and a non-zero exit code, and leave no file", async () => {
    const missing = freshFolder();
    const notFound = await failure(billaDownload(["Neutralzz/BiLLa-70B", "--out", missing, "--endpoint", hub.endpoint]));
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toContain("billa: Neutralzz/BiLLa-70B was not found on");
    expect(existsSync(missing) ? readdirSync(missing).filter((name) => name !== WORK_FOLDER) : []).toEqual([]);

    const gated = freshFolder();
    const denied = await failure(billaDownload([GATED, "--out", gated, "--endpoint", hub.endpoint], { HF_TOKEN: "hf_notGranted" }));
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`billa: Your access token has no access to ${GATED} yet (403)`);
    expect(existsSync(gated) ? readdirSync(gated).filter((name) => name !== WORK_FOLDER) : []).toEqual([]);

    const badFlag = await failure(billaDownload([SFT, "--out", freshFolder(), "--parallel", "9"]));
    expect(badFlag.stderr).toContain("--parallel needs a whole number from 2 to 4");
    const badRepo = await failure(billaDownload(["BiLLa", "--out", freshFolder()]));
    expect(badRepo.stderr).toContain("Give the repository as owner/name, e.g. Neutralzz/BiLLa-7B-SFT.");
  });

  it("takes the endpoint from --endpoint, else the app's setting, else HF_ENDPOINT", async () => {
    const mirror = await FakeHub.start();
    mirror.addRepo(SFT, demoReleaseFiles());
    const settingsDir = join(temp.path, "mirror-settings");
    const services = createServices({ dataDir: settingsDir, transport: "cli" });
    await services.api.invoke("settings.update", { hubEndpoint: mirror.endpoint });
    await services.dispose();
    const download = (out: string, ...flags: string[]) => run(process.execPath, [BILLA, "--data-dir", settingsDir, "download", SFT, "--out", out, ...flags], { env: env({ HF_ENDPOINT: hub.endpoint }) });
    try {
      await download(freshFolder());
      expect(mirror.log.length).toBeGreaterThan(0);
      expect(hub.log).toEqual([]);
      mirror.log.splice(0);
      await download(freshFolder(), "--endpoint", hub.endpoint);
      expect(mirror.log).toEqual([]);
      expect(hub.log.length).toBeGreaterThan(0);
    } finally {
      await mirror.close();
    }
  });
});
