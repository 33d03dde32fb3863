/**
 * Shapes during expansion, for the shape functions of interpolation: `shape(x)`, `channels(x)`,
 * `height(x)`, `width(x)`. Build (build.ts) stays the one source of truth for the graph; this
 * table only answers expressions, with the same op `normalize` + `infer` that build runs.
 *
 * The table is lazy: nothing is inferred until an expression asks, and then every layer emitted
 * so far that is not yet known is inferred once, in expansion order, so a spec that reads no shape
 * pays nothing. A layer's inputs by expansion id are always earlier layers; an input by name is
 * known when a layer of that explicit name was emitted before the layer reading it.
 *
 * When a shape cannot be read the reason decides what is reported:
 * - the layer, or one it depends on, is broken or will fail in build (schema, arity, shape error):
 *   nothing here, that error is reported once by whoever finds it (no cascade);
 * - the name is no layer at all: RSC208 with a "did you mean";
 * - the name is a layer or label defined later, or a default name (given only by build), or the
 *   layer depends on one: RSC220.
 * The last two are decided when expansion ends ({@link ShapeTable.finish}), when every name is
 * known. The expression's layer is then broken (build skips it quietly).
 */
import {
  type CallSite,
  closest,
  type Diagnostic,
  locatedError,
  type RelatedLocation,
  type SourceLocation,
} from "./diagnostics.js";
import type { ExpandedLayer, LayerRef } from "./expanded.js";
import { ExprError, type ExprFunction, type Scope, type Value } from "./expr.js";
import { DefaultNamer } from "./naming.js";
import { OPS } from "./ops/registry.js";
import type { OpDef } from "./ops/types.js";
import { MapScope } from "./scope.js";
import type { Shape } from "./tensor.js";
import { validateAttrs } from "./validate.js";

/** What the table knows of one layer's output: its shape, or why not. */
type Status =
  | { readonly kind: "shape"; readonly shape: Shape }
  /** Unknown because of an error reported elsewhere (now or by build). */
  | { readonly kind: "quiet" }
  /** Unknown because it depends on `name`, not emitted before the layer that reads it. */
  | { readonly kind: "later"; readonly name: string };

const QUIET: Status = { kind: "quiet" };

/** A shape query that failed for a reason decided when expansion ends. */
type Pending =
  /** `name` was neither a label in scope nor an earlier layer's explicit name. */
  | {
      readonly kind: "missing";
      readonly name: string;
      readonly labels: ReadonlyMap<string, LayerRef>;
    }
  /** `name` is known but depends on `input`, which was not emitted before it. */
  | { readonly kind: "depends-on-later"; readonly name: string; readonly input: string };

/**
 * Thrown by a shape function that cannot answer; expansion hands it to
 * {@link ShapeTable.defer} instead of reporting an expression error.
 */
export class ShapeQueryError extends Error {
  constructor(
    /** Undefined when the reason is an error reported elsewhere (nothing more to say). */
    readonly pending: Pending | undefined,
  ) {
    super("the shape is not known");
  }
}

/** A deferred query and where its expression was written. */
interface Deferred {
  readonly pending: Pending;
  readonly loc: SourceLocation;
  readonly callSites: readonly CallSite[];
}

/** The names of the shape functions, for the docs and hints. */
export const SHAPE_FUNCTIONS = ["shape", "channels", "height", "width"] as const;

/** Shapes of the layers emitted so far, inferred on demand. */
export class ShapeTable {
  private readonly statuses: Status[] = [];
  /** Explicit layer names of the layers looked at so far -> the first layer of that name. */
  private readonly explicit = new Map<string, number>();
  private readonly deferred: Deferred[] = [];

  /** `layers` is the expander's list, read as it grows. */
  constructor(private readonly layers: readonly ExpandedLayer[]) {}

  /** A child of `parent` in which the shape functions read `labels` (the frame's), then names. */
  scope(parent: Scope, labels: ReadonlyMap<string, LayerRef>): MapScope {
    const fn = (
      name: (typeof SHAPE_FUNCTIONS)[number],
      read: (shape: Shape, layer: string) => Value,
    ): [string, ExprFunction] => [
      name,
      {
        takesLayerName: true,
        call: (args) => {
          const layer = args[0];
          if (args.length !== 1 || typeof layer !== "string")
            throw new ExprError(`${name}() takes one layer name, e.g. ${name}(x)`, "type");
          return read(this.shapeOf(layer, labels), layer);
        },
      },
    ];
    const image = (shape: Shape, layer: string, what: string): Shape => {
      if (shape.length !== 3)
        throw new ExprError(
          `${what}() needs an image (height, width, channels), '${layer}' has shape [${shape.join(", ")}]`,
          "type",
        );
      return shape;
    };
    return new MapScope(parent).withFunctions(
      new Map([
        fn("shape", (s) => [...s]),
        fn("channels", (s) => s[s.length - 1] ?? 1),
        fn("height", (s, l) => image(s, l, "height")[0]!),
        fn("width", (s, l) => image(s, l, "width")[1]!),
      ]),
    );
  }

  /** Records a failed query to report (or not) when expansion ends. */
  defer(error: ShapeQueryError, loc: SourceLocation, callSites: readonly CallSite[]): void {
    if (error.pending !== undefined) this.deferred.push({ pending: error.pending, loc, callSites });
  }

  /** The errors of the deferred queries, once every layer is emitted. */
  finish(): Diagnostic[] {
    if (this.deferred.length === 0) return [];
    this.catchUp();
    const defaults = this.defaultNames();
    const out: Diagnostic[] = [];
    for (const { pending, loc, callSites } of this.deferred) {
      const definedAt = (name: string): RelatedLocation | undefined => {
        const id = this.explicit.get(name) ?? defaults.get(name);
        if (id === undefined) return undefined;
        const l = this.layers[id]!;
        return { ...(l.nameLoc ?? l.loc), message: `'${name}' is defined here` };
      };
      if (pending.kind === "missing") {
        const { name, labels } = pending;
        const label = labels.get(name);
        const at = label?.kind === "id" ? this.layers[label.id] : undefined;
        const related = at ? { ...at.loc, message: `'${name}' is defined here` } : definedAt(name);
        if (label !== undefined || this.explicit.has(name)) {
          out.push(
            locatedError(
              "RSC220",
              `'${name}' is defined after this layer: a shape can be read only from an earlier layer`,
              loc,
              { callSites, ...(related ? { related: [related] } : {}) },
            ),
          );
        } else if (defaults.has(name)) {
          out.push(defaultNameError(name, loc, callSites, related));
        } else {
          const guess = closest(name, [...labels.keys(), ...this.explicit.keys()]);
          out.push(
            locatedError("RSC208", `no layer named '${name}'`, loc, {
              callSites,
              ...(guess ? { hint: `did you mean '${guess}'?` } : {}),
            }),
          );
        }
      } else {
        const { name, input } = pending;
        const related = definedAt(input);
        // An input that is no layer at all is build's RSC208 at the `from:`.
        if (related === undefined) continue;
        out.push(
          locatedError(
            "RSC220",
            `the shape of '${name}' is not known here: it depends on '${input}', which is defined after it`,
            loc,
            {
              callSites,
              related: [related],
              ...(defaults.has(input)
                ? { hint: `'${input}' is a default name; name that layer (name:) to read shapes` }
                : {}),
            },
          ),
        );
      }
    }
    return out;
  }

  /** The shape of the layer a label in `labels` or an explicit name of an earlier layer names. */
  private shapeOf(name: string, labels: ReadonlyMap<string, LayerRef>): Shape {
    this.catchUp();
    let ref = labels.get(name);
    if (ref === undefined) {
      const id = this.explicit.get(name);
      if (id === undefined) throw new ShapeQueryError({ kind: "missing", name, labels });
      ref = { kind: "id", id };
    }
    const status = this.refStatus(ref, this.layers.length);
    if (status.kind === "shape") return status.shape;
    if (status.kind === "quiet") throw new ShapeQueryError(undefined);
    if (status.name === name) throw new ShapeQueryError({ kind: "missing", name, labels });
    throw new ShapeQueryError({ kind: "depends-on-later", name, input: status.name });
  }

  /** Infers, in order, every emitted layer not looked at yet. */
  private catchUp(): void {
    for (let id = this.statuses.length; id < this.layers.length; id++) {
      const l = this.layers[id]!;
      if (l.name !== undefined && !this.explicit.has(l.name)) this.explicit.set(l.name, id);
      this.statuses.push(this.infer(l));
    }
  }

  /** The status of what `ref` points at, for a reader at expansion id `reader`. */
  private refStatus(ref: LayerRef, reader: number): Status {
    if (ref.kind === "poison") return QUIET;
    // Sequential flow and labels point at earlier layers only.
    if (ref.kind === "id") return this.statuses[ref.id] ?? QUIET;
    const id = this.explicit.get(ref.name);
    if (id === undefined || id >= reader) return { kind: "later", name: ref.name };
    return this.statuses[id]!;
  }

  /** One layer's status: what build would infer for it, when nothing before it failed. */
  private infer(l: ExpandedLayer): Status {
    if (l.broken) return QUIET;
    const ins: Shape[] = [];
    for (const ref of l.inputs) {
      const s = this.refStatus(ref, l.id);
      if (s.kind !== "shape") return s;
      ins.push(s.shape);
    }
    const def = OPS[l.op] as unknown as OpDef;
    if (ins.length < def.arity.min || ins.length > def.arity.max) return QUIET;
    if (validateAttrs(l.op, l.attrs, l.loc, []).length > 0) return QUIET;
    const raw: Record<string, unknown> = {};
    for (const [k, a] of l.attrs) raw[k] = a.value;
    const result = def.infer(ins, def.normalize(raw));
    return result.ok ? { kind: "shape", shape: result.shape } : QUIET;
  }

  /** The default names build will give the unnamed layers (build.ts assignNames, same rule). */
  private defaultNames(): Map<string, number> {
    const namer = new DefaultNamer(new Set(this.explicit.keys()));
    const names = new Map<string, number>();
    for (const l of this.layers)
      if (l.name === undefined) names.set(namer.next(OPS[l.op].kerasClass), l.id);
    return names;
  }
}

/** RSC220 for a default name: build gives those, so no expression can read them. */
function defaultNameError(
  name: string,
  loc: SourceLocation,
  callSites: readonly CallSite[],
  related: RelatedLocation | undefined,
): Diagnostic {
  return locatedError(
    "RSC220",
    `'${name}' is a default name, given only after expansion: a shape can be read only from a named or labelled layer`,
    loc,
    {
      callSites,
      hint: `give that layer a name (name: ${name}) or a label (as: ...)`,
      ...(related ? { related: [related] } : {}),
    },
  );
}
