/**
 * The owner of the language client's lifecycle: finds the server, starts it, restarts it when it
 * dies (within RestartPolicy's budget) or when a setting that needs a new process changes, keeps
 * the server's settings in step with VS Code's, and feeds the status bar.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as vscode from "vscode";
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";
import { discoverServer, type Discovery } from "./discovery";
import { onPythonEnvironmentChange, selectedPythonInterpreter } from "./python";
import { RestartPolicy } from "./restartPolicy";
import { needsRestart, SECTION, serverSettings, type ServerSettings } from "./settings";
import type { StatusBar } from "./statusBar";
import { parseServerStatus } from "./statusView";

export const CLIENT_ID = "assist";
export const CLIENT_NAME = "assist";
export const STATUS_NOTIFICATION = "assist/status";
/** How long a stop may take before the process is left to the OS (a hung server must not block a restart). */
const STOP_TIMEOUT_MS = 2000;

function isExecutable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) {
      return false;
    }
    if (process.platform === "win32") {
      return true;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export class Ctx implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly policy = new RestartPolicy();
  private readonly disposables: vscode.Disposable[] = [];
  private stopping = false;
  private lifecycle: Promise<void> = Promise.resolve();
  private discovery: Discovery | undefined;
  private pythonWatch: vscode.Disposable | undefined;

  constructor(
    readonly log: vscode.LogOutputChannel,
    private readonly status: StatusBar,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION)) {
          return;
        }
        if (needsRestart((s) => e.affectsConfiguration(s))) {
          this.log.info("assist.serverPath changed; restarting the language server");
          void this.restart();
        } else {
          this.pushSettings();
        }
      }),
    );
  }

  /** The running client, or undefined when the server is not up. */
  get running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  /** The problem that keeps the server from running, if there is one. */
  get failure(): string | undefined {
    return this.discovery !== undefined && !this.discovery.ok ? this.discovery.message : undefined;
  }

  /** Serialise start/stop/restart so a settings change during a start cannot start two servers. */
  private serial(step: () => Promise<void>): Promise<void> {
    this.lifecycle = this.lifecycle.then(step, step);
    return this.lifecycle;
  }

  start(): Promise<void> {
    return this.serial(() => this.doStart());
  }

  restart(): Promise<void> {
    return this.serial(async () => {
      this.policy.reset();
      await this.doStop();
      await this.doStart();
    });
  }

  stop(): Promise<void> {
    return this.serial(() => this.doStop());
  }

  readSettings(): ServerSettings {
    const config = vscode.workspace.getConfiguration(SECTION);
    const mapped = serverSettings((key) => {
      const info = config.inspect(key);
      const explicit =
        info !== undefined &&
        (info.globalValue !== undefined || info.workspaceValue !== undefined || info.workspaceFolderValue !== undefined);
      return { value: config.get(key), explicit };
    });
    for (const problem of mapped.problems) {
      this.log.warn(problem);
    }
    return mapped.settings;
  }

  private pushSettings(): void {
    const client = this.running;
    if (client === undefined) {
      return;
    }
    const settings = this.readSettings();
    this.log.info(`sending settings: ${JSON.stringify(settings)}`);
    void client
      .sendNotification(DidChangeConfigurationNotification.type, { settings: { [SECTION]: settings } })
      .catch((err: unknown) => this.log.error(`could not send settings: ${String(err)}`));
  }

  private async discover(): Promise<Discovery> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const configured = vscode.workspace.getConfiguration(SECTION).get<string>("serverPath") ?? "";
    const base = {
      configured,
      pathEnv: process.env.PATH,
      pathExt: process.env.PATHEXT,
      workspaceFolder: folder?.uri.fsPath,
      home: os.homedir(),
      platform: process.platform,
      isExecutable,
    };
    const first = discoverServer(base);
    if (first.ok || configured.trim() !== "") {
      return first;
    }
    // Only ask the Python extension when PATH had nothing: activating it costs time at startup.
    const result = discoverServer({ ...base, pythonInterpreter: await selectedPythonInterpreter(folder?.uri) });
    this.watchPythonEnvironment();
    return result;
  }

  /** A server found in (or missing from) the selected Python environment follows the user's next choice. */
  private watchPythonEnvironment(): void {
    if (this.pythonWatch !== undefined) {
      return;
    }
    this.pythonWatch = onPythonEnvironmentChange(() => {
      const d = this.discovery;
      if (d !== undefined && (!d.ok || d.source === "python")) {
        this.log.info("the selected Python environment changed; restarting the language server");
        void this.restart();
      }
    });
    if (this.pythonWatch !== undefined) {
      this.disposables.push(this.pythonWatch);
    }
  }

  private async doStart(): Promise<void> {
    if (this.client !== undefined) {
      return;
    }
    this.status.setPhase({ phase: "starting" });
    this.discovery = await this.discover();
    if (!this.discovery.ok) {
      this.log.error(this.discovery.message);
      this.status.setPhase({ phase: "stopped", message: this.discovery.message });
      void this.offerFix(this.discovery.message);
      return;
    }
    const { command, source } = this.discovery;
    this.log.info(`starting ${command} (found via ${source})`);
    const serverOptions: ServerOptions = { command, args: [], transport: TransportKind.stdio };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      outputChannel: this.log,
      initializationOptions: () => this.readSettings(),
      // Only the server decides which languages get completions (completion.languages).
      errorHandler: {
        error: (_error, _message, count) => ({
          action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
        }),
        closed: () => this.onClosed(),
      },
      middleware: {
        // assist-lsp also offers its completion as a regular completion item (for editors without ghost
        // text, e.g. Neovim). In VS Code that would pop the suggest widget over the ghost text and ask the
        // model twice per keystroke, so VS Code gets ghost text only.
        provideCompletionItem: () => undefined,
        workspace: {
          // A server that pulls `workspace/configuration` gets the same object as initializationOptions.
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (!Array.isArray(result)) {
              return result;
            }
            return params.items.map((item, i) => (item.section === SECTION ? this.readSettings() : result[i]));
          },
        },
      },
    };
    const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
    client.onNotification(STATUS_NOTIFICATION, (raw: unknown) => {
      const parsed = parseServerStatus(raw);
      if (parsed === undefined) {
        this.log.warn(`ignoring malformed ${STATUS_NOTIFICATION}: ${JSON.stringify(raw)}`);
        return;
      }
      this.status.setServerStatus(parsed);
    });
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        this.status.setPhase({ phase: "running" });
      } else if (e.newState === State.Starting) {
        this.status.setPhase({ phase: "starting" });
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (err) {
      const message = `assist: the language server (${command}) failed to start: ${errorText(err)}. See "assist: Show Logs".`;
      this.log.error(message);
      this.status.setPhase({ phase: "stopped", message });
      this.client = undefined;
      await client.dispose(STOP_TIMEOUT_MS).catch(() => undefined);
      void this.offerFix(message);
    }
  }

  private onClosed(): { action: CloseAction; handled: boolean } {
    if (this.stopping) {
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    if (this.policy.shouldRestart()) {
      this.log.warn(`the language server exited unexpectedly; restarting (${this.policy.recentCrashes} recent crash(es))`);
      return { action: CloseAction.Restart, handled: true };
    }
    const message = `assist: the language server crashed ${this.policy.recentCrashes} times in a few minutes and was not restarted. See "assist: Show Logs".`;
    this.log.error(message);
    this.status.setPhase({ phase: "stopped", message });
    void this.offerFix(message);
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    this.stopping = true;
    try {
      await client.dispose(STOP_TIMEOUT_MS);
    } catch (err) {
      this.log.warn(`stopping the language server: ${errorText(err)}`);
    } finally {
      this.stopping = false;
    }
  }

  private async offerFix(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(message, "Open Settings", "Show Logs", "Retry");
    if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "assist.serverPath");
    } else if (choice === "Show Logs") {
      this.log.show(true);
    } else if (choice === "Retry") {
      await this.restart();
    }
  }

  /** Run one of the server's `workspace/executeCommand` commands; a clear error if the server is down. */
  async executeServerCommand<T>(command: string, args: unknown[], token?: vscode.CancellationToken): Promise<T> {
    await this.lifecycle;
    const client = this.running;
    if (client === undefined) {
      throw new Error(this.failure ?? "assist: the language server is not running. See \"assist: Show Logs\".");
    }
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }, token)) as T;
  }

  /** A document URI as the server sees it. */
  protocolUri(uri: vscode.Uri): string {
    return this.client !== undefined ? this.client.code2ProtocolConverter.asUri(uri) : uri.toString();
  }

  async dispose(): Promise<void> {
    for (const d of this.disposables) {
      d.dispose();
    }
    await this.stop();
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  return String(err);
}
