// Registered inputs carry secrets as RPC wrappers; these read them in tests.
import * as pulumi from "@pulumi/pulumi";

/** Does the value carry a secret anywhere? */
export function hasSecret(v: unknown): boolean {
  if (pulumi.runtime.isRpcSecret(v)) return true;
  if (v !== null && typeof v === "object") return Object.values(v).some(hasSecret);
  return false;
}

/** The value with secret wrappers removed. */
export function plain(v: any): any {
  if (pulumi.runtime.isRpcSecret(v)) return plain(pulumi.runtime.unwrapRpcSecret(v));
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}
