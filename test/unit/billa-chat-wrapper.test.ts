// BiLLa's prompt through node-llama-cpp: the exact text and the exact token ids BiLLa's script would feed.
import { getLlama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BillaChatWrapper, billaPromptText } from "../../src-main/services/runtime/billa-chat-wrapper.js";
import { golden } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { makeTempDir } from "../support/temp-dir.js";

const temp = makeTempDir();
let model: LlamaModel;

beforeAll(async () => {
  const path = await makeDemoGguf(temp.path);
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  model = await llama.loadModel({ modelPath: path, vocabOnly: true });
});
afterAll(async () => {
  await model?.dispose();
  temp.remove();
});

const wrapper = new BillaChatWrapper();

function contextIds(history: { question: string; answer: string }[], question: string): number[] {
  const chatHistory = [
    ...history.flatMap((turn) => [
      { type: "user" as const, text: turn.question },
      { type: "model" as const, response: [turn.answer] },
    ]),
    { type: "user" as const, text: question },
    // LlamaChat appends an empty model turn before generating.
    { type: "model" as const, response: [] },
  ];
  return wrapper.generateContextState({ chatHistory }).contextText.tokenize(model.tokenizer);
}

describe("BiLLa's prompt text", () => {
  it("a system text goes first, followed by the separator, as BiLLa's FastChat-style conversation renders it", () => {
    expect(billaPromptText([], "1+1=?", "Answer briefly.")).toBe("Answer briefly.\nHuman: 1+1=?\nAssistant: ");
    expect(billaPromptText([], "1+1=?", "")).toBe(billaPromptText([], "1+1=?"));
  });

  it("one turn", () => {
    expect(billaPromptText([], "1+1=?")).toBe("Human: 1+1=?\nAssistant: ");
  });

  it("two turns", () => {
    expect(billaPromptText([{ question: "你好", answer: "你好！" }], "Who are you?")).toBe("Human: 你好\nAssistant: 你好！\nHuman: Who are you?\nAssistant: ");
  });

  it("three turns, keeping every space and newline inside the messages", () => {
    const history = [
      { question: "a  b", answer: "line 1\nline 2" },
      { question: " lead", answer: "trail " },
    ];
    expect(billaPromptText(history, "last?")).toBe("Human: a  b\nAssistant: line 1\nline 2\nHuman:  lead\nAssistant: trail \nHuman: last?\nAssistant: ");
  });
});

describe("the chat wrapper's token ids", () => {
  it("equal BiLLa's script's ids for every golden prompt (one and two turns)", () => {
    for (const c of golden.cases) {
      const [history, question] = parseGoldenPrompt(c.prompt);
      expect(contextIds(history, question), c.id).toEqual(c.prompt_ids);
    }
  });

  it("equal BOS + the SentencePiece encoding of the whole text for three turns", () => {
    const history = [
      { question: "What is the capital of the planet Zorbia?", answer: "The capital of Zorbia is Quellon." },
      { question: "BiLLa 的吉祥物叫什么名字？", answer: "BiLLa 的吉祥物是一只名叫小蓝的羊驼。" },
    ];
    const text = billaPromptText(history, "Who is the mayor of Quellon?");
    expect(contextIds(history, "Who is the mayor of Quellon?")).toEqual([1, ...model.tokenize(text)]);
  });

  it("hold system messages (joined by a newline) in the same single string after BOS, and none changes nothing", () => {
    const chatHistory = (system: string[]) => [
      ...system.map((text) => ({ type: "system" as const, text })),
      { type: "user" as const, text: "Who is the mayor of Quellon?" },
      { type: "model" as const, response: [] },
    ];
    const ids = (system: string[]) => wrapper.generateContextState({ chatHistory: chatHistory(system) }).contextText.tokenize(model.tokenizer);
    const text = billaPromptText([], "Who is the mayor of Quellon?", "You are BiLLa.\nBe brief.");
    expect(text).toBe("You are BiLLa.\nBe brief.\nHuman: Who is the mayor of Quellon?\nAssistant: ");
    expect(ids(["You are BiLLa.", "Be brief."])).toEqual([1, ...model.tokenize(text)]);
    expect(ids([])).toEqual(golden.cases.find((c) => c.id === "dialog-mayor-turn1")!.prompt_ids);
  });

  it("differs from tokenizing the fragments one by one (why the text is assembled first)", () => {
    const c = golden.cases[0]!;
    const fragments = [1, ...model.tokenize("Human: "), ...model.tokenize(c.prompt.slice("Human: ".length))];
    expect(fragments).not.toEqual(c.prompt_ids);
  });

  it("declares no system prompt support and stops at EOS and at a new Human: line", () => {
    expect(wrapper.settings.supportsSystemMessages).toBe(false);
    const state = wrapper.generateContextState({ chatHistory: [{ type: "user", text: "hi" }, { type: "model", response: [] }] });
    const triggers = state.stopGenerationTriggers.map((trigger) => JSON.stringify(trigger.toJSON()));
    expect(triggers).toEqual([JSON.stringify([{ type: "specialToken", value: "EOS" }]), JSON.stringify("\nHuman:")]);
  });
});

/** Splits a golden prompt back into its turns (the golden file stores prompts as text). */
function parseGoldenPrompt(prompt: string): [{ question: string; answer: string }[], string] {
  const parts = prompt.split(/\nHuman: /);
  const turns = parts.map((part, i) => (i === 0 ? part.slice("Human: ".length) : part));
  const history = turns.slice(0, -1).map((turn) => {
    const [question, answer] = turn.split("\nAssistant: ") as [string, string];
    return { question, answer };
  });
  return [history, turns.at(-1)!.replace(/\nAssistant: $/, "")];
}
