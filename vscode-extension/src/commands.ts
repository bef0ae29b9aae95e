/**
 * The extension's commands. The server's own commands (assist.reviewFile, …) are auto-registered by
 * vscode-languageclient 11 under their ids (ExecuteCommandFeature registers every id the server lists
 * in executeCommandProvider), so the palette commands here use `assist.extension.*` ids and call the
 * server through `workspace/executeCommand` themselves, with progress, cancellation and messages.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import { type Ctx, errorText } from "./ctx";
import { describeReview, parseDoctorResult, reviewFailure, reviewFindingCount } from "./results";
import { MENU_COMMAND, type StatusBar } from "./statusBar";

/** Ids of the server's `workspace/executeCommand` commands (the contract with assist-lsp). */
export const SERVER_COMMANDS = {
  reviewFile: "assist.reviewFile",
  reviewWorkspace: "assist.reviewWorkspace",
  toggleCompletion: "assist.toggleCompletion",
  doctor: "assist.doctor",
} as const;

/** Ids of the extension's palette commands (package.json `contributes.commands`). */
export const COMMANDS = {
  reviewFile: "assist.extension.reviewFile",
  reviewWorkspace: "assist.extension.reviewWorkspace",
  toggleCompletion: "assist.extension.toggleCompletion",
  showLogs: "assist.extension.showLogs",
  doctor: "assist.extension.doctor",
  restartServer: "assist.extension.restartServer",
  menu: MENU_COMMAND,
} as const;

async function reviewFile(ctx: Ctx, uri?: vscode.Uri): Promise<void> {
  const target = uri ?? vscode.window.activeTextEditor?.document.uri;
  if (target === undefined) {
    void vscode.window.showWarningMessage("assist: open a file to review it.");
    return;
  }
  const name = path.basename(target.fsPath || target.path);
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `assist: reviewing ${name}…`, cancellable: true },
    async (_progress, token) => {
      const result = await ctx.executeServerCommand<unknown>(SERVER_COMMANDS.reviewFile, [ctx.protocolUri(target)], token);
      if (token.isCancellationRequested) {
        return;
      }
      await showReviewResult(result, name);
    },
  );
}

async function reviewWorkspace(ctx: Ctx): Promise<void> {
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "assist: reviewing the workspace…", cancellable: true },
    async (_progress, token) => {
      const result = await ctx.executeServerCommand<unknown>(SERVER_COMMANDS.reviewWorkspace, [], token);
      if (token.isCancellationRequested) {
        return;
      }
      await showReviewResult(result, "the workspace");
    },
  );
}

async function showReviewResult(result: unknown, target: string): Promise<void> {
  const message = describeReview(result, target);
  if (reviewFailure(result) !== undefined) {
    void vscode.window.showWarningMessage(message);
    return;
  }
  const count = reviewFindingCount(result);
  if (count === undefined || count > 0) {
    // Findings arrive as diagnostics; the Problems panel is where the user looks at them.
    await vscode.commands.executeCommand("workbench.actions.view.problems");
  }
  void vscode.window.showInformationMessage(message);
}

async function toggleCompletion(ctx: Ctx, status: StatusBar): Promise<void> {
  const enabled = await ctx.executeServerCommand<unknown>(SERVER_COMMANDS.toggleCompletion, []);
  if (typeof enabled !== "boolean") {
    throw new Error(`assist: the server answered toggleCompletion with ${JSON.stringify(enabled)}, expected true or false`);
  }
  const current = status.serverStatus;
  if (current !== undefined) {
    // The server also sends assist/status; this keeps the item right if that notification is late.
    status.setServerStatus({ ...current, state: enabled ? "ready" : "disabled" });
  }
  vscode.window.setStatusBarMessage(`assist: completion ${enabled ? "on" : "off"}`, 3000);
}

let doctorChannel: vscode.OutputChannel | undefined;

async function doctor(ctx: Ctx): Promise<void> {
  const raw = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "assist: running doctor…" },
    () => ctx.executeServerCommand<unknown>(SERVER_COMMANDS.doctor, []),
  );
  const result = parseDoctorResult(raw);
  doctorChannel ??= vscode.window.createOutputChannel("assist doctor");
  doctorChannel.clear();
  doctorChannel.appendLine(result.report);
  doctorChannel.show(true);
  if (result.ok) {
    void vscode.window.showInformationMessage("assist doctor: all checks passed.");
  } else {
    void vscode.window.showWarningMessage("assist doctor found problems; see the 'assist doctor' output.");
  }
}

async function menu(ctx: Ctx): Promise<void> {
  const items: Array<vscode.QuickPickItem & { command: string; args?: unknown[] }> = [
    { label: "$(check) Toggle Completion", command: COMMANDS.toggleCompletion },
    { label: "$(search) Review File", command: COMMANDS.reviewFile },
    { label: "$(folder) Review Workspace", command: COMMANDS.reviewWorkspace },
    { label: "$(output) Show Logs", command: COMMANDS.showLogs },
    { label: "$(pulse) Run Doctor", command: COMMANDS.doctor },
    { label: "$(debug-restart) Restart Server", command: COMMANDS.restartServer },
    { label: "$(gear) Settings", command: "workbench.action.openSettings", args: ["@ext:assist.assist-vscode"] },
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: ctx.failure ?? "assist",
    placeHolder: "assist",
  });
  if (pick !== undefined) {
    await vscode.commands.executeCommand(pick.command, ...(pick.args ?? []));
  }
}

/** Wrap a command so any failure becomes one error message with a way to the logs. */
function guarded(ctx: Ctx, fn: (...args: any[]) => Promise<void>): (...args: any[]) => Promise<void> {
  return async (...args: any[]) => {
    try {
      await fn(...args);
    } catch (err) {
      const message = errorText(err);
      ctx.log.error(message);
      const choice = await vscode.window.showErrorMessage(message.startsWith("assist") ? message : `assist: ${message}`, "Show Logs");
      if (choice === "Show Logs") {
        ctx.log.show(true);
      }
    }
  };
}

export function registerCommands(ctx: Ctx, status: StatusBar): vscode.Disposable[] {
  const reg = (id: string, fn: (...args: any[]) => Promise<void>) => vscode.commands.registerCommand(id, guarded(ctx, fn));
  return [
    reg(COMMANDS.reviewFile, (uri?: vscode.Uri) => reviewFile(ctx, uri instanceof vscode.Uri ? uri : undefined)),
    reg(COMMANDS.reviewWorkspace, () => reviewWorkspace(ctx)),
    reg(COMMANDS.toggleCompletion, () => toggleCompletion(ctx, status)),
    reg(COMMANDS.showLogs, async () => ctx.log.show(true)),
    reg(COMMANDS.doctor, () => doctor(ctx)),
    reg(COMMANDS.restartServer, () => ctx.restart()),
    reg(COMMANDS.menu, () => menu(ctx)),
  ];
}
