/** Entry point: wires the status bar, the client lifecycle (Ctx) and the commands. */
import * as vscode from "vscode";
import { registerCommands } from "./commands";
import { Ctx } from "./ctx";
import { StatusBar } from "./statusBar";

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel("assist", { log: true });
  const status = new StatusBar();
  ctx = new Ctx(log, status);
  context.subscriptions.push(log, status, ...registerCommands(ctx, status));
  log.info(`assist extension ${context.extension.packageJSON.version as string} activated`);
  // Not awaited: activation must not wait for the server; the status bar shows progress and errors.
  void ctx.start();
}

export async function deactivate(): Promise<void> {
  const c = ctx;
  ctx = undefined;
  await c?.dispose();
}
