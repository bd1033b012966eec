// `billa history`: the chat history from a terminal, for scripts and backups. Works on the app's database
// (or another one with --db) while the app runs: SQLite's WAL lets both read and write safely.
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { EXPORT_FORMATS, type ExportFormat } from "../../contract/api.js";
import { replaceWhenComplete } from "../../services/files/atomic-file.js";
import { diskFullError, isDiskFull } from "../../services/files/disk-full.js";
import { CliError, numberFlag, printJson, request, withApi } from "./cli-support.js";

/** Written under a temporary name first, so an interrupted export never leaves half a file. */
async function writeWhole(path: string, content: string): Promise<void> {
  await replaceWhenComplete(path, (partial) => writeFile(partial, content)).catch((error: unknown) => {
    throw new CliError(isDiskFull(error) ? diskFullError(path).message : `${path} could not be written: ${(error as Error).message}`);
  });
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addHistoryCommands(program: Command): void {
  const history = program
    .command("history")
    .description("list, search, export, import and back up the chat history")
    .option("--db <file>", "the history database (default: the app's, in its data folder)");
  const withHistory = <T>(run: Parameters<typeof withApi<T>>[1]) => {
    const { db } = history.opts<{ db?: string }>();
    return withApi(program, run, db === undefined ? {} : { database: resolve(db) });
  };

  history
    .command("list")
    .description("conversations, pinned first, then the most recent")
    .option("--archived", "the archived ones instead")
    .option("--deleted", "the deleted ones (restorable for 30 days) instead")
    .option("--json", "print JSON")
    .action((flags: { archived?: boolean; deleted?: boolean; json?: boolean }) =>
      withHistory(async (api) => {
        const { conversations } = await request(api, "history.list", { archived: flags.archived ?? false, deleted: flags.deleted ?? false });
        if (flags.json) return printJson(conversations);
        for (const c of conversations) {
          process.stdout.write(`${c.id}  ${c.updatedAt.slice(0, 16).replace("T", " ")}  ${c.pinned ? "📌 " : ""}${c.title || "(untitled)"}\n`);
        }
      }),
    );

  history
    .command("search")
    .description("full-text search over every message, Chinese and English")
    .argument("<query>", "words to find (all of them)")
    .option("--limit <n>", "at most this many results", numberFlag("--limit", { integer: true, min: 1 }), 50)
    .option("--json", "print JSON")
    .action((query: string, flags: { limit: number; json?: boolean }) =>
      withHistory(async (api) => {
        const { results } = await request(api, "history.search", { query, limit: flags.limit });
        if (flags.json) return printJson(results);
        for (const r of results) {
          const snippet = r.snippet.map((part) => (part.match ? `[${part.text}]` : part.text)).join("");
          process.stdout.write(`${r.conversationId}  ${r.createdAt.slice(0, 10)}  ${r.conversationTitle || "(untitled)"}\n    ${snippet}\n`);
        }
      }),
    );

  history
    .command("export")
    .description("write conversations to a file: all of them, or those given with --conversation")
    .requiredOption("--format <format>", `one of ${EXPORT_FORMATS.join(", ")}`)
    .requiredOption("--out <file>", "the file to write")
    .option("--conversation <id>", "a conversation to export (repeat for several)", collect)
    .action((flags: { format: string; out: string; conversation?: string[] }) =>
      withHistory(async (api) => {
        if (!(EXPORT_FORMATS as readonly string[]).includes(flags.format)) throw new CliError(`--format must be one of ${EXPORT_FORMATS.join(", ")}.`);
        const file = await request(api, "history.export", { format: flags.format as ExportFormat, ...(flags.conversation ? { conversationIds: flags.conversation } : {}) });
        await writeWhole(resolve(flags.out), file.content);
        process.stderr.write(`Wrote ${resolve(flags.out)}.\n`);
      }),
    );

  history
    .command("import")
    .description("merge a JSON export into the history; what is already there is kept")
    .argument("<file>", "a BiLLa Desktop JSON export")
    .action((file: string) =>
      withHistory(async (api) => {
        const content = await readFile(file, "utf8").catch((error: Error) => {
          throw new CliError(`${file} could not be read: ${error.message}`);
        });
        const counts = await request(api, "history.import", { content });
        process.stdout.write(`Added ${counts.conversationsAdded} conversation(s) and ${counts.messagesAdded} message(s); ${counts.conversationsMerged} were already there.\n`);
      }),
    );

  history
    .command("backup")
    .description("a consistent copy of the database, made while the app may be running")
    .argument("<file>", "the backup file to write")
    .action((file: string) =>
      withHistory(async (api) => {
        const backup = await request(api, "history.backup", { outPath: resolve(file) });
        process.stdout.write(`Backed up to ${backup.path} (${backup.bytes} bytes).\n`);
      }),
    );

  history
    .command("restore")
    .description("replace the history with a backup's (the current one is kept in the backups folder)")
    .argument("<file>", "a backup written by `billa history backup` or the app")
    .action((file: string) =>
      withHistory(async (api) => {
        const restored = await request(api, "history.restoreBackup", { path: resolve(file) });
        process.stdout.write(`Restored ${restored.conversations} conversation(s); the previous history is saved as ${restored.previousSavedTo}.\n`);
      }),
    );
}
