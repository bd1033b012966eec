// `billa answer` and `billa chat` as a user runs them, on the demo model's GGUF as this app writes it and as
// llama.cpp's own converter writes it: no billa.* keys and no chat template, so "auto" must still find BiLLa's format.
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BILLA, pipeIntoBillaChat } from "../support/billa-cli.js";
import { golden, llamaCppGguf } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { makeTempDir } from "../support/temp-dir.js";

const run = promisify(execFile);

const temp = makeTempDir("billa-cli-chat-");
let ownGguf: string;

beforeAll(async () => {
  ownGguf = await makeDemoGguf(temp.path, "q8_0");
});
afterAll(() => temp.remove());

const MODELS = [
  { made: "by BiLLa Desktop", model: () => ownGguf, format: "billa (converted by BiLLa Desktop)" },
  { made: "by llama.cpp's convert_hf_to_gguf.py", model: () => llamaCppGguf("f16"), format: "billa (no chat template in the file)" },
];

const singleTurn = golden.cases.filter((c) => !c.prompt.includes("\nHuman: "));
const questionOf = (prompt: string) => prompt.slice("Human: ".length, -"\nAssistant: ".length);

describe.each(MODELS)("billa answer on a GGUF made $made", ({ made, model, format }) => {
  it("reproduces every golden single-turn answer at temperature 0 with no flag, skips bad lines, and resumes", async () => {
    const modelPath = model();
    const questionFile = join(temp.path, `questions ${made}.jsonl`);
    const answerFile = join(temp.path, `answers ${made}.jsonl`);
    const lines = singleTurn.map((c, i) => JSON.stringify({ question_id: i + 1, text: questionOf(c.prompt), category: "demo" }));
    lines.splice(2, 0, "{not json");
    writeFileSync(questionFile, `${lines.join("\n")}\n`);
    // An earlier, interrupted run answered the first question already.
    writeFileSync(answerFile, `${JSON.stringify({ question_id: 1, text: singleTurn[0]!.greedy_text, answer_id: "x", model_id: "billa", metadata: {} })}\n`);

    const args = [BILLA, "--data-dir", temp.path, "answer", "--model-path", modelPath, "--model-id", "billa-demo", "--question-file", questionFile, "--answer-file", answerFile, "--temperature", "0", "--threads", "1"];
    const { stderr } = await run(process.execPath, args);
    expect(stderr).toContain(`prompt format: ${format}`);
    expect(stderr).toContain("line 3: not valid JSON, skipped");
    expect(stderr).toContain(`1 of ${singleTurn.length} questions already answered`);

    const answers = readFileSync(answerFile, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(answers).toHaveLength(singleTurn.length);
    for (const [i, c] of singleTurn.entries()) {
      const answer = answers.find((candidate) => candidate["question_id"] === i + 1)!;
      expect(answer["text"], c.id).toBe(c.greedy_text.trim());
    }
    expect(Object.keys(answers[1]!).sort()).toEqual(["answer_id", "metadata", "model_id", "question_id", "text"]);
    expect(answers[1]!["model_id"]).toBe("billa-demo");

    const again = await run(process.execPath, args);
    expect(again.stderr).toContain("answering 0");
  });
});

describe("billa answer after a run killed mid-write", () => {
  it("drops the half-written last line, answers its question again, and starts every answer on its own line", async () => {
    const questionFile = join(temp.path, "questions-killed.jsonl");
    const answerFile = join(temp.path, "answers-killed.jsonl");
    const questions = singleTurn.slice(0, 3);
    writeFileSync(questionFile, questions.map((c, i) => JSON.stringify({ question_id: i + 1, text: questionOf(c.prompt) })).join("\n"));
    const whole = JSON.stringify({ question_id: 1, text: questions[0]!.greedy_text, answer_id: "x", model_id: "billa-demo", metadata: {} });
    writeFileSync(answerFile, `${whole}\n{"question_id": 2, "text": "The cap`);

    const args = [BILLA, "--data-dir", temp.path, "answer", "--model-path", ownGguf, "--model-id", "billa-demo", "--question-file", questionFile, "--answer-file", answerFile];
    const { stderr } = await run(process.execPath, [...args, "--temperature", "0", "--threads", "1"]);
    expect(stderr).toContain("half-written line");
    expect(stderr).toContain("1 of 3 questions already answered; answering 2");
    const lines = readFileSync(answerFile, "utf8").split("\n");
    expect(lines.at(-1)).toBe("");
    const answers = lines.slice(0, -1).map((line) => JSON.parse(line) as { question_id: number; text: string });
    expect(answers.map((answer) => answer.question_id)).toEqual([1, 2, 3]);
    expect(answers[1]!.text).toBe(questions[1]!.greedy_text.trim());
  });

  it("gives a whole last line without its newline one, and keeps it", async () => {
    const questionFile = join(temp.path, "questions-no-newline.jsonl");
    const answerFile = join(temp.path, "answers-no-newline.jsonl");
    writeFileSync(questionFile, singleTurn.slice(0, 2).map((c, i) => JSON.stringify({ question_id: i + 1, text: questionOf(c.prompt) })).join("\n"));
    writeFileSync(answerFile, JSON.stringify({ question_id: 1, text: "kept", answer_id: "x", model_id: "m", metadata: {} }));
    await run(process.execPath, [BILLA, "--data-dir", temp.path, "answer", "--model-path", ownGguf, "--model-id", "m", "--question-file", questionFile, "--answer-file", answerFile, "--temperature", "0", "--threads", "1"]);
    const answers = readFileSync(answerFile, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { question_id: number; text: string });
    expect(answers.map((answer) => [answer.question_id, answer.question_id === 1 ? answer.text : "answered"])).toEqual([[1, "kept"], [2, "answered"]]);
  });
});

describe.each(MODELS)("billa chat with piped input on a GGUF made $made", ({ model }) => {
  it("treats each line as the next turn and reproduces the golden second answers", async () => {
    const modelPath = model();
    const dialogues = golden.cases.filter((c) => c.prompt.includes("\nHuman: "));
    expect(dialogues.length).toBeGreaterThan(0);
    for (const c of dialogues) {
      const [first, second] = c.prompt.split("\nHuman: ") as [string, string];
      const firstQuestion = first.slice("Human: ".length).split("\nAssistant: ")[0]!;
      const secondQuestion = second.slice(0, -"\nAssistant: ".length);
      const output = await pipeIntoBillaChat(temp.path, modelPath, `${firstQuestion}\n${secondQuestion}\n`);
      const turns = output.trim().split("\n").map((line) => JSON.parse(line) as { turn: number; question: string; answer: string; stats: { stopReason: string } });
      expect(turns.map((turn) => turn.turn)).toEqual([1, 2]);
      expect(turns[0]!.answer).toBe(first.split("\nAssistant: ")[1]);
      expect(turns[1]!.answer, c.id).toBe(c.greedy_text);
      expect(turns[1]!.stats.stopReason).toBe("eos");
    }
  });
});

describe("--prompt-format", () => {
  it("model: the file's own (here node-llama-cpp's generic) template is not BiLLa's, and most answers go wrong", async () => {
    const questionFile = join(temp.path, "questions-model-format.jsonl");
    const answerFile = join(temp.path, "answers-model-format.jsonl");
    writeFileSync(questionFile, singleTurn.map((c, i) => JSON.stringify({ question_id: i, text: questionOf(c.prompt) })).join("\n"));
    const args = [BILLA, "--data-dir", temp.path, "answer", "--model-path", llamaCppGguf("f16"), "--model-id", "x", "--question-file", questionFile, "--answer-file", answerFile];
    const { stderr } = await run(process.execPath, [...args, "--temperature", "0", "--threads", "1", "--prompt-format", "model"]);
    expect(stderr).toContain("prompt format: model (chosen)");
    const answers = readFileSync(answerFile, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { question_id: number; text: string });
    const wrong = answers.filter((answer) => answer.text !== singleTurn[answer.question_id]!.greedy_text.trim());
    expect(wrong.length).toBeGreaterThan(singleTurn.length / 2);
  });
});
