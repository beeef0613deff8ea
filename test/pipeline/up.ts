// `npm run pipeline:up`: starts the local pipeline in the background (or finds it running) and prints
// where everything is. The connection details, secrets included, are in .firefly/local.json.
import { ensureLocalPipeline, LOCAL_JSON } from "./local";

ensureLocalPipeline().then(
  (local) => {
    console.log(`local pipeline running; details in ${LOCAL_JSON}`);
    console.log(`  firehose   ${local.firehose.url}`);
    console.log(`  otlp       ${local.otlp.url}`);
    console.log(`  prometheus ${local.prometheus.url}`);
    console.log(`  jaeger     ${local.traces.jaegerUrl}`);
  },
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
