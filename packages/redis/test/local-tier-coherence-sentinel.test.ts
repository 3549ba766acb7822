// Coherence of the local tier under Sentinel, its replicas serving reads, through a failover too
// (local-tier-coherence/suite.ts holds the checks).
import { coherenceSuite } from './local-tier-coherence/suite.ts'

coherenceSuite('sentinel')
