// The shell's components in jsdom, talking to the real services in-process through the same client code
// the Electron and web backends use.
import { cpus } from "node:os";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createServices } from "../../src-main/services/create-services.js";
import { createApiClient } from "../../src-renderer/src/backend/api-client.js";
import { I18n, localeFromSystem } from "../../src-renderer/src/i18n/i18n.svelte.js";
import App from "../../src-renderer/src/shell/app.svelte";
import { Router } from "../../src-renderer/src/shell/router.svelte.js";
import { makeTempDir } from "../support/temp-dir.js";

const dataDir = makeTempDir();
const services = createServices({ dataDir: dataDir.path, transport: "web" });
afterEach(cleanup);
afterAll(async () => {
  await services.dispose();
  dataDir.remove();
});

function renderApp(locale: "en" | "zh-CN", hash = "#/chat") {
  window.location.hash = hash;
  const i18n = new I18n(locale);
  render(App, { props: { api: createApiClient(services.api), i18n, router: new Router(window.location) } });
  return i18n;
}

describe("the app shell", () => {
  it("names the navigation links in English", () => {
    renderApp("en");
    const nav = within(screen.getByRole("navigation", { name: "Main" }));
    for (const name of ["Chat", "Models", "Convert", "Settings"]) {
      expect(nav.getByRole("link", { name })).toBeTruthy();
    }
    expect(nav.getByRole("link", { name: "Chat" }).getAttribute("aria-current")).toBe("page");
  });

  it("switches every navigation label to Chinese at run time", async () => {
    renderApp("en");
    await fireEvent.change(screen.getByRole("combobox", { name: "Language" }), { target: { value: "zh-CN" } });
    const nav = within(screen.getByRole("navigation", { name: "主导航" }));
    for (const name of ["对话", "模型", "转换", "设置"]) {
      expect(nav.getByRole("link", { name })).toBeTruthy();
    }
    expect(document.documentElement.lang).toBe("zh-CN");
  });

  it("shows this computer's real processor and the data folder on the Settings page", async () => {
    renderApp("en", "#/settings");
    const cpu = await screen.findByTestId("system-cpu", {}, { timeout: 10_000 });
    expect(cpu.textContent).toBe(cpus()[0]!.model.trim());
    expect((await screen.findByTestId("data-dir")).textContent).toBe(dataDir.path);
  });

  it("picks Chinese for any zh system language and English otherwise", () => {
    expect(localeFromSystem(["zh-TW", "en"])).toBe("zh-CN");
    expect(localeFromSystem(["en-US", "zh-CN"])).toBe("zh-CN");
    expect(localeFromSystem(["de-DE", "en-US"])).toBe("en");
  });
});
