// Firefly's public API: the four components, their args types, and the helpers programs use directly.
import type { ComponentResourceConstructor } from "@pulumi/pulumi/provider/experimental/provider";
import { EmitPhase } from "./emit";
import { Firefly } from "./firefly";
import { PresentationPhase } from "./presentation";
import { ShippingPhase } from "./shipping";

export { ConfigError, type FireflyConfig, InstrumentationMode, SETTINGS, validateConfig } from "./config";
export {
  EmitPhase,
  type EmitPhaseArgs,
  fireflyTransform,
  fireflyTransformation,
  instrumentFunctionArgs,
  validateMetricsDelivery,
} from "./emit";
export { Firefly, type FireflyArgs, type Sampling, validateFireflyArgs } from "./firefly";
export { PresentationPhase, type PresentationPhaseArgs } from "./presentation";
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
