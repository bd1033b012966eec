/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The chat page end to end, in English and in Chinese: `npm run web`'s server with the real services and
// the real demo model, driven in Debian's Chromium. Each language gets its own data folder and server.
// First run → "Try the demo model" → a golden question answered greedily → stop mid-answer → regenerate →
// restart the host → the history is still there → search → export; hostile model output renders as text.
// Screenshots go to test/artifacts/.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { HistoryExport, Message, Sampling } from "../../src-main/contract/api.js";
import { APP_ROOT } from "../../src-main/services/app-root.js";
import { createServices } from "../../src-main/services/create-services.js";
import * as chatMessages from "../../src-renderer/src/chat/chat-messages.js";
import { writeSyntheticLlamaGguf } from "../../bench/support/synthetic-gguf.js";
import { launchChromium } from "../support/chromium.js";
import { golden } from "../support/demo.js";
import { makeTempDir } from "../support/temp-dir.js";
import { startWebMode, type RunningWebMode } from "../support/web-mode.js";

const artifacts = join(APP_ROOT, "test", "artifacts");
const caseOf = (id: string) => golden.cases.find((entry) => entry.id === id)!;
const questionOf = (id: string) => caseOf(id).prompt.replace(/^Human: /, "").replace(/\nAssistant: $/, "");
const SAMPLING: Sampling = { temperature: 0.7, topK: 50, topP: 1, minP: 0, repeatPenalty: null, seed: null, maxTokens: 1024 };

const HOSTILE = 'Watch this: <img src=x onerror="window.pwned=1"> and <script>window.pwned=2</script>. [Click](javascript:window.pwned=3) ![tracker](https://example.com/pixel.png)';
const SHOWCASE = {
  en: [
    "Here is a **Markdown** answer with code and math.",
    "",
    "```python",
    "def circle_area(r: float) -> float:",
    "    # π r², rounded for display",
    "    return round(3.14159 * r ** 2, 2)",
    "```",
    "",
    "Euler's identity $e^{i\\pi} + 1 = 0$ and the integral:",
    "",
    "$$",
    "\\int_0^1 x^2\\,dx = \\frac{1}{3}",
    "$$",
    "",
    "1. Blue melon",
    "2. Star plum with `inline code`",
    "",
    "> Zorbia's sky is pale green.",
  ].join("\n"),
  "zh-CN": [
    "这是一个带有**代码**和**公式**的回答。",
    "",
    "```python",
    "def circle_area(r: float) -> float:",
    "    # 圆的面积",
    "    return round(3.14159 * r ** 2, 2)",
    "```",
    "",
    "欧拉恒等式 $e^{i\\pi} + 1 = 0$，以及积分：",
    "",
    "$$",
    "\\int_0^1 x^2\\,dx = \\frac{1}{3}",
    "$$",
    "",
    "1. 蓝瓜",
    "2. 星李，还有 `行内代码`",
    "",
    "> 佐比亚的天空是淡绿色的。",
  ].join("\n"),
};

type Locale = "en" | "zh-CN";
const LANGUAGES: { locale: Locale; golden: string; search: string }[] = [
  { locale: "en", golden: "zorbia-capital", search: "Quellon" },
  { locale: "zh-CN", golden: "zorbia-capital-zh", search: "奎隆" },
];
/** A longer golden answer (36 tokens, streamed over most of a second here): time to press Stop mid-way. */
/** A model with random weights, for an answer that is still streaming when it is stopped. */
const ENDLESS_MODEL = "Random weights";
const ENDLESS_QUESTION: Record<Locale, string> = { en: "Keep talking, please.", "zh-CN": "请一直说下去。" };

/** Two conversations written before the host starts, through the real services on the same data folder. */
async function seed(dataDir: string, locale: Locale): Promise<void> {
  const now = Date.now();
  const at = (offset: number) => new Date(now - 60_000 + offset).toISOString();
  const message = (conversationId: string, id: string, parentId: string | null, role: Message["role"], text: string, offset: number): Message => ({
    id,
    conversationId,
    parentId,
    role,
    text,
    status: "complete",
    error: null,
    stats: role === "assistant" ? { promptTokens: 20, reusedPromptTokens: 0, newTokens: 120, timeToFirstTokenMs: 85, tokensPerSecond: 42.5, stopReason: "eos", droppedTurns: 0 } : null,
    model: role === "assistant" ? "BiLLa demo" : null,
    createdAt: at(offset),
    updatedAt: at(offset),
  });
  const conversation = (id: string, title: string, question: string, answer: string, offset: number) => ({
    id,
    title,
    modelId: null,
    sampling: SAMPLING,
    currentMessageId: `${id}-a`,
    pinned: false,
    archived: false,
    deletedAt: null,
    source: "app" as const,
    createdAt: at(offset),
    updatedAt: at(offset),
    messages: [message(id, `${id}-q`, null, "user", question, offset), message(id, `${id}-a`, `${id}-q`, "assistant", answer, offset + 1)],
  });
  const data: HistoryExport = {
    format: "billa-desktop-history",
    version: 1,
    conversations: [
      conversation("hostile", "Hostile answer", "Say something dangerous", HOSTILE, 0),
      conversation("showcase", locale === "en" ? "Markdown, code and math" : "代码与公式", locale === "en" ? "Show me code and math" : "给我看看代码和公式", SHOWCASE[locale], 10),
    ],
  };
  const services = createServices({ dataDir, transport: "web" });
  try {
    const envelope = await services.api.invoke("history.import", { content: JSON.stringify(data) });
    if (!envelope.ok) throw new Error(envelope.error.message);
  } finally {
    await services.dispose();
  }
}

let browser: Browser;
beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

for (const language of LANGUAGES) {
  const { locale } = language;
  const dictionary = locale === "en" ? chatMessages.en : chatMessages.zhCN;
  const t = (key: keyof typeof chatMessages.en) => dictionary[key];

  describe(`the chat page in ${locale}`, () => {
    const dataDir = makeTempDir("billa-e2e-chat-");
    let web: RunningWebMode;
    let context: BrowserContext;
    let page: Page;
    /** Addresses other than this host's that the page asked for, and CSP violations it reported. */
    const remoteRequests: string[] = [];
    /** The text the stopped answer kept, to find again after the restart. */
    let stoppedText = "";
    const cspViolations: string[] = [];

    async function openPage(): Promise<void> {
      await context?.close();
      context = await browser.newContext({ locale, viewport: { width: 1100, height: 720 }, acceptDownloads: true });
      page = await context.newPage();
      page.on("request", (request) => {
        const url = new URL(request.url());
        if (!["127.0.0.1", "localhost"].includes(url.hostname) && !["blob:", "data:"].includes(url.protocol)) remoteRequests.push(request.url());
      });
      page.on("console", (message) => {
        if (/Content[- ]Security[- ]Policy/i.test(message.text())) cspViolations.push(message.text());
      });
      await page.goto(web.url);
    }

    const messageBox = () => page.getByRole("textbox", { name: t("chat.message"), exact: true });
    const answers = () => page.getByTestId("answer");
    const lastAnswer = () => answers().last();
    const answerText = async (answer = lastAnswer()) => ((await answer.locator(".markdown").textContent()) ?? "").trim();
    const sidebar = () => page.getByRole("navigation", { name: t("chat.conversations") });

    /** Waits until the last answer has ended and its request returned (Regenerate is enabled). */
    async function finishedAnswer(count: number): Promise<void> {
      await expect.poll(() => answers().count(), { timeout: 60_000 }).toBe(count);
      await lastAnswer().getByRole("button", { name: t("chat.regenerate") }).waitFor({ timeout: 60_000 });
      await expect.poll(() => lastAnswer().getByRole("button", { name: t("chat.regenerate") }).isEnabled(), { timeout: 60_000 }).toBe(true);
    }

    async function ask(text: string): Promise<void> {
      await messageBox().fill(text);
      await messageBox().press("Enter");
    }

    async function setTemperatureZero(): Promise<void> {
      await page.getByRole("button", { name: t("chat.settings") }).click();
      await page.getByRole("spinbutton", { name: t("chat.temperature") }).fill("0");
      await page.getByRole("button", { name: t("chat.save"), exact: true }).click();
      await page.getByText(t("chat.settingsSaved")).waitFor();
      await page.getByRole("button", { name: t("chat.close"), exact: true }).click();
    }

    async function screenshot(name: string): Promise<void> {
      for (const colorScheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme });
        await page.screenshot({ path: join(artifacts, `chat-${name}-${locale}-${colorScheme}.png`) });
      }
      await page.emulateMedia({ colorScheme: "light" });
    }

    /** Opens a conversation from the sidebar and waits until it is the one on screen. */
    async function openConversation(title: string): Promise<void> {
      await sidebar().getByRole("button", { name: title }).first().click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(title);
    }

    beforeAll(async () => {
      await seed(dataDir.path, locale);
      web = await startWebMode(dataDir.path);
      await openPage();
    }, 120_000);
    // A failed step leaves a picture of the page behind, and what the page last said.
    afterEach(async ({ task }) => {
      if (task.result?.state !== "fail" || !page) return;
      await page.screenshot({ path: join(artifacts, `chat-failed-${locale}-${task.name.slice(0, 40).replace(/\W+/g, "-")}.png`) }).catch(() => undefined);
      console.error(`[${locale}] page text at failure:\n${await page.locator("body").innerText().catch(() => "?")}\n--- host output:\n${web?.output().slice(-3000)}`);
    });
    afterAll(async () => {
      await context?.close();
      await web?.stop();
      dataDir.remove();
    });

    it("first run: the demo model converts and a conversation opens with the focus in the message box", async () => {
      const demo = page.getByRole("button", { name: t("chat.tryDemo"), exact: true });
      await demo.waitFor();
      expect(await page.getByRole("link", { name: t("chat.openConvert") }).getAttribute("href")).toBe("#/convert");
      await screenshot("first-run");
      await demo.click();
      await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label")), { timeout: 60_000 }).toBe(t("chat.message"));
    }, 120_000);

    it("answers a golden question with the demo model's greedy text at temperature 0", async () => {
      await setTemperatureZero();
      await ask(questionOf(language.golden));
      await finishedAnswer(1);
      expect(await answerText()).toBe(caseOf(language.golden).greedy_text);
      expect(await lastAnswer().getByTestId("answer-stats").textContent()).toContain(t("chat.stop.eos"));
    }, 120_000);

    it("stops mid-answer and keeps the partial text, marked interrupted", async () => {
      // The demo model finishes its answers in milliseconds; a model with random weights rarely says EOS, so
      // its answer is still streaming when Stop is clicked. It is added to the library beside the running host.
      const modelPath = join(dataDir.path, "random-weights.gguf");
      await writeSyntheticLlamaGguf(modelPath, { hidden: 128, layers: 2, heads: 2, intermediate: 256, vocab: 960, outType: "q8_0" });
      const services = createServices({ dataDir: dataDir.path, transport: "cli" });
      const entry = await services.api.invoke("models.import", { path: modelPath, mode: "register" });
      if (entry.ok) await services.api.invoke("models.rename", { id: (entry.value as { id: string }).id, name: ENDLESS_MODEL });
      await services.dispose();
      await openPage();

      await page.getByRole("button", { name: t("chat.newChat") }).click();
      await expect.poll(() => answers().count()).toBe(0);
      await page.getByRole("button", { name: t("chat.settings") }).click();
      await page.getByRole("combobox", { name: t("chat.model") }).selectOption({ label: ENDLESS_MODEL });
      await page.getByRole("spinbutton", { name: t("chat.maxTokens") }).fill("4000");
      await page.getByRole("button", { name: t("chat.save"), exact: true }).click();
      await page.getByText(t("chat.settingsSaved")).waitFor();
      await page.getByRole("button", { name: t("chat.close"), exact: true }).click();
      // Stop as soon as the first words are on screen. Random weights still say EOS now and then (about one
      // token in a thousand), and on a busy machine the answer may end before the click lands: then ask again.
      for (let attempt = 1; ; attempt++) {
        await ask(ENDLESS_QUESTION[locale]);
        await expect.poll(() => answers().count(), { timeout: 30_000 }).toBe(attempt);
        await page.waitForFunction(() => ([...document.querySelectorAll('[data-testid="answer"] .markdown')].at(-1)?.textContent ?? "").trim().length > 0, null, { polling: "raf", timeout: 60_000 });
        await page.getByRole("button", { name: t("chat.stop"), exact: true }).click({ timeout: 5_000 }).catch(() => undefined);
        await expect.poll(() => lastAnswer().getAttribute("data-status"), { timeout: 30_000 }).not.toBe("streaming");
        if ((await lastAnswer().getAttribute("data-status")) === "interrupted" || attempt === 3) break;
      }
      expect(await lastAnswer().getAttribute("data-status")).toBe("interrupted");
      stoppedText = await answerText();
      expect(stoppedText.length).toBeGreaterThan(0);
      expect(await lastAnswer().getByTestId("interrupted").textContent()).toBe(t("chat.interrupted"));
      const stats = await lastAnswer().getByTestId("answer-stats").textContent();
      expect(stats).toContain(t("chat.stop.stopped"));
    }, 120_000);

    it("regenerates the golden answer: alternatives ‹ 1/2 ›", async () => {
      await openConversation(questionOf(language.golden));
      await finishedAnswer(1);
      await lastAnswer().getByRole("button", { name: t("chat.regenerate") }).click();
      await expect.poll(() => lastAnswer().getByTestId("alternative-position").textContent(), { timeout: 60_000 }).toBe("2/2");
      await finishedAnswer(1);
      expect(await answerText()).toBe(caseOf(language.golden).greedy_text);
      await lastAnswer().getByRole("button", { name: t("chat.previousAlternative") }).click();
      await expect.poll(() => lastAnswer().getByTestId("alternative-position").textContent()).toBe("1/2");
    }, 120_000);

    it("renders Markdown, highlighted code and KaTeX math under the page's CSP", async () => {
      await openConversation(locale === "en" ? "Markdown, code and math" : "代码与公式");
      const answer = lastAnswer();
      await answer.locator(".katex").first().waitFor();
      expect(await answer.locator(".code-block .hljs-keyword").count()).toBeGreaterThan(0);
      await screenshot("markdown");
      const copy = answer.getByRole("button", { name: t("chat.copyCode") });
      expect(await copy.count()).toBe(1);
      await context.grantPermissions(["clipboard-read", "clipboard-write"]);
      await copy.click();
      await expect.poll(() => answer.locator(".code-copy").textContent()).toBe(t("chat.copied"));
      const code = SHOWCASE[locale].split("```python\n")[1]!.split("```")[0];
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);
      expect(await answer.locator(".katex-display").count()).toBe(1);
      // KaTeX's sizes reach the page through CSSOM: the struts have their heights, and no CSP report.
      const heights = await answer.locator(".katex .katex-strut").evaluateAll((struts) => struts.map((strut) => (strut as HTMLElement).style.height));
      expect(heights.length).toBeGreaterThan(0);
      expect(heights.every((height) => height.endsWith("em"))).toBe(true);
      expect(cspViolations).toEqual([]);

      // The smallest window it is made for: everything fits, nothing scrolls sideways.
      await page.setViewportSize({ width: 1024, height: 700 });
      const box = await messageBox().boundingBox();
      expect(box!.y + box!.height).toBeLessThanOrEqual(700);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1024);
      expect(await page.getByRole("button", { name: t("chat.export"), exact: true }).isVisible()).toBe(true);
      await page.screenshot({ path: join(artifacts, `chat-markdown-${locale}-1024x700.png`) });
      await page.setViewportSize({ width: 1100, height: 720 });
    }, 60_000);

    it("shows an answer holding <img onerror> and <script> as text and runs nothing", async () => {
      await openConversation("Hostile answer");
      const answer = lastAnswer();
      await answer.locator(".markdown").waitFor();
      // Runs nothing, and tries nothing: every image the page holds has loaded or failed by now, so an onerror
      // that got through would have run, or (blocked by the page's CSP) been reported as a violation.
      await page.waitForFunction(() => [...document.images].every((image) => image.complete));
      expect(await page.evaluate(() => (window as { pwned?: unknown }).pwned)).toBeUndefined();
      expect(cspViolations).toEqual([]);
      expect(await answerText(answer)).toContain('<img src=x onerror="window.pwned=1">');
      expect(await answerText(answer)).toContain("<script>window.pwned=2</script>");
      expect(await answer.locator(".markdown img, .markdown script").count()).toBe(0);
      expect(await answer.locator('.markdown a[href^="javascript"]').count()).toBe(0);
      // The javascript: link is no link at all, and the remote picture is only a link to it.
      expect(await answerText(answer)).toContain("[Click](javascript:window.pwned=3)");
      expect(await answer.locator(".markdown a").evaluateAll((links) => links.map((link) => link.getAttribute("href")))).toEqual(["https://example.com/pixel.png"]);
      expect(remoteRequests).toEqual([]);
    }, 60_000);

    it("keeps the history across a restart of the host, and search finds it", async () => {
      await web.stop();
      web = await startWebMode(dataDir.path);
      await openPage();
      await openConversation(questionOf(language.golden));
      await expect.poll(() => answers().count(), { timeout: 30_000 }).toBe(1);
      expect(await answerText()).toBe(caseOf(language.golden).greedy_text);
      expect(await lastAnswer().getByTestId("alternative-position").textContent()).toBe("1/2");
      // The stopped answer kept its text and its mark.
      await openConversation(ENDLESS_QUESTION[locale]);
      await expect.poll(() => lastAnswer().getAttribute("data-status"), { timeout: 30_000 }).toBe("interrupted");
      expect(await answerText()).toBe(stoppedText);

      await page.keyboard.press("Control+K");
      const search = page.getByRole("searchbox", { name: t("chat.search") });
      await expect.poll(() => search.evaluate((element) => element === document.activeElement)).toBe(true);
      await search.fill(language.search);
      const result = page.getByTestId("search-result").first();
      await result.waitFor({ timeout: 10_000 });
      expect((await result.locator("mark").allTextContents()).join("")).toContain(language.search);
      await screenshot("search");
      await result.click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(questionOf(language.golden));
      await search.fill("");
    }, 120_000);

    it("exports this conversation as Markdown and JSON downloads that match it", async () => {
      await openConversation(questionOf(language.golden));
      await expect.poll(() => answers().count(), { timeout: 30_000 }).toBe(1);
      const question = questionOf(language.golden);
      const answer = caseOf(language.golden).greedy_text;

      const download = async (format: "Markdown" | "JSON") => {
        await page.getByRole("button", { name: t("chat.export"), exact: true }).click();
        const [file] = await Promise.all([
          page.waitForEvent("download"),
          page.getByRole("group", { name: t("chat.exportCurrent") }).getByRole("button", { name: format, exact: true }).click(),
        ]);
        return { name: file.suggestedFilename(), content: readFileSync((await file.path())!, "utf8") };
      };

      const markdown = await download("Markdown");
      expect(markdown.name).toMatch(/\.md$/);
      expect(markdown.content).toContain(question);
      expect(markdown.content).toContain(answer);

      const json = await download("JSON");
      expect(json.name).toMatch(/\.json$/);
      const data = JSON.parse(json.content) as HistoryExport;
      expect(data.format).toBe("billa-desktop-history");
      expect(data.conversations).toHaveLength(1);
      const [exported] = data.conversations;
      expect(exported!.title).toBe(question);
      expect(exported!.sampling.temperature).toBe(0);
      // Both alternatives of the answer, lossless.
      expect(exported!.messages.filter((message) => message.role === "assistant").map((message) => message.text)).toEqual([answer, answer]);
      expect(exported!.messages.find((message) => message.role === "user")!.text).toBe(question);
    }, 60_000);
  });
}
