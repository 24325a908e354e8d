/**
 * nft rulesets (for Topology.nft) that model the firewalls and NATs FTP meets: a host
 * firewall that refuses new inbound connections, port forwarding to a server behind NAT,
 * and a masquerading router in front of clients. No FTP conntrack helper is loaded, as
 * with today's kernels by default: FTP data connections get no special treatment.
 */

/** Port specs in nft syntax: numbers or "MIN-MAX" ranges. */
type Ports = readonly (number | string)[];

const portSet = (ports: Ports) => `{ ${ports.join(', ')} }`;

/**
 * An input chain that accepts loopback, replies to connections this host opened, and new
 * TCP connections to `allowTcpPorts`; anything else is dropped silently ("drop") or
 * answered with a TCP reset ("reset", as `REJECT --reject-with tcp-reset`).
 */
export function inboundFirewall(options: { refuse: 'drop' | 'reset'; allowTcpPorts?: Ports }): string {
  const allow = options.allowTcpPorts?.length ? `    tcp dport ${portSet(options.allowTcpPorts)} accept\n` : '';
  const refuse = options.refuse === 'reset' ? '    meta l4proto tcp reject with tcp reset\n' : '';
  return `table inet ferry_firewall {
  chain input {
    type filter hook input priority 0; policy drop;
    iifname "lo" accept
    ct state established,related accept
${allow}${refuse}  }
}
`;
}

/** Destination NAT on a router: TCP `ports` arriving for `publicAddress` go to `privateAddress`. */
export function portForward(options: { publicAddress: string; privateAddress: string; ports: Ports }): string {
  return `table ip ferry_port_forward {
  chain prerouting {
    type nat hook prerouting priority dstnat;
    ip daddr ${options.publicAddress} tcp dport ${portSet(options.ports)} dnat to ${options.privateAddress}
  }
}
`;
}

/** Source NAT on a router: connections from `privateNetwork` to elsewhere leave with the router's address. */
export function masquerade(options: { privateNetwork: string }): string {
  return `table ip ferry_masquerade {
  chain postrouting {
    type nat hook postrouting priority srcnat;
    ip saddr ${options.privateNetwork} ip daddr != ${options.privateNetwork} masquerade
  }
}
`;
}
