/**
 * Which lock names / tree paths a command-line path selects: a glob (`*`, `?`, `[…]`, as Redis
 * `SCAN MATCH` reads them, `\` escapes) matches whole names; a plain path matches itself and what
 * lies below it, where "below" starts after the tree separator or a `:` (so `invoice` selects
 * `invoice:42` and `shop` selects `shop/catalog`, but neither selects `invoices`).
 */

/** Whether `path` has an unescaped glob metacharacter (`*`, `?`, `[`). */
export function isGlob(path: string): boolean {
  return /(^|[^\\])(\\\\)*[*?[]/.test(path);
}

/** A Redis-style glob as an anchored regular expression (`*` and `?` cross separators). */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\' && i + 1 < glob.length) re += escapeRe(glob[++i] as string);
    else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\]\\^]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, 's');
}

const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A predicate for the names / paths that `path` selects (all of them when `path` is undefined). */
export function pathMatcher(path: string | undefined, separator: string): (name: string) => boolean {
  if (path === undefined) return () => true;
  if (isGlob(path)) {
    const re = globToRegExp(path);
    return (name) => re.test(name);
  }
  return (name) => name === path || name.startsWith(path + separator) || name.startsWith(`${path}:`);
}
