// OTLP request bodies from spans and log records. Bundled on its own (firefly/serialize.cjs) and loaded
// at the first export, which runs after the response: the serialisers are a fifth of the layer's
// code, and compiling them in every init would be paid by the cold start.
import {
  JsonLogsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufTraceSerializer,
} from "@opentelemetry/otlp-transformer";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import type { Protocol } from "./config";
import type { LogRecord } from "./logs";

export function serialize(
  signal: "traces" | "logs",
  protocol: Protocol,
  items: readonly (ReadableSpan | LogRecord)[],
): Uint8Array {
  const json = protocol === "http/json";
  const body =
    signal === "logs"
      ? (json ? JsonLogsSerializer : ProtobufLogsSerializer).serializeRequest(items as never)
      : (json ? JsonTraceSerializer : ProtobufTraceSerializer).serializeRequest(items as ReadableSpan[]);
  if (!body) throw new Error("OTLP serialisation produced no body");
  return body;
}
