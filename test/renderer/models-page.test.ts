// The Models page in jsdom against the real services in-process: importing the demo model (typed path,
// Electron's picker, a file dropped on the window, the OS handing over a file), its metadata and memory-fit
// badge, load/unload, rename, prompt format, default, delete with confirmation, and missing files.
import { copyFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ApiClient } from "../../src-main/contract/api.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { createApiClient } from "../../src-renderer/src/backend/api-client.js";
import { I18n } from "../../src-renderer/src/i18n/i18n.svelte.js";
import App from "../../src-renderer/src/shell/app.svelte";
import { Router } from "../../src-renderer/src/shell/router.svelte.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { makeTempDir } from "../support/temp-dir.js";

const SLOW = { timeout: 60_000 };
const files = makeTempDir("billa-models-files-");
const dataDir = makeTempDir("billa-models-data-");
let services: Services;
let api: ApiClient;
let demo: string;

beforeAll(async () => {
  demo = await makeDemoGguf(files.path, "q8_0");
  services = createServices({ dataDir: dataDir.path, transport: "web" });
  api = createApiClient(services.api);
}, 60_000);
afterEach(cleanup);
afterAll(async () => {
  await services?.dispose();
  dataDir.remove();
  files.remove();
});

function renderApp(locale: "en" | "zh-CN" = "en", hash = "#/models", client: ApiClient = api) {
  window.location.hash = hash;
  const router = new Router(window.location);
  render(App, { props: { api: client, i18n: new I18n(locale), router } });
  return router;
}

async function clearLibrary(): Promise<void> {
  await api.invoke("runtime.unload", {});
  for (const entry of (await api.invoke("models.list", {})).models) await api.invoke("models.delete", { id: entry.id });
}

async function importByPath(path: string): Promise<HTMLElement> {
  await fireEvent.input(screen.getByRole("textbox", { name: "Model file path" }), { target: { value: path } });
  await fireEvent.click(screen.getByRole("button", { name: "Import model" }));
  return screen.findByRole("article", {}, { timeout: 20_000 });
}

describe("the Models page", SLOW, () => {
  it("says the library is empty, with a way to the converter", async () => {
    await clearLibrary();
    renderApp();
    expect(await screen.findByText("Your model library is empty.")).toBeTruthy();
    expect(screen.getByRole("link", { name: /Convert BiLLa's weights/ }).getAttribute("href")).toBe("#/convert");
    expect(screen.getByLabelText("Model file").getAttribute("type")).toBe("file");
  });

  it("imports a GGUF by typed path and shows its metadata and a memory-fit badge", async () => {
    await clearLibrary();
    renderApp();
    const card = await importByPath(demo);
    const inCard = within(card);
    expect(inCard.getByRole("heading", { name: "BiLLa demo" })).toBeTruthy();
    expect((await screen.findByTestId("models-notice")).textContent).toContain("BiLLa demo was added to the library.");
    expect(inCard.getByText("llama")).toBeTruthy();
    expect(inCard.getByText("Q8_0")).toBeTruthy();
    expect(inCard.getByText("BiLLa", { selector: ".badge" })).toBeTruthy();
    expect(inCard.getByText("Default")).toBeTruthy();
    expect(inCard.getByText("in the app's models folder")).toBeTruthy();
    const badge = await inCard.findByTestId("fit-badge", {}, { timeout: 20_000 });
    expect(badge.textContent).toBe("Fits in memory");
    expect(inCard.getByTestId("memory-need").textContent).toMatch(/about .*(KiB|MiB)/);
  });

  it("loads with a progress bar and unloads, showing the memory in use", async () => {
    await clearLibrary();
    await api.invoke("models.import", { path: demo, mode: "register" });
    renderApp();
    const card = await screen.findByRole("article");
    await fireEvent.click(within(card).getByRole("button", { name: "Load" }));
    const unload = await within(card).findByRole("button", { name: "Unload" }, { timeout: 30_000 });
    expect(screen.getByTestId("loaded-model").textContent).toContain("BiLLa demo");
    expect(screen.getByTestId("loaded-model").textContent).toContain("running on the processor");
    expect(screen.getByTestId("loaded-memory").textContent).toMatch(/Memory: .* RAM, .* video memory · context 2048 tokens/);
    expect(within(card).getByText("Loaded")).toBeTruthy();
    await fireEvent.click(unload);
    await within(card).findByRole("button", { name: "Load" }, { timeout: 10_000 });
    expect(screen.getByTestId("loaded-model").textContent).toContain("No model is loaded");
    expect((await api.invoke("runtime.state", {})).loaded).toBeNull();
  });

  it("loads with the chosen context size", async () => {
    await clearLibrary();
    await api.invoke("models.import", { path: demo, mode: "register" });
    renderApp();
    const card = await screen.findByRole("article");
    await fireEvent.change(screen.getByRole("spinbutton", { name: "Context size (tokens)" }), { target: { value: "1024" } });
    await fireEvent.click(within(card).getByRole("button", { name: "Load" }));
    await within(card).findByRole("button", { name: "Unload" }, { timeout: 30_000 });
    expect((await api.invoke("runtime.state", {})).loaded?.contextSize).toBe(1024);
    await api.invoke("runtime.unload", {});
  });

  it("renames, changes the prompt format, makes another model the default and deletes after confirming", async () => {
    await clearLibrary();
    await api.invoke("models.import", { path: demo, mode: "register" });
    const second = join(files.path, "second.gguf");
    copyFileSync(demo, second);
    const other = await api.invoke("models.import", { path: second, mode: "register" });
    await api.invoke("models.rename", { id: other.id, name: "Second" });
    renderApp();
    const card = (await screen.findByRole("heading", { name: "Second" })).closest("article")!;
    const inCard = within(card as HTMLElement);

    await fireEvent.click(inCard.getByRole("button", { name: "Rename" }));
    await fireEvent.input(inCard.getByRole("textbox", { name: "New name" }), { target: { value: "Renamed copy" } });
    await fireEvent.click(inCard.getByRole("button", { name: "Save" }));
    await inCard.findByRole("heading", { name: "Renamed copy" });

    await fireEvent.change(inCard.getByRole("combobox", { name: "Prompt format" }), { target: { value: "model" } });
    await waitFor(async () => expect((await api.invoke("models.list", {})).models.find((m) => m.id === other.id)).toMatchObject({ promptFormat: "model" }));

    await fireEvent.click(inCard.getByRole("button", { name: "Make default" }));
    await inCard.findByText("Default");
    expect((await api.invoke("models.list", {})).models.find((m) => m.isDefault)?.id).toBe(other.id);

    const remove = inCard.getByRole("button", { name: "Delete" }) as HTMLButtonElement;
    await waitFor(() => expect(remove.disabled).toBe(false));
    await fireEvent.click(remove);
    const dialog = inCard.getByRole("alertdialog", { name: /^Delete\s*Renamed copy\s*\?$/ });
    expect(within(dialog).getByText(/the file stays where it is/)).toBeTruthy();
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: "Keep" }));
    await fireEvent.click(within(dialog).getByRole("button", { name: "Keep" }));
    expect(inCard.queryByRole("alertdialog")).toBeNull();
    await fireEvent.click(inCard.getByRole("button", { name: "Delete" }));
    await fireEvent.click(within(inCard.getByRole("alertdialog")).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.queryByRole("heading", { name: "Renamed copy" })).toBeNull());
    expect((await api.invoke("models.list", {})).models).toHaveLength(1);
    expect((await screen.findByTestId("models-notice")).textContent).toContain("Renamed copy was removed from the library.");
  });

  it("says what went wrong when the path is missing, wrong or not a model", async () => {
    await clearLibrary();
    renderApp();
    await fireEvent.click(screen.getByRole("button", { name: "Import model" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Type the path of the model file first");

    await fireEvent.input(screen.getByRole("textbox", { name: "Model file path" }), { target: { value: join(files.path, "nope.gguf") } });
    await fireEvent.click(screen.getByRole("button", { name: "Import model" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("There is no file at"));

    const text = join(files.path, "notes.gguf");
    writeFileSync(text, "just some notes");
    await fireEvent.input(screen.getByRole("textbox", { name: "Model file path" }), { target: { value: text } });
    await fireEvent.click(screen.getByRole("button", { name: "Import model" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("cannot be used as a model"));
    expect((await api.invoke("models.list", {})).models).toHaveLength(0);
  });

  it("shows an entry whose file is gone as missing and does not offer to load it", async () => {
    await clearLibrary();
    const gone = join(files.path, "gone.gguf");
    copyFileSync(demo, gone);
    await api.invoke("models.import", { path: gone, mode: "register" });
    rmSync(gone);
    renderApp();
    const card = await screen.findByRole("article");
    expect(within(card).getByText("File missing")).toBeTruthy();
    expect(within(card).getByText(/no longer there/)).toBeTruthy();
    expect((within(card).getByRole("button", { name: "Load" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("explains, in web mode, that a chosen or dropped file needs its path typed", async () => {
    await clearLibrary();
    renderApp("en", "#/chat");
    const file = new File(["GGUF"], "billa-7b.gguf");
    await fireEvent.drop(window, { dataTransfer: { files: [file], types: ["Files"] } });
    await waitFor(() => expect(window.location.hash).toBe("#/models"));
    expect((await screen.findByRole("status", {}, { timeout: 5000 })).textContent).toMatch(/You dropped or chose billa-7b\.gguf.*type its full path/);

    await fireEvent.drop(window, { dataTransfer: { files: [new File(["x"], "notes.txt")], types: ["Files"] } });
    expect((await screen.findByRole("alert")).textContent).toContain("notes.txt is not a .gguf model file");

    const input = screen.getByLabelText("Model file") as HTMLInputElement;
    Object.defineProperty(input, "files", { value: [file], configurable: true });
    await fireEvent.change(input);
    expect((await screen.findByRole("status")).textContent).toContain("billa-7b.gguf");
    expect(document.activeElement).toBe(screen.getByRole("textbox", { name: "Model file path" }));
  });

  it("imports a file the desktop shell was asked to open, from any page", async () => {
    await clearLibrary();
    renderApp("en", "#/settings");
    services.openModelFile(demo);
    await waitFor(() => expect(window.location.hash).toBe("#/models"));
    const card = await screen.findByRole("article", {}, { timeout: 20_000 });
    expect(within(card).getByRole("heading", { name: "BiLLa demo" })).toBeTruthy();
  });

  it("uses the native file picker in Electron", async () => {
    const electronData = makeTempDir("billa-models-electron-");
    const picked: string[] = [];
    const electron = createServices({
      dataDir: electronData.path,
      transport: "electron",
      shell: {
        pickFile: async (options) => {
          picked.push(options.filters.map((filter) => filter.extensions.join(",")).join(";"));
          return { path: demo };
        },
        pickFolder: async () => ({ path: null }),
        pickSaveFile: async () => ({ path: null }),
        openPath: async () => ({ opened: true }),
        openExternal: async () => ({ opened: true }),
      },
    });
    try {
      renderApp("en", "#/models", createApiClient(electron.api));
      await screen.findByRole("button", { name: "Choose file…" });
      expect(screen.queryByLabelText("Model file")).toBeNull();
      await fireEvent.click(screen.getByRole("button", { name: "Import model" }));
      const card = await screen.findByRole("article", {}, { timeout: 20_000 });
      expect(within(card).getByRole("heading", { name: "BiLLa demo" })).toBeTruthy();
      expect(picked).toEqual(["gguf"]);
    } finally {
      cleanup();
      await electron.dispose();
      electronData.remove();
    }
  });

  it("reads in Chinese", async () => {
    await clearLibrary();
    await api.invoke("models.import", { path: demo, mode: "register" });
    renderApp("zh-CN");
    const card = await screen.findByRole("article");
    expect(within(card).getByRole("button", { name: "加载" })).toBeTruthy();
    expect(within(card).getByText("参数量")).toBeTruthy();
    expect(screen.getByRole("button", { name: "导入模型" })).toBeTruthy();
    expect(screen.getByLabelText("模型文件")).toBeTruthy();
  });
});
