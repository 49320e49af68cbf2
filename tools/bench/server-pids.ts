/**
 * Finding the pids of the Kafka and Temporal servers the bench shares, so their CPU and memory can be
 * sampled beside the app processes' (which the bench starts itself, as tools/infra/app-process.ts AppProcesses).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { isAlive } from '../infra/proc';

/** Socket inodes listening on a TCP port (from /proc/net/tcp and tcp6). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      if (cols[1].endsWith(`:${hexPort}`) && cols[3] === '0A') inodes.add(cols[9]);
    }
  }
  return inodes;
}

function ownsInode(pid: number, inodes: Set<string>): boolean {
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1])) return true;
      } catch {
        // fd closed meanwhile
      }
    }
  } catch {
    // not ours to read, or gone
  }
  return false;
}

/**
 * The pid of a server: from the launcher's pid file if it is alive, else the `pgrep -f marker`
 * candidate that listens on the port (or the only candidate).
 */
export function findServerPid(pidFile: string, marker: string, port: number): { pid?: number; how: string } {
  const candidates: number[] = [];
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) candidates.push(pid);
  } catch {
    // no pid file
  }
  try {
    const out = execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' });
    for (const line of out.split('\n')) {
      const pid = Number(line.trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !candidates.includes(pid)) candidates.push(pid);
    }
  } catch {
    // pgrep found nothing
  }
  const inodes = listeningInodes(port);
  const listener = candidates.find((pid) => ownsInode(pid, inodes));
  if (listener !== undefined) return { pid: listener, how: `listens on :${port}` };
  if (candidates.length === 1) return { pid: candidates[0], how: `only "${marker}" process` };
  return { how: `not found (${candidates.length} candidates for "${marker}")` };
}
