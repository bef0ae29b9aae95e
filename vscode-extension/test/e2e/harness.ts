/**
 * The pieces of the end-to-end test that are not VS Code: paths, child processes in their own process
 * groups, the Ollama-compatible test server, the test workspace, and code-server itself.
 *
 * Environment (all optional):
 *   ASSIST_VENV        Python venv with assist installed (default: <repo>/.venv)
 *   ASSIST_VSIX        the packaged extension (default: vscode-extension/assist.vsix)
 *   ASSIST_CODE_SERVER code-server's entry.js (default: e2e-server/node_modules/code-server/out/node/entry.js)
 *   ASSIST_CHROMIUM    Chromium binary (default: /usr/bin/chromium)
 *   ASSIST_E2E_KEEP=1  keep the temporary directory (workspace, logs, screenshots) for inspection
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

// out/test/e2e/ → vscode-extension/
export const EXTENSION_DIR = path.resolve(__dirname, "..", "..", "..");
export const REPO_DIR = path.resolve(EXTENSION_DIR, "..");

export const paths = {
  venv: process.env.ASSIST_VENV ?? path.join(REPO_DIR, ".venv"),
  vsix: process.env.ASSIST_VSIX ?? path.join(EXTENSION_DIR, "assist.vsix"),
  codeServer:
    process.env.ASSIST_CODE_SERVER ?? path.join(EXTENSION_DIR, "e2e-server", "node_modules", "code-server", "out", "node", "entry.js"),
  chromium: process.env.ASSIST_CHROMIUM ?? "/usr/bin/chromium",
  fake: path.join(REPO_DIR, "tests", "ollama_fake.py"),
};

export const assistLsp = (): string => path.join(paths.venv, "bin", "assist-lsp");
export const python = (): string => path.join(paths.venv, "bin", "python");

/** Fail early with one line that says what to do, rather than a time-out later. */
export function checkPrerequisites(): void {
  const missing: string[] = [];
  const need = (file: string, hint: string) => {
    if (!fs.existsSync(file)) {
      missing.push(`${file} (${hint})`);
    }
  };
  need(paths.vsix, "npm run build && npm run package");
  need(paths.codeServer, "bash scripts/install-code-server.sh");
  need(paths.chromium, "apt-get install chromium");
  need(assistLsp(), "pip install -e . in the venv named by ASSIST_VENV");
  need(paths.fake, "the repository's tests/ollama_fake.py");
  if (missing.length > 0) {
    throw new Error(`e2e prerequisites missing:\n  ${missing.join("\n  ")}`);
  }
}

/** A child process started in its own process group, its output appended to a log file. */
export class Proc {
  readonly child: ChildProcess;
  private output = "";
  private readonly waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string },
  ) {
    const log = fs.createWriteStream(options.logFile, { flags: "a" });
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      // Own process group: code-server's extension hosts and assist-lsp outlive a plain kill of the parent.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const onData = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      this.output += text;
      log.write(text);
      for (const w of [...this.waiters]) {
        const m = this.output.match(w.re);
        if (m) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    };
    this.child.stdout?.on("data", onData);
    this.child.stderr?.on("data", onData);
    this.child.on("exit", () => log.end());
  }

  /** Wait (bounded) until the output matches. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const m = this.output.match(re);
    if (m) {
      return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name}: no output matching ${re} within ${timeoutMs} ms; output so far:\n${this.output.slice(-3000)}`));
      }, timeoutMs);
      this.child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) before printing ${re}; output:\n${this.output.slice(-3000)}`));
      });
      this.waiters.push({
        re,
        resolve: (match) => {
          clearTimeout(timer);
          resolve(match);
        },
      });
    });
  }

  get text(): string {
    return this.output;
  }

  /** SIGTERM the whole group, SIGKILL what is left after a grace period. */
  async killGroup(graceMs = 3000): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) {
      return;
    }
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
        return true;
      } catch {
        return false; // the group is gone
      }
    };
    if (!signal("SIGTERM")) {
      return;
    }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      await sleep(100);
      if (!signal(0 as unknown as NodeJS.Signals)) {
        return;
      }
    }
    signal("SIGKILL");
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "assist-vscode-e2e-"));
}

/** PIDs of the processes in a process group whose command line contains `needle`. */
export async function pidsInGroup(pgid: number, needle: string): Promise<number[]> {
  const { stdout } = await execFileP("ps", ["-eo", "pid=,pgid=,args="]);
  return stdout
    .split("\n")
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null && Number(m[2]) === pgid && m[3].includes(needle))
    .map((m) => Number(m[1]));
}

/**
 * assist-lsp behind a wrapper that raises its stderr log level (ASSIST_E2E_SERVER_LOG, default INFO), so
 * the assist output channel printed on failure says what the server did. The wrapper execs, so the
 * process is still assist-lsp (tests find it by its path).
 */
export function serverWrapper(root: string): string {
  const file = path.join(root, "assist-lsp-logged");
  const level = process.env.ASSIST_E2E_SERVER_LOG ?? "INFO";
  fs.writeFileSync(file, `#!/bin/sh\nexec ${JSON.stringify(assistLsp())} --log-level ${level} "$@"\n`, { mode: 0o755 });
  return file;
}

/** What the fake Ollama answers; the review reply names a real line of app.py so the finding validates. */
export const COMPLETION_REPLY = "f'{len(values)} values, mean {mean(values)}'";
export const REVIEW_MESSAGE = "mean() divides by zero when values is empty";

export const APP_PY = `"""Small statistics helpers (the assist VS Code end-to-end test types into this file)."""


def mean(values):
    return sum(values) / len(values)


def describe(values):
`;

export function reviewReply(): string {
  return JSON.stringify({
    findings: [
      {
        file: "app.py",
        line: 5,
        end_line: 5,
        quote: "    return sum(values) / len(values)",
        severity: "warning",
        category: "bug",
        message: REVIEW_MESSAGE,
        suggestion: "Return 0.0 or raise ValueError for an empty list.",
      },
    ],
  });
}

export interface Workspace {
  dir: string;
  appPy: string;
}

/** A small Python project with .vscode/settings.json pointing assist at the fake server. */
export function makeWorkspace(root: string, ollamaUrl: string, debounceMs: number, serverPath: string): Workspace {
  const dir = path.join(root, "project");
  fs.mkdirSync(path.join(dir, ".vscode"), { recursive: true });
  const appPy = path.join(dir, "app.py");
  fs.writeFileSync(appPy, APP_PY);
  fs.writeFileSync(
    path.join(dir, "report.py"),
    `"""Uses app.py, so the completion context has a cross-file neighbour."""\nfrom app import describe, mean\n\n\ndef main():\n    print(describe([1, 2, 3]), mean([4, 5]))\n`,
  );
  fs.writeFileSync(
    path.join(dir, ".vscode", "settings.json"),
    JSON.stringify(
      {
        "assist.serverPath": serverPath,
        "assist.ollamaHost": ollamaUrl,
        "assist.completion.debounceMs": debounceMs,
        // The suggest widget would hide ghost text (and answer the server's completion provider).
        "editor.quickSuggestions": { other: "off", comments: "off", strings: "off" },
        "editor.suggestOnTriggerCharacters": false,
        "editor.inlineSuggest.enabled": true,
        "python.languageServer": "None",
      },
      null,
      2,
    ),
  );
  return { dir, appPy };
}

/** User settings that keep code-server quiet: no welcome page, tips, trust prompts or update checks. */
export function writeUserSettings(userDataDir: string): void {
  const user = path.join(userDataDir, "User");
  fs.mkdirSync(user, { recursive: true });
  fs.writeFileSync(
    path.join(user, "settings.json"),
    JSON.stringify(
      {
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": false,
        "workbench.welcomePage.walkthroughs.openOnInstall": false,
        "security.workspace.trust.enabled": false,
        "telemetry.telemetryLevel": "off",
        "extensions.autoCheckUpdates": false,
        "extensions.autoUpdate": false,
        "extensions.ignoreRecommendations": true,
        "update.mode": "none",
        "workbench.enableExperiments": false,
        "editor.minimap.enabled": false,
        "files.autoSave": "off",
        "window.restoreWindows": "none",
      },
      null,
      2,
    ),
  );
}

/** Environment for code-server and everything it starts: private XDG dirs, nothing from the developer's. */
export function isolatedEnv(root: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ["XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"]) {
    const dir = path.join(root, "xdg", key.toLowerCase());
    fs.mkdirSync(dir, { recursive: true });
    env[key] = dir;
  }
  // No assist-lsp on PATH: the workspace names it in assist.serverPath, and the "not found" test needs
  // PATH without it (a developer may have it installed with pipx, CI may have the venv activated).
  env.PATH = (env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir !== "" && !fs.existsSync(path.join(dir, "assist-lsp")))
    .join(path.delimiter);
  // code-server must not pick up a developer's password or a parent VS Code's IPC hooks.
  delete env.PASSWORD;
  delete env.HASHED_PASSWORD;
  delete env.VSCODE_IPC_HOOK_CLI;
  delete env.VSCODE_PID;
  return env;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
