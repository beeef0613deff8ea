// The layer as an internal Lambda extension, so spans are exported after the response is sent.
// Lambda keeps the environment running (billed, but not response latency) until every extension asks
// for its next event; an internal extension is one the runtime process itself registers, which must
// happen during init, before the runtime's first `GET /runtime/invocation/next` (design.md §7).
// Sockets and timers here are unreferenced: a referenced long poll would keep a callback-style
// handler's event loop from emptying, and aws-lambda-ric 3.x posts such a response only then.
import * as net from "node:net";

const API = "/2020-01-01/extension";
/** The extension's name in Lambda's logs; internal extensions may choose it freely. */
export const EXTENSION_NAME = "firefly";
/** Registration happens once per environment, on loopback: past this, fall back rather than slow init. */
export const REGISTER_TIMEOUT_MS = 1000;
/** Pause before asking the Extensions API again after a failed poll. */
const RETRY_MS = 50;

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * One HTTP/1.1 exchange with the local Lambda API over a plain socket (`Connection: close`, read to
 * the end). Not node:http: loading and compiling its client costs tens of milliseconds of init on a
 * busy machine, which this call sits in; `net` is already loaded (the standard streams use it).
 */
function request(
  api: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string,
  referenced: boolean,
  timeoutMs?: number,
): Promise<Reply> {
  const colon = api.lastIndexOf(":");
  const host = api.slice(0, colon);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(api.slice(colon + 1)), host);
    if (!referenced) socket.unref();
    if (timeoutMs !== undefined)
      socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    const chunks: Buffer[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const split = raw.indexOf("\r\n\r\n");
      const head = (split === -1 ? raw : raw.slice(0, split)).split("\r\n");
      const status = Number(head[0]?.split(" ")[1]);
      const replyHeaders: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(":");
        if (i > 0) replyHeaders[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      let text = split === -1 ? "" : raw.slice(split + 4);
      if (replyHeaders["transfer-encoding"] === "chunked") text = dechunk(text);
      if (!status) reject(new Error(`malformed answer from the Lambda API: ${raw.slice(0, 80)}`));
      else resolve({ status, headers: replyHeaders, body: text });
      socket.destroy();
    });
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${api}`, "Connection: close"];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    // write, not end: a server may drop a long poll whose client half-closed (Node's does).
    socket.write(`${lines.join("\r\n")}\r\n\r\n${body}`);
  });
}

function dechunk(text: string): string {
  let out = "";
  let rest = text;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 4 + size);
  }
}

export interface InvokeEvent {
  readonly requestId: string;
  readonly deadlineMs: number;
}

export class InternalExtension {
  private readonly released = new Set<string>();
  private waiting: { requestId: string; resolve: () => void } | undefined;
  /** The invocation Lambda announced last, with its deadline. */
  current: InvokeEvent | undefined;

  private constructor(
    private readonly api: string,
    private readonly id: string,
    private readonly warn: (message: string) => void,
  ) {}

  /**
   * Registers for INVOKE events; resolves undefined (and says why) when the platform refuses or has no
   * Extensions API, so the caller can fall back to exporting before the response.
   */
  static async register(
    api: string | undefined,
    warn: (message: string) => void,
  ): Promise<InternalExtension | undefined> {
    if (!api) return undefined;
    try {
      // Referenced: an unreferenced request during a module's top-level await lets Node exit (code 13).
      const reply = await request(
        api,
        "POST",
        `${API}/register`,
        { "Lambda-Extension-Name": EXTENSION_NAME, "content-type": "application/json" },
        JSON.stringify({ events: ["INVOKE"] }),
        true,
        REGISTER_TIMEOUT_MS,
      );
      const id = reply.headers["lambda-extension-identifier"];
      if (reply.status !== 200 || typeof id !== "string")
        throw new Error(`HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
      const extension = new InternalExtension(api, id, warn);
      extension.loop();
      return extension;
    } catch (error) {
      warn(
        `could not register as a Lambda extension (${error instanceof Error ? error.message : String(error)}): spans are exported before each response instead`,
      );
      return undefined;
    }
  }

  /** Lets Lambda move on once the invocation's post-response work is done (or was never needed). */
  release(requestId: string | undefined): void {
    if (requestId === undefined || this.waiting?.requestId === requestId || this.waiting?.requestId === "") {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.resolve();
      return;
    }
    this.released.add(requestId);
    // Bounded: ids of invocations Lambda never announced to the extension must not pile up.
    if (this.released.size > 16) this.released.delete(this.released.values().next().value as string);
  }

  private async loop(): Promise<void> {
    // Lambda holds the environment until every registered extension asks for its next event, so the
    // loop must never stop asking: a failed poll is logged once and retried.
    let failing = false;
    for (;;) {
      let event: { eventType?: string; requestId?: string; deadlineMs?: number } = {};
      let problem: string | undefined;
      try {
        const reply = await request(
          this.api,
          "GET",
          `${API}/event/next`,
          { "Lambda-Extension-Identifier": this.id },
          "",
          false,
        );
        try {
          event = JSON.parse(reply.body);
        } catch {
          // leaves eventType unset: reported below
        }
        if (reply.status !== 200 || event.eventType !== "INVOKE")
          problem = `HTTP ${reply.status} ${reply.body.slice(0, 200)}`;
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      if (event.eventType === "SHUTDOWN") return;
      if (problem !== undefined) {
        if (!failing) this.warn(`the extension's event poll failed, retrying: ${problem}`);
        failing = true;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
        continue;
      }
      failing = false;
      const requestId = event.requestId ?? "";
      const deadlineMs = Number(event.deadlineMs) || Date.now() + 900_000;
      this.current = { requestId, deadlineMs };
      await this.wait(requestId, deadlineMs);
    }
  }

  /** Until the invocation is released, and never past its deadline: Lambda would end it there anyway. */
  private wait(requestId: string, deadlineMs: number): Promise<void> {
    if (this.released.delete(requestId)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.release(requestId), Math.max(0, deadlineMs - Date.now()));
      timer.unref();
      this.waiting = {
        requestId,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }
}
