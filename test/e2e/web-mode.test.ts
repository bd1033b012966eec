/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// End to end: `npm run web`'s server, driven in Debian's Chromium. Screenshots go to test/artifacts/.
import { mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_ROOT } from "../../src-main/services/app-root.js";
import { launchChromium } from "../support/chromium.js";
import { NAMES } from "../support/e2e-page.js";
import { makeTempDir } from "../support/temp-dir.js";
import { startWebMode, type RunningWebMode } from "../support/web-mode.js";

const artifacts = join(APP_ROOT, "test", "artifacts");
const pages = [
  { hash: "#/chat", en: "Chat", zh: "对话" },
  { hash: "#/models", en: "Models", zh: "模型" },
  { hash: "#/convert", en: "Convert", zh: "转换" },
  { hash: "#/settings", en: "Settings", zh: "设置" },
] as const;


const dataDir = makeTempDir("billa-e2e-");
let web: RunningWebMode;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  web = await startWebMode(dataDir.path);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await web?.stop();
  dataDir.remove();
});

async function openApp(locale: string): Promise<Page> {
  const context = await browser.newContext({ locale, viewport: { width: 1100, height: 720 } });
  const page = await context.newPage();
  await page.goto(web.url);
  return page;
}

/** Visible text of the page, without data values and language names (marked translate="no" or lang="en"). */
function visibleUiText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const clone = document.body.cloneNode(true) as HTMLElement;
    for (const element of clone.querySelectorAll('[translate="no"], [lang="en"], script, style')) element.remove();
    // Labels of data fields (marked translate="no", e.g. an example address as placeholder) are data too.
    const labels = [...document.querySelectorAll("[aria-label], [title], [placeholder]")]
      .filter((element) => !element.closest('[translate="no"]'))
      .flatMap((element) => ["aria-label", "title", "placeholder"].map((name) => element.getAttribute(name) ?? ""));
    return `${clone.innerText}\n${labels.join("\n")}`;
  });
}

describe("web mode in Chromium", () => {
  it("shows the shell with English navigation and takes the token out of the address bar", async () => {
    const page = await openApp("en-US");
    const nav = page.getByRole("navigation");
    for (const { en } of pages) await expect(nav.getByRole("link", { name: en, exact: true }).isVisible()).resolves.toBe(true);
    expect(page.url()).not.toContain("token");
    await page.reload();
    await expect(nav.getByRole("link", { name: "Chat", exact: true }).isVisible()).resolves.toBe(true);
    await page.context().close();
  });

  it("shows real system info from node-llama-cpp on the Settings page", async () => {
    const page = await openApp("en-US");
    await page.getByRole("navigation").getByRole("link", { name: "Settings" }).click();
    const cpu = page.getByTestId("system-cpu");
    await cpu.waitFor();
    expect(await cpu.textContent()).toBe(cpus()[0]!.model.trim());
    expect(await page.getByTestId("system-versions").textContent()).toMatch(/node-llama-cpp \d+\.\d+\.\d+ · llama\.cpp \S+/);
    expect(await page.getByTestId("data-dir").textContent()).toBe(dataDir.path);
    await page.context().close();
  });

  it("screenshots every page in English and Chinese, with no English left in Chinese mode", async () => {
    const page = await openApp("en-US");
    for (const { hash, en } of pages) {
      await page.getByRole("navigation").getByRole("link", { name: en, exact: true }).click();
      expect(page.url()).toContain(hash);
      if (hash === "#/settings") await page.getByTestId("system-cpu").waitFor();
      await page.screenshot({ path: join(artifacts, `${hash.slice(2)}-en.png`) });
    }
    await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
    for (const { hash, zh } of pages) {
      await page.getByRole("navigation").getByRole("link", { name: zh, exact: true }).click();
      if (hash === "#/settings") await page.getByTestId("system-cpu").waitFor();
      await page.screenshot({ path: join(artifacts, `${hash.slice(2)}-zh-CN.png`) });
      const words = (await visibleUiText(page)).match(/[A-Za-z][A-Za-z.-]*/g) ?? [];
      const english = words.filter((word) => !NAMES.has(word));
      expect(english, `English on ${hash} in Chinese mode`).toEqual([]);
    }
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("zh-CN");
    await page.context().close();
  });

  it("starts in Chinese when the system language is Chinese, and remembers a switch", async () => {
    const page = await openApp("zh-CN");
    const nav = page.getByRole("navigation");
    await expect(nav.getByRole("link", { name: "对话" }).isVisible()).resolves.toBe(true);
    await page.getByRole("combobox", { name: "语言" }).selectOption("en");
    await page.reload();
    await expect(nav.getByRole("link", { name: "Chat", exact: true }).isVisible()).resolves.toBe(true);
    await page.context().close();
  });

  it("explains what to open when the page has no token", async () => {
    const context = await browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    await page.goto(new URL(web.url).origin);
    await expect(page.getByRole("alert").textContent()).resolves.toContain("npm run web");
    await context.close();
  });
});
