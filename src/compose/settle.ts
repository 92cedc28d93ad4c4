/**
 * How long a service without a health check must keep running to count as started, under Compose (since its
 * container's last start) and on a Swarm (all its replicas, across polls): a service that crashes soon after
 * it starts, and one that crashes and restarts within it (restart: always), never does.
 */
export const SETTLE_MS = 3000;
