/**
 * The shell examples of a Markdown file (the README): every ```sh (or bash, shell) block
 * with its command lines and where they are, so a test can run them and name the line
 * that broke.
 */

export interface CommandLine {
  /** 1-based line in the file of the command's first physical line. */
  line: number;
  /** The command as bash reads it: `\`-newline continuations joined, comments kept. */
  text: string;
}

export interface ShellBlock {
  /** 1-based line of the opening fence. */
  line: number;
  /** The nearest heading above the block, without its #s. */
  heading: string;
  /** Command lines; blank and comment-only lines are left out (bash runs nothing for them). */
  commands: CommandLine[];
  /** The nearest ```toml block above this one (the config such an example usually means), or null. */
  tomlAbove: string | null;
  /** The prose after the block up to the next heading or shell block, other code blocks left out (it may show more commands inline). */
  proseAfter: string;
}

const OPENING = /^```(sh|bash|shell)\s*$/;
const FENCE = /^```/;
const HEADING = /^#{1,6}\s+(.*)$/;

/** Joins continuation lines and drops blank and comment-only lines, keeping line numbers. */
function commandLines(body: readonly string[], firstLine: number): CommandLine[] {
  const commands: CommandLine[] = [];
  let pending: CommandLine | null = null;
  body.forEach((raw, index) => {
    const current: CommandLine = pending ?? { line: firstLine + index, text: '' };
    const continued = raw.endsWith('\\');
    // bash removes a backslash-newline pair and nothing else: the next line's indentation stays.
    current.text += continued ? raw.slice(0, -1) : raw;
    if (continued) {
      pending = current;
      return;
    }
    pending = null;
    const trimmed = current.text.trim();
    if (trimmed !== '' && !trimmed.startsWith('#')) commands.push(current);
  });
  if (pending !== null) throw new Error(`line ${(pending as CommandLine).line}: a continuation line ends the block`);
  return commands;
}

/** Lines from `start` to the next heading or shell block, without the contents of code blocks. */
function proseFrom(lines: readonly string[], start: number): string {
  const prose: string[] = [];
  let inCode = false;
  for (const line of lines.slice(start)) {
    if (!inCode && (HEADING.test(line) || OPENING.test(line))) break;
    if (FENCE.test(line)) inCode = !inCode;
    else if (!inCode) prose.push(line);
  }
  return prose.join('\n');
}

/** Every shell block of `markdown`, in order. */
export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  let heading = '';
  let tomlAbove: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const title = HEADING.exec(line);
    if (title) heading = title[1]!.trim();
    if (!FENCE.test(line)) continue;
    const end = lines.findIndex((candidate, j) => j > i && FENCE.test(candidate));
    if (end === -1) throw new Error(`line ${i + 1}: a code block that never ends`);
    const body = lines.slice(i + 1, end);
    if (line.trim() === '```toml') tomlAbove = body.join('\n') + '\n';
    if (OPENING.test(line)) blocks.push({ line: i + 1, heading, commands: commandLines(body, i + 2), tomlAbove, proseAfter: proseFrom(lines, end + 1) });
    i = end;
  }
  return blocks;
}

/** The inline code spans (`...`) of a piece of prose. */
export function inlineCode(prose: string): string[] {
  return [...prose.matchAll(/`([^`\n]+)`/g)].map((match) => match[1]!);
}
