/**
 * Reading what server commands return, tolerant of shape so a newer server does not break an older
 * extension. Pure, unit-tested.
 */

export interface DoctorResult {
  ok: boolean;
  report: string;
}

export function parseDoctorResult(raw: unknown): DoctorResult {
  if (typeof raw === "object" && raw !== null) {
    const r = raw as Record<string, unknown>;
    if (typeof r.ok === "boolean" && typeof r.report === "string") {
      return { ok: r.ok, report: r.report };
    }
  }
  return { ok: false, report: `The server answered assist.doctor with an unexpected value: ${JSON.stringify(raw)}` };
}

function countOf(raw: unknown): number | undefined {
  if (typeof raw === "number" && Number.isInteger(raw) && raw >= 0) {
    return raw;
  }
  if (Array.isArray(raw)) {
    return raw.length;
  }
  if (typeof raw === "object" && raw !== null) {
    const r = raw as Record<string, unknown>;
    for (const key of ["findings", "count", "diagnostics"]) {
      const n = countOf(r[key]);
      if (n !== undefined) {
        return n;
      }
    }
  }
  return undefined;
}

/**
 * A review the server could not do: assist-lsp answers `{"ok": false, "findings": 0, "message": …}`
 * (Ollama down, model missing, cancelled). The message is the server's one-line reason.
 */
export function reviewFailure(raw: unknown): string | undefined {
  if (typeof raw === "object" && raw !== null) {
    const r = raw as Record<string, unknown>;
    if (r.ok === false) {
      return typeof r.message === "string" && r.message !== "" ? r.message : "the review failed";
    }
  }
  return undefined;
}

/** One line for the notification after a review: "assist: 2 findings in app.py". */
export function describeReview(raw: unknown, target: string): string {
  const failure = reviewFailure(raw);
  if (failure !== undefined) {
    return `assist: could not review ${target}: ${failure}`;
  }
  const n = countOf(raw);
  if (n === undefined) {
    return `assist: review of ${target} finished; see the Problems panel.`;
  }
  if (n === 0) {
    return `assist: no findings in ${target}.`;
  }
  return `assist: ${n} finding${n === 1 ? "" : "s"} in ${target}; see the Problems panel.`;
}

export function reviewFindingCount(raw: unknown): number | undefined {
  return countOf(raw);
}
