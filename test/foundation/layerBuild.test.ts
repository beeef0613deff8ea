// `npm ci` then `pulumi up` is the whole set-up: a checkout without layer/dist builds the layer when the
// emit phase publishes it.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { DEFAULT_LAYER_ZIP, ensureLayerZip, layerZipHash } from "../../components/emit/layer";

describe("the layer builds itself when missing", function () {
  this.timeout(120_000);

  it("rebuilds layer/dist when it is gone, byte for byte the same zip", () => {
    const dist = `${DEFAULT_LAYER_ZIP.replace(/\/firefly-layer\.zip$/, "")}`;
    const aside = `${dist}.aside-${process.pid}`;
    const before = fs.existsSync(DEFAULT_LAYER_ZIP) ? layerZipHash(DEFAULT_LAYER_ZIP) : undefined;
    if (fs.existsSync(dist)) fs.renameSync(dist, aside);
    try {
      assert.ok(!fs.existsSync(DEFAULT_LAYER_ZIP));
      ensureLayerZip(DEFAULT_LAYER_ZIP);
      assert.ok(fs.existsSync(DEFAULT_LAYER_ZIP), "no zip after ensureLayerZip");
      if (before) assert.equal(layerZipHash(DEFAULT_LAYER_ZIP), before, "the rebuilt zip differs");
      fs.rmSync(aside, { recursive: true, force: true });
    } catch (error) {
      // Put the developer's build back rather than leave a half-built one.
      if (fs.existsSync(aside)) {
        fs.rmSync(dist, { recursive: true, force: true });
        fs.renameSync(aside, dist);
      }
      throw error;
    }
  });

  it("leaves a zip path the caller chose alone: a missing one is an error naming it", () => {
    ensureLayerZip("/nonexistent/custom-layer.zip");
    assert.throws(
      () => layerZipHash("/nonexistent/custom-layer.zip"),
      /\/nonexistent\/custom-layer\.zip cannot be read/,
    );
  });
});
