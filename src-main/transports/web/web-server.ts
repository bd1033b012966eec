// Web mode: the same API as the desktop app, over one WebSocket, for a browser on this computer only.
// Bound to 127.0.0.1; the page and its socket must come from our own host name (no DNS rebinding),
// and the socket must carry the random token printed with the URL.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import sirv from "sirv";
import { WebSocketServer, type WebSocket } from "ws";
import type { RawApi } from "../../contract/api.js";
import { clientFrameSchema, WEB_SOCKET_PATH, WEB_TOKEN_PARAM, type ServerFrame } from "../../contract/web-protocol.js";
import type { Logger } from "../../services/logger.js";

export interface WebServerOptions {
  api: RawApi;
  staticDir: string;
  logger: Logger;
  /** 0 picks a free port. */
  port?: number;
}

export interface WebServer {
  /** The address to open, holding the token in its fragment (never sent to a server or written to a log). */
  url: string;
  origin: string;
  token: string;
  close(): Promise<void>;
}

const LOOPBACK = "127.0.0.1";
/** Requests are small JSON; a model file never travels over the socket. */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;

function securityHeaders(port: number): Record<string, string> {
  const sockets = [`ws://${LOOPBACK}:${port}`, `ws://localhost:${port}`].join(" ");
  return {
    "Content-Security-Policy": `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src ${sockets}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
  };
}

function tokensMatch(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function refuseUpgrade(socket: Duplex, status: 400 | 401 | 403 | 404, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const token = randomBytes(32).toString("base64url");
  const serveStatic = sirv(options.staticDir, { etag: true, dotfiles: false });
  let allowedHosts: Set<string> = new Set();
  let headers: Record<string, string> = {};

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!allowedHosts.has(req.headers.host ?? "")) {
      res.writeHead(403).end("This server only answers to 127.0.0.1 and localhost.");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
      return;
    }
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    serveStatic(req, res, () => {
      res.writeHead(404).end("Not found");
    });
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const host = req.headers.host ?? "";
    const url = new URL(req.url ?? "/", `http://${LOOPBACK}`);
    if (url.pathname !== WEB_SOCKET_PATH) return refuseUpgrade(socket, 404, "Not Found");
    if (!allowedHosts.has(host) || req.headers.origin !== `http://${host}`) {
      options.logger.info(`refused a web socket from origin ${JSON.stringify(req.headers.origin ?? null)} for host ${JSON.stringify(host)}`);
      return refuseUpgrade(socket, 403, "Forbidden");
    }
    if (!tokensMatch(url.searchParams.get(WEB_TOKEN_PARAM), token)) {
      options.logger.info("refused a web socket without the right token");
      return refuseUpgrade(socket, 401, "Unauthorized");
    }
    sockets.handleUpgrade(req, socket, head, (ws) => serveApi(ws, options.api));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, LOOPBACK, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = new Set([`${LOOPBACK}:${port}`, `localhost:${port}`]);
  headers = securityHeaders(port);
  const origin = `http://${LOOPBACK}:${port}`;

  return {
    url: `${origin}/#${WEB_TOKEN_PARAM}=${token}`,
    origin,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function serveApi(ws: WebSocket, api: RawApi): void {
  const send = (frame: ServerFrame) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };
  const unsubscribe = api.subscribe((event) => send({ type: "event", event }));
  ws.on("close", unsubscribe);
  ws.on("message", (data, isBinary) => {
    let frame;
    try {
      frame = clientFrameSchema.parse(isBinary ? undefined : JSON.parse(data.toString()));
    } catch {
      ws.close(1008, "Frames must be JSON invoke messages.");
      return;
    }
    const { id, name, input } = frame;
    void api.invoke(name, input).then((envelope) => send({ type: "result", id, envelope }));
  });
}
