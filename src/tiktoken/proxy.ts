import type { Agent } from 'node:http';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';

/** Whether NO_PROXY (comma-separated hosts, `.suffix`, `*`, host:port) exempts this URL. */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((raw) => {
      const rule = raw.toLowerCase();
      if (rule === '*') return true;
      const [ruleHost, rulePort] = rule.split(':') as [string, string | undefined];
      if (rulePort && rulePort !== port) return false;
      const bare = ruleHost.replace(/^\*?\./, '');
      return host === bare || host.endsWith(`.${bare}`);
    });
}

/**
 * The agents got should use for a URL, from HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case), or undefined
 * for a direct connection. Both go through the proxy as a CONNECT tunnel (hpagent).
 */
export function proxyAgentsFor(
  url: URL,
  env: NodeJS.ProcessEnv = process.env,
): { http?: Agent; https?: Agent } | undefined {
  const noProxy = env.NO_PROXY ?? env.no_proxy;
  if (bypassesProxy(url, noProxy)) return undefined;
  const proxy =
    url.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
  if (!proxy) return undefined;
  const options = { proxy, keepAlive: false };
  return url.protocol === 'https:'
    ? { https: new HttpsProxyAgent(options) as unknown as Agent }
    : { http: new HttpProxyAgent(options) as unknown as Agent };
}
