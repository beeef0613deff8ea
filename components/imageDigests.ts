// Image digests: each image Firefly runs is pulled by digest, its tag kept in front for people
// (`repo:tag@sha256:…`), so a tag moved upstream (or by whoever controls a mirror) cannot change what
// runs. No container registry is reachable where Firefly is built, so a digest is listed only when
// several independent public references agree on it for that tag; images without one stay on their
// tag, each with the reason, and test/foundation/images.test.ts keeps both lists honest.

/** Digest of the multi-arch index for each pinned tag, and what it was checked against. */
export const IMAGE_DIGESTS: Readonly<Record<string, { readonly digest: string; readonly checked: string }>> =
  {
    "prom/prometheus:v3.14.0": {
      digest: "sha256:5ce7540c3c00ef4ab0c9d2c995c6a5b9c421f44b4a115d97a2c7af3b1c21cbb0",
      checked: "the same digest in eight independent public repositories; not read from the registry",
    },
    "grafana/grafana:12.4.5": {
      digest: "sha256:26b8f35a9e4e4431995cf64c3f396505a4faf17bcfc19f9ed84943ec6bfd5ecd",
      checked: "the same digest in three independent public repositories; not read from the registry",
    },
    "otel/opentelemetry-collector-contrib:0.145.0": {
      digest: "sha256:a7343f01869071ea3f4c5e1e97df1bb1b3c4d5c77247db80e053a80b9df530c4",
      checked: "the same digest in two independent public repositories; not read from the registry",
    },
  };

/** Tags still pulled by tag, and why. The list may only shrink. */
export const UNPINNED_IMAGES: Readonly<Record<string, string>> = {
  "jaegertracing/jaeger:2.19.0": "only one public reference to a digest for this tag: not enough to trust it",
  "caddy:2.10.2":
    "an official library image: the tag is rebuilt, and public references disagree on its digest",
  "busybox:1.37.0":
    "an official library image: the tag is rebuilt, and public references disagree on its digest",
  "victoriametrics/victoria-logs:v1.52.1":
    "no public reference to a digest for this tag found; the tag follows VictoriaLogs' docs and was not pulled here",
  "timescale/promscale:0.17.0": "no public reference to a digest found (end of life, see storageChoice.ts)",
  "timescale/timescaledb-ha:pg14.6-ts2.9.1-p1":
    "no public reference to a digest found (end of life, see storageChoice.ts)",
};

/** `repo:tag@sha256:…` when the tag's digest is known, else the tag as given. */
export function pinImage(ref: string): string {
  const pinned = IMAGE_DIGESTS[ref];
  return pinned ? `${ref}@${pinned.digest}` : ref;
}
