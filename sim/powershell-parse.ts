/** One token of a PowerShell statement, as far as the simulator understands the language. */
export type Token =
  | { kind: 'string'; value: string; expandable: boolean }
  | { kind: 'variable'; name: string }
  | { kind: 'parameter'; name: string }
  | { kind: 'word'; value: string }
  | { kind: 'operator'; value: string };

/** One statement and the 1-based line it starts on (for "At line:N" in error records). */
export interface Statement {
  text: string;
  line: number;
}

/** Splits a script into statements at line ends and `;` outside quotes; drops comments. */
export function splitStatements(script: string): Statement[] {
  const statements: Statement[] = [];
  const lines = script.replace(/^\uFEFF/, '').split(/\r?\n/);
  let inBlockComment = false;
  lines.forEach((rawLine, index) => {
    let line = rawLine;
    if (inBlockComment || line.includes('<#')) {
      const stripped = stripBlockComment(line, inBlockComment);
      line = stripped.line;
      inBlockComment = stripped.open;
    }
    for (const part of splitOutsideQuotes(line)) {
      const text = part.trim();
      if (text !== '' && !text.startsWith('#')) statements.push({ text, line: index + 1 });
    }
  });
  return statements;
}

function stripBlockComment(line: string, open: boolean): { line: string; open: boolean } {
  let rest = line;
  let kept = '';
  let inside = open;
  while (rest !== '') {
    const marker = inside ? rest.indexOf('#>') : rest.indexOf('<#');
    if (marker < 0) return { line: inside ? kept : kept + rest, open: inside };
    if (!inside) kept += rest.slice(0, marker);
    rest = rest.slice(marker + 2);
    inside = !inside;
  }
  return { line: kept, open: inside };
}

function splitOutsideQuotes(line: string): string[] {
  const parts: string[] = [];
  let quote: string | undefined;
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quote === undefined && char === '#' && (current.trim() === '' || /\s$/.test(current))) {
      break;
    }
    if (quote === undefined && char === ';') {
      parts.push(current);
      current = '';
      continue;
    }
    if (char === '`' && quote !== "'") {
      current += char + (line[i + 1] ?? '');
      i++;
      continue;
    }
    if (char === quote) quote = undefined;
    else if (quote === undefined && (char === "'" || char === '"')) quote = char;
    current += char;
  }
  parts.push(current);
  return parts;
}

const BACKTICK_ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Tokenises one statement: quoted strings, variables, -Parameters, bare words, `=` and `,`. */
export function tokenize(statement: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < statement.length) {
    const char = statement[i] as string;
    if (/\s/.test(char)) {
      i++;
    } else if (char === "'" || char === '"') {
      const [value, next] = readQuoted(statement, i);
      tokens.push({ kind: 'string', value, expandable: char === '"' });
      i = next;
    } else if (char === ',' || char === '=' || char === '(' || char === ')') {
      tokens.push({ kind: 'operator', value: char });
      i++;
    } else {
      const match = /^[^\s,=()'"]+/.exec(statement.slice(i));
      const word = match?.[0] ?? char;
      tokens.push(classifyWord(word));
      i += word.length;
    }
  }
  return tokens;
}

function classifyWord(word: string): Token {
  if (word.startsWith('$') && word.length > 1) return { kind: 'variable', name: word.slice(1) };
  if (/^-[A-Za-z]/.test(word)) return { kind: 'parameter', name: word.slice(1).replace(/:$/, '') };
  return { kind: 'word', value: word };
}

function readQuoted(text: string, start: number): [string, number] {
  const quote = text[start] as string;
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === quote && text[i + 1] === quote) {
      value += quote;
      i += 2;
    } else if (char === quote) {
      return [value, i + 1];
    } else if (char === '`' && quote === '"' && i + 1 < text.length) {
      const escaped = text[i + 1] as string;
      value += BACKTICK_ESCAPES[escaped] ?? escaped;
      i += 2;
    } else {
      value += char;
      i++;
    }
  }
  return [value, i];
}

/** Expands `$name` and `$env:NAME` in a double-quoted string. */
export function expandString(text: string, lookup: (name: string) => string): string {
  return text.replace(/\$(\{[^}]+\}|[A-Za-z_][\w:]*)/g, (_, name: string) =>
    lookup(name.replace(/^\{|\}$/g, '')),
  );
}
