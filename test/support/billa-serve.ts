// `billa serve` as a script runs it, for the tests of the server itself and of the app as its client (remote models).
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { BILLA } from "./billa-cli.js";

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
