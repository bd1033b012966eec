import { afterAll, describe, expect, it } from "vitest";
import { requests, systemInfoSchema } from "../../src-main/contract/api.js";
import { BillaError } from "../../src-main/contract/errors.js";
import { createServices } from "../../src-main/services/create-services.js";
import { createDispatcher, type Handlers } from "../../src-main/services/dispatcher.js";
import { EventBus } from "../../src-main/services/event-bus.js";
import type { Logger } from "../../src-main/services/logger.js";
import { makeTempDir } from "../support/temp-dir.js";

const dataDir = makeTempDir();
const services = createServices({ dataDir: dataDir.path, transport: "cli" });
afterAll(async () => {
  await services.dispose();
  dataDir.remove();
});

describe("the dispatcher on the real services", () => {
  it("answers system.info with data that matches the contract's schema", async () => {
    const envelope = await services.api.invoke("system.info", {});
    expect(envelope.ok).toBe(true);
    if (!envelope.ok) return;
    const info = systemInfoSchema.parse(envelope.value);
    expect(info.cpu.logicalCores).toBeGreaterThan(0);
    expect(info.ram.totalBytes).toBeGreaterThan(info.ram.freeBytes);
    expect(info.versions.nodeLlamaCpp).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("rejects invalid input with a structured error before any service runs", async () => {
    const envelope = await services.api.invoke("system.info", { unexpected: 1 });
    expect(envelope).toMatchObject({ ok: false, error: { code: "invalid_input" } });
    if (envelope.ok) return;
    expect(envelope.error.issues?.length).toBeGreaterThan(0);
  });

  it("rejects input of the wrong type", async () => {
    expect(await services.api.invoke("app.info", "a string")).toMatchObject({ ok: false, error: { code: "invalid_input" } });
  });

  it("refuses names outside the contract, including inherited object keys", async () => {
    for (const name of ["system.reboot", "__proto__", "constructor", "toString"]) {
      expect(await services.api.invoke(name, {})).toMatchObject({ ok: false, error: { code: "unknown_request" } });
    }
  });

  it("reports the data directory it was built with", async () => {
    expect(await services.api.invoke("app.info", {})).toMatchObject({ ok: true, value: { dataDir: dataDir.path, transport: "cli" } });
  });
});

describe("what reaches a handler", () => {
  /**
   * Handlers that record each call. Every name resolves to one, inherited keys and names outside the contract
   * too, so a name check that let anything through would show up as a call.
   */
  function recordingApi() {
    const calls: [string, unknown][] = [];
    const handlers = new Proxy({} as Handlers, {
      get: (_target, name) => (input: unknown) => {
        calls.push([String(name), input]);
        return Promise.resolve({});
      },
    });
    const logger: Logger = { info: () => undefined, error: () => undefined };
    return { api: createDispatcher(handlers, new EventBus(), logger), calls };
  }

  it("passes valid input on, once, with the contract's defaults filled in", async () => {
    const { api, calls } = recordingApi();
    expect(await api.invoke("conversion.cancel", { jobId: "job-1" })).toEqual({ ok: true, value: {} });
    expect(await api.invoke("models.import", { path: "/models/m.gguf" })).toEqual({ ok: true, value: {} });
    expect(calls).toEqual([
      ["conversion.cancel", { jobId: "job-1" }],
      ["models.import", { path: "/models/m.gguf", mode: "copy" }],
    ]);
  });

  it("never calls a handler with invalid input", async () => {
    const { api, calls } = recordingApi();
    const invalid: [string, unknown][] = [
      ["system.info", { unexpected: 1 }],
      ["app.info", "a string"],
      ["app.info", undefined],
      ["conversion.cancel", { jobId: 42 }],
      ["conversion.start", { modelDir: "/billa", outFile: "/out/model.bin" }],
      ["models.rename", { id: "m", name: "   " }],
      ["runtime.load", {}],
      ["chat.generate", { conversationId: "c", messageId: "m", history: [], question: "" }],
    ];
    const answers = [];
    for (const [name, input] of invalid) answers.push(await api.invoke(name, input));
    expect(calls).toEqual([]);
    for (const answer of answers) expect(answer).toMatchObject({ ok: false, error: { code: "invalid_input" } });
  });

  it("never calls a handler for a name outside the contract", async () => {
    const { api, calls } = recordingApi();
    const answers = [];
    for (const name of ["system.reboot", "__proto__", "constructor", "toString", "hasOwnProperty", "APP.INFO", "app.info ", ""]) answers.push(await api.invoke(name, {}));
    expect(calls).toEqual([]);
    for (const answer of answers) expect(answer).toMatchObject({ ok: false, error: { code: "unknown_request" } });
  });
});

describe("errors crossing the boundary", () => {
  const logged: string[] = [];
  /** Every request fails the same way, so each test's failure is the one it sets up. */
  const failingWith = (error: Error) => Object.fromEntries(Object.keys(requests).map((name) => [name, () => Promise.reject(error)])) as unknown as Handlers;
  const logger: Logger = { info: () => undefined, error: (message, error) => logged.push(`${message} ${String(error)}`) };

  it("passes a service's BillaError on as code and message", async () => {
    const api = createDispatcher(failingWith(new BillaError("not_found", "No such model.")), new EventBus(), logger);
    expect(await api.invoke("app.info", {})).toEqual({ ok: false, error: { code: "not_found", message: "No such model." } });
  });

  it("turns any other failure into `internal` without its message or stack, and logs it", async () => {
    const secret = "/home/someone/secret.txt: contents";
    const api = createDispatcher(failingWith(new Error(secret)), new EventBus(), logger);
    const envelope = await api.invoke("app.info", {});
    expect(envelope).toMatchObject({ ok: false, error: { code: "internal" } });
    expect(JSON.stringify(envelope)).not.toContain("secret");
    expect(JSON.stringify(envelope)).not.toContain("at ");
    expect(logged.join("\n")).toContain(secret);
  });
});
