/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The Models page's Quality view and side-by-side view in Chromium against web mode with the real services, on
// llama.cpp's own F16, Q8_0 and Q4_K_M conversions of the demo model: a measurement started from the page (progress,
// then the chart), the chart in both languages and both themes (screenshots in test/artifacts), and two models'
// answers to the same question in columns.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_ROOT } from "../../src-main/services/app-root.js";
import { createServices } from "../../src-main/services/create-services.js";
import { launchChromium } from "../support/chromium.js";
import { golden, llamaCppGguf } from "../support/demo.js";
import { makeTempDir } from "../support/temp-dir.js";
import { startWebMode, type RunningWebMode } from "../support/web-mode.js";

type Lang = "en" | "zh-CN";
const artifacts = join(APP_ROOT, "test", "artifacts");
const dataDir = makeTempDir("billa-e2e-quality-");
let web: RunningWebMode;
let browser: Browser;

const T = {
  en: { models: "Models", quality: "Quality", compare: "Side by side", measure: "Measure every file", chunks: "Chunks per text", first: "First 1", answer: "Answer side by side", questions: "Questions, one per line", ppl: "Perplexity (lower is better)", kld: "KL divergence from the base (lower is better)" },
  "zh-CN": { models: "模型", quality: "质量", compare: "并排对比", measure: "测量所有文件", chunks: "每篇文本的分块数", first: "前 1 块", answer: "并排回答", questions: "问题，每行一个", ppl: "困惑度（越低越好）", kld: "与基准的 KL 散度（越低越好）" },
} as const;

/** Words that are names, not English: they stay as they are in the Chinese UI. */
const NAMES = new Set(["BiLLa", "KL", "B", "KiB", "MiB", "GiB"]);

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  // The library as a user would have it: three files of the demo model, registered where they are.
  const services = createServices({ dataDir: dataDir.path, transport: "cli", gpu: "cpu" });
  for (const type of ["f16", "q8_0", "q4_k_m"]) {
    const envelope = await services.api.invoke("models.import", { path: llamaCppGguf(type), mode: "register" });
    if (!envelope.ok) throw new Error(envelope.error.message);
  }
  await services.dispose();
  web = await startWebMode(dataDir.path);
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await web?.stop();
  dataDir.remove();
});

async function openModels(lang: Lang): Promise<Page> {
  const context = await browser.newContext({ locale: lang, viewport: { width: 1024, height: 900 } });
  const page = await context.newPage();
  await page.goto(web.url);
  await page.locator("aside select").selectOption(lang);
  await page.waitForFunction((want) => document.documentElement.lang === want, lang);
  await page.getByRole("navigation").getByRole("link", { name: T[lang].models, exact: true }).click();
  return page;
}

async function shoot(page: Page, name: string, lang: Lang): Promise<void> {
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForFunction((want) => document.documentElement.dataset["theme"] === want, scheme);
    await page.screenshot({ path: join(artifacts, `${name}-${lang}-${scheme}.png`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: "light" });
}

async function englishWords(page: Page): Promise<string[]> {
  const text = await page.evaluate(() => {
    const clone = document.querySelector("main")!.cloneNode(true) as HTMLElement;
    for (const element of clone.querySelectorAll('[translate="no"], [lang="en"], script, style, code')) element.remove();
    return clone.textContent ?? "";
  });
  return (text.match(/[A-Za-z][A-Za-z0-9.-]*/g) ?? []).map((word) => word.replace(/[.-]+$/, "")).filter((word) => word && !NAMES.has(word));
}

describe("the Quality and side-by-side views in Chromium", () => {
  it("measures every file of the model from the page and draws size against perplexity and KL divergence (en)", async () => {
    const page = await openModels("en");
    await page.getByRole("button", { name: T.en.quality, exact: true }).click();
    await page.getByTestId("quality-empty").waitFor();
    await page.getByRole("combobox", { name: T.en.chunks }).selectOption({ label: T.en.first });
    await page.getByRole("button", { name: T.en.measure }).click();
    await page.getByTestId("quality-progress").getByRole("progressbar").waitFor();
    await page.getByTestId("quality-done").waitFor({ timeout: 120_000 });
    const charts = page.getByTestId("quality-chart");
    await expect(charts.count()).resolves.toBe(2);
    // Each chart has a point per file and text: 3 files × 2 texts.
    const perplexity = charts.filter({ hasText: T.en.ppl });
    await expect(perplexity.locator("svg circle, svg rect").count()).resolves.toBe(6);
    const kld = charts.filter({ hasText: T.en.kld });
    await expect(kld.locator("svg circle, svg rect").count()).resolves.toBe(6);
    for (const label of ["F16", "Q8_0", "Q4_K_M"]) await expect(perplexity.locator("svg text.point-label", { hasText: label }).count()).resolves.toBe(1);
    // The chart says what it shows to a screen reader too.
    await expect(perplexity.locator("svg desc").textContent()).resolves.toMatch(/Chinese text: .*Q4_K_M/);
    await expect(page.getByTestId("quality-table").locator("tbody tr").count()).resolves.toBe(6);
    await shoot(page, "models-quality", "en");
    // Memory across instead of size.
    await page.getByRole("radio", { name: "Memory" }).check();
    await expect(perplexity.locator("svg text.axis-name").textContent()).resolves.toBe("Memory");
    await page.context().close();
  }, 180_000);

  it("draws the stored measurements in Chinese, in both themes", async () => {
    const page = await openModels("zh-CN");
    await page.getByRole("button", { name: T["zh-CN"].quality, exact: true }).click();
    const perplexity = page.getByTestId("quality-chart").filter({ hasText: T["zh-CN"].ppl });
    await perplexity.locator("svg circle").first().waitFor();
    await expect(perplexity.locator("svg circle, svg rect").count()).resolves.toBe(6);
    await expect(perplexity.locator("svg desc").textContent()).resolves.toContain("中文文本");
    await shoot(page, "models-quality", "zh-CN");
    expect(await englishWords(page), "English on the Chinese Quality view").toEqual([]);
    await page.context().close();
  }, 60_000);

  for (const lang of ["en", "zh-CN"] as const) {
    it(`shows two models' answers to the same question in columns (${lang})`, async () => {
      const c = golden.cases.find((candidate) => candidate.turns.length === 1 && candidate.prompt.includes("17 + 25"))!;
      const page = await openModels(lang);
      await page.getByRole("button", { name: T[lang].compare, exact: true }).click();
      await page.getByRole("checkbox").nth(0).check();
      await page.getByRole("checkbox").nth(2).check();
      await page.getByRole("textbox", { name: T[lang].questions }).fill(`${c.turns[0]!.question}\n请用一句话介绍 BiLLa。`);
      await page.getByRole("button", { name: T[lang].answer }).click();
      await page.locator('[data-format="md"]').waitFor({ timeout: 60_000 });
      const questions = page.getByTestId("compare-question");
      await expect(questions.count()).resolves.toBe(2);
      const answers = questions.first().getByTestId("compare-answer");
      await expect(answers.count()).resolves.toBe(2);
      await expect(answers.first().locator("h4").textContent()).resolves.toContain("F16");
      await expect(answers.nth(1).locator("h4").textContent()).resolves.toContain("Q4_K_M");
      await expect(answers.first().locator(".answer").textContent()).resolves.toBe(c.greedy_text.trim());
      await expect(answers.nth(1).locator(".answer").textContent()).resolves.not.toBe("");
      await shoot(page, "models-side-by-side", lang);
      if (lang === "zh-CN") expect(await englishWords(page), "English on the Chinese side-by-side view").toEqual([]);
      // Exported with the conversation exports.
      const download = page.waitForEvent("download");
      await page.locator('[data-format="md"]').click();
      expect((await download).suggestedFilename()).toMatch(/^billa-comparison-\d{4}-\d{2}-\d{2}\.md$/);
      await page.context().close();
    }, 120_000);
  }
});
