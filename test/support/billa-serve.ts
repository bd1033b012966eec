// `billa serve` as a script runs it, for the tests of the server itself and of the app as its client (remote models).
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import BetterSqlite3 from "better-sqlite3";
import { writeSyntheticLlamaGguf } from "../../bench/support/synthetic-gguf.js";
import { createServices } from "../../src-main/services/create-services.js";
import { BILLA } from "./billa-cli.js";
import { makeDemoGguf } from "./demo-gguf.js";

/** The one line `billa serve` prints once it is ready. */
export const READY = /^Serving (.+) at (http:\/\/127\.0\.0\.1:(\d+)\/v1) \(API key: (\S+)\)$/;

export interface RunningServe {
  child: ChildProcessWithoutNullStreams;
  line: string;
  stderr: () => string;
}

/** Starts `billa serve` on one thread and waits for its one line; resolves with what it said. */
export async function startBillaServe(dataDir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningServe> {
  const child = spawn(process.execPath, [BILLA, "--data-dir", dataDir, "serve", "--threads", "1", ...args], { env: { ...process.env, BILLA_API_KEY: "", ...env } });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const [line] = (await Promise.race([once(lines, "line"), once(child, "exit").then(() => [null])])) as [string | null];
  if (line === null) throw new Error(`billa serve exited before it was ready: ${stderr}`);
  return { child, line, stderr: () => stderr };
}

/** The base URL and key a started server printed. */
export function addressOf(serve: RunningServe): { baseURL: string; apiKey: string } {
  const [, , baseURL, , apiKey] = READY.exec(serve.line) ?? [];
  if (baseURL === undefined || apiKey === undefined) throw new Error(`billa serve said: ${serve.line}`);
  return { baseURL, apiKey };
}

/** Two `billa serve` processes for the remote-model tests, with the folders they keep their data in. */
export interface RemoteTestServers {
  /** The demo model: golden answers. */
  demo: RunningServe;
  /** A random-weights model whose answers do not end by themselves (long enough to stop or cut off). */
  endless: RunningServe;
  /** The endless server's data folder: it saves its API conversations there (see lastServerAnswer). */
  endlessDir: string;
}

/** Starts both servers in `root`; each gets its key (`<name>-server-key`). */
export async function startRemoteTestServers(root: string): Promise<RemoteTestServers> {
  const endlessDir = join(root, "endless-server");
  const demoGguf = await makeDemoGguf(root, "q8_0");
  const endlessGguf = join(root, "random-weights.gguf");
  await writeSyntheticLlamaGguf(endlessGguf, { hidden: 128, layers: 2, heads: 2, intermediate: 256, vocab: 960, outType: "q8_0", contextLength: 16384 });
  const setup = createServices({ dataDir: endlessDir, transport: "cli" });
  await setup.api.invoke("apiServer.configure", { saveHistory: true });
  await setup.dispose();
  const [demo, endless] = await Promise.all([
    startBillaServe(join(root, "demo-server"), ["--model-path", demoGguf, "--port", "0", "--api-key", "demo-server-key"]),
    startBillaServe(endlessDir, ["--model-path", endlessGguf, "--port", "0", "--context-size", "16384", "--api-key", "endless-server-key"]),
  ]);
  return { demo, endless, endlessDir };
}

/** The last answer a server saved in its own history: how its last API request ended there. */
export function lastServerAnswer(dataDir: string): { status: string; text: string } | undefined {
  const db = new BetterSqlite3(join(dataDir, "billa.sqlite"), { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT status, text FROM messages WHERE role = 'assistant' ORDER BY rowid DESC LIMIT 1").get() as { status: string; text: string } | undefined;
  } finally {
    db.close();
  }
}
