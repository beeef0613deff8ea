// Mocha's spec reporter plus one closing line in the plain "N passed, N failed" form that CI reads.
// In CI (CI=true) a skipped test is a failed test: a test that skips because a tool is missing would
// otherwise turn a broken CI setup into a green run. CI installs every tool (.ci/setup.d), so it expects
// no skip at all, and the run ends by naming each one.
const Mocha = require("mocha");

const { EVENT_RUN_BEGIN, EVENT_RUN_END, EVENT_TEST_FAIL } = Mocha.Runner.constants;

class FireflyReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const strict = process.env.CI === "true";
    const skipped = [];
    // Mocha sets runner.forbidPending from its own options after building the reporter, so it is
    // switched on when the run begins: each skip then fails its test ("Pending test forbidden").
    runner.once(EVENT_RUN_BEGIN, () => {
      if (strict) runner.forbidPending = true;
    });
    runner.on(EVENT_TEST_FAIL, (test, err) => {
      if (err?.message === "Pending test forbidden") skipped.push(test.fullTitle());
    });
    runner.once(EVENT_RUN_END, () => {
      const s = this.stats;
      // Printed after the spec summary so it is the last line of the run.
      process.nextTick(() => {
        if (strict && skipped.length > 0) {
          console.log(
            `CI=true expects no skipped test; ${skipped.length} skipped and failed the run:\n` +
              skipped.map((t) => `  - ${t}`).join("\n"),
          );
        }
        console.log(`tests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`);
      });
    });
  }
}

module.exports = FireflyReporter;
