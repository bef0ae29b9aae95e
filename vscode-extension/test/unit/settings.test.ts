import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CLIENT_ONLY_KEYS, needsRestart, SERVER_KEYS, serverSettings, type SettingValue } from "../../src/settings";

/** Settings as VS Code's inspect() reports them: `set` are explicit, `defaults` are package.json defaults. */
function reader(set: Record<string, unknown>, defaults: Record<string, unknown> = {}) {
  return (key: string): SettingValue =>
    key in set ? { value: set[key], explicit: true } : { value: defaults[key], explicit: false };
}

describe("serverSettings", () => {
  it("sends nothing when the user set nothing, whatever the defaults", () => {
    const r = serverSettings(reader({}, { ollamaHost: "", "completion.debounceMs": 150, "completion.enable": true }));
    assert.deepEqual(r, { settings: {}, problems: [] });
  });

  it("nests dotted keys into the agreed shape", () => {
    const r = serverSettings(
      reader({
        ollamaHost: "http://gpu:11434",
        ollamaHeaders: { "X-Team": "a", Authorization: "Bearer t" },
        "completion.enable": false,
        "completion.model": "qwen2.5-coder:7b-base",
        "completion.debounceMs": 0,
        "completion.maxTokens": 64,
        "completion.contextTokens": 2048,
        "completion.languages": { markdown: false, "*": true },
        "analysis.model": "assist-coder",
        timeoutSeconds: 12.5,
      }),
    );
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.settings, {
      ollamaHost: "http://gpu:11434",
      ollamaHeaders: { Authorization: "Bearer t", "X-Team": "a" },
      completion: {
        enable: false,
        model: "qwen2.5-coder:7b-base",
        debounceMs: 0,
        maxTokens: 64,
        contextTokens: 2048,
        languages: { "*": true, markdown: false },
      },
      analysis: { model: "assist-coder" },
      timeoutSeconds: 12.5,
    });
    // Deterministic key order in maps, whatever order the settings file had.
    assert.deepEqual(Object.keys(r.settings.completion!.languages!), ["*", "markdown"]);
  });

  it("treats an empty or blank string as not set", () => {
    const r = serverSettings(reader({ ollamaHost: "  ", "completion.model": "" }));
    assert.deepEqual(r, { settings: {}, problems: [] });
  });

  it("drops wrong values with one problem each and keeps the rest", () => {
    const r = serverSettings(
      reader({
        "completion.debounceMs": -5,
        "completion.maxTokens": 1.5,
        "completion.languages": { python: "yes" },
        ollamaHeaders: ["x"],
        timeoutSeconds: 0,
        "completion.enable": "true",
        "analysis.model": "big",
      }),
    );
    assert.deepEqual(r.settings, { analysis: { model: "big" } });
    assert.equal(r.problems.length, 6);
    assert.ok(r.problems.some((p) => p.startsWith("assist.completion.debounceMs must be an integer ≥ 0")));
    assert.ok(r.problems.some((p) => p.includes("assist.completion.languages value of 'python' must be a boolean")));
  });

  it("never sends client-only settings", () => {
    const keys = SERVER_KEYS.map(([k]) => k);
    for (const k of CLIENT_ONLY_KEYS) {
      assert.ok(!keys.includes(k), k);
    }
    const r = serverSettings(reader({ serverPath: "/x", "trace.server": "verbose" }));
    assert.deepEqual(r.settings, {});
  });
});

describe("needsRestart", () => {
  it("restarts for serverPath only", () => {
    assert.equal(needsRestart((s) => s === "assist.serverPath"), true);
    assert.equal(needsRestart((s) => s === "assist.completion.model"), false);
  });
});
