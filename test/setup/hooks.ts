// Root hooks shared by every test file.
// Tests that change process.env restore it themselves; this guard catches the ones that forget,
// so a leaked variable cannot make a later, unrelated test pass or fail.
const snapshot = { ...process.env };

export const mochaHooks = {
  afterEach(this: Mocha.Context) {
    for (const key of Object.keys(process.env)) {
      if (!(key in snapshot)) delete process.env[key];
    }
    for (const [key, value] of Object.entries(snapshot)) {
      if (process.env[key] !== value) process.env[key] = value;
    }
  },
};
