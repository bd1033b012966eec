// `billa remote add|list|remove`, and `billa chat --model NAME` and `billa answer --model NAME` with a remote model,
// as a user runs them against another `billa serve` on loopback: the golden answers arrive, the conversation is in
// the history with its model named, a stopped server is reported clearly, and the key is asked for once and kept.
import { execFile, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RemoteModelEntry } from "../../src-main/contract/api.js";
import { createServices } from "../../src-main/services/create-services.js";
import { createApiClient } from "../../src-renderer/src/backend/api-client.js";
import { BILLA } from "../support/billa-cli.js";
import { addressOf, startBillaServe, type RunningServe } from "../support/billa-serve.js";
import { golden } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { makeTempDir } from "../support/temp-dir.js";

const run = promisify(execFile);
const temp = makeTempDir("billa-cli-remote-");
const clientDir = join(temp.path, "client");
let server: RunningServe;

beforeAll(async () => {
  server = await startBillaServe(join(temp.path, "server"), ["--model-path", await makeDemoGguf(temp.path, "q8_0"), "--port", "0", "--api-key", "team-key-123"]);
}, 60_000);
afterAll(() => {
  server?.child.kill("SIGKILL");
  temp.remove();
});

/** `billa …` on the client's data folder; resolves with its output and exit code, failing or not. */
function billa(args: string[], input = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BILLA, "--data-dir", clientDir, ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const singleTurn = golden.cases.filter((c) => c.turns.length === 1);

describe("billa remote", () => {
  it("adds another billa serve by its address, with the key read from stdin and the model's name from the server", async () => {
    const { baseURL } = addressOf(server);
    const added = await billa(["remote", "add", "team", "--base-url", baseURL.replace(/\/v1$/, ""), "--api-key", "-"], "team-key-123\n");
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain(`Added team: the model BiLLa demo at ${baseURL} (API key stored)`);
    expect(added.stdout).toMatch(/Answers now \(\d+ ms\)\./);
    expect(added.stderr).not.toContain("Warning");

    const listed = await billa(["remote", "list", "--json"]);
    const [entry] = JSON.parse(listed.stdout) as (RemoteModelEntry & { check: { reachable: boolean } })[];
    expect(entry).toMatchObject({ kind: "remote", name: "team", remoteModel: "BiLLa demo", baseUrl: baseURL, hasApiKey: true, check: { reachable: true, hasModel: true } });
    expect(listed.stdout).not.toContain("team-key-123");
  });

  it("warns about plain http to another computer, keeps an entry whose server is down, and removes it again", async () => {
    const lan = await billa(["remote", "add", "lan-box", "--base-url", "http://192.0.2.10:8000", "--model", "billa-7b"]);
    expect(lan.code).toBe(0);
    expect(lan.stderr).toContain("Warning: http://192.0.2.10:8000/v1 is plain http to another computer");
    expect((await billa(["remote", "list"])).stdout).toMatch(/lan-box {2}billa-7b at http:\/\/192\.0\.2\.10:8000\/v1 {2}\(no key, UNENCRYPTED\)/);
    expect(await billa(["remote", "remove", "lan-box"])).toMatchObject({ code: 0, stdout: "Removed lan-box.\n" });
    expect((await billa(["remote", "remove", "lan-box"])).stderr).toContain('The library has no model "lan-box"');
    expect((await billa(["remote", "add", "bad", "--base-url", "ftp://example.com/v1", "--model", "m"])).stderr).toContain("Only http:// and https:// addresses are accepted");
  });

  it("billa answer --model NAME answers every golden question through the server", async () => {
    const questionFile = join(temp.path, "questions.jsonl");
    const answerFile = join(temp.path, "answers.jsonl");
    writeFileSync(questionFile, singleTurn.map((c, i) => JSON.stringify({ question_id: i + 1, text: c.turns[0]!.question })).join("\n"));
    const { stderr } = await run(process.execPath, [BILLA, "--data-dir", clientDir, "answer", "--model", "team", "--model-id", "billa-remote", "--question-file", questionFile, "--answer-file", answerFile, "--temperature", "0"]);
    expect(stderr).toContain(`Answering with team: the model BiLLa demo at ${addressOf(server).baseURL}`);
    const answers = readFileSync(answerFile, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { question_id: number; text: string; model_id: string });
    expect(answers.map((answer) => answer.text)).toEqual(singleTurn.map((c) => c.greedy_text.trim()));
    expect(answers[0]!.model_id).toBe("billa-remote");
  });

  it("billa chat --model NAME holds a two-turn conversation, saved in the history with the remote model named", async () => {
    const c = golden.cases.find((candidate) => candidate.turns.length === 2)!;
    const chat = await billa(["chat", "--model", "team", "--temperature", "0"], `${c.turns[0]!.question}\n${c.turns[1]!.question}\n`);
    expect(chat.code, chat.stderr).toBe(0);
    const turns = chat.stdout.trim().split("\n").map((line) => JSON.parse(line) as { answer: string; stats: { stopReason: string } });
    expect(turns.map((turn) => turn.answer)).toEqual([c.turns[0]!.answer, c.greedy_text]);

    const services = createServices({ dataDir: clientDir, transport: "cli" });
    try {
      const api = createApiClient(services.api);
      const [conversation] = (await api.invoke("history.list", {})).conversations;
      const answers = (await api.invoke("history.get", { id: conversation!.id })).messages.filter((message) => message.role === "assistant");
      expect(answers.map((message) => [message.text, message.model, message.status])).toEqual([
        [c.turns[0]!.answer, "team", "complete"],
        [c.greedy_text, "team", "complete"],
      ]);
    } finally {
      await services.dispose();
    }
  });

  it("says clearly that the server is down, instead of waiting", async () => {
    server.child.kill("SIGKILL");
    await new Promise((resolve) => server.child.once("exit", resolve));
    const listed = await billa(["remote", "list"]);
    expect(listed.stdout).toContain("Not answering now. BiLLa Desktop could not reach");
    const chat = await billa(["chat", "--model", "team", "--no-save"], "Hello?\n");
    expect(chat.code).toBe(1);
    expect(chat.stderr).toContain("nothing is listening there (connection refused)");
  });
});
