/// <reference lib="dom" />
// Step 1 of the wizard downloading BiLLa's release, in Chromium against web mode whose HF_ENDPOINT is a loopback
// fake of the Hugging Face Hub holding the demo checkpoint. English: plan (files, size, free space), download,
// pause mid-shard, the indicator on another page, resume (Range from N > 0), then on through the wizard to the
// demo's golden answer. Chinese: a gated model refused with a clear message, a download interrupted by a restart
// of the app and offered again after it, and the endpoint setting. Screenshots in both languages and themes.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/chromium.js";
import { DEMO, golden } from "../support/demo.js";
import { DEMO_RELEASE_BYTES, differencesFromDemo, rangeStarts } from "../support/download-api.js";
import { ARTIFACTS, atStep, englishWords, go, openApp, shoot, wizardStep, type Lang } from "../support/e2e-page.js";
import { demoReleaseFiles, FakeHub } from "../support/fake-hub.js";
import { makeTempDir } from "../support/temp-dir.js";
import { startWebMode, type RunningWebMode } from "../support/web-mode.js";

const SFT = "Neutralzz/BiLLa-7B-SFT";
const LLM = "Neutralzz/BiLLa-7B-LLM";
const SHARD = "pytorch_model-2-of-3.bin";
const dataDir = makeTempDir("billa-e2e-download-");
const files = makeTempDir("billa-e2e-download-files-");
let hub: FakeHub;
let web: RunningWebMode;
let browser: Browser;

const T = {
  en: {
    hub: "Download from Hugging Face", destination: "Download into", check: "Check", download: "Download", pause: "Pause", resume: "Resume",
    next: "Next", llama: "Original LLaMA file or folder", start: "Start conversion", files: "8 files", enough: "There is enough room.",
  },
  "zh-CN": {
    hub: "从 Hugging Face 下载", destination: "下载到", check: "检查", download: "开始下载", pause: "暂停", resume: "继续",
    next: "下一步", llama: "原版 LLaMA 文件或文件夹", start: "开始转换", files: "8 个文件", enough: "空间足够。",
  },
} as const;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  hub = await FakeHub.start();
  hub.addRepo(SFT, demoReleaseFiles());
  hub.addRepo(LLM, demoReleaseFiles(), { gatedFor: "hf_granted" });
  web = await startWebMode(dataDir.path, { HF_ENDPOINT: hub.endpoint });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await web?.stop();
  await hub?.close();
  dataDir.remove();
  files.remove();
});

async function chooseDownload(page: Page, lang: Lang, destination: string, repo = SFT): Promise<void> {
  const t = T[lang];
  await go(page, lang, "convert");
  await wizardStep(page).getByRole("radio", { name: t.hub }).check();
  await wizardStep(page).getByRole("radio", { name: new RegExp(repo.split("/")[1]!) }).check();
  await wizardStep(page).getByRole("textbox", { name: t.destination }).fill(destination);
  await wizardStep(page).getByRole("button", { name: t.check, exact: true }).click();
}

async function downloadState(page: Page, state: string): Promise<void> {
  await page.waitForFunction((want) => document.querySelector('[data-testid="download-progress"]')?.getAttribute("data-state") === want, state, { timeout: 30_000 });
}

describe("step 1 downloads BiLLa's release from Hugging Face", () => {
  it("plans, downloads, pauses, shows the indicator elsewhere, resumes from where it stopped, and the result converts and answers (en)", async () => {
    const t = T.en;
    const page = await openApp(browser, web.url, "en");
    const destination = join(files.path, "BiLLa-7B-SFT");
    await chooseDownload(page, "en", destination);
    const plan = page.getByTestId("download-plan");
    await plan.waitFor();
    // The release's size as the page writes sizes (MiB, one decimal).
    expect(await plan.textContent()).toContain(`${t.files}, ${new Intl.NumberFormat("en", { maximumFractionDigits: 1 }).format(DEMO_RELEASE_BYTES / 2 ** 20)} MiB`);
    expect(await page.getByTestId("download-space").textContent()).toContain(t.enough);
    expect(await page.getByTestId("llama-licence").textContent()).toContain("Meta's original LLaMA cannot be downloaded here");
    await shoot(page, "convert-1-download-plan", "en");

    const stalled = hub.stallOnce(SHARD, 1_200_000);
    await wizardStep(page).getByRole("button", { name: t.download, exact: true }).click();
    await stalled;
    await downloadState(page, "running");
    await shoot(page, "convert-1-downloading", "en", { bottom: true });
    await wizardStep(page).getByRole("button", { name: t.pause }).click();
    await downloadState(page, "paused");
    expect(readFileSync(join(destination, ".billa-download", "state.json"), "utf8")).toContain(SFT);

    // The download outlives the page: the indicator shows it on the chat page.
    await go(page, "en", "chat");
    const indicator = page.getByTestId("download-indicator");
    await indicator.waitFor();
    expect(await indicator.getAttribute("data-state")).toBe("paused");
    expect(await indicator.textContent()).toMatch(/Download paused · \d+ %/);
    await shoot(page, "download-indicator", "en");
    await indicator.getByRole("button").click();
    await page.waitForFunction(() => window.location.hash === "#/convert");

    const before = hub.log.length;
    await wizardStep(page).getByRole("button", { name: t.resume }).click();
    // Done, every file checked: the wizard goes on to step 2 by itself, with the downloaded folder.
    await atStep(page, 2, 60_000);
    expect(differencesFromDemo(destination)).toEqual([]);
    const resumedFrom = Math.min(...rangeStarts(hub.log.slice(before), SHARD));
    expect(resumedFrom).toBeGreaterThan(0);
    expect(hub.bytesSent()).toBeLessThan(1.2 * DEMO_RELEASE_BYTES);
    expect(await page.getByTestId("download-indicator").count()).toBe(0);

    await wizardStep(page).getByRole("textbox", { name: t.llama }).fill(DEMO.originalPth);
    await page.getByRole("button", { name: t.next, exact: true }).click();
    await atStep(page, 3);
    await wizardStep(page).getByRole("radio", { name: /^Q8_0\b/ }).check();
    await page.getByRole("button", { name: t.next, exact: true }).click();
    await atStep(page, 4);
    expect(await wizardStep(page).textContent()).toContain(destination);
    await page.getByRole("button", { name: t.start }).click();
    await page.getByTestId("conversion-done").waitFor({ timeout: 60_000 });
    await page.getByRole("button", { name: t.next, exact: true }).click();
    await atStep(page, 5);
    await page.waitForFunction(() => document.querySelector('[data-testid="verify-answer"]')?.getAttribute("aria-busy") === "false", undefined, { timeout: 60_000 });
    expect((await page.getByTestId("verify-answer").textContent())?.trim()).toBe(golden.cases.find((c) => c.prompt.includes("What is 17 + 25?"))!.greedy_text);
    await page.context().close();
  }, 180_000);

  it("says why a gated model is refused, and offers an interrupted download again after a restart of the app (zh-CN)", async () => {
    const t = T["zh-CN"];
    let page = await openApp(browser, web.url, "zh-CN");
    await chooseDownload(page, "zh-CN", join(files.path, "BiLLa-7B-LLM"), LLM);
    const refused = page.getByTestId("download-error");
    await refused.waitFor();
    expect(await refused.textContent()).toContain("Hugging Face 拒绝了访问");
    expect(await refused.textContent()).toContain(`${LLM} is gated (401)`);
    await shoot(page, "convert-1-download-gated", "zh-CN");
    expect(await englishWords(page), "English on the refused download").toEqual([]);

    const destination = join(files.path, "BiLLa-7B-SFT-zh");
    await wizardStep(page).getByRole("radio", { name: /BiLLa-7B-SFT/ }).check();
    await wizardStep(page).getByRole("textbox", { name: t.destination }).fill(destination);
    const stalled = hub.stallOnce(SHARD, 900_000);
    await wizardStep(page).getByRole("button", { name: t.download, exact: true }).click();
    await stalled;
    await downloadState(page, "running");
    await shoot(page, "convert-1-downloading", "zh-CN", { bottom: true });
    expect(await englishWords(page), "English on the running download").toEqual([]);
    await page.context().close();

    // The app quits in the middle of the shard and starts again.
    await web.stop();
    web = await startWebMode(dataDir.path, { HF_ENDPOINT: hub.endpoint });
    page = await openApp(browser, web.url, "zh-CN");
    const indicator = page.getByTestId("download-indicator");
    await indicator.waitFor();
    expect(await indicator.getAttribute("data-state")).toBe("interrupted");
    expect(await indicator.textContent()).toMatch(/下载未完成 · \d+ %/);
    await go(page, "zh-CN", "convert");
    await wizardStep(page).getByRole("radio", { name: t.hub }).check();
    const offer = page.getByTestId("resume-offer");
    await offer.waitFor();
    expect(await offer.textContent()).toContain(destination);
    await shoot(page, "convert-1-download-resume-offer", "zh-CN");
    expect(await englishWords(page), "English on the resume offer").toEqual([]);
    const before = hub.log.length;
    await offer.getByRole("button", { name: t.resume }).click();
    await atStep(page, 2, 60_000);
    expect(differencesFromDemo(destination)).toEqual([]);
    expect(Math.min(...rangeStarts(hub.log.slice(before), SHARD))).toBeGreaterThan(0);

    // The endpoint setting: a mirror is kept across a reload.
    await go(page, "zh-CN", "settings");
    const endpoint = page.getByTestId("hub-endpoint");
    await endpoint.fill("https://hf-mirror.com");
    await endpoint.press("Tab");
    await page.getByText("已保存。").waitFor();
    await page.reload();
    await page.getByTestId("hub-endpoint").waitFor();
    await page.waitForFunction(() => (document.querySelector('[data-testid="hub-endpoint"]') as HTMLInputElement | null)?.value === "https://hf-mirror.com");
    await shoot(page, "settings-hub", "zh-CN", { bottom: true });
    await page.getByTestId("hub-endpoint").fill("");
    await page.getByTestId("hub-endpoint").press("Tab");
    await page.context().close();
  }, 180_000);
});
