import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { ApiRequest } from '../test/support/booking-client.js';

/**
 * Read-only probes of processes this script did not start (saga-footprint.ts): who listens on a port,
 * their CPU seconds, their TCP connections, a Prometheus endpoint. Linux /proc only.
 */

interface TcpSocket {
  localPort: number;
  localAddress: string;
  remotePort: number;
  state: string;
  inode: string;
}

function tcpSockets(): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const [localHex, localPortHex] = fields[1]!.split(':') as [string, string];
      const remotePortHex = fields[2]!.split(':')[1]!;
      // IPv4 addresses are little-endian hex (0100007F = 127.0.0.1).
      const localAddress = localHex.length === 8 ? localHex.match(/../g)!.reverse().map((h) => parseInt(h, 16)).join('.') : localHex;
      sockets.push({ localPort: parseInt(localPortHex, 16), localAddress, remotePort: parseInt(remotePortHex, 16), state: fields[3]!, inode: fields[9]! });
    }
  }
  return sockets;
}

/** The socket inodes a process holds (empty when it is not ours to read). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target.startsWith('socket:[')) inodes.add(target.slice(8, -1));
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // gone, or another user's
  }
  return inodes;
}

const pids = () => readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);

/** The process listening on a TCP port, if this user may see its file descriptors. */
export function listeningPid(port: number): number | undefined {
  const listening = new Set(tcpSockets().filter((s) => s.state === '0A' && s.localPort === port).map((s) => s.inode));
  if (listening.size === 0) return undefined;
  return pids().find((pid) => [...socketInodes(pid)].some((inode) => listening.has(inode)));
}

/** The ports a process listens on. */
export function listeningPorts(pid: number): number[] {
  const inodes = socketInodes(pid);
  return tcpSockets().filter((s) => s.state === '0A' && inodes.has(s.inode)).map((s) => s.localPort);
}

/** `address:port` of each connection a process holds to a remote port (as the server's CLIENT LIST names them). */
export function connectionsTo(pid: number, remotePort: number): string[] {
  const inodes = socketInodes(pid);
  return tcpSockets().filter((s) => s.state === '01' && s.remotePort === remotePort && inodes.has(s.inode)).map((s) => `${s.localAddress}:${s.localPort}`);
}

/** utime + stime of a process (every thread), in seconds; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Every sample of a Prometheus text page, keyed by `name{labels}` as written. */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

/** The name and labels of a sample key. */
export function sampleLabels(key: string): { name: string; labels: Record<string, string> } {
  const brace = key.indexOf('{');
  if (brace < 0) return { name: key, labels: {} };
  const labels: Record<string, string> = {};
  for (const match of key.slice(brace + 1, -1).matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[match[1]!] = match[2]!;
  return { name: key.slice(0, brace), labels };
}

/**
 * An ApiRequest (as test/support/booking-client.ts takes) over node:http from a loopback address of
 * this script's own: 127.0.0.0/8 is all loopback on Linux, so the per-address limits (10 sign-ups a
 * day) of a developer's 127.0.0.1 are neither used up by a run nor refuse it.
 */
export function requestFrom(baseUrl: string, localAddress: string): ApiRequest {
  return (path, init = {}) =>
    new Promise((resolve, reject) => {
      const headers = Object.fromEntries(new Headers(init.headers).entries());
      const req = httpRequest(new URL(path, baseUrl), { method: init.method ?? 'GET', headers, localAddress }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 500;
          const answer = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) answer.append(name, one);
          }
          resolve(new Response([204, 205, 304].includes(status) ? null : Buffer.concat(chunks), { status, headers: answer }));
        });
      });
      req.on('error', reject);
      req.end(typeof init.body === 'string' ? init.body : undefined);
    });
}
