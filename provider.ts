// Entry point of the component provider (PulumiPlugin.yaml + package.json "main"). Pulumi runs this when
// a program in another language uses Firefly through `pulumi package add`; the schema those languages see
// is inferred from the component classes' TypeScript types by the SDK's analyzer.
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental";
import { PROVIDER_COMPONENTS, PROVIDER_NAME } from "./components";

componentProviderHost({ name: PROVIDER_NAME, components: PROVIDER_COMPONENTS, dirname: __dirname }).catch(
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
