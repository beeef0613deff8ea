// Entry point of the component provider (PulumiPlugin.yaml runs package.json "main", the bundle
// `npm run build:package` makes of this file). Pulumi runs it when a program in another language uses
// Firefly through `pulumi package add`, from that program's folder: it runs as compiled JavaScript so the
// consumer's folder (no tsconfig.json, or a different one) cannot change how Firefly is compiled. The
// schema those languages see is inferred from the component classes' TypeScript sources by the SDK's
// analyzer, which reads tsconfig.json and package.json's exports "." (default: components/index.ts) from
// the package root; secrets are marked on top (components/providerSchema.ts). The build infers it once
// (bin/schema.json) and the plugin serves that.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "@pulumi/pulumi/provider";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental/provider";
import { PROVIDER_COMPONENTS, PROVIDER_NAME } from "./components";
import { markServedToOtherLanguages } from "./components/emit";
import { markSecrets } from "./components/providerSchema";

// From source the root is this file's folder; the bundle sits two levels down (bin/js/provider.js).
const root = existsSync(join(__dirname, "PulumiPlugin.yaml")) ? __dirname : join(__dirname, "..", "..");
/** Written by `npm run build:provider` beside the bundle, from the same sources. */
const SCHEMA_FILE = join(root, "bin", "schema.json");

type Outputs = { outputs: Record<string, unknown> };

class FireflyProvider extends ComponentProvider {
  private marked?: string;

  constructor(private readonly prebuilt: boolean) {
    super({ name: PROVIDER_NAME, components: PROVIDER_COMPONENTS, dirname: root });
  }

  override async getSchema(): Promise<string> {
    if (this.marked) return this.marked;
    if (this.prebuilt && existsSync(SCHEMA_FILE)) {
      // The analyzer takes ~15 s and needs TypeScript at run time, at every start of the plugin. The schema
      // built with the bundle is the same; construct() only needs each component's output names from it
      // (the SDK keeps them in componentDefinitions, which its own getSchema would have filled).
      this.marked = readFileSync(SCHEMA_FILE, "utf8");
      const schema = JSON.parse(this.marked) as { resources: Record<string, { properties?: object }> };
      (this as unknown as { componentDefinitions: Record<string, Outputs> }).componentDefinitions =
        Object.fromEntries(
          Object.entries(schema.resources).map(([token, r]) => [
            token.split(":")[2],
            { outputs: { ...r.properties } },
          ]),
        );
      return this.marked;
    }
    this.marked = markSecrets(await super.getSchema());
    return this.marked;
  }
}

const [command, file] = process.argv.slice(2);
if (command === "--write-schema") {
  // npm run build:provider: infer the schema from the sources now, so the plugin does not at every start.
  new FireflyProvider(false)
    .getSchema()
    .then((schema) => writeFileSync(file, schema))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
} else {
  markServedToOtherLanguages();
  main(new FireflyProvider(true), process.argv.slice(2)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
