// The Settings page in jsdom against the real services: language (and the shell's switch), theme on <html>,
// GPU backend and load defaults, default sampling, the data folder, and backup/restore with a confirmation.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ApiClient } from "../../src-main/contract/api.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { createApiClient } from "../../src-renderer/src/backend/api-client.js";
import { I18n } from "../../src-renderer/src/i18n/i18n.svelte.js";
import App from "../../src-renderer/src/shell/app.svelte";
import { Router } from "../../src-renderer/src/shell/router.svelte.js";
import { makeTempDir } from "../support/temp-dir.js";

const SLOW = { timeout: 30_000 };
const dataDir = makeTempDir("billa-settings-data-");
const files = makeTempDir("billa-settings-files-");
let services: Services;
let api: ApiClient;

beforeAll(() => {
  services = createServices({ dataDir: dataDir.path, transport: "web" });
  api = createApiClient(services.api);
});
beforeEach(async () => {
  localStorage.clear();
  await api.invoke("settings.update", { language: "system", theme: "system", gpu: "auto", gpuLayers: "auto", contextSize: 2048 });
});
afterEach(cleanup);
afterAll(async () => {
  await services?.dispose();
  dataDir.remove();
  files.remove();
});

function renderSettings(locale: "en" | "zh-CN" = "en", client: ApiClient = api, hash = "#/settings") {
  window.location.hash = hash;
  const i18n = new I18n(locale);
  render(App, { props: { api: client, i18n, router: new Router(window.location) } });
  return i18n;
}

async function settled(): Promise<void> {
  // The page is ready once the settings have been read (the language select shows the stored choice).
  await waitFor(() => expect(screen.getByTestId("data-dir").textContent).not.toBe("…"));
  await waitFor(() => expect(screen.getByText(/Changes are saved|Saved\.|更改会立即保存|已保存/)).toBeTruthy());
}

describe("the Settings page", SLOW, () => {
  it("switches the theme on <html> and remembers it", async () => {
    renderSettings();
    await settled();
    const theme = within(screen.getByRole("group", { name: "Theme" }));
    await fireEvent.click(theme.getByRole("radio", { name: "Dark" }));
    await waitFor(() => expect(document.documentElement.dataset["theme"]).toBe("dark"));
    expect((await api.invoke("settings.get", {})).theme).toBe("dark");
    await fireEvent.click(theme.getByRole("radio", { name: "Light" }));
    await waitFor(() => expect(document.documentElement.dataset["theme"]).toBe("light"));
    expect((await api.invoke("settings.get", {})).theme).toBe("light");
    await waitFor(() => expect(screen.getByText("Saved.")).toBeTruthy());

    // A new window starts in the saved theme.
    cleanup();
    document.documentElement.removeAttribute("data-theme");
    await api.invoke("settings.update", { theme: "dark" });
    renderSettings();
    await waitFor(() => expect(document.documentElement.dataset["theme"]).toBe("dark"));
  });

  it("changes the language, follows the system on request, and keeps the shell's switch in step", async () => {
    const i18n = renderSettings();
    await settled();
    await fireEvent.change(screen.getByRole("combobox", { name: "Interface text" }), { target: { value: "zh-CN" } });
    expect(i18n.locale).toBe("zh-CN");
    expect(within(screen.getByRole("navigation")).getByRole("link", { name: "设置" })).toBeTruthy();
    await waitFor(async () => expect((await api.invoke("settings.get", {})).language).toBe("zh-CN"));

    // jsdom's system language is English.
    await fireEvent.change(screen.getByRole("combobox", { name: "界面文字" }), { target: { value: "system" } });
    expect(i18n.locale).toBe("en");
    await waitFor(async () => expect((await api.invoke("settings.get", {})).language).toBe("system"));

    // The switch above the navigation saves its choice too, and a new window opens in it.
    await fireEvent.change(within(screen.getByRole("complementary")).getByRole("combobox", { name: "Language" }), { target: { value: "zh-CN" } });
    await waitFor(async () => expect((await api.invoke("settings.get", {})).language).toBe("zh-CN"));
    cleanup();
    const next = renderSettings("en");
    await waitFor(() => expect(next.locale).toBe("zh-CN"));
  });

  it("keeps the GPU backend for the next start and the load defaults for the Models page", async () => {
    renderSettings();
    await settled();
    expect(screen.getByText("Takes effect after restarting the app.")).toBeTruthy();
    await fireEvent.change(screen.getByRole("combobox", { name: "Graphics backend" }), { target: { value: "vulkan" } });
    expect(await screen.findByText("Changed: restart the app to use it.")).toBeTruthy();
    await waitFor(async () => expect((await api.invoke("settings.get", {})).gpu).toBe("vulkan"));

    const layers = screen.getByRole("group", { name: "Default GPU layers" });
    await fireEvent.change(within(layers).getByRole("combobox"), { target: { value: "custom" } });
    await fireEvent.change(within(layers).getByRole("spinbutton", { name: "Number of GPU layers" }), { target: { value: "12" } });
    await fireEvent.change(screen.getByRole("spinbutton", { name: "Default context size (tokens)" }), { target: { value: "4096" } });
    await waitFor(async () => expect(await api.invoke("settings.get", {})).toMatchObject({ gpuLayers: 12, contextSize: 4096 }));

    await fireEvent.change(screen.getByRole("spinbutton", { name: "Default context size (tokens)" }), { target: { value: "100" } });
    expect(screen.getByText("Use a whole number from 256 to 131072.")).toBeTruthy();
    expect((await api.invoke("settings.get", {})).contextSize).toBe(4096);

    // The Models page loads with these defaults.
    await fireEvent.click(within(screen.getByRole("navigation")).getByRole("link", { name: "Models" }));
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    const context = (await screen.findByRole("spinbutton", { name: "Context size (tokens)" })) as HTMLInputElement;
    expect(context.value).toBe("4096");
  });

  it("saves valid default sampling values, refuses invalid ones and resets to BiLLa's", async () => {
    renderSettings();
    await settled();
    const temperature = screen.getByRole("spinbutton", { name: /Temperature/ }) as HTMLInputElement;
    await fireEvent.change(temperature, { target: { value: "0.2" } });
    await waitFor(async () => expect((await api.invoke("settings.get", {})).sampling.temperature).toBe(0.2));
    await fireEvent.change(temperature, { target: { value: "5" } });
    expect(temperature.getAttribute("aria-invalid")).toBe("true");
    expect((await api.invoke("settings.get", {})).sampling.temperature).toBe(0.2);

    await fireEvent.click(screen.getByRole("checkbox", { name: /Fixed random seed/ }));
    await waitFor(async () => expect((await api.invoke("settings.get", {})).sampling.seed).toBe(42));
    await fireEvent.click(screen.getByRole("button", { name: "Reset to BiLLa's defaults" }));
    await waitFor(async () =>
      expect((await api.invoke("settings.get", {})).sampling).toEqual({ temperature: 0.7, topK: 50, topP: 1, minP: 0, repeatPenalty: null, seed: null, maxTokens: 1024 }),
    );
    // New conversations start with the defaults.
    expect((await api.invoke("history.create", {})).sampling.temperature).toBe(0.7);
  });

  it("shows the data folder and database, backs up and restores after confirming", async () => {
    await api.invoke("history.create", { title: "Kept in the backup" });
    renderSettings();
    await settled();
    expect(screen.getByTestId("data-dir").textContent).toBe(dataDir.path);
    expect(screen.getByTestId("database-path").textContent).toBe(join(dataDir.path, "billa.sqlite"));
    expect(screen.queryByRole("button", { name: "Open data folder" })).toBeNull();

    const backup = join(files.path, "backup.sqlite");
    const backupField = screen.getByRole("textbox", { name: "Backup file" }) as HTMLInputElement;
    expect(backupField.value).toMatch(new RegExp(`^${dataDir.path}.*billa-backup-\\d{4}-\\d{2}-\\d{2}\\.sqlite$`));
    await fireEvent.input(backupField, { target: { value: backup } });
    await fireEvent.click(screen.getByRole("button", { name: "Back up now" }));
    expect((await screen.findByTestId("backup-result", {}, { timeout: 10_000 })).textContent).toMatch(/Backed up .* to .*backup\.sqlite/);
    expect(existsSync(backup)).toBe(true);

    await fireEvent.input(screen.getByRole("textbox", { name: "Backup file" }), { target: { value: join(files.path, "no", "such", "folder", "b.sqlite") } });
    await fireEvent.click(screen.getByRole("button", { name: "Back up now" }));
    expect((await screen.findByRole("alert")).textContent).toContain("could not be written to");

    await api.invoke("history.create", { title: "Made after the backup" });
    await fireEvent.input(screen.getByRole("textbox", { name: "Backup to restore" }), { target: { value: backup } });
    await fireEvent.click(screen.getByRole("button", { name: "Restore…" }));
    const dialog = screen.getByRole("alertdialog", { name: "Replace the whole history with this backup?" });
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: "Keep current history" }));
    await fireEvent.click(within(dialog).getByRole("button", { name: "Keep current history" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect((await api.invoke("history.list", {})).conversations.map((c) => c.title)).toContain("Made after the backup");

    await fireEvent.click(screen.getByRole("button", { name: "Restore…" }));
    await fireEvent.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Replace history" }));
    expect((await screen.findByTestId("restore-result", {}, { timeout: 10_000 })).textContent).toMatch(/Restored \d+ conversations\. The previous history was saved to /);
    const titles = (await api.invoke("history.list", {})).conversations.map((c) => c.title);
    expect(titles).toContain("Kept in the backup");
    expect(titles).not.toContain("Made after the backup");

    await fireEvent.input(screen.getByRole("textbox", { name: "Backup to restore" }), { target: { value: join(files.path, "missing.sqlite") } });
    await fireEvent.click(screen.getByRole("button", { name: "Restore…" }));
    await fireEvent.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Replace history" }));
    await waitFor(() => expect(screen.getAllByRole("alert").some((alert) => /There is no backup at|not a BiLLa Desktop backup/.test(alert.textContent ?? ""))).toBe(true));
  });

  it("opens the data folder in Electron", async () => {
    const electronData = makeTempDir("billa-settings-electron-");
    const opened: string[] = [];
    const electron = createServices({
      dataDir: electronData.path,
      transport: "electron",
      shell: {
        pickFile: async () => ({ path: null }),
        pickFolder: async () => ({ path: null }),
        pickSaveFile: async () => ({ path: join(files.path, "picked.sqlite") }),
        openPath: async (path) => {
          opened.push(path);
          return { opened: true };
        },
        openExternal: async () => ({ opened: true }),
      },
    });
    try {
      renderSettings("en", createApiClient(electron.api));
      await fireEvent.click(await screen.findByRole("button", { name: "Open data folder" }));
      await waitFor(() => expect(opened).toEqual([electronData.path]));
      // The save dialog fills the backup path.
      await fireEvent.click(screen.getAllByRole("button", { name: "Choose…" })[0]!);
      await waitFor(() => expect((screen.getByRole("textbox", { name: "Backup file" }) as HTMLInputElement).value).toBe(join(files.path, "picked.sqlite")));
    } finally {
      cleanup();
      await electron.dispose();
      electronData.remove();
    }
  });

  it("reads in Chinese", async () => {
    renderSettings("zh-CN");
    await settled();
    expect(screen.getByRole("group", { name: "主题" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "立即备份" })).toBeTruthy();
    expect(screen.getByRole("combobox", { name: "显卡后端" })).toBeTruthy();
  });
});
