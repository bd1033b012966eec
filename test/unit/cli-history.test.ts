// `billa chat` saves its conversation like the app does (unless --no-save), and `billa history` lists,
// searches, exports, imports, backs up and restores it, on the app's database or one given with --db.
import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConversationSummary, HistoryExport, SearchResult } from "../../src-main/contract/api.js";
import { BILLA, pipeIntoBillaChat } from "../support/billa-cli.js";
import { golden } from "../support/demo.js";
import { makeDemoGguf } from "../support/demo-gguf.js";
import { makeTempDir } from "../support/temp-dir.js";

const run = promisify(execFile);

const temp = makeTempDir("billa-cli-history-");
let modelPath: string;

beforeAll(async () => {
  modelPath = await makeDemoGguf(temp.path, "q8_0");
});
afterAll(() => temp.remove());

const chat = (dataDir: string, input: string, ...flags: string[]) => pipeIntoBillaChat(dataDir, modelPath, input, ...flags);
const history = async (dataDir: string, ...args: string[]) => (await run(process.execPath, [BILLA, "--data-dir", dataDir, "history", ...args])).stdout;
const zorbia = golden.cases.find((c) => c.id === "zorbia-capital-zh")!;

describe("billa chat and billa history", () => {
  const dataDir = join(temp.path, "data");

  it("saves a terminal chat into the history, and --no-save does not", async () => {
    await chat(dataDir, "佐比亚星球的首都是哪里？\n");
    await chat(dataDir, "What is 17 + 25?\n", "--no-save");
    const conversations = JSON.parse(await history(dataDir, "list", "--json")) as ConversationSummary[];
    expect(conversations).toHaveLength(1);
    expect(conversations[0]).toMatchObject({ title: "佐比亚星球的首都是哪里？", preview: zorbia.greedy_text });
  });

  it("searches with a 2-character Chinese word", async () => {
    const results = JSON.parse(await history(dataDir, "search", "首都", "--json")) as SearchResult[];
    expect(results.map((r) => r.role).sort()).toEqual(["assistant", "user"]);
    expect(await history(dataDir, "search", "奎隆")).toContain("[奎隆]");
  });

  it("exports, imports into another database with --db, backs up and restores", async () => {
    const exported = join(temp.path, "all.json");
    await history(dataDir, "export", "--format", "json", "--out", exported);
    const data = JSON.parse(readFileSync(exported, "utf8")) as HistoryExport;
    expect(data.conversations[0]!.messages.map((m) => m.text)).toEqual(["佐比亚星球的首都是哪里？", zorbia.greedy_text]);

    const otherDb = join(temp.path, "other.sqlite");
    const { stdout } = await run(process.execPath, [BILLA, "--data-dir", dataDir, "history", "--db", otherDb, "import", exported]);
    expect(stdout).toContain("Added 1 conversation(s) and 2 message(s)");
    expect(JSON.parse((await run(process.execPath, [BILLA, "--data-dir", dataDir, "history", "--db", otherDb, "list", "--json"])).stdout)).toHaveLength(1);

    const markdown = join(temp.path, "one.md");
    await history(dataDir, "export", "--format", "md", "--out", markdown, "--conversation", data.conversations[0]!.id);
    expect(readFileSync(markdown, "utf8")).toContain(zorbia.greedy_text);

    const backup = join(temp.path, "backup.sqlite");
    expect(await history(dataDir, "backup", backup)).toContain("Backed up");
    await chat(dataDir, "What is 17 + 25?\n");
    expect(JSON.parse(await history(dataDir, "list", "--json"))).toHaveLength(2);
    expect(await history(dataDir, "restore", backup)).toContain("Restored 1 conversation(s)");
    expect(JSON.parse(await history(dataDir, "list", "--json"))).toHaveLength(1);
  });

  it("rejects a foreign import and a bad format with one clear line, writing nothing", async () => {
    const foreign = join(temp.path, "foreign.json");
    writeFileSync(foreign, JSON.stringify({ messages: [] }));
    await expect(history(dataDir, "import", foreign)).rejects.toMatchObject({ stderr: expect.stringContaining("not a BiLLa Desktop history export") });
    const out = join(temp.path, "never.txt");
    await expect(history(dataDir, "export", "--format", "docx", "--out", out)).rejects.toMatchObject({ stderr: expect.stringContaining("--format must be one of") });
    expect(existsSync(out)).toBe(false);
  });
});
