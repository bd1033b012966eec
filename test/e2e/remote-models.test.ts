/// <reference lib="dom" />
// Remote models end to end: `npm run web`'s server in Chromium, chatting through two other `billa serve` processes
// on loopback (the demo model, and a random-weights model whose answers do not end by themselves). The Models page
// adds them from the form (the model picked from the server's list), marks them remote and says whether they answer;
// the chat page answers the golden question through the server, stops an answer (the server stops too), and keeps a
// cut-off answer when the server is killed, with clear errors after it. The history names the remote model.
// Screenshots go to test/artifacts/.
import { once } from "node:events";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { HistoryExport } from "../../src-main/contract/api.js";
import * as chatMessages from "../../src-renderer/src/chat/chat-messages.js";
import * as modelsMessages from "../../src-renderer/src/models/models-messages.js";
import { addressOf, lastServerAnswer, startRemoteTestServers, type RunningServe } from "../support/billa-serve.js";
import { launchChromium } from "../support/chromium.js";
import { golden } from "../support/demo.js";
import { ARTIFACTS, englishWords, go, shoot } from "../support/e2e-page.js";
import { makeTempDir } from "../support/temp-dir.js";
import { startWebMode, type RunningWebMode } from "../support/web-mode.js";

const t = (key: keyof typeof chatMessages.en | keyof typeof modelsMessages.en) => ({ ...chatMessages.en, ...modelsMessages.en })[key];
const zh = (key: keyof typeof modelsMessages.en) => modelsMessages.zhCN[key];
const GOLDEN = golden.cases.find((c) => c.id === "zorbia-capital")!;

const temp = makeTempDir("billa-e2e-remote-");
let endlessDir: string;
let demoServer: RunningServe;
let endlessServer: RunningServe;
let web: RunningWebMode;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  ({ demo: demoServer, endless: endlessServer, endlessDir } = await startRemoteTestServers(temp.path));
  web = await startWebMode(join(temp.path, "client"));
  browser = await launchChromium();
  context = await browser.newContext({ locale: "en", viewport: { width: 1100, height: 720 } });
  page = await context.newPage();
  await page.goto(web.url);
}, 120_000);

afterEach(async ({ task }) => {
  if (task.result?.state !== "fail" || !page) return;
  await page.screenshot({ path: join(ARTIFACTS, `remote-failed-${task.name.slice(0, 40).replace(/\W+/g, "-")}.png`) }).catch(() => undefined);
  console.error(`page text at failure:\n${await page.locator("body").innerText().catch(() => "?")}\n--- host output:\n${web?.output().slice(-3000)}`);
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await web?.stop();
  for (const server of [demoServer, endlessServer]) server?.child.kill("SIGKILL");
  temp.remove();
});

const card = (name: string) => page.getByTestId("model-card").filter({ has: page.getByRole("heading", { name, exact: true }) });
const messageBox = () => page.getByRole("textbox", { name: t("chat.message"), exact: true });
const lastAnswer = () => page.getByTestId("answer").last();
const answerText = async () => ((await lastAnswer().locator(".markdown").textContent()) ?? "").trim();

/** Fills the add form: the address, the key, asks for the models, and adds the one listed under `name`. */
async function addRemote(address: string, key: string, name: string): Promise<void> {
  await page.getByRole("textbox", { name: t("models.remote.address") }).fill(address);
  await page.getByLabel(t("models.remote.apiKey")).fill(key);
  await page.getByRole("button", { name: t("models.remote.list") }).click();
  await page.getByRole("combobox", { name: t("models.remote.pickModel") }).waitFor();
  await page.getByRole("textbox", { name: t("models.remote.name") }).fill(name);
  await page.getByRole("button", { name: t("models.remote.add") }).click();
  await card(name).waitFor({ timeout: 10_000 });
}

/** Opens a new conversation with this model and these sampling settings. */
async function newChatWith(model: string, temperature: string, maxTokens: string): Promise<void> {
  await page.getByRole("button", { name: t("chat.newChat") }).click();
  await expect.poll(() => page.getByTestId("answer").count()).toBe(0);
  await page.getByRole("button", { name: t("chat.settings") }).click();
  await page.getByRole("combobox", { name: t("chat.model") }).selectOption({ label: `${model} (remote)` });
  await page.getByRole("spinbutton", { name: t("chat.temperature") }).fill(temperature);
  await page.getByRole("spinbutton", { name: t("chat.maxTokens") }).fill(maxTokens);
  await page.getByRole("button", { name: t("chat.save"), exact: true }).click();
  await page.getByText(t("chat.settingsSaved")).waitFor();
  await page.getByRole("button", { name: t("chat.close"), exact: true }).click();
}

async function ask(text: string): Promise<void> {
  await messageBox().fill(text);
  await messageBox().press("Enter");
}

/** Asks, and resolves once the new answer is on screen with its first words. */
async function askUntilWriting(text: string): Promise<void> {
  const before = await page.getByTestId("answer").count();
  await ask(text);
  await expect.poll(() => page.getByTestId("answer").count(), { timeout: 30_000 }).toBe(before + 1);
  // The new answer's own text: until its first words it shows a typing mark, not Markdown.
  await page.waitForFunction(() => ([...document.querySelectorAll('[data-testid="answer"]')].at(-1)?.querySelector(".markdown")?.textContent ?? "").trim().length > 0, null, { timeout: 30_000 });
}

describe("remote models in Chromium", () => {
  it("adds a billa serve from the Models page: the model picked from its list, marked remote, answering now", async () => {
    await go(page, "en", "models");
    // Plain http to another computer is flagged while it is typed, before anything is sent.
    await page.getByRole("textbox", { name: t("models.remote.address") }).fill("http://10.0.0.5:8000");
    await expect.poll(() => page.getByTestId("unencrypted-warning").textContent()).toContain("Plain http to another computer");
    const demo = addressOf(demoServer);
    await addRemote(demo.baseURL.replace(/\/v1$/, ""), demo.apiKey, "Team BiLLa");
    const team = card("Team BiLLa");
    expect(await team.getByTestId("remote-badge").textContent()).toBe(t("models.badge.remote"));
    await expect.poll(() => team.getByTestId("reachability").textContent(), { timeout: 10_000 }).toBe(t("models.remote.answers"));
    expect(await team.getByTestId("remote-url").textContent()).toBe(demo.baseURL);
    expect(await team.textContent()).toContain(t("models.remote.keyStored"));
    expect(await page.locator("body").innerText()).not.toContain(demo.apiKey);
    const endless = addressOf(endlessServer);
    await addRemote(endless.baseURL, endless.apiKey, "Endless");
    await shoot(page, "models-remote", "en", { bottom: true });
  }, 60_000);

  it("answers the golden question through the server at temperature 0, naming the remote model", async () => {
    await go(page, "en", "chat");
    await newChatWith("Team BiLLa", "0", "1024");
    expect(await page.getByTestId("conversation-remote").textContent()).toContain(`remote, on ${new URL(addressOf(demoServer).baseURL).host}`);
    await ask(GOLDEN.turns[0]!.question);
    await expect.poll(() => lastAnswer().getAttribute("data-status"), { timeout: 30_000 }).toBe("complete");
    expect(await answerText()).toBe(GOLDEN.greedy_text);
    expect(await lastAnswer().getByTestId("answer-model").textContent()).toBe("Team BiLLa");
    expect(await lastAnswer().getByTestId("answer-stats").textContent()).toContain(t("chat.stop.eos"));
    await shoot(page, "chat-remote", "en");
  }, 60_000);

  it("stops an answer: the text so far is kept and marked, and the server stopped its own answer", async () => {
    await newChatWith("Endless", "0.8", "16000");
    for (let attempt = 1; ; attempt++) {
      await askUntilWriting("Keep talking, please.");
      await page.getByRole("button", { name: t("chat.stop"), exact: true }).click({ timeout: 5_000 }).catch(() => undefined);
      await expect.poll(() => lastAnswer().getAttribute("data-status"), { timeout: 30_000 }).not.toBe("streaming");
      if ((await lastAnswer().getAttribute("data-status")) === "interrupted" || attempt === 3) break;
    }
    expect(await lastAnswer().getByTestId("interrupted").textContent()).toBe(t("chat.interrupted"));
    expect((await answerText()).length).toBeGreaterThan(0);
    expect(await lastAnswer().getByTestId("answer-stats").textContent()).toContain(t("chat.stop.stopped"));
    await expect.poll(() => lastServerAnswer(endlessDir)?.status, { timeout: 10_000 }).toBe("interrupted");
  }, 90_000);

  it("keeps the answer a killed server was writing, marked, and says clearly that it is gone", async () => {
    // Random weights say EOS now and then: the server is frozen first, and killed only if its answer is still going.
    for (let attempt = 1; attempt <= 5; attempt++) {
      await askUntilWriting("Keep talking, please.");
      endlessServer.child.kill("SIGSTOP");
      await new Promise((resolve) => setTimeout(resolve, 300));
      if ((await lastAnswer().getAttribute("data-status")) === "streaming") break;
      endlessServer.child.kill("SIGCONT");
    }
    endlessServer.child.kill("SIGKILL");
    await once(endlessServer.child, "exit");
    await expect.poll(() => lastAnswer().getAttribute("data-status"), { timeout: 10_000 }).toBe("error");
    expect((await answerText()).length).toBeGreaterThan(0);
    expect(await lastAnswer().getByRole("alert").textContent()).toContain("broke off mid-answer");

    const asked = performance.now();
    await ask("Are you still there?");
    await expect.poll(() => lastAnswer().getByRole("alert").textContent(), { timeout: 10_000 }).toContain("nothing is listening there (connection refused)");
    expect(performance.now() - asked).toBeLessThan(10_000);
    await shoot(page, "chat-remote-gone", "en");

    await go(page, "en", "models");
    await expect.poll(() => card("Endless").getByTestId("reachability").textContent(), { timeout: 10_000 }).toBe(t("models.remote.notAnswering"));
    expect(await card("Endless").getByTestId("reachability-detail").textContent()).toContain("connection refused");
  }, 60_000);

  it("keeps the remote conversation in the history, found by search and exported with its model", async () => {
    await go(page, "en", "chat");
    await page.getByRole("navigation", { name: t("chat.conversations") }).getByRole("button", { name: GOLDEN.turns[0]!.question }).first().click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(GOLDEN.turns[0]!.question);
    await page.getByRole("button", { name: t("chat.export"), exact: true }).click();
    const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("group", { name: t("chat.exportCurrent") }).getByRole("button", { name: "JSON", exact: true }).click()]);
    const data = JSON.parse(readFileSync((await file.path())!, "utf8")) as HistoryExport;
    const answer = data.conversations[0]!.messages.find((message) => message.role === "assistant")!;
    expect([answer.text, answer.model, answer.status]).toEqual([GOLDEN.greedy_text, "Team BiLLa", "complete"]);
    expect(JSON.stringify(data)).not.toContain(addressOf(demoServer).apiKey);

    await page.keyboard.press("Control+K");
    await page.getByRole("searchbox", { name: t("chat.search") }).fill("Quellon");
    await page.getByTestId("search-result").first().waitFor({ timeout: 10_000 });
  }, 60_000);

  it("shows the remote models in Chinese, every UI word translated", async () => {
    const zhContext = await browser.newContext({ locale: "zh-CN", viewport: { width: 1024, height: 700 } });
    const zhPage = await zhContext.newPage();
    try {
      await zhPage.goto(web.url);
      await zhPage.locator("aside select").selectOption("zh-CN");
      await go(zhPage, "zh-CN", "models");
      await expect.poll(() => zhPage.getByTestId("reachability").first().textContent(), { timeout: 10_000 }).toBe(zh("models.remote.answers"));
      await zhPage.getByRole("textbox", { name: zh("models.remote.address") }).fill("http://10.0.0.5:8000");
      await zhPage.getByTestId("unencrypted-warning").waitFor();
      expect(await englishWords(zhPage)).toEqual([]);
      await shoot(zhPage, "models-remote", "zh-CN", { bottom: true });
    } finally {
      await zhContext.close();
    }
  }, 60_000);
});
