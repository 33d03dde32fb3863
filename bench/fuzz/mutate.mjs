// Seeded mutations of spec text, for the spec fuzzer (bench/fuzz/fuzz-specs.mjs). Each mutation
// is a small, plausible edit a person or a hostile pull request could make: a line removed,
// duplicated or moved, a number made absurd, a token swapped for one from elsewhere in the corpus,
// an indent broken, a control character or an expression inserted.

/** xorshift32: a small deterministic generator; `next()` gives a float in [0, 1). */
export function random(seed) {
  let s = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
  };
}

const ABSURD_NUMBERS = [
  "0",
  "-1",
  "1e309",
  "-1e309",
  ".nan",
  "4294967299",
  "1e12",
  "99999999",
  "0.5",
  "2147483648",
  "-0",
  "7",
];
const INSERTS = [
  "\u001b]0;pwned\u0007",
  "\u001b[2J",
  "\u2028",
  "\r",
  "\u0000",
  "{",
  "}",
  "{{",
  "'",
  '"',
  "&a",
  "*a",
  "!!js/function",
  "!!binary",
  "<<: *x",
  "- ",
  ": ",
  "#",
  "{l + l}",
  "{(((((((((1)))))))))}",
  "{channels(x)}",
  "\t",
  "../",
  "/etc/passwd",
];
const EXPRESSIONS = [
  '"{1/0}"',
  '"{2**99}"',
  '"{-1}"',
  '"{nope}"',
  '"{filters[9]}"',
  `"{${"(".repeat(200)}1${")".repeat(200)}}"`,
  '"{}"',
  "[]",
  "{}",
  "null",
  "true",
  "[1e309, 8, 3]",
  `${"x".repeat(5000)}`,
];

/** The tokens of a text (words, numbers, punctuation runs), for swapping across the corpus. */
export function tokens(text) {
  return text.match(/[A-Za-z_][A-Za-z0-9_]*|-?\d+(\.\d+)?|[^\sA-Za-z0-9_]/g) ?? [];
}

/**
 * One mutation of `text`, chosen by `rng`. `pool` holds tokens of the whole corpus. Returns the
 * mutated text and the mutation's name.
 */
export function mutate(text, rng, pool) {
  const lines = text.split("\n");
  const at = rng.int(lines.length);
  const line = lines[at] ?? "";
  switch (rng.int(11)) {
    case 0:
      lines.splice(at, 1);
      return { text: lines.join("\n"), kind: "delete-line" };
    case 1:
      lines.splice(at, 0, line);
      return { text: lines.join("\n"), kind: "duplicate-line" };
    case 2: {
      const to = rng.int(lines.length);
      lines.splice(at, 1);
      lines.splice(to, 0, line);
      return { text: lines.join("\n"), kind: "move-line" };
    }
    case 3: {
      const numbers = [...line.matchAll(/-?\d+(\.\d+)?/g)];
      if (numbers.length === 0) break;
      const m = rng.pick(numbers);
      lines[at] =
        line.slice(0, m.index) + rng.pick(ABSURD_NUMBERS) + line.slice(m.index + m[0].length);
      return { text: lines.join("\n"), kind: "absurd-number" };
    }
    case 4: {
      const words = [...line.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)];
      if (words.length === 0 || pool.length === 0) break;
      const m = rng.pick(words);
      lines[at] = line.slice(0, m.index) + rng.pick(pool) + line.slice(m.index + m[0].length);
      return { text: lines.join("\n"), kind: "swap-token" };
    }
    case 5: {
      const indent = line.match(/^ */)[0].length;
      const by = rng.pick([-2, -1, 1, 2, 4]);
      lines[at] = " ".repeat(Math.max(0, indent + by)) + line.trimStart();
      return { text: lines.join("\n"), kind: "indent" };
    }
    case 6: {
      const col = rng.int(line.length + 1);
      lines[at] = line.slice(0, col) + rng.pick(INSERTS) + line.slice(col);
      return { text: lines.join("\n"), kind: "insert" };
    }
    case 7: {
      const values = [...line.matchAll(/:\s*([^,{}\n]+)/g)];
      if (values.length === 0) break;
      const m = rng.pick(values);
      const start = m.index + m[0].length - m[1].length;
      lines[at] = line.slice(0, start) + rng.pick(EXPRESSIONS) + line.slice(start + m[1].length);
      return { text: lines.join("\n"), kind: "expression" };
    }
    case 8:
      return { text: text.slice(0, rng.int(text.length + 1)), kind: "truncate" };
    case 9: {
      // A bare scalar line after a layer item (found once to put a column past the line's end).
      lines.splice(at + 1, 0, rng.pick(["relu", "x", "- relu", "  relu", "0"]));
      return { text: lines.join("\n"), kind: "bare-line" };
    }
    default: {
      const from = rng.int(lines.length);
      const n = 1 + rng.int(4);
      lines.splice(at, 0, ...lines.slice(from, from + n));
      return { text: lines.join("\n"), kind: "copy-block" };
    }
  }
  lines.splice(at, 1);
  return { text: lines.join("\n"), kind: "delete-line" };
}
