/**
 * One SQL statement assembled from steps (common table expressions), for write paths that must
 * cost one round trip and one commit: each step is gated on the ones before it (it reads their
 * rows), so a step that finds nothing leaves every later step with nothing to do, and the
 * statement either does all of its work or none of it. Parameters are numbered in the order they
 * are bound, so modules can add steps without knowing each other's numbering.
 *
 * Every step runs on the statement's one snapshot. A step that must see what a racing transaction
 * committed while this one waited for a lock either locks the row it then reads (UPDATE, SELECT
 * ... FOR UPDATE re-check their WHERE on the newest row version) or calls a VOLATILE function,
 * whose own statements take fresh snapshots (session_open_slot).
 */
export class Statement {
  readonly values: unknown[] = [];
  private readonly steps: string[] = [];

  /** Binds a value; returns its placeholder (`$7`). */
  bind(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /** Adds a step named `name`; returns the name, for later steps to read from. */
  with(name: string, body: string): string {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad step name ${name}`);
    this.steps.push(`${name} AS (${body})`);
    return name;
  }

  /** The statement, ending in `select`. */
  text(select: string): string {
    return this.steps.length ? `WITH ${this.steps.join(',\n')}\n${select}` : select;
  }
}
