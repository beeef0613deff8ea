// Mocha's spec reporter plus one closing line in the plain "N passed, N failed" form that CI reads.
const Mocha = require("mocha");

class FireflyReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = this.stats;
      // Printed after the spec summary so it is the last line of the run.
      process.nextTick(() =>
        console.log(`tests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`),
      );
    });
  }
}

module.exports = FireflyReporter;
