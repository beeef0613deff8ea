// Entry point of the component provider (PulumiPlugin.yaml runs package.json "main", the bundle
// `npm run build:package` makes of this file). Pulumi runs it when a program in another language uses
// Firefly through `pulumi package add`, from that program's folder: it runs as compiled JavaScript so the
// consumer's folder (no tsconfig.json, or a different one) cannot change how Firefly is compiled. The
// schema those languages see is inferred from the component classes' TypeScript sources by the SDK's
// analyzer, which reads tsconfig.json and package.json's exports "." (default: components/index.ts) from
// the package root; secrets are marked on top (components/providerSchema.ts).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { main } from "@pulumi/pulumi/provider";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental/provider";
import { PROVIDER_COMPONENTS, PROVIDER_NAME } from "./components";
import { markServedToOtherLanguages } from "./components/emit";
import { markSecrets } from "./components/providerSchema";

// From source the root is this file's folder; the bundle sits two levels down (bin/js/provider.js).
const root = existsSync(join(__dirname, "PulumiPlugin.yaml")) ? __dirname : join(__dirname, "..", "..");

class FireflyProvider extends ComponentProvider {
  private marked?: string;

  override async getSchema(): Promise<string> {
    this.marked ??= markSecrets(await super.getSchema());
    return this.marked;
  }
}

markServedToOtherLanguages();
main(
  new FireflyProvider({ name: PROVIDER_NAME, components: PROVIDER_COMPONENTS, dirname: root }),
  process.argv.slice(2),
).catch((err) => {
  console.error(err);
  process.exit(1);
});
