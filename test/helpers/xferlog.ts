/**
 * A strict parser for xferlog lines (man 5 xferlog, vsftpd's xferlog_std_format): the
 * whole line must match, field by field, as a log analyser would read it.
 */
export interface XferlogLine {
  /** "Mon Mar  4 08:12:30 2024" */
  time: string;
  seconds: number;
  remoteHost: string;
  bytes: number;
  filename: string;
  transferType: 'a' | 'b';
  specialAction: string;
  direction: 'o' | 'i' | 'd';
  accessMode: 'a' | 'g' | 'r';
  username: string;
  service: string;
  authMethod: string;
  authUser: string;
  status: 'c' | 'i';
}

const XFERLOG_LINE =
  /^((?:Sun|Mon|Tue|Wed|Thu|Fri|Sat) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?: [1-9]|[12]\d|3[01]) (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d \d{4}) ([1-9]\d*) (\S+) (0|[1-9]\d*) (\S+) ([ab]) ([_CUT]) ([oid]) ([agr]) (\S+) (ftp) ([01]) (\S+) ([ci])$/u;

/** The fields of one line; throws naming the line when it is not a well-formed xferlog line. */
export function parseXferlog(line: string): XferlogLine {
  const match = XFERLOG_LINE.exec(line);
  if (!match) throw new Error(`not an xferlog line: ${JSON.stringify(line)}`);
  const field = (index: number) => match[index]!;
  return {
    time: field(1),
    seconds: Number(field(2)),
    remoteHost: field(3),
    bytes: Number(field(4)),
    filename: field(5),
    transferType: field(6) as XferlogLine['transferType'],
    specialAction: field(7),
    direction: field(8) as XferlogLine['direction'],
    accessMode: field(9) as XferlogLine['accessMode'],
    username: field(10),
    service: field(11),
    authMethod: field(12),
    authUser: field(13),
    status: field(14) as XferlogLine['status'],
  };
}
