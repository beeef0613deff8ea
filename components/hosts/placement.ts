// Shared by the adapters' placeBeside: services placed later need the fact ShippingPhase handed out.

/** A placement fact the caller must pass on from ShippingPhase. */
export function requiredFact<T>(value: T | undefined, field: string, source: string): T {
  if (value === undefined) {
    throw new Error(`deployServices: target.${field} is required for this host; pass ${source}`);
  }
  return value;
}
