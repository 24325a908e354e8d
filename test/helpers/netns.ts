/**
 * Simulated networks for data-connection tests: Linux network namespaces joined by veth
 * pairs, directly or through a router namespace that forwards (and NATs, with the nft
 * rules a test adds). Needs root and `ip`/`nft`; `netnsUnavailable()` says why not.
 *
 * Addresses are private (10.91.x.x) or TEST-NET (198.51.100.0/24, 203.0.113.0/24 as
 * "public" sides) and exist only inside namespaces this process creates. Names carry the
 * process id, so parallel runs never collide and a crashed run's leftovers are
 * recognisable: they are deleted when the next run starts. Deleting a namespace takes
 * its veth ends and nft rules with it; processes started in it are killed (by PID) first.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { findBinary, killOnExit, runProcess, stopChild, type ProcessResult, type RunOptions } from './run-process.js';

/** Namespace names: "fy-PID-N-ROLE" (no length limit, so the full PID fits). */
const NAMESPACE_PATTERN = /^fy-(\d+)-/;
const namespacePrefix = `fy-${process.pid}-`;
/** Interface names are at most 15 characters: "fy" + PID mod 10000 + topology + end. */
const interfacePrefix = `fy${process.pid % 10_000}`;

const COMMAND_TIMEOUT_MS = 10_000;

/**
 * - direct: client and server on one link.
 * - routed: client - router - server, plain forwarding, no NAT.
 * - server-nat: the server sits on a private network behind the router; the client sees
 *   only the router's public address (the test adds the DNAT rules, and a masquerade rule
 *   for the server's own outgoing connections, as a NAT router has).
 * - client-nat: the client sits on a private network behind the router, the server on the
 *   public side (the test adds the masquerade rule).
 */
export type Layout = 'direct' | 'routed' | 'server-nat' | 'client-nat';

export interface TopologyAddresses {
  /** The client's own address (in its namespace). */
  client: string;
  /** The server's own address (in its namespace). */
  server: string;
  /** Where the client connects to reach the server: the router's public address behind server NAT. */
  serverFromClient: string;
  /** Where the server sees connections from the client come from: the router's public address behind client NAT. */
  clientFromServer: string;
  /** The client's and the server's network (CIDR), e.g. for a NAT rule's source match. */
  clientNetwork: string;
  serverNetwork: string;
  /** The router's address on the client's link and on the server's link (null when direct). */
  routerClientSide: string | null;
  routerServerSide: string | null;
}

export interface Topology {
  layout: Layout;
  /** Namespace names. */
  client: string;
  server: string;
  router: string | null;
  addresses: TopologyAddresses;
  /** Runs a program inside `namespace` to completion (runProcess's rules: no shell, a timeout). */
  exec(namespace: string, file: string, args: readonly string[], options?: RunOptions): Promise<ProcessResult>;
  /** Starts a long-running program inside `namespace`; destroy() kills it by PID. */
  spawn(namespace: string, file: string, args: readonly string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }): ChildProcess;
  /** Replaces `namespace`'s whole nft ruleset with `ruleset` (nft -f syntax; "" clears it). */
  nft(namespace: string, ruleset: string): void;
  /** Kills what spawn() started, then deletes the namespaces (and with them links and rules). */
  destroy(): Promise<void>;
}

function ip(args: readonly string[], input?: string): string {
  return execFileSync('ip', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS });
}

function inNamespace(namespace: string, file: string, args: readonly string[], input?: string): string {
  return ip(['netns', 'exec', namespace, file, ...args], input);
}

function namespaces(): string[] {
  return ip(['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter(Boolean);
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes "fy-PID-…" namespaces whose PID no longer runs (a crashed or killed earlier
 * run). A namespace lives on while a process runs in it, so the servers such a run left
 * behind in its own namespaces are killed first, each by its PID.
 */
export function removeStaleNamespaces(): string[] {
  const stale = namespaces().filter((name) => {
    const match = NAMESPACE_PATTERN.exec(name);
    return match !== null && Number(match[1]) !== process.pid && !processRuns(Number(match[1]));
  });
  for (const name of stale) {
    for (const pid of ip(['netns', 'pids', name]).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    ip(['netns', 'delete', name]);
  }
  return stale;
}

let probed: false | string | undefined;

/** False when namespaces, veths and nft work here, else the reason (for a test's `skip`). */
export function netnsUnavailable(): false | string {
  if (probed !== undefined) return probed;
  if (process.platform !== 'linux') probed = 'network namespaces need Linux';
  else if (process.getuid?.() !== 0) probed = 'network namespaces need root (run the tests as root, e.g. in CI)';
  else if (findBinary('ip') === null) probed = '`ip` (iproute2) is not installed';
  else if (findBinary('nft') === null) probed = '`nft` (nftables) is not installed';
  else {
    const probe = `${namespacePrefix}probe`;
    try {
      removeStaleNamespaces();
      ip(['netns', 'add', probe]);
      inNamespace(probe, 'nft', ['-f', '-'], 'table inet probe {\n  chain input {\n    type filter hook input priority 0; policy accept;\n  }\n}\n');
      probed = false;
    } catch (error) {
      probed = `cannot create a network namespace with nft rules: ${String((error as { stderr?: string }).stderr || (error as Error).message).trim()}`;
    } finally {
      if (namespaces().includes(probe)) ip(['netns', 'delete', probe]);
    }
  }
  return probed;
}

interface Link {
  a: string;
  b: string;
  /** Address/prefix for each end. */
  aAddress: string;
  bAddress: string;
}

interface Plan {
  links: Link[];
  /** Default routes: namespace -> gateway. Absent: only the connected network is reachable. */
  gateways: Map<string, string>;
  addresses: TopologyAddresses;
}

const bare = (cidr: string) => cidr.split('/')[0]!;

/**
 * Which namespace has which address. Behind NAT the outside side gets no route to the
 * private network (as on the Internet), so a private address advertised across it is
 * unreachable instead of accidentally routed.
 */
function plan(layout: Layout, client: string, server: string, router: string | null): Plan {
  if (layout === 'direct') {
    return {
      links: [{ a: client, b: server, aAddress: '10.91.0.2/24', bAddress: '10.91.0.1/24' }],
      gateways: new Map(),
      addresses: {
        client: '10.91.0.2',
        server: '10.91.0.1',
        serverFromClient: '10.91.0.1',
        clientFromServer: '10.91.0.2',
        clientNetwork: '10.91.0.0/24',
        serverNetwork: '10.91.0.0/24',
        routerClientSide: null,
        routerServerSide: null,
      },
    };
  }
  const r = router!;
  const sides = {
    routed: { client: '10.91.1.2/24', routerClient: '10.91.1.1/24', routerServer: '10.91.2.1/24', server: '10.91.2.2/24' },
    'server-nat': { client: '198.51.100.2/24', routerClient: '198.51.100.1/24', routerServer: '10.91.2.1/24', server: '10.91.2.2/24' },
    'client-nat': { client: '10.91.1.2/24', routerClient: '10.91.1.1/24', routerServer: '203.0.113.1/24', server: '203.0.113.2/24' },
  }[layout];
  const network = (cidr: string) => `${bare(cidr).replace(/\.\d+$/, '.0')}/24`;
  const gateways = new Map<string, string>();
  if (layout !== 'server-nat') gateways.set(client, bare(sides.routerClient));
  if (layout !== 'client-nat') gateways.set(server, bare(sides.routerServer));
  return {
    links: [
      { a: client, b: r, aAddress: sides.client, bAddress: sides.routerClient },
      { a: r, b: server, aAddress: sides.routerServer, bAddress: sides.server },
    ],
    gateways,
    addresses: {
      client: bare(sides.client),
      server: bare(sides.server),
      serverFromClient: layout === 'server-nat' ? bare(sides.routerClient) : bare(sides.server),
      clientFromServer: layout === 'client-nat' ? bare(sides.routerServer) : bare(sides.client),
      clientNetwork: network(sides.client),
      serverNetwork: network(sides.server),
      routerClientSide: bare(sides.routerClient),
      routerServerSide: bare(sides.routerServer),
    },
  };
}

let created = 0;

/** Builds the namespaces, links, addresses and routes of `layout`; call destroy() in t.after. */
export function createTopology(layout: Layout): Topology {
  const id = created++;
  const name = (role: string) => `${namespacePrefix}${id}-${role}`;
  const client = name('client');
  const server = name('server');
  const router = layout === 'direct' ? null : name('router');
  const made: string[] = [];
  const children = new Set<ChildProcess>();

  const destroy = async () => {
    await Promise.all([...children].map(stopChild));
    // Each one on its own: a namespace that fails to go must not keep the others.
    const failures: string[] = [];
    for (const namespace of made.splice(0)) {
      try {
        ip(['netns', 'delete', namespace]);
      } catch (error) {
        failures.push(`${namespace}: ${(error as Error).message}`);
      }
    }
    if (failures.length > 0) throw new Error(`network namespaces left behind: ${failures.join('; ')}`);
  };

  try {
    for (const namespace of [client, server, ...(router ? [router] : [])]) {
      ip(['netns', 'add', namespace]);
      made.push(namespace);
      ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
    }
    const layoutPlan = plan(layout, client, server, router);
    layoutPlan.links.forEach((link, index) => {
      const aEnd = `${interfacePrefix}t${id}l${index}a`;
      const bEnd = `${interfacePrefix}t${id}l${index}b`;
      ip(['link', 'add', aEnd, 'netns', link.a, 'type', 'veth', 'peer', 'name', bEnd, 'netns', link.b]);
      for (const [namespace, end, address] of [[link.a, aEnd, link.aAddress], [link.b, bEnd, link.bAddress]] as const) {
        ip(['-n', namespace, 'addr', 'add', address, 'dev', end]);
        ip(['-n', namespace, 'link', 'set', end, 'up']);
      }
    });
    for (const [namespace, gateway] of layoutPlan.gateways) ip(['-n', namespace, 'route', 'add', 'default', 'via', gateway]);
    if (router) inNamespace(router, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);

    return {
      layout,
      client,
      server,
      router,
      addresses: layoutPlan.addresses,
      exec: (namespace, file, args, options) => runProcess('ip', ['netns', 'exec', namespace, file, ...args], options),
      spawn: (namespace, file, args, options = {}) => {
        // `ip netns exec` execs the program in place, so the child's PID is the program's.
        const child = spawn('ip', ['netns', 'exec', namespace, file, ...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
        children.add(child);
        killOnExit(child);
        child.once('exit', () => children.delete(child));
        return child;
      },
      nft: (namespace, ruleset) => {
        inNamespace(namespace, 'nft', ['-f', '-'], `flush ruleset\n${ruleset}`);
      },
      destroy,
    };
  } catch (error) {
    for (const namespace of made) ip(['netns', 'delete', namespace]);
    throw error;
  }
}
