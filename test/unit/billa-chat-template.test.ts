// The chat template `billa restore` writes into the restored folder's tokenizer_config.json, rendered with
// @huggingface/jinja (the Jinja node-llama-cpp runs; transformers and vLLM run Python's jinja2 on the same text):
// every golden prompt comes out exactly, after BOS, and system messages are read as this app's own API reads them,
// so vLLM serving the restored folder and `billa serve` build the same prompt.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BILLA_CHAT_TEMPLATE } from "../../src-main/services/models/billa-chat-template.js";
import { billaPromptText } from "../../src-main/services/runtime/billa-chat-wrapper.js";
import { conversationOf } from "../../src-main/transports/openai-api/openai-protocol.js";
import { BILLA } from "../support/billa-cli.js";
import { DEMO, golden } from "../support/demo.js";
import { messagesOf, type ChatMessage } from "../support/openai-api.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir("billa-template-");
let tokenizerConfig: Record<string, unknown>;
let template: Template;

beforeAll(() => {
  const outDir = join(temp.path, "restored");
  const run = spawnSync(process.execPath, [BILLA, "--data-dir", join(temp.path, "data"), "restore", "--model_dir", DEMO.released, "--meta_llama_pth_file", DEMO.originalPth, "--out", outDir], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`billa restore failed: ${run.stderr}`);
  tokenizerConfig = JSON.parse(readFileSync(join(outDir, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
  template = new Template(tokenizerConfig["chat_template"] as string);
});
afterAll(() => temp.remove());

/** What transformers' apply_chat_template passes: the messages, the generation prompt flag and the special tokens. */
function render(messages: ChatMessage[], addGenerationPrompt = true): string {
  return template.render({ messages, add_generation_prompt: addGenerationPrompt, bos_token: tokenizerConfig["bos_token"], eos_token: tokenizerConfig["eos_token"] });
}

/** The prompt this app's OpenAI-compatible API builds for the same messages (BOS, then the one text after it). */
function apiPrompt(messages: ChatMessage[]): string {
  const { system, history, question } = conversationOf(messages);
  return `<s>${billaPromptText(history, question, system)}`;
}

describe("the chat template in a restored folder's tokenizer_config.json", () => {
  it("is the template converted GGUFs carry, added to the folder's own tokenizer settings", () => {
    expect(tokenizerConfig["chat_template"]).toBe(BILLA_CHAT_TEMPLATE);
    const original = JSON.parse(readFileSync(join(DEMO.released, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
    const { chat_template: _template, ...rest } = tokenizerConfig;
    expect(rest).toEqual(original);
  });

  it("renders every golden prompt exactly, single and two-turn, after one BOS", () => {
    const twoTurn = golden.cases.filter((c) => c.turns.length === 2);
    expect(twoTurn.length).toBeGreaterThan(0);
    expect(golden.cases.length - twoTurn.length).toBeGreaterThan(0);
    for (const c of golden.cases) {
      expect(render(messagesOf(c)), c.id).toBe(`<s>${c.prompt}`);
      // The turns as golden.json gives them, not re-read from the prompt.
      const messages = c.turns.flatMap(({ question, answer }): ChatMessage[] => [
        { role: "user", content: question },
        ...(answer === undefined ? [] : [{ role: "assistant" as const, content: answer }]),
      ]);
      expect(render(messages), c.id).toBe(`<s>${c.prompt}`);
    }
  });

  it("reads system messages exactly as this app's API does: their text and \\n before the first Human: line", () => {
    const [first, second] = golden.cases.filter((c) => c.turns.length === 2).map(messagesOf);
    const conversations: ChatMessage[][] = [
      [{ role: "system", content: "Answer in one sentence." }, ...first!],
      [{ role: "system", content: "Be brief." }, { role: "system", content: "Be kind." }, ...second!],
      [{ role: "system", content: "" }, ...first!],
      [{ role: "system", content: "" }, { role: "system", content: "" }, ...first!],
      [{ role: "user", content: "Two lines" }, { role: "user", content: "of one question" }],
    ];
    for (const messages of conversations) expect(render(messages)).toBe(apiPrompt(messages));
    expect(render(conversations[0]!)).toBe(`<s>Answer in one sentence.\n${golden.cases.find((c) => c.turns.length === 2)!.prompt}`);
    // Without a system message, BiLLa's prompt as it was trained.
    expect(render(first!)).toBe(apiPrompt(first!));
  });

  it("renders a finished conversation without the generation prompt, and refuses what BiLLa cannot read", () => {
    expect(render([{ role: "user", content: "Q" }, { role: "assistant", content: "A" }], false)).toBe("<s>Human: Q\nAssistant: A");
    expect(() => render([{ role: "assistant", content: "A" }])).toThrow(/starts with a user message/);
    expect(() => render([{ role: "user", content: "Q" }, { role: "tool" as ChatMessage["role"], content: "{}" }])).toThrow(/no tool role/);
  });
});
