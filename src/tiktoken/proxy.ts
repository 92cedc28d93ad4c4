import type { Agent } from 'node:http';
import { HttpsProxyAgent } from 'hpagent';
import { ForwardingAgent } from './forwarding-agent.js';
import { bypassesProxy } from './no-proxy.js';

/** A proxy variable, either case; an empty value counts as unset (so NO_PROXY="" leaves no_proxy in force). */
function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name] || env[name.toLowerCase()] || undefined;
}

/**
 * The agents got should use for one URL (call it again for each redirect hop), from HTTPS_PROXY, HTTP_PROXY
 * and NO_PROXY: https through the proxy as a CONNECT tunnel (hpagent), plain http as absolute-form requests to
 * it; `{}` for a direct connection.
 */
export function proxyAgentsFor(
  url: URL,
  env: NodeJS.ProcessEnv = process.env,
): { http?: Agent; https?: Agent } {
  if (bypassesProxy(url, setting(env, 'NO_PROXY'))) return {};
  const https = url.protocol === 'https:';
  const proxy = setting(env, https ? 'HTTPS_PROXY' : 'HTTP_PROXY');
  if (!proxy) return {};
  return https
    ? { https: new HttpsProxyAgent({ proxy, keepAlive: false }) as unknown as Agent }
    : { http: new ForwardingAgent(proxy) };
}
