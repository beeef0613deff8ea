// Every image the program runs, on every host and store, is pulled by digest with its tag kept for
// people, or is on the short list of tags without a trustworthy digest, each with its reason.
import * as assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { IMAGE_DIGESTS, pinImage, UNPINNED_IMAGES } from "../../components/imageDigests";
import { CONFIGURATIONS, renderProgram } from "../hosts/programUnderMocks";

const PINNED = /^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/;

describe("image references the program renders", function () {
  this.timeout(300_000);
  const seen = new Set<string>();

  before(async () => {
    for (const c of CONFIGURATIONS) {
      for (const r of await renderProgram(c.config, c.secretKeys)) {
        if (r.type === "docker:index/remoteImage:RemoteImage") seen.add(r.inputs.name);
        for (const c of r.inputs.spec?.template?.spec?.containers ?? []) seen.add(c.image);
        if (r.type === "aws:ec2/instance:Instance") {
          const script = gunzipSync(Buffer.from(r.inputs.userDataBase64, "base64")).toString();
          for (const m of script.matchAll(/image: ["']?([^\s"']+)/g)) seen.add(m[1]);
        }
        if (r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && typeof r.inputs.content === "string")
          for (const m of r.inputs.content.matchAll(/image: ["']?([^\s"']+)/g)) seen.add(m[1]);
      }
    }
  });

  it("finds the images of every host (docker pulls, kubernetes pods, the ec2 compose files)", () => {
    const repos = new Set([...seen].map((i) => i.split(/[:@]/)[0]));
    for (const repo of ["prom/prometheus", "jaegertracing/jaeger", "grafana/grafana", "timescale/promscale"])
      assert.ok(repos.has(repo), `${repo} not found in ${[...repos].join(", ")}`);
  });

  it("pins each by digest, or names why it cannot be yet", () => {
    const loose = [...seen].filter((i) => !PINNED.test(i) && !(i in UNPINNED_IMAGES));
    assert.deepEqual(loose, []);
    for (const i of seen)
      if (PINNED.test(i)) assert.ok(IMAGE_DIGESTS[i.split("@")[0]], `${i}: digest not from the table`);
  });

  it("keeps the table honest: no tag both pinned and excused, every digest well-formed", () => {
    for (const [tag, { digest }] of Object.entries(IMAGE_DIGESTS)) {
      assert.match(digest, /^sha256:[0-9a-f]{64}$/, tag);
      assert.ok(!(tag in UNPINNED_IMAGES), tag);
      assert.equal(pinImage(tag), `${tag}@${digest}`);
    }
    assert.equal(pinImage("example/unknown:1"), "example/unknown:1");
  });
});
