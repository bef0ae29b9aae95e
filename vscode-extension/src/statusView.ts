/**
 * What the status bar item shows, from the server's `assist/status` notification and the client's
 * own state. Pure (no `vscode`), unit-tested; statusBar.ts only copies the result onto the item.
 */

/** Payload of the server→client `assist/status` notification. */
export interface ServerStatus {
  state: "ready" | "busy" | "error" | "disabled";
  model: string;
  latencyMs: number | null;
  message: string | null;
}

/** The client's view of the server process. */
export type ClientPhase =
  | { phase: "starting" }
  | { phase: "running" }
  | { phase: "stopped"; message: string };

export interface StatusView {
  text: string;
  tooltip: string;
  severity: "normal" | "warning" | "error";
}

const STATES = new Set(["ready", "busy", "error", "disabled"]);

/** Accept the notification only if it has the agreed shape; anything else is logged and ignored. */
export function parseServerStatus(raw: unknown): ServerStatus | undefined {
  if (typeof raw !== "object" || raw === null) {
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  if (typeof r.state !== "string" || !STATES.has(r.state)) {
    return undefined;
  }
  const latency = typeof r.latencyMs === "number" && Number.isFinite(r.latencyMs) ? r.latencyMs : null;
  return {
    state: r.state as ServerStatus["state"],
    model: typeof r.model === "string" ? r.model : "",
    latencyMs: latency,
    message: typeof r.message === "string" && r.message !== "" ? r.message : null,
  };
}

export function formatLatency(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function statusView(client: ClientPhase, server: ServerStatus | undefined): StatusView {
  if (client.phase === "starting") {
    return { text: "$(loading~spin) assist", tooltip: "assist: starting the language server…", severity: "normal" };
  }
  if (client.phase === "stopped") {
    return { text: "$(error) assist", tooltip: `${client.message}\nClick for options.`, severity: "error" };
  }
  if (server === undefined) {
    return { text: "$(sparkle) assist", tooltip: "assist: language server running.", severity: "normal" };
  }
  const model = server.model !== "" ? server.model : "assist";
  const latency = server.latencyMs !== null ? ` · ${formatLatency(server.latencyMs)}` : "";
  const lines = [`assist: completion model ${model}`];
  if (server.latencyMs !== null) {
    lines.push(`Last completion: ${formatLatency(server.latencyMs)}`);
  }
  if (server.message !== null) {
    lines.push(server.message);
  }
  lines.push("Click for options.");
  const tooltip = lines.join("\n");
  switch (server.state) {
    case "ready":
      return { text: `$(sparkle) ${model}${latency}`, tooltip, severity: "normal" };
    case "busy":
      return { text: `$(loading~spin) ${model}${latency}`, tooltip, severity: "normal" };
    case "disabled":
      return { text: `$(circle-slash) ${model}`, tooltip: `Completion is off.\n${tooltip}`, severity: "warning" };
    case "error":
      return { text: `$(warning) ${model}`, tooltip, severity: "error" };
  }
}
