// The API server's life as the Settings page drives it: off by default, switched on and off, its key renewed,
// a taken port reported, the LAN switch, API conversations saved in the history when asked, and a new process
// starting it from the saved settings (as the desktop app and web mode do).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiClient, ApiServerStatus, EventMessage } from "../../src-main/contract/api.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { startOpenAiServer } from "../../src-main/transports/openai-api/openai-server.js";
import { createApiClient } from "../../src-renderer/src/backend/api-client.js";
import { golden } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { messagesOf } from "../support/openai-api.js";
import { rawRequest } from "../support/raw-http.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir("billa-api-server-");
let services: Services;
let api: ApiClient;
let modelPath: string;

beforeAll(async () => {
  modelPath = await makeDemoGguf(temp.path, "q8_0");
  services = createServices({ dataDir: temp.path, transport: "cli", gpu: "cpu", listenApi: startOpenAiServer });
  api = createApiClient(services.api);
  await api.invoke("runtime.load", { modelPath, contextSize: 2048, threads: 1 });
});
afterAll(async () => {
  await services?.dispose();
  temp.remove();
});

const clientFor = (status: ApiServerStatus) => new OpenAI({ baseURL: status.baseUrl!, apiKey: status.apiKey, maxRetries: 0 });
const ask = (client: OpenAI, messages: ReturnType<typeof messagesOf>) => client.chat.completions.create({ model: "BiLLa demo", messages, temperature: 0 });

describe("the API server's settings and life", () => {
  it("is off by default, listening nowhere, and settings.get never shows the key", async () => {
    const status = await api.invoke("apiServer.status", {});
    expect(status).toMatchObject({ state: "off", baseUrl: null, lanUrls: [], error: null, settings: { enabled: false, port: 24552, lan: false, allowedOrigins: [], saveHistory: false } });
    expect(status.apiKey).toMatch(/^billa-[\w-]{32}$/);
    expect(JSON.stringify(await api.invoke("settings.get", {}))).not.toContain(status.apiKey);
    // The key is kept: asked again, it is the same.
    expect((await api.invoke("apiServer.status", {})).apiKey).toBe(status.apiKey);
  });

  it("starts when switched on, on 127.0.0.1, telling every window", async () => {
    const events: EventMessage[] = [];
    const unsubscribe = api.subscribe((event) => events.push(event));
    const status = await api.invoke("apiServer.configure", { enabled: true, port: 0 });
    unsubscribe();
    expect(status.state).toBe("running");
    expect(status.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(events.some((event) => event.name === "apiServer.status" && event.payload.state === "running")).toBe(true);
    expect((await ask(clientFor(status), messagesOf(golden.cases[0]!))).choices[0]!.message.content).toBe(golden.cases[0]!.greedy_text);
  });

  it("counts the requests it served", async () => {
    const before = (await api.invoke("apiServer.status", {})).requests.served;
    const status = await api.invoke("apiServer.status", {});
    await Promise.all(golden.cases.slice(0, 3).map((c) => ask(clientFor(status), messagesOf(c))));
    expect((await api.invoke("apiServer.status", {})).requests).toMatchObject({ active: 0, queued: 0, served: before + 3 });
  });

  it("renews the key: the old one stops working at once, the new one works, and it is kept", async () => {
    const old = await api.invoke("apiServer.status", {});
    const renewed = await api.invoke("apiServer.renewKey", {});
    expect(renewed.apiKey).not.toBe(old.apiKey);
    expect(renewed.baseUrl).toBe(old.baseUrl);
    expect((await rawRequest(old.baseUrl!, "/v1/models", { headers: { Authorization: `Bearer ${old.apiKey}` } })).status).toBe(401);
    expect((await rawRequest(old.baseUrl!, "/v1/models", { headers: { Authorization: `Bearer ${renewed.apiKey}` } })).status).toBe(200);
  });

  it("says so when its port is taken, and starts once given a free one", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const failed = await api.invoke("apiServer.configure", { port });
      expect(failed).toMatchObject({ state: "failed", baseUrl: null });
      expect(failed.error).toContain(`Port ${port} is already in use`);
      const running = await api.invoke("apiServer.configure", { port: 0 });
      expect(running).toMatchObject({ state: "running", error: null });
    } finally {
      blocker.close();
    }
  });

  it("listens on the LAN only when switched to, and then accepts this computer's addresses as Host", async () => {
    const local = await api.invoke("apiServer.status", {});
    const port = new URL(local.baseUrl!).port;
    const headers = { Authorization: `Bearer ${local.apiKey}` };
    expect((await rawRequest(local.baseUrl!, "/v1/models", { headers: { ...headers, Host: `192.168.1.20:${port}` } })).status).toBe(403);

    const lan = await api.invoke("apiServer.configure", { lan: true });
    expect(lan.state).toBe("running");
    expect(lan.settings.lan).toBe(true);
    expect(lan.lanUrls.every((url) => /^http:\/\/\d+\.\d+\.\d+\.\d+:\d+\/v1$/.test(url))).toBe(true);
    const lanPort = new URL(lan.baseUrl!).port;
    expect((await rawRequest(lan.baseUrl!, "/v1/models", { headers: { ...headers, Host: `192.168.1.20:${lanPort}` } })).status).toBe(200);
    expect((await rawRequest(lan.baseUrl!, "/v1/models", { headers: { ...headers, Host: `evil.example:${lanPort}` } })).status).toBe(403);
    // Still the key on every /v1 route.
    expect((await rawRequest(lan.baseUrl!, "/v1/models", { headers: { Host: `192.168.1.20:${lanPort}` } })).status).toBe(401);
    expect((await api.invoke("apiServer.configure", { lan: false })).lanUrls).toEqual([]);
  });

  it("saves API conversations in the history only when asked, marked as API, continuing a resent conversation", async () => {
    const client = clientFor(await api.invoke("apiServer.status", {}));
    const [turn1, turn2] = [golden.cases.find((c) => c.id === "dialog-dish-turn1")!, golden.cases.find((c) => c.id === "dialog-dish-turn2")!];
    await ask(client, messagesOf(turn1));
    expect((await api.invoke("history.list", {})).conversations).toHaveLength(0);

    await api.invoke("apiServer.configure", { saveHistory: true });
    await ask(client, messagesOf(turn1));
    // The client sends the whole conversation again with its next question: the same conversation goes on.
    expect((await ask(client, messagesOf(turn2))).choices[0]!.message.content).toBe(turn2.greedy_text);
    await ask(client, messagesOf(golden.cases[0]!));
    const { conversations } = await api.invoke("history.list", {});
    expect(conversations).toHaveLength(2);
    expect(conversations.every((c) => c.source === "api")).toBe(true);
    const dialogue = conversations.find((c) => c.title === messagesOf(turn1)[0]!.content)!;
    const { messages } = await api.invoke("history.get", { id: dialogue.id });
    expect(messages.map((m) => [m.role, m.text, m.status])).toEqual(
      messagesOf(turn2)
        .concat({ role: "assistant", content: turn2.greedy_text })
        .map((m) => [m.role, m.content, "complete"]),
    );
    expect(messages.at(-1)!.model).toBe("BiLLa demo");
    await api.invoke("apiServer.configure", { saveHistory: false });
  });

  it("stops when switched off, and a new process starts it from the saved settings", async () => {
    const running = await api.invoke("apiServer.status", {});
    const off = await api.invoke("apiServer.configure", { enabled: false });
    expect(off).toMatchObject({ state: "off", baseUrl: null });
    await expect(rawRequest(running.baseUrl!, "/health")).rejects.toThrow(/ECONNREFUSED/);

    await api.invoke("apiServer.configure", { enabled: true, port: 0 });
    const key = (await api.invoke("apiServer.status", {})).apiKey;
    await services.dispose();
    services = createServices({ dataDir: temp.path, transport: "web", gpu: "cpu", listenApi: startOpenAiServer });
    api = createApiClient(services.api);
    const restarted = await services.apiServer.startFromSettings();
    expect(restarted).toMatchObject({ state: "running", apiKey: key });
    // No model is loaded in this process: /health says so, and a request loads the library's default (none here).
    expect(JSON.parse((await rawRequest(restarted.baseUrl!, "/health")).body)).toEqual({ status: "ok", model_loaded: false, model: null });
    const error = await clientFor(restarted)
      .chat.completions.create({ model: "BiLLa demo", messages: messagesOf(golden.cases[0]!) })
      .catch((thrown: unknown) => thrown as { status: number });
    expect(error).toMatchObject({ status: 404 });
  });
});
