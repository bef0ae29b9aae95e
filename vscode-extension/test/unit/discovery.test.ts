import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  discoverServer,
  type DiscoveryInput,
  expandPath,
  INSTALL_HINT,
  pythonScriptCandidates,
  searchPath,
} from "../../src/discovery";

/** A file system of executables given as a set of paths. */
function input(executables: string[], over: Partial<DiscoveryInput> = {}): DiscoveryInput {
  const set = new Set(executables);
  return {
    configured: "",
    pathEnv: "/usr/local/bin:/usr/bin",
    home: "/home/u",
    platform: "linux",
    workspaceFolder: "/ws",
    isExecutable: (f) => set.has(f),
    ...over,
  };
}

describe("discoverServer", () => {
  it("uses an explicit serverPath", () => {
    const r = discoverServer(input(["/opt/assist/bin/assist-lsp", "/usr/bin/assist-lsp"], { configured: "/opt/assist/bin/assist-lsp" }));
    assert.deepEqual(r, { ok: true, command: "/opt/assist/bin/assist-lsp", source: "setting" });
  });

  it("expands ~ and ${workspaceFolder} in serverPath", () => {
    assert.deepEqual(discoverServer(input(["/home/u/.local/bin/assist-lsp"], { configured: "~/.local/bin/assist-lsp" })), {
      ok: true,
      command: "/home/u/.local/bin/assist-lsp",
      source: "setting",
    });
    assert.deepEqual(discoverServer(input(["/ws/.venv/bin/assist-lsp"], { configured: "${workspaceFolder}/.venv/bin/assist-lsp" })), {
      ok: true,
      command: "/ws/.venv/bin/assist-lsp",
      source: "setting",
    });
  });

  it("resolves a relative serverPath against the workspace folder", () => {
    const r = discoverServer(input(["/ws/.venv/bin/assist-lsp"], { configured: ".venv/bin/assist-lsp" }));
    assert.deepEqual(r, { ok: true, command: "/ws/.venv/bin/assist-lsp", source: "setting" });
  });

  it("looks a bare serverPath name up on PATH", () => {
    const r = discoverServer(input(["/usr/bin/my-assist"], { configured: "my-assist" }));
    assert.deepEqual(r, { ok: true, command: "/usr/bin/my-assist", source: "setting" });
  });

  it("does not fall back to PATH when serverPath is wrong", () => {
    const r = discoverServer(input(["/usr/bin/assist-lsp"], { configured: "/nope/assist-lsp" }));
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : "", /assist\.serverPath.*\/nope\/assist-lsp.*not an executable/);
  });

  it("finds assist-lsp on PATH, first directory first", () => {
    const r = discoverServer(input(["/usr/local/bin/assist-lsp", "/usr/bin/assist-lsp"]));
    assert.deepEqual(r, { ok: true, command: "/usr/local/bin/assist-lsp", source: "path" });
  });

  it("prefers PATH over the Python environment", () => {
    const r = discoverServer(input(["/usr/bin/assist-lsp", "/ws/.venv/bin/assist-lsp"], { pythonInterpreter: "/ws/.venv/bin/python" }));
    assert.equal(r.ok && r.source, "path");
  });

  it("falls back to the selected Python environment", () => {
    const r = discoverServer(input(["/ws/.venv/bin/assist-lsp"], { pythonInterpreter: "/ws/.venv/bin/python" }));
    assert.deepEqual(r, { ok: true, command: "/ws/.venv/bin/assist-lsp", source: "python" });
  });

  it("says how to install when nothing is found", () => {
    const r = discoverServer(input([], { pythonInterpreter: "/ws/.venv/bin/python" }));
    assert.equal(r.ok, false);
    const message = !r.ok ? r.message : "";
    assert.ok(message.includes(INSTALL_HINT), message);
    assert.ok(message.includes("pip install assist"), message);
    assert.ok(message.includes("/ws/.venv/bin/python"), message);
    assert.ok(message.includes("assist.serverPath"), message);
  });

  it("treats an empty PATH as no directories", () => {
    const r = discoverServer(input(["assist-lsp"], { pathEnv: "" }));
    assert.equal(r.ok, false);
  });
});

describe("Windows", () => {
  it("tries PATHEXT extensions on PATH", () => {
    const found = searchPath("assist-lsp", "C:\\py\\Scripts;C:\\bin", "win32", ".EXE;.CMD", (f) => f === "C:\\py\\Scripts/assist-lsp.exe" || f === "C:\\py\\Scripts\\assist-lsp.exe");
    assert.ok(found !== undefined && found.toLowerCase().endsWith("assist-lsp.exe"), String(found));
  });

  it("looks beside the interpreter and in Scripts\\", () => {
    assert.deepEqual(pythonScriptCandidates("C:\\proj\\.venv\\Scripts\\python.exe", "win32"), [
      "C:\\proj\\.venv\\Scripts\\assist-lsp.exe",
      "C:\\proj\\.venv\\Scripts\\Scripts\\assist-lsp.exe",
    ]);
    assert.deepEqual(pythonScriptCandidates("/ws/.venv/bin/python3", "linux"), ["/ws/.venv/bin/assist-lsp"]);
  });
});

describe("expandPath", () => {
  it("leaves absolute paths alone and trims", () => {
    assert.equal(expandPath("  /a/b ", "/h", "/ws"), "/a/b");
  });
  it("keeps ${workspaceFolder} when there is no folder", () => {
    assert.equal(expandPath("${workspaceFolder}/x", "/h", undefined), "${workspaceFolder}/x");
  });
});
