/**
 * The interpreter of the Python environment the user selected in the Python extension, if that
 * extension is installed. Its API is used loosely typed (no dependency on its npm package): the
 * newer `environments` API first, then the older `settings.getExecutionDetails`.
 */
import * as vscode from "vscode";

const PYTHON_EXTENSION_ID = "ms-python.python";

interface EnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
  onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  resolveEnvironment(env: { path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
}

interface PythonApi {
  environments?: EnvironmentsApi;
  settings?: { getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] } };
}

export async function selectedPythonInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION_ID);
  if (ext === undefined) {
    return undefined;
  }
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const envs = api?.environments;
    if (envs !== undefined) {
      const active = envs.getActiveEnvironmentPath(resource);
      if (active !== undefined) {
        const resolved = await envs.resolveEnvironment(active);
        const exe = resolved?.executable?.uri?.fsPath;
        if (exe) {
          return exe;
        }
      }
    }
    const command = api?.settings?.getExecutionDetails?.(resource)?.execCommand;
    if (command !== undefined && command.length > 0) {
      return command[0];
    }
  } catch {
    // The Python extension failing must not keep assist from starting with what PATH offers.
  }
  return undefined;
}

/**
 * Call `listener` when the user selects another Python environment. Only subscribes if the Python
 * extension is already active (activating it just for this would slow every start-up).
 */
export function onPythonEnvironmentChange(listener: () => void): vscode.Disposable | undefined {
  const ext = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION_ID);
  const event = ext?.isActive ? ext.exports?.environments?.onDidChangeActiveEnvironmentPath : undefined;
  return event?.(() => listener());
}
