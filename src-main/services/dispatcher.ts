// The one place where a request from any transport meets the services: it checks the name,
// validates the input against the contract, runs the handler and wraps the outcome in an envelope.
import { requests, type RawApi, type RequestName, type RequestOutput, type RequestParams } from "../contract/api.js";
import { BillaError, type Envelope } from "../contract/errors.js";
import type { EventBus } from "./event-bus.js";
import { diskFullError, isDiskFull } from "./files/disk-full.js";
import type { Logger } from "./logger.js";

export type Handlers = {
  [N in RequestName]: (input: RequestParams<N>) => Promise<RequestOutput<N>>;
};

function isRequestName(name: unknown): name is RequestName {
  return typeof name === "string" && Object.hasOwn(requests, name);
}

export function createDispatcher(handlers: Handlers, events: EventBus, logger: Logger): RawApi {
  async function invoke(name: unknown, rawInput: unknown): Promise<Envelope<unknown>> {
    if (!isRequestName(name)) {
      return { ok: false, error: { code: "unknown_request", message: `There is no request named ${JSON.stringify(String(name)).slice(0, 120)}.` } };
    }
    const parsed = requests[name].input.safeParse(rawInput);
    if (!parsed.success) {
      return {
        ok: false,
        error: {
          code: "invalid_input",
          message: `The input of ${name} is not valid.`,
          issues: parsed.error.issues.map((issue) => ({
            path: issue.path.map((key) => (typeof key === "symbol" ? String(key) : key)),
            message: issue.message,
          })),
        },
      };
    }
    const handler = handlers[name] as (input: unknown) => Promise<unknown>;
    try {
      return { ok: true, value: await handler(parsed.data) };
    } catch (error) {
      if (error instanceof BillaError) return { ok: false, error: { code: error.code, message: error.message } };
      if (isDiskFull(error)) return { ok: false, error: { code: "disk_full", message: diskFullError("this change").message } };
      logger.error(`request ${name} failed`, error);
      return { ok: false, error: { code: "internal", message: "Something went wrong inside BiLLa Desktop. The log file has the details." } };
    }
  }
  return { invoke, subscribe: (listener) => events.subscribe(listener) };
}
