// Coherence of the local tier on one server and on a primary with replicas serving reads
// (local-tier-coherence/suite.ts holds the checks). Sentinel and Cluster run the same checks in
// local-tier-coherence-sentinel.test.ts and local-tier-coherence-cluster.test.ts, and
// local-tier-coherence-standalone.test.ts adds what only one server shows (a restart; a read reply
// racing an invalidation).
import { coherenceSuite } from './local-tier-coherence/suite.ts'

coherenceSuite('standalone', 'replicas')
