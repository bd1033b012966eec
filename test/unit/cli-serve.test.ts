// `billa serve` as a script runs it: one line once it is ready, the API answering with the key it printed (or
// the one given by flag or BILLA_API_KEY), and a clean exit on SIGINT and SIGTERM.
import { spawn } from "node:child_process";
import { once } from "node:events";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../../src-main/services/create-services.js";
import { BILLA } from "../support/billa-cli.js";
import { READY, startBillaServe } from "../support/billa-serve.js";
import { golden } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { messagesOf } from "../support/openai-api.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir("billa-cli-serve-");
let modelPath: string;

beforeAll(async () => {
  modelPath = await makeDemoGguf(temp.path, "q8_0");
});
afterAll(() => temp.remove());

/** Starts `billa serve` in this test's data folder. */
const serve = (args: string[], env: NodeJS.ProcessEnv = {}) => startBillaServe(temp.path, args, env);

describe("billa serve", () => {
  it("prints one line once ready, serves with the key it made, and exits cleanly on SIGTERM", async () => {
    const { child, line } = await serve(["--model-path", modelPath, "--port", "0"]);
    const [, model, baseURL, port, apiKey] = READY.exec(line) ?? [];
    expect(line).toMatch(READY);
    expect(model).toBe("BiLLa demo");
    expect(Number(port)).toBeGreaterThan(0);
    expect(apiKey).toMatch(/^billa-[\w-]{32}$/);

    const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
    const c = golden.cases[0]!;
    const completion = await client.chat.completions.create({ model: "BiLLa demo", messages: messagesOf(c), temperature: 0 });
    expect(completion.choices[0]!.message.content).toBe(c.greedy_text);
    const wrong = await new OpenAI({ baseURL, apiKey: "billa-wrong", maxRetries: 0 }).models.list().catch((error: unknown) => error as { status: number });
    expect(wrong).toMatchObject({ status: 401 });

    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(0);
  });

  it("takes its key from BILLA_API_KEY (or --api-key), and exits cleanly on SIGINT", async () => {
    const { child, line } = await serve(["--model-path", modelPath, "--port", "0"], { BILLA_API_KEY: "from-the-environment" });
    const [, , baseURL, , apiKey] = READY.exec(line) ?? [];
    expect(apiKey).toBe("from-the-environment");
    expect((await new OpenAI({ baseURL, apiKey: "from-the-environment", maxRetries: 0 }).models.list()).data[0]!.id).toBe("BiLLa demo");
    child.kill("SIGINT");
    expect((await once(child, "exit"))[0]).toBe(0);

    const flagged = await serve(["--model-path", modelPath, "--port", "0", "--api-key", "from-the-flag"], { BILLA_API_KEY: "from-the-environment" });
    expect(READY.exec(flagged.line)?.[4]).toBe("from-the-flag");
    flagged.child.kill("SIGINT");
    expect((await once(flagged.child, "exit"))[0]).toBe(0);
  });

  it("serves the library's model by name, and says clearly what is wrong", async () => {
    const services = createServices({ dataDir: temp.path, transport: "cli" });
    await services.api.invoke("models.import", { path: modelPath, mode: "register" });
    await services.dispose();
    const byName = await serve(["--model", "BiLLa demo", "--port", "0"]);
    expect(byName.line).toMatch(READY);
    byName.child.kill("SIGTERM");
    expect((await once(byName.child, "exit"))[0]).toBe(0);

    const missing = spawn(process.execPath, [BILLA, "--data-dir", temp.path, "serve", "--model", "nothing-like-it"]);
    let stderr = "";
    missing.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    expect((await once(missing, "exit"))[0]).toBe(1);
    expect(stderr).toContain('The library has no model "nothing-like-it"');

    const both = spawn(process.execPath, [BILLA, "--data-dir", temp.path, "serve", "--model", "x", "--model-path", modelPath]);
    let bothErr = "";
    both.stderr.on("data", (chunk: Buffer) => (bothErr += chunk.toString()));
    expect((await once(both, "exit"))[0]).toBe(1);
    expect(bothErr).toContain("either --model or --model-path");
  });
});
