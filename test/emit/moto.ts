// moto's server mode on a free loopback port: a real HTTP implementation of the Lambda and IAM APIs the
// existing-function provider calls. Installed by .ci/setup.d/40-moto.sh.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

const VENV_BIN = "/opt/firefly-moto/bin/moto_server";

function motoBinary(): string {
  if (fs.existsSync(VENV_BIN)) return VENV_BIN;
  try {
    return execFileSync("sh", ["-c", "command -v moto_server"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("moto_server not found: run `bash .ci/setup.d/40-moto.sh` (installs moto[server]).");
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Moto {
  endpoint: string;
  /** Point the AWS SDK at moto (call in beforeEach: the root hooks restore process.env after each test). */
  useInProcessEnv(): void;
  stop(): Promise<void>;
}

export const REGION = "eu-west-1";
export const ACCOUNT = "123456789012";

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child: ChildProcess = spawn(motoBinary(), ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${stderr}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`moto_server did not start within 30 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    useInProcessEnv() {
      process.env.AWS_ACCESS_KEY_ID = "testing";
      process.env.AWS_SECRET_ACCESS_KEY = "testing";
      process.env.AWS_REGION = REGION;
      process.env.AWS_ENDPOINT_URL_LAMBDA = endpoint;
      // Node 20 is supported here; the SDK's notice about its own future Node 22 floor is in docs/emit.md.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/**
 * Create an IAM role through moto's IAM query API (Lambda refuses functions whose role does not exist).
 * moto picks the service from the credential scope and does not check the signature.
 */
export async function createRole(endpoint: string, name: string): Promise<string> {
  const body = new URLSearchParams({
    Action: "CreateRole",
    Version: "2010-05-08",
    RoleName: name,
    AssumeRolePolicyDocument: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    }),
  });
  const res = await fetch(`${endpoint}/`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`CreateRole failed: ${res.status} ${text}`);
  return `arn:aws:iam::${ACCOUNT}:role/${name}`;
}

/** A small real zip (via the zip CLI), as function code or layer content. */
export function makeZip(files: Record<string, string>): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-zip-"));
  try {
    for (const [name, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), content);
    }
    execFileSync("zip", ["-qr", "out.zip", ...Object.keys(files)], { cwd: dir });
    return fs.readFileSync(path.join(dir, "out.zip"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: string;
}

export interface LambdaTap {
  endpoint: string;
  requests: RecordedRequest[];
  /** RevisionIds the proxy added to GetFunctionConfiguration answers, in order. */
  revisions: string[];
  /** This many GetFunctionConfiguration answers say an update is still in progress (LastUpdateStatus). */
  inProgressReads: number;
  /** When set, the next UpdateFunctionConfiguration is answered the way Lambda answers a stale RevisionId. */
  rejectNextUpdate: boolean;
  close(): Promise<void>;
}

/**
 * A loopback proxy in front of moto that records what the provider sends. moto neither reports a
 * function's RevisionId nor checks one, so the proxy adds a fresh RevisionId to each configuration it
 * returns (as Lambda does), can report an update in progress, and can answer one update with Lambda's
 * stale-RevisionId error.
 */
export async function tapLambda(target: string): Promise<LambdaTap> {
  const http = await import("node:http");
  const tap: LambdaTap = {
    endpoint: "",
    requests: [],
    revisions: [],
    inProgressReads: 0,
    rejectNextUpdate: false,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    tap.requests.push({ method: req.method!, path: req.url!, body: body.toString() });
    if (tap.rejectNextUpdate && req.method === "PUT" && /\/functions\/[^/]+\/configuration$/.test(req.url!)) {
      tap.rejectNextUpdate = false;
      res.writeHead(412, {
        "content-type": "application/json",
        "x-amzn-errortype": "PreconditionFailedException",
      });
      res.end(
        JSON.stringify({
          Type: "User",
          message: "The Revision Id provided does not match the latest Revision Id.",
        }),
      );
      return;
    }
    const headers = { ...req.headers } as Record<string, string>;
    delete headers.host;
    const upstream = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers,
      body: ["GET", "HEAD"].includes(req.method!) ? undefined : body,
    });
    let out = Buffer.from(await upstream.arrayBuffer());
    if (req.method === "GET" && /\/functions\/[^/]+\/configuration$/.test(req.url!) && upstream.ok) {
      const cfg = JSON.parse(out.toString());
      cfg.RevisionId ??= crypto.randomUUID();
      if (tap.inProgressReads > 0) {
        tap.inProgressReads--;
        cfg.LastUpdateStatus = "InProgress";
      }
      tap.revisions.push(cfg.RevisionId);
      out = Buffer.from(JSON.stringify(cfg));
    }
    res.writeHead(upstream.status, {
      "content-type": upstream.headers.get("content-type") ?? "application/json",
    });
    res.end(out);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  tap.endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return tap;
}
