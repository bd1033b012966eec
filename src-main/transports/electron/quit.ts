// Quitting waits for the services to shut down cleanly: a running answer stopped, a running conversion
// cancelled with its partial output removed, the model unloaded and the database closed. Electron would
// otherwise end the process as soon as the windows are gone.
import type { Logger } from "../../services/logger.js";

export interface QuitDeps {
  dispose(): Promise<void>;
  /** app.exit: ends the process without emitting before-quit again. */
  exit(code: number): void;
  logger: Logger;
  /** A shutdown stuck this long is abandoned, so the app can always be quit. */
  timeoutMs?: number;
}

/**
 * The before-quit listener. The first quit is held back (preventDefault) while the services dispose, then the
 * app exits; further quit requests meanwhile (a second Cmd+Q, the dock menu) are held back too.
 */
export function gracefulQuit({ dispose, exit, logger, timeoutMs = 30_000 }: QuitDeps): (event: { preventDefault(): void }) => void {
  let shuttingDown = false;
  return (event) => {
    event.preventDefault();
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info("Quitting: shutting the services down.");
    const watchdog = setTimeout(() => {
      logger.error(`The services did not shut down within ${timeoutMs / 1000} s; quitting anyway.`);
      exit(1);
    }, timeoutMs);
    dispose().then(
      () => {
        clearTimeout(watchdog);
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(watchdog);
        logger.error("Shutting the services down failed", error);
        exit(1);
      },
    );
  };
}
