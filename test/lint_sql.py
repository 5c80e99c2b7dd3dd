#!/usr/bin/env python3
"""lint_sql.py — every SQL statement the C code issues names what it calls.

The extension runs its statements under a pinned search_path (src/safe_spi.c),
and, as a second wall, every statement spells its functions, operators and
types with their schema: `pg_catalog.unnest(...)`, `a OPERATOR(pg_catalog.=) b`,
`x::pg_catalog.int8`, `seongsu.jobs`.  This script reads the string literals
of src/**/*.[ch], joins adjacent ones, and for each that is a statement reports:

  - a function call whose name is not schema-qualified (SQL syntax such as
    EXISTS, COALESCE, EXTRACT, VALUES, ANY, an alias list after AS is allowed);
  - two OPERATOR() forms chained without parentheses (they share one
    precedence: a OPERATOR(>=) b OPERATOR(+) c is (a >= b) + c);
  - an operator outside OPERATOR(schema.op) (`*` in `count(*)`, `SELECT *`
    and `t.*`, `::`, `=>` of named arguments and `-` of a negative number are
    allowed);
  - a cast or typed literal to an unqualified type (`::int8`, `date '...'`;
    types the grammar itself qualifies, like `interval '1 day'`, are allowed);
  - a table or view named without its schema (any schema: vault.decrypted_secrets);
  - BETWEEN, LIKE, ILIKE, SIMILAR TO and IN (...), whose operators the parser
    looks up by name (write OPERATOR(pg_catalog.>=) ... AND ..., or
    OPERATOR(pg_catalog.=) ANY (...)).

IS DISTINCT FROM, ORDER BY, DISTINCT and GROUP BY have no name to qualify;
they resolve under the pinned search_path.

Usage: python3 test/lint_sql.py [root]   (exit status 1 when anything is found)
"""
import pathlib
import re
import sys

SQL_START = re.compile(r'^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|ON CONFLICT)\b')
QUALIFIED = ('pg_catalog.', 'seongsu.')
# Grammar constructs written like calls.
SYNTAX = {
    'EXISTS', 'COALESCE', 'GREATEST', 'LEAST', 'NULLIF', 'EXTRACT', 'VALUES', 'ANY', 'ALL',
    'ARRAY', 'ROW', 'ROWS', 'CONFLICT', 'FILTER', 'OVER', 'CAST', 'ON', 'AND', 'OR', 'NOT', 'IN', 'AS',
    'FROM', 'WHERE', 'SELECT', 'USING', 'SET', 'OPERATOR', 'LATERAL', 'JOIN', 'INTO', 'UNION', 'SKIP', 'NOWAIT',
    'WITH', 'ORDINALITY', 'THEN', 'ELSE', 'WHEN', 'CASE', 'END', 'BY', 'DISTINCT', 'RETURNING',
    'IS', 'NULL', 'TRUE', 'AT', 'ZONE', 'LIMIT', 'OFFSET', 'ASSIGN', 'FALSE', 'INTERVAL', 'TIMESTAMP', 'EXCLUDED', 'DO', 'UPDATE',
}
# Types the grammar turns into pg_catalog names itself (keywords).
KEYWORD_TYPES = {'interval', 'timestamp', 'time', 'int', 'integer', 'bigint', 'smallint', 'real',
                 'float', 'double', 'numeric', 'boolean', 'varchar', 'char', 'bit'}
FORBIDDEN = re.compile(r'\b(BETWEEN|LIKE|ILIKE|SIMILAR|IN\s*\()', re.I)
OPCHARS = re.compile(r'[=<>!+\-*/%|&^~@#?]+')


def literals(text):
    """Yield (line, joined string) for each run of adjacent C string literals."""
    i, n = 0, len(text)
    run, start = [], 0
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            i = text.find('\n', i)
            i = n if i < 0 else i
            continue
        if text.startswith('/*', i):
            j = text.find('*/', i + 2)
            i = n if j < 0 else j + 2
            continue
        if c == "'":
            i += 2 if text[i + 1] != '\\' else 3
            i = text.find("'", i) + 1
            continue
        if c == '"':
            j, buf = i + 1, []
            while text[j] != '"':
                if text[j] == '\\':
                    buf.append({'n': '\n', 't': '\t', '"': '"', '\\': '\\'}.get(text[j + 1], text[j + 1]))
                    j += 2
                else:
                    buf.append(text[j])
                    j += 1
            if not run:
                start = text.count('\n', 0, i) + 1
            run.append(''.join(buf))
            i = j + 1
            continue
        if run and not (c.isspace() or re.match(r'[A-Z_][A-Z_0-9]*\b', text[i:i + 64])):
            yield start, ''.join(run)
            run = []
        if run and re.match(r'[A-Z_][A-Z_0-9]*\b', text[i:i + 64]):
            # a macro between literals (e.g. WEATHER_OBSERVED "..."): keep joining
            i += len(re.match(r'[A-Z_][A-Z_0-9]*', text[i:]).group(0))
            continue
        i += 1
    if run:
        yield start, ''.join(run)


OPERATOR_FORM = re.compile(r'OPERATOR\(\s*[\w.]+?\.([^)\s]+)\s*\)')
SEPARATORS = re.compile(r'\b(AND|OR|WHERE|SELECT|FROM|THEN|WHEN|ELSE|ON|SET|IS|NOT)\b|,', re.I)


def chained_operators(s):
    """Every OPERATOR() form has one precedence, left-associative: `a OPERATOR(>=) b
    OPERATOR(+) c` is (a >= b) + c.  Report two at one parenthesis level without a
    separator (AND, OR, a comma, ...) between them."""
    out = []
    flat = []
    # each parenthesized part becomes "(x)" in its parent and a segment of its own
    stack = [[]]
    for ch in s:
        if ch == '(':
            stack.append([])
        elif ch == ')' and len(stack) > 1:
            inner = ''.join(stack.pop())
            flat.append(inner)
            stack[-1].append('(x)')
        else:
            stack[-1].append(ch)
    flat.extend(''.join(level) for level in stack)
    for seg in flat:
        for piece in SEPARATORS.split(seg):
            if not piece:
                continue
            ops = re.findall(r'OPERATOR\(x\)', piece)
            if len(ops) > 1:
                out.append('chained OPERATOR() forms: add parentheses (they share one precedence)')
    return out


def problems(sql):
    """The qualification problems of one statement."""
    out = []
    s = re.sub(r"'(?:[^']|'')*'", "''", sql)          # string constants
    s = re.sub(r'"[^"]*"', 'q', s)                       # quoted identifiers
    s = re.sub(r'\$\d+', 'p', s)                          # parameters
    s = re.sub(r'%[sd]', 'x', s)                          # printf placeholders of built statements
    s = re.sub(r'(\bSET\s+|,\s*)(\w+)\s*=(?![=>])', r'\1\2 ASSIGN ', s)  # SET assignments
    for m in FORBIDDEN.finditer(s):
        out.append(f'{m.group(1).strip()} looks operators up by name')
    for m in re.finditer(r'\b(FROM|JOIN|INTO|UPDATE)\s+(?!SKIP\b)([A-Za-z_][\w.]*)(\s*\()?', s, re.I):
        before = s[:m.start()]
        if m.group(3) or '.' in m.group(2) or m.group(2).upper() in SYNTAX:
            continue                                      # any schema qualifies a relation (vault.x)
        if re.search(r'(\bextract\(\s*\w+|\bDISTINCT)\s*$', before, re.I):
            continue
        out.append(f'unqualified relation {m.group(2)}')
    for m in re.finditer(r'::\s*([A-Za-z_][\w.]*)', s):
        if not m.group(1).startswith(QUALIFIED):
            out.append(f'cast to unqualified type ::{m.group(1)}')
    for m in re.finditer(r"\b([A-Za-z_][\w.]*)\s+''", s):
        w = m.group(1)
        if w.upper() in SYNTAX or w.lower() in KEYWORD_TYPES or w.startswith(QUALIFIED):
            continue
        out.append(f'typed literal of unqualified type {w}')
    for m in re.finditer(r'\b([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)?)\s*\(', s):
        name = m.group(1)
        before = s[:m.start()].rstrip()
        if name.startswith(QUALIFIED) or name.upper() in SYNTAX:
            continue
        if re.search(r'\bAS$', before, re.I) or re.search(r'\bAS\s+\w+$', before, re.I):
            continue                                      # alias column list
        if re.search(r'\bINTO$', before, re.I):
            continue
        out.append(f'unqualified function {name}()')
    out.extend(chained_operators(s))
    rest = re.sub(r'OPERATOR\(\s*[\w.]+\s*\.\s*[^)\s]+\s*\)', ' ', s)
    rest = rest.replace('::', ' ').replace('=>', ' ')
    rest = re.sub(r'\(\s*\*\s*\)', ' ', rest)             # count(*)
    rest = re.sub(r'\.\*', ' ', rest)                     # t.*
    rest = re.sub(r'\bSELECT\s+\*', 'SELECT ', rest, flags=re.I)
    rest = re.sub(r'([(,=]|\bTHEN|\bELSE)\s*-\s*(?=\d)', r'\1 ', rest)  # negative numbers
    for m in OPCHARS.finditer(rest):
        out.append(f'unqualified operator {m.group(0)}')
    return out


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
    found = 0
    checked = 0
    for path in sorted(list((root / 'src').rglob('*.c')) + list((root / 'src').rglob('*.h'))):
        text = path.read_text(encoding='utf-8')
        for line, lit in literals(text):
            if not SQL_START.match(lit):
                continue
            checked += 1
            for p in problems(lit):
                found += 1
                print(f'{path.relative_to(root)}:{line}: {p}\n    {lit[:160]}')
    print(f'lint_sql: {checked} statements checked, {found} problems')
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
