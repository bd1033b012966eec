/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// A BiLLa GGUF this app did not make: llama.cpp's own convert_hf_to_gguf.py output, with no billa.* keys and no
// chat template, imported on the Models page and chatted with. "Auto" must give it BiLLa's prompt, say why on
// the Models page and in the chat header, and the answers must be the golden ones.
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as chatMessages from "../../src-renderer/src/chat/chat-messages.js";
import * as modelsMessages from "../../src-renderer/src/models/models-messages.js";
import { APP_ROOT } from "../../src-main/services/app-root.js";
import { createServices } from "../../src-main/services/create-services.js";
import { samplingSchema } from "../../src-main/contract/api.js";
import { launchChromium } from "../support/chromium.js";
import { golden, llamaCppGguf } from "../support/demo.js";
import { makeTempDir } from "../support/temp-dir.js";
import { startWebMode, type RunningWebMode } from "../support/web-mode.js";

const dataDir = makeTempDir("billa-e2e-foreign-");
let web: RunningWebMode;
let browser: Browser;
let page: Page;

const t = (key: keyof typeof chatMessages.en | keyof typeof modelsMessages.en, lang: "en" | "zh-CN" = "en"): string => {
  const all = { ...(lang === "en" ? chatMessages.en : chatMessages.zhCN), ...(lang === "en" ? modelsMessages.en : modelsMessages.zhCN) } as Record<string, string>;
  return all[key]!;
};
const resolvedText = (lang: "en" | "zh-CN") =>
  t("models.promptFormat.resolved", lang).replace("{format}", t("models.promptFormat.format.billa", lang)).replace("{reason}", t("models.promptFormat.reason.noTemplate", lang));

beforeAll(async () => {
  // New conversations answer greedily, so the answers can be compared with the golden ones.
  const services = createServices({ dataDir: dataDir.path, transport: "web" });
  await services.api.invoke("settings.update", { sampling: { ...samplingSchema.parse({}), temperature: 0 } });
  await services.dispose();
  web = await startWebMode(dataDir.path);
  browser = await launchChromium();
  page = await (await browser.newContext({ locale: "en", viewport: { width: 1100, height: 720 } })).newPage();
  await page.goto(web.url);
  await page.locator("aside select").selectOption("en");
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await web?.stop();
  dataDir.remove();
});

describe("a GGUF made by llama.cpp's converter", () => {
  it("is imported with BiLLa's prompt format, and the Models page says why, in both languages", async () => {
    await page.getByRole("navigation").getByRole("link", { name: "Models", exact: true }).click();
    await page.getByRole("textbox", { name: t("models.import.path") }).fill(llamaCppGguf("f16"));
    await page.getByRole("radio", { name: t("models.import.register") }).check();
    await page.getByRole("button", { name: t("models.import.button") }).click();
    const card = page.getByRole("article").filter({ has: page.getByText(llamaCppGguf("f16"), { exact: true }) });
    await card.waitFor({ timeout: 30_000 });
    await expect.poll(() => card.getByTestId("prompt-format-resolved").textContent()).toBe(resolvedText("en"));
    await card.screenshot({ path: join(APP_ROOT, "test", "artifacts", "models-foreign-gguf-card-en-light.png") });

    await page.locator("aside select").selectOption("zh-CN");
    await expect.poll(() => card.getByTestId("prompt-format-resolved").textContent()).toBe(resolvedText("zh-CN"));
    await page.locator("aside select").selectOption("en");
  }, 60_000);

  it("answers the golden questions, single-turn and two-turn, and the chat header names the format", async () => {
    await page.getByRole("navigation").getByRole("link", { name: "Chat", exact: true }).click();
    const box = page.getByRole("textbox", { name: t("chat.message"), exact: true });
    const answers = page.getByTestId("answer");
    const finished = async (count: number) => {
      await expect.poll(() => answers.count(), { timeout: 60_000 }).toBe(count);
      await expect.poll(() => answers.last().getByRole("button", { name: t("chat.regenerate") }).isEnabled(), { timeout: 60_000 }).toBe(true);
      return ((await answers.last().locator(".markdown").textContent()) ?? "").trim();
    };
    const ask = async (question: string) => {
      await box.fill(question);
      await box.press("Enter");
    };

    const single = golden.cases.find((c) => c.turns.length === 1)!;
    await ask(single.turns[0]!.question);
    expect(await finished(1)).toBe(single.greedy_text.trim());

    await page.getByRole("button", { name: t("chat.newChat") }).first().click();
    const dialogue = golden.cases.find((c) => c.turns.length === 2)!;
    await ask(dialogue.turns[0]!.question);
    expect(await finished(1)).toBe(dialogue.turns[0]!.answer);
    await ask(dialogue.turns[1]!.question);
    expect(await finished(2)).toBe(dialogue.greedy_text.trim());
    expect(await page.getByTestId("conversation-prompt-format").textContent()).toContain(resolvedText("en"));
  }, 120_000);
});
