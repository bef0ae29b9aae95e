import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeReview, parseDoctorResult, reviewFailure } from "../../src/results";
import { formatLatency, parseServerStatus, statusView } from "../../src/statusView";

describe("parseServerStatus", () => {
  it("accepts the agreed payload", () => {
    assert.deepEqual(parseServerStatus({ state: "ready", model: "assist-completion", latencyMs: 84.2, message: null }), {
      state: "ready",
      model: "assist-completion",
      latencyMs: 84.2,
      message: null,
    });
  });
  it("rejects unknown states and non-objects", () => {
    assert.equal(parseServerStatus({ state: "sleeping", model: "m" }), undefined);
    assert.equal(parseServerStatus("ready"), undefined);
    assert.equal(parseServerStatus(null), undefined);
  });
  it("tolerates missing optional fields", () => {
    assert.deepEqual(parseServerStatus({ state: "busy" }), { state: "busy", model: "", latencyMs: null, message: null });
  });
});

describe("statusView", () => {
  const ready = { state: "ready", model: "assist-completion", latencyMs: 85, message: null } as const;
  it("shows the model and last latency when ready", () => {
    const v = statusView({ phase: "running" }, ready);
    assert.equal(v.text, "$(sparkle) assist-completion · 85 ms");
    assert.equal(v.severity, "normal");
    assert.match(v.tooltip, /Last completion: 85 ms/);
  });
  it("shows completion off as a warning", () => {
    const v = statusView({ phase: "running" }, { ...ready, state: "disabled" });
    assert.equal(v.text, "$(circle-slash) assist-completion");
    assert.equal(v.severity, "warning");
    assert.match(v.tooltip, /^Completion is off/);
  });
  it("shows a server error with its message", () => {
    const v = statusView({ phase: "running" }, { ...ready, state: "error", message: "model 'x' not found" });
    assert.equal(v.severity, "error");
    assert.match(v.tooltip, /model 'x' not found/);
  });
  it("shows a stopped client as an error whatever the server said last", () => {
    const v = statusView({ phase: "stopped", message: "assist: not found" }, ready);
    assert.equal(v.text, "$(error) assist");
    assert.match(v.tooltip, /^assist: not found/);
  });
  it("formats latency", () => {
    assert.equal(formatLatency(12.4), "12 ms");
    assert.equal(formatLatency(2345), "2.3 s");
  });
});

describe("command results", () => {
  it("reads the doctor report", () => {
    assert.deepEqual(parseDoctorResult({ ok: true, report: "all good" }), { ok: true, report: "all good" });
    assert.equal(parseDoctorResult(42).ok, false);
  });
  it("describes the review answer of assist-lsp", () => {
    assert.equal(describeReview({ ok: true, findings: 2, files: 1, message: null }, "app.py"), "assist: 2 findings in app.py; see the Problems panel.");
    assert.equal(describeReview({ ok: true, findings: 0, files: 1, message: null }, "app.py"), "assist: no findings in app.py.");
    assert.equal(describeReview({ ok: true, findings: 1 }, "app.py"), "assist: 1 finding in app.py; see the Problems panel.");
    assert.equal(
      describeReview({ ok: false, findings: 0, message: "Ollama is not reachable at http://x:1" }, "app.py"),
      "assist: could not review app.py: Ollama is not reachable at http://x:1",
    );
    assert.equal(reviewFailure({ ok: true, findings: 0 }), undefined);
  });
});
