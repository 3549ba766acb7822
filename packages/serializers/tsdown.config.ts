import { packageBuild } from '../../tsdown.shared.ts'

export default packageBuild(['src/index.ts', 'src/json.ts', 'src/msgpack.ts', 'src/pickle.ts'])
