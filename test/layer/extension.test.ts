// The layer's Extensions API client (layer/src/extension.ts) against a scripted HTTP server, over both
// of its transports: libuv's TCP handle (the default where usable) and node:net (the fallback). The
// runtimes the layer supports each run the libuv transport for real, from a bundle of the same source.
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { buildSync } from "esbuild";
import {
  EXTENSION_NAME,
  InternalExtension,
  libuvTransport,
  netTransport,
  type Transport,
} from "../../layer/src/extension";
import { RUNTIMES, runtimeBinaries } from "./runtime";

const ID = "ext-0123";

/** How the scripted server answers the nth request; a request it does not answer stays unanswered. */
type Script = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

interface ApiServer {
  readonly api: string;
  readonly requests: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[];
  readonly connections: number;
  /** Resolves once the server has seen n requests. */
  seen(n: number): Promise<void>;
  close(): Promise<void>;
}

async function apiServer(script: Script): Promise<ApiServer> {
  const requests: ApiServer["requests"] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      script(req, res, requests.length);
      for (const w of waiters.filter((x) => requests.length >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  });
  server.on("connection", () => {
    connections++;
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    api: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    get connections() {
      return connections;
    },
    seen: (n) =>
      requests.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const registered = (res: http.ServerResponse) =>
  res.writeHead(200, { "lambda-extension-identifier": ID, "content-type": "application/json" }).end("{}");
const invoke = (res: http.ServerResponse, requestId: string, extra = "") =>
  res
    .writeHead(200, { "content-type": "application/json" })
    .end(`{"eventType":"INVOKE","requestId":"${requestId}","deadlineMs":${Date.now() + 60_000}${extra}}`);
const shutdown = (res: http.ServerResponse) => res.writeHead(200).end('{"eventType":"SHUTDOWN"}');

/** The libuv transport or a failed test: never a silent fallback to node:net. */
const libuvOnly: Transport = (host, port, events) => {
  const wire = libuvTransport(host, port, events);
  if (!wire) throw new Error("the libuv transport is not usable on this Node");
  return wire;
};

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
};

for (const [name, transport] of [
  ["libuv", libuvOnly],
  ["node:net", netTransport],
] as const) {
  describe(`layer extension client over ${name}`, () => {
    let server: ApiServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it("registers for INVOKE, polls, learns each invocation and polls again once it is released", async () => {
      server = await apiServer((_req, res, n) => {
        if (n === 1) return registered(res);
        if (n === 2) return invoke(res, "req-1");
        if (n === 3) return invoke(res, "req-2");
        shutdown(res);
      });
      const warnings: string[] = [];
      const extension = await InternalExtension.register(server.api, (m) => warnings.push(m), transport);
      assert.ok(extension, warnings.join("\n"));
      const [reg] = server.requests;
      assert.equal(reg?.method, "POST");
      assert.equal(reg?.url, "/2020-01-01/extension/register");
      assert.equal(reg?.headers["lambda-extension-name"], EXTENSION_NAME);
      assert.deepEqual(JSON.parse(reg?.body ?? ""), { events: ["INVOKE"] });
      await until(() => extension.current?.requestId === "req-1", "the first INVOKE event was read");
      assert.equal(server.requests[1]?.headers["lambda-extension-identifier"], ID);
      // Held until released: no third poll meanwhile.
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(server.requests.length, 2);
      extension.release("req-1");
      await until(() => extension.current?.requestId === "req-2", "the second INVOKE event was read");
      extension.release("req-2");
      await server.seen(4);
      assert.equal(server.connections, 1, "one kept-alive connection for every exchange");
      assert.deepEqual(warnings, []);
    });

    it("reads a chunked answer split over many reads, and a connection the server closes is replaced", async () => {
      const padding = "x".repeat(300_000);
      server = await apiServer((req, res, n) => {
        if (n === 1) {
          // chunked, several writes, then the server asks to close the connection
          res.writeHead(200, { "lambda-extension-identifier": ID, connection: "close" });
          res.write("{");
          res.end("}");
          return;
        }
        if (n === 2) {
          res.writeHead(200, { "content-type": "application/json" });
          res.write(`{"eventType":"INVOKE","requestId":"big","deadlineMs":${Date.now() + 60_000},`);
          res.end(`"padding":"${padding}"}`);
          // and drops the idle kept-alive connection right after answering
          res.on("finish", () => setTimeout(() => req.socket.destroy(), 20));
          return;
        }
        shutdown(res);
      });
      const warnings: string[] = [];
      const extension = await InternalExtension.register(server.api, (m) => warnings.push(m), transport);
      assert.ok(extension, warnings.join("\n"));
      await until(() => extension.current?.requestId === "big", "the large chunked INVOKE event was read");
      await new Promise((r) => setTimeout(r, 60));
      extension.release("big");
      await server.seen(3);
      assert.equal(server.connections, 3, "a new connection after each close");
      assert.deepEqual(warnings, [], "a closed idle connection is no failure");
    });

    it("refused, unanswered or not 200: registration resolves undefined and says why", async () => {
      const closed = await apiServer(() => undefined);
      const port = closed.api;
      await closed.close();
      const warnings: string[] = [];
      assert.equal(await InternalExtension.register(port, (m) => warnings.push(m), transport), undefined);
      assert.match(
        warnings[0] ?? "",
        new RegExp(
          `could not register as a Lambda extension \\(connect ECONNREFUSED ${port.replace(/\./g, "\\.")}\\): spans are exported before each response instead`,
        ),
      );

      server = await apiServer((_req, res, n) => {
        if (n === 1) res.writeHead(404).end('{"errorType":"Extension.NotFound"}');
      });
      assert.equal(
        await InternalExtension.register(server.api, (m) => warnings.push(m), transport),
        undefined,
      );
      assert.match(warnings[1] ?? "", /\(HTTP 404 \{"errorType":"Extension.NotFound"\}\)/);

      // The second registration is never answered: given up after REGISTER_TIMEOUT_MS.
      const started = Date.now();
      assert.equal(
        await InternalExtension.register(server.api, (m) => warnings.push(m), transport),
        undefined,
      );
      assert.match(warnings[2] ?? "", /\(no answer within 1000 ms\)/);
      assert.ok(Date.now() - started < 3000);
    });

    it("a failed poll is retried after a pause and reported once", async () => {
      server = await apiServer((_req, res, n) => {
        if (n === 1) return registered(res);
        if (n <= 4) return res.writeHead(500).end("busy");
        if (n === 5) return invoke(res, "after-failures");
        shutdown(res);
      });
      const warnings: string[] = [];
      const extension = await InternalExtension.register(server.api, (m) => warnings.push(m), transport);
      assert.ok(extension);
      await until(() => extension.current?.requestId === "after-failures", "polling went on after failures");
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0] ?? "", /the extension's event poll failed, retrying: HTTP 500 busy/);
      extension.release("after-failures");
      await server.seen(6);
    });
  });
}

describe("layer extension client transport choice", () => {
  it("an API address that is not a dotted IPv4 quad goes over node:net", async () => {
    const events = { data: () => undefined, gone: () => undefined };
    assert.equal(libuvTransport("localhost", 9001, events), undefined);
    assert.equal(libuvTransport("::1", 9001, events), undefined);
    // Then SHUTDOWN, which ends the extension's poll loop: no loop outlives its test.
    const server = await apiServer((_req, res, n) => (n === 1 ? registered(res) : shutdown(res)));
    try {
      const port = server.api.split(":")[1];
      const warnings: string[] = [];
      const extension = await InternalExtension.register(`localhost:${port}`, (m) => warnings.push(m));
      assert.ok(extension, warnings.join("\n"));
      await server.seen(2);
    } finally {
      await server.close();
    }
  });
});

describe("layer extension client on each Lambda runtime", function () {
  this.timeout(120_000);
  let server: ApiServer;
  let script: string;
  before(async () => {
    server = await apiServer((_req, res) => registered(res));
    // The same source, bundled as the layer is: registers once over the transport named last on its command line.
    const out = buildSync({
      stdin: {
        contents: `
          import { InternalExtension, libuvTransport, defaultTransport } from ${JSON.stringify(path.resolve(__dirname, "../../layer/src/extension.ts"))};
          const only = (h, p, e) => { const w = libuvTransport(h, p, e); if (!w) throw new Error("libuv transport not usable"); return w; };
          const [api, mode] = process.argv.slice(-2);
          InternalExtension.register(api, (m) => console.log("WARN " + m), mode === "libuv" ? only : defaultTransport)
            .then((x) => { console.log(x ? "REGISTERED" : "NOT REGISTERED"); process.exit(0); });`,
        resolveDir: __dirname,
        loader: "ts",
      },
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      write: false,
    });
    script = out.outputFiles[0]?.text ?? "";
  });
  after(() => server.close());

  /**
   * Runs the bundle under a runtime's Node (asynchronously: the server answering it is in this process)
   * and returns its stdout, after checking that it wrote nothing to stderr.
   */
  const run = (node: string, transport: string, env: Record<string, string> = {}) =>
    new Promise<string>((resolve, reject) => {
      execFile(
        node,
        ["-e", script, "--", server.api, transport],
        { env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8", timeout: 30_000 },
        (error, stdout, stderr) => {
          if (error) return reject(error);
          assert.equal(stderr, "", `stderr of ${node}`);
          resolve(stdout);
        },
      );
    });

  for (const runtime of RUNTIMES) {
    it(`${runtime}: registers over libuv's TCP handle, with nothing on stderr`, async () => {
      assert.equal(await run(runtimeBinaries(runtime).node, "libuv"), "REGISTERED\n");
    });
  }

  it("under --pending-deprecation: uses node:net rather than make process.binding() print a warning", async () => {
    const { node } = runtimeBinaries("nodejs24.x");
    const pending = { NODE_OPTIONS: "--pending-deprecation" };
    assert.equal(await run(node, "default", pending), "REGISTERED\n");
    assert.match(await run(node, "libuv", pending), /^WARN could not register.*libuv transport not usable/);
    assert.match(await run(node, "libuv", { NODE_PENDING_DEPRECATION: "1" }), /libuv transport not usable/);
  });
});
