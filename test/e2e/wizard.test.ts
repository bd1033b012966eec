/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// End to end in Chromium against web mode with the real services: the conversion wizard on the demo
// checkpoint (released + the stand-in for Meta's LLaMA) from folder to chat, in English and Chinese; wrong
// LLaMA files refused in step 2; the Models page importing by path, loading and unloading; the Settings
// theme switch; step 5's quality measurement. Every page and wizard step is screenshotted in both languages, light
// and dark.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/chromium.js";
import { DEMO, golden } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { ARTIFACTS, atStep, englishWords, go, openApp as openAppIn, shoot, wizardStep as step, type Lang } from "../support/e2e-page.js";
import { makeTempDir } from "../support/temp-dir.js";
import { startWebMode, type RunningWebMode } from "../support/web-mode.js";

const dataDir = makeTempDir("billa-e2e-wizard-");
const files = makeTempDir("billa-e2e-wizard-files-");
let web: RunningWebMode;
let browser: Browser;
let demoGguf: string;

const T = {
  en: {
    next: "Next", back: "Back", check: "Check", start: "Start conversion", chat: "Start chatting",
    folder: "BiLLa folder", llama: "Original LLaMA file or folder", nav: { chat: "Chat", models: "Models", convert: "Convert", settings: "Settings" },
    notOriginal: "not the original LLaMA", notCheckpoint: "This is not a LLaMA checkpoint", path: "Model file path", import: "Import model", load: "Load", unload: "Unload", register: "Use it where it is",
    theme: "Theme", dark: "Dark", light: "Light", system: "System", measure: "Measure quality",
  },
  "zh-CN": {
    next: "下一步", back: "上一步", check: "检查", start: "开始转换", chat: "开始对话",
    folder: "BiLLa 文件夹", llama: "原版 LLaMA 文件或文件夹", nav: { chat: "对话", models: "模型", convert: "转换", settings: "设置" },
    notOriginal: "不是原版 LLaMA", notCheckpoint: "这不是 LLaMA 检查点", path: "模型文件路径", import: "导入模型", load: "加载", unload: "卸载", register: "保留在原位置使用",
    theme: "主题", dark: "深色", light: "浅色", system: "跟随系统", measure: "测量质量",
  },
} as const;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  demoGguf = await makeDemoGguf(files.path, "q8_0");
  web = await startWebMode(dataDir.path);
  browser = await launchChromium();
}, 120_000);
const openApp = (lang: Lang) => openAppIn(browser, web.url, lang);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  dataDir.remove();
  files.remove();
});

async function runWizard(lang: Lang, outType: "Q8_0" | "F16"): Promise<void> {
  const t = T[lang];
  const page = await openApp(lang);
  await go(page, lang, "convert");

  // 1: the released folder, and what was found in it.
  await step(page).getByRole("textbox", { name: t.folder }).fill(DEMO.released);
  await step(page).getByRole("button", { name: t.check }).click();
  await page.getByTestId("folder-findings").getByText(/PyTorch/).waitFor();
  await shoot(page, "convert-1-folder", lang);
  if (lang === "zh-CN") expect(await englishWords(page), "English on step 1").toEqual([]);
  await page.getByRole("button", { name: t.next, exact: true }).click();
  await atStep(page, 2);

  // 2: a text file and the restored BiLLa are refused with a clear reason; the real one passes.
  const notes = join(files.path, `notes-${lang}.txt`);
  writeFileSync(notes, "These are notes, not weights.");
  const llamaField = step(page).getByRole("textbox", { name: t.llama });
  await llamaField.fill(notes);
  await page.getByRole("button", { name: t.next, exact: true }).click();
  await expect(step(page).getByTestId("step-error").textContent()).resolves.toContain(t.notCheckpoint);
  await llamaField.fill(join(DEMO.restored, "model.safetensors"));
  await page.getByRole("button", { name: t.next, exact: true }).click();
  await step(page).getByTestId("step-error").getByText(t.notOriginal, { exact: false }).waitFor();
  await shoot(page, "convert-2-llama-error", lang);
  if (lang === "zh-CN") expect(await englishWords(page), "English on step 2's error").toEqual([]);
  expect(await step(page).getAttribute("data-step")).toBe("2");
  await llamaField.fill(DEMO.originalPth);
  await step(page).getByRole("button", { name: t.check }).click();
  await page.getByTestId("llama-findings").waitFor();
  await shoot(page, "convert-2-llama", lang);
  await page.getByRole("button", { name: t.next, exact: true }).click();
  await atStep(page, 3);

  // 3: the output type; each shows its file size and memory.
  await step(page).getByRole("radio", { name: new RegExp(`^${outType}\\b`) }).check();
  await shoot(page, "convert-3-output", lang, { bottom: true });
  if (lang === "zh-CN") expect(await englishWords(page), "English on step 3").toEqual([]);
  await page.getByRole("button", { name: t.next, exact: true }).click();
  await atStep(page, 4);

  // 4: run.
  await shoot(page, "convert-4-ready", lang);
  await page.getByRole("button", { name: t.start }).click();
  await page.getByTestId("conversion-done").waitFor({ timeout: 60_000 });
  await page.locator("details.log summary").click();
  await shoot(page, "convert-4-done", lang);
  if (lang === "zh-CN") expect(await englishWords(page), "English on step 4").toEqual([]);
  await page.getByRole("button", { name: t.next, exact: true }).click();
  await atStep(page, 5);

  // 5: the new model answers the test question; then on to a chat with it.
  const answer = page.getByTestId("verify-answer");
  await page.waitForFunction(() => document.querySelector('[data-testid="verify-answer"]')?.getAttribute("aria-busy") === "false", undefined, { timeout: 60_000 });
  const text = (await answer.textContent())?.trim() ?? "";
  expect(text.length).toBeGreaterThan(0);
  if (lang === "en") expect(text).toBe(golden.cases.find((c) => c.prompt.includes("What is 17 + 25?"))!.greedy_text);
  else expect(text).toBe(golden.cases.find((c) => c.prompt.includes("请用一句话介绍 BiLLa。"))!.greedy_text);
  await shoot(page, "convert-5-verify", lang);
  if (lang === "zh-CN") expect(await englishWords(page), "English on step 5").toEqual([]);
  // A short quality run on the new file: perplexity on both texts, with a progress bar while it runs.
  await step(page).getByRole("button", { name: t.measure, exact: true }).click();
  await page.getByTestId("verify-quality").waitFor({ timeout: 120_000 });
  await expect(page.getByTestId("verify-quality").locator("li").count()).resolves.toBe(2);
  await shoot(page, "convert-5-quality", lang, { bottom: true });
  await page.getByRole("button", { name: t.chat }).click();
  await page.waitForFunction(() => window.location.hash === "#/chat");
  await expect(page.getByRole("navigation").getByRole("link", { name: t.nav.chat, exact: true }).getAttribute("aria-current")).resolves.toBe("page");
  await page.context().close();
}

describe("the conversion wizard, models and settings in Chromium", () => {
  it("converts the demo checkpoint step by step and starts a chat with it, in English", async () => {
    await runWizard("en", "Q8_0");
  }, 180_000);

  it("does the same in Chinese", async () => {
    await runWizard("zh-CN", "F16");
  }, 180_000);

  for (const lang of ["en", "zh-CN"] as const) {
    it(`imports a model by path, loads and unloads it (${lang})`, async () => {
      const t = T[lang];
      const page = await openApp(lang);
      await go(page, lang, "models");
      await page.getByRole("textbox", { name: t.path }).fill(demoGguf);
      // English copies the file into the library; Chinese registers it where it is (shown by its path).
      if (lang === "zh-CN") await page.getByRole("radio", { name: t.register }).check();
      await page.getByRole("button", { name: t.import }).click();
      const card =
        lang === "en"
          ? page.getByRole("article").filter({ has: page.getByRole("heading", { name: "BiLLa demo", exact: true }) })
          : page.getByRole("article").filter({ has: page.getByText(demoGguf, { exact: true }) });
      await card.waitFor({ timeout: 30_000 });
      await card.getByTestId("fit-badge").waitFor({ timeout: 30_000 });
      await card.getByRole("button", { name: t.load, exact: true }).click();
      await card.getByRole("button", { name: t.unload, exact: true }).waitFor({ timeout: 30_000 });
      await shoot(page, "models", lang, { bottom: true });
      if (lang === "zh-CN") expect(await englishWords(page), "English on the Models page").toEqual([]);
      await card.getByRole("button", { name: t.unload, exact: true }).click();
      await card.getByRole("button", { name: t.load, exact: true }).waitFor({ timeout: 30_000 });
      await page.context().close();
    }, 120_000);

    it(`switches the theme on the Settings page (${lang})`, async () => {
      const t = T[lang];
      const page = await openApp(lang);
      await go(page, lang, "settings");
      await page.getByTestId("system-cpu").waitFor();
      await shoot(page, "settings", lang, { bottom: true });
      if (lang === "zh-CN") expect(await englishWords(page), "English on the Settings page").toEqual([]);
      const theme = page.getByRole("group", { name: t.theme });
      await theme.getByRole("radio", { name: t.dark }).check();
      await page.waitForFunction(() => document.documentElement.dataset["theme"] === "dark");
      // The dark theme holds whatever the system says, and survives a reload.
      await page.emulateMedia({ colorScheme: "light" });
      await page.reload();
      await page.waitForFunction(() => document.documentElement.dataset["theme"] === "dark");
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(background).toBe("rgb(27, 28, 30)");
      await page.getByRole("group", { name: t.theme }).getByRole("radio", { name: t.light }).check();
      await page.waitForFunction(() => document.documentElement.dataset["theme"] === "light");
      await page.getByRole("group", { name: t.theme }).getByRole("radio", { name: t.system }).check();
      await page.context().close();
    }, 60_000);
  }
});
