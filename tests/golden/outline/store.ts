import { EventEmitter } from "node:events";
import type { Logger } from "./logger";
import { hash, type Digest } from "../util/hash";

/** A stored document with its revision. */
export interface Doc<T> {
  id: string;
  rev: number;
  body: T;
  updatedAt?: Date;
}

export type Listener<T> = (doc: Doc<T>, previous?: Doc<T>) => void;

export enum Consistency {
  Eventual = "eventual",
  Strong = "strong",
}

export const MAX_DOCS = 10_000;

/**
 * In-memory document store with change events.
 * Not safe across processes.
 */
export class Store<T> extends EventEmitter {
  private readonly docs = new Map<string, Doc<T>>();
  private revs = 0;

  constructor(
    private readonly log: Logger,
    readonly consistency: Consistency = Consistency.Strong,
  ) {
    super();
  }

  /** Current document, if any. */
  get(id: string): Doc<T> | undefined {
    return this.docs.get(id);
  }

  put(id: string, body: T): Doc<T> {
    if (this.docs.size >= MAX_DOCS && !this.docs.has(id)) {
      throw new RangeError(`store is full (${MAX_DOCS} documents)`);
    }
    const previous = this.docs.get(id);
    const doc: Doc<T> = { id, rev: ++this.revs, body, updatedAt: new Date() };
    this.docs.set(id, doc);
    this.log.debug(`put ${id}@${doc.rev}`);
    this.emit("change", doc, previous);
    return doc;
  }

  async digest(): Promise<Digest> {
    const ids = [...this.docs.keys()].sort();
    return hash(ids.map((id) => `${id}:${this.docs.get(id)!.rev}`).join("\n"));
  }

  onChange(listener: Listener<T>): () => void {
    this.on("change", listener);
    return () => this.off("change", listener);
  }
}

export function createStore<T>(log: Logger): Store<T> {
  return new Store<T>(log);
}

export const isDoc = (value: unknown): value is Doc<unknown> =>
  typeof value === "object" && value !== null && "id" in value && "rev" in value;
