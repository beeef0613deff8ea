// Firefly's public API: the four components and their arg types (with the enums and nested types the
// args use), plus the emit helpers README and docs/emit.md show programs calling. Everything else
// (renderers, host adapters, contracts, validators) is internal and may change without notice.
import type { ComponentResourceConstructor } from "@pulumi/pulumi/provider/experimental/provider";
import { EmitPhase } from "./emit";
import { Firefly } from "./firefly";
import { PresentationPhase } from "./presentation";
import { ShippingPhase } from "./shipping";

export { InstrumentationMode } from "./config";
export {
  EmitPhase,
  type EmitPhaseArgs,
  fireflyTransform,
  fireflyTransformation,
  type InstrumentationInputs,
  instrumentFunctionArgs,
  validateMetricsDelivery,
} from "./emit";
export { Firefly, type FireflyArgs, type Sampling } from "./firefly";
export {
  type Alerts,
  type GrafanaCertificate,
  type PostgresConnection,
  PresentationPhase,
  type PresentationPhaseArgs,
  type Smtp,
} from "./presentation";
export { ShippingPhase, type ShippingPhaseArgs } from "./shipping";
export * from "./types";

/** Package name of the component provider: types are `firefly:index:<Component>`. */
export const PROVIDER_NAME = "firefly";
/** What the component provider serves to other languages. */
export const PROVIDER_COMPONENTS: ComponentResourceConstructor[] = [
  Firefly,
  EmitPhase,
  ShippingPhase,
  PresentationPhase,
];
