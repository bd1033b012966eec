// The Settings page's local API panel in jsdom against the real services and the real HTTP server: switching
// it on and off, the base URL and key (copy, show, renew), the port, the LAN switch and its warning, allowed
// origins, history saving, and the live request count, in both languages.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ApiClient } from "../../src-main/contract/api.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { startOpenAiServer } from "../../src-main/transports/openai-api/openai-server.js";
import { createApiClient } from "../../src-renderer/src/backend/api-client.js";
import { I18n } from "../../src-renderer/src/i18n/i18n.svelte.js";
import App from "../../src-renderer/src/shell/app.svelte";
import { Router } from "../../src-renderer/src/shell/router.svelte.js";
import { golden } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { rawRequest } from "../support/raw-http.js";
import { makeTempDir } from "../support/temp-dir.js";

const SLOW = { timeout: 60_000 };
const dataDir = makeTempDir("billa-settings-api-");
let services: Services;
let api: ApiClient;
const copied: string[] = [];

beforeAll(async () => {
  const modelPath = await makeDemoGguf(dataDir.path, "q8_0");
  services = createServices({ dataDir: dataDir.path, transport: "web", gpu: "cpu", listenApi: startOpenAiServer });
  api = createApiClient(services.api);
  await api.invoke("runtime.load", { modelPath, contextSize: 1024, threads: 1 });
  // jsdom has no Clipboard API; this stands in for the browser's.
  Object.defineProperty(navigator, "clipboard", { configurable: true, value: { writeText: async (text: string) => void copied.push(text) } });
}, 60_000);
afterEach(cleanup);
afterAll(async () => {
  await services?.dispose();
  dataDir.remove();
});

function renderSettings(locale: "en" | "zh-CN" = "en") {
  window.location.hash = "#/settings";
  render(App, { props: { api, i18n: new I18n(locale), router: new Router(window.location) } });
}

async function apiPanel() {
  const heading = await screen.findByRole("heading", { name: "Local API (OpenAI-compatible)" });
  const card = heading.closest("section")!;
  await within(card).findByRole("checkbox", { name: "Serve the API" });
  return within(card);
}

const field = (panel: ReturnType<typeof within>, name: string) => panel.getByLabelText(name) as HTMLInputElement;

describe("the Settings page's local API panel", SLOW, () => {
  it("is off until switched on, then shows the base URL and key that work, with the live request count", async () => {
    renderSettings();
    const panel = await apiPanel();
    expect(panel.getByTestId("api-state").textContent?.trim()).toBe("Off");
    expect(field(panel, "Base URL").value).toBe("Not running");
    expect(field(panel, "Port").value).toBe("24552");

    // Port 0 picks a free one (24552 may be taken on a shared test machine).
    await fireEvent.change(field(panel, "Port"), { target: { value: "0" } });
    await waitFor(async () => expect((await api.invoke("settings.get", {})).apiServer.port).toBe(0));
    await fireEvent.click(panel.getByRole("checkbox", { name: "Serve the API" }));
    await waitFor(() => expect(panel.getByTestId("api-state").textContent?.trim()).toBe("Running"));
    const baseUrl = field(panel, "Base URL").value;
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);

    const key = field(panel, "API key");
    expect(key.type).toBe("password");
    await fireEvent.click(panel.getByRole("button", { name: "Show key" }));
    expect(key.type).toBe("text");
    await fireEvent.click(panel.getByRole("button", { name: "Copy the API key" }));
    await waitFor(() => expect(copied.at(-1)).toBe(key.value));
    await fireEvent.click(panel.getByRole("button", { name: "Copy the base URL" }));
    await waitFor(() => expect(copied.at(-1)).toBe(baseUrl));

    const c = golden.cases[0]!;
    const body = JSON.stringify({ messages: [{ role: "user", content: c.prompt.slice("Human: ".length, -"\nAssistant: ".length) }], temperature: 0 });
    const answer = await rawRequest(baseUrl, "/v1/chat/completions", { method: "POST", headers: { Authorization: `Bearer ${key.value}`, "Content-Type": "application/json" }, body });
    expect(JSON.parse(answer.body).choices[0].message.content).toBe(c.greedy_text);
    await waitFor(() => expect(panel.getByTestId("api-requests").textContent).toContain("1 answered"));

    // Renewing: the field shows the new key, and the old one is refused at once.
    const oldKey = key.value;
    await fireEvent.click(panel.getByRole("button", { name: "Renew key" }));
    await waitFor(() => expect(field(panel, "API key").value).not.toBe(oldKey));
    expect((await rawRequest(baseUrl, "/v1/models", { headers: { Authorization: `Bearer ${oldKey}` } })).status).toBe(401);
    expect((await rawRequest(baseUrl, "/v1/models", { headers: { Authorization: `Bearer ${field(panel, "API key").value}` } })).status).toBe(200);
  });

  it("refuses a port out of range, warns about the LAN, and checks allowed origins", async () => {
    renderSettings();
    const panel = await apiPanel();
    await fireEvent.change(field(panel, "Port"), { target: { value: "70000" } });
    expect(panel.getByText(/Use a whole number from 0 to 65535/)).toBeTruthy();
    expect(field(panel, "Port").getAttribute("aria-invalid")).toBe("true");
    expect((await api.invoke("settings.get", {})).apiServer.port).toBe(0);

    const lan = panel.getByRole("checkbox", { name: "Listen on the local network" });
    expect(panel.queryByRole("alert")).toBeNull();
    await fireEvent.click(lan);
    await waitFor(async () => expect((await api.invoke("apiServer.status", {})).settings.lan).toBe(true));
    expect((await panel.findByRole("alert")).textContent).toContain("anyone who has the key can use the model");
    await fireEvent.click(lan);
    await waitFor(async () => expect((await api.invoke("apiServer.status", {})).settings.lan).toBe(false));

    const origins = panel.getByLabelText("Web pages allowed to call it (CORS origins)");
    await fireEvent.change(origins, { target: { value: "http://localhost:3000/" } });
    expect((await panel.findByRole("alert")).textContent).toContain("http://localhost:3000/");
    expect((await api.invoke("settings.get", {})).apiServer.allowedOrigins).toEqual([]);
    await fireEvent.change(origins, { target: { value: "http://localhost:3000\n\nhttps://tools.example:8443\n" } });
    await waitFor(async () => expect((await api.invoke("settings.get", {})).apiServer.allowedOrigins).toEqual(["http://localhost:3000", "https://tools.example:8443"]));

    await fireEvent.click(panel.getByRole("checkbox", { name: /Save API conversations in the history/ }));
    await waitFor(async () => expect((await api.invoke("settings.get", {})).apiServer.saveHistory).toBe(true));
  });

  it("reads in Chinese, and switches off", async () => {
    renderSettings("zh-CN");
    const heading = await screen.findByRole("heading", { name: "本地 API（兼容 OpenAI）" });
    const panel = within(heading.closest("section")!);
    const serve = await panel.findByRole("checkbox", { name: "提供 API 服务" });
    expect(panel.getByTestId("api-state").textContent?.trim()).toBe("运行中");
    expect(panel.getByRole("button", { name: "更换密钥" })).toBeTruthy();
    expect(panel.getByRole("checkbox", { name: "在局域网中提供服务" })).toBeTruthy();
    await fireEvent.click(serve);
    await waitFor(() => expect(panel.getByTestId("api-state").textContent?.trim()).toBe("已关闭"));
    expect((panel.getByLabelText("基础 URL") as HTMLInputElement).value).toBe("未运行");
  });
});
