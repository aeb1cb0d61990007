/**
 * Private to src/config: finds where JSON text is invalid. `JSON.parse` messages sometimes
 * quote the text (which may hold a secret) and sometimes give no position, so on failure we
 * scan the text ourselves and report only a line, a column and a fixed reason.
 */

/** Where and why JSON text is invalid. */
export interface JsonErrorLocation {
  /** 1-based line. */
  line: number;
  /** 1-based column, in UTF-16 code units. */
  column: number;
  /** A fixed description that never quotes the text. */
  reason: string;
}

class Invalid {
  constructor(readonly offset: number, readonly reason: string) {}
}

/** Returns where `text` stops being valid JSON, or undefined when it is valid. */
export function locateJsonError(text: string): JsonErrorLocation | undefined {
  try {
    new Scanner(text).document();
    return undefined;
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    const before = text.slice(0, error.offset);
    const line = before.split("\n").length;
    const column = error.offset - (before.lastIndexOf("\n") + 1) + 1;
    return { line, column, reason: error.reason };
  }
}

class Scanner {
  #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  document(): void {
    if (this.#text.charCodeAt(0) === 0xfeff) this.#at = 1;
    this.#value(0);
    this.#space();
    if (this.#at < this.#text.length) this.#fail("unexpected text after the JSON value");
  }

  #fail(reason: string): never {
    throw new Invalid(this.#at, this.#at >= this.#text.length ? "unexpected end of input" : reason);
  }

  #space(): void {
    while (/[ \t\r\n]/.test(this.#text[this.#at] ?? "")) this.#at++;
  }

  #value(depth: number): void {
    if (depth > 512) this.#fail("nesting too deep");
    this.#space();
    const c = this.#text[this.#at];
    if (c === "{") return this.#object(depth);
    if (c === "[") return this.#array(depth);
    if (c === '"') return this.#string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.#number();
    for (const word of ["true", "false", "null"]) {
      if (this.#text.startsWith(word, this.#at)) {
        this.#at += word.length;
        return;
      }
    }
    this.#fail("expected a value (string, number, object, array, true, false or null)");
  }

  #object(depth: number): void {
    this.#at++;
    this.#space();
    if (this.#text[this.#at] === "}") {
      this.#at++;
      return;
    }
    for (;;) {
      this.#space();
      if (this.#text[this.#at] !== '"') {
        this.#fail("expected a double-quoted property name (no trailing commas in JSON)");
      }
      this.#string();
      this.#space();
      if (this.#text[this.#at] !== ":") this.#fail("expected ':' after property name");
      this.#at++;
      this.#value(depth + 1);
      this.#space();
      const c = this.#text[this.#at];
      this.#at++;
      if (c === "}") return;
      if (c !== ",") {
        this.#at--;
        this.#fail("expected ',' or '}' after property value");
      }
    }
  }

  #array(depth: number): void {
    this.#at++;
    this.#space();
    if (this.#text[this.#at] === "]") {
      this.#at++;
      return;
    }
    for (;;) {
      this.#space();
      if (this.#text[this.#at] === "]") this.#fail("unexpected ']' (no trailing commas in JSON)");
      this.#value(depth + 1);
      this.#space();
      const c = this.#text[this.#at];
      this.#at++;
      if (c === "]") return;
      if (c !== ",") {
        this.#at--;
        this.#fail("expected ',' or ']' after array element");
      }
    }
  }

  #string(): void {
    this.#at++;
    for (;;) {
      const c = this.#text[this.#at];
      if (c === undefined) this.#fail("unterminated string");
      if (c === '"') {
        this.#at++;
        return;
      }
      if (c < " ") this.#fail("control character in string (write \\n, \\t, …)");
      if (c === "\\") {
        const e = this.#text[this.#at + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.#text.slice(this.#at + 2, this.#at + 6))) {
            this.#fail("invalid \\u escape in string");
          }
          this.#at += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) this.#fail("invalid escape in string");
        this.#at += 2;
        continue;
      }
      this.#at++;
    }
  }

  #number(): void {
    const number = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    number.lastIndex = this.#at;
    const match = number.exec(this.#text);
    if (!match) this.#fail("invalid number");
    this.#at += match[0].length;
    if (/[0-9.eE+-]/.test(this.#text[this.#at] ?? "")) this.#fail("invalid number");
  }
}
