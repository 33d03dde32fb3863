/**
 * Keras-style default names for unnamed layers: the snake_case of the Keras class with a
 * per-class counter over the whole model in layer order (`activation`, `activation_1`, ...;
 * inputs are `input_1`, `input_2`, ... as in Keras 2). A generated name never takes a name the
 * spec gave explicitly: the counter skips it, as Keras does.
 */

/**
 * Longest layer or model name, in UTF-16 code units. Keras names are short
 * (`res4b22_branch2a`); a name of millions of characters is a mistake or an attack, and every
 * report, summary and artifact would carry it.
 */
export const MAX_NAME_LENGTH = 256;

/** Keras's `to_snake_case`: `ZeroPadding2D` -> `zero_padding2d`, `BatchNormalization` -> `batch_normalization`. */
export function snakeCase(name: string): string {
  return name
    .replace(/(.)([A-Z][a-z]+)/g, "$1_$2")
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .toLowerCase();
}

/** Hands out default names, skipping every name in `taken`. */
export class DefaultNamer {
  private readonly counters = new Map<string, number>();

  constructor(private readonly taken: Set<string>) {}

  /** The next free default name for a layer of Keras class `kerasClass`. */
  next(kerasClass: string): string {
    const isInput = kerasClass === "InputLayer";
    const prefix = isInput ? "input" : snakeCase(kerasClass);
    let n = this.counters.get(prefix) ?? (isInput ? 1 : 0);
    let name: string;
    do {
      name = n === 0 ? prefix : `${prefix}_${n}`;
      n++;
    } while (this.taken.has(name));
    this.counters.set(prefix, n);
    this.taken.add(name);
    return name;
  }
}
