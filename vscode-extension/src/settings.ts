/**
 * The `assist.*` VS Code settings → the object the language server receives.
 *
 * The server gets it as `initializationOptions` and again, whole, in every
 * `workspace/didChangeConfiguration` as `{settings: {assist: …}}`.
 *
 * Only settings the user actually set (user, workspace or folder level) are sent. A VS Code
 * default must not override the project's own `.assist` configuration or `OLLAMA_HOST`: a team
 * that points the repository at its GPU box should not be sent back to localhost by an editor default.
 * No `vscode` import, so the mapping is unit-tested in plain Node.
 */

/** The settings section, also `synchronize`d under this name. */
export const SECTION = "assist";

/** Settings the extension itself consumes; changing one restarts the server. */
export const RESTART_KEYS: readonly string[] = ["serverPath"];

/** Settings read only by the extension, never sent to the server. */
export const CLIENT_ONLY_KEYS: readonly string[] = ["serverPath", "trace.server"];

type Kind = "string" | "nonEmptyString" | "bool" | "nonNegInt" | "positiveInt" | "positiveNumber" | "stringMap" | "boolMap";

/** Dotted key under `assist.` → how it is validated. The dotted key is also its path in the sent object. */
export const SERVER_KEYS: ReadonlyArray<readonly [string, Kind]> = [
  ["ollamaHost", "nonEmptyString"],
  ["ollamaHeaders", "stringMap"],
  ["completion.enable", "bool"],
  ["completion.model", "nonEmptyString"],
  ["completion.debounceMs", "nonNegInt"],
  ["completion.maxTokens", "positiveInt"],
  ["completion.contextTokens", "positiveInt"],
  ["completion.languages", "boolMap"],
  ["analysis.model", "nonEmptyString"],
  ["timeoutSeconds", "positiveNumber"],
];

export interface SettingValue {
  value: unknown;
  /** True when set at user, workspace or workspace-folder level (not just the extension's default). */
  explicit: boolean;
}

export type SettingReader = (key: string) => SettingValue;

export interface ServerSettings {
  ollamaHost?: string;
  ollamaHeaders?: Record<string, string>;
  completion?: {
    enable?: boolean;
    model?: string;
    debounceMs?: number;
    maxTokens?: number;
    contextTokens?: number;
    languages?: Record<string, boolean>;
  };
  analysis?: { model?: string };
  timeoutSeconds?: number;
}

export interface MappedSettings {
  settings: ServerSettings;
  /** One line per ignored value, for the log. */
  problems: string[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validate one value; `undefined` means "leave it to the server's own configuration". */
function coerce(kind: Kind, value: unknown): { ok: true; value: unknown } | { ok: false; why: string } {
  switch (kind) {
    case "string":
      return typeof value === "string" ? { ok: true, value } : { ok: false, why: "must be a string" };
    case "nonEmptyString":
      if (typeof value !== "string") {
        return { ok: false, why: "must be a string" };
      }
      // An empty string in the settings UI means "not set here".
      return { ok: true, value: value.trim() === "" ? undefined : value.trim() };
    case "bool":
      return typeof value === "boolean" ? { ok: true, value } : { ok: false, why: "must be true or false" };
    case "nonNegInt":
      return typeof value === "number" && Number.isInteger(value) && value >= 0
        ? { ok: true, value }
        : { ok: false, why: "must be an integer ≥ 0" };
    case "positiveInt":
      return typeof value === "number" && Number.isInteger(value) && value > 0
        ? { ok: true, value }
        : { ok: false, why: "must be an integer > 0" };
    case "positiveNumber":
      return typeof value === "number" && Number.isFinite(value) && value > 0
        ? { ok: true, value }
        : { ok: false, why: "must be a number > 0" };
    case "stringMap":
    case "boolMap": {
      if (!isPlainObject(value)) {
        return { ok: false, why: "must be an object" };
      }
      const want = kind === "stringMap" ? "string" : "boolean";
      const out: Record<string, unknown> = {};
      // Sorted so the payload is deterministic whatever order the settings file had.
      for (const key of Object.keys(value).sort()) {
        if (typeof value[key] !== want) {
          return { ok: false, why: `value of '${key}' must be a ${want}` };
        }
        out[key] = value[key];
      }
      return { ok: true, value: out };
    }
  }
}

function setDotted(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) {
      node[part] = {};
    }
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/** Build the server's settings object from what the user set. */
export function serverSettings(read: SettingReader): MappedSettings {
  const settings: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, kind] of SERVER_KEYS) {
    const { value, explicit } = read(key);
    if (!explicit || value === undefined || value === null) {
      continue;
    }
    const result = coerce(kind, value);
    if (!result.ok) {
      problems.push(`assist.${key} ${result.why}; ignored (got ${JSON.stringify(value)})`);
      continue;
    }
    if (result.value !== undefined) {
      setDotted(settings, key, result.value);
    }
  }
  return { settings: settings as ServerSettings, problems };
}

/** Whether a configuration change needs the server restarted rather than just told. */
export function needsRestart(affects: (section: string) => boolean): boolean {
  return RESTART_KEYS.some((key) => affects(`${SECTION}.${key}`));
}
