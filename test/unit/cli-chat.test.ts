// `billa answer` and `billa chat` as a user runs them, on the demo model's GGUF.
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BILLA, pipeIntoBillaChat } from "../support/billa-cli.js";
import { golden } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { makeTempDir } from "../support/temp-dir.js";

const run = promisify(execFile);

const temp = makeTempDir("billa-cli-chat-");
let modelPath: string;

beforeAll(async () => {
  modelPath = await makeDemoGguf(temp.path, "q8_0");
});
afterAll(() => temp.remove());

const singleTurn = golden.cases.filter((c) => !c.prompt.includes("\nHuman: "));
const questionOf = (prompt: string) => prompt.slice("Human: ".length, -"\nAssistant: ".length);

describe("billa answer", () => {
  it("reproduces every golden single-turn answer at temperature 0, skips bad lines, and resumes", async () => {
    const questionFile = join(temp.path, "questions.jsonl");
    const answerFile = join(temp.path, "answers.jsonl");
    const lines = singleTurn.map((c, i) => JSON.stringify({ question_id: i + 1, text: questionOf(c.prompt), category: "demo" }));
    lines.splice(2, 0, "{not json");
    writeFileSync(questionFile, `${lines.join("\n")}\n`);
    // An earlier, interrupted run answered the first question already.
    writeFileSync(answerFile, `${JSON.stringify({ question_id: 1, text: singleTurn[0]!.greedy_text, answer_id: "x", model_id: "billa", metadata: {} })}\n`);

    const args = [BILLA, "--data-dir", temp.path, "answer", "--model-path", modelPath, "--model-id", "billa-demo", "--question-file", questionFile, "--answer-file", answerFile, "--temperature", "0", "--threads", "1"];
    const { stderr } = await run(process.execPath, args);
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

describe("billa chat with piped input", () => {
  it("treats each line as the next turn and reproduces the golden second answers", async () => {
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
