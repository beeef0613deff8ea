// The layer as an internal Lambda extension, so spans are exported after the response is sent.
// Lambda keeps the environment running (billed, but not response latency) until every extension asks
// for its next event; an internal extension is one the runtime process itself registers, which must
// happen during init, before the runtime's first `GET /runtime/invocation/next` (design.md §7).
// Sockets and timers here are unreferenced: a referenced long poll would keep a callback-style
// handler's event loop from emptying, and aws-lambda-ric 3.x posts such a response only then.
// Named imports: a namespace import of a built-in makes the bundle copy every export of it at init.
import { type Socket, connect as tcpConnect } from "node:net";

const API = "/2020-01-01/extension";
/** The extension's name in Lambda's logs; internal extensions may choose it freely. */
export const EXTENSION_NAME = "firefly";
/** Registration happens once per environment, on loopback: past this, fall back rather than slow init. */
export const REGISTER_TIMEOUT_MS = 1000;
/** Pause before asking the Extensions API again after a failed poll. */
const RETRY_MS = 50;

interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Whether the exchange keeps the event loop alive (see the file's header). */
  readonly referenced: boolean;
  /** No answer within this long destroys the socket; unset: wait as long as it takes. */
  readonly timeoutMs?: number;
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * HTTP/1.1 to the local Lambda API over one kept-alive plain socket, one exchange at a time: the
 * registration and every `/event/next` poll share it. Not node:http: loading and compiling its client
 * costs tens of milliseconds of init on a busy machine, which registration sits in; `net` is already
 * loaded. One socket rather than one per exchange: a socket's setup and teardown is about a
 * millisecond of init, and of billed time after every response.
 */
class LambdaApi {
  private socket: Socket | undefined;
  private received: Buffer = Buffer.alloc(0);
  private exchange: { resolve(reply: Reply): void; reject(error: Error): void } | undefined;

  constructor(private readonly api: string) {}

  /** A request on a kept-alive socket the server closed meanwhile is sent again once, on a new one. */
  async request(request: ApiRequest): Promise<Reply> {
    const reused = this.socket !== undefined;
    try {
      return await this.once(request);
    } catch (error) {
      if (!reused || (error as { answered?: boolean }).answered) throw error;
      return this.once(request);
    }
  }

  private connect(): Socket {
    const colon = this.api.lastIndexOf(":");
    const socket = tcpConnect(Number(this.api.slice(colon + 1)), this.api.slice(0, colon));
    this.received = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      this.received = this.received.length ? Buffer.concat([this.received, chunk]) : chunk;
      this.parse();
    });
    const gone = (error?: Error) => {
      if (this.socket === socket) this.socket = undefined;
      this.fail(error ?? new Error("the Lambda API closed the connection"), socket);
    };
    socket.on("error", gone);
    socket.on("close", () => gone());
    return socket;
  }

  private once({ method, path, headers, body, referenced, timeoutMs }: ApiRequest): Promise<Reply> {
    this.socket ??= this.connect();
    const socket = this.socket;
    if (referenced) socket.ref();
    else socket.unref();
    socket.setTimeout(timeoutMs ?? 0);
    if (timeoutMs !== undefined)
      socket.once("timeout", () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    return new Promise<Reply>((resolve, reject) => {
      this.exchange = { resolve, reject };
      let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.api}\r\n`;
      for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
      // write, not end: a server may drop a long poll whose client half-closed (Node's does).
      socket.write(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  }

  private fail(error: Error, socket: Socket): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    socket.destroy();
    exchange?.reject(error);
  }

  /** Settles the exchange once its whole answer is in (Content-Length or chunked framing). */
  private parse(): void {
    const raw = this.received;
    const split = raw.indexOf("\r\n\r\n");
    if (split === -1) return;
    const head = raw.subarray(0, split).toString("latin1").split("\r\n");
    const status = Number(head[0]?.split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(":");
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const rest = raw.subarray(split + 4);
    let body: string;
    let used: number;
    if (headers["transfer-encoding"] === "chunked") {
      const end = rest.indexOf("0\r\n\r\n");
      if (end === -1 || (end > 0 && rest[end - 1] !== 0x0a)) return;
      used = end + 5;
      body = dechunk(rest.subarray(0, used).toString("utf8"));
    } else {
      const length = Number(headers["content-length"] ?? 0);
      if (rest.length < length) return;
      used = length;
      body = rest.subarray(0, length).toString("utf8");
    }
    this.received = rest.subarray(used);
    const socket = this.socket;
    if (!status) {
      this.socket = undefined;
      if (socket)
        this.fail(
          Object.assign(new Error(`malformed answer from the Lambda API: ${head[0]?.slice(0, 80)}`), {
            answered: true,
          }),
          socket,
        );
      return;
    }
    const exchange = this.exchange;
    this.exchange = undefined;
    if (headers.connection?.toLowerCase() === "close" && socket) {
      this.socket = undefined;
      socket.destroy();
    } else socket?.setTimeout(0);
    exchange?.resolve({ status, headers, body });
  }
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
    private readonly api: LambdaApi,
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
      const connection = new LambdaApi(api);
      // Referenced: an unreferenced request during a module's top-level await lets Node exit (code 13).
      const reply = await connection.request({
        method: "POST",
        path: `${API}/register`,
        headers: { "Lambda-Extension-Name": EXTENSION_NAME, "content-type": "application/json" },
        body: JSON.stringify({ events: ["INVOKE"] }),
        referenced: true,
        timeoutMs: REGISTER_TIMEOUT_MS,
      });
      const id = reply.headers["lambda-extension-identifier"];
      if (reply.status !== 200 || typeof id !== "string")
        throw new Error(`HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
      const extension = new InternalExtension(connection, id, warn);
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
        const reply = await this.api.request({
          method: "GET",
          path: `${API}/event/next`,
          headers: { "Lambda-Extension-Identifier": this.id },
          body: "",
          referenced: false,
        });
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
