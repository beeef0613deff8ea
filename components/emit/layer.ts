// Publishing the Firefly layer. The version is keyed on the zip's SHA-256, so an unchanged build
// publishes nothing and a changed one publishes exactly one new version. A checkout without a built
// layer builds it on the first `pulumi up` (esbuild is installed by `npm ci`), so set-up is `npm ci`.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LAYER_RUNTIMES } from "./instrument";

/** Where `npm run build:layer` writes the zip, relative to the package root. */
export const DEFAULT_LAYER_ZIP = path.join(__dirname, "..", "..", "layer", "dist", "firefly-layer.zip");
/** The script `npm run build:layer` runs. */
export const LAYER_BUILD_SCRIPT = path.join(__dirname, "..", "..", "layer", "build.mjs");

/**
 * Builds the package's own layer when its zip is missing. A zip path given by the caller is left alone:
 * a missing one is an error that names it.
 */
export function ensureLayerZip(zipPath: string): void {
  if (path.resolve(zipPath) !== DEFAULT_LAYER_ZIP || fs.existsSync(zipPath)) return;
  try {
    // Output captured: the engine reads the program's stdout.
    execFileSync(process.execPath, [LAYER_BUILD_SCRIPT], { stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "").trim();
    throw new Error(
      `The Firefly layer (${zipPath}) is not built and building it failed: ${stderr || String(error)}\n` +
        "Run `npm ci` (it installs esbuild) and `npm run build:layer`; the build also needs the `zip` command.",
    );
  }
}

/** The layer is plain JavaScript: one build serves both architectures. */
export const LAYER_ARCHITECTURES = ["x86_64", "arm64"];

/** Base64 SHA-256 of the zip, the form Lambda reports as CodeSha256; errors name the path and the fix. */
export function layerZipHash(zipPath: string): string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(zipPath);
  } catch {
    throw new Error(
      `EmitPhase layerZipPath ${zipPath} cannot be read. Build the layer with \`npm run build:layer\`, or ` +
        `point layerZipPath at a built firefly-layer.zip.`,
    );
  }
  return crypto.createHash("sha256").update(bytes).digest("base64");
}

/** Lambda layer names: letters, digits, '-' and '_', up to 140 characters. */
export function validateLayerName(name: string): string {
  if (!/^[A-Za-z0-9_-]{1,140}$/.test(name)) {
    throw new Error(
      `EmitPhase layerName ${JSON.stringify(name)} is not a valid Lambda layer name: use letters, digits, ` +
        "'-' and '_' (at most 140 characters).",
    );
  }
  return name;
}

export function publishLayer(
  name: string,
  layerName: string,
  zipPath: string,
  parent: pulumi.Resource,
): aws.lambda.LayerVersion {
  ensureLayerZip(zipPath);
  return new aws.lambda.LayerVersion(
    `${name}-layer`,
    {
      layerName,
      description: "Firefly: traces each invocation and links it to its caller (OpenTelemetry, OTLP/HTTP).",
      code: new pulumi.asset.FileArchive(zipPath),
      sourceCodeHash: layerZipHash(zipPath),
      compatibleRuntimes: LAYER_RUNTIMES,
      compatibleArchitectures: LAYER_ARCHITECTURES,
      licenseInfo: "Apache-2.0",
    },
    { parent },
  );
}
