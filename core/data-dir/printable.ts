// File names come from whoever can write handoff/, and a name may hold escape sequences: printed
// raw, `\e]…` or `\e[2J` would retitle, clear or rewrite the operator's terminal, and a newline
// would forge an extra line of output (or a commit trailer). Text shown to people goes through
// this: control characters, DEL, the C1 range and the bidirectional overrides become visible
// escapes, and a backslash is doubled so that an escape cannot be forged either.
// oxlint-disable-next-line no-control-regex -- matching control characters is the point here
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\\]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => {
    const code = char.codePointAt(0)!;
    return NAMED[char] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`);
  });
}
