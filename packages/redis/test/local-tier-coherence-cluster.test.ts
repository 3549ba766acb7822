// Coherence of the local tier on a cluster of 3 primaries, reads on the primaries or on the
// replicas too, through a failover too (local-tier-coherence/suite.ts holds the checks).
import { coherenceSuite } from './local-tier-coherence/suite.ts'

coherenceSuite('cluster', 'cluster, reads from replicas')
