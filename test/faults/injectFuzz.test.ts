// Fault 4a, the sending side: whatever a function passes to the AWS SDK, the layer's context injection
// never throws, never changes the caller's object, never pushes a message over the 10-attribute limit
// or a ClientContext over 3583 bytes, and keeps everything the caller put there.
import * as assert from "node:assert/strict";
import fc from "fast-check";
import {
  injectIntoInput,
  MAX_CLIENT_CONTEXT_BYTES,
  MAX_MESSAGE_ATTRIBUTES,
  PAYLOAD_KEY,
} from "../../layer/src/aws-sdk";
import { record } from "./ledger";

const carrier = {
  traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  tracestate: "vendor=value",
  baggage: "k=v",
};
const OPERATIONS = [
  ["Lambda", "Invoke"],
  ["SQS", "SendMessage"],
  ["SQS", "SendMessageBatch"],
  ["SNS", "Publish"],
  ["SNS", "PublishBatch"],
  ["EventBridge", "PutEvents"],
  ["S3", "PutObject"],
] as const;

const attribute = fc.record({ DataType: fc.constant("String"), StringValue: fc.string() });
const attributes = fc.oneof(
  fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), attribute, { maxKeys: 12 }),
  fc.jsonValue(),
);
const payload = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
  fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v))),
);
const clientContext = fc.oneof(
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString("base64")),
  fc
    .string({ minLength: 2000, maxLength: 2700 })
    .map((s) => Buffer.from(JSON.stringify({ custom: { big: s } })).toString("base64")),
  fc.string(),
);
const input = fc.oneof(
  fc.record(
    {
      InvocationType: fc.constantFrom("Event", "RequestResponse", "DryRun"),
      Payload: payload,
      ClientContext: clientContext,
      MessageAttributes: attributes,
      Entries: fc.array(
        fc.record(
          { MessageAttributes: attributes, Detail: fc.oneof(payload, fc.jsonValue()) },
          { requiredKeys: [] },
        ),
        {
          maxLength: 4,
        },
      ),
      PublishBatchRequestEntries: fc.array(
        fc.record({ MessageAttributes: attributes }, { requiredKeys: [] }),
        { maxLength: 4 },
      ),
    },
    { requiredKeys: [] },
  ),
  fc.anything(),
);

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Each message's attributes, keyed by where the message sits ("" for the request itself, "Entries.0", …). */
function attributeMaps(request: unknown): Map<string, Obj> {
  const maps = new Map<string, Obj>();
  if (!isObj(request)) return maps;
  const add = (where: string, entry: unknown) => {
    if (isObj(entry) && isObj(entry.MessageAttributes)) maps.set(where, entry.MessageAttributes);
  };
  add("", request);
  for (const list of ["Entries", "PublishBatchRequestEntries"]) {
    const entries: unknown[] = Array.isArray(request[list]) ? request[list] : [];
    for (const [i, e] of entries.entries()) add(`${list}.${i}`, e);
  }
  return maps;
}

describe("fault: malformed SDK inputs through the layer's context injection (fuzzed)", () => {
  let cases = 0;

  it("never throws, never mutates, never exceeds AWS limits, keeps the caller's data", () => {
    fc.assert(
      fc.property(fc.constantFrom(...OPERATIONS), input, ([service, operation], given) => {
        cases++;
        const before = JSON.stringify(given, (_k, v) => (v instanceof Uint8Array ? [...v] : v));
        const out = injectIntoInput(service, operation, given, carrier) as any;
        assert.equal(
          JSON.stringify(given, (_k, v) => (v instanceof Uint8Array ? [...v] : v)),
          before,
          "the caller's input was changed",
        );

        const inAttrs = attributeMaps(given);
        for (const [where, attrs] of attributeMaps(out)) {
          const original = inAttrs.get(where) ?? {};
          const size = Object.keys(attrs).length;
          assert.ok(
            size <= Math.max(MAX_MESSAGE_ATTRIBUTES, Object.keys(original).length),
            `injection pushed a message to ${size} attributes`,
          );
          for (const [k, v] of Object.entries(original))
            assert.deepEqual(attrs[k], v, `attribute ${k} changed`);
        }
        const sent: Obj = isObj(given) ? given : {};
        if (
          service === "Lambda" &&
          typeof out?.ClientContext === "string" &&
          out.ClientContext !== sent.ClientContext
        ) {
          assert.ok(
            out.ClientContext.length <= MAX_CLIENT_CONTEXT_BYTES,
            "ClientContext over Lambda's limit",
          );
          const decoded = JSON.parse(Buffer.from(out.ClientContext, "base64").toString("utf8"));
          assert.equal(decoded.custom.traceparent, carrier.traceparent);
        }
        if (service === "Lambda" && typeof out?.Payload === "string" && out.Payload !== sent.Payload) {
          const original = JSON.parse(sent.Payload ?? "{}");
          const { [PAYLOAD_KEY]: injected, ...rest } = JSON.parse(out.Payload);
          const kept = Object.fromEntries(Object.entries(original).filter(([k]) => k !== PAYLOAD_KEY));
          assert.deepEqual(rest, kept, "the payload lost or changed the caller's fields");
          assert.equal(injected.traceparent, carrier.traceparent);
        }
      }),
      { numRuns: 2000 },
    );
    record({
      fault: "bad-input-sdk",
      injected: `${cases} fuzzed SDK inputs (Invoke, SQS, SNS, EventBridge, other) through the context injection`,
      notes: "no throw, caller's input untouched, ≤ 10 message attributes, ClientContext ≤ 3583 bytes",
    });
  });
});
