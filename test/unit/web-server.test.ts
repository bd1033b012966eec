import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { EventMessage } from "../../src-main/contract/api.js";
import type { ServerFrame } from "../../src-main/contract/web-protocol.js";
import { RENDERER_DIR } from "../../src-main/services/app-root.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { startWebServer, type WebServer } from "../../src-main/transports/web/web-server.js";
import { golden } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { makeTempDir } from "../support/temp-dir.js";

const dataDir = makeTempDir();
let services: Services;
let server: WebServer;

beforeAll(async () => {
  services = createServices({ dataDir: dataDir.path, transport: "web" });
  server = await startWebServer({ api: services.api, staticDir: RENDERER_DIR, logger: services.logger });
});
afterAll(async () => {
  await server.close();
  await services.dispose();
  dataDir.remove();
});

function socketUrl(token: string | null): string {
  const url = new URL("/api", server.origin.replace("http:", "ws:"));
  if (token !== null) url.searchParams.set("token", token);
  return url.href;
}

/** Opens a socket and reports the HTTP status it was refused with, or "open". */
function tryConnect(url: string, headers: Record<string, string>): Promise<number | "open"> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on("open", () => {
      ws.close();
      resolve("open");
    });
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("error", reject);
  });
}

function connect(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(socketUrl(server.token), { headers: { Origin: server.origin } });
    ws.on("open", () => resolve(ws));
    ws.on("error", reject);
  });
}

function invoke(ws: WebSocket, id: number, name: string, input: unknown): Promise<ServerFrame> {
  return new Promise((resolve) => {
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as ServerFrame;
      if (frame.type === "result" && frame.id === id) resolve(frame);
    });
    ws.send(JSON.stringify({ type: "invoke", id, name, input }));
  });
}

describe("web mode's server", () => {
  it("listens on loopback only and prints a URL with the token in its fragment", () => {
    const url = new URL(server.url);
    expect(url.hostname).toBe("127.0.0.1");
    expect(url.hash).toBe(`#token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(43);
  });

  it("refuses a socket without the token", async () => {
    expect(await tryConnect(socketUrl(null), { Origin: server.origin })).toBe(401);
  });

  it("refuses a socket with a wrong token", async () => {
    expect(await tryConnect(socketUrl(`${server.token.slice(1)}x`), { Origin: server.origin })).toBe(401);
  });

  it("refuses a socket whose Origin is another site, even with the token", async () => {
    expect(await tryConnect(socketUrl(server.token), { Origin: "http://evil.example" })).toBe(403);
    expect(await tryConnect(socketUrl(server.token), {})).toBe(403);
  });

  it("refuses a socket whose Host is not ours (DNS rebinding), even with the token", async () => {
    const port = new URL(server.origin).port;
    const host = `rebound.example:${port}`;
    expect(await tryConnect(socketUrl(server.token), { Host: host, Origin: `http://${host}` })).toBe(403);
  });

  it("serves the page with a strict Content-Security-Policy, and only to our host names", async () => {
    const get = (host: string) =>
      new Promise<{ status: number; csp: string | undefined }>((resolve, reject) => {
        const port = Number(new URL(server.origin).port);
        request({ host: "127.0.0.1", port, path: "/", headers: { Host: host } }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, csp: res.headers["content-security-policy"] as string | undefined });
        })
          .on("error", reject)
          .end();
      });
    const ours = await get(new URL(server.origin).host);
    expect(ours.status).toBe(200);
    expect(ours.csp).toContain("script-src 'self'");
    expect(ours.csp).not.toContain("unsafe");
    expect((await get("attacker.example")).status).toBe(403);
  });

  it("carries requests with the token and our Origin, and validates their input", async () => {
    const ws = await connect();
    const ok = await invoke(ws, 1, "app.info", {});
    expect(ok).toMatchObject({ type: "result", id: 1, envelope: { ok: true, value: { transport: "web" } } });
    const bad = await invoke(ws, 2, "app.info", { extra: true });
    expect(bad).toMatchObject({ type: "result", id: 2, envelope: { ok: false, error: { code: "invalid_input" } } });
    ws.close();
  });

  it("closes a socket that sends something other than an invoke frame", async () => {
    const ws = await connect();
    const code = await new Promise<number>((resolve) => {
      ws.on("close", (closeCode) => resolve(closeCode));
      ws.send("not json");
    });
    expect(code).toBe(1008);
  });
});

/** A socket that keeps every frame it receives, in order, and matches results to its requests. */
class RecordingClient {
  readonly events: EventMessage[] = [];
  #nextId = 1;
  readonly #pending = new Map<number, (frame: Extract<ServerFrame, { type: "result" }>) => void>();

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as ServerFrame;
      if (frame.type === "event") this.events.push(frame.event);
      else this.#pending.get(frame.id)?.(frame);
    });
  }

  invoke(name: string, input: unknown): Promise<Extract<ServerFrame, { type: "result" }>["envelope"]> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, (frame) => resolve(frame.envelope));
      this.ws.send(JSON.stringify({ type: "invoke", id, name, input }));
    });
  }

  /** One conversation's streamed text, as a page would put it together from its chunks. */
  textOf(conversationId: string): string {
    return this.events.flatMap((event) => (event.name === "generation.chunk" && event.payload.conversationId === conversationId ? [event.payload.text] : [])).join("");
  }
}

describe("two sockets at once", () => {
  const questionOf = (prompt: string) => prompt.replace(/^Human: /, "").replace(/\nAssistant: $/, "");
  // Two one-turn golden questions with different answers, long enough to stream in many chunks.
  const [first, second] = golden.cases.filter((c) => !c.prompt.includes("\nHuman: ") && c.greedy_ids.length > 8);

  it("both receive every generation event, and each conversation's text comes out whole and unmixed on each", async () => {
    expect(first!.greedy_text).not.toBe(second!.greedy_text);
    const modelPath = await makeDemoGguf(dataDir.path, "q8_0");
    const alice = new RecordingClient(await connect());
    const bob = new RecordingClient(await connect());
    try {
      expect(await alice.invoke("runtime.load", { modelPath, contextSize: 256, threads: 1 })).toMatchObject({ ok: true });
      const conversationOf = async (client: RecordingClient, title: string) => {
        const created = await client.invoke("history.create", { title, sampling: { temperature: 0 } });
        if (!created.ok) throw new Error(created.error.message);
        return (created.value as { id: string }).id;
      };
      const [aliceChat, bobChat] = [await conversationOf(alice, "Alice's"), await conversationOf(bob, "Bob's")];
      // Both ask at once, as the chat page does, each in a conversation of its own; the runtime answers one after the other.
      const [fromAlice, fromBob] = await Promise.all([
        alice.invoke("chat.send", { conversationId: aliceChat, text: questionOf(first!.prompt) }),
        bob.invoke("chat.send", { conversationId: bobChat, text: questionOf(second!.prompt) }),
      ]);
      expect(fromAlice).toMatchObject({ ok: true, value: { answer: { text: first!.greedy_text, status: "complete" } } });
      expect(fromBob).toMatchObject({ ok: true, value: { answer: { text: second!.greedy_text, status: "complete" } } });
      // A request's result follows every event sent before it on that socket: after these, each has all of them.
      await Promise.all([alice.invoke("app.info", {}), bob.invoke("app.info", {})]);

      for (const client of [alice, bob]) {
        for (const [conversationId, expected] of [
          [aliceChat, first!.greedy_text],
          [bobChat, second!.greedy_text],
        ] as const) {
          const ofThis = client.events.filter((event) => "conversationId" in event.payload && event.payload.conversationId === conversationId);
          const chunks = ofThis.flatMap((event) => (event.name === "generation.chunk" ? [event.payload] : []));
          const started = ofThis.find((event) => event.name === "generation.started");
          const finished = ofThis.find((event) => event.name === "generation.finished");
          // Started, streamed in many chunks, finished: in that order, all about the same answer.
          expect(ofThis.map((event) => event.name).filter((name, i, names) => name !== names[i - 1])).toEqual(["generation.started", "generation.chunk", "generation.finished"]);
          expect(chunks.length).toBeGreaterThan(1);
          const answerId = started?.name === "generation.started" ? started.payload.answer.id : null;
          expect(chunks.every((chunk) => chunk.messageId === answerId)).toBe(true);
          expect(client.textOf(conversationId)).toBe(expected);
          expect(finished?.name === "generation.finished" && finished.payload.answer).toMatchObject({ id: answerId, text: expected });
        }
      }
      // Every event reached both sockets, in the same order.
      expect(bob.events).toEqual(alice.events);
    } finally {
      alice.ws.close();
      bob.ws.close();
    }
  });
});
