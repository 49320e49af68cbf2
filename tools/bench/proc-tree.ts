/**
 * CPU time and RSS of a whole process tree, from /proc (Linux). PostgreSQL runs one backend process
 * per connection under its postmaster, so the postmaster's own figures (what pidusage reads) miss
 * almost all of its work. A tree's CPU = user + system time of every live process in it, plus the
 * time of its children already reaped (cutime + cstime), so a backend that exits keeps its CPU counted.
 */
import * as fs from 'node:fs';

/** USER_HZ: the unit of /proc/<pid>/stat times; 100 on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

interface Stat {
  pid: number;
  ppid: number;
  ticks: number;
  rssBytes: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields after the last ')' are fixed.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // f[0] = state (field 3), so field n is f[n - 3].
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return { pid, ppid: Number(f[1]), ticks, rssBytes: Number(f[21]) * PAGE_BYTES };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** CPU milliseconds and RSS bytes of `root` and all its descendants; undefined if `root` is gone. */
export function treeUsage(root: number): { ctime: number; memory: number } | undefined {
  const stats: Stat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(pid);
    if (s) stats.push(s);
  }
  if (!stats.some((s) => s.pid === root)) return undefined;
  const children = new Map<number, Stat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  let ticks = 0;
  let memory = 0;
  const todo = [stats.find((s) => s.pid === root)!];
  while (todo.length) {
    const s = todo.pop()!;
    ticks += s.ticks;
    memory += s.rssBytes;
    todo.push(...(children.get(s.pid) ?? []));
  }
  return { ctime: (ticks * 1000) / TICKS_PER_SECOND, memory };
}
