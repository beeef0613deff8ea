// Which store runs when nobody says, and what Firefly tells people who choose the other one. Kept apart
// from the settings table so the components (which never read stack config) share the same default.
import { Storage } from "./types";

/** Prometheus + Jaeger: both maintained upstream, multi-arch, no database superuser anywhere. */
export const DEFAULT_STORAGE = Storage.Prometheus;

/**
 * Said at every `pulumi up` that runs Promscale: the project is end of life, so nobody ships fixes for
 * the connector or for the 2023 PostgreSQL the extension is tied to.
 */
export const PROMSCALE_END_OF_LIFE_WARNING =
  "firefly:storage is promscale: Promscale is end of life (discontinued by Timescale in February 2023; " +
  "last release 0.17.0). It runs PostgreSQL 14.6 from a 2023 TimescaleDB image that gets no security " +
  "fixes (for example CVE-2023-5869, authenticated remote code execution, fixed in 14.10). Keep it only " +
  "if you need its SQL; for maintained storage: pulumi config set firefly:storage prometheus";

/** Warnings a deployment with this store should print. Pure. */
export function storageWarnings(storage: Storage): string[] {
  return storage === Storage.Promscale ? [PROMSCALE_END_OF_LIFE_WARNING] : [];
}
