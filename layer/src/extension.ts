// The layer as an internal Lambda extension, so spans are exported after the response is sent.
// Lambda keeps the environment running (billed, but not response latency) until every extension asks
// for its next event; an internal extension is one the runtime process itself registers, which must
// happen during init, before the runtime's first `GET /runtime/invocation/next` (design.md §7).
// Sockets and timers here are unreferenced: a referenced long poll would keep a callback-style
// handler's event loop from emptying, and aws-lambda-ric 3.x posts such a response only then.
import * as http from "node:http";

const API = "/2020-01-01/extension";
/** The extension's name in Lambda's logs; internal extensions may choose it freely. */
export const EXTENSION_NAME = "firefly";
/** Registration happens once per environment, on loopback: past this, fall back rather than slow init. */
export const REGISTER_TIMEOUT_MS = 1000;

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function request(
  api: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
  referenced: boolean,
  timeoutMs?: number,
): Promise<Reply> {
  const [host, port] = api.split(":");
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port: Number(port), method, path, headers, agent: false, timeout: timeoutMs },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on("error", reject);
      },
    );
    if (!referenced) req.on("socket", (s) => s.unref());
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
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
    for (;;) {
      let reply: Reply;
      try {
        reply = await request(
          this.api,
          "GET",
          `${API}/event/next`,
          { "Lambda-Extension-Identifier": this.id },
          undefined,
          false,
        );
      } catch (error) {
        this.warn(`extension event loop stopped: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      let event: { eventType?: string; requestId?: string; deadlineMs?: number };
      try {
        event = JSON.parse(reply.body);
      } catch {
        event = {};
      }
      if (reply.status !== 200 || event.eventType !== "INVOKE") {
        if (event.eventType === "SHUTDOWN") return;
        this.warn(`extension event loop stopped: HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
        return;
      }
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
