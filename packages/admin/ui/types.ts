// The shapes the admin's JSON API answers: one definition, in src/_api-types.ts, shared with the server.
export type {
  CacheInfo,
  HitsView,
  InfoSummary,
  InfoView,
  JobView,
  KeyAnswer as KeyView,
  KeyPage,
  KeyRow,
  MemoryView,
  SessionInfo,
  SlowlogRow,
  TreeNode,
} from '../src/_api-types.ts'
