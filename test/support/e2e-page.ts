/// <reference lib="dom" />
// What the Chromium tests of the wizard share: opening the app in one language, moving between pages, screenshots
// in the light and the dark theme, and finding UI words left in English on a Chinese page.
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { APP_ROOT } from "../../src-main/services/app-root.js";

export type Lang = "en" | "zh-CN";
export const ARTIFACTS = join(APP_ROOT, "test", "artifacts");

/** Words that are names, not English: they stay as they are in the Chinese UI. */
export const NAMES = new Set(["BiLLa", "LLaMA", "LLaMA-7B", "BiLLa-7B", "GGUF", "CPU", "GPU", "RAM", "VRAM", "PyTorch", "Meta", "Hugging", "Face", "safetensors", "B", "KiB", "MiB", "GiB", "TiB", "GB", "M", "API", "OpenAI", "URL", "CORS", "Open", "WebUI", "LangChain"]);

export const NAV = {
  en: { chat: "Chat", models: "Models", convert: "Convert", settings: "Settings" },
  "zh-CN": { chat: "对话", models: "模型", convert: "转换", settings: "设置" },
} as const;

export async function openApp(browser: Browser, url: string, lang: Lang): Promise<Page> {
  // The smallest window the app supports, so the screenshots show what fits there.
  const context = await browser.newContext({ locale: lang, viewport: { width: 1024, height: 700 } });
  const page = await context.newPage();
  await page.goto(url);
  // Another test may have left a language in the settings: this one asks for its own in the shell's switch.
  await page.locator("aside select").selectOption(lang);
  await page.waitForFunction((want) => document.documentElement.lang === want, lang);
  return page;
}

export async function go(page: Page, lang: Lang, to: keyof (typeof NAV)["en"]): Promise<void> {
  await page.getByRole("navigation").getByRole("link", { name: NAV[lang][to], exact: true }).click();
  await page.waitForFunction((hash) => window.location.hash === hash, `#/${to}`);
}

/** Screenshots the page in the light and the dark theme, through the system's colour scheme ("system" theme). */
export async function shoot(page: Page, name: string, lang: Lang, { bottom = false } = {}): Promise<void> {
  // The page scrolls inside <main>: the top, and for long pages the bottom too.
  const scroll = (to: "top" | "bottom") => page.evaluate((where) => document.querySelector("main")?.scrollTo(0, where === "top" ? 0 : 1e6), to);
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForFunction((want) => document.documentElement.dataset["theme"] === want, scheme);
    await scroll("top");
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${lang}-${scheme}.png`) });
    if (bottom) {
      await scroll("bottom");
      await page.screenshot({ path: join(ARTIFACTS, `${name}-bottom-${lang}-${scheme}.png`) });
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
}

/** Visible UI words left in English on a Chinese page (data is marked translate="no" or lang="en"). */
export async function englishWords(page: Page): Promise<string[]> {
  const text = await page.evaluate(() => {
    const clone = document.body.cloneNode(true) as HTMLElement;
    for (const element of clone.querySelectorAll('[translate="no"], [lang="en"], script, style, code')) element.remove();
    const labels = [...document.querySelectorAll("[aria-label], [title], [placeholder]")]
      .filter((element) => !element.closest('[translate="no"]'))
      .flatMap((element) => ["aria-label", "title", "placeholder"].map((name) => element.getAttribute(name) ?? ""));
    return `${clone.textContent}\n${labels.join("\n")}`;
  });
  return (text.match(/[A-Za-z][A-Za-z0-9.-]*/g) ?? []).map((word) => word.replace(/[.-]+$/, "")).filter((word) => word && !NAMES.has(word));
}

export function wizardStep(page: Page) {
  return page.getByTestId("wizard-step");
}

export async function atStep(page: Page, n: number, timeout = 30_000): Promise<void> {
  await page.waitForFunction((want) => document.querySelector('[data-testid="wizard-step"]')?.getAttribute("data-step") === want, String(n), { timeout });
}
