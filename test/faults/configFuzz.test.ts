// Fault 4c: bad stack configuration. Whatever strings a user stores under firefly:*, validateConfig
// either returns a config or throws a ConfigError in which every problem names a firefly: key and a
// `pulumi config` command that fixes it, and never echoes a secret.
import * as assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError, SETTINGS, validateConfig } from "../../components/config";
import { record } from "./ledger";

const NAMES = Object.keys(SETTINGS) as (keyof typeof SETTINGS)[];
const SECRETS = NAMES.filter((n) => (SETTINGS[n] as { secret?: boolean }).secret);
const RUNS = 1000;

/** A raw value as Pulumi could store it: any text, JSON of anything, or a near-miss of a valid value. */
const rawValue = fc.oneof(
  fc.string(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.constantFrom(
    "docker",
    "ec2",
    "kubernetes",
    "promscale",
    "prometheus",
    "true",
    "false",
    "500",
    "[]",
    "{}",
  ),
  fc.integer().map(String),
  fc
    .dictionary(
      fc.constantFrom("percent", "slowMs", "engine", "publicUrl", "instanceType", "emails", "x"),
      fc.jsonValue(),
    )
    .map((o) => JSON.stringify(o)),
);
const rawConfig = fc.record({
  // Half start from a host Lambda can reach (the bare defaults are refused: functions would export to
  // their own loopback), so valid configurations stay in the mix.
  values: fc
    .tuple(
      fc.constantFrom<Record<string, string>>({}, { host: "ec2" }),
      fc.dictionary(
        fc.oneof(
          fc.constantFrom(...NAMES),
          // Pulumi stores no empty key and splits the namespace at the first colon.
          fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !k.includes(":")),
        ),
        rawValue,
        { maxKeys: 6 },
      ),
    )
    .map(([base, fuzzed]) => ({ ...base, ...fuzzed })),
  secretKeys: fc.subarray([...SECRETS]).map((s) => new Set<string>(s)),
});

function refusal(run: () => unknown): ConfigError | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw new Error(`threw ${String(error)} instead of a ConfigError`);
    return error;
  }
}

describe("fault: bad stack configuration (fuzzed)", () => {
  let refused = 0;
  let accepted = 0;
  let failed = 0;

  afterEach(function () {
    if (this.currentTest?.state === "failed") failed++;
  });
  after(() =>
    record({
      fault: "bad-config",
      injected: `${refused + accepted} fuzzed stack configurations`,
      notes: `${refused} refused with a ConfigError, ${accepted} valid${failed ? `; ${failed} properties FAILED` : ""}`,
    }),
  );

  it("throws nothing but ConfigError, and every problem has a firefly: key and a pulumi config fix", () => {
    fc.assert(
      fc.property(rawConfig, (raw) => {
        const error = refusal(() => validateConfig(raw));
        if (!error) {
          accepted++;
          return;
        }
        refused++;
        assert.ok(error.problems.length > 0, "a ConfigError without problems");
        for (const p of error.problems) {
          assert.match(p.key, /^firefly:./, `problem without a firefly: key: ${JSON.stringify(p)}`);
          assert.match(
            p.fix,
            /pulumi config (set|rm) /,
            `problem without a fix command: ${JSON.stringify(p)}`,
          );
          assert.ok(p.message.length > 0);
        }
      }),
      // Keys that every object inherits: found by the fuzzer, kept so the check is deterministic.
      { numRuns: RUNS, examples: [[{ values: { constructor: "0" }, secretKeys: new Set<string>() }]] },
    );
    assert.ok(
      refused > 0 && accepted > 0,
      `the generator is one-sided: ${refused} refused, ${accepted} accepted`,
    );
  });

  it("never echoes a secret, whether stored as a secret or in plain text", () => {
    const secretValue = fc.string({ minLength: 6, maxLength: 40 }).map((s) => `S3CRET-${s}`);
    fc.assert(
      fc.property(fc.constantFrom(...SECRETS), secretValue, fc.boolean(), (name, value, asSecret) => {
        const error = refusal(() =>
          validateConfig({ values: { [name]: value }, secretKeys: new Set(asSecret ? [name] : []) }),
        );
        if (!error) return;
        refused++;
        assert.ok(!error.message.includes(value), `the error shows the secret: ${error.message}`);
        for (const p of error.problems)
          assert.equal(p.value, undefined, `secret echoed in ${JSON.stringify(p)}`);
      }),
      { numRuns: RUNS / 4 },
    );
  });

  it("refuses out-of-range and mistyped values of each kind with the setting's own key", () => {
    const cases: [string, fc.Arbitrary<string>][] = [
      ["flushTimeoutMs", fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 10_001 })).map(String)],
      ["flushTimeoutMs", fc.double({ min: 1.0001, max: 9999, noInteger: true }).map(String)],
      ["host", fc.string().filter((s) => !["docker", "ec2", "kubernetes"].includes(s))],
      ["storage", fc.string().filter((s) => !["promscale", "prometheus"].includes(s))],
      ["metrics", fc.string().filter((s) => !["true", "false"].includes(s.trim()))],
      ["sampling", fc.integer({ min: 101 }).map((percent) => JSON.stringify({ percent }))],
      ["functions", fc.constant(JSON.stringify(["not a function name!"]))],
    ];
    for (const [name, values] of cases) {
      fc.assert(
        fc.property(values, (value) => {
          const error = refusal(() => validateConfig({ values: { [name]: value } }));
          assert.ok(error, `firefly:${name}=${JSON.stringify(value)} was accepted`);
          refused++;
          assert.ok(
            error.problems.some((p) => p.key.startsWith(`firefly:${name}`)),
            `no problem names firefly:${name}: ${error.message}`,
          );
        }),
        { numRuns: 100 },
      );
    }
  });
});
