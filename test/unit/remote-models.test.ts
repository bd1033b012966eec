// Remote models against a real OpenAI-compatible engine on loopback: this app's own `billa serve`, in processes of
// its own, on the demo model (golden answers) and on a random-weights model (answers that do not end by themselves,
// to stop and to cut off). The app adds them to its library and chats through the same conversation service as with
// local models: streaming, stop (the HTTP request aborted, as the server's own history shows), regenerate, edit,
// stats from the server's usage, the history naming the model. A server killed mid-answer, one that stalls, wrong
// keys and redirects give clear messages; the key goes to that server only and never into an entry or the log.
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventMessage, Message, RemoteModelEntry, RequestInput, RequestName, RequestOutput } from "../../src-main/contract/api.js";
import { isUnencrypted, parseRemoteBaseUrl } from "../../src-main/contract/remote-endpoint.js";
import { createServices, type Services } from "../../src-main/services/create-services.js";
import { addressOf, lastServerAnswer, startRemoteTestServers, type RunningServe } from "../support/billa-serve.js";
import { golden } from "../support/demo.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir("billa-remote-");
const GREEDY = { temperature: 0, topK: 50, topP: 1, minP: 0, repeatPenalty: null, seed: null, maxTokens: 1024 };
/** Long enough that a random-weights answer is still streaming when it is stopped or cut off. */
const ENDLESS = { ...GREEDY, temperature: 0.8, maxTokens: 16000 };
const IDLE_MS = 4000;

let client: Services;
let demoServer: RunningServe;
let endlessServer: RunningServe;
let endlessDir: string;
const events: EventMessage[] = [];

async function call<N extends RequestName>(name: N, input: RequestInput<N>): Promise<RequestOutput<N>> {
  const envelope = await client.api.invoke(name, input);
  if (!envelope.ok) throw Object.assign(new Error(envelope.error.message), { code: envelope.error.code });
  return envelope.value as RequestOutput<N>;
}

/** The conversation's saved answers, oldest first. */
async function answersIn(conversationId: string): Promise<Message[]> {
  return (await call("history.get", { id: conversationId })).messages.filter((message) => message.role === "assistant");
}

/** Resolves once the conversation's answer has streamed some text. */
function firstChunk(conversationId: string): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribe = client.api.subscribe((event) => {
      if (event.name === "generation.chunk" && event.payload.conversationId === conversationId && event.payload.text !== "") {
        unsubscribe();
        resolve();
      }
    });
  });
}

beforeAll(async () => {
  ({ demo: demoServer, endless: endlessServer, endlessDir } = await startRemoteTestServers(temp.path));
  client = createServices({ dataDir: join(temp.path, "client"), transport: "cli", remoteTimeouts: { idleMs: IDLE_MS, checkMs: 3000 } });
  client.api.subscribe((event) => events.push(event));
}, 120_000);

afterAll(async () => {
  for (const server of [demoServer, endlessServer]) server?.child.kill("SIGKILL");
  await client?.dispose();
  temp.remove();
});

describe("a remote model served by billa serve", () => {
  let team: RemoteModelEntry;

  it("is added with the model's name from the server's /v1/models, the key kept out of every entry", async () => {
    const { baseURL, apiKey } = addressOf(demoServer);
    // A bare server address gets /v1; the one model the server lists is taken.
    team = await call("models.addRemote", { name: "Team BiLLa", baseUrl: baseURL.replace(/\/v1$/, "/"), apiKey });
    expect(team).toMatchObject({ kind: "remote", name: "Team BiLLa", baseUrl: baseURL, remoteModel: "BiLLa demo", hasApiKey: true, unencrypted: false, isDefault: true });
    expect(await call("models.listRemoteModels", { baseUrl: baseURL, apiKey })).toEqual({ baseUrl: baseURL, models: ["BiLLa demo"] });
    expect(await call("models.checkRemote", { id: team.id })).toMatchObject({ reachable: true, hasModel: true, models: ["BiLLa demo"], error: null });

    const { models } = await call("models.list", {});
    expect(models).toEqual([team]);
    for (const view of [models, await call("settings.get", {}), await call("history.export", { format: "json" })]) expect(JSON.stringify(view)).not.toContain(apiKey);
    // Nothing to load: it runs on the server.
    await expect(call("runtime.load", { modelId: team.id })).rejects.toMatchObject({ code: "invalid_input", message: expect.stringContaining("not on this computer") });
    await expect(call("models.addRemote", { name: "Team BiLLa", baseUrl: baseURL, apiKey, remoteModel: "BiLLa demo" })).rejects.toMatchObject({ message: expect.stringContaining("already has a model named") });
  });

  it("answers every golden conversation exactly at temperature 0, streamed and saved with its model named", async () => {
    const twoTurn = golden.cases.filter((c) => c.turns.length === 2);
    const singles = golden.cases.filter((c) => c.turns.length === 1 && !twoTurn.some((t) => t.turns[0]!.question === c.turns[0]!.question));
    for (const c of [...singles, ...twoTurn]) {
      const conversation = await call("history.create", { modelId: team.id, sampling: GREEDY });
      let last: Message | undefined;
      for (const turn of c.turns) last = (await call("chat.send", { conversationId: conversation.id, text: turn.question })).answer;
      expect(last!.text, c.id).toBe(c.greedy_text);
      expect(last).toMatchObject({ status: "complete", model: "Team BiLLa", error: null });
      // The same text arrived piece by piece.
      const streamed = events.filter((event) => event.name === "generation.chunk" && event.payload.messageId === last!.id).map((event) => (event.payload as { text: string }).text);
      expect(streamed.length).toBeGreaterThan(1);
      expect(streamed.join("")).toBe(c.greedy_text);
      // Stats from the server's usage: the prompt as BiLLa's script tokenizes it (BOS included), the answer's tokens and EOS.
      expect(last!.stats).toMatchObject({ promptTokens: c.prompt_ids.length, newTokens: c.greedy_ids.length, stopReason: "eos", droppedTurns: 0 });
      expect(last!.stats!.tokensPerSecond).toBeGreaterThan(0);
      expect(last!.stats!.timeToFirstTokenMs).toBeGreaterThan(0);
    }
    const conversations = (await call("history.list", {})).conversations;
    expect(conversations).toHaveLength(singles.length + twoTurn.length);
    expect(conversations.every((conversation) => conversation.modelId === team.id && conversation.source === "app")).toBe(true);
    const found = (await call("history.search", { query: "Quellon" })).results;
    expect(found.length).toBeGreaterThan(0);
  });

  it("regenerates and edits through the server, as alternatives", async () => {
    const c = golden.cases.find((candidate) => candidate.id === "zorbia-capital")!;
    const conversation = await call("history.create", { modelId: team.id, sampling: GREEDY });
    const { question, answer } = await call("chat.send", { conversationId: conversation.id, text: c.turns[0]!.question });
    const again = (await call("chat.regenerate", { conversationId: conversation.id, messageId: answer.id })).answer;
    expect([again.text, again.parentId, again.model]).toEqual([c.greedy_text, question.id, "Team BiLLa"]);
    const other = golden.cases.find((candidate) => candidate.id === "dialog-math-turn2")!;
    const edited = await call("chat.edit", { conversationId: conversation.id, messageId: question.id, text: other.turns[0]!.question });
    expect(edited.question.parentId).toBeNull();
    expect(edited.answer.text).toBe(other.turns[0]!.answer);
    expect((await answersIn(conversation.id)).map((message) => message.status)).toEqual(["complete", "complete", "complete"]);
  });

  it("answers unsaved requests (billa answer, billa chat --no-save) with the library model named", async () => {
    const c = golden.cases.find((candidate) => candidate.turns.length === 2)!;
    const result = await call("chat.generate", {
      conversationId: "unsaved",
      modelId: team.id,
      messageId: "m",
      history: [{ question: c.turns[0]!.question, answer: c.turns[0]!.answer! }],
      question: c.turns[1]!.question,
      sampling: GREEDY,
    });
    expect(result.text).toBe(c.greedy_text);
  });

  it("says clearly when the key is wrong or the server has no such model, and keeps the answer marked", async () => {
    const { baseURL } = addressOf(demoServer);
    const wrongKey = await call("models.addRemote", { name: "Wrong key", baseUrl: baseURL, apiKey: "not-the-key", remoteModel: "BiLLa demo" });
    expect(await call("models.checkRemote", { id: wrongKey.id })).toMatchObject({ reachable: false, error: { code: "access_denied" } });
    const conversation = await call("history.create", { modelId: wrongKey.id, sampling: GREEDY });
    await expect(call("chat.send", { conversationId: conversation.id, text: "Hello?" })).rejects.toMatchObject({ code: "access_denied", message: expect.stringContaining("Check the API key") });
    expect(await answersIn(conversation.id)).toMatchObject([{ status: "error", text: "", error: expect.stringContaining("refused the request (401") }]);

    const missing = await call("models.addRemote", { name: "No such model", baseUrl: baseURL, apiKey: addressOf(demoServer).apiKey, remoteModel: "nothing-like-it" });
    expect(await call("models.checkRemote", { id: missing.id })).toMatchObject({ reachable: true, hasModel: false, models: ["BiLLa demo"] });
    const other = await call("history.create", { modelId: missing.id, sampling: GREEDY });
    await expect(call("chat.send", { conversationId: other.id, text: "Hello?" })).rejects.toMatchObject({ code: "not_found", message: expect.stringContaining('has no model "nothing-like-it"') });
  });
});

describe("stopping and losing a remote answer", () => {
  let endless: RemoteModelEntry;

  beforeAll(async () => {
    const { baseURL, apiKey } = addressOf(endlessServer);
    endless = await call("models.addRemote", { name: "Endless", baseUrl: baseURL, apiKey });
  });

  it("stop aborts the HTTP request: the answer so far is kept, marked interrupted, and the server stops too", async () => {
    const conversation = await call("history.create", { modelId: endless.id, sampling: ENDLESS });
    let answer: Message | undefined;
    // Random weights say EOS now and then (about one token in a thousand): then ask again.
    for (let attempt = 1; attempt <= 3 && answer?.status !== "interrupted"; attempt++) {
      const streaming = firstChunk(conversation.id);
      const sent = call("chat.send", { conversationId: conversation.id, text: "Keep talking, please." });
      await streaming;
      expect(await call("chat.stop", { conversationId: conversation.id })).toEqual({ stopped: true });
      answer = (await sent).answer;
    }
    expect(answer).toMatchObject({ status: "interrupted", model: "Endless", stats: { stopReason: "stopped" } });
    expect(answer!.text.length).toBeGreaterThan(0);
    // The server saw its client go away and stopped its own answer there (it would otherwise write 16000 tokens).
    await expect.poll(() => lastServerAnswer(endlessDir)?.status, { timeout: 10_000 }).toBe("interrupted");
  });

  it("the server killed mid-answer: the partial answer is kept and marked, and the next message fails at once, clearly", async () => {
    const conversation = await call("history.create", { modelId: endless.id, sampling: ENDLESS });
    // Random weights say EOS now and then: the server is frozen first, and killed only if its answer is still going.
    let sent: Promise<unknown> = Promise.resolve();
    for (let attempt = 1; attempt <= 5; attempt++) {
      const streaming = firstChunk(conversation.id);
      let settled = false;
      sent = call("chat.send", { conversationId: conversation.id, text: "Keep talking, please." })
        .catch((error: unknown) => error as { code: string; message: string })
        .finally(() => (settled = true));
      await streaming;
      endlessServer.child.kill("SIGSTOP");
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (!settled) break;
      endlessServer.child.kill("SIGCONT");
    }
    endlessServer.child.kill("SIGKILL");
    await once(endlessServer.child, "exit");
    const failure = await sent;
    expect(failure).toMatchObject({ code: "network", message: expect.stringContaining("broke off mid-answer") });
    const cut = (await answersIn(conversation.id)).at(-1);
    expect(cut).toMatchObject({ status: "error", model: "Endless", error: expect.stringContaining("The text so far is kept") });
    expect(cut!.text.length).toBeGreaterThan(0);

    const started = performance.now();
    await expect(call("chat.send", { conversationId: conversation.id, text: "Are you there?" })).rejects.toMatchObject({
      code: "network",
      message: expect.stringContaining("nothing is listening there (connection refused)"),
    });
    expect(performance.now() - started).toBeLessThan(IDLE_MS);
    expect((await answersIn(conversation.id)).at(-1)).toMatchObject({ status: "error", text: "" });
    expect(await call("models.checkRemote", { id: endless.id })).toMatchObject({ reachable: false, error: { code: "network" } });
  });

  it("logs what went wrong with which server, and never a key", () => {
    const log = readFileSync(client.paths.logFile, "utf8");
    expect(log).toContain(`Remote model "Endless" (${endless.baseUrl}) failed: The connection to ${endless.baseUrl} broke off mid-answer`);
    expect(log).toContain(`Remote model "Wrong key"`);
    for (const key of ["demo-server-key", "endless-server-key", "not-the-key"]) expect(log).not.toContain(key);
  });
});

/** A loopback stand-in that records what each request carried and answers as `respond` says. */
async function standIn(respond: (url: string, res: import("node:http").ServerResponse) => void): Promise<{ url: string; seen: { url: string; headers: IncomingHttpHeaders }[]; server: Server }> {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? "", headers: req.headers });
    req.resume();
    respond(req.url ?? "", res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe("what reaches a remote server, and servers that misbehave", () => {
  const stopAll: Server[] = [];
  afterAll(() => {
    for (const server of stopAll) {
      server.closeAllConnections();
      server.close();
    }
  });

  it("sends the key to that server only: a redirect to another address is not followed, and says where it points", async () => {
    const elsewhere = await standIn((_url, res) => res.end("{}"));
    const redirecting = await standIn((url, res) => {
      res.writeHead(307, { Location: `${elsewhere.url}${url}` });
      res.end();
    });
    stopAll.push(elsewhere.server, redirecting.server);
    await expect(call("models.listRemoteModels", { baseUrl: redirecting.url, apiKey: "sk-secret-for-one-server" })).rejects.toMatchObject({
      code: "network",
      message: expect.stringContaining(`answered with a redirect to ${elsewhere.url}/v1/models`),
    });
    expect(redirecting.seen).toMatchObject([{ url: "/v1/models", headers: { authorization: "Bearer sk-secret-for-one-server" } }]);
    expect(elsewhere.seen).toEqual([]);
  });

  it("sends no key without one (not even OPENAI_API_KEY from the environment), and nothing else from OPENAI_* variables", async () => {
    const server = await standIn((_url, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: "m", object: "model", created: 0, owned_by: "x" }] }));
    });
    stopAll.push(server.server);
    const saved = { ...process.env };
    Object.assign(process.env, { OPENAI_API_KEY: "sk-from-the-environment", OPENAI_ORG_ID: "org-x", OPENAI_PROJECT_ID: "proj-x", OPENAI_CUSTOM_HEADERS: "X-Leak: yes" });
    try {
      expect(await call("models.listRemoteModels", { baseUrl: server.url })).toEqual({ baseUrl: `${server.url}/v1`, models: ["m"] });
    } finally {
      for (const name of ["OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_CUSTOM_HEADERS"]) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
    const headers = server.seen[0]!.headers;
    expect(headers.authorization).toBeUndefined();
    expect(Object.keys(headers).filter((name) => /openai|x-leak|x-stainless/i.test(name))).toEqual([]);
  });

  it("gives up on a server that stops sending, keeping the text that arrived", async () => {
    const stalling = await standIn((url, res) => {
      if (url === "/v1/models") {
        res.writeHead(200, { "Content-Type": "application/json" });
        return res.end(JSON.stringify({ object: "list", data: [{ id: "slow", object: "model", created: 0, owned_by: "x" }] }));
      }
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.write(`data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "slow", choices: [{ index: 0, delta: { role: "assistant", content: "The first words" }, finish_reason: null }] })}\n\n`);
      // …and then nothing, with the connection left open.
    });
    const silent = await standIn(() => undefined);
    stopAll.push(stalling.server, silent.server);

    const slow = await call("models.addRemote", { baseUrl: stalling.url });
    expect(slow).toMatchObject({ name: "slow", remoteModel: "slow", hasApiKey: false });
    const conversation = await call("history.create", { modelId: slow.id, sampling: GREEDY });
    await expect(call("chat.send", { conversationId: conversation.id, text: "Hello?" })).rejects.toMatchObject({
      code: "network",
      message: expect.stringContaining(`stopped sending the answer: nothing arrived for ${IDLE_MS / 1000} seconds`),
    });
    expect(await answersIn(conversation.id)).toMatchObject([{ status: "error", text: "The first words" }]);

    const mute = await call("models.addRemote", { name: "Mute", baseUrl: silent.url, remoteModel: "m" });
    const other = await call("history.create", { modelId: mute.id, sampling: GREEDY });
    await expect(call("chat.send", { conversationId: other.id, text: "Hello?" })).rejects.toMatchObject({ message: expect.stringContaining(`did not answer within ${IDLE_MS / 1000} seconds`) });
  });
});

describe("remote server addresses", () => {
  it("takes http(s) only, without credentials, and adds /v1 to a bare address", async () => {
    expect(parseRemoteBaseUrl(" https://gpu.example.com:8000/ ")).toEqual({ ok: true, baseUrl: "https://gpu.example.com:8000/v1" });
    expect(parseRemoteBaseUrl("http://10.0.0.5:8080/v1/chat/completions")).toEqual({ ok: true, baseUrl: "http://10.0.0.5:8080/v1" });
    expect(parseRemoteBaseUrl("https://proxy.example.com/llm/v1/")).toEqual({ ok: true, baseUrl: "https://proxy.example.com/llm/v1" });
    for (const bad of ["ftp://host/v1", "file:///etc/passwd", "gpu-server:8000", "http://user:pass@host/v1", "http://host/v1?key=x"]) expect(parseRemoteBaseUrl(bad).ok, bad).toBe(false);
    await expect(call("models.addRemote", { baseUrl: "ftp://host/v1", remoteModel: "m" })).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("flags plain http to another computer, not to this one or over https", async () => {
    expect(["http://10.0.0.5:8000/v1", "http://gpu-server/v1", "http://[fe80::1]/v1"].map(isUnencrypted)).toEqual([true, true, true]);
    expect(["http://127.0.0.1:8000/v1", "http://localhost/v1", "http://[::1]:8000/v1", "https://10.0.0.5/v1"].map(isUnencrypted)).toEqual([false, false, false, false]);
    expect(await call("models.addRemote", { name: "LAN box", baseUrl: "http://10.0.0.5:8000", remoteModel: "billa" })).toMatchObject({ baseUrl: "http://10.0.0.5:8000/v1", unencrypted: true });
  });
});
