/** Builds the rebuilt upstream layer; see build.mjs. */
export function buildUpstreamLayer(): Promise<{ dir: string; zip: string; zipBytes: number }>;
