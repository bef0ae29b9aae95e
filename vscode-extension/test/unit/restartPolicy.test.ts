import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RestartPolicy } from "../../src/restartPolicy";

describe("RestartPolicy", () => {
  it("restarts up to the budget within the window, then gives up", () => {
    let t = 0;
    const p = new RestartPolicy(3, 1000, () => t);
    assert.deepEqual([p.shouldRestart(), p.shouldRestart(), p.shouldRestart(), p.shouldRestart()], [true, true, true, false]);
    assert.equal(p.recentCrashes, 4);
  });

  it("forgets crashes older than the window", () => {
    let t = 0;
    const p = new RestartPolicy(2, 1000, () => t);
    assert.equal(p.shouldRestart(), true);
    t = 500;
    assert.equal(p.shouldRestart(), true);
    t = 1200; // the first crash left the window
    assert.equal(p.shouldRestart(), true);
    assert.equal(p.recentCrashes, 2);
  });

  it("gives a fresh budget after reset (a manual restart)", () => {
    const p = new RestartPolicy(1, 1000, () => 0);
    p.shouldRestart();
    assert.equal(p.shouldRestart(), false);
    p.reset();
    assert.equal(p.shouldRestart(), true);
  });
});
