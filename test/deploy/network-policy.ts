// NetworkPolicy semantics, enough to answer "may pod A open port P on pod B?" for the policies
// of one namespace: a connection passes when the sender's egress AND the receiver's ingress
// allow it; a pod that no policy of a direction selects is open in that direction; rules add up.
// Peers by podSelector and namespaceSelector; an ipBlock names addresses outside the cluster and
// so never matches a pod.

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string };
}

interface PolicyPort {
  protocol?: string;
  port?: number | string;
}

interface PolicyRule {
  to?: PolicyPeer[];
  from?: PolicyPeer[];
  ports?: PolicyPort[];
}

export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes: ('Ingress' | 'Egress')[];
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
}

/** A pod (or a client elsewhere): its namespace and that one's labels, its labels, its ports. */
export interface Endpoint {
  name: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  labels: Record<string, string>;
  ports: Record<string, number>;
}

export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values }) => {
    switch (operator) {
      case 'In':
        return values?.includes(labels[key]) ?? false;
      case 'NotIn':
        return !(values?.includes(labels[key]) ?? false);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        throw new Error(`unknown selector operator ${operator}`);
    }
  });
  return byLabels && byExpressions;
}

/** `self` is the pod the policy selects; a peer without namespaceSelector is in its namespace. */
function peerMatches(peer: PolicyPeer, other: Endpoint, self: Endpoint): boolean {
  if (peer.ipBlock) return false;
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, other.namespaceLabels)
    : other.namespace === self.namespace;
  return namespaceOk && selects(peer.podSelector ?? {}, other.labels);
}

function portMatches(rulePorts: PolicyPort[] | undefined, port: number, target: Endpoint) {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some(({ protocol = 'TCP', port: p }) => {
    if (protocol !== 'TCP') return false;
    if (p === undefined) return true;
    return (typeof p === 'number' ? p : target.ports[p]) === port;
  });
}

function directionAllows(
  policies: NetworkPolicySpec[],
  direction: 'Ingress' | 'Egress',
  self: Endpoint,
  other: Endpoint,
  port: number,
  target: Endpoint,
): boolean {
  const selecting = policies.filter(
    (policy) => policy.policyTypes.includes(direction) && selects(policy.podSelector, self.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((policy) =>
    (direction === 'Ingress' ? policy.ingress : policy.egress)?.some((rule) => {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      const peerOk = !peers || peers.length === 0 || peers.some((p) => peerMatches(p, other, self));
      return peerOk && portMatches(rule.ports, port, target);
    }),
  );
}

/**
 * May `from` open TCP `port` on `to`? `policies` are those of `namespace`; an endpoint in
 * another namespace is governed by none of them.
 */
export function allows(
  policies: NetworkPolicySpec[],
  namespace: string,
  from: Endpoint,
  to: Endpoint,
  port: number,
): boolean {
  const egress =
    from.namespace !== namespace || directionAllows(policies, 'Egress', from, to, port, to);
  const ingress =
    to.namespace !== namespace || directionAllows(policies, 'Ingress', to, from, port, to);
  return egress && ingress;
}
