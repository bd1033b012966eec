import { spawn } from "node:child_process";
import { join } from "node:path";
import { APP_ROOT } from "../../src-main/services/app-root.js";

export interface RunningWebMode {
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts web mode exactly as `npm run web` does (after its build), in its own data directory, with more environment variables if given. */
export function startWebMode(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<RunningWebMode> {
  const child = spawn(process.execPath, [join(APP_ROOT, "build/main/transports/web/web-host.js"), "--data-dir", dataDir], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let output = "";
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`web mode did not print its URL:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /^(http:\/\/127\.0\.0\.1:\d+\/#token=\S+)$/m.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url, output: () => output, stop });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`web mode exited with ${code}:\n${output}`)));
  });
}
