import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { inspect } from "node:util";

export interface Logger {
  info(message: string): void;
  error(message: string, error?: unknown): void;
}

/** Appends to the data directory's log file; stack traces stay here and never reach a client. */
export function createFileLogger(file: string): Logger {
  mkdirSync(dirname(file), { recursive: true });
  const write = (level: string, message: string) =>
    appendFileSync(file, `${new Date().toISOString()} ${level} ${message}\n`);
  return {
    info: (message) => write("INFO", message),
    error: (message, error) => write("ERROR", error === undefined ? message : `${message}: ${inspect(error)}`),
  };
}
