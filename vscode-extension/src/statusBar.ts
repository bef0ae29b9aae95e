/** The status bar item: model, on/off, last latency, errors. Click → the assist menu. */
import * as vscode from "vscode";
import { type ClientPhase, type ServerStatus, statusView } from "./statusView";

export const STATUS_ITEM_ID = "assist.status";
export const MENU_COMMAND = "assist.extension.menu";

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private phase: ClientPhase = { phase: "starting" };
  private server: ServerStatus | undefined;

  constructor() {
    this.item = vscode.window.createStatusBarItem(STATUS_ITEM_ID, vscode.StatusBarAlignment.Right, 100);
    this.item.name = "assist";
    this.item.command = MENU_COMMAND;
    this.render();
    this.item.show();
  }

  get serverStatus(): ServerStatus | undefined {
    return this.server;
  }

  setPhase(phase: ClientPhase): void {
    this.phase = phase;
    if (phase.phase !== "running") {
      this.server = undefined;
    }
    this.render();
  }

  setServerStatus(status: ServerStatus): void {
    this.server = status;
    this.render();
  }

  private render(): void {
    const view = statusView(this.phase, this.server);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    const first = view.tooltip.split("\n")[0];
    this.item.accessibilityInformation = { label: first.startsWith("assist") ? first : `assist: ${first}` };
    this.item.backgroundColor =
      view.severity === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : view.severity === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
