// The chat page in jsdom against the real services in-process (real demo model, real database), through the
// same client code the Electron and web backends use. The tests run in order and share one data folder:
// the first one installs the demo model the others chat with.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { HistoryExport, Message } from "../../src-main/contract/api.js";
import { createServices } from "../../src-main/services/create-services.js";
import { createApiClient } from "../../src-renderer/src/backend/api-client.js";
import { I18n } from "../../src-renderer/src/i18n/i18n.svelte.js";
import App from "../../src-renderer/src/shell/app.svelte";
import { Router } from "../../src-renderer/src/shell/router.svelte.js";
import { golden } from "../support/demo.js";
import { makeTempDir } from "../support/temp-dir.js";

const dataDir = makeTempDir();
const services = createServices({ dataDir: dataDir.path, transport: "web" });
const api = createApiClient(services.api);
const caseOf = (id: string) => golden.cases.find((entry) => entry.id === id)!;
const questionOf = (id: string) => caseOf(id).prompt.replace(/^Human: /, "").replace(/\nAssistant: $/, "");

beforeAll(() => {
  // jsdom has no Blob URLs; the export test reads the Blob handed to them.
  URL.createObjectURL ??= () => "blob:test";
  URL.revokeObjectURL ??= () => undefined;
});
afterEach(cleanup);
afterAll(async () => {
  await services.dispose();
  dataDir.remove();
});

function renderChat(locale: "en" | "zh-CN" = "en") {
  window.location.hash = "#/chat";
  render(App, { props: { api, i18n: new I18n(locale), router: new Router(window.location) } });
}

const messageBox = () => screen.getByRole("textbox", { name: "Message" }) as HTMLTextAreaElement;
const answers = () => screen.queryAllByTestId("answer");
const lastAnswer = () => answers().at(-1)!;
const answerText = (answer: HTMLElement) => answer.querySelector(".markdown")?.textContent?.trim() ?? "";

async function ask(text: string): Promise<void> {
  await fireEvent.input(messageBox(), { target: { value: text } });
  await fireEvent.keyDown(messageBox(), { key: "Enter" });
}

/** Waits until the answer on screen is finished (its stats line is there) and returns it. */
async function finishedAnswer(count: number): Promise<HTMLElement> {
  await waitFor(
    () => {
      expect(answers()).toHaveLength(count);
      expect(lastAnswer().getAttribute("data-status")).not.toBe("streaming");
      // Enabled: the request has returned, not only the answer's last event.
      expect((within(lastAnswer()).getByRole("button", { name: "Regenerate" }) as HTMLButtonElement).disabled).toBe(false);
    },
    { timeout: 60_000 },
  );
  return lastAnswer();
}

/** Temperature 0 (greedy) for the conversation on screen, through its settings panel. */
async function setTemperatureZero(): Promise<void> {
  await fireEvent.click(screen.getByRole("button", { name: "Conversation settings" }));
  await fireEvent.input(screen.getByRole("spinbutton", { name: "Temperature" }), { target: { value: "0" } });
  await fireEvent.click(screen.getByRole("button", { name: "Save" }));
  await screen.findByText("Saved.");
  await fireEvent.click(screen.getByRole("button", { name: "Close" }));
  expect(document.activeElement).toBe(screen.getByRole("button", { name: "Conversation settings" }));
}

async function conversationIds(): Promise<string[]> {
  return (await api.invoke("history.list", {})).conversations.map((conversation) => conversation.id);
}

describe("the chat page", () => {
  it("first run: the demo model converts, a conversation opens, and it answers greedily at temperature 0", async () => {
    renderChat();
    expect((await screen.findByRole("link", { name: "Open the conversion wizard" })).getAttribute("href")).toBe("#/convert");
    await fireEvent.click(screen.getByRole("button", { name: "Try the demo model" }));
    await waitFor(() => expect(document.activeElement).toBe(messageBox()), { timeout: 60_000 });
    expect((await api.invoke("models.list", {})).models).toHaveLength(1);

    await setTemperatureZero();
    const [id] = await conversationIds();
    expect((await api.invoke("history.get", { id: id! })).conversation.sampling.temperature).toBe(0);

    await ask(questionOf("zorbia-capital"));
    expect(messageBox().value).toBe("");
    const answer = await finishedAnswer(1);
    expect(answerText(answer)).toBe(caseOf("zorbia-capital").greedy_text);
    expect(within(answer).getByTestId("answer-stats").textContent).toMatch(/^13 tokens · [\d.,]+ tokens\/s · first token after [\d.,]+ m?s · finished$/);
    // The conversation took its title from the question.
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe(questionOf("zorbia-capital"));
  }, 180_000);

  it("regenerates with ‹ 1/2 › alternatives, and edits a question into a new branch", async () => {
    renderChat();
    await fireEvent.click(await screen.findByRole("button", { name: new RegExp(questionOf("zorbia-capital")) }));
    await finishedAnswer(1);
    await fireEvent.click(screen.getByRole("button", { name: "Regenerate" }));
    let answer = await finishedAnswer(1);
    await waitFor(() => expect(within(answer).getByTestId("alternative-position").textContent).toBe("2/2"));
    expect(answerText(answer)).toBe(caseOf("zorbia-capital").greedy_text);
    await fireEvent.click(within(answer).getByRole("button", { name: "Previous version" }));
    await waitFor(() => expect(within(lastAnswer()).getByTestId("alternative-position").textContent).toBe("1/2"));

    await fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    const editor = screen.getByRole("textbox", { name: "Edited question" });
    await fireEvent.input(editor, { target: { value: questionOf("zorbia-moons") } });
    await fireEvent.click(screen.getByRole("button", { name: "Send edited question" }));
    answer = await finishedAnswer(1);
    expect(answerText(answer)).toBe(caseOf("zorbia-moons").greedy_text);
    const question = screen.getByTestId("question");
    expect(within(question).getByTestId("alternative-position").textContent).toBe("2/2");
    expect(question.textContent).toContain(questionOf("zorbia-moons"));
  }, 180_000);

  it("stops an answer with Esc and marks it interrupted, keeping the text so far", async () => {
    renderChat();
    await screen.findAllByTestId("conversation");
    // A conversation of its own, so the golden single-turn answer applies; greedy, so the text is known.
    await fireEvent.click(screen.getByRole("button", { name: "New chat" }));
    await waitFor(async () => expect(await conversationIds()).toHaveLength(2));
    await setTemperatureZero();
    await ask(questionOf("glimmer-engine"));
    await waitFor(() => expect(answers()).toHaveLength(1));
    await waitFor(() => expect(answerText(lastAnswer()).length).toBeGreaterThan(0), { timeout: 30_000 });
    await fireEvent.keyDown(window, { key: "Escape" });
    await waitFor(() => expect(lastAnswer().getAttribute("data-status")).toBe("interrupted"), { timeout: 30_000 });
    const partial = answerText(lastAnswer());
    expect(partial.length).toBeGreaterThan(0);
    expect(caseOf("glimmer-engine").greedy_text.startsWith(partial)).toBe(true);
    expect(partial.length).toBeLessThan(caseOf("glimmer-engine").greedy_text.length);
    expect(within(lastAnswer()).getByTestId("interrupted").textContent).toBe("Interrupted");
    expect(within(lastAnswer()).getByTestId("answer-stats").textContent).toContain("stopped by you");
  }, 120_000);

  it("searches with highlighted snippets and opens the hit (Ctrl+K focuses the search)", async () => {
    renderChat();
    await screen.findAllByTestId("conversation");
    await fireEvent.keyDown(window, { key: "k", ctrlKey: true });
    const search = screen.getByRole("searchbox", { name: "Search conversations" });
    expect(document.activeElement).toBe(search);
    await fireEvent.input(search, { target: { value: "Quellon" } });
    const results = await screen.findAllByTestId("search-result", {}, { timeout: 5000 });
    const marks = results.flatMap((result) => [...result.querySelectorAll("mark")].map((mark) => mark.textContent));
    expect(marks.length).toBeGreaterThan(0);
    expect(marks.every((text) => text?.toLowerCase() === "quellon")).toBe(true);
    await fireEvent.click(results[0]!);
    await waitFor(() => expect(answers().length).toBeGreaterThan(0));
  }, 30_000);

  it("renames, pins, and deletes with an Undo that brings the conversation back", async () => {
    renderChat();
    await screen.findAllByTestId("conversation");
    await fireEvent.keyDown(window, { key: "n", ctrlKey: true });
    await waitFor(async () => expect(await conversationIds()).toHaveLength(3));
    const items = () => screen.getAllByTestId("conversation");
    const item = () => items().find((element) => element.textContent?.includes("New chat"))!;
    await waitFor(() => expect(item()).toBeTruthy());

    await fireEvent.click(within(item()).getByRole("button", { name: "Rename" }));
    const title = screen.getByRole("textbox", { name: "Conversation title" });
    await fireEvent.input(title, { target: { value: "Zorbia notes" } });
    await fireEvent.submit(title.closest("form")!);
    const renamed = () => items().find((element) => element.textContent?.includes("Zorbia notes"))!;
    await waitFor(() => expect(renamed()).toBeTruthy());

    await fireEvent.click(within(renamed()).getByRole("button", { name: "Pin" }));
    await waitFor(() => expect(items()[0]!.textContent).toContain("Zorbia notes"));
    expect(await screen.findByRole("heading", { name: "Pinned" })).toBeTruthy();

    await fireEvent.click(within(renamed()).getByRole("button", { name: "Delete" }));
    const toast = await screen.findByTestId("toast");
    expect(toast.textContent).toContain("“Zorbia notes” was moved to the trash.");
    await waitFor(() => expect(items().some((element) => element.textContent?.includes("Zorbia notes"))).toBe(false));
    await fireEvent.click(within(toast).getByRole("button", { name: "Undo" }));
    await waitFor(() => expect(items()[0]!.textContent).toContain("Zorbia notes"));
    expect(screen.queryByTestId("toast")).toBeNull();
  }, 30_000);

  it("exports this conversation as Markdown through a download link", async () => {
    const blobs: Blob[] = [];
    const createObjectURL = vi.spyOn(URL, "createObjectURL").mockImplementation((blob) => {
      blobs.push(blob as Blob);
      return "blob:test";
    });
    const clicks: HTMLAnchorElement[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push(this);
    });
    try {
      renderChat();
      await fireEvent.click(await screen.findByRole("button", { name: new RegExp(questionOf("zorbia-capital")) }));
      await waitFor(() => expect(answers()).toHaveLength(1));
      // The export holds the branch on screen (the search above switched to the one that mentions Quellon).
      const question = screen.getByTestId("question").querySelector(".question")!.textContent!;
      const answer = answerText(lastAnswer());
      await fireEvent.click(screen.getByRole("button", { name: "Export" }));
      await fireEvent.click(within(screen.getByRole("group", { name: "This conversation" })).getByRole("button", { name: "Markdown" }));
      await waitFor(() => expect(clicks).toHaveLength(1));
      expect(clicks[0]!.download).toMatch(/\.md$/);
      // jsdom's Blob has no text(); its FileReader reads it.
      const text = await new Promise<string>((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(String(reader.result));
        reader.readAsText(blobs[0]!);
      });
      expect(text).toContain(question);
      expect(text).toContain(answer);
      // The menu closed and gave the focus back to its button.
      expect(document.activeElement).toBe(screen.getByRole("button", { name: "Export" }));
    } finally {
      createObjectURL.mockRestore();
      click.mockRestore();
    }
  }, 30_000);

  it("shows an answer holding <img onerror> and <script> as text, with no element or link they could run from", async () => {
    const now = new Date().toISOString();
    const message = (id: string, parentId: string | null, role: Message["role"], text: string): Message => ({
      id,
      conversationId: "xss",
      parentId,
      role,
      text,
      status: "complete",
      error: null,
      stats: null,
      model: "BiLLa demo",
      createdAt: now,
      updatedAt: now,
    });
    const hostile = 'Here: <img src=x onerror="window.pwned=1"> and <script>window.pwned=2</script> and [x](javascript:window.pwned=3) ![t](https://example.com/t.png)';
    const data: HistoryExport = {
      format: "billa-desktop-history",
      version: 1,
      conversations: [
        {
          id: "xss",
          title: "Hostile answer",
          modelId: null,
          sampling: { temperature: 0.7, topK: 50, topP: 1, minP: 0, repeatPenalty: null, seed: null, maxTokens: 1024 },
          currentMessageId: "xss-a",
          pinned: false,
          archived: false,
          deletedAt: null,
          source: "app",
          createdAt: now,
          updatedAt: now,
          messages: [message("xss-q", null, "user", "Say something dangerous"), message("xss-a", "xss-q", "assistant", hostile)],
        },
      ],
    };
    await api.invoke("history.import", { content: JSON.stringify(data) });
    renderChat();
    await fireEvent.click(await screen.findByRole("button", { name: /Hostile answer/ }));
    await waitFor(() => expect(answers()).toHaveLength(1));
    const answer = lastAnswer();
    expect(answer.querySelector(".markdown img, .markdown script")).toBeNull();
    expect(answerText(answer)).toContain('<img src=x onerror="window.pwned=1">');
    expect(answerText(answer)).toContain("<script>window.pwned=2</script>");
    expect(answer.querySelector('a[href^="javascript"]')).toBeNull();
    expect(answer.querySelector("a.blocked-image")?.getAttribute("href")).toBe("https://example.com/t.png");
    // jsdom runs no scripts, so whether any of it runs is asked of Chromium (test/e2e/chat.test.ts).
  }, 30_000);

  it("tells when the conversation outgrew the context and older turns were left out", async () => {
    const now = Date.now();
    const long = "Zorbia has long rivers, pale green skies and three moons. ".repeat(8);
    const messages: Message[] = [];
    for (let turn = 0; turn < 12; turn++) {
      for (const role of ["user", "assistant"] as const) {
        const at = new Date(now - 600_000 + turn * 2000 + (role === "user" ? 0 : 1000)).toISOString();
        messages.push({
          id: `long-${turn}-${role}`,
          conversationId: "long",
          parentId: messages.at(-1)?.id ?? null,
          role,
          text: `${turn}: ${long}`,
          status: "complete",
          error: null,
          stats: null,
          model: null,
          createdAt: at,
          updatedAt: at,
        });
      }
    }
    const at = new Date(now - 600_000).toISOString();
    const sampling = { temperature: 0, topK: 50, topP: 1, minP: 0, repeatPenalty: null, seed: null, maxTokens: 16 };
    const data: HistoryExport = {
      format: "billa-desktop-history",
      version: 1,
      conversations: [{ id: "long", title: "A long conversation", modelId: null, sampling, currentMessageId: messages.at(-1)!.id, pinned: false, archived: false, deletedAt: null, source: "app", createdAt: at, updatedAt: at, messages }],
    };
    await api.invoke("history.import", { content: JSON.stringify(data) });
    renderChat();
    await fireEvent.click(await screen.findByRole("button", { name: /A long conversation/ }));
    await waitFor(() => expect(answers()).toHaveLength(12));
    await ask(questionOf("zorbia-sky"));
    const answer = await finishedAnswer(13);
    expect(within(answer).getByTestId("context-trimmed").textContent).toMatch(/^The conversation outgrew the model's context: its \d+ oldest exchanges were left out of this answer\.$/);
  }, 120_000);

  it("speaks Chinese", async () => {
    renderChat("zh-CN");
    expect(await screen.findByRole("button", { name: "新对话" })).toBeTruthy();
    expect(screen.getByRole("textbox", { name: "消息" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "发送" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "导出" })).toBeTruthy();
    expect(screen.getByRole("searchbox", { name: "搜索对话" })).toBeTruthy();
  });
});
