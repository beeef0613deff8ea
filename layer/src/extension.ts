// The layer as an internal Lambda extension, so spans are exported after the response is sent.
// Lambda keeps the environment running (billed, but not response latency) until every extension asks
// for its next event; an internal extension is one the runtime process itself registers, which must
// happen during init, before the runtime's first `GET /runtime/invocation/next` (design.md §7).
// Sockets and timers here are unreferenced: a referenced long poll would keep a callback-style
// handler's event loop from emptying, and aws-lambda-ric 3.x posts such a response only then.
// Named imports: a namespace import of a built-in makes the bundle copy every export of it at init.
import { connect as tcpConnect } from "node:net";
import { getSystemErrorName } from "node:util";

const API = "/2020-01-01/extension";
/** The extension's name in Lambda's logs; internal extensions may choose it freely. */
export const EXTENSION_NAME = "firefly";
/** Registration happens once per environment, on loopback: past this, fall back rather than slow init. */
export const REGISTER_TIMEOUT_MS = 1000;
/** Pause before asking the Extensions API again after a failed poll. */
const RETRY_MS = 50;

/** A byte stream to the Lambda API: what LambdaApi needs of a socket. */
export interface Wire {
  /** Sends text (UTF-8); text written before the connection is up is sent once it is. */
  write(text: string): void;
  ref(): void;
  unref(): void;
  /** Closes the connection without reporting it as gone. */
  destroy(): void;
}

/** What a wire reports: bytes received, and its end (with the error, unless the peer closed it). */
export interface WireEvents {
  data(chunk: Buffer): void;
  gone(error?: Error): void;
}

/** Opens a wire to host:port. */
export type Transport = (host: string, port: number, events: WireEvents) => Wire;

/** node:net's socket: works everywhere Node does. */
export const netTransport: Transport = (host, port, events) => {
  const socket = tcpConnect(port, host);
  socket.on("data", events.data);
  socket.on("error", events.gone);
  socket.on("close", () => events.gone());
  return {
    write: (text) => void socket.write(text),
    ref: () => void socket.ref(),
    unref: () => void socket.unref(),
    destroy: () => void socket.destroy(),
  };
};

// libuv's TCP handle as Node binds it (the `tcp_wrap` and `stream_wrap` bindings node:net is built on).
interface TcpHandle {
  onread: (buffer: ArrayBuffer) => void;
  connect(request: object, host: string, port: number): number;
  readStart(): number;
  setNoDelay(on: boolean): number;
  writeUtf8String(request: object, text: string): number;
  ref(): void;
  unref(): void;
  close(): void;
}
interface TcpBindings {
  readonly TCP: new (type: number) => TcpHandle;
  readonly TCPConnectWrap: new () => { oncomplete?: (status: number) => void };
  readonly WriteWrap: new () => {
    handle?: TcpHandle;
    oncomplete?: (status: number) => void;
    async?: boolean;
  };
  readonly SOCKET: number;
  readonly state: Int32Array;
  readonly bytesOrError: number;
  readonly offset: number;
}

let tcpBindings: TcpBindings | null | undefined;

/**
 * The bindings, or null where they are missing, changed, or would warn: process.binding() prints a
 * deprecation warning (DEP0111) under --pending-deprecation, and the function's log is not ours to fill.
 */
function bindings(): TcpBindings | null {
  if (tcpBindings !== undefined) return tcpBindings;
  tcpBindings = null;
  const pending =
    process.env.NODE_PENDING_DEPRECATION === "1" ||
    [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].includes("--pending-deprecation");
  const binding = (process as unknown as { binding?: (name: string) => Record<string, any> }).binding;
  if (pending || typeof binding !== "function" || binding.name !== "binding") return null;
  try {
    const tcp = binding("tcp_wrap");
    const stream = binding("stream_wrap");
    const found: TcpBindings = {
      TCP: tcp.TCP,
      TCPConnectWrap: tcp.TCPConnectWrap,
      WriteWrap: stream.WriteWrap,
      SOCKET: tcp.constants?.SOCKET,
      state: stream.streamBaseState,
      bytesOrError: stream.kReadBytesOrError,
      offset: stream.kArrayBufferOffset,
    };
    const proto = found.TCP?.prototype as Partial<TcpHandle> | undefined;
    const usable =
      typeof found.TCPConnectWrap === "function" &&
      typeof found.WriteWrap === "function" &&
      typeof found.SOCKET === "number" &&
      found.state instanceof Int32Array &&
      typeof found.bytesOrError === "number" &&
      typeof found.offset === "number" &&
      ["connect", "readStart", "setNoDelay", "writeUtf8String", "ref", "unref", "close"].every(
        (method) => typeof proto?.[method as keyof TcpHandle] === "function",
      );
    if (usable) tcpBindings = found;
  } catch {
    // a runtime without them (or one that forbids them): node:net it is
  }
  return tcpBindings;
}

/** An error worded as node:net's are: "connect ECONNREFUSED 127.0.0.1:9001". */
const systemError = (what: string, status: number, address?: string) => {
  let code = String(status);
  try {
    code = getSystemErrorName(status);
  } catch {
    // an unknown status: the number says it
  }
  return Object.assign(new Error(`${what} ${code}${address ? ` ${address}` : ""}`), { code });
};

/**
 * libuv's TCP handle driven directly, for IPv4 addresses. It exchanges the same bytes as node:net but
 * skips its stream machinery, whose first use in a process is about 2 ms of JavaScript compiled and run
 * (measured on Node 20, 22 and 24), and registration is the first use in the runtime's process: the
 * runtime client talks to Lambda through a native addon. Undefined where the bindings are not usable.
 */
export const libuvTransport = (host: string, port: number, events: WireEvents): Wire | undefined => {
  // Dotted quads only (Lambda's is 127.0.0.1): node:net's isIPv4 builds its large pattern on first use.
  const uv = /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? bindings() : null;
  if (!uv) return undefined;
  const handle = new uv.TCP(uv.SOCKET);
  let state: "connecting" | "open" | "closed" = "connecting";
  const queued: string[] = [];
  const close = (error: Error | undefined, report: boolean) => {
    if (state === "closed") return;
    state = "closed";
    handle.close();
    if (report) events.gone(error);
  };
  const send = (text: string) => {
    const request = new uv.WriteWrap();
    request.handle = handle;
    request.async = false;
    request.oncomplete = (status) => {
      if (status < 0) close(systemError("write", status), true);
    };
    const status = handle.writeUtf8String(request, text);
    if (status < 0) close(systemError("write", status), true);
  };
  handle.onread = (buffer) => {
    const read = uv.state[uv.bytesOrError] ?? 0;
    if (read > 0) events.data(Buffer.from(buffer, uv.state[uv.offset], read));
    else if (read < 0)
      close(getSystemErrorName(read) === "EOF" ? undefined : systemError("read", read), true);
  };
  const connecting = new uv.TCPConnectWrap();
  connecting.oncomplete = (status) => {
    if (state !== "connecting") return;
    if (status < 0) return close(systemError("connect", status, `${host}:${port}`), true);
    state = "open";
    handle.setNoDelay(true);
    const reading = handle.readStart();
    if (reading < 0) return close(systemError("read", reading), true);
    for (const text of queued.splice(0)) send(text);
  };
  const status = handle.connect(connecting, host, port);
  // Reported on a later turn, as node:net would: the caller has not kept the wire yet.
  if (status < 0) queueMicrotask(() => close(systemError("connect", status, `${host}:${port}`), true));
  return {
    write: (text) => {
      if (state === "open") send(text);
      else if (state === "connecting") queued.push(text);
    },
    ref: () => handle.ref(),
    unref: () => handle.unref(),
    destroy: () => close(undefined, false),
  };
};

/** The Lambda API's transport: libuv's handle where it can be used, node:net otherwise. */
export const defaultTransport: Transport = (host, port, events) =>
  libuvTransport(host, port, events) ?? netTransport(host, port, events);

interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Whether the exchange keeps the event loop alive (see the file's header). */
  readonly referenced: boolean;
  /** No answer within this long closes the connection; unset: wait as long as it takes. */
  readonly timeoutMs?: number;
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

interface Exchange {
  resolve(reply: Reply): void;
  reject(error: Error): void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * HTTP/1.1 to the local Lambda API over one kept-alive connection, one exchange at a time: the
 * registration and every `/event/next` poll share it. Not node:http: loading and compiling its client
 * costs tens of milliseconds of init on a busy machine, which registration sits in. One connection
 * rather than one per exchange: a connection's setup and teardown is about a millisecond of init, and of
 * billed time after every response.
 */
class LambdaApi {
  private wire: Wire | undefined;
  private received: Buffer = Buffer.alloc(0);
  private exchange: Exchange | undefined;

  constructor(
    private readonly api: string,
    private readonly transport: Transport,
  ) {}

  /** A request on a kept-alive connection the server closed meanwhile is sent again once, on a new one. */
  async request(request: ApiRequest): Promise<Reply> {
    const reused = this.wire !== undefined;
    try {
      return await this.once(request);
    } catch (error) {
      if (!reused || (error as { answered?: boolean }).answered) throw error;
      return this.once(request);
    }
  }

  private connect(): Wire {
    const colon = this.api.lastIndexOf(":");
    const host = this.api.slice(0, colon);
    const port = Number(this.api.slice(colon + 1));
    this.received = Buffer.alloc(0);
    // Events of a connection this client has since let go of (closed, or replaced) are not its business.
    const events: WireEvents = {
      data: (chunk) => {
        if (this.wire !== wire) return;
        this.received = this.received.length ? Buffer.concat([this.received, chunk]) : chunk;
        this.parse();
      },
      gone: (error) => {
        if (this.wire !== wire) return;
        this.fail(error ?? new Error("the Lambda API closed the connection"));
      },
    };
    const wire = this.transport(host, port, events);
    return wire;
  }

  private once({ method, path, headers, body, referenced, timeoutMs }: ApiRequest): Promise<Reply> {
    this.wire ??= this.connect();
    const wire = this.wire;
    if (referenced) wire.ref();
    else wire.unref();
    return new Promise<Reply>((resolve, reject) => {
      const exchange: Exchange = { resolve, reject };
      if (timeoutMs !== undefined) {
        exchange.timer = setTimeout(() => {
          if (this.exchange === exchange) this.fail(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        exchange.timer.unref();
      }
      this.exchange = exchange;
      let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.api}\r\n`;
      for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
      // No half-close after it: a server may drop a long poll whose client half-closed (Node's does).
      wire.write(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  }

  /** Settles the exchange; a connection that asked to be closed (or failed) is closed and let go of. */
  private settle(reply: Reply | undefined, error: Error | undefined, close: boolean): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    if (close) {
      this.wire?.destroy();
      this.wire = undefined;
    }
    if (exchange?.timer) clearTimeout(exchange.timer);
    if (reply) exchange?.resolve(reply);
    else exchange?.reject(error ?? new Error("the Lambda API closed the connection"));
  }

  private fail(error: Error): void {
    this.settle(undefined, error, true);
  }

  /** Settles the exchange once its whole answer is in (Content-Length or chunked framing). */
  private parse(): void {
    const raw = this.received;
    const split = raw.indexOf("\r\n\r\n");
    if (split === -1) return;
    const head = raw.subarray(0, split).toString("latin1").split("\r\n");
    const status = Number(head[0]?.split(" ")[1]);
    if (!status) {
      const malformed = new Error(`malformed answer from the Lambda API: ${head[0]?.slice(0, 80)}`);
      this.fail(Object.assign(malformed, { answered: true }));
      return;
    }
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
    this.settle({ status, headers, body }, undefined, headers.connection?.toLowerCase() === "close");
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
    transport: Transport = defaultTransport,
  ): Promise<InternalExtension | undefined> {
    if (!api) return undefined;
    try {
      const connection = new LambdaApi(api, transport);
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
