// The local OpenAI-compatible API server's life: started from the settings when a desktop or web-mode process
// starts, switched on and off from the Settings page, or run headless by `billa serve`. The HTTP server itself is
// a transport (transports/openai-api), handed in as `listen`; this service owns its settings, key and counts.
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import type { ApiServerSettings, ApiServerStatus, RequestParams } from "../../contract/api.js";
import type { EventBus } from "../event-bus.js";
import type { Logger } from "../logger.js";
import { newApiKey, type SettingsStore } from "../settings/settings-store.js";
import type { ApiAnswers } from "./api-answers.js";
import type { RequestQueue } from "./request-queue.js";

export const LOOPBACK_HOST = "127.0.0.1";
/** Where a LAN-wide server listens: every IPv4 interface. */
const ALL_INTERFACES_HOST = "0.0.0.0";

/** What the HTTP transport needs to serve the API; the getters are read per request, so changes apply at once. */
export interface ApiServerListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Listening beyond loopback: the Host check then accepts this computer's names and addresses too. */
  lan: boolean;
  apiKey(): string;
  allowedOrigins(): readonly string[];
  answers: ApiAnswers;
  queue: RequestQueue;
  logger: Logger;
}

export interface RunningApiServer {
  /** The port it listens on (the one picked, for port 0). */
  port: number;
  /** Stops listening and ends open connections (answers in progress stop). */
  close(): Promise<void>;
}

export type ApiServerListen = (options: ApiServerListenOptions) => Promise<RunningApiServer>;

/** What `billa serve` runs with instead of the saved settings. */
export interface ServeOptions {
  host: string;
  port: number;
  /** null: a new random key for this run. */
  apiKey: string | null;
}

/** Count changes are sent to windows at most this often, so a burst of requests does not flood them. */
const COUNT_EVENT_INTERVAL_MS = 100;

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
}

/** This computer's IPv4 addresses other computers can reach. */
function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((address) => address !== undefined && address.family === "IPv4" && !address.internal)
    .map((address) => address!.address);
}

function describeStartFailure(error: unknown, host: string, port: number): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") return `Port ${port} is already in use by another program (or another BiLLa Desktop). Choose another port, or 0 for any free one.`;
  if (code === "EACCES") return `This system does not let BiLLa Desktop listen on port ${port}. Choose a port above 1023.`;
  if (code === "EADDRNOTAVAIL") return `${host} is not an address of this computer. Listen on 127.0.0.1, 0.0.0.0 or one of its own addresses.`;
  return `The API server could not start: ${(error as Error).message}`;
}

export class ApiServerService {
  #server: RunningApiServer | null = null;
  #host = LOOPBACK_HOST;
  #error: string | null = null;
  /** `billa serve`'s key, when it was given one; otherwise the saved key. */
  #keyOverride: string | null = null;
  /** Starts and stops run one at a time, in order. */
  #lifecycle: Promise<unknown> = Promise.resolve();
  #countTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: SettingsStore,
    private readonly answers: ApiAnswers,
    private readonly queue: RequestQueue,
    private readonly events: EventBus,
    private readonly logger: Logger,
    /** The HTTP transport; null where this process cannot serve (the CLI's other commands). */
    private readonly listen: ApiServerListen | null,
  ) {}

  status(): ApiServerStatus {
    const settings = this.settings.get().apiServer;
    const running = this.#server;
    const lan = running !== null && !isLoopback(this.#host);
    const urlHost = this.#host === ALL_INTERFACES_HOST ? LOOPBACK_HOST : isIP(this.#host) === 6 ? `[${this.#host}]` : this.#host;
    return {
      state: running ? "running" : this.#error !== null ? "failed" : "off",
      settings,
      baseUrl: running ? `http://${urlHost}:${running.port}/v1` : null,
      lanUrls: running && lan ? (this.#host === ALL_INTERFACES_HOST ? lanAddresses() : [this.#host]).map((address) => `http://${address}:${running.port}/v1`) : [],
      apiKey: this.#apiKey(),
      error: this.#error,
      requests: this.queue.counts(),
    };
  }

  /** Starts the server if the settings say it should run (desktop and web mode call this once at start-up). */
  startFromSettings(): Promise<ApiServerStatus> {
    return this.settings.get().apiServer.enabled ? this.#apply() : Promise.resolve(this.status());
  }

  /** Saves the changes and applies them: starts, stops or restarts the server as needed. */
  configure(changes: RequestParams<"apiServer.configure">): Promise<ApiServerStatus> {
    const before = this.settings.get().apiServer;
    const named = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as Partial<ApiServerSettings>;
    const after: ApiServerSettings = { ...before, ...named };
    this.settings.update({ apiServer: after });
    const needsRestart = after.enabled !== before.enabled || after.port !== before.port || after.lan !== before.lan || this.#error !== null;
    return needsRestart ? this.#apply() : Promise.resolve(this.#emit());
  }

  renewKey(): ApiServerStatus {
    this.#keyOverride = null;
    this.settings.renewApiKey();
    this.logger.info("API key renewed");
    return this.#emit();
  }

  /** `billa serve`: runs with these options, whatever the settings say, and saves nothing (not even a new key). */
  serve(options: ServeOptions): Promise<ApiServerStatus> {
    this.#keyOverride = options.apiKey ?? newApiKey();
    return this.#serially(async () => {
      await this.#stopNow();
      await this.#startNow(options.host, options.port);
      if (this.#error !== null) throw new Error(this.#error);
    });
  }

  dispose(): Promise<ApiServerStatus> {
    clearTimeout(this.#countTimer);
    return this.#serially(() => this.#stopNow());
  }

  /** Called by the request queue: counts reach the windows a little later, batched. */
  countsChanged(): void {
    this.#countTimer ??= setTimeout(() => {
      this.#countTimer = undefined;
      this.#emit();
    }, COUNT_EVENT_INTERVAL_MS);
  }

  #apiKey(): string {
    return this.#keyOverride ?? this.settings.apiKey();
  }

  #apply(): Promise<ApiServerStatus> {
    return this.#serially(async () => {
      await this.#stopNow();
      const settings = this.settings.get().apiServer;
      if (settings.enabled) await this.#startNow(settings.lan ? ALL_INTERFACES_HOST : LOOPBACK_HOST, settings.port);
    });
  }

  #serially(work: () => Promise<void>): Promise<ApiServerStatus> {
    const run = this.#lifecycle.then(work).then(() => this.#emit());
    this.#lifecycle = run.catch(() => undefined);
    return run;
  }

  async #startNow(host: string, port: number): Promise<void> {
    this.#error = null;
    if (this.listen === null) {
      this.#error = "This process cannot serve the API. Start BiLLa Desktop, web mode or `billa serve`.";
      return;
    }
    try {
      this.#server = await this.listen({
        host,
        port,
        lan: !isLoopback(host),
        apiKey: () => this.#apiKey(),
        allowedOrigins: () => this.settings.get().apiServer.allowedOrigins,
        answers: this.answers,
        queue: this.queue,
        logger: this.logger,
      });
      this.#host = host;
      this.logger.info(`API server listening on ${host}:${this.#server.port}`);
    } catch (error) {
      this.#error = describeStartFailure(error, host, port);
      this.logger.error("API server could not start", error);
    }
  }

  async #stopNow(): Promise<void> {
    this.#error = null;
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    await server.close();
    this.logger.info("API server stopped");
  }

  #emit(): ApiServerStatus {
    const status = this.status();
    this.events.emit("apiServer.status", status);
    return status;
  }
}
