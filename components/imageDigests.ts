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
    "jaegertracing/jaeger:2.19.0": {
      digest: "sha256:ede4864215be4cd85bd8c3129a2fea6c5713c5653c7282c429dba123014bc68b",
      checked:
        "the same digest named for 2.19.0 in two independent public repositories (a Terraform service-mesh pin, a test harness script), and pinned without its tag in a third; not read from the registry",
    },
    // The library tag is rebuilt on base-image updates, so references to it carry several digests over
    // time; this one, the most widely agreed, is one immutable build of Caddy 2.10.2.
    "caddy:2.10.2": {
      digest: "sha256:c3d7ee5d2b11f9dc54f947f68a734c84e9c9666c92c88a7f30b9cba5da182adb",
      checked:
        "the same digest for 2.10.2 in more than five independent public repositories (Dockerfiles, test harnesses, pin tables); not read from the registry",
    },
    // As for Caddy: one build of the rebuilt library tag, the multi-arch index.
    "busybox:1.37.0": {
      digest: "sha256:9db7b59979c38555a39def84a31fb98b5296952f9e3afd4f6f11f05b07adfab0",
      checked:
        "the same digest for 1.37.0 in more than five independent public repositories, two of them naming it the tag's multi-arch index; not read from the registry",
    },
  };

/** Tags still pulled by tag, and why. The list may only shrink. */
export const UNPINNED_IMAGES: Readonly<Record<string, string>> = {
  "victoriametrics/victoria-logs:v1.52.1":
    "no public reference to a digest for this tag found. v1.52.0 has one agreed by several repositories, but the Go module proxy does not serve v1.52.0 (checked 2026-11-29), so the tests could not build and run the version deployed",
  "timescale/promscale:0.17.0": "no public reference to a digest found (end of life, see storageChoice.ts)",
  "timescale/timescaledb-ha:pg14.6-ts2.9.1-p1":
    "no public reference to a digest found (end of life, see storageChoice.ts)",
};

/** `repo:tag@sha256:…` when the tag's digest is known, else the tag as given. */
export function pinImage(ref: string): string {
  const pinned = IMAGE_DIGESTS[ref];
  return pinned ? `${ref}@${pinned.digest}` : ref;
}
