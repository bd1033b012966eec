// The conversion wizard in jsdom against the real services: the demo checkpoint goes from its released
// folder (plus the stand-in for Meta's LLaMA) through every step to a model that answers, and each step
// refuses what it cannot use with a sentence that says what to do.
import { copyFileSync, existsSync, mkdirSync, readdirSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticCheckpoint, type SyntheticCheckpoint } from "../../bench/support/synthetic-billa.js";
import type { ApiClient, EventMessage } from "../../src-main/contract/api.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { createApiClient } from "../../src-renderer/src/backend/api-client.js";
import { estimatedFileBytes } from "../../src-renderer/src/convert/output-types.js";
import { I18n } from "../../src-renderer/src/i18n/i18n.svelte.js";
import App from "../../src-renderer/src/shell/app.svelte";
import { Router } from "../../src-renderer/src/shell/router.svelte.js";
import { DEMO, golden } from "../support/demo.js";
import { makeTempDir } from "../support/temp-dir.js";

const SLOW = { timeout: 120_000 };
const dataDir = makeTempDir("billa-convert-data-");
const files = makeTempDir("billa-convert-files-");
let services: Services;
let api: ApiClient;

beforeAll(() => {
  services = createServices({ dataDir: dataDir.path, transport: "web" });
  api = createApiClient(services.api);
});
afterEach(cleanup);
afterAll(async () => {
  await services?.dispose();
  dataDir.remove();
  files.remove();
});

function renderWizard(locale: "en" | "zh-CN" = "en") {
  window.location.hash = "#/convert";
  render(App, { props: { api, i18n: new I18n(locale), router: new Router(window.location) } });
}

function step(): HTMLElement {
  return screen.getByTestId("wizard-step");
}

async function typeInto(name: string | RegExp, value: string) {
  await fireEvent.input(within(step()).getByRole("textbox", { name }), { target: { value } });
}

async function next(expectedStep: number) {
  await fireEvent.click(screen.getByRole("button", { name: "Next" }));
  await waitFor(() => expect(step().dataset["step"]).toBe(String(expectedStep)), { timeout: 20_000 });
}

async function stepError(): Promise<string> {
  return (await within(step()).findByTestId("step-error", {}, { timeout: 20_000 })).textContent ?? "";
}

describe("the conversion wizard", SLOW, () => {
  it("converts the released demo with the original LLaMA, verifies it and opens a chat", async () => {
    renderWizard();
    expect(screen.getByRole("heading", { name: /Step 1 of 5 · BiLLa folder/ })).toBeTruthy();
    expect(screen.getByRole("list", { name: "Conversion steps" }).querySelector('[aria-current="step"]')?.textContent).toContain("BiLLa folder");

    // Step 1: what the folder holds, in words.
    await typeInto("BiLLa folder", DEMO.released);
    await fireEvent.click(within(step()).getByRole("button", { name: "Check" }));
    const findings = await screen.findByTestId("folder-findings", {}, { timeout: 20_000 });
    await waitFor(() => expect(findings.textContent).toContain("These look like BiLLa's released weights"));
    expect(findings.textContent).toContain("a LLaMA model with 2 layers, hidden size 256 and 960 tokens");
    expect(findings.textContent).toContain("tokenizer.model");
    expect(findings.textContent).toMatch(/Weights: 3 PyTorch file\(s\), 2\.2M parameters/);
    expect((within(step()).getByRole("checkbox", { name: /already restored/ }) as HTMLInputElement).checked).toBe(false);
    await next(2);

    // Step 2: a wrong file is refused with a reason; Meta's folder is resolved to its consolidated.00.pth.
    expect(document.activeElement).toBe(screen.getByRole("heading", { name: /Step 2 of 5/ }));
    const notes = join(files.path, "notes.txt");
    writeFileSync(notes, "not a checkpoint");
    await typeInto("Original LLaMA file or folder", notes);
    await fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(await stepError()).toContain("This is not a LLaMA checkpoint");
    expect(step().dataset["step"]).toBe("2");

    await typeInto("Original LLaMA file or folder", join(DEMO.restored, "model.safetensors"));
    await fireEvent.click(within(step()).getByRole("button", { name: "Check" }));
    expect(await stepError()).toContain("as many as BiLLa's 960: it is BiLLa itself or a restored copy, not the original LLaMA");

    await typeInto("Original LLaMA file or folder", join(DEMO.originalPth, ".."));
    await fireEvent.click(within(step()).getByRole("button", { name: "Check" }));
    expect((await screen.findByTestId("llama-findings", {}, { timeout: 20_000 })).textContent).toContain("600 tokens × 256 values each");
    await next(3);

    // Step 3: each type with its size; the default location is the library's models folder.
    const q8 = within(step()).getByRole("radio", { name: /Q8_0/ });
    expect(step().textContent).toContain("Recommended");
    const parameters = 2196736;
    expect(q8.getAttribute("aria-describedby")).toBeTruthy();
    await fireEvent.click(q8);
    const outPath = (within(step()).getByRole("textbox", { name: "Output file" }) as HTMLInputElement).value;
    expect(outPath).toBe(join(dataDir.path, "models", "billa-demo-q8_0.gguf"));
    expect(estimatedFileBytes("q8_0", parameters)).toBe(Math.round((parameters * 8.5) / 8));
    await next(4);

    // Step 4: run; every stage ends done or not needed.
    expect(screen.getByRole("button", { name: "Next" })).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Start conversion" }));
    const done = await screen.findByTestId("conversion-done", {}, { timeout: 60_000 });
    expect(done.textContent).toMatch(/Done: .* written in .* s and added to the library/);
    expect(screen.queryByRole("button", { name: "Cancel" })).toBeNull();
    for (const bar of within(step()).getAllByRole("progressbar")) expect(bar.getAttribute("value")).toBe("1");
    await next(5);

    // Step 5: the new model answers the test question greedily, as the demo was trained to.
    const answer = await screen.findByTestId("verify-answer", {}, { timeout: 30_000 });
    const expected = golden.cases.find((c) => c.prompt.includes("What is 17 + 25?"))!.greedy_text;
    await waitFor(() => expect(answer.getAttribute("aria-busy")).toBe("false"), { timeout: 60_000 });
    expect(answer.textContent?.trim()).toBe(expected);
    expect(screen.getByTestId("registered").textContent).toContain("billa-demo");
    const models = (await api.invoke("models.list", {})).models;
    const entry = models.find((model) => model.kind === "local" && model.path === outPath)!;
    expect(entry).toMatchObject({ kind: "local", location: "library" });
    expect((await api.invoke("runtime.state", {})).loaded?.modelId).toBe(entry.id);

    await fireEvent.click(screen.getByRole("button", { name: "Start chatting" }));
    await waitFor(() => expect(window.location.hash).toBe("#/chat"), { timeout: 10_000 });
    const conversations = (await api.invoke("history.list", {})).conversations;
    expect(conversations.some((conversation) => conversation.modelId === entry.id)).toBe(true);
  });

  it("skips the LLaMA step for a restored checkpoint and refuses an output file that exists", async () => {
    renderWizard();
    await typeInto("BiLLa folder", DEMO.restored);
    await next(3);
    const stepper = screen.getByRole("list", { name: "Conversion steps" });
    expect(stepper.textContent).toContain("(not needed)");
    const taken = join(files.path, "taken.gguf");
    writeFileSync(taken, "x");
    await typeInto("Output file", taken);
    await fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(await stepError()).toContain("taken.gguf already exists");
    await typeInto("Output file", join(files.path, "restored.txt"));
    await fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(await stepError()).toContain("must end in .gguf");
    await fireEvent.click(screen.getByRole("button", { name: "Back" }));
    await waitFor(() => expect(step().dataset["step"]).toBe("1"));
  });

  it("says what is wrong with a folder that cannot be converted", async () => {
    renderWizard();

    await typeInto("BiLLa folder", "");
    await fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(await stepError()).toContain("Type the path of the folder");

    await typeInto("BiLLa folder", join(files.path, "nowhere"));
    await fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(await stepError()).toContain("There is no folder at");

    await typeInto("BiLLa folder", join(DEMO.released, "config.json"));
    await fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(await stepError()).toMatch(/is a single file|not a BiLLa checkpoint/);

    await typeInto("BiLLa folder", join(DEMO.originalPth, ".."));
    await fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(await stepError()).toContain("not a BiLLa checkpoint that can be converted");

    // The weights without their tokenizer: found what is there, and says what is missing.
    const partial = join(files.path, "no-tokenizer");
    mkdirSync(partial);
    for (const name of ["config.json", "pytorch_model-1-of-3.bin", "pytorch_model-2-of-3.bin", "pytorch_model-3-of-3.bin", "pytorch_model.bin.index.json"]) {
      copyFileSync(join(DEMO.released, name), join(partial, name));
    }
    await typeInto("BiLLa folder", partial);
    await fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(await stepError()).toContain("tokenizer.model is missing");
    expect(screen.getByTestId("folder-findings").textContent).toContain("a LLaMA model with 2 layers");
    expect(step().dataset["step"]).toBe("1");
  });

  it("walks through in Chinese", async () => {
    renderWizard("zh-CN");
    expect(screen.getByRole("heading", { name: /第 1 步，共 5 步/ })).toBeTruthy();
    await fireEvent.input(within(step()).getByRole("textbox", { name: "BiLLa 文件夹" }), { target: { value: DEMO.released } });
    await fireEvent.click(screen.getByRole("button", { name: "下一步" }));
    await waitFor(() => expect(step().dataset["step"]).toBe("2"), { timeout: 20_000 });
    await fireEvent.input(within(step()).getByRole("textbox", { name: "原版 LLaMA 文件或文件夹" }), { target: { value: join(DEMO.restored, "model.safetensors") } });
    await fireEvent.click(screen.getByRole("button", { name: "下一步" }));
    expect(await stepError()).toContain("不是原版 LLaMA");
  });
});

describe("the conversion wizard when a run fails or is cancelled", SLOW, () => {
  async function toRunStep(outFile: string, type: RegExp, source: { folder: string; originalLlama?: string } = { folder: DEMO.restored }) {
    renderWizard();
    await typeInto("BiLLa folder", source.folder);
    if (source.originalLlama !== undefined) {
      await next(2);
      await typeInto("Original LLaMA file or folder", source.originalLlama);
    }
    await next(3);
    await fireEvent.click(within(step()).getByRole("radio", { name: type }));
    await typeInto("Output file", outFile);
    await next(4);
  }

  /**
   * A release big enough that its conversion runs for seconds (the demo's takes well under one): BiLLa's layout
   * with 60 M weights, about 130 MB.
   */
  let bigRelease: SyntheticCheckpoint;
  beforeAll(async () => {
    bigRelease = await writeSyntheticCheckpoint(files.path, {
      shape: { hidden: 1024, layers: 4, heads: 8, intermediate: 2816, vocab: 4096, originalRows: 2048 },
      tokenizerDir: DEMO.released,
    });
  }, 120_000);

  it("says what happened and what to do when the output cannot be written, and leaves nothing behind", async () => {
    const outFile = join(files.path, "no-such-folder", "out.gguf");
    await toRunStep(outFile, /^F16/);
    await fireEvent.click(screen.getByRole("button", { name: "Start conversion" }));
    const error = await stepError();
    expect(error).toContain("nothing was written");
    expect(screen.getByRole("button", { name: "Start conversion" })).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByText("Start the conversion first; the next step checks its result.")).toBeTruthy();
  });

  it("cancels a conversion while it writes the model file: the job ends cancelled and no model file ever appears", async () => {
    const outDir = join(files.path, "cancel-out");
    mkdirSync(outDir);
    const outFile = join(outDir, "cancelled.gguf");
    const appeared = new Set<string>();
    const watcher = watch(outDir, (_event, name) => name && appeared.add(name));
    const finished: EventMessage[] = [];
    const unsubscribe = api.subscribe((event) => event.name === "conversion.finished" && finished.push(event));
    try {
      await toRunStep(outFile, /^Q4_K_M/, { folder: bigRelease.modelDir, originalLlama: bigRelease.originalFile });
      await fireEvent.click(screen.getByRole("button", { name: "Start conversion" }));
      const cancel = await screen.findByRole("button", { name: "Cancel" });
      expect(document.activeElement).toBe(cancel);
      // Cancel once the model file is being written, before it is half done.
      const writing = within(step()).getByRole("progressbar", { name: "Writing the model file" });
      await waitFor(
        () => {
          const done = Number(writing.getAttribute("value"));
          expect(done).toBeGreaterThan(0);
          expect(done).toBeLessThan(0.5);
        },
        { timeout: 60_000, interval: 10 },
      );
      expect(readdirSync(outDir).filter((name) => name.startsWith(".cancelled.gguf.partial-"))).toHaveLength(1);
      await fireEvent.click(cancel);
      await waitFor(() => expect(step().textContent).toContain("The conversion was cancelled; nothing was written."), { timeout: 30_000 });
      expect(screen.queryByTestId("conversion-done")).toBeNull();
      expect(Number(writing.getAttribute("value"))).toBeLessThan(1);
      expect(finished).toEqual([{ name: "conversion.finished", payload: { jobId: expect.any(String), outcome: { ok: false, error: expect.objectContaining({ code: "cancelled" }) } } }]);
      // The partial file was there while it ran, and is gone; the model file never existed.
      expect(readdirSync(outDir)).toEqual([]);
      expect([...appeared].some((name) => name.startsWith(".cancelled.gguf.partial-"))).toBe(true);
      expect(appeared.has("cancelled.gguf")).toBe(false);
      expect(existsSync(outFile)).toBe(false);
      expect(screen.getByRole("button", { name: "Start conversion" })).toBeTruthy();
    } finally {
      watcher.close();
      unsubscribe();
    }
  });
});
