/**
 * Finding the `assist-lsp` executable.
 *
 * Kept free of `vscode` imports so the order of the search and the wording of the
 * "not found" message are unit-tested in plain Node (test/unit/discovery.test.ts).
 */
import * as path from "node:path";

export const SERVER_NAME = "assist-lsp";
export const INSTALL_HINT = "pip install assist (or: pipx install assist)";

export type ServerSource = "setting" | "path" | "python";

export type Discovery =
  | { ok: true; command: string; source: ServerSource }
  | { ok: false; message: string };

export interface DiscoveryInput {
  /** `assist.serverPath` as the user wrote it ("" when unset). */
  configured: string;
  /** The PATH the extension host sees. */
  pathEnv: string | undefined;
  /** The interpreter of the Python environment selected in the Python extension, if any. */
  pythonInterpreter?: string;
  /** First workspace folder, for `${workspaceFolder}` and relative paths. */
  workspaceFolder?: string;
  home: string;
  platform: NodeJS.Platform;
  /** PATHEXT on Windows. */
  pathExt?: string;
  /** True when the path is a regular file the user may execute. Injected for tests. */
  isExecutable: (file: string) => boolean;
}

/** Expand `~` and `${workspaceFolder}`/`${userHome}`, and anchor relative paths at the workspace folder. */
export function expandPath(value: string, home: string, workspaceFolder: string | undefined): string {
  let out = value.trim();
  if (out === "~" || out.startsWith("~/") || out.startsWith("~\\")) {
    out = home + out.slice(1);
  }
  out = out.replace(/\$\{userHome\}/g, home);
  if (workspaceFolder !== undefined) {
    out = out.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  }
  if (!path.isAbsolute(out) && hasSeparator(out) && workspaceFolder !== undefined) {
    out = path.resolve(workspaceFolder, out);
  }
  return out;
}

function hasSeparator(value: string): boolean {
  return value.includes("/") || value.includes("\\");
}

function executableNames(name: string, platform: NodeJS.Platform, pathExt: string | undefined): string[] {
  if (platform !== "win32" || path.extname(name) !== "") {
    return [name];
  }
  const exts = (pathExt ?? ".COM;.EXE;.BAT;.CMD").split(";").filter((e) => e.length > 0);
  return [name, ...exts.map((e) => name + e.toLowerCase())];
}

/** Search PATH for an executable, like `which`. */
export function searchPath(
  name: string,
  pathEnv: string | undefined,
  platform: NodeJS.Platform,
  pathExt: string | undefined,
  isExecutable: (file: string) => boolean,
): string | undefined {
  const sep = platform === "win32" ? ";" : ":";
  for (const dir of (pathEnv ?? "").split(sep)) {
    if (dir === "") {
      continue;
    }
    for (const candidate of executableNames(name, platform, pathExt)) {
      const full = path.join(dir, candidate);
      if (isExecutable(full)) {
        return full;
      }
    }
  }
  return undefined;
}

/**
 * Where a Python environment's console scripts live: next to the interpreter on POSIX
 * (`venv/bin/python` → `venv/bin/assist-lsp`); on Windows `venv\Scripts\python.exe` has them beside it,
 * while a base install `C:\Python311\python.exe` keeps them in `Scripts\`.
 */
export function pythonScriptCandidates(interpreter: string, platform: NodeJS.Platform): string[] {
  const p = platform === "win32" ? path.win32 : path.posix;
  const dir = p.dirname(interpreter);
  if (platform === "win32") {
    return [p.join(dir, `${SERVER_NAME}.exe`), p.join(dir, "Scripts", `${SERVER_NAME}.exe`)];
  }
  return [p.join(dir, SERVER_NAME)];
}

export function notFoundMessage(pythonInterpreter: string | undefined): string {
  const where = pythonInterpreter
    ? `on PATH or in the selected Python environment (${pythonInterpreter})`
    : "on PATH";
  return (
    `assist: the language server '${SERVER_NAME}' was not found ${where}. ` +
    `Install it with \`${INSTALL_HINT}\`, or set "assist.serverPath" to its full path.`
  );
}

/**
 * Decide which command starts the server.
 *
 * Order: an explicit `assist.serverPath` (an error if it is wrong, never a silent fallback, so a typo
 * does not start some other install), then PATH, then the selected Python environment.
 */
export function discoverServer(input: DiscoveryInput): Discovery {
  const configured = input.configured.trim();
  if (configured !== "") {
    const expanded = expandPath(configured, input.home, input.workspaceFolder);
    if (!path.isAbsolute(expanded) && !hasSeparator(expanded)) {
      const found = searchPath(expanded, input.pathEnv, input.platform, input.pathExt, input.isExecutable);
      if (found !== undefined) {
        return { ok: true, command: found, source: "setting" };
      }
      return {
        ok: false,
        message: `assist: "assist.serverPath" is '${configured}', which is not on PATH. Set it to the full path of ${SERVER_NAME}.`,
      };
    }
    if (input.isExecutable(expanded)) {
      return { ok: true, command: expanded, source: "setting" };
    }
    return {
      ok: false,
      message: `assist: "assist.serverPath" points to '${expanded}', which is not an executable file. Fix the setting or clear it to search PATH.`,
    };
  }
  const onPath = searchPath(SERVER_NAME, input.pathEnv, input.platform, input.pathExt, input.isExecutable);
  if (onPath !== undefined) {
    return { ok: true, command: onPath, source: "path" };
  }
  if (input.pythonInterpreter) {
    for (const candidate of pythonScriptCandidates(input.pythonInterpreter, input.platform)) {
      if (input.isExecutable(candidate)) {
        return { ok: true, command: candidate, source: "python" };
      }
    }
  }
  return { ok: false, message: notFoundMessage(input.pythonInterpreter) };
}
