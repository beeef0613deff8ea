// `npm run pipeline:down`: stops every process the local pipeline started and removes its files.
import { stopLocalPipeline } from "./local";

stopLocalPipeline().then(
  (count) =>
    console.log(count > 0 ? `local pipeline stopped (${count} processes)` : "local pipeline was not running"),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
