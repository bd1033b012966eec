// Downloading BiLLa's release through the API, against a loopback fake of the Hugging Face Hub that holds the demo
// checkpoint as the Hub lays it out: the plan, a clean download that converts and answers its golden prompts,
// connections that drop or stall, a restart, pause, cancel, damaged bytes, gated and missing repositories, a full
// disk, the endpoint's precedence, a pinned commit, and the token going nowhere but the endpoint.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DownloadStatus } from "../../src-main/contract/api.js";
import { estimatedFileBytes } from "../../src-main/contract/output-types.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { WORK_FOLDER } from "../../src-main/services/download/download-folder.js";
import type { DownloadTuning } from "../../src-main/services/download/download-job.js";
import { chooseEndpoint } from "../../src-main/services/download/hub-client.js";
import { DEMO, golden, reportOf, runJob } from "../support/demo.js";
import { call, DEMO_RELEASE_BYTES, DEMO_RELEASE_NAMES, differencesFromDemo, download, DownloadWatch, fileSize, rangeStarts, refusal } from "../support/download-api.js";
import { demoReleaseFiles, FakeHub, sha256 } from "../support/fake-hub.js";
import { goldenMatches } from "../support/greedy.js";
import { makeTempDir } from "../support/temp-dir.js";

const SFT = "Neutralzz/BiLLa-7B-SFT";
const GATED = "Neutralzz/BiLLa-7B-LLM";
const TOKEN = "hf_testTokenThatMustNotLeak0123456789";
const SHARD = "pytorch_model-2-of-3.bin";
/** Quick retries: the fake Hub answers at once, and a stall is declared after a second and a half. */
const TUNING: Partial<DownloadTuning> = { stallMs: 1500, retryDelayMs: 50, attempts: 3 };

const temp = makeTempDir("billa-download-");
let hub: FakeHub;
let commit: string;
let services: Services;
let folderCount = 0;
/** A new destination for each download. */
const freshFolder = () => join(temp.path, "downloads", `release-${++folderCount}`);

function open(options: { env?: NodeJS.ProcessEnv; tuning?: Partial<DownloadTuning>; dataDir?: string } = {}): Services {
  return createServices({ dataDir: options.dataDir ?? join(temp.path, "data"), transport: "cli", env: options.env ?? { HF_ENDPOINT: hub.endpoint }, downloadTuning: { ...TUNING, ...options.tuning } });
}

/** The files with a final name in the destination (the hidden work folder aside). */
function finishedLooking(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((name) => name !== WORK_FOLDER) : [];
}

beforeAll(async () => {
  hub = await FakeHub.start();
  commit = hub.addRepo(SFT, demoReleaseFiles());
  hub.addRepo(GATED, demoReleaseFiles(), { gatedFor: TOKEN });
  services = open();
});
afterEach(() => {
  hub.clearFaults();
  hub.log.splice(0);
});
afterAll(async () => {
  await services?.dispose();
  await hub?.close();
  temp.remove();
});

describe("the plan", () => {
  it("lists what conversion needs with sizes and sha256 from the paginated tree, pinned to a commit, with the free space, writing nothing", async () => {
    const destination = freshFolder();
    const plan = await call(services.api, "download.plan", { repo: SFT, destination });
    expect(plan.commit).toBe(commit);
    expect(plan.endpoint).toBe(hub.endpoint);
    expect(plan.files.map((file) => file.path).sort()).toEqual(DEMO_RELEASE_NAMES); // no README.md, no .gitattributes
    const shard = plan.files.find((file) => file.path === SHARD)!;
    expect(shard).toEqual({ path: SHARD, size: fileSize(SHARD), sha256: sha256(readFileSync(join(DEMO.released, SHARD))), onDiskBytes: 0 });
    expect(plan.files.find((file) => file.path === "config.json")!.sha256).toBeNull(); // a small file, checked by its git blob id
    expect(plan.totalBytes).toBe(DEMO_RELEASE_BYTES);
    expect(plan.remainingBytes).toBe(DEMO_RELEASE_BYTES);
    const weights = DEMO_RELEASE_NAMES.filter((name) => name.endsWith(".bin")).reduce((sum, name) => sum + fileSize(name), 0);
    expect(plan.conversionBytes).toBe(estimatedFileBytes("q4_k_m", weights / 2));
    expect(plan.neededBytes).toBe(plan.remainingBytes + plan.conversionBytes); // the data folder is on the same disk here
    expect(plan.freeBytes).toBeGreaterThan(plan.neededBytes);
    expect(plan.enoughSpace).toBe(true);
    // 12 files at 4 a page: three pages, the next ones found through the Link header.
    const pages = hub.log.filter((entry) => entry.url.includes("/tree/"));
    expect(pages.map((entry) => new URL(entry.url, hub.endpoint).searchParams.get("cursor"))).toEqual([null, "4", "8"]);
    expect(existsSync(destination)).toBe(false);
  });

  it("refuses a destination that is a file", async () => {
    const file = join(temp.path, "a-file");
    writeFileSync(file, "not a folder");
    const failure = await refusal(services.api, "download.start", { repo: SFT, destination: file });
    expect(failure).toEqual({ code: "bad_file", message: `${file} cannot hold the download (ENOTDIR): choose a folder, new or existing, that you may write to.` });
  });

  it("refuses a repository id that is not owner/name before asking anyone", async () => {
    const failure = await refusal(services.api, "download.plan", { repo: "../etc", destination: freshFolder() });
    expect(failure.code).toBe("invalid_input");
    expect(hub.log).toEqual([]);
  });
});

describe("a clean download", () => {
  it("fetches and checks every file, leaves nothing but the release, and the release converts and answers every golden prompt", async () => {
    const destination = freshFolder();
    const { outcome, progress } = await download(services.api, { repo: SFT, destination });
    expect(outcome).toEqual({ ok: true, destination, files: DEMO_RELEASE_NAMES.length, bytes: DEMO_RELEASE_BYTES });
    expect(differencesFromDemo(destination)).toEqual([]); // the hidden work folder is gone too
    const last = progress.at(-1)!;
    expect(last.state).toBe("done");
    expect(last.doneBytes).toBe(DEMO_RELEASE_BYTES);
    expect(new Set(last.files.map((file) => file.state))).toEqual(new Set(["verified"]));
    expect(progress.some((status) => status.files.some((file) => file.state === "downloading" && file.doneBytes > 0 && file.doneBytes < file.size))).toBe(true);
    // LFS files came from the CDN, small ones from the Hub, each byte once.
    expect(hub.bytesSent()).toBe(DEMO_RELEASE_BYTES);
    expect(new Set(hub.log.filter((entry) => entry.server === "cdn").map((entry) => entry.file))).toEqual(new Set(["tokenizer.model", "pytorch_model-1-of-3.bin", "pytorch_model-2-of-3.bin", "pytorch_model-3-of-3.bin"]));
    expect(await call(services.api, "download.list", {})).toMatchObject({ downloads: expect.arrayContaining([expect.objectContaining({ destination, state: "done" })]) });

    const outFile = join(temp.path, "downloaded-q8_0.gguf");
    const report = reportOf((await runJob(services.api, "conversion.start", { modelDir: destination, originalLlama: DEMO.originalPth, outFile, outType: "q8_0" })).outcome);
    expect(report.restoredEmbeddingSum).toBeCloseTo(golden.restored_embedding_sum_f64, 6);
    expect(await goldenMatches(outFile)).toEqual(golden.cases.map((c) => c.id));
  });

  it("keeps files already there and matching: a second run transfers nothing", async () => {
    const destination = freshFolder();
    await download(services.api, { repo: SFT, destination });
    hub.log.splice(0);
    const { outcome, progress } = await download(services.api, { repo: SFT, destination });
    expect(outcome.ok).toBe(true);
    expect(new Set(progress.at(-1)!.files.map((file) => file.state))).toEqual(new Set(["present"]));
    expect(hub.bytesSent()).toBe(0);
    expect(hub.log.filter((entry) => entry.url.includes("/resolve/"))).toEqual([]);
  });
});

describe("connections that break", () => {
  it("a connection dropped in the middle of a shard is continued with Range from N > 0, transferring less than 1.2× the release", async () => {
    const destination = freshFolder();
    const dropAt = 1_500_000;
    hub.dropOnce(SHARD, dropAt);
    const { outcome } = await download(services.api, { repo: SFT, destination });
    expect(outcome.ok).toBe(true);
    expect(differencesFromDemo(destination)).toEqual([]);
    const dropped = hub.log.findIndex((entry) => entry.file === SHARD && entry.status === 206 && entry.range !== null && Number(/^bytes=(\d+)/.exec(entry.range)![1]) < dropAt && entry.bytesSent < Number(/-(\d+)$/.exec(entry.range)![1]) - Number(/^bytes=(\d+)/.exec(entry.range)![1]) + 1);
    expect(dropped).toBeGreaterThanOrEqual(0);
    const after = rangeStarts(hub.log.slice(dropped + 1), SHARD);
    const resumedAt = Math.min(...after.filter((start) => start <= dropAt));
    expect(resumedAt).toBeGreaterThan(0);
    expect(hub.bytesSent(SHARD)).toBeLessThan(1.2 * fileSize(SHARD));
    expect(hub.bytesSent()).toBeLessThan(1.2 * DEMO_RELEASE_BYTES);
    console.log(`dropped at ${dropAt} of ${SHARD}: continued from byte ${resumedAt}; ${hub.bytesSent(SHARD)} bytes for its ${fileSize(SHARD)}, ${hub.bytesSent()} for the release's ${DEMO_RELEASE_BYTES}`);
  });

  it("a connection that stays open but stops sending is given up after the stall time and continued with Range from N > 0", async () => {
    const destination = freshFolder();
    const stalled = hub.stallOnce("pytorch_model-1-of-3.bin", 1_000_000);
    const started = Date.now();
    const { outcome } = await download(services.api, { repo: SFT, destination });
    await stalled;
    expect(outcome.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(differencesFromDemo(destination)).toEqual([]);
    const starts = rangeStarts(hub.log, "pytorch_model-1-of-3.bin");
    expect(starts.filter((start) => start > 0 && start <= 1_000_000).length).toBeGreaterThan(0);
    expect(hub.bytesSent()).toBeLessThan(1.2 * DEMO_RELEASE_BYTES);
  });

  it("after a restart of the app in the middle of a shard, the download is listed as interrupted and resumes with Range from N > 0", async () => {
    const destination = freshFolder();
    const dataDir = join(temp.path, "restart-data");
    const first = open({ dataDir });
    const stalled = hub.stallOnce(SHARD, 1_200_000);
    const { downloadId } = await call(first.api, "download.start", { repo: SFT, destination });
    await stalled;
    await first.dispose(); // the app quits: transfers stop, what arrived stays
    expect(finishedLooking(destination)).not.toContain(SHARD);

    const second = open({ dataDir });
    try {
      const [listed] = (await call(second.api, "download.list", {})).downloads;
      expect(listed).toMatchObject({ id: downloadId, repo: SFT, destination, state: "interrupted", commit, totalBytes: DEMO_RELEASE_BYTES });
      expect(listed!.doneBytes).toBeGreaterThan(0);
      expect(listed!.doneBytes).toBeLessThan(DEMO_RELEASE_BYTES);
      hub.log.splice(0);
      const watch = new DownloadWatch(second.api);
      await call(second.api, "download.resume", { downloadId });
      expect((await watch.outcome(downloadId)).ok).toBe(true);
      expect(differencesFromDemo(destination)).toEqual([]);
      const starts = rangeStarts(hub.log, SHARD);
      expect(Math.min(...starts)).toBeGreaterThan(0); // nothing of the shard asked for again from byte 0
      expect(hub.bytesSent(SHARD)).toBeLessThan(fileSize(SHARD) - 1_000_000);
      expect((await call(second.api, "download.list", {})).downloads.find((entry) => entry.id === downloadId)?.state).toBe("done");
    } finally {
      await second.dispose();
    }
  });
});

describe("pause, resume and cancel", () => {
  it("pauses with the partial shard kept out of sight, and resumes with Range from N > 0", async () => {
    const destination = freshFolder();
    const watch = new DownloadWatch(services.api);
    const stalled = hub.stallOnce(SHARD, 1_000_000);
    const { downloadId } = await call(services.api, "download.start", { repo: SFT, destination });
    await stalled;
    expect(await call(services.api, "download.pause", { downloadId })).toEqual({ paused: true });
    const paused = (await call(services.api, "download.list", {})).downloads.find((entry) => entry.id === downloadId)!;
    expect(paused.state).toBe("paused");
    expect(paused.bytesPerSecond).toBe(0);
    expect(finishedLooking(destination)).not.toContain(SHARD);
    expect(readdirSync(join(destination, WORK_FOLDER, "parts"))).toContain(`${SHARD}.ipull`);
    hub.log.splice(0);
    await call(services.api, "download.resume", { downloadId });
    expect((await watch.outcome(downloadId)).ok).toBe(true);
    watch.stop();
    expect(Math.min(...rangeStarts(hub.log, SHARD))).toBeGreaterThan(0);
    expect(differencesFromDemo(destination)).toEqual([]);
  });

  it("cancel ends it keeping what arrived; starting it again continues with Range from N > 0; cancel with discard removes the parts", async () => {
    const destination = freshFolder();
    const watch = new DownloadWatch(services.api);
    const stalled = hub.stallOnce(SHARD, 1_000_000);
    const { downloadId } = await call(services.api, "download.start", { repo: SFT, destination });
    await stalled;
    expect(await call(services.api, "download.cancel", { downloadId })).toEqual({ cancelled: true });
    expect(await watch.outcome(downloadId)).toMatchObject({ ok: false, error: { code: "cancelled" } });
    watch.stop();
    expect(finishedLooking(destination)).not.toContain(SHARD);
    expect(readdirSync(join(destination, WORK_FOLDER, "parts"))).toContain(`${SHARD}.ipull`);

    hub.log.splice(0);
    const again = await download(services.api, { repo: SFT, destination });
    expect(again.downloadId).toBe(downloadId);
    expect(again.outcome.ok).toBe(true);
    expect(Math.min(...rangeStarts(hub.log, SHARD))).toBeGreaterThan(0);
    expect(differencesFromDemo(destination)).toEqual([]);

    const other = freshFolder();
    const stalledAgain = hub.stallOnce(SHARD, 1_000_000);
    const started = await call(services.api, "download.start", { repo: SFT, destination: other });
    await stalledAgain;
    await call(services.api, "download.cancel", { downloadId: started.downloadId, discard: true });
    expect(existsSync(join(other, WORK_FOLDER))).toBe(false);
    expect(finishedLooking(other)).not.toContain(SHARD);
  });
});

describe("damaged bytes", () => {
  it("a byte corrupted once is caught by sha256 (or the git blob id of a small file), put aside, fetched again, and the result is right", async () => {
    const destination = freshFolder();
    hub.corruptOnce("pytorch_model-1-of-3.bin", 123_456);
    hub.corruptOnce("config.json", 10);
    const { outcome, progress } = await download(services.api, { repo: SFT, destination });
    expect(outcome.ok).toBe(true);
    expect(differencesFromDemo(destination)).toEqual([]);
    const notices = progress.at(-1)!.notices;
    expect(notices).toHaveLength(2);
    expect(notices.find((notice) => notice.startsWith("pytorch_model-1-of-3.bin arrived damaged"))).toContain(sha256(readFileSync(join(DEMO.released, "pytorch_model-1-of-3.bin"))));
    expect(notices.some((notice) => notice.startsWith("config.json arrived damaged: its git blob id is "))).toBe(true);
    // Fetched whole a second time, nothing more.
    expect(hub.bytesSent("pytorch_model-1-of-3.bin")).toBe(2 * fileSize("pytorch_model-1-of-3.bin"));
  });

  it("a file damaged twice stops the download with a clear failure, both copies kept aside, nothing under its name", async () => {
    const destination = freshFolder();
    hub.corruptOnce(SHARD, 5);
    hub.corruptOnce(SHARD, 6);
    const { outcome } = await download(services.api, { repo: SFT, destination });
    expect(outcome).toMatchObject({ ok: false, error: { code: "bad_file" } });
    expect(!outcome.ok && outcome.error.message).toMatch(new RegExp(`^${SHARD.replace(/\./g, "\\.")} failed its checksum twice`));
    expect(finishedLooking(destination)).not.toContain(SHARD);
    expect(readdirSync(join(destination, WORK_FOLDER, "quarantine")).filter((name) => name.startsWith(SHARD))).toHaveLength(2);
  });

  it("a file already in the folder that does not match is put aside and fetched, never accepted", async () => {
    const destination = freshFolder();
    mkdirSync(destination, { recursive: true });
    const wrong = Buffer.from(readFileSync(join(DEMO.released, SHARD)));
    wrong[1000]! ^= 1;
    writeFileSync(join(destination, SHARD), wrong);
    const { outcome, progress } = await download(services.api, { repo: SFT, destination });
    expect(outcome.ok).toBe(true);
    expect(progress.at(-1)!.notices.some((notice) => notice.startsWith(`${SHARD} was already in the folder but is not the Hub's`))).toBe(true);
    expect(differencesFromDemo(destination)).toEqual([]);
  });
});

describe("refusals say what happened and leave nothing that looks finished", () => {
  it("404: a repository that does not exist (with a token), a revision, a file gone missing", async () => {
    const withToken = (await call(services.api, "settings.update", { hubToken: TOKEN }), await refusal(services.api, "download.start", { repo: "Neutralzz/BiLLa-13B", destination: freshFolder() }));
    await call(services.api, "settings.update", { hubToken: null });
    expect(withToken.code).toBe("not_found");
    expect(withToken.message).toContain("Neutralzz/BiLLa-13B was not found on");
    const withoutToken = await refusal(services.api, "download.start", { repo: "Neutralzz/BiLLa-13B", destination: freshFolder() });
    expect(withoutToken.message).toContain("If it is private, put an access token in Settings");
    const revision = await refusal(services.api, "download.plan", { repo: SFT, revision: "v9", destination: freshFolder() });
    expect(revision).toMatchObject({ code: "not_found", message: expect.stringContaining("has no revision “v9”") });

    const destination = freshFolder();
    hub.failResolve(SHARD, 404, "EntryNotFound", `${SHARD} does not exist on "main"`);
    const { outcome } = await download(services.api, { repo: SFT, destination });
    expect(outcome).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(!outcome.ok && outcome.error.message).toContain(`${SHARD} is missing from ${SFT}`);
    expect(finishedLooking(destination)).not.toContain(SHARD);
    const failed = (await call(services.api, "download.list", {})).downloads.find((entry) => entry.destination === destination)!;
    expect(failed.state).toBe("failed");
    expect(failed.files.find((file) => file.path === SHARD)!.state).toBe("failed");
  });

  it("401 and 403 for a gated repository, with and without a token; with the right token it downloads, the token sent to the endpoint only", async () => {
    const destination = freshFolder();
    const anonymous = await refusal(services.api, "download.start", { repo: GATED, destination });
    expect(anonymous.code).toBe("access_denied");
    expect(anonymous.message).toContain(`${GATED} is gated (401): accept its conditions at ${hub.endpoint}/${GATED}, then put a Hugging Face access token in Settings`);
    await call(services.api, "settings.update", { hubToken: "hf_notTheRightOne" });
    const wrongToken = await refusal(services.api, "download.start", { repo: GATED, destination });
    expect(wrongToken.message).toContain(`Your access token has no access to ${GATED} yet (403)`);
    expect(finishedLooking(destination)).toEqual([]);

    await call(services.api, "settings.update", { hubToken: TOKEN });
    hub.log.splice(0);
    try {
      const { outcome } = await download(services.api, { repo: GATED, destination });
      expect(outcome.ok).toBe(true);
    } finally {
      await call(services.api, "settings.update", { hubToken: null });
    }
    expect(differencesFromDemo(destination)).toEqual([]);
    const toHub = hub.log.filter((entry) => entry.server === "hub");
    const toCdn = hub.log.filter((entry) => entry.server === "cdn");
    expect(toCdn.length).toBeGreaterThan(0);
    expect(toHub.every((entry) => entry.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(toCdn.every((entry) => entry.authorization === null)).toBe(true);
    expect(readFileSync(services.paths.logFile, "utf8")).not.toContain(TOKEN);
  });

  it("a full disk: the check refuses before anything is written, and the plan says why", async () => {
    const small = open({ dataDir: join(temp.path, "small-disk-data"), tuning: { freeBytes: async () => 1_000_000 } });
    try {
      const destination = freshFolder();
      const plan = await call(small.api, "download.plan", { repo: SFT, destination });
      expect(plan).toMatchObject({ freeBytes: 1_000_000, enoughSpace: false });
      const failure = await refusal(small.api, "download.start", { repo: SFT, destination });
      expect(failure.code).toBe("disk_full");
      expect(failure.message).toMatch(/^The download needs 0\.\d\d GiB \(0\.\d\d GiB to download and about 0\.\d\d GiB for the converted model\) but .* has only 0\.00 GiB free\. Free some space or choose a folder on another disk\.$/);
      expect(finishedLooking(destination)).toEqual([]);
      expect(existsSync(join(destination, WORK_FOLDER, "parts"))).toBe(false);
    } finally {
      await small.dispose();
    }
  });

  it.runIf(existsSync("/dev/full"))("a disk that fills up during the transfer fails the download with disk_full, and the app lives on", async () => {
    const destination = freshFolder();
    // The shard's part is a link to /dev/full, where every write fails with ENOSPC as on a full disk.
    mkdirSync(join(destination, WORK_FOLDER, "parts"), { recursive: true });
    symlinkSync("/dev/full", join(destination, WORK_FOLDER, "parts", `${SHARD}.ipull`));
    const { outcome } = await download(services.api, { repo: SFT, destination });
    expect(outcome).toMatchObject({ ok: false, error: { code: "disk_full" } });
    expect(!outcome.ok && outcome.error.message).toContain(`is full (while writing ${SHARD})`);
    expect(finishedLooking(destination)).not.toContain(SHARD);
    rmSync(join(destination, WORK_FOLDER, "parts", `${SHARD}.ipull`));
    expect((await download(services.api, { repo: SFT, destination })).outcome.ok).toBe(true);
  });
});

describe("endpoint and revision", () => {
  it("chooses the request's endpoint, then the setting, then HF_ENDPOINT, then huggingface.co", () => {
    expect(chooseEndpoint({ requested: "https://a.example/", setting: "https://b.example", env: { HF_ENDPOINT: "https://c.example" } })).toBe("https://a.example");
    expect(chooseEndpoint({ setting: "https://b.example", env: { HF_ENDPOINT: "https://c.example" } })).toBe("https://b.example");
    expect(chooseEndpoint({ setting: null, env: { HF_ENDPOINT: "https://c.example/" } })).toBe("https://c.example");
    expect(chooseEndpoint({ setting: null, env: {} })).toBe("https://huggingface.co");
    expect(() => chooseEndpoint({ setting: null, env: { HF_ENDPOINT: "hf-mirror.com" } })).toThrow(/HF_ENDPOINT is set to "hf-mirror.com", which is not a web address/);
  });

  it("honours the endpoint setting over HF_ENDPOINT, and a request's endpoint over both", async () => {
    const mirror = await FakeHub.start();
    mirror.addRepo(SFT, demoReleaseFiles());
    const mirrored = open({ dataDir: join(temp.path, "mirror-data"), env: { HF_ENDPOINT: hub.endpoint } });
    try {
      await call(mirrored.api, "settings.update", { hubEndpoint: mirror.endpoint });
      const viaSetting = await call(mirrored.api, "download.plan", { repo: SFT, destination: freshFolder() });
      expect(viaSetting.endpoint).toBe(mirror.endpoint);
      expect(hub.log).toEqual([]);
      const viaRequest = await call(mirrored.api, "download.plan", { repo: SFT, destination: freshFolder(), endpoint: hub.endpoint });
      expect(viaRequest.endpoint).toBe(hub.endpoint);
      await call(mirrored.api, "settings.update", { hubEndpoint: null });
      mirror.log.splice(0);
      const destination = freshFolder();
      const { outcome } = await download(mirrored.api, { repo: SFT, destination });
      expect(outcome.ok).toBe(true);
      expect(mirror.log).toEqual([]);
      expect(hub.log.length).toBeGreaterThan(0);
    } finally {
      await mirrored.dispose();
      await mirror.close();
    }
  });

  it("a push to the repository while downloading changes nothing: every file comes from the commit it began with", async () => {
    const repo = "Neutralzz/BiLLa-7B-Pushed";
    const first = hub.addRepo(repo, demoReleaseFiles());
    const destination = freshFolder();
    const statuses: DownloadStatus[] = [];
    const watch = new DownloadWatch(services.api, (status) => statuses.push(status));
    const stalled = hub.stallOnce(SHARD, 1_000_000);
    const { downloadId } = await call(services.api, "download.start", { repo, destination });
    await stalled;
    const changed = demoReleaseFiles().map((file) => (file.path === "config.json" ? { ...file, content: Buffer.from('{"model_type": "llama", "changed": true}') } : file));
    const second = hub.push(repo, changed);
    expect(second).not.toBe(first);
    expect((await watch.outcome(downloadId)).ok).toBe(true); // the stalled shard is picked up again after the stall time
    watch.stop();
    expect(differencesFromDemo(destination)).toEqual([]);
    const resolves = hub.log.filter((entry) => entry.url.includes("/resolve/"));
    expect(resolves.every((entry) => entry.url.includes(`/resolve/${first}/`))).toBe(true);
    expect(statuses.at(-1)!.commit).toBe(first);
  });
});
