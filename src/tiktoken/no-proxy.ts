import { BlockList, isIP } from 'node:net';

/** One NO_PROXY entry: a host or domain suffix, an IP address or CIDR range, maybe with a port. */
interface Rule {
  host: string;
  port?: string | undefined;
  /** The prefix length of a CIDR range (10.0.0.0/8, fd00::/8). */
  bits?: number | undefined;
}

/**
 * Whether NO_PROXY exempts this URL, as curl reads it: comma- or space-separated entries, each `*`, a host
 * (which also covers its subdomains), `.suffix` or `*.suffix`, an IPv4 or IPv6 address (bare or in brackets) or
 * a CIDR range of either, any of them with `:port` (IPv6 in brackets then). An IP host matches IP entries only.
 */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((entry) => matches(parseRule(entry.toLowerCase()), host, port));
}

function parseRule(entry: string): Rule {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return withBits(bracketed[1] ?? '', bracketed[2]);
  // more than one colon: a bare IPv6 address or range, which cannot carry a port
  if (entry.indexOf(':') !== entry.lastIndexOf(':')) return withBits(entry, undefined);
  const [host = '', port] = entry.split(':');
  return withBits(host, port);
}

function withBits(spec: string, port: string | undefined): Rule {
  const [host = '', bits] = spec.split('/');
  return { host, port, bits: bits === undefined ? undefined : Number(bits) };
}

function matches(rule: Rule, host: string, port: string): boolean {
  if (rule.host === '*') return true;
  if (rule.port && rule.port !== port) return false;
  const family = isIP(host);
  if (family !== 0) return ipMatches(rule, host, family === 4 ? 'ipv4' : 'ipv6');
  const domain = rule.host.replace(/^\*?\./, '');
  return domain !== '' && (host === domain || host.endsWith(`.${domain}`));
}

function ipMatches(rule: Rule, host: string, type: 'ipv4' | 'ipv6'): boolean {
  if (isIP(rule.host) !== (type === 'ipv4' ? 4 : 6)) return false;
  const list = new BlockList();
  if (rule.bits === undefined) list.addAddress(rule.host, type);
  else if (Number.isInteger(rule.bits) && rule.bits >= 0 && rule.bits <= (type === 'ipv4' ? 32 : 128)) {
    list.addSubnet(rule.host, rule.bits, type);
  } else return false;
  return list.check(host, type);
}
