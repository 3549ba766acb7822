// Whether a cluster node's address (from `CLUSTER SLOTS`, node-redis's map, a seed or a
// redirection) is one a client could reach: a host, and a port in 1..65535.

/** Whether `node` has a host and a port that is an integer in 1..65535. */
export function validNode(node: { host: string; port: number }): boolean {
  return node.host !== '' && Number.isInteger(node.port) && node.port >= 1 && node.port <= 65535
}

/** Whether `address` (`host:port`) names a node a client could reach: see `validNode`. */
export function validAddress(address: string): boolean {
  const colon = address.lastIndexOf(':')
  return (
    colon > 0 &&
    validNode({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) })
  )
}
